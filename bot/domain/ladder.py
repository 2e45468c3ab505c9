"""The reminder ladder for one obligation: which reminder is due on which workday.

An obligation is one lead unit's report on one task for one cycle. Its ladder, on workdays
only and each at `reminder_time` local:

    before      N workdays before the deadline (N = remind_days_before)   → liaison
    day_before  the last workday before the deadline day                  → liaison
    due         the deadline day itself                                   → liaison
    overdue-k   the k-th workday after the deadline, k = 1, 2, 3 …        → liaison
    escalate    once, on the M-th overdue workday (M = escalate_after)    → leader and office

With N == 1 the notice and the day-before reminder fall on the same day; only `day_before`
is sent. A report stops the ladder.

Catch-up (`steps_to_send`): nothing a person should have been told is skipped because the bot
was down, but nobody gets a stale message either. On a workday from `reminder_time` on, the
liaison gets only the *latest* step scheduled up to today, if nothing as late was sent: back
the day after the deadline, they get `overdue-1`, not "due today" as well. Steps before the
deadline ("before", "day_before", "due") lapse once the deadline has passed. An escalation
that fell due during downtime is sent when the bot is back, once.

Glossary: 联络员 = liaison (a unit's reporting contact); 分管领导 = supervising leader;
督导办 = supervision office; 催报 = reminder to report; 逾期 = overdue; 督办升级 = escalation.
"""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from enum import StrEnum

from bot.domain.workcal import WorkCalendar


class StepKind(StrEnum):
    """The rungs of the ladder; values are stored as (the start of) step keys."""

    BEFORE = "before"
    DAY_BEFORE = "day_before"
    DUE = "due"
    OVERDUE = "overdue"
    ESCALATE = "escalate"


class Audience(StrEnum):
    """Who a step is for."""

    LIAISON = "liaison"  # the lead unit's 联络员
    LEADERS = "leaders"  # the task's 分管领导 and the 督导办


# Steps that only make sense before the deadline passes.
_PRE_DEADLINE = frozenset({StepKind.BEFORE, StepKind.DAY_BEFORE, StepKind.DUE})


@dataclass(frozen=True)
class Step:
    """One reminder of an obligation's ladder, scheduled for the workday `day`."""

    kind: StepKind
    day: date
    overdue: int = 0  # overdue workdays on `day`: k for overdue-k, M for escalate, else 0

    @property
    def key(self) -> str:
        """The stable deduplication key: "before", "due", "overdue-3", "escalate", …."""
        if self.kind is StepKind.OVERDUE:
            return f"overdue-{self.overdue}"
        return self.kind.value

    @property
    def audience(self) -> Audience:
        """Leaders and office for an escalation, the liaison for everything else."""
        return Audience.LEADERS if self.kind is StepKind.ESCALATE else Audience.LIAISON

    def send_at(self, tz: tzinfo, reminder_time: time) -> datetime:
        """The aware moment the step is scheduled to go out."""
        return datetime.combine(self.day, reminder_time, tzinfo=tz)


def _check(before_days: int, escalate_after: int) -> None:
    """Refuse settings that would make the ladder meaningless."""
    if before_days < 1:
        raise ValueError(f"before_days must be at least 1, got {before_days}")
    if escalate_after < 1:
        raise ValueError(f"escalate_after must be at least 1, got {escalate_after}")


def _liaison_rank(key: str) -> int:
    """Order of the liaison's steps (before < day_before < due < overdue-1 < …); 0 if other."""
    fixed = {StepKind.BEFORE.value: 1, StepKind.DAY_BEFORE.value: 2, StepKind.DUE.value: 3}
    if key in fixed:
        return fixed[key]
    prefix = f"{StepKind.OVERDUE.value}-"
    if key.startswith(prefix) and key[len(prefix) :].isdigit():
        return 3 + int(key[len(prefix) :])
    return 0


def first_notice(deadline: date, calendar: WorkCalendar, before_days: int) -> date:
    """The workday the first reminder of a deadline goes out: `before_days` workdays before."""
    return calendar.add_workdays(deadline, -before_days)


def overdue_workdays(deadline: date, today: date, calendar: WorkCalendar) -> int:
    """Workdays after the deadline day up to and including `today`; 0 on or before it."""
    if today <= deadline:
        return 0
    return calendar.workdays_between(deadline, today)


def steps_due(
    deadline: date,
    today: date,
    reported: bool,
    calendar: WorkCalendar,
    before_days: int,
    escalate_after: int,
) -> list[Step]:
    """The steps scheduled for `today` exactly (no catch-up); empty on non-workdays."""
    _check(before_days, escalate_after)
    if reported or not calendar.is_workday(today):
        return []
    if today > deadline:
        k = overdue_workdays(deadline, today, calendar)
        steps = [Step(StepKind.OVERDUE, today, k)]
        if k == escalate_after:
            steps.append(Step(StepKind.ESCALATE, today, k))
        return steps
    if today == deadline:
        return [Step(StepKind.DUE, today)]
    if today == calendar.add_workdays(deadline, -1):
        return [Step(StepKind.DAY_BEFORE, today)]
    # With before_days == 1 the notice is the day-before reminder, sent once above.
    if before_days > 1 and today == calendar.add_workdays(deadline, -before_days):
        return [Step(StepKind.BEFORE, today)]
    return []


def ladder(
    deadline: date,
    calendar: WorkCalendar,
    before_days: int,
    escalate_after: int,
    until: date,
    reported_on: date | None = None,
) -> list[Step]:
    """The whole schedule up to `until`, stopping on `reported_on` (a report that day stops it)."""
    _check(before_days, escalate_after)
    out: list[Step] = []
    day = first_notice(deadline, calendar, before_days)
    while day <= until and (reported_on is None or day < reported_on):
        out.extend(steps_due(deadline, day, False, calendar, before_days, escalate_after))
        day += timedelta(days=1)
    return out


def steps_to_send(
    due: datetime,
    now: datetime,
    reported: bool,
    already_sent: Set[str],
    calendar: WorkCalendar,
    *,
    tz: tzinfo,
    reminder_time: time,
    before_days: int,
    escalate_after: int,
) -> list[Step]:
    """What to send now for an obligation due at `due`, given the step keys already sent.

    Safe to call as often as wanted: it returns each step at most once as long as the caller
    records what it sends. `already_sent` holds the obligation's sent keys; a caller that
    keeps them per recipient passes one recipient's keys and keeps only the steps of that
    recipient's `audience`. See the module docstring for the catch-up rule.
    """
    _check(before_days, escalate_after)
    for moment in (due, now):
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(f"naive datetime {moment!r}: pass an aware datetime")
    if reported:
        return []
    # Days and the reminder time are local; `due` and `now` may come in any zone (e.g. UTC).
    local = now.astimezone(tz)
    today = local.date()
    if not calendar.is_workday(today) or local.time() < reminder_time:
        return []
    deadline = due.astimezone(tz).date()

    out: list[Step] = []
    latest = _latest_liaison_step(deadline, today, calendar, before_days)
    sent_rank = max((_liaison_rank(k) for k in already_sent), default=0)
    if (
        latest is not None
        and _liaison_rank(latest.key) > sent_rank
        and not (latest.kind in _PRE_DEADLINE and now >= due)
    ):
        out.append(latest)

    if (
        StepKind.ESCALATE.value not in already_sent
        and overdue_workdays(deadline, today, calendar) >= escalate_after
    ):
        day = calendar.add_workdays(deadline, escalate_after)
        out.append(Step(StepKind.ESCALATE, day, escalate_after))
    return out


def standing_step(
    deadline: date, today: date, calendar: WorkCalendar, before_days: int
) -> Step | None:
    """The liaison's latest step scheduled on or before the workday `today` (None before the
    first notice): what a reminder sent today says about an obligation whose own step is not
    due today, so the list a liaison gets changes only when something changed."""
    return _latest_liaison_step(deadline, today, calendar, before_days)


def standing_key(today: date) -> str:
    """The item step key of an obligation listed in today's reminder without a step of its own
    (its rank is 0: it never stands for a ladder step)."""
    return f"{STANDING}{today.isoformat()}"


STANDING = "listed-"


def _latest_liaison_step(
    deadline: date, today: date, calendar: WorkCalendar, before_days: int
) -> Step | None:
    """The liaison's most recent step scheduled on or before the workday `today`, if any."""
    if today > deadline:
        return Step(StepKind.OVERDUE, today, overdue_workdays(deadline, today, calendar))
    if today == deadline:
        return Step(StepKind.DUE, today)
    day_before = calendar.add_workdays(deadline, -1)
    if today >= day_before:
        return Step(StepKind.DAY_BEFORE, day_before)
    before = calendar.add_workdays(deadline, -before_days)
    if before_days > 1 and today >= before:
        return Step(StepKind.BEFORE, before)
    return None
