"""领导批示 and 提请协调 (issue 21).

批示: a supervising leader writes an instruction on a task card; it goes to the liaisons of
every unit on the task (lead and co-responsible) and to the office through the outbox, stays on
the card, and each unit's next report on the task is asked to answer it. Only a leader who
supervises the task may write one.

提请协调: a liaison of a unit on the task asks its supervising leaders to coordinate a
difficulty; the request goes to those leaders (with a 批示 button to answer) and the office,
and stays on the card. The caller is checked against the task either way (a forged button is
refused).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts
from bot.domain.model import CardNote, TaskInfo
from bot.domain.roles import LeaderRef, Role, UnitRef
from bot.services.desk import Desk
from db import instructions, outbox, people
from db.models import Contact
from db.outbox import ItemKey

INSTRUCT = "instruct"  # the awaited text's actions
REQUEST = "request"
MAX_LENGTH = 500
KIND = "instruction"  # the outbox messages' kind, and their items' cycle key
REQUEST_KIND = "coordination"
V = TypeVar("V")


def leader_of(leaders: Sequence[LeaderRef], task: TaskInfo) -> LeaderRef | None:
    """The caller's leader seat that supervises `task`, if any."""
    return next((x for x in leaders if x.id in task.leader_ids), None)


async def ask(desk: Desk, user_id: int, task: TaskInfo, leader: LeaderRef) -> None:
    """Wait for the leader's instruction text on `task`."""
    await instructions.await_text(
        desk.session, user_id, INSTRUCT, {"task_id": task.id, "leader_id": leader.id}, desk.now
    )


async def ask_request(desk: Desk, user_id: int, task: TaskInfo, unit_id: int) -> None:
    """Wait for the liaison's 提请协调 text on `task` for their unit."""
    await instructions.await_text(
        desk.session, user_id, REQUEST, {"task_id": task.id, "unit_id": unit_id}, desk.now
    )


async def request(desk: Desk, *, task: TaskInfo, unit: UnitRef, by: int, text: str) -> int:
    """Store the 提请协调 and send it to the task's supervising leaders (a 批示 button to answer)
    and the office; how many people it goes to."""
    session, now = desk.session, desk.now
    request_id = await instructions.add_request(
        session, task_id=task.id, unit_id=unit.id, by_user_id=by, text=text, now=now
    )
    recipients: dict[int, tuple[Contact, bool]] = {}  # chat → (contact, may answer with 批示)
    for contact in await people.contacts_with_role(session, Role.LEADER):
        if contact.reachable and contact.leader_id in task.leader_ids:
            recipients.setdefault(contact.chat_id, (contact, True))
    await _and_the_office(session, recipients, False)
    body = texts.request_message(task.no, task.text, unit.name, text)
    answer = {
        "inline_keyboard": [[{"text": texts.INSTRUCT_BUTTON, "callback_data": f"ins:{task.id}"}]]
    }
    for chat_id, (contact, leads) in recipients.items():
        await outbox.enqueue(
            session,
            kind=REQUEST_KIND,
            chat_id=chat_id,
            contact_id=contact.id,
            text=body,
            now=now,
            key=f"request:{request_id}:{chat_id}",
            reply_markup=answer if leads else None,
        )
    await people.audit(
        session,
        at=now,
        actor=by,
        action="coordination_request",
        target=f"task:{task.id}",
        detail={"request_id": request_id, "unit_id": unit.id, "recipients": len(recipients)},
    )
    return len(recipients)


async def awaited(desk: Desk, user_id: int) -> dict[str, Any] | None:
    """What the person's next text is awaited for (within the draft timeout), if anything."""
    ttl = timedelta(minutes=desk.settings.draft_timeout_minutes)
    return await instructions.awaited(desk.session, user_id, desk.now, ttl)


async def stop(desk: Desk, user_id: int) -> bool:
    """Stop waiting for the person's text; whether anything was awaited."""
    return await instructions.stop_awaiting(desk.session, user_id)


async def instruct(desk: Desk, *, task: TaskInfo, leader: LeaderRef, by: int, text: str) -> int:
    """Store the instruction and send it to the task's units' liaisons and the office; how many
    people it goes to."""
    session, now = desk.session, desk.now
    instruction_id = await instructions.add(
        session, task_id=task.id, leader_id=leader.id, by_user_id=by, text=text, now=now
    )
    # (contact, unit on the task or None for the office), one message per chat: the liaisons'
    # messages name the task and unit (a reply is a report on it), the office's does not.
    recipients: dict[int, tuple[Contact, int | None]] = {}
    liaisons = await people.contacts_for_units(session, [u.unit_id for u in task.units])
    for unit_id, contacts in liaisons.items():
        for contact in contacts:
            if contact.reachable:
                recipients.setdefault(contact.chat_id, (contact, unit_id))
    await _and_the_office(session, recipients, None)
    step = f"ins-{instruction_id}"
    for chat_id, (contact, on_task) in recipients.items():
        body = texts.instruction_message(
            task.no, task.text, leader.name, text, to_unit=on_task is not None
        )
        await outbox.enqueue(
            session,
            kind=KIND,
            chat_id=chat_id,
            contact_id=contact.id,
            text=body,
            now=now,
            key=f"instruction:{instruction_id}:{chat_id}",
            items=[] if on_task is None else [ItemKey(task.id, on_task, KIND, step, contact.id)],
        )
    await people.audit(
        session,
        at=now,
        actor=by,
        action="instruct",
        target=f"task:{task.id}",
        detail={"instruction_id": instruction_id, "recipients": len(recipients)},
    )
    return len(recipients)


async def _and_the_office(
    session: AsyncSession, recipients: dict[int, tuple[Contact, V]], value: V
) -> None:
    """Add the office's reachable accounts to `recipients` (chat → (contact, `value`)) unless
    their chat is there already: one message per chat."""
    for contact in await people.contacts_with_role(session, Role.OFFICE):
        if contact.reachable:
            recipients.setdefault(contact.chat_id, (contact, value))


async def on_card(desk: Desk, task_id: int) -> tuple[list[CardNote], list[CardNote]]:
    """The task's latest instructions and 提请协调, for its card."""
    return (
        await instructions.of_task(desk.session, task_id, limit=3),
        await instructions.requests_of_task(desk.session, task_id, limit=3),
    )


async def to_answer(desk: Desk, task_id: int, unit_id: int) -> list[CardNote]:
    """The instructions a unit's report on the task is asked to answer."""
    return await instructions.unanswered(desk.session, task_id, unit_id)
