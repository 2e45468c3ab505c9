"""Kill the real bot process (SIGKILL) right after a report is received: it is stored once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings
from bot.domain.clock import SystemClock
from bot.domain.roles import Role
from bot.emulator import ControlClient, EmulatorServer, TranscriptMessage
from db import people
from db.engine import make_sessionmaker
from db.models import Report
from tests.proc import BotProcess


@pytest.fixture
async def server() -> AsyncIterator[EmulatorServer]:
    async with EmulatorServer() as running:
        yield running


async def invite(engine: AsyncEngine, unit: str) -> str:
    """A liaison invite created the way the CLI does it."""
    now = SystemClock(Settings(_env_file=None).tz).now()
    async with make_sessionmaker(engine)() as session, session.begin():
        found = await people.find_unit(session, unit)
        assert found is not None
        created = await people.create_invite(
            session, role=Role.LIAISON, now=now, ttl=timedelta(hours=1), unit=found
        )
    return created.code


async def count_reports(engine: AsyncEngine) -> int:
    async with make_sessionmaker(engine)() as session:
        return int(await session.scalar(select(func.count()).select_from(Report)) or 0)


async def press(people_: ControlClient, user: int, message: TranscriptMessage, label: str) -> str:
    query = await people_.press_button(user, message.message_id, text=label)
    return query.id


# Kill as the press arrives and shortly after (while it is being handled); bench/ kills more.
@pytest.mark.parametrize("delay", [0.0, 0.05])
async def test_kill_right_after_the_confirmation_stores_once(
    server: EmulatorServer,
    engine: AsyncEngine,
    database_url: str,
    tmp_path: Path,
    delay: float,
) -> None:
    bot = BotProcess(server, database_url, tmp_path)
    p = bot.people
    await bot.start()
    try:
        liaison = await p.create_user("联络员", user_id=5001)
        code = await invite(engine, "发改局")
        await p.start_bot(liaison.id, payload=code)
        assert "绑定成功" in ((await p.wait_for_bot_message(liaison.id, timeout=15)).plain or "")
        await p.send_command(liaison.id, "report")
        picker = await p.wait_for_bot_message(liaison.id, timeout=15)
        label = next(b.text for row in picker.buttons for b in row if b.text.startswith("第6项 "))
        await p.press_button(liaison.id, picker.message_id, text=label)
        await p.wait_for_edit(liaison.id, picker.message_id, timeout=15)
        await p.send_message(liaison.id, "已完成投资320亿元，预计6月底前完成")
        card = await p.wait_for_bot_message(liaison.id, timeout=15)
        assert "进展报送确认" in (card.plain or "")

        query = await press(p, liaison.id, card, "确认提交")
        await asyncio.sleep(delay)
        await bot.kill()
        await bot.start()
        await p.wait_for_callback_answer(query, timeout=20)

        # The store commits after the answer, with nothing visible in the chat: poll the DB.
        async with asyncio.timeout(20):
            while await count_reports(engine) < 1:  # noqa: ASYNC110 - another process writes it
                await asyncio.sleep(0.05)
        # A later message is handled only after the press: by then no second copy can appear.
        await p.send_command(liaison.id, "history")
        history = await p.wait_for_bot_message(
            liaison.id, lambda m: "近期报送记录" in (m.plain or ""), timeout=20
        )
        assert (history.plain or "").count("第6项") == 1
        assert await count_reports(engine) == 1
    finally:
        await bot.stop()
        await p.close()
