"""A unit's obligations as the report conversation and /tasks need them (bot.domain.obligations)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.domain.cycles import Cycle
from bot.domain.deadlines import rule_for, year_cycles
from bot.domain.obligations import (
    COMPLETE,
    Duty,
    Reported,
    Terms,
    completed_at,
    correctable,
    credit,
    duty,
)
from bot.domain.workcal import WorkCalendar
from db import progress
from db.tasks import LEAD


@dataclass(frozen=True)
class TaskRef:
    """What the rule needs of a task: its id, year, reporting rule and completion mark."""

    task_id: int
    year: int
    cycle_kind: str
    cycle_dates: Sequence[str]
    completed_on: date | None = None


@dataclass(frozen=True)
class Tracking:
    """The clock, settings and calendar the rule is read with, and the year's tracking start."""

    now: datetime
    settings: Settings
    calendar: WorkCalendar
    since: datetime | None

    _cycles: dict[tuple[str, tuple[str, ...], int], list[Cycle]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def cycles(self, task: TaskRef) -> list[Cycle]:
        """The task's cycles in its year (worked out once per rule: a unit's tasks share one)."""
        key = (task.cycle_kind, tuple(task.cycle_dates), task.year)
        found = self._cycles.get(key)
        if found is None:
            rule = rule_for(task.cycle_kind, task.cycle_dates, self.settings)
            found = self._cycles[key] = year_cycles(rule, task.year, self.settings, self.calendar)
        return found

    def terms(self, task: TaskRef, role: str, stated: datetime | None) -> Terms:
        """A unit's terms on the task, `stated`: when its newest percentage completed its part."""
        done = completed_at(COMPLETE if stated else None, stated, task.completed_on, self.tz)
        return Terms(self.cycles(task), self.owes(role), self.since, done)

    @property
    def tz(self) -> tzinfo:
        """The configured zone."""
        return self.settings.tz

    def owes(self, role: str) -> bool:
        """True if a unit in this role owes reports."""
        return role == LEAD or self.settings.responsible_units_report


async def duties(
    session: AsyncSession,
    unit_id: int,
    tasks: Sequence[tuple[TaskRef, str]],
    tracking: Tracking,
) -> list[Duty]:
    """The unit's duty on each (task, role), in order."""
    pairs = [(t.task_id, unit_id) for t, _ in tasks]
    reported, stated = await progress.unit_facts(session, pairs)
    out = []
    for task, role in tasks:
        pair = (task.task_id, unit_id)
        terms = tracking.terms(task, role, stated.get(pair))
        out.append(duty(terms, reported[pair], tracking.now))
    return out


async def _terms(
    session: AsyncSession, task: TaskRef, unit_id: int, tracking: Tracking
) -> tuple[Terms, Reported]:
    pair = (task.task_id, unit_id)
    reported, stated = await progress.unit_facts(session, [pair])
    return tracking.terms(task, LEAD, stated.get(pair)), reported[pair]


async def credited_cycle(
    session: AsyncSession, task: TaskRef, unit_id: int, tracking: Tracking
) -> str:
    """The key of the cycle a report by the unit made now is credited to."""
    terms, reported = await _terms(session, task, unit_id, tracking)
    cycle = credit(terms, reported, tracking.now)
    return cycle.key if cycle is not None else f"{task.year}-12"


async def may_correct(
    session: AsyncSession, task: TaskRef, unit_id: int, cycle_key: str, tracking: Tracking
) -> bool:
    """True if the unit's report for `cycle_key` may still be corrected."""
    terms, reported = await _terms(session, task, unit_id, tracking)
    return correctable(terms, reported, cycle_key, tracking.now)
