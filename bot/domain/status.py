"""Task status (红黄绿灯): a pure function from a task's progress to a light and its reasons.

Glossary:
- 红黄绿灯: the traffic-light status of a task; 已完成 done, 绿灯 green, 黄灯 yellow, 红灯 red.
- 牵头单位 (lead unit): owns the task and owes one progress report (报送) per cycle.
- 责任单位 (co-responsible unit): helps; owes reports only when the setting says so.
- 周期 (cycle): one reporting period (monthly by default), with a deadline (截止时间).
- 逾期 (overdue): a cycle's deadline has passed and the unit sent no report for it.
- 序时进度 (time-elapsed schedule): the share of the task's period that has elapsed, compared
  with the reported percentage; "behind schedule" means elapsed% − reported% is large.
- 预计完成时间 (expected completion date): the date a unit's latest report gave.
- 困难/需协调事项 (difficulty / request for coordination): phrases from the latest report.
- 工作日 (workday): by the statutory calendar with its make-up workdays (调休).

Rules, in order (decisions on ambiguous cases are marked "Decision"):
- DONE when the task is marked complete, or when every lead unit's latest percentage is ≥ 100.
  Decision: a lead unit with no percentage blocks ALL_100 (it has not said it is done);
  co-responsible units' percentages neither make nor block completion. DONE overrides everything.
- RED when any of:
  * OVERDUE — an owing unit has a cycle whose deadline is before `today` and no report for it.
    On the deadline day itself the report is not overdue yet, unless the caller gives the
    moment (`TaskProgress.now`) and the cycle's due time (`CycleDue.due`, e.g. 17:00): then it
    is overdue from that minute, as `bot.domain.cycles` counts it. Decision: a passed deadline is
    red
    even when no workday has passed since (e.g. over a weekend); the reason carries both
    workdays and calendar days.
  * END_DATE_PASSED — the task's own period has ended (task-specific end date, else Dec 31)
    and it is not done. Decision: added; it does not apply when the schedule rule does not.
  * EXPECTED_DATE_PASSED — a unit's latest expected completion date is before `today` (today
    itself is not passed), unless that unit's own latest percentage is already ≥ 100.
  * FAR_BEHIND — elapsed% − reported% ≥ red_behind_pct.
- YELLOW when any of (and not red):
  * BEHIND — elapsed% − reported% ≥ yellow_behind_pct.
  * DIFFICULTY — a unit's latest report names a difficulty or asks for coordination.
  * DUE_SOON_UNREPORTED — an owing unit has not reported for a cycle whose deadline is today or
    at most yellow_due_within_workdays workdays away (workdays in (today, deadline]).
- GREEN otherwise, with one ON_TRACK reason giving what was checked.

The schedule rule, decisions:
- The period is Jan 1 … Dec 31 of the task's year unless the task gives its own start or end.
  A day counts as elapsed once it has begun: Jan 1 is 1/365, Dec 31 is 100%.
- It is applied to every unit (lead or co-responsible) that has reported a percentage, each on
  its own; a unit with no percentage is silent. It is off for tasks whose targets are growth
  rates (`schedule_applies=False`), which cannot be measured against elapsed time.
- By default a percentage is compared with the schedule at the date it was reported, as
  序时进度 is quoted ("截至6月30日完成45%，序时进度49.6%"); otherwise an on-schedule unit would
  turn yellow every month shortly before its next report. Staleness is caught by OVERDUE.
  `StatusThresholds.schedule_at_report_date=False` compares with the schedule at `today` instead.
- The elapsed percentage is rounded to one decimal and the gap is computed from it, then rounded
  to one decimal: the numbers a reader sees are the numbers that were compared.

Every reason, worst first: by code (the order of `ReasonCode`), then by how bad it is within the
code (most overdue, largest gap, nearest deadline), then by the order the units were given.
A red or yellow status lists every finding, not only those of its own colour.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum, IntEnum
from types import MappingProxyType
from typing import TYPE_CHECKING, ClassVar, Final, TypeAlias

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.domain.workcal import WorkCalendar


class Light(IntEnum):
    """The status colour; a larger value is worse, so `max()` picks the worst."""

    DONE = 0
    GREEN = 1
    YELLOW = 2
    RED = 3

    @property
    def label(self) -> str:
        """The Chinese label (已完成/绿灯/黄灯/红灯)."""
        return LIGHT_LABELS[self]


LIGHT_LABELS: Final[Mapping[Light, str]] = MappingProxyType(
    {Light.DONE: "已完成", Light.GREEN: "绿灯", Light.YELLOW: "黄灯", Light.RED: "红灯"}
)


class ReasonCode(Enum):
    """Why a task has its light; declaration order is the order reasons are listed in."""

    MARKED_COMPLETE = "marked_complete"
    ALL_100 = "all_100"
    OVERDUE = "overdue"
    END_DATE_PASSED = "end_date_passed"
    EXPECTED_DATE_PASSED = "expected_date_passed"
    FAR_BEHIND = "far_behind"
    BEHIND = "behind"
    DIFFICULTY = "difficulty"
    DUE_SOON_UNREPORTED = "due_soon_unreported"
    ON_TRACK = "on_track"


REASON_LIGHT: Final[Mapping[ReasonCode, Light]] = MappingProxyType(
    {
        ReasonCode.MARKED_COMPLETE: Light.DONE,
        ReasonCode.ALL_100: Light.DONE,
        ReasonCode.OVERDUE: Light.RED,
        ReasonCode.END_DATE_PASSED: Light.RED,
        ReasonCode.EXPECTED_DATE_PASSED: Light.RED,
        ReasonCode.FAR_BEHIND: Light.RED,
        ReasonCode.BEHIND: Light.YELLOW,
        ReasonCode.DIFFICULTY: Light.YELLOW,
        ReasonCode.DUE_SOON_UNREPORTED: Light.YELLOW,
        ReasonCode.ON_TRACK: Light.GREEN,
    }
)

_CODE_RANK: Final[Mapping[ReasonCode, int]] = MappingProxyType(
    {code: rank for rank, code in enumerate(ReasonCode)}
)


# --- Inputs -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatusThresholds:
    """The margins the rules use; built from the settings."""

    yellow_behind_pct: float = 10.0
    red_behind_pct: float = 25.0
    yellow_due_within_workdays: int = 3
    schedule_at_report_date: bool = True

    @classmethod
    def from_settings(cls, settings: Settings) -> StatusThresholds:
        """The thresholds configured in `settings`."""
        return cls(
            yellow_behind_pct=settings.yellow_behind_pct,
            red_behind_pct=settings.red_behind_pct,
            yellow_due_within_workdays=settings.yellow_due_within_workdays,
        )


@dataclass(frozen=True, slots=True)
class CycleDue:
    """One reporting cycle a unit owes: its key (e.g. "2026-03"), deadline and due moment."""

    key: str
    deadline: date
    due: datetime | None = None

    def __post_init__(self) -> None:
        """Reject a naive due moment."""
        _require_aware(self.due)


@dataclass(frozen=True, slots=True)
class UnitProgress:
    """One unit's standing on a task.

    `current` is the cycle now open (the builder may pick the next deadline on or after today, or
    the cycle of the current month: both work). `missed_cycles` are earlier cycles with no report
    that are still chased; with `bot.domain.obligations.credit` that is at most the last cycle
    whose deadline passed (older misses stay history and would keep the task red for good).
    Every cycle the unit owes and has not reported is classified here by its deadline, so a
    `current` cycle whose deadline has passed counts as overdue.
    `latest_percent` and `latest_expected` come from the most recent report that stated one;
    `percent_on` is the date of that report (None: measured at `today`).
    `latest_difficulties` come from the most recent report only, dated `latest_report_on`:
    a difficulty not repeated is taken as resolved.
    """

    unit: str
    lead: bool = True
    owes_report: bool = True
    current: CycleDue | None = None
    reported_current: bool = False
    missed_cycles: tuple[CycleDue, ...] = ()
    latest_percent: float | None = None
    percent_on: date | None = None
    latest_expected: date | None = None
    latest_difficulties: tuple[str, ...] = ()
    latest_report_on: date | None = None

    def __post_init__(self) -> None:
        """Reject a percentage that is negative or not a number."""
        if self.latest_percent is not None and not (
            math.isfinite(self.latest_percent) and self.latest_percent >= 0
        ):
            raise ValueError(f"{self.unit}: bad percentage {self.latest_percent!r}")

    @property
    def reached_100(self) -> bool:
        """True if the unit's latest percentage is 100 or more."""
        return self.latest_percent is not None and self.latest_percent >= 100


@dataclass(frozen=True, slots=True)
class TaskProgress:
    """Everything the status of one task depends on, as of `today`."""

    today: date
    year: int
    completed: bool = False
    completed_on: date | None = None
    units: tuple[UnitProgress, ...] = ()
    schedule_applies: bool = True
    period_start: date | None = None
    period_end: date | None = None
    now: datetime | None = None

    def __post_init__(self) -> None:
        """Reject a period that ends before it starts, or a naive `now`."""
        _require_aware(self.now)
        if self.start > self.end:
            raise ValueError(f"task period ends ({self.end}) before it starts ({self.start})")

    @property
    def start(self) -> date:
        """The first day of the task's period."""
        return self.period_start or date(self.year, 1, 1)

    @property
    def end(self) -> date:
        """The last day of the task's period."""
        return self.period_end or date(self.year, 12, 31)


# --- Reasons ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MarkedComplete:
    """The office marked the task complete."""

    code: ClassVar[ReasonCode] = ReasonCode.MARKED_COMPLETE
    completed_on: date | None


@dataclass(frozen=True, slots=True)
class AllReported100:
    """Every lead unit's latest percentage is 100 (or more)."""

    code: ClassVar[ReasonCode] = ReasonCode.ALL_100
    units: tuple[str, ...]
    reported_on: date | None


@dataclass(frozen=True, slots=True)
class Overdue:
    """A unit's report for a cycle is past its deadline (「发改局3月进展逾期2个工作日未报」)."""

    code: ClassVar[ReasonCode] = ReasonCode.OVERDUE
    unit: str
    cycle_key: str
    deadline: date
    workdays_overdue: int
    days_overdue: int


@dataclass(frozen=True, slots=True)
class EndDatePassed:
    """The task's period has ended and it is not done."""

    code: ClassVar[ReasonCode] = ReasonCode.END_DATE_PASSED
    end: date
    days_passed: int


@dataclass(frozen=True, slots=True)
class ExpectedDatePassed:
    """A unit's reported expected completion date has passed."""

    code: ClassVar[ReasonCode] = ReasonCode.EXPECTED_DATE_PASSED
    unit: str
    expected: date
    days_passed: int
    percent: float | None


@dataclass(frozen=True, slots=True)
class _ScheduleGap:
    """A unit's percentage against the time-elapsed schedule at `as_of`; gap = elapsed − percent."""

    unit: str
    percent: float
    elapsed_pct: float
    gap: float
    as_of: date


@dataclass(frozen=True, slots=True)
class FarBehind(_ScheduleGap):
    """Behind the schedule by at least red_behind_pct points."""

    code: ClassVar[ReasonCode] = ReasonCode.FAR_BEHIND


@dataclass(frozen=True, slots=True)
class Behind(_ScheduleGap):
    """Behind the schedule by at least yellow_behind_pct points."""

    code: ClassVar[ReasonCode] = ReasonCode.BEHIND


@dataclass(frozen=True, slots=True)
class Difficulty:
    """A unit's latest report names difficulties or asks for coordination."""

    code: ClassVar[ReasonCode] = ReasonCode.DIFFICULTY
    unit: str
    phrases: tuple[str, ...]
    reported_on: date | None


@dataclass(frozen=True, slots=True)
class DueSoonUnreported:
    """A unit has not reported and the deadline is today or a few workdays away."""

    code: ClassVar[ReasonCode] = ReasonCode.DUE_SOON_UNREPORTED
    unit: str
    cycle_key: str
    deadline: date
    workdays_left: int


class ScheduleCheck(Enum):
    """What the schedule rule could check for a green task."""

    CHECKED = "checked"
    NO_PERCENT = "no_percent"
    NOT_APPLICABLE = "not_applicable"


@dataclass(frozen=True, slots=True)
class OnTrack:
    """What was checked for a green task.

    With `schedule` CHECKED, `unit` is the unit furthest behind and its numbers. `reported` are
    owing units that reported for the current cycle; `awaiting` those whose next report is not yet
    due (deadline `next_deadline`, `workdays_left` away). Nothing reported and something awaited
    reads as 「尚未到报送期」.
    """

    code: ClassVar[ReasonCode] = ReasonCode.ON_TRACK
    schedule: ScheduleCheck
    unit: str | None = None
    percent: float | None = None
    elapsed_pct: float | None = None
    gap: float | None = None
    as_of: date | None = None
    reported: tuple[str, ...] = ()
    awaiting: tuple[str, ...] = ()
    next_deadline: date | None = None
    workdays_left: int | None = None


Reason: TypeAlias = (
    MarkedComplete
    | AllReported100
    | Overdue
    | EndDatePassed
    | ExpectedDatePassed
    | FarBehind
    | Behind
    | Difficulty
    | DueSoonUnreported
    | OnTrack
)


@dataclass(frozen=True, slots=True)
class Status:
    """A task's light and why, worst reason first."""

    light: Light
    reasons: tuple[Reason, ...] = field(default_factory=tuple)

    @property
    def label(self) -> str:
        """The Chinese label of the light."""
        return self.light.label

    @property
    def codes(self) -> tuple[ReasonCode, ...]:
        """The reason codes, in order."""
        return tuple(reason.code for reason in self.reasons)


# --- Rules --------------------------------------------------------------------------------------


def schedule_percent(today: date, start: date, end: date) -> float:
    """Share of the period [start, end] elapsed by the end of `today`, in percent, 0..100."""
    if start > end:
        raise ValueError(f"period ends ({end}) before it starts ({start})")
    total = (end - start).days + 1
    elapsed = min(max((today - start).days + 1, 0), total)
    return 100 * elapsed / total


def task_status(
    progress: TaskProgress, thresholds: StatusThresholds, calendar: WorkCalendar
) -> Status:
    """The light of a task and its reasons, worst first."""
    if progress.completed:
        return Status(Light.DONE, (MarkedComplete(progress.completed_on),))
    leads = [u for u in progress.units if u.lead]
    if leads and all(u.reached_100 for u in leads):
        dates = [u.percent_on for u in leads if u.percent_on is not None]
        return Status(
            Light.DONE,
            (AllReported100(tuple(u.unit for u in leads), max(dates) if dates else None),),
        )

    today = progress.today
    reasons: list[Reason] = []
    overdue: list[Overdue] = []
    due_soon: list[DueSoonUnreported] = []
    awaiting: list[tuple[str, date, int]] = []
    reported: list[str] = []
    for unit in progress.units:
        if not unit.owes_report:
            continue
        if unit.current is not None and unit.reported_current:
            reported.append(unit.unit)
        for cycle in _unreported_cycles(unit):
            if _overdue(cycle, progress):
                overdue.append(
                    Overdue(
                        unit.unit,
                        cycle.key,
                        cycle.deadline,
                        workdays_overdue=calendar.workdays_between(cycle.deadline, today),
                        days_overdue=(today - cycle.deadline).days,
                    )
                )
                continue
            left = calendar.workdays_between(today, cycle.deadline)
            if left <= thresholds.yellow_due_within_workdays:
                due_soon.append(DueSoonUnreported(unit.unit, cycle.key, cycle.deadline, left))
            else:
                awaiting.append((unit.unit, cycle.deadline, left))
    overdue.sort(key=lambda r: (-r.workdays_overdue, -r.days_overdue))
    reasons.extend(overdue)

    if progress.schedule_applies and today > progress.end:
        reasons.append(EndDatePassed(progress.end, (today - progress.end).days))

    expected = [
        ExpectedDatePassed(
            u.unit, u.latest_expected, (today - u.latest_expected).days, u.latest_percent
        )
        for u in progress.units
        if u.latest_expected is not None and u.latest_expected < today and not u.reached_100
    ]
    expected.sort(key=lambda r: -r.days_passed)
    reasons.extend(expected)

    gaps = _schedule_gaps(progress, thresholds) if progress.schedule_applies else []
    for g in gaps:
        if g.gap >= thresholds.red_behind_pct:
            reasons.append(FarBehind(g.unit, g.percent, g.elapsed_pct, g.gap, g.as_of))
        elif g.gap >= thresholds.yellow_behind_pct:
            reasons.append(Behind(g.unit, g.percent, g.elapsed_pct, g.gap, g.as_of))

    for unit in progress.units:
        phrases = _clean(unit.latest_difficulties)
        if phrases:
            reasons.append(Difficulty(unit.unit, phrases, unit.latest_report_on))

    due_soon.sort(key=lambda r: (r.workdays_left, r.deadline))
    reasons.extend(due_soon)

    if reasons:
        reasons.sort(key=lambda r: _CODE_RANK[r.code])
        return Status(max(REASON_LIGHT[r.code] for r in reasons), tuple(reasons))
    return Status(Light.GREEN, (_on_track(progress, gaps, reported, awaiting),))


def _overdue(cycle: CycleDue, progress: TaskProgress) -> bool:
    """True once the cycle's due moment (if both are known) or its deadline day has passed."""
    if progress.now is not None and cycle.due is not None:
        return cycle.due < progress.now
    return cycle.deadline < progress.today


def _require_aware(moment: datetime | None) -> None:
    """Refuse a naive datetime."""
    if moment is not None and moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment!r}: pass an aware datetime")


def _unreported_cycles(unit: UnitProgress) -> list[CycleDue]:
    """The unit's missed cycles plus the current one if unreported, without repeats."""
    cycles = list(unit.missed_cycles)
    if unit.current is not None and not unit.reported_current:
        cycles.append(unit.current)
    seen: set[str] = set()
    unique = []
    for cycle in cycles:
        if cycle.key not in seen:
            seen.add(cycle.key)
            unique.append(cycle)
    return unique


def _schedule_gaps(progress: TaskProgress, thresholds: StatusThresholds) -> list[_ScheduleGap]:
    """Each unit's percentage against the schedule, largest gap first."""
    gaps = []
    for unit in progress.units:
        if unit.latest_percent is None:
            continue
        as_of = progress.today
        if thresholds.schedule_at_report_date and unit.percent_on is not None:
            as_of = min(unit.percent_on, progress.today)
        elapsed = round(schedule_percent(as_of, progress.start, progress.end), 1)
        gap = round(elapsed - min(unit.latest_percent, 100.0), 1)
        gaps.append(_ScheduleGap(unit.unit, unit.latest_percent, elapsed, gap, as_of))
    gaps.sort(key=lambda g: -g.gap)
    return gaps


def _on_track(
    progress: TaskProgress,
    gaps: list[_ScheduleGap],
    reported: list[str],
    awaiting: list[tuple[str, date, int]],
) -> OnTrack:
    """The single reason of a green task."""
    if not progress.schedule_applies:
        check = ScheduleCheck.NOT_APPLICABLE
    elif gaps:
        check = ScheduleCheck.CHECKED
    else:
        check = ScheduleCheck.NO_PERCENT
    worst = gaps[0] if gaps and check is ScheduleCheck.CHECKED else None
    nearest = min(awaiting, key=lambda a: a[1]) if awaiting else None
    return OnTrack(
        schedule=check,
        unit=worst.unit if worst else None,
        percent=worst.percent if worst else None,
        elapsed_pct=worst.elapsed_pct if worst else None,
        gap=worst.gap if worst else None,
        as_of=worst.as_of if worst else None,
        reported=tuple(reported),
        awaiting=tuple(a[0] for a in awaiting),
        next_deadline=nearest[1] if nearest else None,
        workdays_left=nearest[2] if nearest else None,
    )


def _clean(phrases: Sequence[str]) -> tuple[str, ...]:
    """Phrases stripped, empty ones dropped, repeats removed, order kept."""
    if not phrases:
        return ()  # most reports name no difficulty
    return tuple(dict.fromkeys(p.strip() for p in phrases if p.strip()))
