"""The report conversation's use cases: a unit's tasks and their state, the draft, what the
reply was read as, storing it, and corrections. Plain values in and out; handlers render.

A conversation is a draft row (db.progress.Draft) that moves CHOOSE → AWAIT_TEXT → CONFIRM and
becomes a report on 确认提交. Which cycle a report is credited to, and whether one may still be
corrected, is bot.domain.obligations' rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo

from bot.domain.cycles import Cycle
from bot.domain.deadlines import rule_for, year_cycles
from bot.domain.model import TaskInfo, UnitOnTask
from bot.domain.obligations import (
    COMPLETE,
    Duty,
    Moves,
    Reported,
    Terms,
    completed_at,
    correctable,
    credit,
    duty,
    moved,
)
from bot.domain.replies import Understood, choices, reassign, understand, without_date
from bot.domain.roles import UnitRef
from bot.services.desk import Desk
from db import evidence, loop, outbox, people, progress
from db.models import Report
from db.progress import Draft

# Draft states.
CHOOSE = "choose_task"
AWAIT_TEXT = "await_text"
CONFIRM = "confirm"


@dataclass(frozen=True)
class TaskState:
    """One task of a unit with its state now, for /tasks and the task picker."""

    task: TaskInfo
    unit: UnitRef
    state: str  # done | support | overdue | reported | unreported
    deadline: date | None


@dataclass(frozen=True)
class Card:
    """What a reply was read as, for the confirmation card."""

    task: TaskInfo
    unit_name: str
    cycle_key: str
    understood: Understood
    correction: bool

    def options(self, index: int) -> list[int]:
        """The targets (indexes into task.targets) the index-th number may be put against."""
        return choices(self.understood, self.task.targets, index)


@dataclass(frozen=True)
class Stored:
    """A stored report, for the receipt."""

    task_no: int
    unit_name: str
    cycle_key: str
    version: int


@dataclass(frozen=True)
class Tracking:
    """The clock, settings and calendar the rule is read with, and the year's tracking start."""

    desk: Desk
    since: datetime | None

    _cycles: dict[tuple[str, tuple[str, ...], int], list[Cycle]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def cycles(self, task: TaskInfo) -> list[Cycle]:
        """The task's cycles in its year (worked out once per rule: a unit's tasks share one)."""
        key = (task.cycle_kind, task.cycle_dates, task.year)
        found = self._cycles.get(key)
        if found is None:
            settings = self.desk.settings
            rule = rule_for(task.cycle_kind, task.cycle_dates, settings)
            found = year_cycles(rule, task.year, settings, self.desk.calendar)
            self._cycles[key] = found
        return found

    def terms(
        self, task: TaskInfo, owes: bool, stated: datetime | None, moves: Moves | None = None
    ) -> Terms:
        """A unit's terms on the task, `stated`: when its newest percentage completed its part;
        `moves`: its approved cycle extensions (延期)."""
        done = completed_at(COMPLETE if stated else None, stated, task.completed_on, self.tz)
        return Terms(moved(self.cycles(task), moves), owes, self.since, done)

    @property
    def tz(self) -> tzinfo:
        """The configured zone."""
        return self.desk.settings.tz


async def tracking(desk: Desk, year: int) -> Tracking:
    """The rule's inputs for `year` at the desk's moment."""
    return Tracking(desk, await desk.register.tracking_since(desk.session, year))


async def unit_tasks(desk: Desk, unit_id: int, year: int) -> list[TaskInfo]:
    """The unit's lead and co-responsible tasks of `year`, by 序号."""
    return await desk.register.unit_tasks(
        desk.session, unit_id, year, desk.settings.responsible_units_report
    )


async def task(desk: Desk, task_id: int) -> TaskInfo | None:
    """A task by id."""
    return await desk.register.task(desk.session, task_id, desk.settings.responsible_units_report)


def _part(task: TaskInfo, unit_id: int) -> UnitOnTask:
    found = task.part(unit_id)
    assert found is not None, (task.id, unit_id)
    return found


async def duties(
    desk: Desk, unit_id: int, tasks: Sequence[TaskInfo], track: Tracking
) -> list[Duty]:
    """The unit's duty on each task, in order."""
    pairs = [(t.id, unit_id) for t in tasks]
    reported, stated = await progress.unit_facts(desk.session, pairs)
    moves, _ = await loop.approved(desk.session, [t.id for t in tasks])
    out = []
    for t in tasks:
        pair = (t.id, unit_id)
        terms = track.terms(t, _part(t, unit_id).owes, stated.get(pair), moves.get(pair))
        out.append(duty(terms, reported[(t.id, unit_id)], desk.now))
    return out


async def states(desk: Desk, units: Sequence[UnitRef], year: int) -> list[TaskState]:
    """Every task of the units with its state now (bot.domain.obligations)."""
    track = await tracking(desk, year)
    out: list[TaskState] = []
    for unit in units:
        mine = await unit_tasks(desk, unit.id, year)
        for t, d in zip(mine, await duties(desk, unit.id, mine, track), strict=True):
            if d.done:
                state, deadline = "done", None
            elif not _part(t, unit.id).owes:
                state, deadline = "support", None
            elif d.missed is not None:
                state, deadline = "overdue", d.missed.deadline
            elif d.current is not None and d.reported_current:
                state, deadline = "reported", d.current.deadline
            elif d.current is not None:
                state, deadline = "unreported", d.current.deadline
            else:
                state, deadline = "reported", None  # past the year's last deadline, all in
            out.append(TaskState(t, unit, state, deadline))
    return out


async def own_task(
    desk: Desk, units: Sequence[UnitRef], year: int, task_id: int
) -> tuple[TaskInfo, UnitRef] | None:
    """The task if one of the units has it (a lead unit first) — never trust a button."""
    found: tuple[TaskInfo, UnitRef] | None = None
    for unit in units:
        for t in await unit_tasks(desk, unit.id, year):
            if t.id == task_id and (found is None or _part(t, unit.id).lead):
                found = (t, unit)
    return found


async def replied_tasks(
    desk: Desk, units: Sequence[UnitRef], year: int, *, chat_id: int, message_id: int
) -> list[tuple[TaskInfo, UnitRef]]:
    """The units' open tasks a replied-to message was a reminder of (none if it was not one)."""
    task_ids = await outbox.tasks_of_message(desk.session, chat_id=chat_id, message_id=message_id)
    out = []
    for task_id in task_ids:
        owned = await own_task(desk, units, year, task_id)
        if owned is not None and owned[0].completed_on is None:
            out.append(owned)
    return out


async def open_draft(
    desk: Desk,
    *,
    user_id: int,
    chat_id: int,
    contact_id: int | None,
    state: str,
    task_id: int | None = None,
    unit_id: int | None = None,
    text: str | None = None,
    supersedes_id: int | None = None,
    options: list[int] | None = None,
) -> Draft:
    """Start a conversation (replacing the account's open one) that times out when idle."""
    return await progress.open_draft(
        desk.session,
        user_id=user_id,
        chat_id=chat_id,
        contact_id=contact_id,
        now=desk.now,
        expires_at=desk.now + timedelta(minutes=desk.settings.draft_timeout_minutes),
        state=state,
        task_id=task_id,
        unit_id=unit_id,
        text=text,
        supersedes_id=supersedes_id,
        options=options,
    )


def touch(desk: Desk, draft: Draft) -> None:
    """The person acted: the conversation's idle timeout starts again."""
    draft.updated_at = desk.now
    draft.expires_at = desk.now + timedelta(minutes=desk.settings.draft_timeout_minutes)


async def await_text(desk: Desk, draft: Draft, task: TaskInfo, unit_id: int) -> None:
    """The draft now waits for the reply text for `task`."""
    draft.task_id = task.id
    draft.unit_id = unit_id
    draft.state = AWAIT_TEXT
    draft.text = None
    draft.parsed = None
    touch(desk, draft)
    await progress.save_draft(desk.session, draft)


async def read_reply(desk: Desk, draft: Draft) -> Card:
    """Read the draft's text against its task's targets and wait for confirmation."""
    assert draft.task_id is not None and draft.unit_id is not None and draft.text is not None
    found = await task(desk, draft.task_id)
    assert found is not None
    cycle_key = await _cycle_key(desk, draft, found)
    understood = understand(
        draft.text, list(found.targets), desk.now.date(), desk.calendar, found.text
    )
    draft.parsed = understood.to_json()
    draft.state = CONFIRM
    draft.cycle_key = cycle_key
    touch(desk, draft)
    await progress.save_draft(desk.session, draft)
    return await _card(desk, draft, found, understood)


DROP = "x"  # correct_reading: the number counts against no target
NO_DATE = "d"  # correct_reading: no completion date


async def correct_reading(desk: Desk, draft: Draft, index: int, choice: str) -> Card | None:
    """The liaison corrects the card: the index-th number against target `choice` (an index
    into the task's targets) or against none (DROP), or no completion date (NO_DATE, index
    ignored). None if the correction does not fit the draft (a stale or forged button)."""
    if draft.state != CONFIRM or draft.parsed is None or draft.task_id is None:
        return None
    found = await task(desk, draft.task_id)
    assert draft.unit_id is not None and found is not None
    understood = Understood.from_json(draft.parsed)
    if choice == NO_DATE:
        understood = without_date(understood)
    elif not 0 <= index < len(understood.quantities):
        return None
    elif choice == DROP:
        understood = reassign(understood, index, None)
    elif choice.isdigit() and int(choice) in choices(understood, found.targets, index):
        understood = reassign(understood, index, found.targets[int(choice)])
    else:
        return None
    draft.parsed = understood.to_json()
    touch(desk, draft)
    await progress.save_draft(desk.session, draft)
    return await _card(desk, draft, found, understood)


async def _card(desk: Desk, draft: Draft, task: TaskInfo, understood: Understood) -> Card:
    """The card of a draft whose reading is `understood`."""
    assert draft.unit_id is not None and draft.cycle_key is not None
    part = task.part(draft.unit_id)
    unit_name = part.name if part is not None else await _unit_name(desk, draft.unit_id)
    return Card(task, unit_name, draft.cycle_key, understood, draft.supersedes_id is not None)


async def _cycle_key(desk: Desk, draft: Draft, task: TaskInfo) -> str:
    """The cycle this report is credited to (a correction keeps the corrected one's cycle)."""
    assert draft.unit_id is not None
    if draft.supersedes_id is not None:
        old = await desk.session.get(Report, draft.supersedes_id)
        if old is not None:
            return old.cycle_key
    terms, reported = await unit_terms(desk, task, draft.unit_id)
    cycle = credit(terms, reported, desk.now)
    return cycle.key if cycle is not None else f"{task.year}-12"


async def unit_terms(desk: Desk, task: TaskInfo, unit_id: int) -> tuple[Terms, Reported]:
    """A unit's terms and record on a task; a unit that reports on it owes reports."""
    return (await units_terms(desk, task, [unit_id]))[unit_id]


async def units_terms(
    desk: Desk, task: TaskInfo, unit_ids: Sequence[int]
) -> dict[int, tuple[Terms, Reported]]:
    """`unit_terms` of several units on one task, read together (one statement for the
    facts, one for the extensions, whatever the number of units)."""
    track = await tracking(desk, task.year)
    pairs = [(task.id, u) for u in unit_ids]
    reported, stated = await progress.unit_facts(desk.session, pairs)
    moves, _ = await loop.approved(desk.session, [task.id])
    return {
        u: (track.terms(task, True, stated.get(p), moves.get(p)), reported[p])
        for u, p in zip(unit_ids, pairs, strict=True)
    }


async def submit(desk: Desk, draft: Draft, user_id: int) -> Stored:
    """Store a confirmed draft as a report, once; audit it and close the conversation."""
    assert draft.parsed is not None and draft.cycle_key is not None
    understood = Understood.from_json(draft.parsed)
    report = await progress.store_report(
        desk.session,
        draft=draft,
        cycle_key=draft.cycle_key,
        now=desk.now,
        percent=understood.percent,
        quantities=understood.to_json()["quantities"],
        expected=understood.expected,
        difficulties=list(understood.difficulties),
        tg_user_id=user_id,
    )
    # 佐证材料 sent for the task since the unit's last report support this one.
    await evidence.link_to_report(desk.session, report.task_id, report.unit_id, report.id)
    await people.audit(
        desk.session,
        at=desk.now,
        actor=user_id,
        action="report",
        target=f"task:{draft.task_id}:unit:{draft.unit_id}",
        detail={"report_id": report.id, "cycle": report.cycle_key, "version": report.version},
    )
    await progress.drop_draft(desk.session, draft)
    found = await task(desk, report.task_id)
    return Stored(
        found.no if found is not None else 0,
        await _unit_name(desk, report.unit_id),
        report.cycle_key,
        report.version,
    )


async def may_correct(desk: Desk, report: Report) -> bool:
    """Only the newest version of the cycle that is current for the unit can be corrected."""
    latest = await progress.latest_version(
        desk.session, report.task_id, report.unit_id, report.cycle_key
    )
    if latest is None or latest.id != report.id:
        return False
    found = await task(desk, report.task_id)
    if found is None:
        return False
    terms, reported = await unit_terms(desk, found, report.unit_id)
    return correctable(terms, reported, report.cycle_key, desk.now)


@dataclass(frozen=True)
class HistoryEntry:
    """One stored report version, for /history."""

    task_no: int
    cycle_key: str
    text: str
    version: int
    at: datetime
    percent: float | None


async def history(
    desk: Desk, unit_ids: Sequence[int], task_id: int | None
) -> tuple[list[HistoryEntry], list[tuple[Report, int]]]:
    """The units' recent reports, and those that may be corrected (with their task's 序号)."""
    reports = await progress.history(desk.session, list(unit_ids), task_id=task_id)
    found = await desk.register.tasks(
        desk.session, sorted({r.task_id for r in reports}), desk.settings.responsible_units_report
    )
    entries = [
        HistoryEntry(
            found[r.task_id].no,
            r.cycle_key,
            r.text,
            r.version,
            r.created_at.astimezone(desk.now.tzinfo),
            r.percent,
        )
        for r in reports
    ]
    correctable_now = []
    seen: set[tuple[int, int]] = set()
    for r in reports:
        if (r.task_id, r.unit_id) in seen:
            continue
        seen.add((r.task_id, r.unit_id))
        if await may_correct(desk, r):
            correctable_now.append((r, found[r.task_id].no))
    return entries, correctable_now


async def _unit_name(desk: Desk, unit_id: int) -> str:
    return await desk.register.unit_name(desk.session, unit_id)
