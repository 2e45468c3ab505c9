"""report_latest, kept by a trigger on reports (migration 0004), on SQLite and PostgreSQL.

Whatever order reports arrive in (late ones dated earlier, equal times, reports stating no
percentage or no date), the views' latest reports are those a search of the reports gives:
the newest by created_at (ties: the later insert), and the newest stating each value.
The migration fills the table from the reports already written.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db import views
from db.engine import create_engine, make_sessionmaker
from db.migrate import upgrade
from db.models import Report, ReportLatest, Task, Unit
from tests.conftest import PG_URL, _create_pg_database, _drop_pg_database

SH = ZoneInfo("Asia/Shanghai")
BASE = datetime(2026, 3, 1, 9, 0, tzinfo=SH)

Expected = dict[tuple[int, int], tuple[int, float | None, datetime | None, date | None]]


async def _register(session: AsyncSession) -> tuple[list[int], list[int]]:
    """Three tasks and three units, bare."""
    tasks = [
        Task(
            year=2026,
            no=n,
            section="一、",
            text=f"任务{n}",
            cycle_kind="monthly",
            updated_at=BASE,
        )
        for n in (1, 2, 3)
    ]
    units = [Unit(name=f"单位{n}", kind="unit") for n in (1, 2, 3)]
    session.add_all([*tasks, *units])
    await session.flush()
    return [t.id for t in tasks], [u.id for u in units]


def _reports(task_ids: list[int], unit_ids: list[int], rng: random.Random) -> list[Report]:
    """60 reports on 9 pairs, in random order, with repeated times and unstated values."""
    out = []
    for n in range(60):
        stated = rng.random()
        out.append(
            Report(
                task_id=rng.choice(task_ids),
                unit_id=rng.choice(unit_ids),
                cycle_key="2026-03",
                text=f"第{n}份",
                percent=float(rng.randrange(0, 101)) if stated < 0.5 else None,
                expected_date=date(2026, 6, 1) + timedelta(days=n) if stated > 0.6 else None,
                difficulties=[],
                quantities=[],
                source_key=f"t:{n}:{uuid.uuid4().hex}",
                created_at=BASE + timedelta(hours=rng.randrange(0, 12)),  # many ties
            )
        )
    return out


def _newest(rows: list[Report]) -> Report | None:
    """By time; on equal times the later insert (a larger id)."""
    return max(rows, key=lambda r: (r.created_at, r.id), default=None)


def _searched(written: list[Report]) -> Expected:
    """What a search of the reports gives: (newest id, percent, its time, expected date)."""
    out: Expected = {}
    pairs = {(r.task_id, r.unit_id) for r in written}
    for pair in pairs:
        mine = [r for r in written if (r.task_id, r.unit_id) == pair]

        last = _newest(mine)
        pct = _newest([r for r in mine if r.percent is not None])
        exp = _newest([r for r in mine if r.expected_date is not None])
        assert last is not None
        out[pair] = (
            last.id,
            pct.percent if pct else None,
            pct.created_at if pct else None,
            exp.expected_date if exp else None,
        )
    return out


async def _latest(session: AsyncSession) -> Expected:
    found = await views.latest(session, views.Scope(2026), details=True)
    return {
        pair: (item.report.id, item.percent, item.percent_at, item.expected)
        for pair, item in found.items()
    }


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_trigger_keeps_the_latest_whatever_the_order(
    sessionmaker: async_sessionmaker[AsyncSession], seed: int
) -> None:
    rng = random.Random(seed)
    async with sessionmaker() as s, s.begin():
        task_ids, unit_ids = await _register(s)
        written = _reports(task_ids, unit_ids, rng)
        for report in written:  # one insert at a time, as the bot writes them
            s.add(report)
            await s.flush()
    async with sessionmaker() as s:
        assert await _latest(s) == _searched(written)
        # The newest report's own text comes with it.
        found = await views.latest(s, views.Scope(2026))
        newest = {r.id: r for r in written}
        assert all(item.report.text == newest[item.report.id].text for item in found.values())
    async with sessionmaker() as s, s.begin():
        await s.execute(delete(Task).where(Task.id == task_ids[0]))
    async with sessionmaker() as s:
        left = (await s.execute(select(ReportLatest.task_id))).scalars().all()
    assert task_ids[0] not in left and left  # a deleted task takes its rows with it


async def _at_0003(url: str) -> AsyncEngine:
    engine = create_engine(url)
    await upgrade(engine, "0003")
    return engine


@pytest.fixture(params=["sqlite", "postgresql"])
def blank_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new, empty database (not migrated), once per backend.

    Synchronous, like the session's PostgreSQL fixture it asks for: that one may run here for
    the first time, and it runs its own event loop.
    """
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
        return
    request.getfixturevalue("pg_database_url")  # skips or fails as the other PostgreSQL tests
    name = f"duban_mig_{uuid.uuid4().hex[:8]}"
    asyncio.run(_create_pg_database(name))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(_drop_pg_database(name))


async def test_migration_fills_the_table_from_existing_reports(blank_url: str) -> None:
    engine = await _at_0003(blank_url)
    try:
        rng = random.Random(9)
        async with make_sessionmaker(engine)() as s, s.begin():
            task_ids, unit_ids = await _register(s)
            written = _reports(task_ids, unit_ids, rng)
            s.add_all(written)
        await upgrade(engine)
        async with make_sessionmaker(engine)() as s:
            assert await _latest(s) == _searched(written)
        # And the trigger goes on from there.
        later = _reports(task_ids, unit_ids, rng)
        for report in later:
            report.created_at += timedelta(hours=rng.randrange(-6, 6))
        async with make_sessionmaker(engine)() as s, s.begin():
            for report in later:
                s.add(report)
                await s.flush()
        async with make_sessionmaker(engine)() as s:
            assert await _latest(s) == _searched(written + later)
    finally:
        await engine.dispose()
