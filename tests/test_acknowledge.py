"""签收 across a re-import (SQLite and PostgreSQL): a task reassigned to another lead unit is to
be acknowledged by that unit, and the unit it left no longer owes the 签收."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.register import load_json
from bot.domain.roles import UnitRef
from bot.domain.workcal import WorkCalendar
from bot.services import acknowledge
from bot.services.desk import Desk
from db.models import Unit
from db.register import import_register
from db.register_cache import RegisterCache
from tests.harness import SEED, make_settings

NOW = datetime(2026, 3, 16, 2, tzinfo=UTC)


async def desk_for(session: AsyncSession) -> Desk:
    register = RegisterCache()
    await register.validate(session)
    settings = make_settings("sqlite+aiosqlite://")
    return Desk(session, register, settings, WorkCalendar(), NOW)


async def test_a_reassigned_task_is_acknowledged_by_its_new_lead_unit(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    register = load_json(SEED)
    async with sessionmaker() as s, s.begin():
        await import_register(s, register, now=NOW)
    async with sessionmaker() as s:
        units = {n: UnitRef(i, n) for i, n in (await s.execute(select(Unit.id, Unit.name))).all()}
    fgj, gxj = units["发改局"], units["工信局"]
    async with sessionmaker() as s, s.begin():
        desk = await desk_for(s)
        chosen = await acknowledge.acknowledge(desk, [fgj, gxj], 2026, task_id=None, by=1)
        assert {t.no for u, t in chosen if u == fgj} >= {6}
        assert await acknowledge.pending(desk, [fgj, gxj], 2026) == []

    # Task 6 moves from 发改局 to 工信局 in a corrected register.
    moved = tuple(
        dataclasses.replace(t, lead_units=("工信局",)) if t.no == 6 else t for t in register.tasks
    )
    async with sessionmaker() as s, s.begin():
        result = await import_register(s, dataclasses.replace(register, tasks=moved), now=NOW)
    assert result.tasks_updated == [6]
    async with sessionmaker() as s:
        desk = await desk_for(s)
        waiting = await acknowledge.pending(desk, [fgj, gxj], 2026)
    assert [(p.unit.name, [t.no for t in p.tasks]) for p in waiting] == [("工信局", [6])]
