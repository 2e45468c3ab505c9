"""Collecting progress: /report, replies to reminders, corrections, cancel, timeout, duplicates."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select

from bot import texts
from bot.domain.roles import Role
from bot.runtime.scheduling import run_planning
from db.models import Report, ReportDraft, Task
from tests.flows.conftest import SHANGHAI
from tests.harness import Harness

REPLY = "已完成投资320亿元，预计6月底前完成竣工验收，用地指标需协调"


async def pick_task(h: Harness, who: object, no: int) -> None:
    """/report, then page through the picker to task `no` and press it."""
    from bot.emulator import Person

    assert isinstance(who, Person)
    picker = await h.command(who, "report")
    label = f"第{no}项"
    while not any(b.text.startswith(label + " ") for row in picker.buttons for b in row):
        _, picker = await h.press(who, picker, "下一页 ›")
    button = next(b.text for row in picker.buttons for b in row if b.text.startswith(label + " "))
    _, prompt = await h.press(who, picker, button)
    assert f"第{no}项" in (prompt.plain or "")
    assert "请直接输入进展情况" in (prompt.plain or "")


async def test_report_through_the_conversation(h: Harness) -> None:
    liaison = await h.bound("发改局联络员", Role.LIAISON, unit="发改局")
    await pick_task(h, liaison, 6)
    card = await h.say(liaison, REPLY)
    body = card.plain or ""
    assert "进展报送确认" in body
    assert "完成进度：40%（按目标测算）" in body
    assert "完成投资：320亿元（目标800亿元），为目标的40%" in body
    assert "预计完成时间：2026年6月30日（周二）" in body
    assert "困难或需协调事项：有" in body
    assert "需协调" in body
    assert REPLY in body
    assert await h.rows(Report) == []  # nothing stored before confirmation

    answer, done = await h.press(liaison, card, "确认提交")
    assert answer == "已提交"
    assert "已提交。发改局第6项任务3月进展已于" in (done.plain or "")
    reports = await h.rows(Report)
    assert len(reports) == 1
    report = reports[0]
    assert report.cycle_key == "2026-03"
    assert report.percent == 40.0
    assert report.expected_date == date(2026, 6, 30)
    assert report.text == REPLY
    assert report.difficulties and "需协调" in report.difficulties[0]
    assert await h.rows(ReportDraft) == []

    # Pressing confirm again (a re-sent press) stores nothing twice.
    again = await h.press_data(liaison, card.message_id, card.buttons[0][0].callback_data or "")
    assert again == texts.ALREADY_SUBMITTED
    assert len(await h.rows(Report)) == 1

    tasks = await h.command(liaison, "tasks")
    assert "第6项" in (tasks.plain or "")
    assert "已报" in (tasks.plain or "")


async def test_edit_then_confirm(h: Harness) -> None:
    liaison = await h.bound("发改局联络员", Role.LIAISON, unit="发改局")
    await pick_task(h, liaison, 6)
    card = await h.say(liaison, "完成30%")
    _, prompt = await h.press(liaison, card, "修改")
    assert "请直接输入进展情况" in (prompt.plain or "")
    card = await h.say(liaison, "完成45%，无困难")
    assert "完成进度：45%" in (card.plain or "")
    assert "困难或需协调事项：未提及" in (card.plain or "")
    await h.press(liaison, card, "确认提交")
    [report] = await h.rows(Report)
    assert report.percent == 45.0
    assert report.text == "完成45%，无困难"


async def test_cancel_at_every_step(h: Harness) -> None:
    liaison = await h.bound("发改局联络员", Role.LIAISON, unit="发改局")
    picker = await h.command(liaison, "report")
    _, cancelled = await h.press(liaison, picker, "取消")
    assert cancelled.plain == texts.CANCELLED
    await pick_task(h, liaison, 6)
    assert (await h.command(liaison, "cancel")).plain == texts.CANCELLED
    assert (await h.command(liaison, "cancel")).plain == texts.NOTHING_TO_CANCEL
    await pick_task(h, liaison, 6)
    card = await h.say(liaison, "完成10%")
    _, gone = await h.press(liaison, card, "取消")
    assert gone.plain == texts.CANCELLED
    # After a cancel, free text is not taken as a report.
    hint = await h.say(liaison, "完成20%")
    assert hint.plain == texts.TEXT_HINT
    assert await h.rows(Report) == []
    assert await h.rows(ReportDraft) == []


async def test_idle_conversation_times_out(h: Harness) -> None:
    liaison = await h.bound("发改局联络员", Role.LIAISON, unit="发改局")
    await pick_task(h, liaison, 6)
    h.clock.advance(timedelta(minutes=31))
    late = await h.say(liaison, "完成50%")
    assert late.plain == texts.DRAFT_TIMEOUT
    assert await h.rows(Report) == []

    # Left alone, the drafts job closes the conversation and says so once.
    await pick_task(h, liaison, 6)
    card = await h.say(liaison, "完成50%")
    h.clock.advance(timedelta(minutes=31))
    services = h.runtime.services
    assert services is not None
    await run_planning(services, None)
    assert h.runtime.sender is not None
    await h.runtime.sender.run_once()
    notice = await h.people.wait_for_bot_message(liaison.id)
    assert notice.plain == texts.DRAFT_TIMEOUT
    answer = await h.press_data(liaison, card.message_id, card.buttons[0][0].callback_data or "")
    assert answer == texts.STALE_BUTTON
    assert await h.rows(Report) == []


async def test_reply_to_a_single_task_reminder_goes_to_the_card(h: Harness) -> None:
    # 国资办 leads one task (17: 资产规模超1100亿元).
    liaison = await h.bound("国资办联络员", Role.LIAISON, unit="国资办")
    h.clock.set(datetime(2026, 3, 20, 9, 30, tzinfo=SHANGHAI))  # 3 workdays before 3-25
    services = h.runtime.services
    assert services is not None
    assert h.runtime.sender is not None
    await run_planning(services, None)
    await h.runtime.sender.run_once()
    reminder = await h.people.wait_for_bot_message(liaison.id)
    assert "国资办：您单位牵头的第17项任务3月进展尚未报送" in (reminder.plain or "")
    assert "3月25日（周三）17:00" in (reminder.plain or "")
    card = await h.say(liaison, "资产规模已达1050亿元", reply_to=reminder.message_id)
    assert "第17项" in (card.plain or "")
    assert "进展报送确认" in (card.plain or "")
    await h.press(liaison, card, "确认提交")
    [report] = await h.rows(Report)
    async with h.sessionmaker() as session:
        task = await session.get(Task, report.task_id)
    assert task is not None
    assert task.no == 17
    assert report.cycle_key == "2026-03"


async def test_reply_to_a_reminder_about_several_tasks_asks_which(h: Harness) -> None:
    liaison = await h.bound("发改局联络员", Role.LIAISON, unit="发改局")
    h.clock.set(datetime(2026, 3, 20, 9, 30, tzinfo=SHANGHAI))
    services = h.runtime.services
    assert services is not None
    assert h.runtime.sender is not None
    await run_planning(services, None)
    await h.runtime.sender.run_once()
    reminder = await h.people.wait_for_bot_message(liaison.id)
    assert "以下" in (reminder.plain or "")
    picker = await h.say(liaison, REPLY, reply_to=reminder.message_id)
    assert picker.plain == texts.CHOOSE_TASK_FOR_REPLY.format(page=1, pages=1) or "请选择" in (
        picker.plain or ""
    )
    label = next(b.text for row in picker.buttons for b in row if b.text.startswith("第6项 "))
    _, card = await h.press(liaison, picker, label)
    assert "完成进度：40%" in (card.plain or "")
    await h.press(liaison, card, "确认提交")
    [report] = await h.rows(Report)
    assert report.text == REPLY


async def test_correction_is_a_new_version(h: Harness) -> None:
    liaison = await h.bound("发改局联络员", Role.LIAISON, unit="发改局")
    await pick_task(h, liaison, 6)
    card = await h.say(liaison, "完成30%")
    await h.press(liaison, card, "确认提交")
    history = await h.command(liaison, "history")
    assert "第6项 3月" in (history.plain or "")
    label = next(b.text for row in history.buttons for b in row if b.text.startswith("更正第6项"))
    _, prompt = await h.press(liaison, history, label)
    assert "更正" in (prompt.plain or "")
    card = await h.say(liaison, "完成35%")
    assert "进展更正确认" in (card.plain or "")
    _, done = await h.press(liaison, card, "确认提交")
    assert "第2版" in (done.plain or "")
    reports = sorted(await h.rows(Report), key=lambda r: r.id)
    assert [(r.version, r.percent, r.cycle_key) for r in reports] == [
        (1, 30.0, "2026-03"),
        (2, 35.0, "2026-03"),
    ]
    assert reports[1].supersedes_id == reports[0].id
    # Only the newest version can be corrected.
    answer = await h.press_data(liaison, history.message_id, f"rv:{reports[0].id}")
    assert answer == texts.CANNOT_CORRECT


async def test_duplicate_update_is_handled_once(h: Harness) -> None:
    liaison = await h.bound("发改局联络员", Role.LIAISON, unit="发改局")
    await pick_task(h, liaison, 6)
    card = await h.say(liaison, "完成30%")
    query = await h.people.press_button(liaison.id, card.message_id, text="确认提交")
    await h.people.wait_for_callback_answer(query.id)
    updates = await h.people.updates()
    press = next(u for u in updates if u.get("callback_query", {}).get("id") == query.id)
    await h.people.duplicate_update(press["update_id"])
    await h.people.start_bot(liaison.id, send_command=False)
    await h.command(liaison, "help")  # the duplicate was fetched before this
    assert len(await h.rows(Report)) == 1


async def test_bad_input_gets_a_short_answer_and_changes_nothing(h: Harness) -> None:
    liaison = await h.bound("发改局联络员", Role.LIAISON, unit="发改局")
    await pick_task(h, liaison, 6)
    too_long = await h.say(liaison, "进" * 2001)
    assert too_long.plain == texts.REPORT_TOO_LONG.format(limit=2000)
    empty = await h.say(liaison, "\u200b\u202e")
    assert empty.plain == texts.EMPTY_REPORT
    card = await h.say(liaison, "<b>完成</b>&amp; 40% \x07")
    assert "&lt;b&gt;" not in (card.plain or "")
    assert "<b>完成</b>&amp; 40%" in (card.plain or "")
    unknown = await h.command(liaison, "frobnicate")
    assert unknown.plain == texts.UNKNOWN_COMMAND
    history = await h.command(liaison, "history", "abc")
    assert history.plain == texts.BAD_TASK_NO
    assert await h.rows(Report) == []
    async with h.sessionmaker() as session:
        assert await session.scalar(select(Report.id)) is None


async def test_a_reply_without_content_is_asked_for_the_progress(h: Harness) -> None:
    """👍👍, 好的, 收到马上报: no card, no report; the conversation still waits for the text."""
    liaison = await h.bound("发改局联络员", Role.LIAISON, unit="发改局")
    await pick_task(h, liaison, 6)
    for text in ("👍👍", "好的", "收到，马上报。"):
        answer = await h.say(liaison, text)
        assert answer.plain == texts.NO_CONTENT
        assert answer.buttons == []
    card = await h.say(liaison, "完成投资120亿元")
    assert "进展报送确认" in (card.plain or "")
    assert await h.rows(Report) == []

    # As a reply to a reminder: nothing is opened either.
    liaison2 = await h.bound("国资办联络员", Role.LIAISON, unit="国资办")
    h.clock.set(datetime(2026, 3, 20, 9, 30, tzinfo=SHANGHAI))
    services = h.runtime.services
    assert services is not None and h.runtime.sender is not None
    await run_planning(services, None)
    await h.runtime.sender.run_once()
    reminder = await h.people.wait_for_bot_message(liaison2.id)
    answer = await h.say(liaison2, "收到", reply_to=reminder.message_id)
    assert answer.plain == texts.NO_CONTENT
    async with h.sessionmaker() as session:
        drafts = (await session.scalars(select(ReportDraft))).all()
    assert liaison2.id not in [d.tg_user_id for d in drafts]
    assert await h.rows(Report) == []


async def test_the_liaison_corrects_the_reading_on_the_card(h: Harness) -> None:
    """Each number with its target and a button to take it off; an unread number can be put
    against a target that fits; the date can be dropped; what is stored is the corrected
    reading. A forged correction changes nothing."""
    liaison = await h.bound("发改局联络员", Role.LIAISON, unit="发改局")
    await pick_task(h, liaison, 6)
    card = await h.say(liaison, "512个重点项目已开工386个，完成投资312亿元，预计年底前全面完成")
    body = card.plain or ""
    assert "完成投资：312亿元（目标800亿元），为目标的39%" in body
    assert "竣工项目：" not in body  # 386 started projects are not 竣工项目
    assert "未计入指标：512个、386个" in body
    assert "预计完成时间：2026年12月31日" in body
    labels = [b.text for row in card.buttons for b in row]
    assert "✕ 312亿元不计入「完成投资」" in labels
    assert "386个计入「竣工项目」" in labels

    # A forged choice (a target that does not fit the number) is refused, nothing changes.
    confirm = next(b.callback_data for row in card.buttons for b in row if b.text == "确认提交")
    token = str(confirm).split(":")[1]
    assert await h.press_data(liaison, card.message_id, f"rq:{token}:1:0") == texts.STALE_BUTTON

    answer, card = await h.press(liaison, card, "✕ 312亿元不计入「完成投资」")
    assert answer == texts.READING_CHANGED
    assert "完成投资：" not in (card.plain or "")
    assert "完成进度：未识别" in (card.plain or "")
    _, card = await h.press(liaison, card, "386个计入「竣工项目」")
    assert "竣工项目：386个（目标60个）" in (card.plain or "")
    _, card = await h.press(liaison, card, texts.READING_NO_DATE)
    assert "预计完成时间：未识别" in (card.plain or "")

    await h.press(liaison, card, "确认提交")
    [report] = await h.rows(Report)
    assert report.expected_date is None
    assert [(q["target_metric"], q["value"]) for q in report.quantities if q["target_metric"]] == [
        ("竣工项目", 386.0)
    ]
