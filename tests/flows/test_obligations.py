"""What the bot says people owe, through the real bot, over months of 2026 and into January:
a completed part is never chased, a missed month stays on the record, 催办 only for what is owed
now, the year stays open until the office closes it, and each role is told only its own
commands (issue 17's observations, each reproduced here)."""

from __future__ import annotations

from datetime import datetime
from io import BytesIO

from openpyxl import load_workbook

from bot import texts
from bot.domain.roles import Role
from bot.emulator import Person
from bot.runtime.scheduling import run_planning
from db.models import Nudge
from handlers.base import encode
from tests.flows.conftest import SHANGHAI
from tests.flows.test_office import buttons, ids, insert_report
from tests.flows.test_reminders import drain, sender_of
from tests.harness import Harness


def at(month: int, day: int, hour: int = 9, minute: int = 0, year: int = 2026) -> datetime:
    """A moment in Shanghai."""
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


async def plan_and_send(h: Harness, moment: datetime) -> None:
    """The planning job at `moment`, then the outbox delivered."""
    h.clock.set(moment)
    assert h.runtime.services is not None
    await run_planning(h.runtime.services, sender_of(h))
    await drain(h)


async def newest(h: Harness, who: Person) -> str:
    """The newest message the bot sent this person."""
    return (await h.people.bot_messages(who.id))[-1].plain or ""


async def test_a_completed_part_is_not_reminded_or_listed_as_unreported(h: Harness) -> None:
    zjj = await h.bound("住建局联络员", Role.LIAISON, unit="住建局")
    # 住建局 reports 第73项 at 100% in March; nothing more is owed on it.
    await insert_report(h, 73, "住建局", at(3, 20), percent=100.0, text="已全部完成")
    h.clock.set(at(12, 22, 10))
    tasks_page = (await h.command(zjj, "tasks")).plain or ""
    line = next(x for x in tasks_page.splitlines() if "第73项" in x)
    assert "已完成" in line and "未报" not in line
    await plan_and_send(h, at(12, 22))
    await plan_and_send(h, at(12, 24))
    reminders = [m.plain or "" for m in await h.people.bot_messages(zjj.id)]
    assert reminders, "住建局 leads other tasks and is reminded about them"
    assert not any("第73项" in m for m in reminders if "尚未报送" in m)
    office = await h.bound("督导办", Role.OFFICE)
    card = (await h.command(office, "task", "73")).plain or ""
    assert "✅本单位已完成" in card


async def test_each_lead_unit_of_a_multi_lead_task_completes_its_own_part(h: Harness) -> None:
    office = await h.bound("督导办", Role.OFFICE)
    await h.bound("发改局联络员", Role.LIAISON, unit="发改局")
    await h.bound("工信局联络员", Role.LIAISON, unit="工信局")
    # 第47项 has two lead units: 发改局 finished its part in April, 工信局 has not.
    await insert_report(h, 47, "发改局", at(4, 10), percent=100.0, cycle_key="2026-04")
    await insert_report(h, 47, "工信局", at(4, 10), percent=60.0, cycle_key="2026-04")
    h.clock.set(at(12, 1, 10))
    fgj = (await h.command(office, "overdue", "发改局")).plain or ""
    gxj = (await h.command(office, "overdue", "工信局")).plain or ""
    assert "第47项" not in fgj
    assert "第47项" in gxj  # November missed by 工信局
    card = await h.command(office, "task", "47")
    body = card.plain or ""
    assert "发改局（牵头）" in body and "✅本单位已完成" in body
    assert "催办 第47项 发改局" not in buttons(card)
    export = await h.command(office, "export")
    assert export.document is not None and export.document.data is not None
    sheet = load_workbook(BytesIO(export.document.data), read_only=True).active
    assert sheet is not None
    row = next(r for r in sheet.iter_rows(values_only=True) if r and r[0] == 47)
    status = str(row[texts.LEDGER_HEADERS.index("状态")])
    # Red for 工信局's missed November, never for 发改局, whose part is done.
    assert "工信局11月进展逾期" in status and "发改局" not in status


async def test_no_nudge_for_a_report_not_yet_due(h: Harness) -> None:
    office = await h.bound("督导办", Role.OFFICE)
    await h.bound("发改局联络员", Role.LIAISON, unit="发改局")
    await insert_report(h, 6, "发改局", at(4, 20), cycle_key="2026-04")
    tasks, units = await ids(h)
    # 4 May: April reported, May's report is due 25 May and its reminders begin 20 May.
    h.clock.set(at(5, 4, 10))
    card = await h.command(office, "task", "6")
    assert not any(b.startswith("催办") for b in buttons(card))
    answer = await h.press_data(
        office, card.message_id, encode("ovn", tasks[6], units["发改局"], "c")
    )
    assert answer == "发改局本期进展已报送，无需催办。"
    assert await h.rows(Nudge) == []
    # From 20 May (three workdays before the deadline) May's report may be urged.
    h.clock.set(at(5, 20, 10))
    card = await h.command(office, "task", "6")
    assert "催办 第6项 发改局" in buttons(card)


async def test_a_missed_month_stays_on_the_record(h: Harness) -> None:
    office = await h.bound("督导办", Role.OFFICE)
    fgj = await h.bound("发改局联络员", Role.LIAISON, unit="发改局")
    # 发改局 files nothing for March or April; on 27 April both are missed.
    await plan_and_send(h, at(4, 27))
    reminder = await newest(h, fgj)
    assert "4月" in reminder and "此前另有1期未报送" in reminder
    page = (await h.command(office, "overdue", "发改局")).plain or ""
    assert "4月进展" in page and "（此前另有1期未报）" in page
    units = (await h.command(office, "units")).plain or ""
    line = next(x for x in units.splitlines() if x.startswith("· 发改局"))
    assert "全年报送率0%" in line and "缺报28项次" in line  # 14 tasks × March and April
    card = (await h.command(office, "task", "6")).plain or ""
    assert "4月逾期未报（此前另有1期未报）" in card


async def test_january_still_serves_the_open_year_until_the_office_closes_it(
    h: Harness,
) -> None:
    office = await h.bound("督导办", Role.OFFICE)
    await h.bound("发改局联络员", Role.LIAISON, unit="发改局")
    h.clock.set(at(1, 24, 10, year=2027))
    overdue = (await h.command(office, "overdue")).plain or ""
    assert overdue.startswith("2026年度逾期未报事项")
    assert "12月已逾期" in overdue and "均已按期报送" not in overdue
    card = (await h.command(office, "task", "6")).plain or ""
    assert card.startswith("第6项任务")
    summary = (await h.command(office, "summary")).plain or ""
    assert "（2026年度）" in summary and "如有疑问请联系市大督导办" not in summary
    export = await h.command(office, "export")
    assert export.document is not None and "2026年" in (export.plain or "")

    # The office closes 2026: the working year is 2027 (no register yet), 2026 stays readable.
    ask = await h.command(office, "closeyear", "2026")
    answer, done = await h.press(office, ask, texts.CLOSE_YEAR_BUTTON.format(year=2026))
    assert answer is None or "结束" not in answer
    assert "2026年度督办已结束" in (done.plain or "")
    assert (await h.command(office, "task", "6")).plain == texts.task_not_found(6, 2027)
    old = (await h.command(office, "task", "2026-6")).plain or ""
    assert old.startswith("第6项任务")
    old_export = await h.command(office, "export", "2026")
    assert old_export.document is not None
    again = await h.command(office, "closeyear", "2026")
    answer = await h.press_data(office, again.message_id, encode("cy", 2026))
    assert answer == texts.year_not_closable(2026)


async def test_each_role_is_told_only_its_own_commands(h: Harness) -> None:
    office = await h.bound("督导办", Role.OFFICE)
    admin = await h.bound("管理员", Role.ADMIN)
    leader = await h.bound("吴振强", Role.LEADER, leader="吴振强")
    liaison = await h.bound("发改局联络员", Role.LIAISON, unit="发改局")
    h.clock.set(at(3, 27, 10))
    for who in (office, admin, leader):
        hint = (await h.say(who, "你好，请问怎么用")).plain or ""
        assert "/report" not in hint and "/tasks" not in hint, hint
        assert "/help" in hint
    assert (await h.say(liaison, "你好")).plain == texts.TEXT_HINT
    admin_help = (await h.command(admin, "help")).plain or ""
    for name in ("/invite", "/contacts", "/units", "/export"):
        assert name in admin_help
    assert "/overdue" not in admin_help and "/report" not in admin_help
    leader_help = (await h.command(leader, "help")).plain or ""
    assert "/summary" in leader_help and "/export" not in leader_help
    office_hint = (await h.say(office, "在吗")).plain or ""
    assert "/overdue" in office_hint and "/closeyear" in office_hint
