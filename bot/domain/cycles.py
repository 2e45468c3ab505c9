"""Reporting cycles of a task: which report is owed when, on the statutory work calendar.

Glossary: 报送 = submitting a progress report; 截止时间 = deadline; 报送周期 = reporting cycle
(月报 monthly, 季报 quarterly, or fixed dates 节点); 牵头单位 = lead unit, which owes one report
per task per cycle; 办结 = a task marked complete.

Rules:
- A cycle's *nominal* date is what the rule names (the 25th, a quarter's last month's 25th, a
  listed date). If it is not a workday the deadline moves to the previous workday (前移),
  unless that is before the cycle opens: then it moves to the next workday.
- `Cycle.key` never depends on the calendar ("2026-03", "2026-Q1", "2026-05-20"), so an
  override made mid-year moves a deadline without orphaning reports or sent reminders.
- A cycle opens the day after the previous cycle's nominal date (Jan 1 for the year's first).
  Between a moved deadline and the nominal date there are only non-workdays, which by
  `cycle_at` already belong to the next cycle.
- A task has cycles only in its own year. What a unit owes of them, and which cycle a report is
  credited to, is bot.domain.obligations.
"""

from __future__ import annotations

import calendar as _calendar
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Literal, cast, get_args

from bot.domain.workcal import WorkCalendar

CycleKind = Literal["monthly", "quarterly", "dates"]
CYCLE_KINDS: tuple[str, ...] = get_args(CycleKind)
QUARTER_END_MONTHS = (3, 6, 9, 12)


@dataclass(frozen=True)
class CycleRule:
    """How often a task reports: monthly or quarterly on `due_day`, or on fixed `dates`."""

    kind: CycleKind = "monthly"
    due_day: int = 25
    dates: tuple[date, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in CYCLE_KINDS:
            raise ValueError(f"unknown cycle kind {self.kind!r}")
        if not 1 <= self.due_day <= 31:
            raise ValueError(f"due_day must be 1-31, got {self.due_day}")
        if self.kind == "dates":
            if not self.dates:
                raise ValueError('a "dates" cycle needs at least one date')
            # Normalise so equal rules compare equal and cycles come out in order.
            object.__setattr__(self, "dates", tuple(sorted(set(self.dates))))
        elif self.dates:
            raise ValueError(f'dates are only for a "dates" cycle, not {self.kind!r}')

    @classmethod
    def parse(
        cls, kind: str, dates: Iterable[str | date] | None = None, *, due_day: int = 25
    ) -> CycleRule:
        """Build a rule from stored values (kind string, ISO dates); ValueError if malformed."""
        if kind not in CYCLE_KINDS:
            raise ValueError(f"unknown cycle kind {kind!r}")
        parsed = tuple(d if isinstance(d, date) else date.fromisoformat(d) for d in dates or ())
        return cls(kind=cast(CycleKind, kind), due_day=due_day, dates=parsed)

    def nominal_dates(self, year: int) -> list[date]:
        """The dates the rule names in `year`, before any move to a workday."""
        if self.kind == "dates":
            return [d for d in self.dates if d.year == year]
        months = range(1, 13) if self.kind == "monthly" else QUARTER_END_MONTHS
        # A due_day past the month's end (31 in April) means the month's last day.
        return [date(year, m, min(self.due_day, _calendar.monthrange(year, m)[1])) for m in months]

    def key_for(self, nominal: date) -> str:
        """The stable key of the cycle whose nominal date is `nominal`."""
        if self.kind == "monthly":
            return f"{nominal.year}-{nominal.month:02d}"
        if self.kind == "quarterly":
            return f"{nominal.year}-Q{(nominal.month - 1) // 3 + 1}"
        return nominal.isoformat()


@dataclass(frozen=True)
class Cycle:
    """One reporting period of a task and its deadline."""

    key: str  # stable: "2026-03", "2026-Q1" or "2026-05-20"
    year: int
    nominal: date  # the date the rule names
    deadline: date  # the workday the deadline falls on (nominal, or moved earlier)
    due: datetime  # deadline + due_time, aware, in the configured zone
    opens: date  # first day of the period

    @property
    def moved(self) -> bool:
        """True if the nominal date was not a workday and the deadline moved earlier."""
        return self.deadline != self.nominal

    def extended_to(self, deadline: date) -> Cycle:
        """The cycle with its deadline moved to `deadline` (an approved 延期), due at the same
        time of day; key, nominal date and opening stay."""
        return replace(self, deadline=deadline, due=datetime.combine(deadline, self.due.timetz()))


def cycles_for_year(
    rule: CycleRule, year: int, calendar: WorkCalendar, tz: tzinfo, due_time: time
) -> list[Cycle]:
    """All cycles of `rule` in `year`, in order, with deadlines moved off non-workdays."""
    # Every report step and every status asks for them (a year's workdays walked each
    # time: about 4% of the CPU of a report step in bench.updates), so the calendar keeps them.
    kept = calendar.derived(
        ("cycles", rule, year, tz, due_time),
        lambda: tuple(_compute_cycles(rule, year, calendar, tz, due_time)),
    )
    return list(kept)


def _compute_cycles(
    rule: CycleRule, year: int, calendar: WorkCalendar, tz: tzinfo, due_time: time
) -> list[Cycle]:
    cycles: list[Cycle] = []
    opens = date(year, 1, 1)
    for nominal in rule.nominal_dates(year):
        deadline = calendar.previous_workday(nominal)
        if deadline < opens:
            # Only when the period has no workday before its nominal date (a 1 January
            # deadline, or two listed dates around a holiday): moving back would put the
            # deadline before the period began, so it moves forward instead.
            deadline = calendar.next_workday(nominal)
        due = datetime.combine(deadline, due_time, tzinfo=tz)
        cycles.append(Cycle(rule.key_for(nominal), year, nominal, deadline, due, opens))
        opens = nominal + timedelta(days=1)
    return cycles
