"""催办 (nudge): the office asks a unit's liaisons, through the outbox, for a missing report.

Rules: only what a unit owes now can be urged (bot.domain.obligations.nudge_cycle): the missed cycle
first, else the open one once its reminders have begun; never a completed part. At most once
per (task, unit) per local day, so a double press or two office staff do not send twice; only
reachable liaisons receive it, and when there are none nothing is recorded (the office is told
to phone). Each nudge is a row in
`nudges`, one outbox message per liaison (step "nudge-<nudge id>", unique), and an audit entry.
The sender drops a nudge whose report arrives before it goes out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts
from bot.config import Settings
from bot.domain.workcal import WorkCalendar
from db import outbox, people, views
from db.outbox import ItemKey


class NudgeOutcome(StrEnum):
    """What a nudge did."""

    SENT = "sent"
    ALREADY = "already"  # the unit was nudged about this task today
    NOBODY = "nobody"  # no reachable liaison
    REPORTED = "reported"  # nothing unreported to nudge about
    DONE = "done"  # the task is complete
    NOT_OWING = "not_owing"  # no such task, or the unit owes it no report


@dataclass(frozen=True)
class NudgeResult:
    """The outcome, for the button's answer."""

    outcome: NudgeOutcome
    unit: str = ""
    task_no: int | None = None
    recipients: int = 0
    previous_at: datetime | None = None
    nudge_id: int | None = None

    def answer(self) -> str:
        """The short confirmation or refusal shown on the button press."""
        return texts.nudge_answer_plain(
            self.outcome.value, self.unit, self.recipients, self.previous_at
        )


async def nudge_unit(
    *,
    session: AsyncSession,
    task_id: int,
    unit_id: int,
    by_user_id: int | None,
    now: datetime,
    settings: Settings,
    calendar: WorkCalendar,
) -> NudgeResult:
    """Nudge one unit about one task (see the module's rules); changes nothing unless SENT."""
    year = await views.task_year(session, task_id)
    if year is None:
        return NudgeResult(NudgeOutcome.NOT_OWING)
    scope = views.Scope(year, task_id=task_id)
    found = await views.boards(
        session, scope=scope, now=now, settings=settings, calendar=calendar, with_latest=False
    )
    if not found.boards:
        return NudgeResult(NudgeOutcome.NOT_OWING)
    board = found.boards[0]
    task = board.task
    standing = board.standing(unit_id)
    if standing is None or not standing.unit.owes:
        return NudgeResult(NudgeOutcome.NOT_OWING, task_no=task.no)
    unit = standing.unit.name
    if board.completed or standing.done:
        return NudgeResult(NudgeOutcome.DONE, unit, task.no)
    cycle = standing.nudge
    if cycle is None:
        return NudgeResult(NudgeOutcome.REPORTED, unit, task.no)
    earlier = await views.nudged_since(session, scope, views.day_start(now, settings))
    if (task_id, unit_id) in earlier:
        at = earlier[(task_id, unit_id)].astimezone(settings.tz)
        return NudgeResult(NudgeOutcome.ALREADY, unit, task.no, previous_at=at)
    liaisons = [
        c for c in (await people.contacts_for_units(session, [unit_id]))[unit_id] if c.reachable
    ]
    if not liaisons:
        return NudgeResult(NudgeOutcome.NOBODY, unit, task.no)

    today = views.local_day(now, settings)
    nudge_id = await views.add_nudge(
        session,
        task_id=task_id,
        unit_id=unit_id,
        cycle_key=cycle.key,
        by_user_id=by_user_id,
        now=now,
        day=today,
    )
    if nudge_id is None:
        # Another press (another office member) recorded today's nudge since the check above.
        again = await views.nudged_since(session, scope, views.day_start(now, settings))
        first = again.get((task_id, unit_id))
        return NudgeResult(
            NudgeOutcome.ALREADY,
            unit,
            task.no,
            previous_at=first.astimezone(settings.tz) if first else None,
        )
    workdays = (
        calendar.workdays_between(cycle.deadline, today) if standing.missed is not None else None
    )
    body = texts.nudge_message(unit, task.no, task.text, standing.unit.lead, cycle, workdays)
    for contact in liaisons:
        await outbox.enqueue(
            session,
            kind="nudge",
            chat_id=contact.chat_id,
            contact_id=contact.id,
            text=body,
            now=now,
            key=f"nudge:{nudge_id}:{contact.id}",
            # Items let the sender drop the nudge once the report is in, and let a reply to it
            # start a report on this task (handlers.report looks replies up by item).
            items=[ItemKey(task_id, unit_id, cycle.key, f"nudge-{nudge_id}", contact.id)],
            meta={"kind": "nudge", "nudge_id": nudge_id},
        )
    await people.audit(
        session,
        at=now,
        actor=by_user_id,
        action="nudge",
        target=f"task:{task_id}:unit:{unit_id}",
        detail={"nudge_id": nudge_id, "cycle": cycle.key, "recipients": len(liaisons)},
    )
    return NudgeResult(NudgeOutcome.SENT, unit, task.no, len(liaisons), nudge_id=nudge_id)
