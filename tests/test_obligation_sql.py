"""The SQL kept for speed (db.views' /overdue anti-join) agrees with the obligation model
(bot.domain.obligations, through the boards) over a generated year, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.domain.overdue import overdue_rows
from bot.domain.workcal import WorkCalendar
from db import views
from db.models import Extension
from tests.harness import import_seed
from tests.test_views import _ids, add_report

SH = ZoneInfo("Asia/Shanghai")
CAL = WorkCalendar()
SETTINGS = Settings(_env_file=None, bot_token="1:x")
IMPORTED = datetime(2026, 2, 10, 10, 0, tzinfo=SH)
Maker = async_sessionmaker[AsyncSession]


def _moments() -> list[datetime]:
    """A morning in each month, the day after a deadline and mid-month, into January."""
    out = []
    for month in range(3, 13):
        out += [datetime(2026, month, 27, 9, tzinfo=SH), datetime(2026, month, 12, 9, tzinfo=SH)]
    out.append(datetime(2027, 1, 12, 9, tzinfo=SH))
    return out


Planned = tuple[int, int, str, datetime, float]  # task, unit, cycle key, when, percent


async def _generated_year(sessionmaker: Maker) -> list[Planned]:
    """Reports for a year, in time order: most lead units report most months, on time or a
    few days late; some reach 100% (their part completes), some of those fall back below
    (reopened)."""
    rng = random.Random(17)
    planned: list[Planned] = []
    async with sessionmaker() as s:
        tasks, _ = await _ids(s)
        found = await views.boards(
            s,
            scope=views.Scope(2026),
            now=datetime(2026, 3, 1, tzinfo=SH),
            settings=SETTINGS,
            calendar=CAL,
            with_latest=False,
        )
        assert len(found.boards) == len(tasks)
        for board in found.boards:
            for standing in board.units:
                if not standing.unit.owes:
                    continue
                percent = 0.0
                for month in range(3, 13):
                    if rng.random() < 0.25:
                        continue  # this month missed
                    late = rng.random() < 0.3
                    day = 27 if late else rng.randint(5, 20)
                    at = datetime.combine(date(2026, month, day), time(10), tzinfo=SH)
                    at += timedelta(minutes=rng.randint(0, 300))
                    percent = min(100.0, percent + rng.choice((5, 10, 20, 40)))
                    if percent >= 100 and rng.random() < 0.3:
                        percent = 90.0  # a later report below 100% reopens the part
                    key = f"2026-{month - 1 if late and month > 3 else month:02d}"
                    planned.append((board.task.id, standing.unit.unit_id, key, at, percent))
    return sorted(planned, key=lambda p: p[3])


def _row(r: Any) -> tuple[Any, ...]:
    return (r.task_no, r.unit, r.cycle_key, r.workdays, r.earlier)


async def _extensions(sessionmaker: Maker, planned: list[Planned]) -> int:
    """Approved 延期 of some pairs' cycles by ten days (before the next deadline), and of some
    tasks' own deadlines; how many cycle extensions."""
    rng = random.Random(5)
    pairs = sorted({(p[0], p[1]) for p in planned})
    made = 0
    async with sessionmaker() as s, s.begin():
        for task_id, unit_id in rng.sample(pairs, 25):
            month = rng.randint(3, 11)
            due = date(2026, month, 25)
            s.add(
                Extension(
                    task_id=task_id,
                    unit_id=unit_id,
                    cycle_key=f"2026-{month:02d}",
                    old_date=due,
                    new_date=due + timedelta(days=10),
                    reason="需延期",
                    state="approved",
                    requested_at=IMPORTED,
                    decided_at=IMPORTED,
                )
            )
            made += 1
        for task_id, unit_id in rng.sample(pairs, 5):
            s.add(
                Extension(
                    task_id=task_id,
                    unit_id=unit_id,
                    cycle_key=None,
                    old_date=date(2026, 12, 31),
                    new_date=date(2027, 3, 31),
                    reason="需延期",
                    state="approved",
                    requested_at=IMPORTED,
                    decided_at=IMPORTED,
                )
            )
    return made


@pytest.mark.parametrize("extended", [False, True])
async def test_overdue_sql_agrees_with_the_model_over_a_year(
    sessionmaker: Maker, extended: bool
) -> None:
    await import_seed(sessionmaker, IMPORTED)
    planned = await _generated_year(sessionmaker)
    if extended:
        assert await _extensions(sessionmaker, planned)
    seen_done = seen_earlier = seen_moved = 0
    for now in sorted(_moments()):
        # The reports made by `now`: the database never holds a report from the future.
        async with sessionmaker() as s, s.begin():
            while planned and planned[0][3] <= now:
                task_id, unit_id, key, at, percent = planned.pop(0)
                add_report(s, task_id, unit_id, key, at, percent=percent)
        async with sessionmaker() as s:
            fast = await views.overdue(
                s, scope=views.Scope(2026), now=now, settings=SETTINGS, calendar=CAL
            )
            found = await views.boards(
                s,
                scope=views.Scope(2026),
                now=now,
                settings=SETTINGS,
                calendar=CAL,
                with_latest=False,
                history=True,
            )
        slow = overdue_rows(found.boards, CAL, now.date())

        assert sorted(map(_row, fast)) == sorted(map(_row, slow)), now
        seen_done += sum(s.done for b in found.boards for s in b.units)
        seen_earlier += sum(1 for r in fast if r.earlier)
        seen_moved += sum(1 for r in fast if r.deadline.day < 15)  # a 25th moved by ten days
    # The generated year exercises what the SQL had to learn: completed parts, earlier misses.
    assert seen_done > 0 and seen_earlier > 0
    # With extensions, some overdue rows count from a moved deadline.
    assert (seen_moved > 0) == extended
