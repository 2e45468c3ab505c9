"""签收 (issue 21): a lead unit's liaison acknowledges its tasks — all at once from the welcome
or /tasks, one from its card — and a forged press acknowledges nothing."""

from __future__ import annotations

import re

from sqlalchemy import select

from bot import texts
from bot.domain.roles import Role
from db.models import Acknowledgement, AuditEntry, Task, TaskUnit, Unit
from tests.flows.test_office import buttons
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
