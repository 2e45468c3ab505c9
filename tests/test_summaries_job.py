"""The daily summary job, called directly with a fixed `now` on SQLite and PostgreSQL.

2026 calendar: Fri 27 March and Mon 30 March are workdays, Sat 28 March is not; Sun 20 September
is a make-up workday (调休) before the Mid-Autumn holiday, Fri 18 September the workday before it.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.domain.summaries import circular_due, previous_summary, summary_due
from bot.domain.workcal import WorkCalendar
from db.models import Contact, Leader, OutboxMessage, Report, Task, TaskUnit, Unit, WorkGroup
from jobs.summaries import send_daily_summaries
from tests.harness import import_seed, make_settings

SH = ZoneInfo("Asia/Shanghai")
CAL = WorkCalendar()
# The charts (tests/test_charts.py; here in the first test) take a renderer process each run.
SETTINGS = Settings(_env_file=None, bot_token="1:x", digest_charts=False)
IMPORTED = datetime(2026, 3, 16, 10, 0, tzinfo=SH)
FRIDAY = datetime(2026, 3, 27, 8, 30, tzinfo=SH)

Maker = async_sessionmaker[AsyncSession]


async def setup(sessionmaker: Maker, *, group: bool = True) -> dict[str, int]:
    """The register, two leaders (one unreachable), one office account, a work group."""
    await import_seed(sessionmaker, IMPORTED)
    async with sessionmaker() as s, s.begin():
        leaders = {n: i for i, n in (await s.execute(select(Leader.id, Leader.name))).all()}
        people = [
            ("leader", leaders["吴振强"], True, 11),
            ("leader", leaders["周全"], False, 12),  # blocked the bot
            ("office", None, True, 13),
        ]
        ids = {}
        for role, leader_id, reachable, chat in people:
            contact = Contact(
                tg_user_id=chat,
                chat_id=chat,
                name=f"c{chat}",
                role=role,
                leader_id=leader_id,
                reachable=reachable,
                created_at=IMPORTED,
            )
            s.add(contact)
            await s.flush()
            ids[f"{role}:{chat}"] = contact.id
        if group:
            s.add(WorkGroup(chat_id=-100, title="督办工作群", registered_at=IMPORTED))
    return ids


async def run(sessionmaker: Maker, now: datetime, settings: Settings = SETTINGS) -> int:
    async with sessionmaker() as s, s.begin():
        return await send_daily_summaries(now=now, session=s, settings=settings, calendar=CAL)


async def outbox(sessionmaker: Maker) -> list[OutboxMessage]:
    async with sessionmaker() as s:
        return list((await s.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all())


async def report(sessionmaker: Maker, no: int, unit: str, at: datetime, **kw: Any) -> None:
    async with sessionmaker() as s, s.begin():
        task_id = await s.scalar(select(Task.id).where(Task.no == no))
        unit_id = await s.scalar(select(Unit.id).where(Unit.name == unit))
        assert task_id is not None and unit_id is not None
        s.add(
            Report(
                task_id=task_id,
                unit_id=unit_id,
                cycle_key=kw.pop("cycle_key", "2026-03"),
                text=kw.pop("text", "进展顺利"),
                source_key=f"t:{no}:{unit}:{at.isoformat()}",
                created_at=at,
                **kw,
            )
        )


async def test_workday_sends_each_leader_office_and_group_once(sessionmaker: Maker) -> None:
    ids = await setup(sessionmaker)
    await report(
        sessionmaker, 6, "发改局", datetime(2026, 3, 26, 9, 0, tzinfo=SH), text="投资320亿元"
    )
    await report(
        sessionmaker, 3, "发改局", datetime(2026, 3, 26, 8, 0, tzinfo=SH), text="早于上次摘要"
    )
    # The 通报 on Fridays in this test (by default: Mondays and after each deadline).
    settings = SETTINGS.model_copy(update={"circular_weekday": 4, "digest_charts": True})
    assert await run(sessionmaker, FRIDAY, settings) == 5
    sent = await outbox(sessionmaker)
    by_key = {m.dedup_key: m for m in sent}
    assert set(by_key) == {
        f"summary:{ids['leader:11']}:2026-03-27",
        f"summary:{ids['leader:11']}:2026-03-27:chart",
        f"summary:{ids['office:13']}:2026-03-27",
        f"summary:{ids['office:13']}:2026-03-27:chart",
        "circular:-100:2026-03-27",
    }
    # Each digest's chart right after it: a PNG kept in the row, sent as a photo.
    for who, caption in (("leader:11", "分管任务进展图（吴振强，3月27日（周五））"),
                         ("office:13", "全市任务红黄绿灯图（3月27日（周五））")):  # fmt: skip
        text, chart = (
            by_key[f"summary:{ids[who]}:2026-03-27"],
            by_key[f"summary:{ids[who]}:2026-03-27:chart"],
        )
        assert chart.id == text.id + 1 and chart.chat_id == text.chat_id
        assert (chart.kind, chart.text) == ("chart", caption)
        assert chart.document is not None and chart.document["photo"] is True
        assert bytes.fromhex(chart.document["hex"])[:8] == b"\x89PNG\r\n\x1a\n"
    leader = by_key[f"summary:{ids['leader:11']}:2026-03-27"]
    assert (leader.kind, leader.chat_id) == ("summary", 11)
    assert "分管任务进展摘要</b>（吴振强，3月27日（周五））" in leader.text
    assert "分管任务24项" in leader.text
    assert "<b>🔴红灯</b>（22项）" in leader.text
    # Since the previous workday's summary (Thu 26 March 08:30): the 09:00 report, not the 08:00.
    assert "新报送</b>（3月26日（周四）08:30以来1条）" in leader.text
    assert "第6项 发改局：投资320亿元" in leader.text
    assert "早于上次摘要" not in leader.text
    office = by_key[f"summary:{ids['office:13']}:2026-03-27"]
    assert "全市重点任务进展摘要" in office.text and "全市任务88项" in office.text
    circular = by_key["circular:-100:2026-03-27"]
    assert circular.kind == "circular"
    assert "重点任务进展逾期未报通报" in circular.text
    assert "1. 工信局：第4、15、23" in circular.text
    assert "发改局：第1、5、13、16、29" in circular.text  # 3 and 6 were reported
    assert all(len(m.text) <= 4096 for m in sent)

    # A second tick, or a restart, the same day writes (and draws) nothing more.
    assert await run(sessionmaker, FRIDAY.replace(hour=9), settings) == 0
    assert len(await outbox(sessionmaker)) == 5


async def test_digest_charts_off(sessionmaker: Maker) -> None:
    await setup(sessionmaker)
    assert not SETTINGS.digest_charts
    assert await run(sessionmaker, datetime(2026, 3, 20, 8, 30, tzinfo=SH)) == 2
    assert [m.kind for m in await outbox(sessionmaker)] == ["summary", "summary"]
    assert Settings(_env_file=None, bot_token="1:x").digest_charts  # on by default


@pytest.mark.parametrize(
    ("now", "due"),
    [
        (datetime(2026, 3, 28, 8, 30, tzinfo=SH), False),  # Saturday
        (datetime(2026, 3, 29, 9, 0, tzinfo=SH), False),  # Sunday
        (datetime(2026, 4, 5, 8, 30, tzinfo=SH), False),  # Qingming holiday (Sunday)
        (datetime(2026, 4, 6, 8, 30, tzinfo=SH), False),  # Qingming holiday (Monday off)
        (datetime(2026, 9, 20, 8, 30, tzinfo=SH), True),  # make-up Sunday
        (datetime(2026, 3, 27, 8, 29, tzinfo=SH), False),  # before summary_time
        (datetime(2026, 3, 27, 11, 59, tzinfo=SH), True),  # caught up after a restart
        (datetime(2026, 3, 27, 12, 0, tzinfo=SH), False),  # too late in the day
    ],
)
def test_summary_due(now: datetime, due: bool) -> None:
    assert summary_due(now, SETTINGS, CAL) is due


async def test_weekend_sends_nothing(sessionmaker: Maker) -> None:
    await setup(sessionmaker)
    assert await run(sessionmaker, datetime(2026, 3, 28, 8, 30, tzinfo=SH)) == 0
    assert await outbox(sessionmaker) == []


async def test_make_up_workday_sends_with_reports_since_the_previous_workday(
    sessionmaker: Maker,
) -> None:
    ids = await setup(sessionmaker)
    sunday = datetime(2026, 9, 20, 8, 30, tzinfo=SH)
    assert previous_summary(sunday, SETTINGS, CAL) == datetime(2026, 9, 18, 8, 30, tzinfo=SH)
    await report(
        sessionmaker,
        6,
        "发改局",
        datetime(2026, 9, 19, 10, 0, tzinfo=SH),  # a Saturday: still since the last summary
        cycle_key="2026-09",
        text="周六报送",
    )
    assert await run(sessionmaker, sunday) >= 2
    sent = {m.dedup_key: m for m in await outbox(sessionmaker)}
    leader = sent[f"summary:{ids['leader:11']}:2026-09-20"]
    assert "9月20日（周日）" in leader.text
    assert "第6项 发改局：周六报送" in leader.text
    assert "9月18日（周五）08:30以来1条" in leader.text


async def test_monday_counts_from_friday(sessionmaker: Maker) -> None:
    monday = datetime(2026, 3, 30, 8, 30, tzinfo=SH)
    assert previous_summary(monday, SETTINGS, CAL) == FRIDAY


async def test_no_group_circular_when_nothing_is_overdue(sessionmaker: Maker) -> None:
    await setup(sessionmaker)
    # 20 March: the March deadline has not passed and February was never chased.
    assert await run(sessionmaker, datetime(2026, 3, 20, 8, 30, tzinfo=SH)) == 2
    kinds = sorted(m.kind for m in await outbox(sessionmaker))
    assert kinds == ["summary", "summary"]


async def test_other_summary_time(sessionmaker: Maker) -> None:
    await setup(sessionmaker, group=False)
    settings = SETTINGS.model_copy(update={"summary_time": time(9, 15)})
    assert await run(sessionmaker, FRIDAY, settings) == 0
    assert await run(sessionmaker, FRIDAY.replace(hour=9, minute=15), settings) == 2
    assert await run(sessionmaker, FRIDAY.replace(hour=10), settings) == 0


def test_the_group_circular_is_weekly_and_after_deadlines() -> None:
    """Mondays (the week's first workday when Monday is off) and the first workday after a
    monthly deadline; a setting for each."""
    settings = make_settings("sqlite+aiosqlite://")
    cal = WorkCalendar()
    deadlines = [date(2026, 9, 16), date(2026, 10, 23)]
    days = [
        d
        for d in (date(2026, 9, 14) + timedelta(days=i) for i in range(45))
        if circular_due(d, settings, cal, deadlines)
    ]
    # Mondays 9-14, 9-21, 9-28; 9-17 after the 16th; 10-1..7 off, so 10-8 is that week's first
    # workday; 10-12, 10-19; 10-26 is a Monday and the first workday after the 23rd.
    assert days == [
        date(2026, 9, 14),
        date(2026, 9, 17),
        date(2026, 9, 21),
        date(2026, 9, 28),
        date(2026, 10, 8),
        date(2026, 10, 12),
        date(2026, 10, 19),
        date(2026, 10, 26),
    ]
    never = settings.model_copy(update={"circular_weekday": -1, "circular_after_deadlines": False})
    assert not any(circular_due(d, never, cal, deadlines) for d in days)


async def test_escalations_are_folded_into_the_digest(sessionmaker: Maker) -> None:
    """On the third workday after the deadline, the office's and the leader's digests name the
    units overdue by unit with counts; no escalation message of its own is planned."""
    ids = await setup(sessionmaker)
    monday = datetime(2026, 3, 30, 8, 30, tzinfo=SH)  # 3-25 + 26, 27, 30: three workdays
    await run(sessionmaker, monday)
    by_key = {m.dedup_key: m for m in await outbox(sessionmaker)}
    office = by_key[f"summary:{ids['office:13']}:2026-03-30"].text
    assert re.search(r"提请关注</b>（逾期3个工作日以上，\d+个单位·\d+项）", office)
    assert "发送 /overdue 查看全部" in office
    assert "· 发改局 " in office and "逾期3个工作日" in office
    assert len(office.split("\n")) <= 25
    leader = by_key[f"summary:{ids['leader:11']}:2026-03-30"].text
    assert "提请关注" in leader  # 吴振强's tasks are among them
    assert "circular:-100:2026-03-30" in by_key  # a Monday: the 通报 goes to the group
    assert not any(m.kind == "escalation" for m in by_key.values())
    from jobs.reminders import plan_reminders

    async with sessionmaker() as s, s.begin():
        await plan_reminders(
            now=datetime(2026, 3, 30, 9, 0, tzinfo=SH), session=s, settings=SETTINGS, calendar=CAL
        )
    assert not any(m.kind == "escalation" for m in await outbox(sessionmaker))


async def test_the_next_digest_says_what_changed_first_and_stays_short(
    sessionmaker: Maker,
) -> None:
    ids = await setup(sessionmaker)
    key = f"summary:{ids['leader:11']}"
    assert await run(sessionmaker, FRIDAY) >= 2
    first = {m.dedup_key: m.text for m in await outbox(sessionmaker)}[f"{key}:2026-03-27"]
    assert "较上次摘要变化" not in first  # nothing to compare with yet

    # Friday afternoon every lead unit of task 6 reports it done: red → 已完成 on Monday.
    async with sessionmaker() as s:
        leads = list(
            await s.scalars(
                select(Unit.name)
                .join(TaskUnit, TaskUnit.unit_id == Unit.id)
                .join(Task, Task.id == TaskUnit.task_id)
                .where(Task.no == 6, TaskUnit.role == "lead")
            )
        )
    for unit in leads:
        at = datetime(2026, 3, 27, 15, 0, tzinfo=SH)
        await report(sessionmaker, 6, unit, at, text="已全部完成", percent=100)
    monday = datetime(2026, 3, 30, 8, 30, tzinfo=SH)
    assert await run(sessionmaker, monday) >= 2
    second = {m.dedup_key: m.text for m in await outbox(sessionmaker)}[f"{key}:2026-03-30"]
    lines = second.split("\n")
    assert len(lines) <= 25, second
    changes = lines.index("<b>较上次摘要变化</b>")
    assert changes == 4  # title, counts, overdue, blank line: the changes come first
    assert "· 第6项：🔴红灯→✅已完成" in lines
    assert "新增逾期未报" not in second  # nothing fell due over the weekend
    # The red list gives each task one short reason, and names the tasks it leaves out.
    red = lines.index(next(x for x in lines if x.startswith("<b>🔴红灯</b>")))
    assert lines[red + 1].startswith("· 第") and "逾期" in lines[red + 1]
    assert any(x.startswith("· 另有第") for x in lines[red:])
