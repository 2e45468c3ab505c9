"""Flow-test harness: the real bot (python-telegram-bot over HTTP) against the local emulator.

A `Harness` holds the running emulator, the bot runtime on a migrated database with the 2026
register imported, a manual clock, and helpers that read like a person using the bot.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.domain.clock import ManualClock
from bot.domain.register import load_json
from bot.domain.roles import LeaderRef, Role, UnitRef
from bot.emulator import ControlClient, EmulatorServer, Person, TranscriptMessage
from bot.runtime.run import BotRuntime
from db import inbox, people
from db.engine import create_engine, make_sessionmaker
from db.models import Base
from db.register import import_register

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "seed_tasks.json"
# Generous waits: a loaded CI machine must not turn slowness into failures.
WAIT = 15.0
LINK = re.compile(r"https://t\.me/\S+\?start=([A-Za-z0-9_\-]+)")


def make_settings(database_url: str, **overrides: Any) -> Settings:
    """Settings for a test bot: no .env, a fake token, the given database."""
    values: dict[str, Any] = {"bot_token": "123456:TEST", "database_url": database_url}
    values.update(overrides)
    return Settings(_env_file=None, **values)


async def import_seed(sessionmaker: async_sessionmaker[AsyncSession], now: datetime) -> None:
    """The 2026 register from seed_tasks.json."""
    register = load_json(SEED)
    async with sessionmaker() as session, session.begin():
        await import_register(session, register, now=now)


@dataclass
class Harness:
    """A running bot and the people talking to it."""

    server: EmulatorServer
    people: ControlClient
    runtime: BotRuntime
    clock: ManualClock
    sessionmaker: async_sessionmaker[AsyncSession]
    engine: AsyncEngine
    errors: list[BaseException] = field(default_factory=list)
    _next_user: int = 1000

    async def person(self, name: str, *, username: str | None = None) -> Person:
        """A new Telegram user who has not talked to the bot yet."""
        self._next_user += 1
        return await self.people.create_user(name, user_id=self._next_user, username=username)

    async def invite_code(
        self,
        role: Role,
        *,
        unit: str | None = None,
        leader: str | None = None,
        deputy: bool = False,
        ttl: timedelta = timedelta(hours=72),
    ) -> str:
        """Create an invite directly in the database (as the CLI would) and return its code."""
        async with self.sessionmaker() as session, session.begin():
            unit_ref: UnitRef | None = await people.find_unit(session, unit) if unit else None
            leader_ref: LeaderRef | None = (
                await people.find_leader(session, leader) if leader else None
            )
            invite = await people.create_invite(
                session,
                role=role,
                now=self.clock.now(),
                ttl=ttl,
                unit=unit_ref,
                leader=leader_ref,
                deputy=deputy,
            )
        return invite.code

    async def start(self, who: Person, code: str | None = None) -> TranscriptMessage:
        """The person opens the bot (with an invite code) and gets the answer."""
        await self.people.start_bot(who.id, payload=code)
        return await self.people.wait_for_bot_message(who.id, timeout=WAIT)

    async def bound(
        self,
        name: str,
        role: Role,
        *,
        unit: str | None = None,
        leader: str | None = None,
        deputy: bool = False,
    ) -> Person:
        """A person bound to a role through a real invite and /start."""
        who = await self.person(name)
        code = await self.invite_code(role, unit=unit, leader=leader, deputy=deputy)
        answer = await self.start(who, code)
        assert "绑定成功" in (answer.plain or ""), answer.plain
        return who

    async def say(
        self, who: Person, text: str, *, reply_to: int | None = None
    ) -> TranscriptMessage:
        """The person writes; returns the bot's next message."""
        await self.people.send_message(who.id, text, reply_to=reply_to)
        return await self.people.wait_for_bot_message(who.id, timeout=WAIT)

    async def command(self, who: Person, command: str, args: str = "") -> TranscriptMessage:
        """The person sends a command; returns the bot's next message."""
        await self.people.send_command(who.id, command, args)
        return await self.people.wait_for_bot_message(who.id, timeout=WAIT)

    async def press(
        self, who: Person, message: TranscriptMessage, label: str
    ) -> tuple[str | None, TranscriptMessage]:
        """Press the button labelled `label`; return the answer text and the message after it."""
        # Counted before the press: a quick bot's new message can come before the answer is read.
        before = len(await self.people.bot_messages(who.id))
        query = await self.people.press_button(who.id, message.message_id, text=label)
        answer = await self.people.wait_for_callback_answer(query.id, timeout=WAIT)
        after = await self._after_press(who, message, before)
        return answer.text, after

    async def press_data(self, who: Person, message_id: int, data: str) -> str | None:
        """Press a (possibly forged) button by its data; return the bot's answer text."""
        query = await self.people.press_button(who.id, message_id, data=data, forge=True)
        answer = await self.people.wait_for_callback_answer(query.id, timeout=WAIT)
        return answer.text

    async def _after_press(
        self, who: Person, message: TranscriptMessage, before: int
    ) -> TranscriptMessage:
        """Wait for the press's visible effect: an edit of the message or a new bot message.

        `before` is how many bot messages the person had before pressing.
        """
        found: list[TranscriptMessage] = []

        async def changed() -> bool:
            mine = await self.people.bot_messages(who.id)
            for m in mine:
                if m.message_id == message.message_id and len(m.edits) > len(message.edits):
                    found.append(m)
                    return True
            if len(mine) > before:
                found.append(mine[-1])
                return True
            return False

        await self.people.wait_until(changed, timeout=WAIT)
        self.people.mark_seen(who.id, max(m.message_id for m in found))
        return found[0]

    async def settle(self) -> None:
        """Wait until every update the bot has fetched is handled and committed.

        A reply is visible before the handler's transaction commits; tests that read rows
        right after a reply must wait for the commit.
        """
        pump = self.runtime.pump
        assert pump is not None
        async with asyncio.timeout(WAIT):
            while True:
                async with self.sessionmaker() as session:
                    # Postponed retries (next attempt later) do not count.
                    pending = len(await inbox.pending(session, self.clock.now()))
                if not pending and pump.in_flight == 0:
                    return
                await asyncio.sleep(0.01)

    async def rows(self, model: type[Base], *where: Any) -> list[Any]:
        """Every row of a table meeting `where` (after the bot has committed what it handled)."""
        await self.settle()
        async with self.sessionmaker() as session:
            return list((await session.scalars(select(model).where(*where))).all())

    async def wait_idle(self) -> None:
        """Let the pump finish what is stored."""
        assert self.runtime.pump is not None
        await self.runtime.pump.process_pending()


async def start_harness(
    database_url: str, *, now: datetime, settings: dict[str, Any] | None = None
) -> Harness:
    """Start emulator and bot on a migrated, empty database with the register imported."""
    server = EmulatorServer()
    await server.start()
    clock = ManualClock(now)
    cfg = make_settings(database_url, bot_token=server.token, **(settings or {}))
    engine = create_engine(database_url)
    sessionmaker = make_sessionmaker(engine)
    await import_seed(sessionmaker, now)
    runtime = BotRuntime(cfg, clock=clock, base_url=server.url, poll_timeout=1.0, run_jobs=False)
    await runtime.start()
    harness = Harness(server, server.client(), runtime, clock, sessionmaker, engine)
    assert runtime.application is not None

    async def record(update: object, context: Any) -> None:
        # python-telegram-bot only logs handler exceptions: make them fail the test.
        harness.errors.append(context.error)

    runtime.application.add_error_handler(record)
    return harness


async def stop_harness(harness: Harness) -> None:
    """Stop bot, emulator and the harness's engine."""
    await harness.runtime.stop()
    await harness.people.close()
    await harness.server.stop()
    await harness.engine.dispose()
