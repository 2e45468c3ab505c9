"""退回重报 and 办结销号 (issue 21), through the emulator: the office returns a report and the
cycle is unreported until the unit reports again; a lead unit applies to close its part, the
office refuses, closes, and reopens; a task closes when all its lead units are closed. Anyone
else's press, and a forged or stale one, changes nothing."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot import texts
from bot.domain.roles import Role
from db.models import (
    AuditEntry,
    Closure,
    OutboxMessage,
    Report,
    ReportCycle,
    ReportLatest,
    ReportReturn,
    Task,
)
from tests.flows.test_instructions import task_id
from tests.flows.test_office import buttons
from tests.flows.test_reminders import drain
from tests.flows.test_report import pick_task
from tests.harness import Harness


async def report_on(h: Harness, who: object, no: int, text: str) -> None:
    from bot.emulator import Person

    assert isinstance(who, Person)
    await pick_task(h, who, no)
    card = await h.say(who, text)
    await h.press(who, card, "确认提交")


async def cycles_of(h: Harness, task: int, unit_name: str) -> dict[str, object]:
    from db.models import Unit

    async with h.sessionmaker() as session:
        unit = await session.scalar(select(Unit.id).where(Unit.name == unit_name))
        rows = await session.execute(
            select(ReportCycle.cycle_key, ReportCycle.first_at).where(
                ReportCycle.task_id == task, ReportCycle.unit_id == unit
            )
        )
        return {key: at for key, at in rows.all()}


async def ledger_cells(h: Harness, header: str) -> dict[object, object]:
    """The ledger's column `header`, by 序号."""
    from io import BytesIO

    from openpyxl import load_workbook

    from bot.services.export import export_ledger

    await h.settle()
    services = h.runtime.services
    assert services is not None
    async with h.sessionmaker() as session:
        done = await export_ledger(
            session, now=h.clock.now(), settings=services.settings, calendar=services.calendar
        )
    assert done is not None
    sheet = load_workbook(BytesIO(done.data)).active
    assert sheet is not None
    column = list(texts.LEDGER_HEADERS).index(header)
    return {
        row[0]: row[column] for row in sheet.iter_rows(values_only=True) if isinstance(row[0], int)
    }


async def test_the_office_returns_a_report_and_the_unit_reports_again(h: Harness) -> None:
    office = await h.bound("督导办", Role.OFFICE)
    fgj = await h.bound("发改局联络员", Role.LIAISON, unit="发改局")  # lead of task 16
    sixteen = await task_id(h, 16)

    # Before any report there is nothing to return.
    card = await h.command(office, "task", "16")
    assert texts.RETURN_BUTTON not in buttons(card)

    await report_on(h, fgj, 16, "要素市场化配置改革方案已起草完成，进度30%。")
    assert list(await cycles_of(h, sixteen, "发改局")) == ["2026-03"]

    card = await h.command(office, "task", "16")
    assert texts.RETURN_BUTTON in buttons(card)
    _, choose = await h.press(office, card, texts.RETURN_BUTTON)
    assert choose.plain == texts.return_choose(16)
    assert buttons(choose) == [texts.return_choice("发改局", "2026-03", 30.0)]
    _, prompt = await h.press(office, choose, buttons(choose)[0])
    assert "请输入退回意见" in (prompt.plain or "")
    comment = "未说明土地要素改革的具体进展，请补充。"
    done = await h.say(office, comment)
    assert done.plain == texts.returned(16, "发改局", "2026-03", 1)
    await drain(h)

    told = await h.people.wait_for_bot_message(fgj.id, lambda m: "报送退回" in (m.plain or ""))
    assert comment in (told.plain or "") and buttons(told) == [texts.REPORT_AGAIN_BUTTON]
    # The cycle is unreported again; the report stays in the history, marked.
    assert await cycles_of(h, sixteen, "发改局") == {}
    latest = [r for r in await h.rows(ReportLatest) if r.task_id == sixteen]
    assert latest == []
    assert len([r for r in await h.rows(Report) if r.task_id == sixteen]) == 1
    tasks = await h.command(fgj, "tasks")
    assert "第16项" in (tasks.plain or "")
    card = await h.command(office, "task", "16")
    assert "退回记录" in (card.plain or "") and comment[:10] in (card.plain or "")
    assert texts.RETURN_BUTTON not in buttons(card)  # nothing counted left to return
    _, history = await h.press(office, card, texts.HISTORY_BUTTON.format(n=1))
    assert f"已退回：{comment[:10]}" in (history.plain or "")

    # Reporting again (from the message's button) counts, from the new report's time.
    h.clock.advance(timedelta(hours=2))
    _, prompt = await h.press(fgj, told, texts.REPORT_AGAIN_BUTTON)
    assert "请直接输入进展情况" in (prompt.plain or "")
    card = await h.say(fgj, "土地要素改革：已完成低效用地摸底，进度40%。")
    await h.press(fgj, card, "确认提交")
    again = await cycles_of(h, sixteen, "发改局")
    assert list(again) == ["2026-03"] and again["2026-03"] == h.clock.now()
    [row] = [r for r in await h.rows(ReportLatest) if r.task_id == sixteen]
    assert row.percent == 40.0
    audit = [a for a in await h.rows(AuditEntry) if a.action == "return_report"]
    assert len(audit) == 1 and audit[0].actor_user_id == office.id
    returns = await ledger_cells(h, "退回次数")
    assert returns[16] == 1 and returns[6] == 0


async def test_only_the_office_returns_and_a_stale_return_changes_nothing(h: Harness) -> None:
    office = await h.bound("督导办", Role.OFFICE)
    leader = await h.bound("吴振强", Role.LEADER, leader="吴振强")
    fgj = await h.bound("发改局联络员", Role.LIAISON, unit="发改局")
    await report_on(h, fgj, 16, "改革方案起草中，进度20%。")
    [report] = await h.rows(Report)
    sixteen = await task_id(h, 16)

    for who in (fgj, leader):
        card = await h.command(who, "task", "16")
        assert texts.RETURN_BUTTON not in buttons(card)
        assert await h.press_data(who, card.message_id, f"rtl:{sixteen}")
        assert await h.press_data(who, card.message_id, f"rtr:{report.id}")
        answer = await h.say(who, "越权退回")
        assert "已退回" not in (answer.plain or "")
    card = await h.command(office, "task", "16")
    assert await h.press_data(office, card.message_id, "rtr:999999") == texts.RETURN_STALE

    # The office starts a return, then the unit reports again: the old report is no longer
    # its newest, so the comment returns nothing.
    _, choose = await h.press(office, card, texts.RETURN_BUTTON)
    await h.press(office, choose, buttons(choose)[0])
    h.clock.advance(timedelta(minutes=5))
    await report_on(h, fgj, 16, "改革方案已报审，进度25%。")
    stale = await h.say(office, "请补充。")
    assert stale.plain == texts.RETURN_STALE
    assert await h.rows(ReportReturn) == []
    assert len(await cycles_of(h, sixteen, "发改局")) == 1


async def test_a_unit_applies_the_office_refuses_closes_and_reopens(h: Harness) -> None:
    office = await h.bound("督导办", Role.OFFICE)
    fgj = await h.bound("发改局联络员", Role.LIAISON, unit="发改局")  # leads task 16
    zyj = await h.bound("资源局联络员", Role.LIAISON, unit="资源局")  # leads it too
    gxj = await h.bound("工信局联络员", Role.LIAISON, unit="工信局")  # co-responsible
    sixteen = await task_id(h, 16)

    # A co-responsible unit has no 销号 to apply for.
    card = await h.command(gxj, "task", "16")
    assert texts.CLOSE_APPLY_BUTTON not in buttons(card)
    assert await h.press_data(gxj, card.message_id, f"cla:{sixteen}") == texts.CLOSE_LEAD_ONLY

    card = await h.command(fgj, "task", "16")
    _, prompt = await h.press(fgj, card, texts.CLOSE_APPLY_BUTTON)
    assert "请简要说明办结情况" in (prompt.plain or "")
    words = "改革试点任务已全部完成，方案已印发。"
    assert (await h.say(fgj, words)).plain == texts.close_applied(16, 1)
    await drain(h)
    application = await h.people.wait_for_bot_message(
        office.id, lambda m: "销号申请" in (m.plain or "")
    )
    assert buttons(application) == [texts.CLOSE_BUTTON, texts.CLOSE_REFUSE_BUTTON]
    [row] = await h.rows(Closure)
    assert row.state == "applied"
    [latest] = [r for r in await h.rows(ReportLatest) if r.task_id == sixteen]
    assert latest.percent == 100.0  # the part owes nothing while the office verifies
    card = await h.command(fgj, "task", "16")
    assert texts.CLOSE_APPLY_BUTTON not in buttons(card)
    assert await h.press_data(fgj, card.message_id, f"cla:{sixteen}") == texts.CLOSE_PENDING

    # Refused, with a comment: the 100% is set aside, the part owes reports again.
    _, prompt = await h.press(office, application, texts.CLOSE_REFUSE_BUTTON)
    assert "不予销号" in (prompt.plain or "")
    reason = "缺少方案印发文件，请补充佐证。"
    refused = await h.say(office, reason)
    assert "销号申请未通过" in (refused.plain or "")
    await drain(h)
    told = await h.people.wait_for_bot_message(fgj.id, lambda m: reason in (m.plain or ""))
    assert "销号申请未通过" in (told.plain or "")
    [after] = await h.rows(ReportLatest, ReportLatest.task_id == sixteen)
    assert after.percent is None
    assert (await h.rows(Closure))[0].state == "refused"
    # The decided application's buttons no longer act.
    again = await h.press_data(office, application.message_id, f"clo:{row.id}")
    assert again == texts.CLOSE_STALE

    # Applied again and closed; the task stays open until its other lead unit is closed.
    h.clock.advance(timedelta(days=1))
    card = await h.command(fgj, "task", "16")
    await h.press(fgj, card, texts.CLOSE_APPLY_BUTTON)
    await h.say(fgj, "已补充方案印发文件（市政府令第12号）。")
    await drain(h)  # the office's 销号申请 is delivered (and read) before it acts
    await h.people.wait_for_bot_message(office.id, lambda m: "销号申请" in (m.plain or ""))
    card = await h.command(office, "task", "16")
    assert texts.closure_button("clo", "发改局") in buttons(card)
    _, closed = await h.press(office, card, texts.closure_button("clo", "发改局"))
    assert closed.plain == texts.close_decided(
        16, "发改局", "closed", task_closed=False, task_reopened=False
    )
    task = (await h.rows(Task, Task.id == sixteen))[0]
    assert task.completed_on is None
    assert (await ledger_cells(h, "销号"))[16] == "发改局已销号"
    # A closed part is reopened, not returned: its application is not offered for a return.
    card = await h.command(office, "task", "16")
    assert texts.RETURN_BUTTON not in buttons(card)

    card = await h.command(zyj, "task", "16")
    await h.press(zyj, card, texts.CLOSE_APPLY_BUTTON)
    await h.say(zyj, "低效用地再开发试点已完成验收。")
    await drain(h)  # the office's 销号申请 is delivered (and read) before it acts
    await h.people.wait_for_bot_message(office.id, lambda m: "销号申请" in (m.plain or ""))
    card = await h.command(office, "task", "16")
    _, closed = await h.press(office, card, texts.closure_button("clo", "资源局"))
    assert "任务办结" in (closed.plain or "")
    task = (await h.rows(Task, Task.id == sixteen))[0]
    assert task.completed_on == h.clock.now().date()
    card = await h.command(office, "task", "16")
    assert "已销号" in (card.plain or "")
    assert "任务已完成" in (card.plain or "")
    closed_cells = await ledger_cells(h, "销号")
    assert closed_cells[16] == "已销号" and closed_cells[6] is None

    # Reopened: the task opens again and the unit owes reports again.
    _, prompt = await h.press(office, card, texts.closure_button("clx", "发改局"))
    assert "重新打开" in (prompt.plain or "")
    reopened = await h.say(office, "经复核，土地要素改革尚有遗留事项。")
    assert "任务随之重新打开" in (reopened.plain or "")
    task = (await h.rows(Task, Task.id == sixteen))[0]
    assert task.completed_on is None
    fgj_unit = (await h.rows(Closure, Closure.id == row.id))[0].unit_id
    [latest] = [
        r for r in await h.rows(ReportLatest) if r.task_id == sixteen and r.unit_id == fgj_unit
    ]
    assert latest.percent is None
    tasks = await h.command(fgj, "tasks")
    assert "第16项" in (tasks.plain or "")
    actions = sorted(a.action for a in await h.rows(AuditEntry) if a.action.startswith("close_"))
    assert actions == [
        "close_apply",
        "close_apply",
        "close_apply",
        "close_closed",
        "close_closed",
        "close_refused",
        "close_reopened",
    ]


async def test_only_the_office_decides_a_closeout(h: Harness) -> None:
    office = await h.bound("督导办", Role.OFFICE)
    leader = await h.bound("吴振强", Role.LEADER, leader="吴振强")
    fgj = await h.bound("发改局联络员", Role.LIAISON, unit="发改局")
    other = await h.bound("商务局联络员", Role.LIAISON, unit="商务局")  # not on task 16
    sixteen = await task_id(h, 16)
    card = await h.command(fgj, "task", "16")
    await h.press(fgj, card, texts.CLOSE_APPLY_BUTTON)
    await h.say(fgj, "已全部完成。")
    [row] = await h.rows(Closure)

    # The applicant, a leader: not theirs to decide.
    for who in (fgj, leader):
        message = await h.command(who, "help")
        for data in (f"clo:{row.id}", f"clr:{row.id}", f"clx:{row.id}"):
            assert await h.press_data(who, message.message_id, data)
        await h.say(who, "同意")
    assert (await h.rows(Closure))[0].state == "applied"
    # A unit not on the task cannot apply; a forged closure id changes nothing.
    card = await h.command(other, "task", "16")
    assert await h.press_data(other, card.message_id, f"cla:{sixteen}")
    await h.say(other, "越权申请")
    assert len(await h.rows(Closure)) == 1
    message = await h.command(office, "help")
    assert await h.press_data(office, message.message_id, "clo:999999") == texts.CLOSE_STALE
    assert await h.press_data(office, message.message_id, f"clx:{row.id}") == texts.CLOSE_STALE
    assert (await h.rows(Closure))[0].state == "applied"
    assert not [m for m in await h.rows(OutboxMessage) if "已销号" in m.text]
