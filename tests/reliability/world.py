"""A running bot for property-based tests: the real runtime and an in-process emulator, on a loop
in a background thread, so synchronous hypothesis tests can drive it example after example.

Five personas — unbound, liaison (发改局), leader, office, admin — plus two strangers and a
group with the bot in it. Every Bot API answer that is not OK is recorded with its description,
every handler exception too; `snapshot()` reads every table except the audit log and the inbox.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Coroutine
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from telegram._utils.types import ODVInput
from telegram.request import BaseRequest, RequestData

from bench.common import database, import_seed
from bot.config import Settings
from bot.domain.clock import ManualClock
from bot.domain.roles import Principal, Role
from bot.emulator import Emulator, EmulatorRequest
from bot.runtime.run import BotRuntime
from db import people
from db.engine import create_engine, make_sessionmaker
from db.models import Base, Contact, InboxUpdate, Leader, OutboxMessage, ReportDraft, Unit

T = TypeVar("T")
SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 3, 16, 10, 0, tzinfo=SHANGHAI)  # a Monday, ten days before a deadline
UNBOUND, LIAISON, LEADER, OFFICE, ADMIN = 9_000_001, 9_000_002, 9_000_003, 9_000_004, 9_000_005
PERSONAS = {
    "unbound": UNBOUND,
    "liaison": LIAISON,
    "leader": LEADER,
    "office": OFFICE,
    "admin": ADMIN,
}
STRANGERS = (9_100_001, 9_100_002)
GROUP = -4_000_777_001
NOT_STORED = {"audit_log", "inbox"}
# Bot API refusals that are part of normal operation (the bot handles them on purpose).
EXPECTED_REFUSALS = ("message is not modified", "query is too old")


class RecordingRequest(EmulatorRequest):
    """The in-process transport, keeping every answer that was not OK."""

    def __init__(self, emulator: Emulator, refusals: list[tuple[str, str]]) -> None:
        super().__init__(emulator)
        self.refusals = refusals

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Answer the call; remember a refusal."""
        status, body = await super().do_request(
            url, method, request_data, read_timeout, write_timeout, connect_timeout, pool_timeout
        )
        if status != 200:
            try:
                description = str(json.loads(body).get("description", ""))
            except ValueError:
                description = body[:200].decode(errors="replace")
            self.refusals.append((url.rsplit("/", 1)[-1], description))
        return status, body


@dataclass
class World:
    """The bot, the emulator and the personas, on a loop in a thread of their own."""

    backend: str
    workdir: Path
    admin_url: str
    url: str = ""
    loop: asyncio.AbstractEventLoop = field(default_factory=asyncio.new_event_loop)
    emu: Emulator = field(init=False)
    runtime: BotRuntime = field(init=False)
    engine: AsyncEngine = field(init=False)
    sessionmaker: async_sessionmaker[AsyncSession] = field(init=False)
    errors: list[BaseException] = field(default_factory=list)
    refusals: list[tuple[str, str]] = field(default_factory=list)
    _thread: threading.Thread | None = None
    _stack: AsyncExitStack = field(default_factory=AsyncExitStack)

    # ------------------------------------------------------------------ running

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 120.0) -> T:
        """Run a coroutine on the world's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def open(self) -> None:
        """Start the loop thread and the bot."""
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self.run(self._start())

    def close(self) -> None:
        """Stop the bot and the loop."""
        try:
            self.run(self._stop())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            if self._thread is not None:
                self._thread.join(timeout=10)
            self.loop.close()

    async def _start(self) -> None:
        self.url = await self._stack.enter_async_context(
            database(self.backend, self.workdir, "fuzz", admin_url=self.admin_url)
        )
        self.emu = Emulator()
        for name, user_id in [*PERSONAS.items(), *(("stranger", s) for s in STRANGERS)]:
            self.emu.create_user(name, user_id=user_id)
            self.emu.start_bot(user_id, send_command=False)
        self.emu.create_group("督办工作群", member_ids=[*PERSONAS.values()], chat_id=GROUP)
        self.emu.add_bot_to_group(GROUP, ADMIN)
        self.emu.pending.clear()  # the join above is not part of any example
        self.engine = create_engine(self.url)
        self.sessionmaker = make_sessionmaker(self.engine)
        await import_seed(self.sessionmaker, START)
        await self._bind()
        settings = Settings(
            _env_file=None,
            bot_token=self.emu.token,
            database_url=self.url,
            escalation_messages=True,  # the faults follow each escalation message
        )
        self.runtime = BotRuntime(
            settings,
            clock=ManualClock(START),
            request=RecordingRequest(self.emu, self.refusals),
            updates_request=EmulatorRequest(self.emu),
            poll_timeout=1.0,
            run_jobs=False,
        )
        await self.runtime.start()
        assert self.runtime.application is not None

        async def record(update: object, context: Any) -> None:
            self.errors.append(context.error)

        self.runtime.application.add_error_handler(record)
        for user_id in PERSONAS.values():
            # Every chat gets a bot message to press (forged) buttons on.
            await self.settle(self.say(user_id, "/help"))

    async def _stop(self) -> None:
        try:
            if hasattr(self, "runtime"):
                await self.runtime.stop()
            if hasattr(self, "engine"):
                await self.engine.dispose()
            if hasattr(self, "emu"):
                await self.emu.close()
        finally:
            await self._stack.aclose()

    async def _bind(self) -> None:
        async with self.sessionmaker() as session, session.begin():
            unit = await session.scalar(select(Unit).where(Unit.name == "发改局"))
            leader = await session.scalar(select(Leader).order_by(Leader.id).limit(1))
            assert unit is not None and leader is not None
            for user_id, role, unit_id, leader_id in (
                (LIAISON, Role.LIAISON, unit.id, None),
                (LEADER, Role.LEADER, None, leader.id),
                (OFFICE, Role.OFFICE, None, None),
                (ADMIN, Role.ADMIN, None, None),
            ):
                session.add(
                    Contact(
                        tg_user_id=user_id,
                        chat_id=user_id,
                        name=role.value,
                        role=role.value,
                        unit_id=unit_id,
                        leader_id=leader_id,
                        created_at=START,
                    )
                )

    # ------------------------------------------------------------------ acting

    def say(self, user_id: int, message: str, chat_id: int | None = None) -> int:
        """The person writes; return the update id (0 if the bot does not see it)."""
        before = max(self.emu.history, default=0)
        self.emu.user_sends(user_id, message, chat_id=chat_id)
        after = max(self.emu.history, default=0)
        return after if after > before else 0

    def press(self, user_id: int, data: str) -> int:
        """The person presses a (forged) button on the bot's last message in their chat."""
        chat = self.emu.chats[user_id]
        target = max(m.message_id for m in chat.messages.values() if m.from_bot)
        self.emu.press_button(user_id, target, data=data, forge=True)
        return max(self.emu.history)

    def inject(self, raw: dict[str, Any]) -> int:
        """A raw update, as Telegram would deliver it."""
        return self.emu.inject_update(raw)

    async def settle(self, update_id: int, timeout: float = 60.0) -> None:  # noqa: ASYNC109
        """Wait until the update was fetched, stored and handled (or given up)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            fetched = update_id == 0 or all(u.update_id != update_id for u in self.emu.pending)
            if fetched:
                async with self.sessionmaker() as session:
                    waiting = await session.scalar(
                        select(func.count())
                        .select_from(InboxUpdate)
                        .where(InboxUpdate.status == "new")
                    )
                if not waiting:
                    return
            if loop.time() > deadline:
                raise TimeoutError(f"update {update_id} not handled within {timeout} s")
            await asyncio.sleep(0.005)

    # ------------------------------------------------------------------ state

    async def reset(self) -> None:
        """Personas bound as at the start, no conversation open, the outbox delivered."""
        async with self.sessionmaker() as session, session.begin():
            await session.execute(
                update(Contact)
                .where(Contact.tg_user_id.in_(list(PERSONAS.values())))
                .values(active=True, reachable=True, deactivated_at=None, deactivated_reason=None)
            )
            await session.execute(
                delete(ReportDraft).where(ReportDraft.tg_user_id.in_(list(PERSONAS.values())))
            )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 30
        while True:
            async with self.sessionmaker() as session:
                pending = await session.scalar(
                    select(func.count())
                    .select_from(OutboxMessage)
                    .where(OutboxMessage.status == "pending")
                )
            if not pending or loop.time() > deadline:
                return
            assert self.runtime.sender is not None
            self.runtime.sender.wake.set()
            await asyncio.sleep(0.02)

    async def principal(self, user_id: int) -> Principal:
        """The person's roles now."""
        async with self.sessionmaker() as session:
            return await people.principal(session, user_id)

    async def draft_state(self, user_id: int) -> str | None:
        """The state of the person's open report conversation, if any."""
        async with self.sessionmaker() as session:
            return await session.scalar(
                select(ReportDraft.state).where(ReportDraft.tg_user_id == user_id)
            )

    async def snapshot(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of every table but the audit log and the inbox."""
        out: dict[str, list[tuple[Any, ...]]] = {}
        async with self.engine.connect() as conn:
            for table in Base.metadata.sorted_tables:
                if table.name in NOT_STORED:
                    continue
                rows = (await conn.execute(text(f'SELECT * FROM "{table.name}"'))).all()
                out[table.name] = sorted((tuple(r) for r in rows), key=repr)
        return out

    def bot_messages(self) -> int:
        """How many messages the bot has sent so far, over all chats."""
        return sum(1 for c in self.emu.chats.values() for m in c.messages.values() if m.from_bot)

    def unexpected_refusals(self, since: int) -> list[tuple[str, str]]:
        """Bot API refusals after index `since` that are not part of normal operation."""
        return [
            (method, why)
            for method, why in self.refusals[since:]
            if not any(ok in why for ok in EXPECTED_REFUSALS)
        ]
