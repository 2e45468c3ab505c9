"""A task's board: each unit's standing at a moment (what it owes by bot.domain.obligations, its
latest report) and the task's status light (bot.domain.status).

No Telegram and no database: `db/views/` gathers the inputs, the view modules beside this one
assemble them, `bot/texts/office.py` renders them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from types import MappingProxyType

from bot.config import Settings
from bot.domain.cycles import Cycle, CycleRule
from bot.domain.deadlines import rule_for, year_cycles
from bot.domain.model import LEAD, Latest, Pair, TaskInfo, UnitOnTask
from bot.domain.obligations import (
    Moves,
    Outcome,
    Record,
    Reported,
    Terms,
    completed_at,
    duty,
    last_passed,
    moved,
    moved_keys,
    nudge_cycle,
    open_cycle,
    outcomes,
    record_of,
)
from bot.domain.status import (
    CycleDue,
    Status,
    StatusThresholds,
    TaskProgress,
    UnitProgress,
    task_status,
)
from bot.domain.workcal import WorkCalendar

# --- Cycles -------------------------------------------------------------------------------------


class CycleBook:
    """Each reporting rule's current and last passed cycle at `now`, computed once per rule."""

    def __init__(
        self,
        settings: Settings,
        calendar: WorkCalendar,
        now: datetime,
        since: datetime | None = None,
    ) -> None:
        self.settings = settings
        self.calendar = calendar
        self.now = now
        self.since = since
        self._rules: dict[tuple[str, tuple[str, ...]], CycleRule] = {}
        self._cycles: dict[tuple[CycleRule, int], tuple[Cycle | None, Cycle | None]] = {}
        self._dues: dict[Cycle, CycleDue] = {}
        self._year: dict[tuple[CycleRule, int], tuple[Cycle, ...]] = {}

    def rule(self, task: TaskInfo) -> CycleRule:
        """The task's reporting rule."""
        key = (task.cycle_kind, task.cycle_dates)
        rule = self._rules.get(key)
        if rule is None:
            rule = self._rules[key] = rule_for(task.cycle_kind, task.cycle_dates, self.settings)
        return rule

    def cycles(self, task: TaskInfo) -> tuple[Cycle | None, Cycle | None]:
        """(current, chased): the first cycle due at or after now, the last passed one."""
        return self.cycles_of(self.rule(task), task.year)

    def cycles_of(self, rule: CycleRule, year: int) -> tuple[Cycle | None, Cycle | None]:
        """(open, last passed) cycles of a rule in a year (bot.domain.obligations); the last
        passed one only if it came after `since` (otherwise no unit owes it)."""
        key = (rule, year)
        found = self._cycles.get(key)
        if found is None:
            all_cycles = year_cycles(rule, year, self.settings, self.calendar)
            chased = last_passed(all_cycles, self.now)
            if chased is not None and not Terms(all_cycles, since=self.since).owed(chased, {}):
                chased = None  # before the register was imported: not chased
            found = self._cycles[key] = (open_cycle(all_cycles, self.now), chased)
        return found

    def year_cycles(self, task: TaskInfo) -> tuple[Cycle, ...]:
        """Every cycle of the task's year, under its rule (computed once per rule and year)."""
        key = (self.rule(task), task.year)
        found = self._year.get(key)
        if found is None:
            found = self._year[key] = tuple(
                year_cycles(key[0], task.year, self.settings, self.calendar)
            )
        return found

    def terms(
        self,
        task: TaskInfo,
        unit: UnitOnTask,
        done_at: datetime | None,
        moves: Moves | None = None,
    ) -> Terms:
        """A unit's terms on the task (bot.domain.obligations), its approved 延期 applied."""
        return Terms(moved(self.year_cycles(task), moves), unit.owes, self.since, done_at)

    def due(self, cycle: Cycle) -> CycleDue:
        """The cycle as a unit owes it (one object per cycle)."""
        found = self._dues.get(cycle)
        if found is None:
            found = self._dues[cycle] = _due(cycle)
        return found

    def keys(
        self,
        tasks: Iterable[TaskInfo],
        *,
        history: bool = False,
        moves: Mapping[Pair, Moves] | None = None,
    ) -> set[str]:
        """The cycle keys that matter for these tasks now: the open and the last passed one,
        or (`history`) every cycle up to the open one; and those the units' approved
        extensions (`moves`) keep owed."""
        out: set[str] = set()
        by_task: dict[int, list[Moves]] = {}
        for (task_id, _), unit_moves in (moves or {}).items():
            by_task.setdefault(task_id, []).append(unit_moves)
        for task in tasks:
            for unit_moves in by_task.get(task.id, ()):
                out |= moved_keys(self.year_cycles(task), unit_moves)
            if history:
                for cycle in self.year_cycles(task):
                    out.add(cycle.key)
                    if cycle.due >= self.now:
                        break
                continue
            for found in self.cycles(task):
                if found is not None:
                    out.add(found.key)
        return out


class CountingCalendar(WorkCalendar):
    """A calendar that remembers workday counts: statuses of many tasks ask the same spans."""

    def __init__(self, inner: WorkCalendar) -> None:
        super().__init__()
        self.inner = inner
        self._between: dict[tuple[date, date], int] = {}

    def is_workday(self, day: date) -> bool:
        """As the wrapped calendar says."""
        return self.inner.is_workday(day)

    def workdays_between(self, start: date, end: date) -> int:
        """As the wrapped calendar counts, once per span."""
        key = (start, end)
        found = self._between.get(key)
        if found is None:
            found = self._between[key] = self.inner.workdays_between(start, end)
        return found


def _due(cycle: Cycle) -> CycleDue:
    return CycleDue(cycle.key, cycle.deadline, cycle.due)


# --- Boards: a task's standing ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Standing:
    """One unit on one task at `now`: what it owes, whether it reported, its latest report."""

    unit: UnitOnTask
    current: CycleDue | None = None
    reported_current: bool = False
    missed: CycleDue | None = None
    latest: Latest | None = None
    done: bool = False  # its part is complete (bot.domain.obligations)
    nudge: CycleDue | None = (
        None  # what a 催办 may be about now (bot.domain.obligations.nudge_cycle)
    )
    earlier_missed: int = 0  # owed cycles before the chased one with no report (history only)
    record: Record | None = None  # how its owed cycles ended (history only)
    outcomes: tuple[Outcome, ...] = ()  # each owed cycle decided so far (history only)


@dataclass(frozen=True, slots=True)
class Board:
    """A task and every unit's standing on it."""

    task: TaskInfo
    units: tuple[Standing, ...]
    completed: bool = False
    end: date | None = None  # the task's own deadline when an approved 延期 moved it

    def standing(self, unit_id: int) -> Standing | None:
        """The standing of one unit, if it is on the task."""
        return next((s for s in self.units if s.unit.unit_id == unit_id), None)


def build_board(
    task: TaskInfo,
    reported: Mapping[Pair, Reported],
    latest: Mapping[Pair, Latest],
    book: CycleBook,
    today: date,
    done: Mapping[Pair, datetime] | None = None,
    *,
    history: bool = False,
    moves: Mapping[Pair, Moves] | None = None,
    end: date | None = None,
) -> Board:
    """A task's standing: each unit's duty (bot.domain.obligations) from the cycles it reported,
    when
    its part was completed (`done`), and its latest report.

    `history`: `reported` holds every cycle of the year up to now, so the earlier misses and
    the record are known; otherwise only the open and last passed cycles are. `moves`: each
    pair's approved cycle extensions; `end`: the task's deadline as an approved 延期 moved it.
    """
    completed = task.completed(today)
    done = done or {}
    marked = completed_at(None, None, task.completed_on, book.settings.tz)
    units = []
    for unit in task.units:
        pair = (task.id, unit.unit_id)
        keys = reported.get(pair, _NO_KEYS)
        stated = done.get(pair)
        terms = book.terms(
            task,
            unit,
            min(stated, marked) if stated and marked else stated or marked,
            (moves or _NO_MOVES).get(pair),
        )
        d = duty(terms, keys, book.now)
        ended = outcomes(terms, keys, book.now) if history and unit.owes else ()
        nudge = nudge_cycle(d, today, book.calendar, book.settings.remind_days_before)
        units.append(
            Standing(
                unit,
                current=book.due(d.current) if d.current is not None else None,
                reported_current=d.reported_current,
                missed=book.due(d.missed) if d.missed is not None else None,
                latest=latest.get(pair),
                done=d.done,
                nudge=book.due(nudge) if nudge is not None else None,
                earlier_missed=d.earlier_missed if history else 0,
                record=record_of(ended) if history and unit.owes else None,
                outcomes=ended,
            )
        )
    return Board(task, tuple(units), completed, end)


_NO_MOVES: Mapping[Pair, Moves] = MappingProxyType({})
_NO_KEYS: Mapping[str, datetime] = MappingProxyType({})


def board_status(
    board: Board,
    thresholds: StatusThresholds,
    calendar: WorkCalendar,
    now: datetime,
    tz: tzinfo,
) -> Status:
    """The task's light and reasons (bot.domain.status) from its board."""
    today = now.astimezone(tz).date()
    units = []
    # A completed task is done whatever its units say (the status rules stop there).
    for s in () if board.completed else board.units:
        latest = s.latest
        if latest is None and not s.unit.owes and s.unit.role != LEAD:
            # A co-responsible unit that owes nothing and never reported has no say in the
            # status (bot.domain.status reads owing units, lead units and latest reports only).
            continue
        percent = latest.percent if latest is not None else None
        if percent is not None and not (percent >= 0 and percent < math.inf):
            percent = None  # a stored value the status rules refuse: treat as unstated
        report_on = percent_on = None
        if latest is not None:
            report_on = _local_day(latest.report.created_at, tz)
            if percent is not None:
                # Usually the newest report states the percentage: the same day.
                same = latest.percent_at == latest.report.created_at
                percent_on = report_on if same else _local_day(latest.percent_at, tz)
        units.append(
            UnitProgress(
                unit=s.unit.name,
                lead=s.unit.lead,
                owes_report=s.unit.owes and not board.completed,
                current=s.current,
                reported_current=s.reported_current,
                missed_cycles=(s.missed,) if s.missed is not None else (),
                latest_percent=percent,
                percent_on=percent_on,
                latest_expected=latest.expected if latest is not None else None,
                latest_difficulties=latest.report.difficulties if latest is not None else (),
                latest_report_on=report_on,
            )
        )
    progress = TaskProgress(
        today=today,
        year=board.task.year,
        completed=board.completed,
        completed_on=board.task.completed_on,
        units=tuple(units),
        schedule_applies=board.task.schedule_applies,
        period_end=board.end,
        now=now,
    )
    return task_status(progress, thresholds, calendar)


def _local_day(moment: datetime | None, tz: tzinfo) -> date | None:
    return moment.astimezone(tz).date() if moment is not None else None
