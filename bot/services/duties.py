"""A unit's obligations as the report conversation and /tasks need them (bot.domain.obligations)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.domain.cycles import Cycle
from bot.domain.deadlines import rule_for, year_cycles
from bot.domain.obligations import Duty, Reported, Terms, correctable, credit, duty
from bot.domain.workcal import WorkCalendar
from db import progress
from db.tasks import LEAD


@dataclass(frozen=True)
class TaskRef:
    """What the rule needs of a task: its id, year and reporting rule."""

    task_id: int
    year: int
    cycle_kind: str
    cycle_dates: Sequence[str]


@dataclass(frozen=True)
class Tracking:
    """The clock, settings and calendar the rule is read with, and the year's tracking start."""

    now: datetime
    settings: Settings
    calendar: WorkCalendar
    since: datetime | None

    def cycles(self, task: TaskRef) -> list[Cycle]:
        """The task's cycles in its year."""
        rule = rule_for(task.cycle_kind, task.cycle_dates, self.settings)
        return year_cycles(rule, task.year, self.settings, self.calendar)

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
    reported = await progress.reported_keys(session, pairs)
    done = await progress.done_at(session, pairs, tracking.settings.tz)
    out = []
    for task, role in tasks:
        pair = (task.task_id, unit_id)
        terms = Terms(tracking.cycles(task), tracking.owes(role), tracking.since, done.get(pair))
        out.append(duty(terms, reported[pair], tracking.now))
    return out


async def _terms(
    session: AsyncSession, task: TaskRef, unit_id: int, tracking: Tracking
) -> tuple[Terms, Reported]:
    pair = (task.task_id, unit_id)
    reported = (await progress.reported_keys(session, [pair]))[pair]
    done = await progress.done_at(session, [pair], tracking.settings.tz)
    return Terms(tracking.cycles(task), True, tracking.since, done.get(pair)), reported


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
