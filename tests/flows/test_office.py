"""What the office and the leaders see, through the real bot: /overdue and 催办, /task, /units,
/summary, /export, and the daily summary and 通报 delivered by the outbox.

A month of reports: the register is imported on Mon 16 March; liaisons report through /report,
by replying to a nudge, or (for volume) straight into the database; the clock then moves to
Fri 27 March 10:00, two workdays after the March deadline (Wed 25 March 17:00).
"""

from __future__ import annotations

import asyncio
import json
import re
from datetime import date, datetime, timedelta
from io import BytesIO
from typing import Any

from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import texts
from bot.domain.roles import Role
from bot.emulator import Person, TranscriptMessage
from bot.runtime.scheduling import run_summaries
from db.models import AuditEntry, Contact, Nudge, OutboxMessage, Report, Task, Unit
from handlers.base import decode, encode
from tests.flows.conftest import SHANGHAI, START
from tests.harness import SEED, Harness, start_harness, stop_harness

MAR27 = datetime(2026, 3, 27, 10, 0, tzinfo=SHANGHAI)
REPLY = "已完成投资320亿元，预计6月底前完成竣工验收，用地指标需协调"


async def ids(h: Harness) -> tuple[dict[int, int], dict[str, int]]:
    async with h.sessionmaker() as s:
        tasks = {no: i for i, no in (await s.execute(select(Task.id, Task.no))).all()}
        units = {n: i for i, n in (await s.execute(select(Unit.id, Unit.name))).all()}
    return tasks, units


async def insert_report(h: Harness, no: int, unit: str, at: datetime, **kw: Any) -> None:
    """A confirmed report stored directly (the month's volume, without typing each one)."""
    tasks, units = await ids(h)
    async with h.sessionmaker() as s, s.begin():
        s.add(
            Report(
                task_id=tasks[no],
                unit_id=units[unit],
                cycle_key=kw.pop("cycle_key", "2026-03"),
                text=kw.pop("text", f"第{no}项按计划推进"),
                source_key=f"flow:{no}:{unit}:{at.isoformat()}",
                created_at=at,
                **kw,
            )
        )


async def report_via_bot(h: Harness, who: Person, no: int, text: str = REPLY) -> None:
    """/report, pick task `no`, write, confirm."""
    picker = await h.command(who, "report")
    label = f"第{no}项 "
    while not any(b.text.startswith(label) for row in picker.buttons for b in row):
        _, picker = await h.press(who, picker, texts.NEXT_PAGE)
    button = next(b.text for row in picker.buttons for b in row if b.text.startswith(label))
    await h.press(who, picker, button)
    card = await h.say(who, text)
    answer, _ = await h.press(who, card, "确认提交")
    assert answer == "已提交"


async def a_month(h: Harness) -> dict[str, Person]:
    """People bound on 16 March, reports through the month, the clock at 27 March 10:00."""
    people = {
        "office": await h.bound("督导办甲", Role.OFFICE),
        "leader": await h.bound("吴振强", Role.LEADER, leader="吴振强"),
        "fgj": await h.bound("发改局联络员", Role.LIAISON, unit="发改局"),
        "gxj": await h.bound("工信局联络员", Role.LIAISON, unit="工信局"),
    }
    await report_via_bot(h, people["fgj"], 6)
    h.clock.set(datetime(2026, 3, 20, 15, 0, tzinfo=SHANGHAI))
    for no in (4, 15, 23):
        await insert_report(h, no, "工信局", h.clock.now(), percent=20.0)
    h.clock.set(datetime(2026, 3, 24, 11, 0, tzinfo=SHANGHAI))
    await insert_report(h, 1, "发改局", h.clock.now(), text="一季度地区生产总值预计增长5.1%")
    h.clock.set(MAR27)
    return people


def buttons(message: TranscriptMessage) -> list[str]:
    return [b.text for row in message.buttons for b in row]


def check_limits(message: TranscriptMessage) -> None:
    """Within Telegram's limits: text, number of buttons, callback data."""
    assert len(message.text or "") <= 4096
    assert len(buttons(message)) <= 100
    for data in message.button_data:
        assert len(data.encode("utf-8")) <= 64
        assert decode(data) is not None


def rows_of(text: str) -> list[str]:
    """The task lines of an /overdue page."""
    return [line for line in text.splitlines() if line.startswith("· 第")]


async def all_pages(h: Harness, who: Person, first: TranscriptMessage) -> list[str]:
    """Every page's text, pressing 下一页 until the last."""
    pages = [first.plain or ""]
    message = first
    while texts.NEXT_PAGE in buttons(message):
        _, message = await h.press(who, message, texts.NEXT_PAGE)
        check_limits(message)
        pages.append(message.plain or "")
    return pages


# --- /overdue and 催办 --------------------------------------------------------------------------


async def test_overdue_filters_by_kind_of_unit_and_by_how_long(h: Harness) -> None:
    people = await a_month(h)
    office = people["office"]
    first = await h.command(office, "overdue")
    kinds = ["市直部门", "乡镇街道", "开发区", "企业"]
    assert buttons(first)[-5:] == [*kinds, "只看逾期3个工作日以上"]
    # Towns and streets only: every unit listed is one, and the count is theirs.
    _, towns = await h.press(office, first, "乡镇街道")
    check_limits(towns)
    body = towns.plain or ""
    assert "（筛选：乡镇街道）" in body
    names = re.findall(r"^\d+\. (\S+?)　\d+项", body, re.M)
    assert names and all(re.search(r"(镇|乡|街道)$", n) for n in names)
    assert "✓乡镇街道" in buttons(towns)
    # Pressed again: every kind again.
    _, again = await h.press(office, towns, "✓乡镇街道")
    assert "筛选" not in (again.plain or "").split("\n")[0]
    # On 27 March the March reports are two workdays late: nothing is three yet.
    _, late = await h.press(office, again, "只看逾期3个工作日以上")
    assert "「逾期3个工作日以上」目前没有待报送的逾期事项" in (late.plain or "")
    assert "显示全部逾期" in buttons(late)
    # Typed, the same filters; a kind and a status together.
    typed = await h.command(office, "overdue", "市直部门")
    assert "（筛选：市直部门）" in (typed.plain or "")
    assert not re.search(r"^\d+\. \S+(镇|乡|街道)　", typed.plain or "", re.M)
    both = await h.command(office, "overdue", "乡镇街道 逾期2个工作日以上")
    assert "（筛选：乡镇街道，逾期2个工作日以上）" in (both.plain or "")
    h.clock.set(datetime(2026, 3, 30, 10, 0, tzinfo=SHANGHAI))  # three workdays late now
    escalated = await h.command(office, "overdue", "提请关注")
    assert "（筛选：逾期3个工作日以上）" in (escalated.plain or "")
    assert "3月已逾期3个工作日" in (escalated.plain or "")


async def test_overdue_lists_pages_and_filters(h: Harness) -> None:
    people = await a_month(h)
    office = people["office"]
    first = await h.command(office, "overdue")
    check_limits(first)
    body = first.plain or ""
    assert body.startswith("2026年度逾期未报事项")
    assert "截至3月27日（周五）10:00，" in body
    # Counted honestly: units, and (unit, task) pairs — not "tasks".
    units_total, total = (int(x) for x in re.findall(r"(\d+)个单位共(\d+)个单位·任务", body)[0])
    pages = await all_pages(h, office, first)
    # One line per unit, longest overdue first, then most tasks; a 催办 and a 明细 button each.
    heads = [m for page in pages for m in re.finditer(r"^\d+\. (\S+?)　(\d+)项", page, re.M)]
    assert len(heads) == units_total
    counts = [int(m.group(2)) for m in heads]
    assert counts == sorted(counts, reverse=True)  # all are two workdays late
    assert sum(counts) == total
    everything = "\n".join(pages)
    assert "最久：第" in everything and "3月已逾期2个工作日" in everything
    first = await h.command(office, "overdue")  # the pages were turned in the same message
    assert f"催办{heads[0].group(1)}（{counts[0]}项）" in buttons(first)
    assert f"{heads[0].group(1)}明细" in buttons(first)
    assert len(buttons(first)) <= 2 * 8 + 2 + 5  # units, pages, kinds of unit and status
    # 明细 drills down to the unit's tasks, one by one.
    _, detail = await h.press(office, first, f"{heads[0].group(1)}明细")
    assert f"（筛选：{heads[0].group(1)}）" in (detail.plain or "")
    assert len(rows_of(detail.plain or "")) == counts[0]

    unit = await h.command(office, "overdue", "发改局")
    check_limits(unit)
    text = unit.plain or ""
    assert "（筛选：发改局）" in text
    assert "第3项" in text and "第1项 " not in text and "第6项" not in text  # 1 and 6 reported
    assert all(line.count("发改局") == 0 for line in rows_of(text))  # grouped under the unit
    assert "催办 第3项 发改局" in buttons(unit)

    leader = await h.command(office, "overdue", "吴振强")
    for page in await all_pages(h, office, leader):
        leads = re.findall(r"分管：(\S+)", page)
        assert leads and all("吴振强" in x for x in leads)

    section = await h.command(office, "overdue", "经济")
    assert "（筛选：（一）全力激发经济动能）" in (section.plain or "")
    for page in await all_pages(h, office, section):
        for no in re.findall(r"最久：第(\d+)项", page):
            assert 6 <= int(no) <= 19

    march = await h.command(office, "overdue", "2026-03")
    assert f"共{total}个单位·任务" in (march.plain or "")
    february = await h.command(office, "overdue", "2026-02")
    assert february.plain == texts.overdue_none("2026-02", False, 2026)
    assert "均已按期报送" not in (february.plain or "")
    unknown = await h.command(office, "overdue", "火星局")
    assert "未找到与「火星局」对应的单位、领导、板块或报送期" in (unknown.plain or "")
    towns = await h.command(office, "overdue", "镇")
    assert "对应多个单位" in (towns.plain or "")


async def test_nudge_from_overdue_reaches_the_liaison_who_reports(h: Harness) -> None:
    people = await a_month(h)
    office, fgj = people["office"], people["fgj"]
    page = await h.command(office, "overdue", "发改局")
    answer, edited = await h.press(office, page, "催办 第3项 发改局")
    assert answer == "已向发改局联络员发出催办（1人）。"
    assert edited.message_id == page.message_id
    assert "第3项" in (edited.plain or "") and "（今日10:00已催办）" in (edited.plain or "")
    assert "催办 第3项 发改局" not in buttons(edited)
    # The same unit and task again today: refused, nothing recorded.
    tasks, units = await ids(h)
    again = await h.press_data(
        office, edited.message_id, encode("ovn", tasks[3], units["发改局"], "o", 0, "")
    )
    assert again == "今日已催办发改局（10:00），请勿重复催办。"

    tasks, units = await ids(h)
    nudges = await h.rows(Nudge)
    assert [(n.task_id, n.unit_id, n.cycle_key, n.by_user_id) for n in nudges] == [
        (tasks[3], units["发改局"], "2026-03", office.id)
    ]
    assert any(a.action == "nudge" for a in await h.rows(AuditEntry))
    queued = [m for m in await h.rows(OutboxMessage) if m.kind == "nudge"]
    assert len(queued) == 1

    message = await h.people.wait_for_bot_message(
        fgj.id, lambda m: "市大督导办催办" in (m.plain or "")
    )
    assert (message.plain or "").startswith(
        "发改局：市大督导办催办，您单位牵头的第3项任务3月进展已逾期2个工作日未报送（截止3月25日（周三）），请尽快报送。"
    )
    # The liaison answers the nudge by replying to it.
    card = await h.say(fgj, "固定资产投资增长4.2%，符合预期", reply_to=message.message_id)
    assert "进展报送确认" in (card.plain or "") and "第3项" in (card.plain or "")
    answer, _ = await h.press(fgj, card, "确认提交")
    assert answer == "已提交"
    stored = [r for r in await h.rows(Report) if r.task_id == tasks[3]]
    assert [r.cycle_key for r in stored] == ["2026-03"]
    after = await h.command(office, "overdue", "发改局")
    assert "第3项" not in (after.plain or "")

    # Reported now, and April's report is not due yet: nothing to urge.
    again = await h.press_data(
        office, after.message_id, encode("ovn", tasks[3], units["发改局"], "o", 0, "")
    )
    assert again == "发改局本期进展已报送，无需催办。"
    # A unit nobody can reach, and a unit that is not on the task.
    nobody = await h.press_data(
        office, after.message_id, encode("ovn", tasks[2], units["财政局"], "c")
    )
    assert nobody == "财政局尚无可送达的联络员，无法通过本助手催办，请电话联系。"
    foreign = await h.press_data(
        office, after.message_id, encode("ovn", tasks[1], units["工信局"], "c")
    )
    assert foreign == "该单位不承担本任务进展报送，无需催办。"
    assert len(await h.rows(Nudge)) == 1


async def test_nudge_a_whole_unit_in_one_press(h: Harness) -> None:
    """催办本单位: one message listing every overdue task of the unit, one Nudge row per task;
    a second press is refused; a task nudged alone earlier today is left out; once a task is
    reported before the message goes out, the sender leaves it out."""
    people = await a_month(h)
    office, fgj = people["office"], people["fgj"]
    _, units = await ids(h)
    owed = rows_of((await h.command(office, "overdue", "发改局")).plain or "")
    assert len(owed) >= 2
    # One task nudged on its own first: the unit press names the others.
    single = await h.command(office, "overdue", "发改局")
    await h.press(office, single, "催办 第3项 发改局")
    await h.people.wait_for_bot_message(fgj.id, lambda m: "第3项任务3月" in (m.plain or ""))

    page = await h.command(office, "overdue")
    label = next(b for b in buttons(page) if b.startswith("催办发改局（"))
    assert label == f"催办发改局（{len(owed) - 1}项）"
    answer, edited = await h.press(office, page, label)
    assert answer == f"已向发改局联络员发出催办，共{len(owed) - 1}项任务（1人）。"
    assert f"发改局</b>　{len(owed)}项（今日已催办{len(owed)}项）" in (edited.text or "")
    assert not any(b.startswith("催办发改局") for b in buttons(edited))
    message = await h.people.wait_for_bot_message(fgj.id, lambda m: "您单位以下" in (m.plain or ""))
    body = message.plain or ""
    assert body.startswith(f"发改局：市大督导办催办，您单位以下{len(owed) - 1}项任务进展逾期未报")
    assert "第3项" not in body and body.count("· 第") == len(owed) - 1
    assert body.count("直接回复本消息") == 1
    nudges = [n for n in await h.rows(Nudge) if n.unit_id == units["发改局"]]
    assert len(nudges) == len(owed)
    assert any(a.action == "nudge_unit" for a in await h.rows(AuditEntry))
    again = await h.press_data(office, edited.message_id, encode("ovu", units["发改局"], 0, ""))
    assert again == f"今日已催办发改局全部{len(owed)}项逾期任务，请勿重复催办。"
    # Replying to it asks which task.
    picker = await h.say(fgj, "已完成投资120亿元", reply_to=message.message_id)
    picked = [b for b in buttons(picker) if b.startswith("第")]
    assert len(picked) == min(8, len(owed) - 1)  # the picker's first page
    # A unit with no reachable liaison: nothing recorded.
    nobody = await h.press_data(office, edited.message_id, encode("ovu", units["财政局"], 0, ""))
    assert nobody == "财政局尚无可送达的联络员，无法通过本助手催办，请电话联系。"
    assert not [n for n in await h.rows(Nudge) if n.unit_id == units["财政局"]]


async def test_leader_sees_own_tasks_and_cannot_nudge(h: Harness) -> None:
    people = await a_month(h)
    leader = people["leader"]
    first = await h.command(leader, "overdue")
    check_limits(first)
    assert (first.plain or "").startswith("2026年度分管任务逾期未报事项")
    assert not any(b.startswith("催办") for b in buttons(first))
    for page in await all_pages(h, leader, first):
        for line in page.splitlines():
            if "分管：" in line:
                assert "吴振强" in line
    tasks, units = await ids(h)
    forged = await h.press_data(
        leader, first.message_id, encode("ovn", tasks[3], units["发改局"], "o", 0, "")
    )
    assert forged == texts.DENIED
    assert await h.rows(Nudge) == []
    for who in (people["fgj"], await h.person("陌生人")):
        denied = await h.command(who, "overdue")
        assert denied.plain in (texts.DENIED, texts.UNBOUND)


# --- /task ----------------------------------------------------------------------------------------


async def test_task_card_history_and_access(h: Harness) -> None:
    people = await a_month(h)
    office, fgj, gxj = people["office"], people["fgj"], people["gxj"]
    card = await h.command(office, "task", "6")
    check_limits(card)
    body = card.plain or ""
    assert body.startswith("第6项任务")
    assert "开展“项目巩固年”活动" in body
    assert "牵头单位：发改局" in body and "分管领导：吴振强" in body
    assert "报送方式：月报，本期4月截止4月24日（周五）17:00" in body
    assert "状态：黄灯" in body and "发改局反映困难或需协调" in body
    assert "完成投资不低于800亿元：最新320亿元（40%），发改局 3月16日" in body
    assert "发改局（牵头） 3月16日（周一）10:00 · 3月报送 · 40%" in body
    assert REPLY in body
    # March reported; April's report is not due yet (its reminders begin 4-21): no 催办.
    assert buttons(card) == ["报送记录（1条）", texts.RETURN_BUTTON]

    _, history = await h.press(office, card, "报送记录（1条）")
    assert "第6项任务报送记录（共1条，第1/1页）" in (history.plain or "")
    assert "3月16日（周一）10:00 · 发改局 · 3月报送 · 40%" in (history.plain or "")
    _, back = await h.press(office, history, texts.TASK_CARD_BUTTON)
    assert (back.plain or "").startswith("第6项任务")

    red = await h.command(office, "task", "13")
    assert "状态：红灯" in (red.plain or "")
    assert "发改局3月进展逾期2个工作日未报（截止3月25日（周三））" in (red.plain or "")
    answer, nudged = await h.press(office, red, "催办 第13项 发改局")
    assert answer == "已向发改局联络员发出催办（1人）。"
    assert "今日已催办：发改局" in (nudged.plain or "")
    assert "催办 第13项 发改局" not in buttons(nudged)
    delivered = await h.people.wait_for_bot_message(
        fgj.id, lambda m: "市大督导办催办" in (m.plain or "")
    )
    assert "第13项" in (delivered.plain or "")

    # Leaders see every task; a liaison only their units' (lead or through a group).
    leader_view = await h.command(people["leader"], "task", "4")
    assert (leader_view.plain or "").startswith("第4项任务")
    own = await h.command(fgj, "task", "6")
    assert (own.plain or "").startswith("第6项任务")
    assert not any(b.startswith("催办") for b in buttons(own))
    assert (await h.command(fgj, "task", "4")).plain == texts.DENIED  # 工信局's task
    town = await h.bound("溪美街道联络员", Role.LIAISON, unit="溪美街道")
    assert ((await h.command(town, "task", "1")).plain or "").startswith("第1项任务")
    assert (await h.command(town, "task", "6")).plain == texts.DENIED
    tasks, _ = await ids(h)
    theirs = await h.command(gxj, "help")
    forged = await h.press_data(gxj, theirs.message_id, encode("tkh", tasks[6], 0))
    assert forged == texts.TASK_NOT_VISIBLE
    assert (await h.command(office, "task", "第99项")).plain == "2026年任务表中没有第99项任务。"
    assert (await h.command(office, "task", "")).plain == texts.TASK_NO_USAGE
    assert (await h.command(office, "task", "abc")).plain == texts.TASK_NO_USAGE
    assert (await h.command(await h.person("陌生人"), "task", "6")).plain == texts.UNBOUND


# --- /units ---------------------------------------------------------------------------------------


async def test_units_shows_who_can_be_reminded_and_rates(h: Harness) -> None:
    people = await a_month(h)
    await h.people.block_bot(people["gxj"].id)
    # A nudge to 工信局 meets the block (403): its liaison becomes unreachable.
    page = await h.command(people["office"], "overdue", "工信局")
    assert buttons(page)[0] == "催办 第24项 工信局"
    await h.press(people["office"], page, buttons(page)[0])
    for _ in range(200):
        if await _unreachable(h, people["gxj"].id):
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError("the blocked liaison was not marked unreachable")
    notice = await h.people.wait_for_bot_message(
        people["office"].id, lambda m: "送达失败" in (m.plain or "")
    )
    assert "工信局联络员" in (notice.plain or "")

    overview = await h.command(people["office"], "units")
    check_limits(overview)
    body = overview.plain or ""
    assert body.startswith("2026年度各单位联络员绑定及报送情况")
    assert "全市当期（4月）已报0/151（0%），全年累计缺报146项次" in body
    assert "可提醒1个单位，无法提醒79个单位" in body
    assert "工信局：联络员无法送达（1人）｜当期无报送任务" not in body
    assert "工信局：联络员无法送达（1人）" in body
    assert "财政局：未绑定联络员" in body
    # April is open (none due yet); 12 of March's 14 are overdue, 2 were reported.
    line = "发改局：联络员1人｜当期已报0/14｜逾期未报12项｜未签收14项｜全年报送率14%，缺报12项次"
    assert line in body
    assert body.index("无法提醒（") < body.index("发改局：联络员1人")
    admin = await h.bound("管理员", Role.ADMIN)
    assert ((await h.command(admin, "units")).plain or "").startswith("2026年度各单位联络员绑定")
    for who in (people["leader"], people["fgj"]):
        assert (await h.command(who, "units")).plain == texts.DENIED


async def _unreachable(h: Harness, user_id: int) -> bool:
    async with h.sessionmaker() as s:
        contact = await s.scalar(select(Contact).where(Contact.tg_user_id == user_id))
    return contact is not None and not contact.reachable


# --- /summary and the daily job ----------------------------------------------------------------


async def test_summary_on_demand(h: Harness) -> None:
    people = await a_month(h)
    mine = await h.command(people["leader"], "summary")
    check_limits(mine)
    body = mine.plain or ""
    assert body.startswith("分管任务进展摘要（吴振强，3月27日（周五））")
    assert "分管任务24项：" in body and "红灯" in body
    assert "本周无报送截止；下一截止4月24日（周五）" in body
    city = await h.command(people["office"], "summary")
    assert (city.plain or "").startswith("全市重点任务进展摘要（3月27日（周五））")
    assert "全市任务88项" in (city.plain or "")
    assert (await h.command(people["fgj"], "summary")).plain == texts.DENIED


async def test_daily_summary_and_circular_are_delivered_once(h: Harness) -> None:
    people = await a_month(h)
    admin = await h.bound("管理员", Role.ADMIN)
    group = await h.people.create_group("督办工作群", [admin.id, people["office"].id])
    await h.people.add_bot_to_group(group, admin.id)
    await h.people.wait_for_bot_message(group)  # the group is registered
    h.clock.set(datetime(2026, 3, 30, 8, 30, tzinfo=SHANGHAI))  # Monday
    services = h.runtime.services
    assert services is not None
    added = await run_summaries(services, h.runtime.sender)
    assert added == 5  # the leader and the office (a digest and its chart each), the group
    assert await run_summaries(services, h.runtime.sender) == 0
    summary = await h.people.wait_for_bot_message(
        people["leader"].id, lambda m: "分管任务进展摘要" in (m.plain or "")
    )
    # Each digest brings its chart, a photo right after it.
    for who, caption in (("leader", "分管任务进展图（吴振强，3月30日（周一））"),
                         ("office", "全市任务红黄绿灯图（3月30日（周一））")):  # fmt: skip
        chart = await h.people.wait_for_bot_message(people[who].id, lambda m: m.photo)
        assert chart.plain == caption
        assert chart.document is not None and chart.document.size > 10_000
        digest = [m for m in await h.people.transcript(people[who].id) if m.from_bot][-2]
        assert "进展摘要" in (digest.plain or "") and digest.message_id < chart.message_id
    body = summary.plain or ""
    assert "（吴振强，3月30日（周一））" in body
    assert "新报送（3月27日（周五）08:30以来）\n· 暂无" in body  # since Friday's summary
    assert len(body) < 1500 and len(body.split("\n")) <= 25
    circular = await h.people.wait_for_bot_message(group, lambda m: "通报" in (m.plain or ""))
    assert "重点任务进展逾期未报通报" in (circular.plain or "")
    assert "发改局：第3、5、13、16" in (circular.plain or "")
    h.clock.set(datetime(2026, 4, 4, 8, 30, tzinfo=SHANGHAI))  # Saturday, Qingming holiday
    assert await run_summaries(services, h.runtime.sender) == 0


async def test_digest_charts_off(engine: AsyncEngine, database_url: str) -> None:
    """DIGEST_CHARTS=false: the digests come alone."""
    h = await start_harness(database_url, now=START, settings={"digest_charts": False})
    try:
        office = await h.bound("督导办甲", Role.OFFICE)
        leader = await h.bound("吴振强", Role.LEADER, leader="吴振强")
        h.clock.set(datetime(2026, 3, 30, 8, 30, tzinfo=SHANGHAI))
        services = h.runtime.services
        assert services is not None
        assert await run_summaries(services, h.runtime.sender) == 2
        for who in (office, leader):
            await h.people.wait_for_bot_message(who.id, lambda m: "进展摘要" in (m.plain or ""))
            assert not any(m.photo for m in await h.people.transcript(who.id))
    finally:
        await stop_harness(h)
    assert h.errors == []


# --- /export -----------------------------------------------------------------------------------


def _sheet(data: bytes) -> Worksheet:
    ws = load_workbook(BytesIO(data)).active
    assert isinstance(ws, Worksheet)
    return ws


async def test_export_holds_every_task_as_in_the_notice(h: Harness) -> None:
    people = await a_month(h)
    tasks, units = await ids(h)
    async with h.sessionmaker() as s, s.begin():
        s.add(
            Nudge(task_id=tasks[13], unit_id=units["发改局"], created_at=MAR27 - timedelta(days=1))
        )
    message = await h.command(people["office"], "export")
    assert message.document is not None and message.document.data is not None
    assert message.document.filename == "督查台账-2026-03-27.xlsx"
    assert (message.plain or "").startswith(
        "2026年重点工作督查台账，截至2026年3月27日（周五），共88项任务。"
    )
    ws = _sheet(message.document.data)
    rows: dict[int, tuple[Any, ...]] = {}
    for r in ws.iter_rows(min_row=4, values_only=True):
        if isinstance(r[0], int):
            rows[r[0]] = r
    assert sorted(rows) == list(range(1, 89))
    for t in json.loads(SEED.read_text(encoding="utf-8"))["tasks"]:
        row = rows[t["no"]]
        assert row[1] == t["text"], t["no"]
        assert row[2] == "\n".join(t["lead_units"]), t["no"]
        assert row[3] == ("\n".join(t["responsible_units"]) or None), t["no"]
        assert row[4] == "\n".join(t["leaders"]), t["no"]
    six = rows[6]
    assert six[5] == f"发改局（3月16日，3月）：{REPLY}"
    assert six[6] == 0.4
    assert six[7].date() == date(2026, 6, 30)
    assert six[8].startswith("黄灯：发改局反映困难或需协调")
    assert rows[13][8].startswith("红灯：") and rows[13][9] == 2 and rows[13][10] == 1
    assert rows[1][5] == "发改局（3月24日，3月）：一季度地区生产总值预计增长5.1%"
    assert ws.page_setup.orientation == "landscape"

    admin = await h.bound("管理员", Role.ADMIN)
    assert (await h.command(admin, "export")).document is not None
    for who in (people["leader"], people["fgj"]):
        assert (await h.command(who, "export")).plain == texts.DENIED
    assert [a.action for a in await h.rows(AuditEntry)].count("export") == 2
