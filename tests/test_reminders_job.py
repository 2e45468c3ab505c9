"""The reminder planner driven through a simulated 2026 with a fixed clock, on both databases.

Expected dates are written out by hand from the State Council's 2026 holiday notice: days off
on weekdays 1-2 Jan, 16-20 and 23 Feb, 6 Apr, 1, 4 and 5 May, 19 Jun, 25 Sep, 1-2 and 5-7 Oct;
make-up workdays Sun 4 Jan, Sat 14 Feb, Sat 28 Feb, Sat 9 May, Sun 20 Sep, Sat 10 Oct.
Settings are the defaults: deadline the 25th at 17:00 (moved to the previous workday),
reminders at 09:00, the first three workdays ahead, escalation on the third overdue workday.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import texts
from bot.config import Settings
from bot.domain.ladder import STANDING
from bot.domain.register import load_json
from bot.domain.roles import Role
from bot.domain.workcal import WorkCalendar
from db import years
from db.models import (
    AppState,
    CalendarOverride,
    Contact,
    Leader,
    OutboxItem,
    OutboxMessage,
    Report,
    Task,
    Unit,
)
from db.register import import_register
from jobs.reminders import OverrideSync, plan_reminders
from tests.harness import SEED, make_settings

SH = ZoneInfo("Asia/Shanghai")
_report_ids = itertools.count(1)

# 2026 by the statutory calendar (see the module docstring).
OFF_WEEKDAYS = {
    date(2026, 1, 1),
    date(2026, 1, 2),
    *(date(2026, 2, d) for d in (16, 17, 18, 19, 20, 23)),
    date(2026, 4, 6),
    date(2026, 5, 1),
    date(2026, 5, 4),
    date(2026, 5, 5),
    date(2026, 6, 19),
    date(2026, 9, 25),
    *(date(2026, 10, d) for d in (1, 2, 5, 6, 7)),
}
MAKE_UP_DAYS = {
    date(2026, 1, 4),
    date(2026, 2, 14),
    date(2026, 2, 28),
    date(2026, 5, 9),
    date(2026, 9, 20),
    date(2026, 10, 10),
}


def is_workday_2026(day: date) -> bool:
    """The hand-written 2026 calendar above."""
    return day in MAKE_UP_DAYS or (day.weekday() < 5 and day not in OFF_WEEKDAYS)


def at(month: int, day: int, hour: int = 9, minute: int = 0, year: int = 2026) -> datetime:
    """A local moment in Shanghai."""
    return datetime(year, month, day, hour, minute, tzinfo=SH)


@dataclass
class World:
    """A database with (part of) the 2026 register and bound people, and the planner's inputs."""

    sessionmaker: async_sessionmaker[AsyncSession]
    settings: Settings
    calendar: WorkCalendar
    tasks: dict[int, int]  # task no -> id
    units: dict[str, int]  # unit name -> id
    contacts: dict[str, Contact] = field(default_factory=dict)

    async def plan(self, moment: datetime) -> int:
        """One run of the planner at `moment`, in its own transaction."""
        async with self.sessionmaker() as session, session.begin():
            return await plan_reminders(
                now=moment, session=session, settings=self.settings, calendar=self.calendar
            )

    async def report(self, no: int, cycle_key: str, moment: datetime, unit: str = "发改局") -> None:
        """The unit's report on task `no` for `cycle_key`, stored at `moment`."""
        async with self.sessionmaker() as session, session.begin():
            session.add(
                Report(
                    task_id=self.tasks[no],
                    unit_id=self.units[unit],
                    cycle_key=cycle_key,
                    text="已按计划推进",
                    source_key=f"test:{next(_report_ids)}",
                    created_at=moment,
                )
            )

    async def add_contact(
        self,
        key: str,
        chat_id: int,
        role: Role,
        *,
        unit: str | None = None,
        leader: str | None = None,
        deputy: bool = False,
    ) -> Contact:
        """Bind a person directly in the database (as redeeming an invite would)."""
        async with self.sessionmaker() as session, session.begin():
            leader_id = None
            if leader is not None:
                leader_id = await session.scalar(select(Leader.id).where(Leader.name == leader))
            contact = Contact(
                tg_user_id=chat_id,
                chat_id=chat_id,
                name=key,
                role=role.value,
                unit_id=self.units[unit] if unit else None,
                leader_id=leader_id,
                deputy=deputy,
                created_at=at(1, 1, 0),
            )
            session.add(contact)
        self.contacts[key] = contact
        return contact

    async def steps(
        self, key: str, no: int, *, listed: bool = False
    ) -> list[tuple[date, str, str]]:
        """(day planned, step, cycle) of every item about task `no` for one contact, in order:
        the ladder's steps, or with `listed` the days it was listed beside other steps."""
        async with self.sessionmaker() as session:
            rows = (
                await session.execute(
                    select(OutboxMessage.created_at, OutboxItem.step, OutboxItem.cycle_key)
                    .join(OutboxMessage, OutboxMessage.id == OutboxItem.outbox_id)
                    .where(
                        OutboxItem.task_id == self.tasks[no],
                        OutboxItem.contact_id == self.contacts[key].id,
                    )
                    .order_by(OutboxItem.id)
                )
            ).all()
        return [
            (c.astimezone(SH).date(), step, cycle)
            for c, step, cycle in rows
            if step.startswith(STANDING) == listed
        ]

    async def messages(self, chat_id: int | None = None) -> list[OutboxMessage]:
        """Outbox messages (to one chat), in order."""
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        if chat_id is not None:
            query = query.where(OutboxMessage.chat_id == chat_id)
        async with self.sessionmaker() as session:
            return list((await session.scalars(query)).all())


LIAISON, DEPUTY, LEADER, OFFICE, ADMIN = 5001, 5002, 5100, 5200, 5300


async def make_world(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    imported_at: datetime,
    tasks: tuple[int, ...] | None = (1, 3, 6),
    people: bool = True,
    **settings: object,
) -> World:
    """Import the register (only `tasks`, or all 88 with None) and bind 发改局's people."""
    register = load_json(SEED)
    if tasks is not None:
        register = dataclasses.replace(
            register, tasks=tuple(t for t in register.tasks if t.no in tasks)
        )
    async with sessionmaker() as session, session.begin():
        await import_register(session, register, now=imported_at)
    async with sessionmaker() as session:
        task_ids = {
            no: id_
            for no, id_ in (
                await session.execute(select(Task.no, Task.id).where(Task.year == 2026))
            )
        }
        unit_ids = {n: i for n, i in await session.execute(select(Unit.name, Unit.id))}
    # These tests follow each escalation as a message of its own (the digest folds them in
    # by default: tests/test_summaries_job.py).
    settings = {"escalation_messages": True, **settings}
    world = World(
        sessionmaker,
        make_settings("sqlite+aiosqlite://", **settings),
        WorkCalendar(),
        task_ids,
        unit_ids,
    )
    if people:
        await world.add_contact("liaison", LIAISON, Role.LIAISON, unit="发改局")
        await world.add_contact("deputy", DEPUTY, Role.LIAISON, unit="发改局", deputy=True)
        await world.add_contact("leader", LEADER, Role.LEADER, leader="吴振强")
        await world.add_contact("office", OFFICE, Role.OFFICE)
        await world.add_contact("admin", ADMIN, Role.ADMIN)
    return world


def d(month: int, day: int) -> date:
    """A day of 2026."""
    return date(2026, month, day)


# Task 6 (发改局, monthly) for the liaison, by hand. Reports stop the ladder: January to July
# on the escalation day, the September cycle on 12 Oct, October's on the day before its
# deadline, November's on the deadline day; August's is never reported (chased until the
# September deadline passes), December's not before the year ends.
TASK6_LIAISON = [
    # January: the 25th is a Sunday, the deadline moves to Friday 23 Jan.
    (d(1, 20), "before", "2026-01"),
    (d(1, 22), "day_before", "2026-01"),
    (d(1, 23), "due", "2026-01"),
    (d(1, 26), "overdue-1", "2026-01"),
    (d(1, 27), "overdue-2", "2026-01"),
    (d(1, 28), "overdue-3", "2026-01"),
    # February: three workdays before Wed 25 Feb reach back over the Spring Festival to
    # Fri 13 Feb (the 24th, then Saturday 14 Feb, a make-up workday, then the 13th).
    (d(2, 13), "before", "2026-02"),
    (d(2, 24), "day_before", "2026-02"),
    (d(2, 25), "due", "2026-02"),
    (d(2, 26), "overdue-1", "2026-02"),
    (d(2, 27), "overdue-2", "2026-02"),
    (d(2, 28), "overdue-3", "2026-02"),  # Saturday, a make-up workday
    (d(3, 20), "before", "2026-03"),
    (d(3, 24), "day_before", "2026-03"),
    (d(3, 25), "due", "2026-03"),
    (d(3, 26), "overdue-1", "2026-03"),
    (d(3, 27), "overdue-2", "2026-03"),
    (d(3, 30), "overdue-3", "2026-03"),
    # April: Saturday the 25th moves to Friday 24 Apr.
    (d(4, 21), "before", "2026-04"),
    (d(4, 23), "day_before", "2026-04"),
    (d(4, 24), "due", "2026-04"),
    (d(4, 27), "overdue-1", "2026-04"),
    (d(4, 28), "overdue-2", "2026-04"),
    (d(4, 29), "overdue-3", "2026-04"),
    (d(5, 20), "before", "2026-05"),
    (d(5, 22), "day_before", "2026-05"),
    (d(5, 25), "due", "2026-05"),
    (d(5, 26), "overdue-1", "2026-05"),
    (d(5, 27), "overdue-2", "2026-05"),
    (d(5, 28), "overdue-3", "2026-05"),
    (d(6, 22), "before", "2026-06"),
    (d(6, 24), "day_before", "2026-06"),
    (d(6, 25), "due", "2026-06"),
    (d(6, 26), "overdue-1", "2026-06"),
    (d(6, 29), "overdue-2", "2026-06"),
    (d(6, 30), "overdue-3", "2026-06"),
    (d(7, 21), "before", "2026-07"),
    (d(7, 23), "day_before", "2026-07"),
    (d(7, 24), "due", "2026-07"),
    (d(7, 27), "overdue-1", "2026-07"),
    (d(7, 28), "overdue-2", "2026-07"),
    (d(7, 29), "overdue-3", "2026-07"),
    # August, never reported: every workday until September's deadline day.
    (d(8, 20), "before", "2026-08"),
    (d(8, 24), "day_before", "2026-08"),
    (d(8, 25), "due", "2026-08"),
    (d(8, 26), "overdue-1", "2026-08"),
    (d(8, 27), "overdue-2", "2026-08"),
    (d(8, 28), "overdue-3", "2026-08"),
    (d(8, 31), "overdue-4", "2026-08"),
    (d(9, 1), "overdue-5", "2026-08"),
    (d(9, 2), "overdue-6", "2026-08"),
    (d(9, 3), "overdue-7", "2026-08"),
    (d(9, 4), "overdue-8", "2026-08"),
    (d(9, 7), "overdue-9", "2026-08"),
    (d(9, 8), "overdue-10", "2026-08"),
    (d(9, 9), "overdue-11", "2026-08"),
    (d(9, 10), "overdue-12", "2026-08"),
    (d(9, 11), "overdue-13", "2026-08"),
    (d(9, 14), "overdue-14", "2026-08"),
    (d(9, 15), "overdue-15", "2026-08"),
    (d(9, 16), "overdue-16", "2026-08"),
    (d(9, 17), "overdue-17", "2026-08"),
    (d(9, 18), "overdue-18", "2026-08"),
    (d(9, 20), "overdue-19", "2026-08"),  # Sunday, a make-up workday
    # September: Friday the 25th is the Mid-Autumn Festival, the deadline is Thu 24 Sep.
    (d(9, 21), "overdue-20", "2026-08"),
    (d(9, 21), "before", "2026-09"),
    (d(9, 22), "overdue-21", "2026-08"),
    (d(9, 23), "overdue-22", "2026-08"),
    (d(9, 23), "day_before", "2026-09"),
    (d(9, 24), "overdue-23", "2026-08"),
    (d(9, 24), "due", "2026-09"),
    (d(9, 28), "overdue-1", "2026-09"),
    (d(9, 29), "overdue-2", "2026-09"),
    (d(9, 30), "overdue-3", "2026-09"),
    # National Day, 1-7 Oct: nothing.
    (d(10, 8), "overdue-4", "2026-09"),
    (d(10, 9), "overdue-5", "2026-09"),
    (d(10, 10), "overdue-6", "2026-09"),  # Saturday, a make-up workday
    (d(10, 12), "overdue-7", "2026-09"),
    # October: Sunday the 25th moves to Friday 23 Oct.
    (d(10, 20), "before", "2026-10"),
    (d(10, 22), "day_before", "2026-10"),
    (d(11, 20), "before", "2026-11"),
    (d(11, 24), "day_before", "2026-11"),
    (d(11, 25), "due", "2026-11"),
    (d(12, 22), "before", "2026-12"),
    (d(12, 24), "day_before", "2026-12"),
    (d(12, 25), "due", "2026-12"),
    (d(12, 28), "overdue-1", "2026-12"),
    (d(12, 29), "overdue-2", "2026-12"),
    (d(12, 30), "overdue-3", "2026-12"),
    (d(12, 31), "overdue-4", "2026-12"),
]

# Reports of task 6 by 发改局: (day, 10:00, cycle).
TASK6_REPORTS = {
    d(1, 28): "2026-01",
    d(2, 28): "2026-02",
    d(3, 30): "2026-03",
    d(4, 29): "2026-04",
    d(5, 28): "2026-05",
    d(6, 30): "2026-06",
    d(7, 29): "2026-07",
    d(10, 12): "2026-09",
    d(10, 22): "2026-10",
    d(11, 25): "2026-11",
}

# The escalation of task 6, once per unreported cycle, on its third overdue workday.
TASK6_ESCALATIONS = [
    (d(1, 28), "escalate", "2026-01"),
    (d(2, 28), "escalate", "2026-02"),
    (d(3, 30), "escalate", "2026-03"),
    (d(4, 29), "escalate", "2026-04"),
    (d(5, 28), "escalate", "2026-05"),
    (d(6, 30), "escalate", "2026-06"),
    (d(7, 29), "escalate", "2026-07"),
    (d(8, 28), "escalate", "2026-08"),
    (d(9, 30), "escalate", "2026-09"),
    (d(12, 30), "escalate", "2026-12"),
]


async def test_a_year_of_reminders_for_one_unit(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    world = await make_world(sessionmaker, imported_at=at(1, 1, 0))
    day = date(2026, 1, 1)
    while day.year == 2026:
        await world.plan(datetime.combine(day, time(8, 0), SH))  # before the reminder time
        await world.plan(datetime.combine(day, time(9, 0), SH))
        if day in TASK6_REPORTS:
            await world.report(6, TASK6_REPORTS[day], datetime.combine(day, time(10), SH))
        if day.day in (20, 23, 24, 25, 26, 28):
            # Later the same day (after reports, after deadlines) nothing more is due.
            assert await world.plan(datetime.combine(day, time(18, 0), SH)) == 0
        day += timedelta(days=1)

    assert await world.steps("liaison", 6) == TASK6_LIAISON
    assert await world.steps("deputy", 6) == TASK6_LIAISON
    # Listed beside tasks 1 and 3's steps, only once the liaison was told about it, never
    # after it was reported, and never on a day the cycle had a step of its own.
    own = {(day, cycle) for day, _, cycle in TASK6_LIAISON}
    listed = await world.steps("liaison", 6, listed=True)
    assert listed
    for day, step, cycle in listed:
        assert step == f"listed-{day.isoformat()}" and (day, cycle) not in own
        told = min(x for x, _, c in TASK6_LIAISON if c == cycle)
        assert told < day and not (cycle in TASK6_REPORTS.values() and day >= next(
            x for x, c in TASK6_REPORTS.items() if c == cycle))  # fmt: skip
    assert await world.steps("leader", 6) == TASK6_ESCALATIONS
    assert await world.steps("office", 6) == TASK6_ESCALATIONS

    messages = await world.messages()
    for m in messages:
        local = m.created_at.astimezone(SH)
        assert local.time() == time(9, 0), m.text
        assert is_workday_2026(local.date()), (local.date(), m.text)
    # The liaison hears something on 20, 22 and 23 Jan, then every workday (tasks 1 and 3
    # are never reported), in exactly one message per day however many tasks are due.
    liaison_days = [m.created_at.astimezone(SH).date() for m in messages if m.chat_id == LIAISON]
    expected_days = [d(1, 20), d(1, 22), d(1, 23)] + [
        d(1, 26) + timedelta(days=n)
        for n in range(340)
        if is_workday_2026(d(1, 26) + timedelta(days=n))
    ]
    assert liaison_days == expected_days
    assert d(9, 20) in liaison_days and d(10, 10) in liaison_days and d(2, 14) in liaison_days
    assert not {d(10, n) for n in range(1, 8)} & set(liaison_days)
    assert d(10, 25) not in liaison_days

    by_day = {m.created_at.astimezone(SH).date(): m for m in messages if m.chat_id == LIAISON}
    moved = by_day[d(10, 22)].text
    assert "第6项 " in moved and "10月，截止时间10月23日（周五）17:00，下一工作日截止：" in moved
    assert "第6项" not in by_day[d(10, 23)].text  # reported the day before
    make_up = by_day[d(10, 10)].text
    assert "9月，截止9月24日（周四），已逾期6个工作日：" in make_up
    assert "· 第6项 开展“项目巩固年”活动，滚动实…（此前另有1期未报）" in make_up
    # 吴振强 also leads tasks 1 and 3, never reported: one escalation message a month, on
    # the third overdue workday, naming task 6 only in the months it was still unreported.
    leader = {m.created_at.astimezone(SH).date(): m.text for m in messages if m.chat_id == LEADER}
    assert list(leader) == [
        d(1, 28),
        d(2, 28),
        d(3, 30),
        d(4, 29),
        d(5, 28),
        d(6, 30),
        d(7, 29),
        d(8, 28),
        d(9, 30),
        d(10, 28),
        d(11, 30),
        d(12, 30),
    ]
    for day, text in leader.items():
        assert ("发改局 第6项" in text) == (day not in (d(10, 28), d(11, 30))), day
        assert "发改局 第1项" in text and "发改局 第3项" in text


async def test_deadline_day_missed_while_down_gives_one_overdue_reminder(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    world = await make_world(sessionmaker, imported_at=at(3, 1, 0), tasks=(6,))
    await world.plan(at(3, 24, 9, 0))  # day before, then the bot is down all of the 25th
    assert await world.plan(at(3, 26, 9, 30)) == 2  # liaison and deputy; nothing escalated
    steps = await world.steps("liaison", 6)
    assert steps == [(d(3, 24), "day_before", "2026-03"), (d(3, 26), "overdue-1", "2026-03")]
    text = (await world.messages(LIAISON))[-1].text
    assert "已逾期1个工作日" in text and "今日截止" not in text
    assert await world.plan(at(3, 26, 9, 31)) == 0


async def test_escalation_missed_while_down_is_sent_once_with_todays_count(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    world = await make_world(sessionmaker, imported_at=at(3, 1, 0), tasks=(6,))
    await world.plan(at(3, 25, 9, 0))
    # Down from the 26th until 11:00 on 1 April, the fifth overdue workday (26, 27, 30, 31
    # March, 1 April): the escalation due on the 30th goes out now, once.
    await world.plan(at(4, 1, 11, 0))
    await world.plan(at(4, 1, 12, 0))
    await world.plan(at(4, 2, 9, 0))
    assert await world.steps("liaison", 6) == [
        (d(3, 25), "due", "2026-03"),
        (d(4, 1), "overdue-5", "2026-03"),
        (d(4, 2), "overdue-6", "2026-03"),
    ]
    assert await world.steps("leader", 6) == [(d(4, 1), "escalate", "2026-03")]
    assert await world.steps("office", 6) == [(d(4, 1), "escalate", "2026-03")]
    (escalation,) = await world.messages(LEADER)
    assert escalation.kind == "escalation"
    assert "发改局 第6项" in escalation.text
    assert "截止3月25日（周三），已逾期5个工作日" in escalation.text


async def test_running_twice_at_the_same_moment_adds_nothing(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    world = await make_world(sessionmaker, imported_at=at(3, 1, 0))
    moment = at(3, 30, 9, 0)
    first = await world.plan(moment)
    assert first == 4  # liaison, deputy (overdue-3), leader and office (escalation)
    rows = await world.messages()
    assert await world.plan(moment) == 0
    assert await world.plan(moment + timedelta(hours=8)) == 0
    assert [m.id for m in await world.messages()] == [m.id for m in rows]


async def test_several_tasks_merge_into_one_message_per_person(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    world = await make_world(sessionmaker, imported_at=at(3, 1, 0))
    await world.plan(at(3, 25, 9, 0))
    (main,) = await world.messages(LIAISON)
    (deputy,) = await world.messages(DEPUTY)
    assert main.kind == deputy.kind == "reminder"
    assert "发改局：您单位牵头的以下3项任务进展尚未报送。" in main.text
    for no in (1, 3, 6):
        assert f"· 第{no}项 " in main.text
    assert main.text.count("今日截止") == 1  # one title for the three tasks of one deadline
    assert main.text.count("直接回复本消息") == 1
    async with world.sessionmaker() as session:
        items = (
            await session.scalars(select(OutboxItem).where(OutboxItem.outbox_id == main.id))
        ).all()
    assert sorted((i.step, i.cycle_key) for i in items) == [("due", "2026-03")] * 3
    assert main.meta is not None and len(main.meta["lines"]) == 3


async def test_a_person_with_two_liaison_roles_gets_one_message(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    # Task 4 is led by 工信局, task 6 by 发改局; one person is liaison of both units.
    world = await make_world(sessionmaker, imported_at=at(3, 1, 0), tasks=(4, 6))
    await world.add_contact("industry", LIAISON, Role.LIAISON, unit="工信局")
    await world.plan(at(3, 25, 9, 0))
    (message,) = await world.messages(LIAISON)
    assert message.text.startswith("工信局、发改局：您单位牵头的以下2项任务进展尚未报送。")
    assert "· 第4项 " in message.text and "· 第6项 " in message.text
    assert await world.steps("liaison", 6) == [(d(3, 25), "due", "2026-03")]
    assert await world.steps("industry", 4) == [(d(3, 25), "due", "2026-03")]


async def test_office_escalation_splits_at_4096_characters(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    world = await make_world(sessionmaker, imported_at=at(3, 1, 0), tasks=None)
    await world.plan(at(3, 30, 9, 0))
    parts = await world.messages(OFFICE)
    assert len(parts) >= 3
    n = len(parts)
    for i, m in enumerate(parts, 1):
        assert m.kind == "escalation"
        assert len(m.text) <= 4096
        assert f"已按规定提请关注（分{n}条发送，此为第{i}条）：" in m.text
    async with world.sessionmaker() as session:
        items = (
            await session.scalars(
                select(OutboxItem).where(OutboxItem.contact_id == world.contacts["office"].id)
            )
        ).all()
    # One line per escalated obligation, each in exactly one part.
    lines = sum(m.text.count("\n· ") for m in parts)
    assert lines == len(items) == len({(i.task_id, i.unit_id) for i in items})
    assert Counter(i.step for i in items) == {"escalate": len(items)}
    assert sum("发改局 第6项" in m.text for m in parts) == 1


async def test_deadlines_before_the_register_was_imported_are_not_chased(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    # Imported on Monday 16 March: February's report (due 25 Feb) is not chased.
    world = await make_world(sessionmaker, imported_at=at(3, 16, 10, 0), tasks=(6,))
    for day in (16, 17, 18, 19):
        assert await world.plan(at(3, day, 10, 30)) == 0
    assert await world.plan(at(3, 20, 9, 0)) == 2
    assert await world.steps("liaison", 6) == [(d(3, 20), "before", "2026-03")]
    # Re-importing later does not move the start.
    register = load_json(SEED)
    async with world.sessionmaker() as session, session.begin():
        await import_register(session, register, now=at(4, 1, 0))
        state = await session.get(AppState, "register_imported:2026")
    assert state is not None and state.value["at"] == at(3, 16, 10, 0).isoformat()


async def test_a_report_stops_the_ladder_and_the_escalation(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    world = await make_world(sessionmaker, imported_at=at(3, 1, 0), tasks=(6,))
    await world.plan(at(3, 26, 9, 0))
    await world.report(6, "2026-03", at(3, 26, 15, 0))
    for day in (27, 30, 31):
        assert await world.plan(at(3, day, 9, 0)) == 0
    assert await world.steps("liaison", 6) == [(d(3, 26), "overdue-1", "2026-03")]
    assert await world.steps("leader", 6) == []


async def test_unreachable_and_revoked_contacts_are_not_planned_for(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    world = await make_world(sessionmaker, imported_at=at(3, 1, 0), tasks=(6,))
    async with world.sessionmaker() as session, session.begin():
        main = await session.get_one(Contact, world.contacts["liaison"].id)
        main.reachable = False
        office = await session.get_one(Contact, world.contacts["office"].id)
        office.active = False
    await world.plan(at(3, 30, 9, 0))
    assert await world.messages(LIAISON) == []
    assert await world.messages(OFFICE) == []
    assert len(await world.messages(DEPUTY)) == 1
    assert len(await world.messages(LEADER)) == 1


async def test_an_override_moves_the_deadline_and_reaches_the_running_calendar(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    world = await make_world(sessionmaker, imported_at=at(3, 1, 0), tasks=(6,))
    sync = OverrideSync()
    async with world.sessionmaker() as session, session.begin():
        session.add(
            CalendarOverride(day=d(3, 25), is_workday=False, note="停电", created_at=at(3, 1))
        )
    async with world.sessionmaker() as session:
        assert await sync.apply(session, world.calendar) is True
        assert await sync.apply(session, world.calendar) is False
    assert not world.calendar.is_workday(d(3, 25))
    await world.plan(at(3, 24, 9, 0))
    assert await world.steps("liaison", 6) == [(d(3, 24), "due", "2026-03")]
    # The admin clears it again: the statutory calendar applies.
    async with world.sessionmaker() as session, session.begin():
        row = await session.get_one(CalendarOverride, d(3, 25))
        await session.delete(row)
    async with world.sessionmaker() as session:
        assert await sync.apply(session, world.calendar) is True
    assert world.calendar.is_workday(d(3, 25))
    assert world.calendar.override(d(3, 25)) is None


async def test_an_unknown_year_warns_every_admin_once(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    world = await make_world(sessionmaker, imported_at=at(3, 1, 0), tasks=(6,))
    await world.add_contact("admin-2", 5301, Role.ADMIN)
    assert world.calendar.unknown_years == set()
    await world.plan(at(11, 30, 9, 0))
    assert await world.messages(ADMIN) == []
    # 2027 is past the library's data (it knows 2004-2026): from 1 December the planner looks
    # ahead to New Year's Day, in time for the admin to set the coming year's holidays; the
    # notice goes out in office hours, like the reminders.
    assert await world.plan(at(12, 1, 0, 0)) == 0
    assert await world.plan(at(12, 1, 9, 0)) == 4  # two admins; liaison and deputy (overdue)
    assert world.calendar.unknown_years == {2027}
    for chat in (ADMIN, 5301):
        (notice,) = await world.messages(chat)
        assert notice.kind == "notice"
        assert notice.text == texts.calendar_unknown_year(2027)
        assert "2027年法定节假日" in notice.text
        assert notice.dedup_key.startswith("calendar-unknown:2027:")
    # 2026 stays open in January until the office closes it: December is still chased.
    # Liaison and deputy (overdue), and the escalation to the leader and the office.
    assert await world.plan(at(1, 4, 9, 0, year=2027)) == 4
    newest = (await world.messages(LIAISON))[-1]
    assert "12月" in newest.text and "已逾期" in newest.text
    async with world.sessionmaker() as session, session.begin():
        assert await years.close_year(session, 2026, at(1, 4, 10, 0, year=2027), by="test")
    # A restart forgets the calendar's memory, not the database's.
    world.calendar = WorkCalendar()
    assert await world.plan(at(1, 5, 9, 0, year=2027)) == 0
    async with world.sessionmaker() as session:
        state = await session.get(AppState, "calendar_warned:2027")
    assert state is not None
    assert len(await world.messages(ADMIN)) == 1


async def test_an_unknown_year_waits_for_an_admin(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    world = await make_world(sessionmaker, imported_at=at(3, 1, 0), tasks=(6,), people=False)
    assert await world.plan(at(1, 4, 9, 0, year=2027)) == 0
    await world.add_contact("admin", ADMIN, Role.ADMIN)
    assert await world.plan(at(1, 4, 9, 1, year=2027)) == 1
    assert await world.plan(at(1, 4, 9, 2, year=2027)) == 0


async def test_the_reminder_list_changes_only_when_something_changed(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """March of task 6 is overdue all April (a reminder every workday); April's three tasks are
    announced on 21 April. From then on every reminder lists all the unit still owes — on the
    22nd too, when only March's step is due — until a report takes a task off."""
    world = await make_world(sessionmaker, imported_at=at(3, 1, 0))
    for no in (1, 3):
        await world.report(no, "2026-03", at(3, 20, 10))
    day = date(2026, 4, 1)
    while day <= date(2026, 4, 24):
        await world.plan(datetime.combine(day, time(9, 0), SH))
        if day == date(2026, 4, 23):
            await world.report(3, "2026-04", at(4, 23, 10))
        day += timedelta(days=1)

    def listed(message: OutboxMessage) -> list[int]:
        return [int(n) for n in re.findall(r"(?:^· |牵头的)第(\d+)项", message.text, re.M)]

    by_day = {
        m.created_at.astimezone(SH).date(): m for m in await world.messages(LIAISON)
    }  # one message a day
    assert listed(by_day[date(2026, 4, 20)]) == [6]  # before April's first notice
    assert listed(by_day[date(2026, 4, 21)]) == [6, 1, 3]  # 6 owes March and April: one line
    assert listed(by_day[date(2026, 4, 22)]) == [6, 1, 3]  # only March's step is due today
    assert "4月，截止时间4月24日（周五）17:00，请提前准备：" in by_day[date(2026, 4, 22)].text
    assert listed(by_day[date(2026, 4, 23)]) == [6, 1, 3]
    assert listed(by_day[date(2026, 4, 24)]) == [6, 1]  # 3 was reported on the 23rd
    # Nothing is sent on a day with no step due at all, and a second run adds nothing.
    assert await world.plan(at(4, 24, 15)) == 0


async def test_a_task_added_later_the_same_day_is_reminded_without_relisting_the_others(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """On 22 April task 6's March step lists tasks 1 and 3 beside it; a task imported for 发改局
    at 10:00 is reminded at 10:05 on its own: the others were listed today already (their
    listing is recorded once a day, so listing them again would break the planner)."""
    world = await make_world(sessionmaker, imported_at=at(3, 1, 0))
    for no in (1, 3):
        await world.report(no, "2026-03", at(3, 20, 10))
    for day in (21, 22):
        await world.plan(at(4, day))
    register = load_json(SEED)
    extra = dataclasses.replace(
        register, tasks=tuple(t for t in register.tasks if t.no in (1, 3, 5, 6))
    )
    async with sessionmaker() as session, session.begin():
        await import_register(session, extra, now=at(4, 22, 10))
    async with sessionmaker() as session:
        added = await session.scalar(select(Task.id).where(Task.no == 5))
    assert added is not None
    assert await world.plan(at(4, 22, 10, 5)) == 4  # liaison, deputy; leader, office (escalation)
    latest = (await world.messages(LIAISON))[-1]
    assert re.findall(r"第(\d+)项", latest.text) == ["5"]
