"""领导批示 (issue 21): a supervising leader instructs on a task card; its lead and co-responsible
units' liaisons and the office receive it, the card keeps it, the next report is asked to answer
it; anyone else's press is refused and a 批示 over the limit sends nothing."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot import texts
from bot.domain.roles import Role
from bot.services.instructions import MAX_LENGTH
from db.models import AuditEntry, CoordinationRequest, Instruction, OutboxMessage, Task
from tests.flows.test_office import buttons
from tests.flows.test_reminders import drain
from tests.flows.test_report import pick_task
from tests.harness import Harness

WORDS = "请抓紧推进福厦泉要素市场化配置改革，月底前报送方案。"


async def task_id(h: Harness, no: int) -> int:
    async with h.sessionmaker() as session:
        found = await session.scalar(select(Task.id).where(Task.no == no))
        assert found is not None
        return found


async def test_a_leader_instructs_and_the_units_answer_in_their_next_report(h: Harness) -> None:
    leader = await h.bound("吴振强", Role.LEADER, leader="吴振强")
    fgj = await h.bound("发改局联络员", Role.LIAISON, unit="发改局")  # lead of task 16
    gxj = await h.bound("工信局联络员", Role.LIAISON, unit="工信局")  # co-responsible
    other = await h.bound("商务局联络员", Role.LIAISON, unit="商务局")  # not on task 16
    office = await h.bound("督导办", Role.OFFICE)

    card = await h.command(leader, "task", "16")
    assert texts.INSTRUCT_BUTTON in buttons(card)
    _, prompt = await h.press(leader, card, texts.INSTRUCT_BUTTON)
    assert "请输入对第16项任务的批示" in (prompt.plain or "")
    done = await h.say(leader, WORDS)
    assert done.plain == texts.instructed(16, 3)  # two liaisons and the office
    await drain(h)

    for who in (fgj, gxj):
        got = await h.people.wait_for_bot_message(who.id, lambda m: "领导批示" in (m.plain or ""))
        assert f"吴振强：{WORDS}" in (got.plain or "")
        assert "直接回复本消息即可报送" in (got.plain or "")
    told = await h.people.wait_for_bot_message(office.id, lambda m: "领导批示" in (m.plain or ""))
    assert "已发送至该任务各牵头、责任单位联络员" in (told.plain or "")
    assert not any("领导批示" in (m.plain or "") for m in await h.people.bot_messages(other.id))

    # The card keeps it, for everyone who may open the card.
    seen = await h.command(office, "task", "16")
    assert "领导批示" in (seen.plain or "") and WORDS[:20] in (seen.plain or "")
    assert texts.INSTRUCT_BUTTON not in buttons(seen)  # the office does not instruct

    # The lead unit's next report is asked to answer it; after that report, no longer.
    await pick_task(h, fgj, 16)
    prompt = (await h.people.bot_messages(fgj.id))[-1]
    assert "本任务有领导批示，请在本次报送中一并反馈落实情况" in (prompt.plain or "")
    card = await h.say(fgj, "已制定要素市场化配置改革方案，月底前报送。")
    await h.press(fgj, card, "确认提交")
    h.clock.advance(timedelta(minutes=5))
    await pick_task(h, fgj, 16)
    prompt = (await h.people.bot_messages(fgj.id))[-1]
    assert "领导批示" not in (prompt.plain or "")
    audit = [a for a in await h.rows(AuditEntry) if a.action == "instruct"]
    assert len(audit) == 1 and audit[0].actor_user_id == leader.id


async def test_only_the_tasks_leader_may_instruct_and_a_long_one_is_refused(h: Harness) -> None:
    wu = await h.bound("吴振强", Role.LEADER, leader="吴振强")  # supervises task 16, not 9
    office = await h.bound("督导办", Role.OFFICE)
    nine, sixteen = await task_id(h, 9), await task_id(h, 16)

    card = await h.command(wu, "task", "9")
    assert texts.INSTRUCT_BUTTON not in buttons(card)
    refused = await h.press_data(wu, card.message_id, f"ins:{nine}")
    assert refused is not None and refused != ""
    message = await h.command(office, "help")
    await h.press_data(office, message.message_id, f"ins:{sixteen}")
    answer = await h.say(office, "越权批示")
    assert "越权批示" not in (answer.plain or "") and "已记入任务卡片" not in (answer.plain or "")

    card = await h.command(wu, "task", "16")
    await h.press(wu, card, texts.INSTRUCT_BUTTON)
    too_long = await h.say(wu, "字" * (MAX_LENGTH + 1))
    assert too_long.plain == texts.typed_too_long(MAX_LENGTH, MAX_LENGTH + 1)
    cancelled = await h.command(wu, "cancel")
    assert cancelled.plain == texts.CANCELLED
    after = await h.say(wu, "取消后的文字")
    assert "已记入任务卡片" not in (after.plain or "")
    assert await h.rows(Instruction) == []
    assert not [m for m in await h.rows(OutboxMessage) if m.kind == "instruction"]


async def test_a_unit_asks_its_leaders_to_coordinate_and_a_leader_answers(h: Harness) -> None:
    wu = await h.bound("吴振强", Role.LEADER, leader="吴振强")  # supervises task 16
    zhou = await h.bound("周全", Role.LEADER, leader="周全")  # so does he
    chen = await h.bound("陈志慧", Role.LEADER, leader="陈志慧")  # does not
    office = await h.bound("督导办", Role.OFFICE)
    gxj = await h.bound("工信局联络员", Role.LIAISON, unit="工信局")  # co-responsible on 16
    difficulty = "设备更新补贴资金尚未下达，需财政局协调拨付。"

    card = await h.command(gxj, "task", "16")
    assert texts.REQUEST_BUTTON in buttons(card) and texts.INSTRUCT_BUTTON not in buttons(card)
    _, prompt = await h.press(gxj, card, texts.REQUEST_BUTTON)
    assert "需要分管领导协调解决的问题" in (prompt.plain or "")
    done = await h.say(gxj, difficulty)
    assert done.plain == texts.requested(16, 3)  # two leaders and the office
    await drain(h)
    for who in (wu, zhou):
        got = await h.people.wait_for_bot_message(who.id, lambda m: "提请协调" in (m.plain or ""))
        assert f"工信局：{difficulty}" in (got.plain or "")
        assert buttons(got) == [texts.INSTRUCT_BUTTON]
    told = await h.people.wait_for_bot_message(office.id, lambda m: "提请协调" in (m.plain or ""))
    assert buttons(told) == []
    assert not any("提请协调" in (m.plain or "") for m in await h.people.bot_messages(chen.id))
    seen = await h.command(office, "task", "16")
    assert "提请协调" in (seen.plain or "") and "设备更新补贴资金" in (seen.plain or "")

    # The leader answers from the request with a 批示, which reaches the unit.
    request = next(m for m in await h.people.bot_messages(wu.id) if "提请协调" in (m.plain or ""))
    _, prompt = await h.press(wu, request, texts.INSTRUCT_BUTTON)
    assert "请输入对第16项任务的批示" in (prompt.plain or "")
    answer = "请财政局本周内拨付到位。"
    assert (await h.say(wu, answer)).plain == texts.instructed(16, 2)  # 工信局, the office
    await drain(h)
    got = await h.people.wait_for_bot_message(gxj.id, lambda m: "领导批示" in (m.plain or ""))
    assert answer in (got.plain or "")


async def test_a_unit_not_on_the_task_cannot_ask(h: Harness) -> None:
    other = await h.bound("商务局联络员", Role.LIAISON, unit="商务局")  # not on task 16
    card = await h.command(other, "task", "6")  # not its task either: the card is restricted
    assert texts.REQUEST_BUTTON not in buttons(card)
    sixteen = await task_id(h, 16)
    await h.press_data(other, card.message_id, f"rqc:{sixteen}")
    answer = await h.say(other, "越权请求协调")
    assert "已记入任务卡片" not in (answer.plain or "")
    denied = [
        a.target
        for a in await h.rows(AuditEntry)
        if a.actor_user_id == other.id and a.action == "denied"
    ]
    assert any("coordination_request" in (t or "") for t in denied), denied
    assert await h.rows(CoordinationRequest) == []
