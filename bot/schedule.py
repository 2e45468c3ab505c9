"""Deadlines of tasks as the bot states them: the rule of a task and its next due moment."""

from __future__ import annotations

from collections.abc import Iterable, Sequence, Set
from datetime import datetime

from bot.config import Settings
from bot.cycles import Cycle, CycleRule, cycle_at, cycles_for_year, previous_cycle
from bot.workcal import WorkCalendar


def rule_for(cycle_kind: str, cycle_dates: Sequence[str] | None, settings: Settings) -> CycleRule:
    """A task's reporting rule; a malformed stored rule falls back to the monthly default."""
    try:
        return CycleRule.parse(cycle_kind, cycle_dates or (), due_day=settings.due_day)
    except ValueError:
        return CycleRule(due_day=settings.due_day)


def current_cycle(
    rule: CycleRule, now: datetime, year: int, settings: Settings, calendar: WorkCalendar
) -> Cycle | None:
    """The cycle whose deadline is the next one at `now` (None after the year's last)."""
    return cycle_at(rule, now, year, calendar, settings.tz, settings.due_time)


def year_cycles(
    rule: CycleRule, year: int, settings: Settings, calendar: WorkCalendar
) -> list[Cycle]:
    """Every cycle of a year."""
    return cycles_for_year(rule, year, calendar, settings.tz, settings.due_time)


def chased_cycle(
    rule: CycleRule,
    now: datetime,
    year: int,
    settings: Settings,
    calendar: WorkCalendar,
    since: datetime | None,
) -> Cycle | None:
    """The last cycle whose deadline passed, if it is still chased (due after tracking began)."""
    late = previous_cycle(rule, now, year, calendar, settings.tz, settings.due_time)
    if late is None or (since is not None and late.due < since):
        return None
    return late


def report_cycle(
    rule: CycleRule,
    now: datetime,
    reported: Set[str],
    year: int,
    settings: Settings,
    calendar: WorkCalendar,
    since: datetime | None,
) -> Cycle | None:
    """The cycle a report made now is credited to: a chased late cycle first, else the current."""
    late = chased_cycle(rule, now, year, settings, calendar, since)
    if late is not None and late.key not in reported:
        return late
    return current_cycle(rule, now, year, settings, calendar)


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
        if (c := current_cycle(rule, now, year, settings, calendar)) is not None
    ]
    return min(dues) if dues else None
