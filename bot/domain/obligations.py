"""What a unit owes on a task: the one rule every view, reminder, nudge and export asks.

Pure: no Telegram, no database. The inputs are the task's cycles in its year (`bot.domain.cycles`),
when tracking began (the register's import), whether the unit's role owes reports, when its part
was completed, and which cycles it has reported (each with its first report's time).

The rule, in the office's terms (also in docs/RULES.md):
- Tracking starts when the year's register is imported: a cycle whose deadline came earlier is
  not owed.
- A lead unit owes one report per task per cycle (a co-responsible unit too when
  RESPONSIBLE_UNITS_REPORT is set).
- A unit's part is complete when its newest stated percentage is 100 or more, or when the office
  marked the task complete. From that moment it owes nothing more on the task: no reminder, no
  催办, no red light. The cycle its completing report was credited to counts as reported. A later
  report below 100% reopens the part, and it owes again from the open cycle on.
- A report the office returned (退回重报) does not count, and a 100% stated before the office
  refused or reopened the part's close-out (销号) does not complete it: db.loop keeps the reported
  cycles and stated percentages this module reads true to that.
- An approved extension (延期) moves one cycle's deadline for one unit (`moved`): everything
  below reads the moved deadline for that unit, as if the rule had named it. A moved deadline
  stays before the next cycle's, so the cycles keep their order.
- A report is credited to the cycle whose deadline passed last while that cycle has no report
  (补报, a catch-up), otherwise to the open cycle (the first whose deadline is still ahead).
  Past the year's last deadline, to the year's last cycle.
- So a cycle can be caught up until the next deadline passes. Every owed cycle ends as on time
  (first report by its deadline), late (first report after it) or missed (none): the record,
  kept for the year (报送率, missed counts).
- Chased now: the open cycle (reminders before and on its deadline) and the last passed cycle
  while it is unreported (overdue: daily reminders, escalation, /overdue, 催办). Earlier missed
  cycles are on the record and are counted beside the chased one ("此前另有N期未报送"), but are
  not chased: no report could be credited to them any more.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from bot.domain.cycles import Cycle
from bot.domain.ladder import first_notice
from bot.domain.workcal import WorkCalendar

Reported = Mapping[str, datetime]  # cycle key → when its first report was stored


@dataclass(frozen=True, slots=True)
class Terms:
    """What a unit's obligation on a task depends on, besides the reports and the moment."""

    cycles: Sequence[Cycle]  # the task's cycles in its year, in order
    owes: bool = True  # the unit's role owes reports (lead; responsible if so set)
    since: datetime | None = None  # tracking start: the register's first import
    done_at: datetime | None = None  # when the unit's part was completed (None: open)

    def owed(self, cycle: Cycle, reported: Reported) -> bool:
        """True if the unit owes a report for `cycle` (whatever the moment)."""
        if not self.owes or (self.since is not None and cycle.due < self.since):
            return False
        return self.done_at is None or cycle.due < self.done_at or cycle.key in reported


@dataclass(frozen=True, slots=True)
class Duty:
    """One unit's obligation on one task at a moment."""

    done: bool = False  # its part is complete: it owes nothing more
    current: Cycle | None = None  # the open cycle it owes
    reported_current: bool = False
    missed: Cycle | None = None  # the last passed cycle, owed and unreported: chased as overdue
    earlier_missed: int = 0  # older owed cycles with no report: on the record, not chased

    @property
    def chased(self) -> Cycle | None:
        """The cycle a nudge or a reminder is about now: the missed one, else the open one."""
        if self.missed is not None:
            return self.missed
        if self.current is not None and not self.reported_current:
            return self.current
        return None


@dataclass(frozen=True, slots=True)
class Record:
    """How a unit's owed cycles of a task ended so far (the open cycle once reported)."""

    on_time: int = 0
    late: int = 0
    missed: int = 0

    @property
    def owed(self) -> int:
        """Cycles decided so far."""
        return self.on_time + self.late + self.missed

    def __add__(self, other: Record) -> Record:
        return Record(
            self.on_time + other.on_time, self.late + other.late, self.missed + other.missed
        )

    @property
    def rate(self) -> float | None:
        """报送率: cycles reported (on time or late) of those decided; None when none."""
        return (self.on_time + self.late) / self.owed if self.owed else None


NO_RECORD = Record()
COMPLETE = 100.0  # a stated percentage at or above this completes the unit's part


Moves = Mapping[str, date]  # cycle key → the deadline an approved 延期 moved it to


def moved(cycles: Sequence[Cycle], moves: Moves | None) -> Sequence[Cycle]:
    """The unit's cycles with its approved extensions applied (the same sequence when none)."""
    if not moves:
        return cycles
    return tuple(
        c.extended_to(moves[c.key]) if c.key in moves and moves[c.key] > c.deadline else c
        for c in cycles
    )


def moved_keys(cycles: Sequence[Cycle], moves: Moves) -> set[str]:
    """The cycle keys a unit with these extensions may owe now besides the task's open and last
    passed cycles: each moved cycle and the one before it (still open, or still the last
    passed, for that unit while the moved deadline is ahead)."""
    out: set[str] = set()
    keys = [c.key for c in cycles]
    for key in moves:
        if key in keys:
            index = keys.index(key)
            out.update(keys[max(index - 1, 0) : index + 1])
    return out


def extension_limit(cycles: Sequence[Cycle], key: str) -> date | None:
    """The latest deadline cycle `key` may be moved to: the day before the next cycle's
    deadline (None: it is the year's last cycle, whose limit is the task's own deadline)."""
    keys = [c.key for c in cycles]
    if key not in keys:
        return None
    index = keys.index(key)
    if index + 1 >= len(cycles):
        return None
    return cycles[index + 1].deadline - timedelta(days=1)


def nudge_cycle(d: Duty, today: date, calendar: WorkCalendar, before_days: int) -> Cycle | None:
    """The cycle a 催办 may be about now: the chased missed one, else the open one once its
    reminders have begun (a report not yet due is not urged)."""
    if d.missed is not None:
        return d.missed
    current = d.current
    if current is None or d.reported_current:
        return None
    return current if today >= first_notice(current.deadline, calendar, before_days) else None


def completed_at(
    percent: float | None, percent_at: datetime | None, marked_on: date | None, tz: tzinfo
) -> datetime | None:
    """When a unit's part was completed: its newest stated percentage reached 100, or the
    office marked the task complete (from the start of that day); the earlier of the two."""
    found = []
    if percent is not None and percent >= COMPLETE and percent_at is not None:
        found.append(percent_at)
    if marked_on is not None:
        found.append(datetime.combine(marked_on, time(0), tzinfo=tz))
    return min(found) if found else None


def applies(cycle_key: str, reported: Reported | AbstractSet[str], done: bool) -> bool:
    """True if a reminder or nudge about `cycle_key` still applies: unreported, part open."""
    return not done and cycle_key not in reported


def open_cycle(cycles: Sequence[Cycle], now: datetime) -> Cycle | None:
    """The first cycle whose deadline is at or after `now` (None past the year's last)."""
    for cycle in cycles:
        if cycle.due >= now:
            return cycle
    return None


def last_passed(cycles: Sequence[Cycle], now: datetime) -> Cycle | None:
    """The cycle whose deadline passed last before `now`."""
    found = None
    for cycle in cycles:
        if cycle.due >= now:
            break
        found = cycle
    return found


def done(terms: Terms, now: datetime) -> bool:
    """True if the unit's part is complete at `now`."""
    return terms.done_at is not None and terms.done_at <= now


def duty(terms: Terms, reported: Reported, now: datetime) -> Duty:
    """What the unit owes at `now`: the open cycle, the chased missed one, the earlier misses."""
    if not terms.owes:
        return Duty()
    finished = done(terms, now)
    current = None if finished else open_cycle(terms.cycles, now)
    if current is not None and not terms.owed(current, reported):
        current = None
    latest = last_passed(terms.cycles, now)
    missed = None
    earlier = 0
    for cycle in terms.cycles:
        if cycle.due >= now:
            break
        if cycle.key in reported or not terms.owed(cycle, reported):
            continue
        if cycle is latest and not finished:
            missed = cycle
        else:
            earlier += 1
    return Duty(
        done=finished,
        current=current,
        reported_current=current is not None and current.key in reported,
        missed=missed,
        earlier_missed=earlier,
    )


def credit(terms: Terms, reported: Reported, now: datetime) -> Cycle | None:
    """The cycle a report made at `now` is credited to (None: the task has no cycles)."""
    latest = last_passed(terms.cycles, now)
    if (
        latest is not None
        and latest.key not in reported
        and (terms.since is None or latest.due >= terms.since)
    ):
        return latest
    current = open_cycle(terms.cycles, now)
    if current is not None:
        return current
    return terms.cycles[-1] if terms.cycles else None


def correctable(terms: Terms, reported: Reported, cycle_key: str, now: datetime) -> bool:
    """True if a report for `cycle_key` may still be corrected: a new report would go there."""
    others = {k: v for k, v in reported.items() if k != cycle_key}
    target = credit(terms, others, now)
    return target is not None and target.key == cycle_key


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one owed cycle ended (or, open, was reported): its deadline as the unit owed it,
    and when its first counted report came (None: missed)."""

    key: str
    deadline: date
    due: datetime
    first: datetime | None

    @property
    def on_time(self) -> bool:
        """Reported by the deadline."""
        return self.first is not None and self.first <= self.due


def outcomes(terms: Terms, reported: Reported, now: datetime) -> tuple[Outcome, ...]:
    """Every owed cycle decided at `now`: passed ones, and the open one if already reported."""
    if not terms.owes:
        return ()
    out = []
    for cycle in terms.cycles:
        first = reported.get(cycle.key)
        if cycle.due >= now and first is None:
            break
        if terms.owed(cycle, reported):
            out.append(Outcome(cycle.key, cycle.deadline, cycle.due, first))
    return tuple(out)


def record(terms: Terms, reported: Reported, now: datetime) -> Record:
    """How the owed cycles ended: passed ones, and the open one if already reported."""
    return record_of(outcomes(terms, reported, now))


def record_of(found: Sequence[Outcome]) -> Record:
    """The record of these outcomes: on time, late, missed."""
    on_time = sum(1 for o in found if o.on_time)
    missed = sum(1 for o in found if o.first is None)
    return Record(on_time, len(found) - on_time - missed, missed)
