"""db.loop.recount: after returns (退回) and set-aside completions (不予销号, 重新打开), a pair's
report_cycles and report_latest rows are those a search of the reports that still count gives,
on SQLite and PostgreSQL; with nothing returned, the recount gives what the triggers gave."""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.obligations import COMPLETE
from db import loop
from db.models import Closure, Report, ReportCycle, ReportLatest, ReportReturn
from tests.test_report_latest import BASE, _register

Rows = tuple[dict[tuple[int, int, str], datetime], dict[tuple[int, int], tuple[object, ...]]]
KEYS = ("2026-03", "2026-04", "2026-05")


def _reports(task_ids: list[int], unit_ids: list[int], rng: random.Random) -> list[Report]:
    out = []
    for n in range(80):
        stated = rng.random()
        out.append(
            Report(
                task_id=rng.choice(task_ids),
                unit_id=rng.choice(unit_ids),
                cycle_key=rng.choice(KEYS),
                text=f"第{n}份",
                percent=rng.choice((20.0, 60.0, 100.0, 120.0)) if stated < 0.6 else None,
                expected_date=(BASE + timedelta(days=n)).date() if stated > 0.7 else None,
                difficulties=[],
                quantities=[],
                source_key=f"r:{n}:{uuid.uuid4().hex}",
                created_at=BASE + timedelta(hours=rng.randrange(0, 48)),
            )
        )
    return out


async def _rows(session: AsyncSession) -> Rows:
    cycles = {
        (t, u, k): at
        for t, u, k, at in (
            await session.execute(
                select(
                    ReportCycle.task_id,
                    ReportCycle.unit_id,
                    ReportCycle.cycle_key,
                    ReportCycle.first_at,
                )
            )
        ).all()
    }
    latest: dict[tuple[int, int], tuple[object, ...]] = {
        (r.task_id, r.unit_id): (r.last_id, r.pct_id, r.percent, r.exp_id, r.expected_date)
        for r in (await session.scalars(select(ReportLatest))).all()
    }
    return cycles, latest


def _searched(
    written: list[Report],
    returns: list[tuple[int, int, str, int]],
    void: dict[tuple[int, int], int],
) -> Rows:
    """What the rule gives, by a search of every report."""

    def counts(r: Report) -> bool:
        return not any(
            (t, u, k) == (r.task_id, r.unit_id, r.cycle_key) and upto >= r.id
            for t, u, k, upto in returns
        )

    def newest(rows: list[Report]) -> Report | None:
        return max(rows, key=lambda r: (r.created_at, r.id), default=None)

    kept = [r for r in written if counts(r)]
    cycles: dict[tuple[int, int, str], datetime] = {}
    for r in kept:
        key = (r.task_id, r.unit_id, r.cycle_key)
        cycles[key] = min(cycles.get(key, r.created_at), r.created_at)
    latest: dict[tuple[int, int], tuple[object, ...]] = {}
    for pair in {(r.task_id, r.unit_id) for r in kept}:
        mine = [r for r in kept if (r.task_id, r.unit_id) == pair]
        last = newest(mine)
        assert last is not None
        pct = newest(
            [
                r
                for r in mine
                if r.percent is not None and (r.percent < COMPLETE or r.id > void.get(pair, 0))
            ]
        )
        exp = newest([r for r in mine if r.expected_date is not None])
        latest[pair] = (
            last.id,
            pct.id if pct else None,
            pct.percent if pct else None,
            exp.id if exp else None,
            exp.expected_date if exp else None,
        )
    return cycles, latest


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_recount_agrees_with_a_search_of_the_reports_that_count(
    sessionmaker: async_sessionmaker[AsyncSession], seed: int
) -> None:
    rng = random.Random(seed)
    async with sessionmaker() as s, s.begin():
        task_ids, unit_ids = await _register(s)
        written = _reports(task_ids, unit_ids, rng)
        for report in written:
            s.add(report)
            await s.flush()
    pairs = sorted({(r.task_id, r.unit_id) for r in written})
    async with sessionmaker() as s:
        by_triggers = await _rows(s)
    assert by_triggers == _searched(written, [], {})
    async with sessionmaker() as s, s.begin():
        for t, u in pairs:
            await loop.recount(s, t, u)
    async with sessionmaker() as s:
        assert await _rows(s) == by_triggers  # nothing returned: the recount changes nothing

    # Returns of some cycles (up to a report of theirs) and set-aside completions of some pairs.
    returns: list[tuple[int, int, str, int]] = []
    void: dict[tuple[int, int], int] = {}
    async with sessionmaker() as s, s.begin():
        for t, u in rng.sample(pairs, 4):
            key = rng.choice(KEYS)
            ids = [r.id for r in written if (r.task_id, r.unit_id, r.cycle_key) == (t, u, key)]
            if not ids:
                continue
            upto = rng.choice(ids)
            returns.append((t, u, key, upto))
            s.add(
                ReportReturn(
                    task_id=t,
                    unit_id=u,
                    cycle_key=key,
                    upto_report_id=upto,
                    comment="请补充",
                    created_at=BASE,
                )
            )
        for t, u in rng.sample(pairs, 3):
            upto = rng.choice([r.id for r in written if (r.task_id, r.unit_id) == (t, u)])
            void[(t, u)] = upto
            s.add(Closure(task_id=t, unit_id=u, state="refused", applied_at=BASE, void_upto=upto))
        await s.flush()
        for t, u in pairs:
            await loop.recount(s, t, u)
    assert returns and void
    async with sessionmaker() as s:
        assert await _rows(s) == _searched(written, returns, void)

    # A report written after the recount is kept by the triggers as before.
    t, u = pairs[0]
    late = Report(
        task_id=t,
        unit_id=u,
        cycle_key="2026-06",
        text="新报送",
        percent=50.0,
        difficulties=[],
        quantities=[],
        source_key=f"r:late:{uuid.uuid4().hex}",
        created_at=BASE + timedelta(days=10),
    )
    async with sessionmaker() as s, s.begin():
        s.add(late)
    async with sessionmaker() as s:
        assert await _rows(s) == _searched([*written, late], returns, void)
