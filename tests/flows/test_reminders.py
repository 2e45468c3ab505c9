"""Reminders end to end: people bound through invites, the planner and the running bot's sender
over HTTP against the emulator — with faults, a blocked liaison, Telegram's flood limits, the
scheduled jobs and a calendar override from the command line."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from telegram import Bot
from telegram.request import HTTPXRequest

from bot.cli import build_parser, cmd_calendar
from bot.domain.clock import ManualClock
from bot.domain.roles import Role
from bot.emulator import EmulatorServer, Person
from bot.runtime.run import BotRuntime
from bot.runtime.scheduling import JOB_KWARGS, PLAN_EVERY, run_planning
from db import outbox
from db.engine import make_sessionmaker
from db.models import Contact, OutboxMessage, Unit
from jobs.reminders import OverrideSync
from jobs.sender import OutboxSender, RateGate
from tests.flows.conftest import SHANGHAI
from tests.harness import Harness, import_seed, make_settings

UNITS = ["发改局", "工信局", "商务局", "住建局", "城管局", "财政局", "民政局", "科技局"]


def at(month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    """A moment of 2026 in Shanghai."""
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


def sender_of(h: Harness) -> OutboxSender:
    """The running bot's outbox sender."""
    assert h.runtime.sender is not None
    return h.runtime.sender


async def plan(h: Harness, moment: datetime) -> int:
    """Set the clock and run the planning job as the scheduler would."""
    h.clock.set(moment)
    assert h.runtime.services is not None
    return await run_planning(h.runtime.services, sender_of(h))


async def drain(h: Harness) -> None:
    """Deliver until nothing is pending, moving the clock past each retry's wait."""
    for _ in range(80):
        await sender_of(h).run_once()
        if not [m for m in await h.rows(OutboxMessage) if m.status == outbox.PENDING]:
            return
        h.clock.advance(timedelta(minutes=10))
    raise AssertionError("the outbox did not drain")


async def team(h: Harness) -> dict[str, Person]:
    """Liaisons of eight units (发改局 with a deputy), 吴振强 and one office member, bound."""
    people = {unit: await h.bound(f"{unit}联络员", Role.LIAISON, unit=unit) for unit in UNITS}
    people["deputy"] = await h.bound("发改局副联络员", Role.LIAISON, unit="发改局", deputy=True)
    people["leader"] = await h.bound("吴振强", Role.LEADER, leader="吴振强")
    people["office"] = await h.bound("督导办", Role.OFFICE)
    for who in people.values():
        h.people.mark_seen(who.id, (await h.people.bot_messages(who.id))[-1].message_id)
    return people


async def delivered(h: Harness, who: Person) -> list[str]:
    """What the outbox delivered to a person (the binding conversation left out)."""
    return [
        m.text or ""
        for m in await h.people.bot_messages(who.id)
        if "绑定成功" not in (m.plain or "")
    ]


async def test_every_reminder_arrives_once_through_429_5xx_timeouts_and_lost_answers(
    h: Harness,
) -> None:
    people = await team(h)
    # The sender's client gives up on a silent server after 1.5 s (not five), before the
    # injected timeouts' 2 s. Shorter, a send that is merely slow on a loaded machine times
    # out too, is applied all the same, and repeats without a 'lost' fault to account for it.
    sender = sender_of(h)
    quick = Bot(
        sender.bot.token,
        base_url=h.server.base_url,
        request=HTTPXRequest(connection_pool_size=16, read_timeout=1.5),
    )
    await quick.initialize()
    sender.bot = quick
    try:
        await h.people.set_faults([], seed=2026)
        await h.people.add_fault("lost", rate=0.05, methods=["sendMessage"])
        await h.people.add_fault("retry_after", rate=0.07, methods=["sendMessage"], retry_after=1)
        await h.people.add_fault("server_error", rate=0.07, methods=["sendMessage"], status=502)
        await h.people.add_fault("timeout", rate=0.07, methods=["sendMessage"], hold=2.0)
        for moment in [at(3, day) for day in (20, 24, 25, 26, 27, 30, 31)] + [at(4, 1)]:
            await plan(h, moment)
            await drain(h)
    finally:
        await quick.shutdown()
    rows = await h.rows(OutboxMessage)
    assert len(rows) > 50 and {m.status for m in rows} == {outbox.SENT}
    stats = await h.people.stats()
    faults = stats["faults"]["sendMessage"]
    assert set(faults) == {"lost", "retry_after", "server_error", "timeout"}
    assert sum(faults.values()) >= 0.15 * stats["calls"]["sendMessage"]
    extra = 0
    for who in people.values():
        got = Counter(await delivered(h, who))
        want = Counter(m.text for m in rows if m.chat_id == who.id)
        assert got.keys() == want.keys(), who.first_name
        extra += sum((got - want).values())
    # Only a lost answer (delivered, but the bot could not know) may repeat a message.
    assert extra <= faults["lost"]
    # Each liaison had one message a workday: before, day before, due, five overdue days.
    assert len(set(await delivered(h, people["工信局"]))) == 8


async def test_a_blocked_liaison_is_reported_to_the_office_once(h: Harness) -> None:
    main = await h.bound("张三", Role.LIAISON, unit="发改局")
    deputy = await h.bound("李四", Role.LIAISON, unit="发改局", deputy=True)
    office = await h.bound("督导办", Role.OFFICE)
    for who in (main, deputy, office):
        h.people.mark_seen(who.id, (await h.people.bot_messages(who.id))[-1].message_id)
    await h.people.block_bot(main.id)

    await plan(h, at(3, 24))
    await drain(h)
    contacts = {c.tg_user_id: c for c in await h.rows(Contact)}
    assert contacts[main.id].reachable is False
    assert contacts[deputy.id].reachable is True
    (failed,) = [m for m in await h.rows(OutboxMessage) if m.chat_id == main.id]
    assert failed.status == outbox.FAILED and failed.attempts == 1
    notice = await h.people.wait_for_bot_message(office.id)
    assert notice.plain == (
        "送达失败：发改局联络员张三 已停用或屏蔽本助手，消息无法送达。"
        "请联系该单位重新绑定联络员（管理员可发送 /contacts 更换）。"
    )
    assert "下一工作日截止" in ((await h.people.wait_for_bot_message(deputy.id)).plain or "")

    # Next day: not tried again; the deputy is reminded; the office is not told again.
    await plan(h, at(3, 25))
    await drain(h)
    assert [m.chat_id for m in await h.rows(OutboxMessage)].count(main.id) == 1
    assert "今日截止" in ((await h.people.wait_for_bot_message(deputy.id)).plain or "")
    assert len(await delivered(h, office)) == 1

    # The liaison unblocks and writes: reachable again, reminded from the next run on.
    await h.people.unblock_bot(main.id)
    await h.say(main, "你好")
    await plan(h, at(3, 26))
    await drain(h)
    assert "已逾期1个工作日" in (await delivered(h, main))[-1]
    assert len(await delivered(h, office)) == 1


async def test_no_flood_limit_is_hit_at_twenty_times_telegram_speed(h: Harness) -> None:
    people = await team(h)
    admin = await h.bound("管理员", Role.ADMIN)
    group = await h.people.create_group("南安市督查工作群", [admin.id, people["office"].id])
    await h.people.add_bot_to_group(group, admin.id)
    await h.people.wait_for_bot_message(group)  # registered for the daily 通报
    speedup = 20.0
    await h.people.set_limits(speedup=speedup)
    await h.people.reset_stats()
    # The sender paced for the sped-up emulator: 20×20/s overall (Telegram allows 30×20), one
    # message per person per 1/20 s, 20 per group per 3 s.
    sender = sender_of(h)
    sender.gate = RateGate(20 * speedup, 1 / speedup, 20, group_window=60 / speedup)
    await plan(h, at(3, 30))
    async with h.sessionmaker() as session, session.begin():
        for n in range(45):
            await outbox.enqueue(
                session,
                kind="notice",
                chat_id=group,
                contact_id=None,
                text=f"通报第{n + 1}条",
                now=h.clock.now(),
                key=f"test-circular:{n}",
            )
        for who in people.values():
            for n in range(6):
                await outbox.enqueue(
                    session,
                    kind="notice",
                    chat_id=who.id,
                    contact_id=None,
                    text=f"通知第{n + 1}条",
                    now=h.clock.now(),
                    key=f"test-notice:{who.id}:{n}",
                )
    started = asyncio.get_running_loop().time()
    await drain(h)
    elapsed = asyncio.get_running_loop().time() - started
    stats = await h.people.stats()
    assert stats["violations"] == 0, stats["violations_per_chat"]
    assert stats["outcomes"]["sendMessage"].get("rate_limited", 0) == 0
    rows = await h.rows(OutboxMessage)
    assert {m.status for m in rows} == {outbox.SENT}
    assert len(rows) > 100
    # 45 to one group at 20 per 3 s take two windows; everything else fits around them.
    assert elapsed >= 2 * 3.0
    assert [m.text for m in await h.people.bot_messages(group)][-45:] == [
        f"通报第{n + 1}条" for n in range(45)
    ]


async def test_an_override_from_the_command_line_reaches_the_running_bot(h: Harness) -> None:
    liaison = await h.bound("发改局联络员", Role.LIAISON, unit="发改局")
    h.people.mark_seen(liaison.id, (await h.people.bot_messages(liaison.id))[-1].message_id)
    # The office learns that 25 March will be a day off; the deadline moves to the 24th.
    args = build_parser().parse_args(["calendar", "--set-off", "2026-03-25", "--note", "停电"])
    await cmd_calendar(args, h.runtime.settings)
    h.clock.set(at(3, 24))
    assert h.runtime.services is not None
    await run_planning(h.runtime.services, sender_of(h), OverrideSync())
    await drain(h)
    reminder = await h.people.wait_for_bot_message(liaison.id)
    assert "截止时间3月24日（周二）17:00，今日截止" in (reminder.plain or "")
    assert not h.runtime.services.calendar.is_workday(date(2026, 3, 25))


LIAISON_ID = 4242


@pytest.fixture
async def scheduled(
    engine: AsyncEngine, database_url: str
) -> AsyncIterator[tuple[BotRuntime, EmulatorServer]]:
    """The bot started with its jobs on the morning of a deadline, 发改局's liaison bound."""
    server = EmulatorServer()
    await server.start()
    server.emulator.create_user("发改局联络员", user_id=LIAISON_ID)
    server.emulator.start_bot(LIAISON_ID, send_command=False)
    sessionmaker = make_sessionmaker(engine)
    await import_seed(sessionmaker, at(3, 1, 0))
    async with sessionmaker() as session, session.begin():
        unit_id = await session.scalar(select(Unit.id).where(Unit.name == "发改局"))
        session.add(
            Contact(
                tg_user_id=LIAISON_ID,
                chat_id=LIAISON_ID,
                name="发改局联络员",
                role=Role.LIAISON.value,
                unit_id=unit_id,
                created_at=at(3, 1),
            )
        )
    runtime = BotRuntime(
        make_settings(database_url, bot_token=server.token),
        clock=ManualClock(at(3, 25)),
        base_url=server.url,
        poll_timeout=1.0,
        run_jobs=True,
    )
    await runtime.start()
    try:
        yield runtime, server
    finally:
        await runtime.stop()
        await server.stop()


async def test_jobs_are_rebuilt_at_start_with_coalescing_and_misfire_grace(
    scheduled: tuple[BotRuntime, EmulatorServer],
) -> None:
    runtime, _ = scheduled
    assert runtime.application is not None
    queue = runtime.application.job_queue
    assert queue is not None
    jobs = {job.name: job for job in queue.jobs()}
    assert "plan-reminders" in jobs
    for job in jobs.values():
        assert job.job.coalesce is True
        assert job.job.misfire_grace_time == JOB_KWARGS["misfire_grace_time"] == 3600
        assert job.job.max_instances == 1
    planning = jobs["plan-reminders"].job
    assert planning.trigger.interval == PLAN_EVERY == timedelta(minutes=1)
    # Nothing is pickled: APScheduler keeps the jobs in memory, rebuilt at every start.
    store = queue.scheduler._lookup_jobstore(planning._jobstore_alias)
    assert type(store).__name__ == "MemoryJobStore"


async def test_the_planning_job_runs_once_started_and_the_reminder_arrives(
    scheduled: tuple[BotRuntime, EmulatorServer],
) -> None:
    _, server = scheduled
    async with server.client() as people:
        # The job's first run comes a second after start; the sender delivers at once.
        message = await people.wait_for_bot_message(LIAISON_ID, timeout=10.0)
    assert "发改局：您单位牵头的以下14项任务进展尚未报送" in (message.plain or "")
    assert "今日截止" in (message.plain or "")
