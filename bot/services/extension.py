"""延期申请 (issue 21): a unit asks to move the deadline of the cycle it owes now, or (a lead
unit) the task's own deadline, with a new date and a reason; the office — or, with
EXTENSION_APPROVER=leader, the task's supervising leader — approves or refuses with a comment.

An approved cycle extension moves that cycle's deadline for that unit in the obligation rule
(`bot.domain.obligations.moved`): reminders, overdue, 催办, lights and the record all read the
new date. It may not pass the next cycle's deadline (the cycles keep their order; a longer delay
is the task's deadline). An approved task extension moves the end of the task's period: the
time-elapsed schedule (序时进度) and the "period ended" reason read it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from bot import texts
from bot.domain.dates import parse_due_date
from bot.domain.model import ExtensionNote, TaskInfo
from bot.domain.obligations import duty, extension_limit
from bot.domain.roles import Principal, Role, UnitRef
from bot.services import closeout, reporting
from bot.services.desk import Desk
from db import loop, people
from db.models import Contact, Extension

EXTEND = "extend"  # the awaited texts' actions
REFUSE = "extend_refuse"
ACTIONS = (EXTEND, REFUSE)
MAX_LENGTH = 500
KIND = "extension"  # the outbox messages' kind
TASK = "t"  # the option naming the task's own deadline


@dataclass(frozen=True, slots=True)
class Option:
    """A deadline the unit may ask to move: a cycle's (key) or the task's own (None)."""

    cycle_key: str | None
    deadline: date  # as it stands (an approved extension included)
    limit: date  # the latest date it may move to


async def task_end(desk: Desk, task: TaskInfo) -> date:
    """The task's own deadline: the end of its year, or as an approved extension moved it."""
    _, ends = await loop.approved(desk.session, [task.id])
    return ends.get(task.id, date(task.year, 12, 31))


async def options(desk: Desk, task: TaskInfo, unit: UnitRef) -> list[Option] | str:
    """What the unit may ask to move now, or why nothing (a text)."""
    part = task.part(unit.id)
    if part is None:
        return texts.EXTEND_NOT_YOURS
    if task.completed_on is not None:
        return texts.CLOSE_TASK_DONE
    end = await task_end(desk, task)
    out: list[Option] = []
    terms, reported = await reporting.unit_terms(desk, task, unit.id)
    d = duty(terms, reported, desk.now)
    chased = d.chased if part.owes and not d.done else None
    today = desk.now.astimezone(desk.settings.tz).date()
    if chased is not None:
        limit = extension_limit(terms.cycles, chased.key) or end
        if limit > chased.deadline and limit >= today:
            out.append(Option(chased.key, chased.deadline, limit))
    if part.lead:
        out.append(Option(None, end, date(task.year + 1, 12, 31)))
    out = [
        o
        for o in out
        if await loop.pending_extension(desk.session, task.id, unit.id, o.cycle_key) is None
    ]
    return out or texts.EXTEND_NOTHING


async def option(desk: Desk, task: TaskInfo, unit: UnitRef, key: str) -> Option | None:
    """The option named by a button (`TASK` or a cycle key), if it is still open."""
    found = await options(desk, task, unit)
    if isinstance(found, str):
        return None
    wanted = None if key == TASK else key
    return next((o for o in found if o.cycle_key == wanted), None)


def read_date(desk: Desk, found: Option, text: str) -> date | None:
    """The new date a request names, if it may be asked: after the deadline as it stands, not
    before today, not past the option's limit."""
    today = desk.now.astimezone(desk.settings.tz).date()
    named = parse_due_date(text, today, desk.calendar)
    if named is None or not (found.deadline < named <= found.limit and named >= today):
        return None
    return named


async def request(
    desk: Desk, task: TaskInfo, unit: UnitRef, found: Option, new_date: date, *, by: int, text: str
) -> int:
    """Store the request and send it to who approves (with 同意 / 不予 buttons) and the office;
    how many people it went to."""
    row = await loop.add_extension(
        desk.session,
        task_id=task.id,
        unit_id=unit.id,
        cycle_key=found.cycle_key,
        old_date=found.deadline,
        new_date=new_date,
        reason=text,
        by_user_id=by,
        now=desk.now,
    )
    body = texts.extension_request(task.no, task.text, unit.name, _note(row, unit.name))
    buttons = {
        "inline_keyboard": [
            [
                {"text": texts.EXTEND_APPROVE_BUTTON, "callback_data": f"exa:{row.id}"},
                {"text": texts.EXTEND_REFUSE_BUTTON, "callback_data": f"exr:{row.id}"},
            ]
        ]
    }
    leaders_decide = desk.settings.extension_approver == "leader"
    recipients: dict[int, tuple[Contact, bool]] = {}
    if leaders_decide:
        for contact in await people.contacts_with_role(desk.session, Role.LEADER):
            if contact.reachable and contact.leader_id in task.leader_ids:
                recipients.setdefault(contact.chat_id, (contact, True))
    for contact in await people.contacts_with_role(desk.session, Role.OFFICE):
        if contact.reachable:
            recipients.setdefault(contact.chat_id, (contact, not leaders_decide))
    sent = 0
    for chat_id, (contact, decides) in recipients.items():
        markup = buttons if decides else None
        key = f"extend:{row.id}:{chat_id}"
        sent += await closeout.send(desk, contact, body, key, markup, kind=KIND)
    await _audit(desk, by, "extension_request", row, {"new_date": new_date.isoformat()})
    return sent


async def extension(desk: Desk, extension_id: int) -> tuple[TaskInfo, Extension] | None:
    """A request with its task."""
    row = await loop.extension_by_id(desk.session, extension_id)
    task = await reporting.task(desk, row.task_id) if row is not None else None
    return (task, row) if row is not None and task is not None else None


def may_decide(desk: Desk, principal: Principal, task: TaskInfo) -> bool:
    """Whether the person approves this task's requests: the office, or (by setting) one of
    the task's supervising leaders. Nobody decides their own unit's request as a liaison."""
    if desk.settings.extension_approver == "leader":
        return any(x.id in task.leader_ids for x in principal.leaders)
    return principal.office


async def decide(
    desk: Desk, task: TaskInfo, row: Extension, *, approved: bool, by: int, comment: str | None
) -> int:
    """Approve or refuse; tell the unit's liaisons (and the office, when a leader decided);
    how many were told."""
    await loop.decide_extension(
        desk.session, row, approved=approved, comment=comment, by_user_id=by, now=desk.now
    )
    name = await desk.register.unit_name(desk.session, row.unit_id)
    body = texts.extension_decision(task.no, task.text, _note(row, name))
    sent = 0
    seen: set[int] = set()
    targets = (await people.contacts_for_units(desk.session, [row.unit_id]))[row.unit_id]
    if desk.settings.extension_approver == "leader":
        targets += await people.contacts_with_role(desk.session, Role.OFFICE)
    for contact in targets:
        if contact.reachable and contact.chat_id not in seen:
            seen.add(contact.chat_id)
            key = f"extend-{row.state}:{row.id}"
            sent += await closeout.send(desk, contact, body, key, None, kind=KIND)
    await _audit(desk, by, f"extension_{row.state}", row, {})
    return sent


async def on_card(desk: Desk, task_id: int) -> list[ExtensionNote]:
    """The task's requests, for its card."""
    return await loop.extensions_of_task(desk.session, [task_id])


@dataclass(frozen=True, slots=True)
class PendingRequest:
    """An undecided request, for the card's buttons."""

    id: int
    unit: str


async def pending(desk: Desk, task_id: int) -> list[PendingRequest]:
    """The task's undecided requests."""
    return [
        PendingRequest(row.id, await desk.register.unit_name(desk.session, row.unit_id))
        for row in await loop.pending_extensions(desk.session, task_id)
    ]


async def note(desk: Desk, row: Extension) -> ExtensionNote:
    """A request as the texts show it."""
    return _note(row, await desk.register.unit_name(desk.session, row.unit_id))


def _note(row: Extension, unit: str) -> ExtensionNote:
    return ExtensionNote(
        row.task_id,
        unit,
        row.cycle_key,
        row.old_date,
        row.new_date,
        row.state,
        row.reason,
        row.comment,
    )


async def _audit(desk: Desk, by: int, action: str, row: Extension, detail: dict[str, Any]) -> None:
    await people.audit(
        desk.session,
        at=desk.now,
        actor=by,
        action=action,
        target=f"task:{row.task_id}:unit:{row.unit_id}",
        detail={"extension_id": row.id, "cycle": row.cycle_key, **detail},
    )
