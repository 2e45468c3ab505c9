"""延期申请 (issue 21), through the emulator: a unit asks to move the cycle it owes, the office
approves and the new date drives /overdue, the unit's /tasks and the lights; a refusal keeps the
old date; a unit asks to move the task's own deadline and (by setting) the task's leader decides.
A liaison cannot approve, nor a leader when the office decides; forged presses change nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import texts
from bot.domain.roles import Role
from db import views
from db.models import AuditEntry, Extension
from tests.flows.conftest import START
from tests.flows.test_instructions import task_id
from tests.flows.test_office import buttons
from tests.flows.test_reminders import drain
from tests.harness import Harness, start_harness, stop_harness

MARCH = "2026-03"


async def overdue_units(h: Harness, no: int) -> dict[str, date]:
    """Task `no`'s overdue units now, each with the deadline it is overdue from."""
    await h.settle()
    services = h.runtime.services
    assert services is not None
    async with h.sessionmaker() as session:
        rows = await views.overdue(
            session,
            scope=views.Scope(2026),
            now=h.clock.now(),
            settings=services.settings,
            calendar=services.calendar,
        )
    return {r.unit: r.deadline for r in rows if r.task_no == no}


async def ask(h: Harness, who: object, no: int, option: str, words: str) -> str | None:
    """申请延期 on the card, pick `option` (a button's beginning), send `words`."""
    from bot.emulator import Person

    assert isinstance(who, Person)
    card = await h.command(who, "task", str(no))
    _, choose = await h.press(who, card, texts.EXTEND_BUTTON)
    label = next(b for b in buttons(choose) if b.startswith(option))
    _, prompt = await h.press(who, choose, label)
    assert "请在一条消息中写明延至的日期和理由" in (prompt.plain or "")
    return (await h.say(who, words)).plain


async def test_an_approved_cycle_extension_moves_the_deadline_everywhere(h: Harness) -> None:
    office = await h.bound("督导办", Role.OFFICE)
    fgj = await h.bound("发改局联络员", Role.LIAISON, unit="发改局")  # a lead unit of task 16

    card = await h.command(fgj, "task", "16")
    _, choose = await h.press(fgj, card, texts.EXTEND_BUTTON)
    assert choose.plain == texts.extend_choose(16)
    assert buttons(choose) == [
        texts.extension_option(MARCH, date(2026, 3, 25)),
        texts.extension_option(None, date(2026, 12, 31)),
    ]
    _, prompt = await h.press(fgj, choose, buttons(choose)[0])
    assert "最晚可延至2026年4月23日" in (prompt.plain or "")  # the day before April's deadline
    # A date past the next deadline, or none, is refused; the text is still awaited.
    too_late = await h.say(fgj, "延至5月10日，数据尚未发布")
    assert "未识别到有效的延期日期" in (too_late.plain or "")
    no_date = await h.say(fgj, "数据尚未发布")
    assert "未识别到有效的延期日期" in (no_date.plain or "")
    assert await h.rows(Extension) == []
    done = await h.say(fgj, "延至4月3日，一季度统计数据4月初发布")
    assert done.plain == texts.extension_requested(16, 1)
    await drain(h)
    asked = await h.people.wait_for_bot_message(office.id, lambda m: "延期申请" in (m.plain or ""))
    assert "发改局申请3月报送由3月25日" in (asked.plain or "")
    assert buttons(asked) == [texts.EXTEND_APPROVE_BUTTON, texts.EXTEND_REFUSE_BUTTON]
    # Undecided: nothing moves. After the deadline 发改局 is overdue from March 25.
    h.clock.set(datetime(2026, 3, 27, 9, 0, tzinfo=START.tzinfo))
    assert (await overdue_units(h, 16))["发改局"] == date(2026, 3, 25)
    # The same deadline cannot be asked twice while the first is undecided.
    card = await h.command(fgj, "task", "16")
    _, choose = await h.press(fgj, card, texts.EXTEND_BUTTON)
    assert not any(b.startswith("3月报送") for b in buttons(choose))

    _, decided = await h.press(office, asked, texts.EXTEND_APPROVE_BUTTON)
    assert "已同意" in (decided.plain or "")
    await drain(h)
    told = await h.people.wait_for_bot_message(fgj.id, lambda m: "延期已同意" in (m.plain or ""))
    assert "3月报送由3月25日延至2026年4月3日" in (told.plain or "")
    # Approved: not overdue until April 3 (the other lead unit still is), then from April 3.
    late = await overdue_units(h, 16)
    assert "发改局" not in late and late["资源局"] == date(2026, 3, 25)
    tasks = await h.command(fgj, "tasks")
    assert "第16项" in (tasks.plain or "")
    card = await h.command(office, "task", "16")
    assert "延期申请" in (card.plain or "") and "已同意" in (card.plain or "")
    h.clock.set(datetime(2026, 4, 7, 9, 0, tzinfo=START.tzinfo))
    assert (await overdue_units(h, 16))["发改局"] == date(2026, 4, 3)
    audit = sorted(a.action for a in await h.rows(AuditEntry) if a.action.startswith("extension"))
    assert audit == ["extension_approved", "extension_request"]


async def test_a_refused_extension_keeps_the_date_and_only_the_office_decides(
    h: Harness,
) -> None:
    office = await h.bound("督导办", Role.OFFICE)
    leader = await h.bound("吴振强", Role.LEADER, leader="吴振强")  # supervises task 16
    fgj = await h.bound("发改局联络员", Role.LIAISON, unit="发改局")
    other = await h.bound("商务局联络员", Role.LIAISON, unit="商务局")  # not on task 16
    sixteen = await task_id(h, 16)

    await ask(h, fgj, 16, "3月报送", "延至4月3日，数据未发布")
    [row] = await h.rows(Extension)
    # The applicant and a leader (the office decides by default) cannot decide it.
    for who in (fgj, leader):
        message = await h.command(who, "help")
        for data in (f"exa:{row.id}", f"exr:{row.id}"):
            answer = await h.press_data(who, message.message_id, data)
            assert answer and "已同意" not in answer
        await h.say(who, "同意")
    assert (await h.rows(Extension))[0].state == "requested"
    # A unit not on the task cannot ask; a forged id changes nothing.
    message = await h.command(other, "help")
    assert await h.press_data(other, message.message_id, f"exq:{sixteen}")
    assert await h.press_data(other, message.message_id, f"exk:{sixteen}:{MARCH}")
    await h.say(other, "延至4月3日")
    assert len(await h.rows(Extension)) == 1
    message = await h.command(office, "help")
    assert await h.press_data(office, message.message_id, "exa:999999") == texts.EXTEND_STALE

    card = await h.command(office, "task", "16")
    _, prompt = await h.press(office, card, texts.extension_button(False, "发改局"))
    assert "不予延期" in (prompt.plain or "")
    refused = await h.say(office, "数据可先报初步数，请按期报送。")
    assert "未同意" in (refused.plain or "")
    await drain(h)
    told = await h.people.wait_for_bot_message(fgj.id, lambda m: "延期未同意" in (m.plain or ""))
    assert "数据可先报初步数" in (told.plain or "")
    assert (await h.rows(Extension))[0].state == "refused"
    assert await h.press_data(office, card.message_id, f"exa:{row.id}") == texts.EXTEND_STALE
    h.clock.set(datetime(2026, 3, 27, 9, 0, tzinfo=START.tzinfo))
    assert (await overdue_units(h, 16))["发改局"] == date(2026, 3, 25)


@pytest.fixture
async def hl(engine: AsyncEngine, database_url: str) -> AsyncIterator[Harness]:
    """The bot with EXTENSION_APPROVER=leader."""
    harness = await start_harness(
        database_url, now=START, settings={"extension_approver": "leader"}
    )
    try:
        yield harness
    finally:
        await stop_harness(harness)
    assert harness.errors == [], f"handler errors: {harness.errors!r}"


async def test_the_tasks_leader_approves_moving_the_tasks_deadline(hl: Harness) -> None:
    h = hl
    office = await h.bound("督导办", Role.OFFICE)
    wu = await h.bound("吴振强", Role.LEADER, leader="吴振强")  # supervises task 16
    chen = await h.bound("陈志慧", Role.LEADER, leader="陈志慧")  # does not
    fgj = await h.bound("发改局联络员", Role.LIAISON, unit="发改局")
    gxj = await h.bound("工信局联络员", Role.LIAISON, unit="工信局")  # co-responsible

    # Only a lead unit may ask to move the task's own deadline; a co-responsible unit that
    # owes no reports has nothing to move.
    card = await h.command(gxj, "task", "16")
    assert texts.EXTEND_BUTTON not in buttons(card)
    sixteen = await task_id(h, 16)
    assert await h.press_data(gxj, card.message_id, f"exk:{sixteen}:t") == texts.EXTEND_STALE

    said = await ask(h, fgj, 16, "任务完成时限", "延至2027年3月31日，征地报批周期较长")
    assert said == texts.extension_requested(16, 2)  # the leader (decides) and the office
    await drain(h)
    asked = await h.people.wait_for_bot_message(wu.id, lambda m: "延期申请" in (m.plain or ""))
    assert buttons(asked) == [texts.EXTEND_APPROVE_BUTTON, texts.EXTEND_REFUSE_BUTTON]
    told = await h.people.wait_for_bot_message(office.id, lambda m: "延期申请" in (m.plain or ""))
    assert buttons(told) == []
    [row] = await h.rows(Extension)
    for who in (office, chen):  # the office and another leader do not decide it
        message = await h.command(who, "help")
        assert await h.press_data(who, message.message_id, f"exa:{row.id}") == texts.DENIED
    assert (await h.rows(Extension))[0].state == "requested"

    _, decided = await h.press(wu, asked, texts.EXTEND_APPROVE_BUTTON)
    assert "已同意" in (decided.plain or "")
    await drain(h)
    await h.people.wait_for_bot_message(fgj.id, lambda m: "延期已同意" in (m.plain or ""))
    await h.people.wait_for_bot_message(office.id, lambda m: "延期已同意" in (m.plain or ""))
    # The task's period ends later: the lights read the new end.
    services = h.runtime.services
    assert services is not None
    h.clock.advance(timedelta(minutes=1))
    async with h.sessionmaker() as session:
        found = await views.boards(
            session,
            scope=views.Scope(2026, task_id=await task_id(h, 16)),
            now=h.clock.now(),
            settings=services.settings,
            calendar=services.calendar,
        )
    assert found.boards[0].end == date(2027, 3, 31)
    card = await h.command(office, "task", "16")
    assert "任务完成时限由12月31日延至2027年3月31日" in (card.plain or "")
    assert "（已同意）" in (card.plain or "")
