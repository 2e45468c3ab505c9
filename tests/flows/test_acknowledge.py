"""签收 (issue 21): a lead unit's liaison acknowledges its tasks — all at once from the welcome
or /tasks, one from its card — and a forged press acknowledges nothing."""

from __future__ import annotations

import re

from sqlalchemy import select

from bot import texts
from bot.domain.roles import Role
from bot.runtime.scheduling import run_planning
from db.models import Acknowledgement, AuditEntry, Task, TaskUnit, Unit
from tests.flows.test_office import buttons
from tests.flows.test_reminders import at, drain, plan
from tests.harness import Harness


async def lead_tasks(h: Harness, unit: str) -> list[int]:
    """The 序号 of the tasks `unit` is named lead unit of (directly), in order."""
    async with h.sessionmaker() as session:
        rows = await session.scalars(
            select(Task.no)
            .join(TaskUnit, TaskUnit.task_id == Task.id)
            .join(Unit, Unit.id == TaskUnit.unit_id)
            .where(Unit.name == unit, TaskUnit.role == "lead")
            .order_by(Task.no)
        )
        return list(dict.fromkeys(rows))


async def acknowledged(h: Harness) -> set[tuple[int, str]]:
    async with h.sessionmaker() as session:
        rows = await session.execute(
            select(Task.no, Unit.name)
            .select_from(Acknowledgement)
            .join(Task, Task.id == Acknowledgement.task_id)
            .join(Unit, Unit.id == Acknowledgement.unit_id)
        )
        return {(no, unit) for no, unit in rows.all()}


async def test_a_liaison_acknowledges_one_task_then_all(h: Harness) -> None:
    leads = await lead_tasks(h, "发改局")
    assert 6 in leads and len(leads) > 2
    liaison = await h.person("发改局联络员")
    code = await h.invite_code(Role.LIAISON, unit="发改局")
    welcome = await h.start(liaison, code)
    assert texts.ack_request(len(leads)) in (welcome.plain or "")
    assert buttons(welcome) == [texts.ack_all_button(len(leads))]

    # One task from its card: the card keeps its text and says it was acknowledged.
    card = await h.command(liaison, "task", "6")
    assert texts.ACK_ONE_BUTTON in buttons(card)
    said, card = await h.press(liaison, card, texts.ACK_ONE_BUTTON)
    assert said == texts.ack_answer(1)
    assert "第6项任务" in (card.plain or "") and "签收第6项任务。" in (card.plain or "")
    assert texts.ACK_ONE_BUTTON not in buttons(card)
    assert await acknowledged(h) == {(6, "发改局")}

    # /tasks asks for the rest; the welcome's button acknowledges what is left.
    listing = await h.command(liaison, "tasks")
    assert texts.ack_request(len(leads) - 1) in (listing.plain or "")
    said, welcome = await h.press(liaison, welcome, texts.ack_all_button(len(leads)))
    assert said == texts.ack_answer(len(leads) - 1)
    assert "绑定成功" in (welcome.plain or "")  # the welcome is kept, the result added
    assert re.search(r"✅ 已于.+签收第[\d、]+项任务。", welcome.plain or "")
    assert buttons(welcome) == []
    assert await acknowledged(h) == {(no, "发改局") for no in leads}
    listing = await h.command(liaison, "tasks")
    assert "未签收" not in (listing.plain or "") and not any("签收" in b for b in buttons(listing))

    # Nothing left: a second press says so and changes nothing.
    answer = await h.press_data(liaison, listing.message_id, "ak:a")
    assert answer == texts.ACK_NOTHING
    audit = [a for a in await h.rows(AuditEntry) if a.action == "acknowledge"]
    assert len(audit) == 2 and all(a.actor_user_id == liaison.id for a in audit)


async def test_a_forged_press_acknowledges_nothing(h: Harness) -> None:
    liaison = await h.bound("工信局联络员", Role.LIAISON, unit="工信局")
    leads = await lead_tasks(h, "工信局")
    others = [no for no in range(1, 89) if no not in leads]
    async with h.sessionmaker() as session:
        foreign = await session.scalar(select(Task.id).where(Task.no == others[0]))
    message = await h.command(liaison, "help")
    for data in (f"ak:t:{foreign}", "ak:t:999999", "ak:x", "ak:t:abc"):
        answer = await h.press_data(liaison, message.message_id, data)
        assert answer in (texts.ACK_NOT_PENDING, texts.STALE_BUTTON), data
    assert await acknowledged(h) == set()
    # The office cannot acknowledge for a unit.
    office = await h.bound("督导办", Role.OFFICE)
    message = await h.command(office, "help")
    await h.press_data(office, message.message_id, "ak:a")
    assert await acknowledged(h) == set()


async def test_unacknowledged_tasks_are_reminded_once_and_shown_to_the_office(
    h: Harness,
) -> None:
    h.clock.set(at(3, 16, 10))  # Monday: bound after the day's reminder time
    fgj = await h.bound("发改局联络员", Role.LIAISON, unit="发改局")
    gxj = await h.bound("工信局联络员", Role.LIAISON, unit="工信局")
    office = await h.bound("督导办", Role.OFFICE)
    leads = await lead_tasks(h, "发改局")
    welcome = await h.people.bot_messages(gxj.id)
    await h.press(gxj, welcome[-1], texts.ack_all_button(len(await lead_tasks(h, "工信局"))))

    units = (await h.command(office, "units")).plain or ""
    assert f"未签收{len(leads)}项" in units and "已绑定单位中1个单位" in units

    # Tuesday: one workday after binding, no reminder yet; Wednesday: two, reminded.
    await plan(h, at(3, 17))
    await drain(h)
    assert not any("尚未签收" in (m.plain or "") for m in await h.people.bot_messages(fgj.id))
    await plan(h, at(3, 18))
    await drain(h)
    reminder = await h.people.wait_for_bot_message(fgj.id, lambda m: "尚未签收" in (m.plain or ""))
    assert f"发改局：您单位牵头的以下{len(leads)}项任务尚未签收" in (reminder.plain or "")
    assert buttons(reminder) == [texts.ack_all_button(len(leads))]
    assert not any("尚未签收" in (m.plain or "") for m in await h.people.bot_messages(gxj.id))
    # Again the same day, and the next day: nothing more (once per task).
    assert h.runtime.services is not None
    await run_planning(h.runtime.services, None)
    await plan(h, at(3, 19))
    await drain(h)
    reminders = [m for m in await h.people.bot_messages(fgj.id) if "尚未签收" in (m.plain or "")]
    assert len(reminders) == 1
    # Pressed: all acknowledged, and the office sees none left.
    said, _ = await h.press(fgj, reminder, texts.ack_all_button(len(leads)))
    assert said == texts.ack_answer(len(leads))
    units = (await h.command(office, "units")).plain or ""
    assert "未签收" not in units


async def test_the_request_rides_on_the_days_reminder(h: Harness) -> None:
    """A liaison who gets a report reminder the day 签收 is asked for gets one message."""
    h.clock.set(at(3, 20, 10))  # Friday, after the first notice of the 25 March deadline
    gxj = await h.bound("工信局联络员", Role.LIAISON, unit="工信局")
    leads = await lead_tasks(h, "工信局")
    seen = len(await h.people.bot_messages(gxj.id))
    await plan(h, at(3, 23))  # one workday after binding: the reminder alone
    await drain(h)
    await plan(h, at(3, 24))  # two: the day-before reminder, with the request at its end
    await drain(h)
    got = (await h.people.bot_messages(gxj.id))[seen:]
    assert len(got) == 2
    assert "另：本单位尚有" not in (got[0].plain or "") and buttons(got[0]) == []
    body = got[1].plain or ""
    assert "进展尚未报送" in body and f"另：本单位尚有{len(leads)}项牵头任务未签收" in body
    assert buttons(got[1]) == [texts.ack_all_button(len(leads))]
    # Its button acknowledges them.
    said, _ = await h.press(gxj, got[1], texts.ack_all_button(len(leads)))
    assert said == texts.ack_answer(len(leads))


async def test_the_ledger_says_who_has_not_acknowledged(h: Harness) -> None:
    from io import BytesIO

    from openpyxl import load_workbook

    from bot.services.export import export_ledger

    liaison = await h.bound("发改局联络员", Role.LIAISON, unit="发改局")
    card = await h.command(liaison, "task", "6")
    await h.press(liaison, card, texts.ACK_ONE_BUTTON)
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
    column = list(texts.LEDGER_HEADERS).index("签收")
    cells: dict[object, object] = {
        row[0]: row[column] for row in sheet.iter_rows(values_only=True) if isinstance(row[0], int)
    }
    assert cells[6] == "已签收"  # 发改局 is task 6's only lead unit
    assert cells[1] == "未签收：发改局"
