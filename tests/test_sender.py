"""The outbox sender against the emulator: faults, 403, kills mid-delivery, stale and dropped lines.

Reminders are planned by the real planner (`plan_reminders`) for people bound directly in the
database; the sender talks to the in-process emulator through python-telegram-bot (and, for the
kill test, to the HTTP emulator from a separate process). What people received is read from
the emulator's transcripts and compared with the outbox rows.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker
from telegram import Bot
from telegram.error import ChatMigrated

from bot.domain.clock import ManualClock
from bot.domain.roles import Role
from bot.emulator import ControlClient, Emulator, EmulatorRequest, EmulatorServer
from bot.services.nudge import nudge_unit_all
from db import outbox, views
from db.models import AuditEntry, Contact, OutboxMessage, Task, Unit
from jobs.sender import (
    RETRIES_IN_RUN,
    RETRY_IN_RUN,
    DeliveryLog,
    DeliveryStats,
    OutboxSender,
    RateGate,
)
from jobs.sender._sender import _Run
from tests.test_reminders_job import ADMIN, DEPUTY, LIAISON, OFFICE, World, at, make_world

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Rig:
    """A planned world, the in-process emulator with everyone's chat open, and a sender."""

    world: World
    emu: Emulator
    people: ControlClient
    bot: Bot
    clock: ManualClock
    sender: OutboxSender

    def new_sender(self, **settings: Any) -> OutboxSender:
        """A fresh sender on the same database, as after a restart."""
        cfg = self.world.settings.model_copy(update=settings)
        return OutboxSender(
            self.bot, self.world.sessionmaker, self.clock, cfg, gate=RateGate(100000, 0.0, 1000)
        )

    async def plan(self, moment: datetime) -> int:
        """Move the clock and run the planner."""
        self.clock.set(moment)
        return await self.world.plan(moment)

    async def drain(self, sender: OutboxSender | None = None, rounds: int = 60) -> DeliveryStats:
        """Deliver until nothing is pending, moving the clock past every retry's wait."""
        sender = sender or self.sender
        total = DeliveryStats()
        for _ in range(rounds):
            stats = await sender.run_once()
            for name in ("sent", "retried", "failed", "cancelled", "unreachable"):
                setattr(total, name, getattr(total, name) + getattr(stats, name))
            if not [m for m in await self.world.messages() if m.status == outbox.PENDING]:
                return total
            self.clock.advance(timedelta(minutes=10))
        raise AssertionError("the outbox did not drain")

    async def received(self, chat_id: int) -> list[str]:
        """The texts the bot sent to a chat, as HTML."""
        return [m.text or "" for m in await self.people.bot_messages(chat_id)]


async def bind_many(world: World) -> list[int]:
    """A liaison for every unit that leads a task (chat = 7000 + unit id); their chat ids."""
    async with world.sessionmaker() as session:
        from db.models import TaskUnit

        unit_ids = sorted(
            set(
                (
                    await session.scalars(
                        select(TaskUnit.unit_id)
                        .join(Unit, Unit.id == TaskUnit.unit_id)
                        .where(TaskUnit.role == "lead", Unit.kind != "group")
                    )
                ).all()
            )
        )
    names = {v: k for k, v in world.units.items()}
    chats = []
    for unit_id in unit_ids:
        if names[unit_id] == "发改局":
            continue
        await world.add_contact(
            f"liaison-{unit_id}", 7000 + unit_id, Role.LIAISON, unit=names[unit_id]
        )
        chats.append(7000 + unit_id)
    return chats


@pytest.fixture
async def rig(sessionmaker: async_sessionmaker[AsyncSession]) -> Rig:
    """Tasks 1, 3, 6 (发改局) with its liaison, deputy, leader, office and admin bound."""
    world = await make_world(sessionmaker, imported_at=at(3, 1, 0))
    return await _rig(world)


async def _rig(world: World, chats: list[int] | None = None, **settings: Any) -> Rig:
    emu = Emulator()
    people = ControlClient.local(emu)
    for contact in world.contacts.values():
        if contact.chat_id not in emu.users:
            await people.create_user(contact.name, user_id=contact.chat_id)
            await people.start_bot(contact.chat_id, send_command=False)
    bot = Bot(emu.token, request=EmulatorRequest(emu, read_timeout=0.2))
    await bot.initialize()
    clock = ManualClock(at(3, 1, 0))
    world.settings = world.settings.model_copy(update=settings)
    sender = OutboxSender(
        bot, world.sessionmaker, clock, world.settings, gate=RateGate(100000, 0.0, 1000)
    )
    return Rig(world, emu, people, bot, clock, sender)


async def sent_rows(world: World) -> list[OutboxMessage]:
    """Rows marked sent."""
    return [m for m in await world.messages() if m.status == outbox.SENT]


async def duplicates(rig: Rig) -> Counter[int]:
    """Per chat: how many deliveries exceed the rows sent to it (each row's text once)."""
    rows = await rig.world.messages()
    extra: Counter[int] = Counter()
    for chat in {m.chat_id for m in rows}:
        got = Counter(await rig.received(chat))
        want = Counter(m.text for m in rows if m.chat_id == chat and m.status == outbox.SENT)
        assert not (want - got), f"chat {chat} is missing {want - got}"
        extra[chat] = sum((got - want).values())
    return +extra


async def sends_reach(emu: Emulator, count: int, run: asyncio.Task[Any]) -> None:
    """Wait until the emulator has seen `count` sendMessage calls (or the run ended)."""
    for _ in range(1_000_000):
        if emu.stats.calls["sendMessage"] >= count or run.done():
            return
        await asyncio.sleep(0)
    raise AssertionError("the sender made no progress")


# --- Faults -----------------------------------------------------------------------------------


async def test_429_5xx_and_timeouts_lose_nothing_and_repeat_nothing(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    world = await make_world(sessionmaker, imported_at=at(3, 1, 0), tasks=None)
    await bind_many(world)
    rig = await _rig(world)
    await rig.people.set_faults([], seed=20260325)
    await rig.people.add_fault("retry_after", rate=0.07, methods=["sendMessage"], retry_after=0.05)
    await rig.people.add_fault("server_error", rate=0.07, methods=["sendMessage"], status=502)
    await rig.people.add_fault("timeout", rate=0.07, methods=["sendMessage"], hold=1.0)
    planned = 0
    for day in (20, 24, 25, 26, 27, 30):
        planned += await rig.plan(at(3, day, 9, 0))
        await rig.drain()
    rows = await rig.world.messages()
    assert planned == len(rows) > 200
    assert {m.status for m in rows} == {outbox.SENT}
    stats = await rig.people.stats()
    faults = stats["faults"]["sendMessage"]
    assert faults["retry_after"] > 0 and faults["server_error"] > 0 and faults["timeout"] > 0
    assert sum(faults.values()) >= 0.1 * stats["calls"]["sendMessage"]
    assert await duplicates(rig) == Counter()
    assert stats["outcomes"]["sendMessage"]["ok"] == len(rows)
    # Retried rows say so; none gave up.
    assert any(m.attempts > 1 for m in rows)


async def test_a_short_429_is_sent_again_within_the_run(rig: Rig) -> None:
    await rig.plan(at(3, 25, 9, 0))
    planned = len(await rig.world.messages())
    await rig.people.add_fault(
        "retry_after", rate=1.0, methods=["sendMessage"], retry_after=0.05, times=2
    )
    # The clock stands still: a retry left to the database (due 0.05 s later) would wait for
    # the next run.
    stats = await rig.sender.run_once()
    assert (stats.sent, stats.retried) == (planned, 2)
    assert {m.status for m in await rig.world.messages()} == {outbox.SENT}
    assert await duplicates(rig) == Counter()


async def test_a_long_429_waits_in_the_database(rig: Rig) -> None:
    await rig.plan(at(3, 25, 9, 0))
    planned = len(await rig.world.messages())
    await rig.people.add_fault(
        "retry_after", rate=1.0, methods=["sendMessage"], retry_after=5, times=1
    )
    stats = await rig.sender.run_once()
    assert (stats.sent, stats.retried) == (planned - 1, 1)
    [waiting] = [m for m in await rig.world.messages() if m.status == outbox.PENDING]
    assert waiting.next_attempt_at == rig.clock.now() + timedelta(seconds=5)
    assert waiting.attempts == 0 and "RetryAfter" in (waiting.last_error or "")
    rig.clock.advance(timedelta(seconds=5))
    assert (await rig.sender.run_once()).sent == 1
    assert await duplicates(rig) == Counter()


def test_a_message_is_handed_back_for_short_waits_a_few_times_only() -> None:
    run = _Run(batch=10)
    row = outbox.Due(1, 7001, "reminder", "t", None, None, None, 0, at(3, 25, 9, 0))
    assert not run.hand_back(row, "t", RETRY_IN_RUN + 0.5, 0.0)
    assert [run.hand_back(row, "t", 0.1, 0.0) for _ in range(RETRIES_IN_RUN + 1)] == [
        *[True] * RETRIES_IN_RUN,
        False,
    ]
    assert list(run.pending) == [row] * RETRIES_IN_RUN


class _FetchLog(OutboxSender):
    """Notes how many messages had been sent each time a batch was read."""

    emu: Emulator
    fetched_after: list[int]

    async def _fetch(self, run: _Run) -> None:
        self.fetched_after.append(self.emu.stats.calls["sendMessage"])
        await super()._fetch(run)


async def test_the_next_batch_is_read_while_the_current_one_is_sent(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    world = await make_world(sessionmaker, imported_at=at(3, 1, 0), tasks=None)
    await bind_many(world)
    rig = await _rig(world)
    await rig.plan(at(3, 30, 9, 0))
    rows = await rig.world.messages()
    assert len(rows) > 40
    sender = _FetchLog(
        rig.bot,
        rig.world.sessionmaker,
        rig.clock,
        rig.world.settings.model_copy(update={"send_concurrency": 2}),
        gate=RateGate(2000, 0.0, 1000),
    )
    sender.emu, sender.fetched_after = rig.emu, []
    stats = await sender.run_once(batch=10)
    assert stats.sent == len(rows)
    # The k-th batch is read once half a batch is left, before the 10·k messages read so far
    # were all sent (the old way: read, send all, read again).
    fetched = sender.fetched_after
    assert len(fetched) == len(rows) // 10 + 1
    assert all(sent_before < 10 * k for k, sent_before in enumerate(fetched[1:], start=1)), fetched
    assert await duplicates(rig) == Counter()


async def test_lost_responses_repeat_at_most_once_each(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    world = await make_world(sessionmaker, imported_at=at(3, 1, 0), tasks=None)
    await bind_many(world)
    rig = await _rig(world)
    await rig.people.set_faults([], seed=6)
    await rig.people.add_fault("lost", rate=0.1, methods=["sendMessage"])
    await rig.plan(at(3, 25, 9, 0))
    await rig.drain()
    assert {m.status for m in await rig.world.messages()} == {outbox.SENT}
    lost = (await rig.people.stats())["faults"]["sendMessage"]["lost"]
    extra = await duplicates(rig)
    assert lost > 0
    # A lost response is a delivered message the sender could not know about: retried, it
    # arrives twice. Nothing else repeats.
    assert sum(extra.values()) == lost
    assert max(extra.values()) <= lost


async def test_an_outage_longer_than_the_retries_loses_nothing(rig: Rig) -> None:
    # Telegram answers 502 to the first twelve sends (the sender's limit is eight attempts).
    await rig.people.add_fault("server_error", methods=["sendMessage"], status=502, times=12)
    await rig.plan(at(3, 30, 9, 0))  # escalation day: liaison, deputy, leader and office
    await rig.drain()
    rows = await rig.world.messages()
    assert {m.status for m in rows} == {outbox.SENT} and len(rows) == 4
    assert sum(m.attempts for m in rows) == 12 + 4
    assert await duplicates(rig) == Counter()
    assert len(await rig.received(rig.world.contacts["leader"].chat_id)) == 1


# --- 403 --------------------------------------------------------------------------------------


async def test_a_blocked_liaison_is_marked_unreachable_and_the_office_told_once(rig: Rig) -> None:
    await rig.people.block_bot(LIAISON)
    await rig.plan(at(3, 25, 9, 0))
    # A second message to the same chat is also pending (a notice written meanwhile).
    async with rig.world.sessionmaker() as session, session.begin():
        await outbox.enqueue(
            session,
            kind="notice",
            chat_id=LIAISON,
            contact_id=None,
            text="通知",
            now=rig.clock.now(),
        )
    stats = await rig.drain()
    assert stats.unreachable == 2 and stats.retried == 0
    to_liaison = await rig.world.messages(LIAISON)
    assert [(m.status, m.attempts) for m in to_liaison] == [(outbox.FAILED, 1)] * 2
    assert all("Forbidden" in (m.last_error or "") for m in to_liaison)
    async with rig.world.sessionmaker() as session:
        main = await session.get_one(Contact, rig.world.contacts["liaison"].id)
        deputy = await session.get_one(Contact, rig.world.contacts["deputy"].id)
        audits = (
            await session.scalars(
                select(AuditEntry).where(AuditEntry.action == "contact_unreachable")
            )
        ).all()
    assert main.reachable is False and deputy.reachable is True
    assert [a.target for a in audits] == [f"contact:{main.id}"]
    office = await rig.received(OFFICE)
    assert len(office) == 1
    assert office[0].startswith("<b>送达失败</b>：发改局联络员liaison 已停用或屏蔽本助手")
    assert len(await rig.received(DEPUTY)) == 1

    # The next day the blocked liaison is skipped; the deputy is still reminded.
    await rig.plan(at(3, 26, 9, 0))
    await rig.drain()
    assert len(await rig.world.messages(LIAISON)) == 2
    assert len(await rig.received(DEPUTY)) == 2
    assert len(await rig.received(OFFICE)) == 1


async def test_with_no_office_bound_the_admins_are_told(rig: Rig) -> None:
    async with rig.world.sessionmaker() as session, session.begin():
        office = await session.get_one(Contact, rig.world.contacts["office"].id)
        office.active = False
    await rig.people.block_bot(LIAISON)
    await rig.plan(at(3, 25, 9, 0))
    await rig.drain()
    told = await rig.received(ADMIN)
    assert [t for t in told if t.startswith("<b>送达失败</b>：发改局联络员")] != []
    assert await rig.received(OFFICE) == []


# --- Kills ------------------------------------------------------------------------------------


@pytest.mark.parametrize("concurrency", [1, 4])
async def test_killed_mid_delivery_and_restarted_nothing_lost(
    sessionmaker: async_sessionmaker[AsyncSession], concurrency: int
) -> None:
    world = await make_world(sessionmaker, imported_at=at(3, 1, 0), tasks=None)
    await bind_many(world)
    rig = await _rig(world, send_concurrency=concurrency)
    rng = random.Random(concurrency)
    await rig.plan(at(3, 30, 9, 0))
    total = len(await rig.world.messages())
    assert total > 40
    in_flight_bound = 0
    for _ in range(3):
        # Kill a sender (no grace: a crash) after a random number of messages.
        victim = rig.new_sender(send_concurrency=concurrency)
        victim.stop_grace = 0
        before = rig.emu.stats.calls["sendMessage"]
        stop_after = before + rng.randrange(1, max(2, (total - before) // 3))
        run = asyncio.create_task(victim.run_once())
        await sends_reach(rig.emu, stop_after, run)
        run.cancel()
        with pytest.raises(asyncio.CancelledError):
            await run
        in_flight_bound += concurrency
    await rig.drain(rig.new_sender(send_concurrency=concurrency))
    assert {m.status for m in await rig.world.messages()} == {outbox.SENT}
    extra = await duplicates(rig)
    # Only a send in flight at a kill can repeat: at most `concurrency` per kill.
    assert sum(extra.values()) <= in_flight_bound


async def test_a_stop_lets_sends_under_way_finish(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    world = await make_world(sessionmaker, imported_at=at(3, 1, 0), tasks=None)
    await bind_many(world)
    rig = await _rig(world, send_concurrency=4)
    await rig.plan(at(3, 30, 9, 0))
    for stop_after in (5, 17, 31):
        sender = rig.new_sender(send_concurrency=4)
        run = asyncio.create_task(sender.run_once())
        await sends_reach(rig.emu, stop_after, run)
        run.cancel()
        with pytest.raises(asyncio.CancelledError):
            await run
    await rig.drain(rig.new_sender())
    assert {m.status for m in await rig.world.messages()} == {outbox.SENT}
    assert await duplicates(rig) == Counter()


async def test_two_runs_at_once_do_not_send_twice(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    world = await make_world(sessionmaker, imported_at=at(3, 1, 0), tasks=None)
    await bind_many(world)
    rig = await _rig(world)
    await rig.plan(at(3, 30, 9, 0))
    first, second = await asyncio.gather(rig.sender.run_once(), rig.sender.run_once())
    assert first.sent + second.sent == len(await rig.world.messages())
    assert await duplicates(rig) == Counter()
    # A long escalation's parts reach the office in order (one send at a time per chat).
    parts = await rig.received(OFFICE)
    assert len(parts) >= 2
    assert [
        f"（分{len(parts)}条发送，此为第{n}条）" in text for n, text in enumerate(parts, 1)
    ] == [True] * len(parts)


SENDER_PROCESS = """
import asyncio, sys
from datetime import datetime
from telegram import Bot
from bot.domain.clock import ManualClock
from db.engine import create_engine, make_sessionmaker
from jobs.sender import OutboxSender, RateGate
from tests.harness import make_settings

async def main(url, base_url, token, now):
    settings = make_settings(url, send_concurrency=1)
    engine = create_engine(url)
    bot = Bot(token, base_url=base_url)
    await bot.initialize()
    clock = ManualClock(datetime.fromisoformat(now))
    # Paced at 40 messages a second so the test can kill it part way.
    sender = OutboxSender(bot, make_sessionmaker(engine), clock, settings, gate=RateGate(40, 0, 20))
    print("ready", flush=True)
    await sender.run_once()
    await bot.shutdown()
    await engine.dispose()

asyncio.run(main(*sys.argv[1:]))
"""


async def test_a_sender_process_killed_with_sigkill_loses_nothing(
    sessionmaker: async_sessionmaker[AsyncSession], database_url: str
) -> None:
    world = await make_world(sessionmaker, imported_at=at(3, 1, 0), tasks=None)
    await bind_many(world)
    async with EmulatorServer() as server:
        people = server.client()
        for contact in world.contacts.values():
            if contact.chat_id not in server.emulator.users:
                await people.create_user(contact.name, user_id=contact.chat_id)
                await people.start_bot(contact.chat_id, send_command=False)
        moment = at(3, 30, 9, 0)
        await world.plan(moment)
        total = len(await world.messages())
        args = [database_url, server.base_url, server.token, moment.isoformat()]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        kills = 0
        for stop_after in (7, 23, 41):
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-c",
                SENDER_PROCESS,
                *args,
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            while server.emulator.stats.calls["sendMessage"] < stop_after:
                if proc.returncode is not None:
                    assert proc.stderr is not None
                    error = (await proc.stderr.read()).decode()
                    raise AssertionError(f"the sender process ended before the kill: {error}")
                await asyncio.sleep(0.005)
            proc.send_signal(signal.SIGKILL)
            assert await proc.wait() == -signal.SIGKILL
            kills += 1
        finish = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            SENDER_PROCESS,
            *args,
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
        )
        assert await asyncio.wait_for(finish.wait(), timeout=60) == 0
        rows = await world.messages()
        assert len(rows) == total and {m.status for m in rows} == {outbox.SENT}
        extra = 0
        for chat in {m.chat_id for m in rows}:
            got = Counter(m.text or "" for m in await people.bot_messages(chat))
            want = Counter(m.text for m in rows if m.chat_id == chat)
            assert not (want - got)
            extra += sum((got - want).values())
        # One request in flight at a time: at most one repeat per kill.
        assert extra <= kills
        await people.close()


# --- What is sent is still true ---------------------------------------------------------------


async def test_a_reminder_left_over_from_yesterday_is_cancelled_as_stale(rig: Rig) -> None:
    await rig.plan(at(3, 25, 9, 0))  # "due today" planned, but Telegram is unreachable all day
    await rig.plan(at(3, 26, 9, 0))  # overdue-1 planned the next morning
    stats = await rig.drain()
    assert stats.cancelled == 2  # yesterday's "due" for the liaison and the deputy
    statuses = [(m.created_at.day, m.status) for m in await rig.world.messages(LIAISON)]
    assert statuses == [(25, outbox.CANCELLED), (26, outbox.SENT)]
    (only,) = await rig.received(LIAISON)
    assert "已逾期1个工作日" in only and "今日截止" not in only


async def test_a_due_reminder_is_not_sent_after_the_deadline_passed(rig: Rig) -> None:
    await rig.plan(at(3, 25, 9, 0))
    rig.clock.set(at(3, 25, 17, 30))
    stats = await rig.drain()
    assert stats.cancelled == 2 and stats.sent == 0
    assert await rig.received(LIAISON) == []


async def test_a_task_reported_meanwhile_is_dropped_from_the_text(rig: Rig) -> None:
    await rig.plan(at(3, 25, 9, 0))
    (planned,) = await rig.world.messages(LIAISON)
    assert "第6项" in planned.text
    await rig.world.report(6, "2026-03", at(3, 25, 9, 1))
    await rig.drain()
    (got,) = await rig.received(LIAISON)
    assert "以下2项任务" in got and "第1项" in got and "第3项" in got and "第6项" not in got
    (row,) = await rig.world.messages(LIAISON)
    assert row.text == got and row.status == outbox.SENT
    # Reported all: nothing is sent at all.
    await rig.plan(at(3, 26, 9, 0))
    await rig.world.report(1, "2026-03", at(3, 26, 9, 1))
    await rig.world.report(3, "2026-03", at(3, 26, 9, 1))
    stats = await rig.drain()
    assert stats.cancelled == 2 and stats.sent == 0
    assert len(await rig.received(LIAISON)) == 1


async def test_a_unit_nudge_leaves_out_a_task_reported_before_it_goes_out(rig: Rig) -> None:
    """催办本单位 lists each overdue task; one reported meanwhile is dropped from the text."""
    world = rig.world
    async with world.sessionmaker() as session, session.begin():
        result = await nudge_unit_all(
            session=session,
            scope=views.Scope(2026),
            unit_id=world.units["发改局"],
            by_user_id=1,
            now=at(3, 27, 10, 0),
            settings=world.settings,
            calendar=world.calendar,
        )
    assert result.tasks == 3
    await world.report(6, "2026-03", at(3, 27, 10, 1))
    rig.clock.set(at(3, 27, 10, 2))
    await rig.drain()
    got = await rig.received(LIAISON)
    assert len(got) == 1
    assert "您单位以下2项任务进展逾期未报" in got[0]
    assert "第1项" in got[0] and "第3项" in got[0] and "第6项" not in got[0]


async def test_a_completed_task_and_a_revoked_liaison_are_not_messaged(rig: Rig) -> None:
    await rig.plan(at(3, 30, 9, 0))
    async with rig.world.sessionmaker() as session, session.begin():
        task = await session.get_one(Task, rig.world.tasks[6])
        task.completed_on = at(3, 30).date()
        deputy = await session.get_one(Contact, rig.world.contacts["deputy"].id)
        deputy.active = False
    await rig.drain()
    (got,) = await rig.received(LIAISON)
    assert "第6项" not in got and "第1项" in got
    assert await rig.received(DEPUTY) == []
    leader = await rig.received(rig.world.contacts["leader"].chat_id)
    assert len(leader) == 1 and "第6项" not in leader[0] and "第1项" in leader[0]


async def test_a_message_without_lines_is_sent_whole_or_not_at_all(rig: Rig) -> None:
    async with rig.world.sessionmaker() as session, session.begin():
        for n, cycle in enumerate(("2026-03", "2026-02")):
            await outbox.enqueue(
                session,
                kind="nudge",
                chat_id=LIAISON,
                contact_id=rig.world.contacts["liaison"].id,
                text=f"催办{n}",
                now=at(3, 26, 9, 0),
                items=[
                    outbox.ItemKey(
                        rig.world.tasks[6],
                        rig.world.units["发改局"],
                        cycle,
                        f"nudge-{n}",
                        rig.world.contacts["liaison"].id,
                    )
                ],
                meta={"kind": "nudge", "nudge_id": n},
            )
    await rig.world.report(6, "2026-02", at(3, 26, 9, 0))
    rig.clock.set(at(3, 26, 9, 5))
    await rig.drain()
    assert await rig.received(LIAISON) == ["催办0"]


class _FakeBot:
    """Answers sendMessage from a script of outcomes (exceptions or message ids).

    It stands in at `Bot._post`, the call `bot.transport.api` makes, and answers as Telegram does.
    """

    def __init__(self, script: list[BaseException | int]) -> None:
        self.script = script
        self.calls: list[int] = []

    async def _post(self, endpoint: str, data: dict[str, Any], **kwargs: Any) -> Any:
        assert endpoint == "sendMessage"
        self.calls.append(int(data["chat_id"]))
        outcome = self.script.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        return {"message_id": outcome, "chat": {"id": data["chat_id"]}, "text": data["text"]}


async def test_a_migrated_group_is_sent_to_its_new_id(rig: Rig) -> None:
    async with rig.world.sessionmaker() as session, session.begin():
        await outbox.enqueue(
            session, kind="notice", chat_id=-100, contact_id=None, text="通报", now=at(3, 26, 9)
        )
    fake = _FakeBot([ChatMigrated(-1001234), 42])
    rig.clock.set(at(3, 26, 9, 1))
    sender = OutboxSender(
        cast(Bot, fake),
        rig.world.sessionmaker,
        rig.clock,
        rig.world.settings,
        gate=RateGate(1000, 0, 20),
    )
    await sender.run_once()
    await sender.run_once()
    (row,) = await rig.world.messages(-1001234)
    assert fake.calls == [-100, -1001234]
    assert row.status == outbox.SENT and row.tg_message_id == 42


async def test_an_unexpected_error_backs_off_instead_of_spinning(rig: Rig) -> None:
    async with rig.world.sessionmaker() as session, session.begin():
        await outbox.enqueue(
            session, kind="notice", chat_id=LIAISON, contact_id=None, text="通知", now=at(3, 26, 9)
        )
    fake = _FakeBot([ValueError("bad row"), 7])
    rig.clock.set(at(3, 26, 9, 1))
    sender = OutboxSender(
        cast(Bot, fake),
        rig.world.sessionmaker,
        rig.clock,
        rig.world.settings,
        gate=RateGate(1000, 0, 20),
    )
    stats = await sender.run_once()
    assert stats.retried == 1 and "bad row" in stats.errors[0]
    assert (await sender.run_once()).sent == 0  # not due again yet
    rig.clock.advance(timedelta(seconds=3))
    assert (await sender.run_once()).sent == 1
    (row,) = await rig.world.messages(LIAISON)
    assert row.status == outbox.SENT and row.attempts == 2


async def test_an_error_of_our_own_gives_up_after_the_attempts(rig: Rig) -> None:
    async with rig.world.sessionmaker() as session, session.begin():
        await outbox.enqueue(
            session, kind="notice", chat_id=LIAISON, contact_id=None, text="通知", now=at(3, 26, 9)
        )
    fake = _FakeBot([ValueError("bad row")] * 3)
    rig.clock.set(at(3, 26, 9, 1))
    sender = OutboxSender(
        cast(Bot, fake),
        rig.world.sessionmaker,
        rig.clock,
        rig.world.settings.model_copy(update={"send_max_attempts": 3}),
        gate=RateGate(1000, 0, 20),
    )
    stats = await rig.drain(sender)
    assert stats.failed == 1 and stats.retried == 2 and fake.calls == [LIAISON] * 3
    (row,) = await rig.world.messages(LIAISON)
    assert row.status == outbox.FAILED and "bad row" in (row.last_error or "")


class _ReportingSender(OutboxSender):
    """Reports all of 发改局's tasks right after its first message went out."""

    world: World

    async def _send(self, row: outbox.Due, text: str) -> int:
        sent = await super()._send(row, text)
        if row.chat_id == LIAISON:
            for no in (1, 3, 6):
                await self.world.report(no, "2026-03", at(3, 25, 9, 1))
        return sent


@pytest.mark.parametrize("recheck_after", [0.0, 3600.0])
async def test_a_report_during_a_fan_out_reaches_the_messages_checked_after_it(
    rig: Rig, recheck_after: float
) -> None:
    await rig.plan(at(3, 25, 9, 0))
    rows = await rig.world.messages()
    assert [m.chat_id for m in rows][:2] == [LIAISON, DEPUTY]  # the same tasks, one after other
    one_at_a_time = rig.world.settings.model_copy(update={"send_concurrency": 1})
    sender = _ReportingSender(
        rig.bot, rig.world.sessionmaker, rig.clock, one_at_a_time, gate=RateGate(100000, 0, 9)
    )
    sender.world = rig.world
    sender.recheck_after = recheck_after
    stats = await sender.run_once()
    assert len(await rig.received(LIAISON)) == 1
    if recheck_after == 0.0:
        # Checked again just before its turn: the deputy is not reminded of what was reported.
        assert await rig.received(DEPUTY) == [] and stats.cancelled == 1
    else:
        # Checked with the liaison's message, before the report came in: the one second (here:
        # hour) of staleness a chunked check allows.
        assert len(await rig.received(DEPUTY)) == 1 and stats.cancelled == 0
    statuses = Counter(m.status for m in await rig.world.messages())
    assert statuses[outbox.PENDING] == 0


# --- Recording deliveries: several to a transaction when they come fast ----------------------


async def _queued(sessionmaker: async_sessionmaker[AsyncSession], n: int) -> list[int]:
    now = at(3, 25, 9)
    async with sessionmaker() as session, session.begin():
        ids = [
            await outbox.enqueue(
                session, kind="notice", chat_id=1000 + i, contact_id=None, text="原文", now=now
            )
            for i in range(n)
        ]
    return [i for i in ids if i is not None]


async def test_deliveries_at_once_share_transactions_and_each_is_committed_on_return(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    ids = await _queued(sessionmaker, 40)
    log = DeliveryLog(sessionmaker)
    sent_at = at(3, 25, 9, 30)

    async def deliver(n: int, message_id: int) -> None:
        await asyncio.sleep(random.random() / 100)
        await log.record(outbox.Delivered(message_id, sent_at, 5000 + n, 1, f"第{n}条"))
        async with sessionmaker() as session:  # another transaction sees it once recorded
            row = await session.get(OutboxMessage, message_id)
            assert row is not None and row.status == outbox.SENT

    await asyncio.gather(*(deliver(n, m) for n, m in enumerate(ids)))
    assert log.transactions < len(ids)  # marks that came together were recorded together
    async with sessionmaker() as session:
        rows = {r.id: r for r in (await session.scalars(select(OutboxMessage))).all()}
    for n, message_id in enumerate(ids):
        row = rows[message_id]
        assert (row.status, row.tg_message_id, row.attempts, row.text) == (
            outbox.SENT, 5000 + n, 1, f"第{n}条"
        )  # fmt: skip
        assert row.sent_at == sent_at


async def test_a_failed_recording_fails_every_delivery_in_it_and_marks_none(
    sessionmaker: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = await _queued(sessionmaker, 6)
    log = DeliveryLog(sessionmaker)
    real = outbox.mark_delivered
    gate = asyncio.Event()

    async def failing(conn: AsyncConnection, delivered: Any) -> None:
        await gate.wait()  # the others queue up meanwhile
        await real(conn, delivered)
        raise RuntimeError("database went away")

    monkeypatch.setattr(outbox, "mark_delivered", failing)
    sent_at = at(3, 25, 9, 30)
    tasks = [asyncio.create_task(log.record(outbox.Delivered(m, sent_at, 1, 1, "x"))) for m in ids]
    await asyncio.sleep(0.05)
    gate.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    # The first went alone (nothing else was waiting), the other five together: one raised the
    # database's error, the four recorded in its transaction learn it failed.
    assert [type(r).__name__ for r in results] == ["RuntimeError"] * 2 + ["DeliveryNotRecorded"] * 4
    async with sessionmaker() as session:
        statuses = (await session.scalars(select(OutboxMessage.status))).all()
    assert set(statuses) == {outbox.PENDING}  # rolled back: each will be retried
    monkeypatch.setattr(outbox, "mark_delivered", real)
    await log.record(outbox.Delivered(ids[0], sent_at, 1, 1, "x"))  # and the log goes on
    async with sessionmaker() as session:
        row = await session.get(OutboxMessage, ids[0])
    assert row is not None and row.status == outbox.SENT


async def test_one_key_enqueued_by_two_transactions_at_once_is_written_once(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """Two writers of the same message (a job and an update, or two people's updates handled
    side by side): the one that commits second gets None, not a duplicate-key error."""
    now = at(3, 25, 9)
    first_wrote = asyncio.Event()

    async def first() -> int | None:
        async with sessionmaker() as session, session.begin():
            written = await outbox.enqueue(
                session, kind="notice", chat_id=LIAISON, contact_id=None, text="一", now=now,
                key="same",
            )  # fmt: skip
            first_wrote.set()
            await asyncio.sleep(0.2)  # the second writer tries meanwhile
            return written

    async def second() -> int | None:
        await first_wrote.wait()
        async with sessionmaker() as session, session.begin():
            return await outbox.enqueue(
                session, kind="notice", chat_id=LIAISON, contact_id=None, text="二", now=now,
                key="same",
            )  # fmt: skip

    written, again = await asyncio.gather(first(), second())
    assert written is not None and again is None
    async with sessionmaker() as session:
        rows = (await session.scalars(select(OutboxMessage))).all()
    assert [(r.id, r.text) for r in rows] == [(written, "一")]
