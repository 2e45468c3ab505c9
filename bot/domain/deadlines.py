"""Deadlines of tasks as the bot states them: the rule of a task, its cycles, the next deadline."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from bot.config import Settings
from bot.domain.cycles import Cycle, CycleRule, cycles_for_year
from bot.domain.obligations import open_cycle
from bot.domain.workcal import WorkCalendar


def rule_for(cycle_kind: str, cycle_dates: Sequence[str] | None, settings: Settings) -> CycleRule:
    """A task's reporting rule; a malformed stored rule falls back to the monthly default."""
    try:
        return CycleRule.parse(cycle_kind, cycle_dates or (), due_day=settings.due_day)
    except ValueError:
        return CycleRule(due_day=settings.due_day)


def year_cycles(
    rule: CycleRule, year: int, settings: Settings, calendar: WorkCalendar
) -> list[Cycle]:
    """Every cycle of a year."""
    return cycles_for_year(rule, year, calendar, settings.tz, settings.due_time)


def next_due(
    rules: Iterable[CycleRule],
    now: datetime,
    year: int,
    settings: Settings,
    calendar: WorkCalendar,
) -> datetime | None:
    """The earliest upcoming deadline among several tasks' rules."""
    dues = [
        c.due
        for rule in set(rules)
        if (c := open_cycle(year_cycles(rule, year, settings, calendar), now)) is not None
    ]
    return min(dues) if dues else None
