"""The daily summary (a leader's, or the city's) as plain data: counts by light, what changed
since the last digest (lights, newly overdue, new reports), red and yellow tasks with their first
reason, deadlines this week; built from boards a chunk at a time.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from bot.config import Settings
from bot.domain.boards import Board
from bot.domain.charts import (
    CHART_BARS,
    CHART_SECTIONS,
    SectionCounts,
    TaskBar,
    WorstBars,
    section_counts,
    section_of,
    task_bar,
)
from bot.domain.model import ReportInfo
from bot.domain.status import (
    Light,
    Overdue,
    Reason,
    Status,
)
from bot.domain.workcal import WorkCalendar

# --- Daily summary ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Flagged:
    """A red or yellow task and the first reason for its light."""

    task_no: int
    task_text: str
    light: Light
    reason: Reason
    more: int  # further reasons not shown


@dataclass(frozen=True, slots=True)
class LightChange:
    """Tasks whose light changed from `before` to `after` since the last digest (序号 order)."""

    before: Light
    after: Light
    task_nos: tuple[int, ...]


def light_changes(
    before: Mapping[int, Light], after: Mapping[int, Light], nos: Mapping[int, int]
) -> tuple[LightChange, ...]:
    """The changes between two digests' lights (task id → light), worst new light first; a task
    not in `before` (added to the register since) is no change."""
    moved: dict[tuple[Light, Light], list[int]] = defaultdict(list)
    for task_id, light in after.items():
        old = before.get(task_id)
        if old is not None and old != light:
            moved[(old, light)].append(nos[task_id])
    return tuple(
        LightChange(old, new, tuple(sorted(task_nos)))
        for (old, new), task_nos in sorted(moved.items(), key=lambda x: (-x[0][1], -x[0][0]))
    )


@dataclass(frozen=True, slots=True)
class DueDay:
    """Obligations falling due on one day this week."""

    deadline: date
    owed: int
    reported: int
    unreported_nos: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Summary:
    """A leader's (or the city's) day: counts by light, red tasks, new reports, due this week."""

    leader: str | None  # None: city-wide
    day: date
    since: datetime
    counts: Mapping[Light, int]
    total: int
    red: tuple[Flagged, ...]
    yellow: tuple[Flagged, ...]
    reports: tuple[tuple[int, ReportInfo], ...]  # (task no, report), newest first
    due: tuple[DueDay, ...]
    next_deadline: date | None
    overdue_units: int
    overdue_rows: int
    lights: Mapping[int, Light]  # task id → light, to compare with the next digest
    # Since the last digest: lights changed (None: no earlier digest to compare with), and the
    # (unit, count) of reports that fell overdue, most first.
    changes: tuple[LightChange, ...] | None = None
    became_overdue: tuple[tuple[str, int], ...] = ()
    # For the digest's chart (bot.domain.charts), when asked for: the worst tasks, worst
    # first, and the lights counted by section.
    bars: tuple[TaskBar, ...] = ()
    sections: tuple[SectionCounts, ...] = ()


class SummaryBuilder:
    """A summary built from boards fed a chunk at a time (`add`), then the reports (`build`).

    Keeps only what the summary shows: counts, red items, this week's deadlines, the tasks' 序号;
    with `charts`, the chart's worst tasks and the lights by section.
    """

    def __init__(
        self,
        *,
        leader: str | None,
        now: datetime,
        since: datetime,
        tz: tzinfo,
        charts: bool = False,
    ) -> None:
        self.leader = leader
        self.since = since
        self.today = now.astimezone(tz).date()
        self.week_end = self.today + timedelta(days=6 - self.today.weekday())
        self.since_day = since.astimezone(tz).date()
        self.counts: dict[Light, int] = {light: 0 for light in Light}
        self.flagged: list[tuple[tuple[int, int, int], Flagged]] = []
        self.lights: dict[int, Light] = {}
        self.became_overdue: dict[str, int] = defaultdict(int)
        self.due: dict[date, list[tuple[int, bool]]] = defaultdict(list)
        self.next_deadline: date | None = None
        self.overdue_units: set[int] = set()
        self.overdue_count = 0
        self.nos: dict[int, int] = {}
        self.bars = WorstBars(CHART_BARS) if charts else None
        self.sections: dict[str, dict[Light, int]] = {}

    @property
    def total(self) -> int:
        """How many tasks were added."""
        return len(self.nos)

    def add(self, boards: Iterable[Board], statuses: Mapping[int, Status]) -> None:
        """Count these tasks in."""
        today, week_end, due = self.today, self.week_end, self.due
        upcoming = self.next_deadline
        for board in boards:
            self.nos[board.task.id] = board.task.no
            status = statuses[board.task.id]
            light = status.light
            self.counts[light] += 1
            self.lights[board.task.id] = light
            if self.bars is not None:
                self.bars.add(task_bar(board, status, today))
                section = self.sections.setdefault(section_of(board), dict.fromkeys(Light, 0))
                section[light] += 1
            if light in (Light.RED, Light.YELLOW) and status.reasons:
                first = status.reasons[0]
                worst = first.workdays_overdue if isinstance(first, Overdue) else 0
                item = Flagged(
                    board.task.no, board.task.text, light, first, len(status.reasons) - 1
                )
                rank = (0 if isinstance(first, Overdue) else 1, -worst, board.task.no)
                self.flagged.append((rank, item))
            for s in board.units:
                if s.missed is not None:
                    self.overdue_units.add(s.unit.unit_id)
                    self.overdue_count += 1
                    # Its deadline (the end of that day) passed after the last digest was sent.
                    if s.missed.deadline >= self.since_day:
                        self.became_overdue[s.unit.name] += 1
                current = s.current
                if current is None:
                    continue
                if today <= current.deadline <= week_end:
                    due[current.deadline].append((board.task.no, s.reported_current))
                elif (
                    current.deadline > week_end
                    and not s.reported_current
                    and (upcoming is None or current.deadline < upcoming)
                ):
                    upcoming = current.deadline
        self.next_deadline = upcoming

    def build(
        self, reports: Iterable[ReportInfo], previous: Mapping[int, Light] | None = None
    ) -> Summary:
        """The summary, with the reports since `since` on the tasks added, and the lights changed
        since the `previous` digest's (task id → light; None: no earlier digest)."""
        nos = self.nos
        newest: dict[tuple[int, int, str], ReportInfo] = {}
        for r in sorted(reports, key=lambda r: r.id):
            if r.task_id in nos:
                newest[(r.task_id, r.unit_id, r.cycle_key)] = r  # a correction replaces it
        recent = sorted(newest.values(), key=lambda r: r.created_at, reverse=True)
        self.flagged.sort(key=lambda x: x[0])
        flagged = [item for _, item in self.flagged]
        return Summary(
            leader=self.leader,
            day=self.today,
            since=self.since,
            counts=dict(self.counts),
            total=self.total,
            red=tuple(item for item in flagged if item.light is Light.RED),
            yellow=tuple(item for item in flagged if item.light is Light.YELLOW),
            reports=tuple((nos[r.task_id], r) for r in recent),
            due=tuple(
                DueDay(
                    d,
                    len(items),
                    sum(1 for _, ok in items if ok),
                    tuple(sorted({no for no, ok in items if not ok})),
                )
                for d, items in sorted(self.due.items())
            ),
            next_deadline=self.next_deadline,
            overdue_units=len(self.overdue_units),
            overdue_rows=self.overdue_count,
            lights=dict(self.lights),
            changes=None if previous is None else light_changes(previous, self.lights, nos),
            became_overdue=tuple(sorted(self.became_overdue.items(), key=lambda x: (-x[1], x[0]))),
            bars=self.bars.bars() if self.bars is not None else (),
            sections=section_counts(self.sections, self.sections, CHART_SECTIONS),
        )


def summarize(
    boards: Sequence[Board],
    statuses: Mapping[int, Status],
    reports: Iterable[ReportInfo],
    *,
    leader: str | None,
    now: datetime,
    since: datetime,
    tz: tzinfo,
    previous: Mapping[int, Light] | None = None,
) -> Summary:
    """The summary of some tasks (a leader's, or all) at `now`."""
    builder = SummaryBuilder(leader=leader, now=now, since=since, tz=tz)
    builder.add(boards, statuses)
    return builder.build(reports, previous)


def previous_summary(now: datetime, settings: Settings, calendar: WorkCalendar) -> datetime:
    """The summary time of the workday before `now`'s day."""
    today = now.astimezone(settings.tz).date()
    before = calendar.previous_workday(today - timedelta(days=1))
    return datetime.combine(before, settings.summary_time, tzinfo=settings.tz)


def summary_due(now: datetime, settings: Settings, calendar: WorkCalendar) -> bool:
    """True on a workday between summary_time and summary_latest."""
    local = now.astimezone(settings.tz)
    if not calendar.is_workday(local.date()):
        return False
    return settings.summary_time <= local.time().replace(tzinfo=None) < settings.summary_latest


def circular_due(
    today: date, settings: Settings, calendar: WorkCalendar, deadlines: Iterable[date]
) -> bool:
    """Whether the work group gets the 通报 today (a workday): on the week's first workday on
    or after `circular_weekday`, and on the first workday after each of `deadlines` (the
    monthly reporting deadlines) when `circular_after_deadlines`."""
    if not calendar.is_workday(today):
        return False
    weekday = settings.circular_weekday
    if weekday >= 0 and today.weekday() >= weekday:
        monday = today - timedelta(days=today.weekday())
        first = calendar.next_workday(monday + timedelta(days=weekday))
        if first == today:
            return True
    if settings.circular_after_deadlines:
        return any(calendar.next_workday(d + timedelta(days=1)) == today for d in deadlines)
    return False
