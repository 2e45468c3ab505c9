"""催办 pressed by several office staff at the same moment makes one nudge (issue 19, finding 13):
the database decides, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.domain.roles import Role
from bot.domain.workcal import WorkCalendar
from bot.services.nudge import NudgeOutcome, nudge_unit
from db import people
from db.models import Nudge, OutboxMessage
from db.people import BindOutcome
from tests.harness import import_seed
from tests.test_views import _ids

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 27, 10, 0, tzinfo=SH)  # March (due 3-25) overdue
SETTINGS = Settings(_env_file=None, bot_token="1:x")
Maker = async_sessionmaker[AsyncSession]


async def _bind_liaison(sessionmaker: Maker, unit: str) -> None:
    async with sessionmaker() as s, s.begin():
        unit_ref = await people.find_unit(s, unit)
        assert unit_ref is not None
        invite = await people.create_invite(
            s, role=Role.LIAISON, unit=unit_ref, now=NOW, ttl=timedelta(hours=1)
        )
        bound = await people.redeem_invite(
            s, code=invite.code, user_id=8001, chat_id=8001, name="发改局联络员", username=None,
            now=NOW,
        )  # fmt: skip
        assert bound.outcome == BindOutcome.BOUND


async def test_simultaneous_presses_make_one_nudge(sessionmaker: Maker) -> None:
    await import_seed(sessionmaker, datetime(2026, 3, 16, 10, tzinfo=SH))
    await _bind_liaison(sessionmaker, "发改局")
    async with sessionmaker() as s:
        tasks, units = await _ids(s)

    async def press(who: int) -> NudgeOutcome:
        async with sessionmaker() as s, s.begin():
            result = await nudge_unit(
                session=s,
                task_id=tasks[6],
                unit_id=units["发改局"],
                by_user_id=who,
                now=NOW,
                settings=SETTINGS,
                calendar=WorkCalendar(),
            )
            return result.outcome

    outcomes = await asyncio.gather(*(press(9000 + n) for n in range(3)))
    assert sorted(outcomes) == sorted(
        [NudgeOutcome.SENT, NudgeOutcome.ALREADY, NudgeOutcome.ALREADY]
    )
    async with sessionmaker() as s:
        nudges = (await s.scalars(select(Nudge))).all()
        sent = (await s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "nudge"))).all()
    assert len(nudges) == 1 and nudges[0].day == NOW.date()
    assert len(sent) == 1
