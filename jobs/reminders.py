"""Plan reminders and escalations into the outbox. Safe to run any number of times.

Which steps are due comes from `bot.ladder.steps_to_send`; this job only gathers the
obligations (lead units' reports, per cycle), asks the ladder, and writes what is due under
unique (task, unit, cycle, step, recipient) items — merged into one message per recipient.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts
from bot.config import Settings
from bot.cycles import Cycle, cycle_at, previous_cycle, task_active
from bot.ladder import Audience, Step, steps_to_send
from bot.roles import Role
from bot.schedule import rule_for
from bot.workcal import WorkCalendar
from db import outbox, people, progress
from db.models import AppState, Contact, Leader, Task, TaskLeader
from db.outbox import ItemKey


@dataclass(frozen=True)
class DueItem:
    """One step due for one obligation, for one recipient."""

    task_id: int
    task_no: int
    task_text: str
    unit_id: int
    unit: str
    cycle: Cycle
    step: Step
    contact: Contact


async def tracking_since(session: AsyncSession, year: int) -> datetime | None:
    """When the year's register was first imported: earlier deadlines are not chased."""
    state = await session.get(AppState, f"register_imported:{year}")
    if state is None:
        return None
    return datetime.fromisoformat(str(state.value["at"]))


async def plan_reminders(
    *, now: datetime, session: AsyncSession, settings: Settings, calendar: WorkCalendar
) -> int:
    """Write every reminder and escalation due at `now` to the outbox; return messages added."""
    year = now.astimezone(settings.tz).year
    since = await tracking_since(session, year)
    tasks = (await session.scalars(select(Task).where(Task.year == year).order_by(Task.no))).all()
    active = [
        t for t in tasks if task_active(now.astimezone(settings.tz).date(), t.year, t.completed_on)
    ]
    if not active:
        return 0
    task_ids = [t.id for t in active]
    owing = await progress.owing_units(
        session, task_ids, responsible_report=settings.responsible_units_report
    )
    pairs = [(o.task_id, o.unit_id) for lst in owing.values() for o in lst]
    reported = await progress.reported_keys(session, pairs)
    sent = await outbox.sent_steps(session, task_ids)
    liaisons = await people.contacts_for_units(session, sorted({u for _, u in pairs}))
    leaders_of = await _task_leader_contacts(session, task_ids)
    office = [c for c in await people.contacts_with_role(session, Role.OFFICE)]

    due: list[DueItem] = []
    for task in active:
        rule = rule_for(task.cycle_kind, task.cycle_dates, settings)
        cycles = [
            c
            for c in (
                previous_cycle(rule, now, year, calendar, settings.tz, settings.due_time),
                cycle_at(rule, now, year, calendar, settings.tz, settings.due_time),
            )
            if c is not None and (since is None or c.due >= since)
        ]
        for o in owing[task.id]:
            keys = reported[(task.id, o.unit_id)]
            for cycle in cycles:
                is_reported = cycle.key in keys
                recipients: list[tuple[Contact, Audience]] = [
                    (c, Audience.LIAISON) for c in liaisons.get(o.unit_id, []) if c.reachable
                ]
                recipients += [(c, Audience.LEADERS) for c in leaders_of.get(task.id, [])]
                recipients += [(c, Audience.LEADERS) for c in office]
                for contact, audience in recipients:
                    already = sent.get((task.id, o.unit_id, cycle.key, contact.id), set())
                    for step in steps_to_send(
                        cycle.due,
                        now,
                        is_reported,
                        already,
                        calendar,
                        tz=settings.tz,
                        reminder_time=settings.reminder_time,
                        before_days=settings.remind_days_before,
                        escalate_after=settings.escalate_after_workdays,
                    ):
                        if step.audience != audience:
                            continue
                        due.append(
                            DueItem(
                                task.id, task.no, task.text, o.unit_id, o.unit, cycle, step, contact
                            )
                        )
    return await _enqueue_merged(session, due, now, settings)


async def _task_leader_contacts(
    session: AsyncSession, task_ids: list[int]
) -> dict[int, list[Contact]]:
    rows = (
        await session.execute(
            select(TaskLeader.task_id, Contact)
            .join(Contact, Contact.leader_id == TaskLeader.leader_id)
            .join(Leader, Leader.id == TaskLeader.leader_id)
            .where(
                TaskLeader.task_id.in_(task_ids),
                Contact.active.is_(True),
                Contact.role == Role.LEADER.value,
            )
        )
    ).all()
    out: dict[int, list[Contact]] = defaultdict(list)
    for task_id, contact in rows:
        if contact.reachable:
            out[task_id].append(contact)
    return out


async def _enqueue_merged(
    session: AsyncSession, due: list[DueItem], now: datetime, settings: Settings
) -> int:
    """One message per recipient and audience (split past 4096 characters)."""
    by_recipient: dict[tuple[int, str], list[DueItem]] = defaultdict(list)
    for item in due:
        kind = "escalation" if item.step.audience == Audience.LEADERS else "reminder"
        by_recipient[(item.contact.id, kind)].append(item)
    added = 0
    tz = settings.tz
    for (_, kind), items in sorted(by_recipient.items()):
        contact = items[0].contact
        items.sort(key=lambda i: (i.cycle.deadline, i.task_no, i.unit))
        lines = [
            texts.ReminderLine(
                task_no=i.task_no,
                task_text=i.task_text,
                unit=i.unit,
                cycle_key=i.cycle.key,
                deadline=i.cycle.due.astimezone(tz),
                step=i.step.kind.value,
                overdue=i.step.overdue,
            )
            for i in items
        ]
        render = texts.escalation if kind == "escalation" else texts.reminder
        for body, indices in render(lines):
            message = await outbox.enqueue(
                session,
                kind=kind,
                chat_id=contact.chat_id,
                contact_id=contact.id,
                text=body,
                now=now,
                meta={"kind": kind, "lines": [texts.line_json(lines[i]) for i in indices]},
                items=[
                    ItemKey(
                        items[i].task_id,
                        items[i].unit_id,
                        items[i].cycle.key,
                        items[i].step.key,
                        contact.id,
                    )
                    for i in indices
                ],
            )
            if message is not None:
                added += 1
    return added
