"""Plan reminders and escalations into the outbox. Safe to run any number of times.

Which steps are due comes from `bot.domain.ladder.steps_to_send`; this job only gathers the
obligations (lead units' reports, per cycle), asks the ladder, and writes what is due under
unique (task, unit, cycle, step, recipient) items — merged into one message per person (chat)
and kind, split past Telegram's 4096 characters. A liaison who gets a reminder today also finds
in it every other obligation they were already told about and still owe (their standing step,
`ladder.standing_step`), so the list changes only when something changed: not 27 tasks one day,
the 13 overdue ones the next and 27 again the day after.

It also keeps the running bot's work calendar in step with the overrides an admin stores from
the command line (`OverrideSync`), and warns the admins once about a year the statutory
calendar does not know (`warn_unknown_years`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts
from bot.config import Settings
from bot.domain.cycles import Cycle, CycleRule
from bot.domain.deadlines import rule_for, year_cycles
from bot.domain.ladder import (
    Audience,
    Step,
    StepKind,
    overdue_workdays,
    standing_key,
    standing_step,
    steps_to_send,
)
from bot.domain.obligations import Duty, Terms, duty, last_passed, moved, moved_keys, open_cycle
from bot.domain.roles import Role
from bot.domain.workcal import WorkCalendar
from bot.domain.years import open_years
from db import loop, outbox, people, progress, years
from db.calendar import overrides
from db.models import AppState, Contact, Leader, Task, TaskLeader
from db.outbox import ItemKey

REMINDER = "reminder"
ESCALATION = "escalation"
CHUNK = 1000  # tasks whose obligations are looked up at once


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
    earlier: int = 0  # earlier cycles the unit missed (told beside an overdue one)
    standing: bool = False  # no step of its own today: listed beside the steps due


async def plan_reminders(
    *, now: datetime, session: AsyncSession, settings: Settings, calendar: WorkCalendar
) -> int:
    """Write every reminder and escalation due at `now` to the outbox; return messages added."""
    local = now.astimezone(settings.tz)
    today = local.date()
    # Asking about today also tells whether the statutory calendar knows this year; in
    # December, ask about next New Year's Day too, so the admin can set the coming year's
    # holidays before the first of them.
    workday = calendar.is_workday(today)
    if today.month == 12:
        calendar.is_workday(date(today.year + 1, 1, 1))
    # The ladder sends nothing on a day off or before the reminder time: skip the queries.
    # (The admin's calendar warning waits for office hours too.)
    if not workday or local.time() < settings.reminder_time:
        return 0
    added = await warn_unknown_years(session=session, calendar=calendar, now=now)
    found = await years.years(session)
    due: list[DueItem] = []
    for year in open_years(found.registered, found.closed):
        due += await _due_items(session, year, now, settings, calendar)
    return added + await _enqueue_merged(session, due, now, settings, calendar)


async def _due_items(
    session: AsyncSession, year: int, now: datetime, settings: Settings, calendar: WorkCalendar
) -> list[DueItem]:
    """The steps due at `now` for the obligations of `year`'s tasks (bot.domain.obligations),
    and for each liaison the obligations they were told about with no step due today."""
    today = now.astimezone(settings.tz).date()
    since = await progress.tracking_since(session, year)
    # Plain rows, not ORM objects: at 10,000 tasks the objects and their identity map cost ~20 MB.
    tasks = (
        await session.execute(
            select(Task.id, Task.no, Task.text, Task.cycle_kind, Task.cycle_dates)
            .where(Task.year == year)
            .order_by(Task.no)
        )
    ).all()
    if not tasks:
        return []
    # Most tasks share one rule: its cycles, and which of them can be chased now, once per run.
    cycles_by_rule: dict[CycleRule, tuple[Cycle, ...]] = {}
    cycles_of: dict[int, tuple[Cycle, ...]] = {}
    for task in tasks:
        rule = rule_for(task.cycle_kind, task.cycle_dates, settings)
        if rule not in cycles_by_rule:
            cycles_by_rule[rule] = tuple(year_cycles(rule, year, settings, calendar))
        cycles_of[task.id] = cycles_by_rule[rule]
    # Approved 延期: a unit's moved cycle deadlines (few: read for the whole year at once).
    moves, _ = await loop.approved(session, [t.id for t in tasks])
    keys = sorted(
        {
            c.key
            for cycles in cycles_by_rule.values()
            for c in (last_passed(cycles, now), open_cycle(cycles, now))
            if c is not None
        }.union(*(moved_keys(cycles_of[t], m) for (t, _), m in moves.items()))
    )
    office = [c for c in await people.contacts_with_role(session, Role.OFFICE) if c.reachable]
    liaisons: dict[int, list[Contact]] = {}
    due: list[DueItem] = []
    # A chunk of tasks at a time: what is looked up per obligation (owing units, reported
    # keys, steps sent) is read and dropped chunk by chunk; only the due items are kept.
    for start in range(0, len(tasks), CHUNK):
        chunk = tasks[start : start + CHUNK]
        task_ids = [t.id for t in chunk]
        owing = await progress.owing_units(
            session, task_ids, responsible_report=settings.responsible_units_report
        )
        pairs = [(o.task_id, o.unit_id) for lst in owing.values() for o in lst]
        reported = await progress.reported_keys(session, pairs, keys)
        done = await progress.done_at(session, pairs, settings.tz)
        duties: dict[tuple[int, int], Duty] = {}
        for task in chunk:
            for o in owing[task.id]:
                pair = (task.id, o.unit_id)
                terms = Terms(
                    moved(cycles_of[task.id], moves.get(pair)), True, since, done.get(pair)
                )
                duties[pair] = duty(terms, reported[pair], now)
        # Earlier misses are told beside an overdue cycle: read the whole year's keys for
        # those pairs only.
        missed = [p for p, d in duties.items() if d.missed is not None]
        history = await progress.reported_keys(session, missed) if missed else {}
        earlier = {
            p: duty(
                Terms(moved(cycles_of[p[0]], moves.get(p)), True, since, done.get(p)),
                history[p],
                now,
            ).earlier_missed
            for p in missed
        }
        sent = await outbox.sent_steps(session, task_ids, cycle_keys=keys)
        new_units = sorted({u for _, u in pairs} - liaisons.keys())
        liaisons.update(await people.contacts_for_units(session, new_units))
        leaders_of = await _task_leader_contacts(session, task_ids)
        for task in chunk:
            for o in owing[task.id]:
                pair = (task.id, o.unit_id)
                chased = [
                    c
                    for c in (duties[pair].missed, duties[pair].current)
                    if c is not None and c.key not in reported[pair]
                ]
                if not chased:
                    continue
                recipients: list[tuple[Contact, Audience]] = [
                    (c, Audience.LIAISON) for c in liaisons.get(o.unit_id, []) if c.reachable
                ]
                if settings.escalation_messages:  # else they are in the morning digest
                    recipients += [(c, Audience.LEADERS) for c in leaders_of.get(task.id, [])]
                    recipients += [(c, Audience.LEADERS) for c in office]
                for cycle in chased:
                    for contact, audience in recipients:
                        already = sent.get((task.id, o.unit_id, cycle.key, contact.id), set())
                        steps = steps_to_send(
                            cycle.due,
                            now,
                            False,
                            already,
                            calendar,
                            tz=settings.tz,
                            reminder_time=settings.reminder_time,
                            before_days=settings.remind_days_before,
                            escalate_after=settings.escalate_after_workdays,
                        )
                        mine = [s for s in steps if s.audience == audience]
                        standing = None
                        if audience == Audience.LIAISON and not mine:
                            if standing_key(today) in already:
                                continue  # listed in a message today already
                            standing = standing_step(
                                cycle.deadline, today, calendar, settings.remind_days_before
                            )
                            if (
                                standing is None
                                or standing.day == today  # its own step went out today
                                or (standing.kind is not StepKind.OVERDUE and now >= cycle.due)
                            ):
                                continue
                            mine = [standing]
                        was_missed = cycle is duties[pair].missed
                        for step in mine:
                            due.append(
                                DueItem(
                                    task.id,
                                    task.no,
                                    task.text,
                                    o.unit_id,
                                    o.unit,
                                    cycle,
                                    step,
                                    contact,
                                    earlier.get(pair, 0) if was_missed else 0,
                                    standing=standing is not None,
                                )
                            )
    return due


async def _task_leader_contacts(
    session: AsyncSession, task_ids: list[int]
) -> dict[int, list[Contact]]:
    """The reachable leader contacts of each task's supervising leaders."""
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
            .order_by(TaskLeader.task_id, TaskLeader.position, Contact.id)
        )
    ).all()
    out: dict[int, list[Contact]] = defaultdict(list)
    for task_id, contact in rows:
        if contact.reachable:
            out[task_id].append(contact)
    return out


@dataclass
class _Merged:
    """The lines of one person's message and the items (per contact) each line covers."""

    lines: list[texts.ReminderLine] = field(default_factory=list)
    refs: list[tuple[int, int]] = field(default_factory=list)  # (task id, unit id) per line
    items: list[list[ItemKey]] = field(default_factory=list)


async def _enqueue_merged(
    session: AsyncSession,
    due: list[DueItem],
    now: datetime,
    settings: Settings,
    calendar: WorkCalendar,
) -> int:
    """One message per person (chat) and kind; one line per obligation and step."""
    today = now.astimezone(settings.tz).date()
    by_chat: dict[tuple[int, str], list[DueItem]] = defaultdict(list)
    for item in due:
        kind = ESCALATION if item.step.audience == Audience.LEADERS else REMINDER
        by_chat[(item.contact.chat_id, kind)].append(item)
    added = 0
    for (chat_id, kind), items in sorted(by_chat.items()):
        if all(i.standing for i in items):
            continue  # nothing is due for this person today

        items.sort(key=lambda i: (i.cycle.deadline, i.task_no, i.unit, i.contact.id))
        # A person holding two roles (office and leader, or liaison of two units) gets one
        # message: the same obligation and step is one line, covering each contact's item.
        merged = _Merged()
        index: dict[tuple[int, int, str, str], int] = {}
        for i in items:
            key = (i.task_id, i.unit_id, i.cycle.key, i.step.key)
            if key not in index:
                index[key] = len(merged.lines)
                overdue = i.step.overdue
                if i.step.kind is StepKind.ESCALATE:
                    # Sent late after downtime, the escalation states today's count.
                    overdue = max(overdue, overdue_workdays(i.cycle.deadline, today, calendar))
                merged.lines.append(
                    texts.ReminderLine(
                        task_no=i.task_no,
                        task_text=i.task_text,
                        unit=i.unit,
                        cycle_key=i.cycle.key,
                        deadline=i.cycle.due.astimezone(settings.tz),
                        step=i.step.kind.value,
                        overdue=overdue,
                        earlier=i.earlier,
                    )
                )
                merged.refs.append((i.task_id, i.unit_id))
                merged.items.append([])
            step_key = standing_key(today) if i.standing else i.step.key
            merged.items[index[key]].append(
                ItemKey(i.task_id, i.unit_id, i.cycle.key, step_key, i.contact.id)
            )
        render = texts.escalation if kind == ESCALATION else texts.reminder
        for body, indices in render(merged.lines):
            message = await outbox.enqueue(
                session,
                kind=kind,
                chat_id=chat_id,
                contact_id=items[0].contact.id,
                text=body,
                now=now,
                meta={
                    "kind": kind,
                    "lines": [
                        outbox.line_meta(texts.line_json(merged.lines[n]), *merged.refs[n])
                        for n in indices
                    ],
                },
                items=[key for n in indices for key in merged.items[n]],
            )
            if message is not None:
                added += 1
    return added


async def warn_unknown_years(
    *, session: AsyncSession, calendar: WorkCalendar, now: datetime
) -> int:
    """Tell every admin once about a year without statutory data; return messages added."""
    added = 0
    for year in sorted(calendar.unknown_years):
        key = f"calendar_warned:{year}"
        if await session.get(AppState, key) is not None:
            continue
        admins = [c for c in await people.contacts_with_role(session, Role.ADMIN) if c.reachable]
        if not admins:
            continue  # nobody to tell yet: try again on the next run
        body = texts.calendar_unknown_year(year)
        for admin in admins:
            message = await outbox.enqueue(
                session,
                kind="notice",
                chat_id=admin.chat_id,
                contact_id=admin.id,
                text=body,
                now=now,
                key=f"calendar-unknown:{year}:{admin.id}",
            )
            if message is not None:
                added += 1
        session.add(
            AppState(
                key=key,
                value={"at": now.isoformat(), "admins": [a.id for a in admins]},
                updated_at=now,
            )
        )
        await session.flush()
    return added


class OverrideSync:
    """Keeps a running bot's work calendar in step with the overrides stored in the database."""

    def __init__(self) -> None:
        self.applied: dict[date, bool] = {}

    async def apply(self, session: AsyncSession, calendar: WorkCalendar) -> bool:
        """Apply added, changed and removed overrides to `calendar`; True if any changed."""
        stored = await overrides(session)
        changed = False
        for day in set(self.applied) - set(stored):
            calendar.clear_override(day)
            changed = True
        for day, is_workday in stored.items():
            if calendar.override(day) != is_workday:
                calendar.set_override(day, is_workday)
                changed = True
        self.applied = stored
        return changed
