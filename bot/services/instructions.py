"""领导批示 (issue 21): a supervising leader writes an instruction on a task card; it goes to
the liaisons of every unit on the task (lead and co-responsible) and to the office through the
outbox, stays on the card, and each unit's next report on the task is asked to answer it.

Only a leader who supervises the task may write one: the caller is checked against the task
(a forged button is refused).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from bot import texts
from bot.domain.model import InstructionView, TaskInfo
from bot.domain.roles import LeaderRef, Role
from bot.services.desk import Desk
from db import instructions, outbox, people
from db.models import Contact
from db.outbox import ItemKey

INSTRUCT = "instruct"  # the awaited text's action
MAX_LENGTH = 500
KIND = "instruction"  # the outbox messages' kind, and their items' cycle key


def leader_of(leaders: Sequence[LeaderRef], task: TaskInfo) -> LeaderRef | None:
    """The caller's leader seat that supervises `task`, if any."""
    return next((x for x in leaders if x.id in task.leader_ids), None)


async def ask(desk: Desk, user_id: int, task: TaskInfo, leader: LeaderRef) -> None:
    """Wait for the leader's instruction text on `task`."""
    await instructions.await_text(
        desk.session, user_id, INSTRUCT, {"task_id": task.id, "leader_id": leader.id}, desk.now
    )


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
    for contact in await people.contacts_with_role(session, Role.OFFICE):
        if contact.reachable:
            recipients.setdefault(contact.chat_id, (contact, None))
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


async def on_card(desk: Desk, task_id: int) -> list[InstructionView]:
    """The task's latest instructions, for its card."""
    return await instructions.of_task(desk.session, task_id, limit=3)


async def to_answer(desk: Desk, task_id: int, unit_id: int) -> list[InstructionView]:
    """The instructions a unit's report on the task is asked to answer."""
    return await instructions.unanswered(desk.session, task_id, unit_id)
