"""Several people at once: on PostgreSQL their updates are handled side by side (lanes).

Each person's updates are still handled in the order they were sent, and everyone's answers
and rows are what one-at-a-time handling gives. SQLite handles one update at a time.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from bot import texts
from bot.domain.roles import Role
from db.models import Report, ReportDraft, Task, TaskUnit, Unit
from tests.flows.test_report import REPLY
from tests.harness import WAIT, Harness


async def lead_units(h: Harness, count: int) -> list[tuple[str, int]]:
    """`count` units that lead a task, with the number of one task each leads."""
    async with h.sessionmaker() as session:
        rows = (
            await session.execute(
                select(Unit.name, Task.no)
                .join(TaskUnit, TaskUnit.unit_id == Unit.id)
                .join(Task, Task.id == TaskUnit.task_id)
                .where(TaskUnit.role == "lead", Unit.kind != "group")
                .order_by(Unit.id, Task.no)
            )
        ).all()
    first: dict[str, int] = {}
    for name, no in rows:
        first.setdefault(name, no)
    return list(first.items())[:count]


async def test_people_reporting_at_once_are_each_answered_in_order(h: Harness) -> None:
    units = await lead_units(h, 6)
    people = [await h.bound(f"{name}联络员", Role.LIAISON, unit=name) for name, _ in units]
    pump = h.runtime.pump
    assert pump is not None
    pump.peak_in_flight = 0

    # Everyone sends /report and then, without waiting, /cancel: six people's updates in the
    # inbox together, two of each person's.
    async def two(person_id: int) -> None:
        await h.people.send_command(person_id, "report")
        await h.people.send_command(person_id, "cancel")

    await asyncio.gather(*(two(p.id) for p in people))
    for person in people:
        picker, cancelled = await h.people.wait_for_bot_messages(person.id, 2, timeout=WAIT)
        assert "请选择" in (picker.plain or ""), picker.plain
        assert cancelled.plain == texts.CANCELLED  # the /cancel was handled after the /report
    assert await h.rows(ReportDraft) == []

    # Then everyone reports one task at the same moment: the reports are all stored.
    for person, (_, no) in zip(people, units, strict=True):
        picker = await h.command(person, "report")
        label = f"第{no}项 "
        while not any(b.text.startswith(label) for row in picker.buttons for b in row):
            _, picker = await h.press(person, picker, "下一页 ›")
        button = next(b.text for row in picker.buttons for b in row if b.text.startswith(label))
        await h.press(person, picker, button)
    await asyncio.gather(*(h.people.send_message(p.id, REPLY) for p in people))
    cards = [await h.people.wait_for_bot_message(p.id, timeout=WAIT) for p in people]
    assert all("进展报送确认" in (card.plain or "") for card in cards)
    queries = await asyncio.gather(
        *(
            h.people.press_button(p.id, card.message_id, text="确认提交")
            for p, card in zip(people, cards, strict=True)
        )
    )
    answers = [await h.people.wait_for_callback_answer(q.id, timeout=WAIT) for q in queries]
    assert [a.text for a in answers] == ["已提交"] * len(people)
    reports = await h.rows(Report)
    assert sorted(r.tg_user_id for r in reports) == sorted(p.id for p in people)

    if h.engine.dialect.name == "postgresql":
        assert pump.lanes == h.runtime.settings.update_lanes > 1
        assert pump.peak_in_flight > 1, "no two people's updates were handled at once"
    else:
        assert pump.lanes == 1
        assert pump.peak_in_flight == 1
