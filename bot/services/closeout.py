"""退回重报 and 办结销号 (issue 21): the office returns a report, a lead unit applies to close
its part of a task, the office closes it (销号), refuses it, or reopens it.

Returned: the unit's reports of that cycle stop counting (db.loop.recount): the cycle is
unreported again, so the obligation rule chases it as it chases any unreported cycle (reminders,
overdue, 催办) until a new report. Only a report whose cycle a new report would still be
credited to may be returned (`bot.domain.obligations.correctable`): otherwise the return could
only turn a report into a permanent miss.

Close-out: the application is the unit's report stating 100% with what was done, so from that
moment its part owes nothing more (the completion rule), while the office verifies. 销号 keeps
it so and, when every lead unit's part is closed, marks the task complete (every unit on it
stops owing). Refusing or reopening sets aside the 100% the unit stated so far: its part owes
reports again from the open cycle on, and a task closed by 销号 opens again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot import texts
from bot.domain.model import PartClosure, ReturnNote, TaskInfo
from bot.domain.obligations import COMPLETE, correctable, credit
from bot.domain.roles import Role, UnitRef
from bot.services import reporting
from bot.services.desk import Desk
from db import evidence, instructions, loop, outbox, people, progress
from db.loop import APPLIED, CLOSED, REFUSED, REOPENED
from db.models import Closure, Contact, Report, Task
from db.years import bump_register_version

RETURN = "return"  # the awaited texts' actions (and CLOSE, decided on the button)
APPLY = "close_apply"
CLOSE = "close"
REFUSE = "close_refuse"
REOPEN = "close_reopen"
ACTIONS = (RETURN, APPLY, REFUSE, REOPEN)
MAX_LENGTH = 500
KIND = "closeout"  # the outbox messages' kind


# --- 退回重报 -------------------------------------------------------------------------------------


async def returnable(desk: Desk, task: TaskInfo) -> list[Report]:
    """Per unit on the task, its newest counted report if the office may return it now."""
    if task.completed_on is not None:
        return []
    out = []
    # A part applying for 销号, or closed, is decided by 不予销号 or 重新打开, not by a return.
    decided = {
        unit_id
        for (_, unit_id), row in (await loop.closures(desk.session, [task.id])).items()
        if row.state in (APPLIED, CLOSED)
    }
    units = [u.unit_id for u in task.units if u.unit_id not in decided]
    counted = await loop.counted_reports(desk.session, task.id, units)
    found = await reporting.units_terms(desk, task, [r.unit_id for r in counted])
    for report in counted:
        terms, reported = found[report.unit_id]
        if correctable(terms, reported, report.cycle_key, desk.now):
            out.append(report)
    return sorted(out, key=lambda r: _position(task, r.unit_id))


async def returnable_report(desk: Desk, report_id: int) -> tuple[TaskInfo, Report] | None:
    """The report with its task if the office may return it now (it is its unit's newest
    counted report and its cycle may still be reported)."""
    found = await desk.session.get(Report, report_id)
    task = await reporting.task(desk, found.task_id) if found is not None else None
    if found is None or task is None:
        return None
    return (task, found) if any(r.id == found.id for r in await returnable(desk, task)) else None


async def returns_of_task(desk: Desk, task_id: int) -> list[ReturnNote]:
    """The task's latest returns, for its card."""
    return await loop.returns_of_task(desk.session, task_id)


async def returned(desk: Desk, report_ids: Sequence[int]) -> dict[int, str]:
    """Which of these reports were returned, with the comment (for the history)."""
    return await loop.returned(desk.session, report_ids)


async def ask(desk: Desk, user_id: int, action: str, data: dict[str, Any]) -> None:
    """Wait for the person's text for `action` (a comment or an application)."""
    await instructions.await_text(desk.session, user_id, action, data, desk.now)


async def return_report(desk: Desk, task: TaskInfo, report: Report, *, by: int, text: str) -> int:
    """Return the report with the office's comment, tell the unit's liaisons (with a button to
    report again) and audit it; how many people were told."""
    return_id = await loop.add_return(
        desk.session, report=report, comment=text, by_user_id=by, now=desk.now
    )
    body = texts.returned_message(task.no, task.text, report.cycle_key, text)
    again = {
        "inline_keyboard": [[{"text": texts.REPORT_AGAIN_BUTTON, "callback_data": f"rt:{task.id}"}]]
    }
    sent = await _tell_unit(desk, report.unit_id, body, f"return:{return_id}", again)
    await people.audit(
        desk.session,
        at=desk.now,
        actor=by,
        action="return_report",
        target=f"task:{task.id}:unit:{report.unit_id}",
        detail={"return_id": return_id, "report_id": report.id, "cycle": report.cycle_key},
    )
    return sent


# --- 办结销号 -------------------------------------------------------------------------------------


async def parts(desk: Desk, task: TaskInfo) -> list[PartClosure]:
    """The task's lead units with their close-out states, in the notice's order."""
    found = await loop.closures(desk.session, [task.id])
    out = []
    for unit in task.units:
        if unit.lead:
            row = found.get((task.id, unit.unit_id))
            out.append(
                PartClosure(
                    unit.unit_id,
                    unit.name,
                    row.state if row else None,
                    row.id if row else None,
                    row.comment if row else None,
                )
            )
    return out


async def may_apply(
    desk: Desk, units: Sequence[UnitRef], task_id: int, year: int
) -> tuple[TaskInfo, UnitRef] | str:
    """The task and lead unit the caller may apply for, or why not (a text)."""
    owned = await reporting.own_task(desk, units, year, task_id)
    if owned is None:
        return texts.CLOSE_NOT_YOURS
    task, unit = owned
    part = task.part(unit.id)
    if part is None or not part.lead:
        return texts.CLOSE_LEAD_ONLY
    if task.completed_on is not None:
        return texts.CLOSE_TASK_DONE
    row = await loop.closure(desk.session, task.id, unit.id)
    if row is not None and row.state == APPLIED:
        return texts.CLOSE_PENDING
    if row is not None and row.state == CLOSED:
        return texts.CLOSE_ALREADY
    return task, unit


async def apply(desk: Desk, task: TaskInfo, unit: UnitRef, *, by: int, text: str) -> int:
    """Store the application (a report stating 100% with what was done) and send it to the
    office with 销号 / 不予销号 buttons; how many people it went to."""
    terms, reported = await reporting.unit_terms(desk, task, unit.id)
    cycle = credit(terms, reported, desk.now)
    contact_id = await people.liaison_contact_id(desk.session, user_id=by, unit_ids=[unit.id])
    report_id = await progress.add_report(
        desk.session,
        task_id=task.id,
        unit_id=unit.id,
        cycle_key=cycle.key if cycle is not None else f"{task.year}-12",
        text=text,
        percent=COMPLETE,
        contact_id=contact_id,
        tg_user_id=by,
        source_key=f"closure:{task.id}:{unit.id}:{desk.now.isoformat()}",
        now=desk.now,
    )
    files = await evidence.link_to_report(desk.session, task.id, unit.id, report_id)
    row = await loop.apply(
        desk.session,
        task_id=task.id,
        unit_id=unit.id,
        report_id=report_id,
        by_user_id=by,
        now=desk.now,
    )
    body = texts.close_application(task.no, task.text, unit.name, text, files)
    buttons = {
        "inline_keyboard": [
            [
                {"text": texts.CLOSE_BUTTON, "callback_data": f"clo:{row.id}"},
                {"text": texts.CLOSE_REFUSE_BUTTON, "callback_data": f"clr:{row.id}"},
            ]
        ]
    }
    sent = 0
    for contact_ in await people.contacts_with_role(desk.session, Role.OFFICE):
        if contact_.reachable:
            sent += await send(desk, contact_, body, f"close-apply:{row.id}:{report_id}", buttons)
    await _audit(desk, by, "close_apply", row, {"report_id": report_id})
    return sent


@dataclass(frozen=True, slots=True)
class Decided:
    """What a 销号 decision did, for the office's reply."""

    task_no: int
    unit: str
    task_closed: bool = False  # every lead unit is closed: the task is complete
    task_reopened: bool = False  # the task had been closed by 销号 and is open again


async def closure(desk: Desk, closure_id: int) -> tuple[TaskInfo, Closure] | None:
    """A close-out row with its task."""
    row = await loop.closure_by_id(desk.session, closure_id)
    task = await reporting.task(desk, row.task_id) if row is not None else None
    return (task, row) if row is not None and task is not None else None


def may_decide(row: Closure, action: str) -> bool:
    """Whether the part's current state allows the decision: close or refuse an application,
    reopen a closed part."""
    return row.state == (CLOSED if action == REOPEN else APPLIED)


async def decide(
    desk: Desk, task: TaskInfo, row: Closure, action: str, *, by: int, comment: str | None
) -> Decided:
    """Close (comment None), refuse or reopen the part; tell the unit's liaisons; close or open
    the task as its lead units' parts require."""
    state = {REFUSE: REFUSED, REOPEN: REOPENED}.get(action, CLOSED)
    await loop.decide(desk.session, row, state=state, comment=comment, by_user_id=by, now=desk.now)
    unit = task.part(row.unit_id)
    name = (
        unit.name if unit is not None else await desk.register.unit_name(desk.session, row.unit_id)
    )
    closed = reopened = False
    db_task = await desk.session.get(Task, task.id)
    assert db_task is not None
    if state == CLOSED:
        states = await parts(desk, task)
        if all(p.state == CLOSED for p in states):
            db_task.completed_on = desk.now.astimezone(desk.settings.tz).date()
            closed = True
    elif db_task.completed_on is not None:
        db_task.completed_on = None
        reopened = True
    if closed or reopened:
        await bump_register_version(desk.session, desk.now)  # TaskInfo.completed_on is cached
    body = texts.close_decision(task.no, task.text, state, comment)
    markup = None
    if state != CLOSED:
        markup = {
            "inline_keyboard": [
                [{"text": texts.REPORT_AGAIN_BUTTON, "callback_data": f"rt:{task.id}"}]
            ]
        }
    await _tell_unit(
        desk, row.unit_id, body, f"close-{state}:{row.id}:{desk.now.isoformat()}", markup
    )
    await _audit(
        desk, by, f"close_{state}", row, {"task_closed": closed, "task_reopened": reopened}
    )
    return Decided(task.no, name, closed, reopened)


# --- Shared ---------------------------------------------------------------------------------------


def _position(task: TaskInfo, unit_id: int) -> int:
    return next((i for i, u in enumerate(task.units) if u.unit_id == unit_id), len(task.units))


async def _tell_unit(
    desk: Desk, unit_id: int, body: str, key: str, markup: dict[str, Any] | None
) -> int:
    """Send `body` to the unit's reachable liaisons, one message per chat; how many."""
    sent = 0
    seen: set[int] = set()
    for contact in (await people.contacts_for_units(desk.session, [unit_id]))[unit_id]:
        if contact.reachable and contact.chat_id not in seen:
            seen.add(contact.chat_id)
            sent += await send(desk, contact, body, key, markup)
    return sent


async def send(
    desk: Desk,
    contact: Contact,
    body: str,
    key: str,
    markup: dict[str, Any] | None,
    *,
    kind: str = KIND,
) -> int:
    """One message of the loop through the outbox (once per `key` and chat); 1 if new."""
    found = await outbox.enqueue(
        desk.session,
        kind=kind,
        chat_id=contact.chat_id,
        contact_id=contact.id,
        text=body,
        now=desk.now,
        key=f"{key}:{contact.chat_id}",
        reply_markup=markup,
    )
    return 1 if found is not None else 0


async def _audit(desk: Desk, by: int, action: str, row: Closure, detail: dict[str, Any]) -> None:
    await people.audit(
        desk.session,
        at=desk.now,
        actor=by,
        action=action,
        target=f"task:{row.task_id}:unit:{row.unit_id}",
        detail={"closure_id": row.id, **detail},
    )
