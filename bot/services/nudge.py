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
from bot.domain.overdue import OverdueFilter, OverdueRow
from bot.domain.workcal import WorkCalendar
from db import outbox, people, views
from db.models import Contact
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
    liaisons = await _reachable_liaisons(session, unit_id)
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


@dataclass(frozen=True)
class UnitNudgeResult:
    """What 催办本单位 did: the outcome, the unit, how many tasks it named, to how many."""

    outcome: NudgeOutcome
    unit: str = ""
    tasks: int = 0
    recipients: int = 0

    def answer(self) -> str:
        """The short confirmation or refusal shown on the button press."""
        return texts.unit_nudge_answer(self.outcome.value, self.unit, self.tasks, self.recipients)


async def nudge_unit_all(
    *,
    session: AsyncSession,
    scope: views.Scope,
    unit_id: int,
    by_user_id: int | None,
    now: datetime,
    settings: Settings,
    calendar: WorkCalendar,
) -> UnitNudgeResult:
    """催办本单位: one message to each reachable liaison of the unit listing every overdue task
    of `scope` it owes and was not nudged about today (the rules of `nudge_unit` per task)."""
    flt = OverdueFilter(kind="unit", ids=(unit_id,), unit_ids=frozenset({unit_id}))
    found = await views.overdue_units(
        session,
        scope=scope,
        flt=flt,
        page=0,
        per_page=1,
        now=now,
        settings=settings,
        calendar=calendar,
    )
    if not found.groups:
        return UnitNudgeResult(NudgeOutcome.REPORTED)
    group = found.groups[0]
    earlier = await views.nudged_since(session, scope, views.day_start(now, settings))
    rows = [r for r in group.rows if (r.task_id, unit_id) not in earlier]
    if not rows:
        return UnitNudgeResult(NudgeOutcome.ALREADY, group.unit, len(group.rows))
    liaisons = await _reachable_liaisons(session, unit_id)
    if not liaisons:
        return UnitNudgeResult(NudgeOutcome.NOBODY, group.unit, len(rows))
    today = views.local_day(now, settings)
    nudged: list[tuple[OverdueRow, int]] = []
    for row in rows:
        nudge_id = await views.add_nudge(
            session,
            task_id=row.task_id,
            unit_id=unit_id,
            cycle_key=row.cycle_key,
            by_user_id=by_user_id,
            now=now,
            day=today,
        )
        if nudge_id is not None:  # None: another press recorded it a moment ago
            nudged.append((row, nudge_id))
    if not nudged:
        return UnitNudgeResult(NudgeOutcome.ALREADY, group.unit, len(group.rows))
    lines = [
        texts.ReminderLine(
            task_no=row.task_no,
            task_text=row.task_text,
            unit=row.unit,
            cycle_key=row.cycle_key,
            deadline=datetime.combine(row.deadline, datetime.min.time(), settings.tz),
            step="overdue",
            overdue=row.workdays,
            earlier=row.earlier,
        )
        for row, _ in nudged
    ]
    for body, indices in texts.unit_nudge(lines):
        for contact in liaisons:
            await outbox.enqueue(
                session,
                kind="nudge",
                chat_id=contact.chat_id,
                contact_id=contact.id,
                text=body,
                now=now,
                key=f"nudge-unit:{unit_id}:{today.isoformat()}:{indices[0]}:{contact.id}",
                items=[_item(nudged[n], unit_id, contact.id) for n in indices],
                meta={
                    "kind": "nudge",
                    "lines": [
                        outbox.line_meta(texts.line_json(lines[n]), nudged[n][0].task_id, unit_id)
                        for n in indices
                    ],
                },
            )
    await people.audit(
        session,
        at=now,
        actor=by_user_id,
        action="nudge_unit",
        target=f"unit:{unit_id}",
        detail={"nudges": [n for _, n in nudged], "recipients": len(liaisons)},
    )
    return UnitNudgeResult(NudgeOutcome.SENT, group.unit, len(nudged), len(liaisons))


def _item(nudged: tuple[OverdueRow, int], unit_id: int, contact_id: int) -> ItemKey:
    """The outbox item of one task of a unit nudge (the sender drops it once reported)."""
    row, nudge_id = nudged
    return ItemKey(row.task_id, unit_id, row.cycle_key, f"nudge-{nudge_id}", contact_id)


async def _reachable_liaisons(session: AsyncSession, unit_id: int) -> list[Contact]:
    """The unit's liaisons the bot can reach (a nudge goes to none of the others)."""
    return [
        c for c in (await people.contacts_for_units(session, [unit_id]))[unit_id] if c.reachable
    ]
