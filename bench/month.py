"""A simulated stretch of the 2026 register, day by day, as the running bot would live it.

The real register (`seed_tasks.json`, 88 tasks) is imported at the start; one liaison is bound
for every unit, plus the office's staff, a contact for every supervising leader and the work
group. Each simulated day the jobs run at the times the scheduler runs them
(`bot.runtime.scheduling`: the daily summaries at `summary_time`, the reminder planner from
`reminder_time` on), the liaisons report at the moments a reporting plan gives (`Sitting`)
through the reporting service (the draft, the reading, 确认提交: `bot.services.reporting`), the
office presses 催办本单位 (`bot.services.nudge.nudge_unit_all`) for the units its digest newly
flags, and the outbox sender (`jobs.sender.OutboxSender`) delivers to an in-process Bot API
emulator right after each of these, checking each message against the database first as it
always does (`obligations.applies`). What each person received is read back per local day.

The planner runs every minute in the bot; here it runs at `reminder_time`, after every sitting
and nudge, and at `due_time`. Between two of these moments nothing it reads changes but the
clock, and the ladder's steps change only at `reminder_time` and at a deadline's `due_time`
(`bot.domain.ladder`), so the minutes in between would add nothing.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from telegram import Bot

from bench.common import import_seed
from bot.config import Settings
from bot.domain.clock import ManualClock
from bot.domain.deadlines import rule_for, year_cycles
from bot.domain.model import MONTHLY
from bot.domain.overdue import OverdueFilter
from bot.domain.roles import Role, UnitRef
from bot.domain.workcal import WorkCalendar
from bot.emulator import Emulator, EmulatorRequest
from bot.runtime.scheduling import run_planning, run_summaries
from bot.services import reporting
from bot.services.desk import Desk
from bot.services.nudge import NudgeOutcome, nudge_unit_all
from db import acks, outbox, progress, views
from db.engine import create_engine, make_sessionmaker
from db.models import Contact, Leader, OutboxMessage, Task, Unit, WorkGroup
from handlers.context import Services
from jobs.reminders import OverrideSync
from jobs.sender import OutboxSender, RateGate

SHANGHAI = ZoneInfo("Asia/Shanghai")
LIAISON_CHAT = 7_000_000  # + the unit's id
OFFICE_CHAT = 6_000_001  # the first of the office's staff
LEADER_CHAT = 6_100_000  # + the leader's id
GROUP_CHAT = -4_000_000_777
OFFICE_STAFF = 3
NUDGE_TIME = time(10, 0)  # when the office reads its digest's 提请关注 and presses 催办本单位

ROLES = ("liaison", "office", "leader", "group")
EARLY, ON_DEADLINE, LATE, NEVER = "early", "deadline", "late", "never"
# How a unit answers one cycle: most report in the days before the deadline, some on the day,
# some after one to five overdue reminders (those past the escalation day after the office's
# 催办), a few not at all.
MIX: Mapping[str, float] = {EARLY: 0.50, ON_DEADLINE: 0.25, LATE: 0.17, NEVER: 0.08}
EARLY_WORKDAYS = 5  # an early report comes 1..5 workdays before the deadline
LATE_WORKDAYS = 5  # a late one on the 1st..5th overdue workday


@dataclass(frozen=True)
class Person:
    """Someone (or the group) the bot writes to."""

    chat_id: int
    role: str  # one of ROLES
    name: str
    unit_id: int | None = None
    owes: bool = False  # a liaison whose unit owes reports on some task


@dataclass(frozen=True)
class Roster:
    """Who is bound, which units owe reports, and the year's monthly deadlines."""

    people: Mapping[int, Person]  # by chat id
    units: Mapping[int, str]  # every bound unit: id → name
    owing: frozenset[int]  # units that lead a task (owe reports)
    deadlines: tuple[date, ...]  # the monthly cycles' deadlines (moved to a workday)
    contact_of: Mapping[int, int]  # unit id → its liaison's contact id


@dataclass(frozen=True)
class Sitting:
    """A liaison sits down to report for a cycle: every task now overdue, and for an early or
    deadline-day sitting also every task still unreported for the cycle due on `deadline`."""

    at: datetime
    unit_id: int
    behaviour: str  # EARLY, ON_DEADLINE or LATE
    deadline: date


@dataclass(frozen=True)
class Received:
    """One message a person received (as the emulator shows it)."""

    chat_id: int
    at: datetime  # local
    kind: str  # the outbox kind: reminder, nudge, summary, circular, ...
    text: str  # plain text as delivered

    @property
    def day(self) -> date:
        """The local day it arrived."""
        return self.at.date()


@dataclass
class Simulated:
    """What a run did and what everyone received."""

    roster: Roster
    first: date
    last: date
    received: list[Received] = field(default_factory=list)
    sittings: Counter[str] = field(default_factory=Counter)  # by behaviour
    reports: Counter[str] = field(default_factory=Counter)  # reports stored, by behaviour
    nudged_units: int = 0
    cancelled: Counter[str] = field(default_factory=Counter)  # dropped by the sender's check
    never: int = 0  # (unit, cycle) pairs planned never to be reported


Planner = Callable[[Roster, WorkCalendar, Settings, date, date], tuple[list[Sitting], int]]


def mixed_plan(seed: int, mix: Mapping[str, float] = MIX) -> Planner:
    """A seeded plan: one sitting per unit owing reports and cycle, drawn from `mix`."""

    def plan(
        roster: Roster, calendar: WorkCalendar, settings: Settings, first: date, last: date
    ) -> tuple[list[Sitting], int]:
        kinds = list(mix)
        weights = [mix[k] for k in kinds]
        out: list[Sitting] = []
        never = 0
        for deadline in roster.deadlines:
            if deadline < first or deadline > last:
                continue
            # One draw per cycle: a month reads the same in every run that simulates it.
            rng = random.Random(f"{seed}:{deadline.isoformat()}")
            for unit_id in sorted(roster.owing):
                kind = rng.choices(kinds, weights)[0]
                if kind == EARLY:
                    day = calendar.add_workdays(deadline, -rng.randint(1, EARLY_WORKDAYS))
                    moment = _at(day, rng.randint(9 * 60 + 5, 17 * 60 + 30), settings)
                elif kind == ON_DEADLINE:
                    moment = _at(deadline, rng.randint(9 * 60 + 5, 16 * 60 + 55), settings)
                elif kind == LATE:
                    day = calendar.add_workdays(deadline, rng.randint(1, LATE_WORKDAYS))
                    moment = _at(day, rng.randint(10 * 60 + 5, 17 * 60 + 30), settings)
                else:
                    never += 1
                    continue
                if first <= moment.date() <= last:
                    out.append(Sitting(moment, unit_id, kind, deadline))
        return sorted(out, key=lambda s: (s.at, s.unit_id)), never

    return plan


def _at(day: date, minutes: int, settings: Settings) -> datetime:
    return datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=settings.tz)


def progress_text(rng: random.Random, month: int) -> str:
    """A short progress reply, as liaisons write them."""
    percent = max(5, min(95, 8 * month + rng.randint(-6, 10)))
    return rng.choice(
        (
            f"总体进度{percent}%，按计划推进",
            f"总体进度{percent}%，正在推进前期工作",
            f"总体进度{percent}%，用地指标需自然资源局协调",
        )
    )


class Month:
    """The database, the emulator, the services and the sender of one simulated stretch."""

    def __init__(self, url: str, settings: Settings, *, start: datetime) -> None:
        self.url = url
        self.settings = settings
        self.start = start
        self.calendar = WorkCalendar()
        self.clock = ManualClock(start)
        self.engine = create_engine(url)
        self.sessionmaker = make_sessionmaker(self.engine)
        self.services = Services(settings, self.sessionmaker, self.clock, self.calendar)
        self.overrides = OverrideSync()
        self.emu = Emulator()
        self.bot = Bot(self.emu.token, request=EmulatorRequest(self.emu, read_timeout=0.2))
        # Pacing is not what is measured: no waits between sends.
        self.sender = OutboxSender(
            self.bot, self.sessionmaker, self.clock, settings, gate=RateGate(100000, 0.0, 1000)
        )
        self.rng = random.Random(0)
        self.roster: Roster | None = None

    async def close(self) -> None:
        """Release the bot's transport and the engine."""
        await self.bot.shutdown()
        await self.engine.dispose()

    # ---------------------------------------------------------------- setting up

    async def setup(self, seed: int) -> Roster:
        """Import the register at `start`, bind everyone, open their chats in the emulator."""
        self.rng = random.Random(seed)
        await import_seed(self.sessionmaker, self.start)
        now = self.start
        people: dict[int, Person] = {}
        contact_of: dict[int, int] = {}
        async with self.sessionmaker() as session, session.begin():
            units = (
                await session.execute(
                    select(Unit.id, Unit.name).where(Unit.kind != "group").order_by(Unit.id)
                )
            ).all()
            task_ids = list((await session.scalars(select(Task.id))).all())
            owing_by_task = await progress.owing_units(
                session, task_ids, responsible_report=self.settings.responsible_units_report
            )
            owing = frozenset(o.unit_id for lst in owing_by_task.values() for o in lst)
            for unit_id, name in units:
                chat = LIAISON_CHAT + unit_id
                contact = Contact(
                    tg_user_id=chat,
                    chat_id=chat,
                    name=f"{name}联络员",
                    role=Role.LIAISON.value,
                    unit_id=unit_id,
                    created_at=now,
                )
                session.add(contact)
                await session.flush()
                contact_of[unit_id] = contact.id
                people[chat] = Person(chat, "liaison", name, unit_id, unit_id in owing)
            for n in range(OFFICE_STAFF):
                chat = OFFICE_CHAT + n
                session.add(
                    Contact(
                        tg_user_id=chat,
                        chat_id=chat,
                        name=f"督导办{n + 1}",
                        role=Role.OFFICE.value,
                        created_at=now,
                    )
                )
                people[chat] = Person(chat, "office", f"督导办{n + 1}")
            for leader_id, name in (
                await session.execute(select(Leader.id, Leader.name).order_by(Leader.id))
            ).all():
                chat = LEADER_CHAT + leader_id
                session.add(
                    Contact(
                        tg_user_id=chat,
                        chat_id=chat,
                        name=name,
                        role=Role.LEADER.value,
                        leader_id=leader_id,
                        created_at=now,
                    )
                )
                people[chat] = Person(chat, "leader", name)
            # Each liaison acknowledges (签收) the unit's tasks when bound, as the welcome asks;
            # a unit that did not would get one 签收 request (jobs.acknowledge).
            pairs = [(t, o.unit_id) for t, lst in owing_by_task.items() for o in lst]
            await acks.acknowledge(session, pairs, by_user_id=None, now=now)
            session.add(WorkGroup(chat_id=GROUP_CHAT, title="督办工作群", registered_at=now))
            people[GROUP_CHAT] = Person(GROUP_CHAT, "group", "督办工作群")
        for chat, person in people.items():
            if chat > 0:
                self.emu.create_user(person.name, user_id=chat)
                self.emu.start_bot(chat, send_command=False)
        self.emu.create_group(
            "督办工作群",
            member_ids=[c for c, p in people.items() if p.role in ("office", "leader")],
            chat_id=GROUP_CHAT,
        )
        self.emu.add_bot_to_group(GROUP_CHAT, OFFICE_CHAT)
        self.emu.pending.clear()  # the bot handles no updates here
        await self.bot.initialize()
        rule = rule_for(MONTHLY, (), self.settings)
        deadlines = tuple(
            c.deadline for c in year_cycles(rule, self.start.year, self.settings, self.calendar)
        )
        names = {unit_id: name for unit_id, name in units}
        self.roster = Roster(people, names, owing, deadlines, contact_of)
        return self.roster

    # ---------------------------------------------------------------- the days

    async def run(
        self, first: date, last: date, sittings: list[Sitting], *, nudges: bool = True
    ) -> Simulated:
        """Every day from `first` to `last`; return what everyone received."""
        assert self.roster is not None, "setup() first"
        out = Simulated(self.roster, first, last)
        by_day: dict[date, list[Sitting]] = {}
        for s in sittings:
            by_day.setdefault(s.at.date(), []).append(s)
        day = first
        while day <= last:
            await self._day(day, by_day.get(day, []), out, nudges=nudges)
            day += timedelta(days=1)
        await self._collect(out)
        return out

    async def _day(
        self, day: date, sittings: list[Sitting], out: Simulated, *, nudges: bool
    ) -> None:
        settings = self.settings
        events: list[tuple[datetime, int, Callable[[], Awaitable[None]]]] = []

        async def summaries() -> None:
            await run_summaries(self.services, None)

        async def planning() -> None:
            await run_planning(self.services, None, self.overrides)

        async def nudge() -> None:
            out.nudged_units += await self._office_nudges()

        def at(clock_time: time) -> datetime:
            return datetime.combine(day, clock_time, tzinfo=settings.tz)

        events.append((at(settings.summary_time), 0, summaries))
        events.append((at(settings.reminder_time), 1, planning))
        if nudges:
            events.append((at(NUDGE_TIME), 2, nudge))
        for n, sitting in enumerate(sittings):

            async def sit(s: Sitting = sitting) -> None:
                out.sittings[s.behaviour] += 1
                out.reports[s.behaviour] += await self._sit(s)
                await run_planning(self.services, None, self.overrides)

            events.append((sitting.at, 10 + n, sit))
        events.append((at(settings.due_time), 9999, planning))
        events.sort(key=lambda e: (e[0], e[1]))
        for moment, _, action in events:
            if moment < self.start:
                continue
            self.clock.set(moment)
            await action()
            stats = await self.sender.run_once()
            if stats.errors or stats.failed or stats.unreachable:
                raise RuntimeError(f"the sender failed at {moment}: {stats}")

    async def _office_nudges(self) -> int:
        """催办本单位 for each unit that reached the escalation threshold today: the units the
        morning digest newly lists under 提请关注. Returns the units nudged."""
        now = self.clock.now()
        if not self.calendar.is_workday(now.astimezone(self.settings.tz).date()):
            return 0
        threshold = self.settings.escalate_after_workdays
        nudged = 0
        async with self.sessionmaker() as session, session.begin():
            scope = views.Scope(now.year)
            found = await views.overdue_units(
                session,
                scope=scope,
                flt=OverdueFilter(),
                page=0,
                per_page=10_000,
                now=now,
                settings=self.settings,
                calendar=self.calendar,
            )
            for group in found.groups:
                if group.worst != threshold:
                    continue
                result = await nudge_unit_all(
                    session=session,
                    scope=scope,
                    unit_id=group.unit_id,
                    by_user_id=OFFICE_CHAT,
                    now=now,
                    settings=self.settings,
                    calendar=self.calendar,
                )
                nudged += result.outcome is NudgeOutcome.SENT
        return nudged

    async def _sit(self, sitting: Sitting) -> int:
        """The liaison reports what the sitting covers, each task through the reporting
        service as a reply to a reminder goes (draft, reading, 确认提交); returns reports."""
        assert self.roster is not None
        now = self.clock.now()
        unit = UnitRef(sitting.unit_id, self.roster.units[sitting.unit_id])
        chat = LIAISON_CHAT + unit.id
        stored = 0
        async with self.sessionmaker() as session, session.begin():
            register = self.services.register
            await register.validate(session)
            desk = Desk(session, register, self.settings, self.calendar, now)
            # A report of an overdue task is credited to the missed cycle; the task is then
            # unreported for the open one, reported in the next round (an early or
            # deadline-day sitting).
            for _ in range(3):
                states = await reporting.states(desk, [unit], now.year)
                todo = [
                    s
                    for s in states
                    if s.state == "overdue"
                    or (
                        sitting.behaviour != LATE
                        and s.state == "unreported"
                        and s.deadline == sitting.deadline
                    )
                ]
                if not todo:
                    break
                for state in todo:
                    draft = await reporting.open_draft(
                        desk,
                        user_id=chat,
                        chat_id=chat,
                        contact_id=self.roster.contact_of[unit.id],
                        state=reporting.CONFIRM,
                        task_id=state.task.id,
                        unit_id=unit.id,
                        text=progress_text(self.rng, now.month),
                    )
                    await reporting.read_reply(desk, draft)
                    await reporting.submit(desk, draft, chat)
                    stored += 1
        return stored

    # ---------------------------------------------------------------- reading back

    async def _collect(self, out: Simulated) -> None:
        """Every delivered outbox message, as the emulator shows it; the cancelled ones."""
        async with self.sessionmaker() as session:
            rows = (
                await session.execute(
                    select(
                        OutboxMessage.chat_id,
                        OutboxMessage.kind,
                        OutboxMessage.status,
                        OutboxMessage.sent_at,
                        OutboxMessage.tg_message_id,
                    ).order_by(OutboxMessage.id)
                )
            ).all()
        sent: Counter[int] = Counter()
        for chat_id, kind, status, sent_at, tg_id in rows:
            if status == outbox.SENT:
                assert sent_at is not None and tg_id is not None
                message = self.emu.chats[chat_id].messages[tg_id]
                local = sent_at.astimezone(self.settings.tz)
                out.received.append(Received(chat_id, local, kind, message.text or ""))
                sent[chat_id] += 1
            elif status == outbox.CANCELLED:
                out.cancelled[kind] += 1
            else:
                raise RuntimeError(f"an outbox message to {chat_id} is still {status}")
        # Every message the emulator holds from the bot is one of these rows, and vice versa.
        for chat_id, chat in self.emu.chats.items():
            got = sum(1 for m in chat.messages.values() if m.from_bot)
            if got != sent[chat_id]:
                raise RuntimeError(f"chat {chat_id}: {got} delivered, {sent[chat_id]} rows sent")
