"""What the office and the leaders see, as plain data: overdue rows, task cards, summaries.

No Telegram and no database here: `db/views.py` gathers the inputs, `bot/texts/office.py`
renders them. Glossary: 督导办 office, 分管领导 supervising leader, 催办 nudge, 通报 circular,
本期 the cycle now open, 逾期 overdue.

Decisions where the issue is silent:
- Obligations are the ones the reminder ladder chases (`jobs/reminders.py`): every owing unit
  owes the task's current cycle (the first due at or after `now`); the cycle whose deadline
  passed last is *missed* while unreported, if its deadline came after the register was
  imported. Older misses stay history: a late report is credited only to the last passed cycle
  (`bot.cycles.cycle_for_report`), so chasing an older one could never be answered.
- A task marked complete (completed_on on or before today) owes nothing and is never overdue.
- A unit named both directly and through a collective name (各乡镇（街道）) appears once, with its
  first role in the notice's order (lead before responsible).
- /overdue groups rows by unit (a nudge and the 通报 address units), the unit with the longest
  overdue first, then the unit with most overdue rows, then by name; rows in a group by
  workdays overdue, then 序号.
- A task's percentage in the ledger is the lowest latest percentage among its lead units (a task
  is as far as its slowest lead unit); its expected date is the latest one they gave.
- The quantities on a card are those of each unit's newest report (lead units first).
- The schedule rule (序时进度) applies to a task with no targets or with at least one amount
  target; targets that are only growth rates or levels cannot be measured against time.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from types import MappingProxyType
from typing import Literal

from bot.config import Settings
from bot.cycles import Cycle, CycleRule
from bot.obligations import (
    NO_RECORD,
    Record,
    Reported,
    Terms,
    completed_at,
    duty,
    nudge_cycle,
    record,
)
from bot.schedule import rule_for, year_cycles
from bot.status import (
    CycleDue,
    Light,
    Overdue,
    Reason,
    Status,
    StatusThresholds,
    TaskProgress,
    UnitProgress,
    task_status,
)
from bot.workcal import WorkCalendar

LEAD = "lead"
RESPONSIBLE = "responsible"
MONTHLY = "monthly"

Pair = tuple[int, int]  # (task id, unit id)


# --- Inputs -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TargetInfo:
    """A quantitative target of a task (完成投资 ≥ 800 亿元)."""

    metric: str
    kind: str  # amount | growth | level
    value: float
    unit: str
    comparator: str  # at_least | exact | at_most


@dataclass(frozen=True, slots=True)
class UnitOnTask:
    """A unit's part in a task: lead or responsible, whether it owes reports, via which group."""

    unit_id: int
    name: str
    role: str  # lead | responsible
    owes: bool
    via_group: str | None = None

    @property
    def lead(self) -> bool:
        """True for a lead unit (牵头单位)."""
        return self.role == LEAD


@dataclass(frozen=True, slots=True)
class TaskInfo:
    """One task of the register with its units (groups expanded), leaders and targets."""

    id: int
    year: int
    no: int
    section: str
    subsection: str | None
    text: str
    cycle_kind: str = "monthly"
    cycle_dates: tuple[str, ...] = ()
    completed_on: date | None = None
    leaders: tuple[tuple[int, str], ...] = ()
    lead_labels: tuple[str, ...] = ()
    responsible_labels: tuple[str, ...] = ()
    units: tuple[UnitOnTask, ...] = ()
    targets: tuple[TargetInfo, ...] = ()

    @property
    def leader_names(self) -> tuple[str, ...]:
        """The supervising leaders' names in the notice's order."""
        return tuple(name for _, name in self.leaders)

    @property
    def leader_ids(self) -> frozenset[int]:
        """The supervising leaders' ids."""
        return frozenset(i for i, _ in self.leaders)

    @property
    def schedule_applies(self) -> bool:
        """True unless every target is a growth rate or a level (see the module's decisions)."""
        return not self.targets or any(t.kind == "amount" for t in self.targets)

    def completed(self, today: date) -> bool:
        """True if the task is marked complete as of `today`."""
        return self.completed_on is not None and self.completed_on <= today


@dataclass(frozen=True, slots=True)
class QuantityInfo:
    """A quantity a report gave against a target."""

    metric: str
    value: float
    unit: str
    percent_of_target: float | None = None


@dataclass(frozen=True, slots=True)
class ReportInfo:
    """A stored report, as the views need it."""

    id: int
    task_id: int
    unit_id: int
    unit: str
    cycle_key: str
    text: str
    created_at: datetime
    percent: float | None = None
    expected: date | None = None
    difficulties: tuple[str, ...] = ()
    quantities: tuple[QuantityInfo, ...] = ()
    version: int = 1


@dataclass(frozen=True, slots=True)
class Latest:
    """A (task, unit)'s newest report, and the newest percentage and expected date it stated."""

    report: ReportInfo
    percent: float | None = None
    percent_at: datetime | None = None
    expected: date | None = None


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
        """(current, chased) of a rule in a year; chased only if due after `since`."""
        key = (rule, year)
        found = self._cycles.get(key)
        if found is None:
            all_cycles = year_cycles(rule, year, self.settings, self.calendar)
            current = next((c for c in all_cycles if c.due >= self.now), None)
            passed = [c for c in all_cycles if c.due < self.now]
            chased = passed[-1] if passed else None
            if chased is not None and self.since is not None and chased.due < self.since:
                chased = None  # before the register was imported: not chased
            found = self._cycles[key] = (current, chased)
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

    def terms(self, task: TaskInfo, unit: UnitOnTask, done_at: datetime | None) -> Terms:
        """A unit's terms on the task (bot.obligations)."""
        return Terms(self.year_cycles(task), unit.owes, self.since, done_at)

    def due(self, cycle: Cycle) -> CycleDue:
        """The cycle as a unit owes it (one object per cycle)."""
        found = self._dues.get(cycle)
        if found is None:
            found = self._dues[cycle] = _due(cycle)
        return found

    def keys(self, tasks: Iterable[TaskInfo], *, history: bool = False) -> set[str]:
        """The cycle keys that matter for these tasks now: the open and the last passed one,
        or (`history`) every cycle up to the open one."""
        out: set[str] = set()
        for task in tasks:
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
    done: bool = False  # its part is complete (bot.obligations)
    nudge: CycleDue | None = None  # what a 催办 may be about now (bot.obligations.nudge_cycle)
    earlier_missed: int = 0  # owed cycles before the chased one with no report (history only)
    record: Record | None = None  # how its owed cycles ended (history only)


@dataclass(frozen=True, slots=True)
class Board:
    """A task and every unit's standing on it."""

    task: TaskInfo
    units: tuple[Standing, ...]
    completed: bool = False

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
) -> Board:
    """A task's standing: each unit's duty (bot.obligations) from the cycles it reported, when
    its part was completed (`done`), and its latest report.

    `history`: `reported` holds every cycle of the year up to now, so the earlier misses and
    the record are known; otherwise only the open and last passed cycles are.
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
            task, unit, min(stated, marked) if stated and marked else stated or marked
        )
        d = duty(terms, keys, book.now)
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
                record=record(terms, keys, book.now) if history and unit.owes else None,
            )
        )
    return Board(task, tuple(units), completed)


_NO_KEYS: Mapping[str, datetime] = MappingProxyType({})


def board_status(
    board: Board,
    thresholds: StatusThresholds,
    calendar: WorkCalendar,
    now: datetime,
    tz: tzinfo,
) -> Status:
    """The task's light and reasons (bot.status) from its board."""
    today = now.astimezone(tz).date()
    units = []
    # A completed task is done whatever its units say (the status rules stop there).
    for s in () if board.completed else board.units:
        latest = s.latest
        if latest is None and not s.unit.owes and s.unit.role != LEAD:
            # A co-responsible unit that owes nothing and never reported has no say in the
            # status (bot.status reads owing units, lead units and latest reports only).
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
        now=now,
    )
    return task_status(progress, thresholds, calendar)


def _local_day(moment: datetime | None, tz: tzinfo) -> date | None:
    return moment.astimezone(tz).date() if moment is not None else None


# --- /overdue -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OverdueRow:
    """One overdue (task, unit) pair."""

    task_id: int
    task_no: int
    task_text: str
    section: str
    subsection: str | None
    unit_id: int
    unit: str
    lead: bool
    cycle_key: str
    deadline: date
    workdays: int
    days: int
    leaders: tuple[str, ...]
    leader_ids: frozenset[int]
    earlier: int = 0  # earlier cycles the unit missed on the task (on the record, not chased)


def overdue_rows(boards: Iterable[Board], calendar: WorkCalendar, today: date) -> list[OverdueRow]:
    """Every missed obligation, as rows (unsorted)."""
    counter = CountingCalendar(calendar)
    rows = []
    for board in boards:
        task = board.task
        for s in board.units:
            if s.missed is None:
                continue
            rows.append(
                OverdueRow(
                    task_id=task.id,
                    task_no=task.no,
                    task_text=task.text,
                    section=task.section,
                    subsection=task.subsection,
                    unit_id=s.unit.unit_id,
                    unit=s.unit.name,
                    lead=s.unit.lead,
                    cycle_key=s.missed.key,
                    deadline=s.missed.deadline,
                    workdays=counter.workdays_between(s.missed.deadline, today),
                    days=(today - s.missed.deadline).days,
                    leaders=task.leader_names,
                    leader_ids=task.leader_ids,
                    earlier=s.earlier_missed,
                )
            )
    return rows


@dataclass(frozen=True, slots=True)
class OverdueGroup:
    """The overdue rows of one unit, worst first."""

    unit_id: int
    unit: str
    rows: tuple[OverdueRow, ...]

    @property
    def worst(self) -> int:
        """The most workdays any row of the unit is overdue."""
        return max(r.workdays for r in self.rows)


def _row_order(row: OverdueRow) -> tuple[int, int, int]:
    return (-row.workdays, -row.days, row.task_no)


def overdue_group(unit_id: int, unit: str, rows: Iterable[OverdueRow]) -> OverdueGroup:
    """One unit's rows, worst first."""
    return OverdueGroup(unit_id, unit, tuple(sorted(rows, key=_row_order)))


def group_overdue(rows: Iterable[OverdueRow]) -> list[OverdueGroup]:
    """Rows grouped by unit: longest overdue first, then most rows, then unit name."""
    by_unit: dict[int, list[OverdueRow]] = defaultdict(list)
    for row in rows:
        by_unit[row.unit_id].append(row)
    groups = [overdue_group(uid, items[0].unit, items) for uid, items in by_unit.items()]
    groups.sort(key=lambda g: (-g.worst, -len(g.rows), g.unit))
    return groups


def flatten(groups: Sequence[OverdueGroup]) -> list[OverdueRow]:
    """The rows of the groups in display order."""
    return [row for group in groups for row in group.rows]


def page_of(
    items: Sequence[OverdueRow], page: int, per_page: int
) -> tuple[list[OverdueRow], int, int]:
    """One page of rows: (rows, page clamped to range, number of pages)."""
    pages = max(1, (len(items) + per_page - 1) // per_page)
    page = min(max(page, 0), pages - 1)
    return list(items[page * per_page : (page + 1) * per_page]), page, pages


@dataclass(frozen=True, slots=True)
class OverdueCount:
    """A unit's overdue rows counted before they are read: how many, the worst, its name."""

    unit_id: int
    unit: str
    rows: int
    worst: int  # the most workdays any of its rows is overdue


@dataclass(frozen=True, slots=True)
class PageSpan:
    """The part of one unit's group a page shows: rows [start, stop) of the group."""

    count: OverdueCount
    start: int
    stop: int


def page_spans(
    counts: Iterable[OverdueCount], page: int, per_page: int
) -> tuple[list[PageSpan], int, int, bool]:
    """Which units' rows one page shows, in the order of `group_overdue` and `page_of`.

    Returns (spans, page clamped to range, number of pages, whether the page continues the
    group of the previous page's last unit).
    """
    ordered = sorted(counts, key=lambda c: (-c.worst, -c.rows, c.unit))
    total = sum(c.rows for c in ordered)
    pages = max(1, (total + per_page - 1) // per_page)
    page = min(max(page, 0), pages - 1)
    first, last = page * per_page, (page + 1) * per_page
    spans = []
    continued = False
    at = 0
    for c in ordered:
        if at >= last:
            break
        end = at + c.rows
        if end > first:
            spans.append(PageSpan(c, max(first - at, 0), min(last, end) - at))
            continued = continued or at < first
        at = end
    return spans, page, pages, continued and page > 0


# --- /overdue filters ---------------------------------------------------------------------------

FilterKind = Literal["all", "unit", "group", "leader", "section", "cycle"]
MAX_HEADINGS = 12  # a section filter's indices must fit in 40 characters of button data

_CYCLE_KEY = re.compile(r"\d{4}-(?:0[1-9]|1[0-2])(?:-(?:0[1-9]|[12]\d|3[01]))?|\d{4}-Q[1-4]")
_MONTH = re.compile(r"(?:(\d{4})年)?(1[0-2]|0?[1-9])月(?:份)?")
_QUARTER = re.compile(r"(?:(\d{4})年)?第?([一二三四1-4])季度")
_CODE = re.compile(r"([ugls])(\d{1,9}(?:_\d{1,9}){0,15})|c(" + _CYCLE_KEY.pattern + ")|")


@dataclass(frozen=True)
class Catalogue:
    """The names a filter can name: units and their aliases, groups, leaders, section headings."""

    units: Mapping[str, int]  # canonical name or alias → unit id
    unit_names: Mapping[int, str]  # unit id → canonical name
    groups: Mapping[str, tuple[int, tuple[int, ...]]]  # group name → (group id, member ids)
    leaders: Mapping[str, int]  # name → id
    headings: tuple[str, ...]  # section and subsection headings in the notice's order

    def group_by_id(self, group_id: int) -> tuple[str, tuple[int, ...]] | None:
        """A group's name and members by id."""
        for name, (gid, members) in self.groups.items():
            if gid == group_id:
                return name, members
        return None

    def leader_name(self, leader_id: int) -> str | None:
        """A leader's name by id, without the notice's spacing (周  全 → 周全)."""
        name = next((n for n, i in self.leaders.items() if i == leader_id), None)
        return "".join(name.split()) if name is not None else None


@dataclass(frozen=True)
class OverdueFilter:
    """What `/overdue <arg>` keeps: a unit, a group's members, a leader, headings or a cycle."""

    kind: FilterKind = "all"
    ids: tuple[int, ...] = ()  # unit ids, the group id, the leader id, or heading indices
    cycle_key: str | None = None
    label: str = ""
    unit_ids: frozenset[int] = field(default_factory=frozenset)  # for unit and group filters
    headings: frozenset[str] = field(default_factory=frozenset)

    def matches(self, row: OverdueRow) -> bool:
        """True if the row passes the filter."""
        if self.kind in ("unit", "group"):
            return row.unit_id in self.unit_ids
        if self.kind == "leader":
            return bool(row.leader_ids & set(self.ids))
        if self.kind == "section":
            return row.section in self.headings or (row.subsection or "") in self.headings
        if self.kind == "cycle":
            return row.cycle_key == self.cycle_key
        return True

    def code(self) -> str:
        """The filter in a few ASCII characters, for button data."""
        if self.kind == "cycle":
            return f"c{self.cycle_key}"
        if self.kind == "all":
            return ""
        letter = {"unit": "u", "group": "g", "leader": "l", "section": "s"}[self.kind]
        return letter + "_".join(str(i) for i in self.ids)


ALL = OverdueFilter()


@dataclass(frozen=True)
class FilterProblem:
    """Why a filter argument names nothing usable: unknown, or several units (candidates)."""

    arg: str
    candidates: tuple[str, ...] = ()


def parse_filter(arg: str, catalogue: Catalogue, year: int) -> OverdueFilter | FilterProblem:
    """Read `/overdue <arg>`: a cycle, a unit or alias, a group, a leader, a heading, a unit part.

    Order: cycle key (2026-03, 2026-Q1, 2026-05-20, 3月, 第一季度) → exact unit or alias →
    exact group → exact leader (spaces ignored: 周 全) → part of a section or subsection heading
    → part of exactly one unit name.
    """
    text = "".join(arg.split())
    if not text:
        return ALL
    cycle = _cycle_of(text, year)
    if cycle is not None:
        return OverdueFilter("cycle", cycle_key=cycle, label=cycle)
    unit_id = catalogue.units.get(text)
    if unit_id is not None:
        return unit_filter(unit_id, catalogue)
    if text in catalogue.groups:
        gid, members = catalogue.groups[text]
        return OverdueFilter("group", (gid,), label=text, unit_ids=frozenset(members))
    leader_id = catalogue.leaders.get(text)
    if leader_id is not None:
        return OverdueFilter("leader", (leader_id,), label=catalogue.leader_name(leader_id) or text)
    heads = tuple(i for i, h in enumerate(catalogue.headings) if text in h)
    if 0 < len(heads) <= MAX_HEADINGS:
        return section_filter(heads, catalogue)
    if heads:
        return FilterProblem(arg)  # names most of the register: ask for a narrower word
    parts = sorted({uid for name, uid in catalogue.units.items() if text in name})
    if len(parts) == 1:
        return unit_filter(parts[0], catalogue)
    if parts:
        return FilterProblem(arg, tuple(sorted(catalogue.unit_names[u] for u in parts)))
    return FilterProblem(arg)


def unit_filter(unit_id: int, catalogue: Catalogue) -> OverdueFilter:
    """A filter on one unit."""
    name = catalogue.unit_names.get(unit_id, str(unit_id))
    return OverdueFilter("unit", (unit_id,), label=name, unit_ids=frozenset({unit_id}))


def section_filter(indices: Sequence[int], catalogue: Catalogue) -> OverdueFilter:
    """A filter on some headings (by index in the catalogue)."""
    heads = [catalogue.headings[i] for i in indices]
    return OverdueFilter(
        "section", tuple(indices), label="、".join(heads), headings=frozenset(heads)
    )


def decode_filter(code: str, catalogue: Catalogue) -> OverdueFilter | None:
    """A filter back from button data; None if the code is malformed or names nothing now."""
    match = _CODE.fullmatch(code)
    if match is None:
        return None
    if not code:
        return ALL
    if match.group(3):
        return OverdueFilter("cycle", cycle_key=match.group(3), label=match.group(3))
    letter = match.group(1)
    ids = tuple(int(x) for x in match.group(2).split("_"))
    if letter == "u":
        return unit_filter(ids[0], catalogue) if ids[0] in catalogue.unit_names else None
    if letter == "g":
        found = catalogue.group_by_id(ids[0])
        if found is None:
            return None
        return OverdueFilter("group", ids[:1], label=found[0], unit_ids=frozenset(found[1]))
    if letter == "l":
        name = catalogue.leader_name(ids[0])
        return OverdueFilter("leader", ids[:1], label=name) if name is not None else None
    if any(i >= len(catalogue.headings) for i in ids):
        return None
    return section_filter(ids, catalogue)


def _cycle_of(text: str, year: int) -> str | None:
    """A cycle key from 2026-03 / 2026-Q1 / 2026-05-20 / 3月 / 2026年3月 / 第一季度."""
    if _CYCLE_KEY.fullmatch(text):
        if len(text) == 10:
            try:
                date.fromisoformat(text)
            except ValueError:
                return None
        return text
    month = _MONTH.fullmatch(text)
    if month is not None:
        return f"{month.group(1) or year}-{int(month.group(2)):02d}"
    quarter = _QUARTER.fullmatch(text)
    if quarter is not None:
        q = quarter.group(2)
        number = "一二三四".index(q) + 1 if q in "一二三四" else int(q)
        return f"{quarter.group(1) or year}-Q{number}"
    return None


# --- Task card ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TargetLine:
    """A target and the newest quantity a unit reported against it."""

    target: TargetInfo
    value: float | None = None
    unit: str | None = None
    percent: float | None = None
    by: str | None = None
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Card:
    """Everything a task card shows."""

    board: Board
    status: Status
    targets: tuple[TargetLine, ...]
    current: CycleDue | None
    history_count: int
    nudged_today: frozenset[int] = frozenset()  # unit ids

    @property
    def nudgeable(self) -> tuple[Standing, ...]:
        """Owing units with a cycle to urge now that were not nudged today."""
        return tuple(
            s
            for s in self.board.units
            if s.nudge is not None and s.unit.unit_id not in self.nudged_today
        )


def target_lines(board: Board) -> tuple[TargetLine, ...]:
    """Each target with the newest matching quantity among the units' newest reports."""
    reports = [s.latest.report for s in board.units if s.latest is not None]
    reports.sort(key=lambda r: r.created_at, reverse=True)
    out = []
    for target in board.task.targets:
        line = TargetLine(target)
        for report in reports:
            q = next((q for q in report.quantities if q.metric == target.metric), None)
            if q is not None:
                line = TargetLine(
                    target, q.value, q.unit, q.percent_of_target, report.unit, report.created_at
                )
                break
        out.append(line)
    return tuple(out)


def build_card(
    board: Board,
    status: Status,
    book: CycleBook,
    history_count: int,
    nudged_today: Iterable[int] = (),
) -> Card:
    """A task card from its board and status."""
    current, _ = book.cycles(board.task)
    return Card(
        board,
        status,
        target_lines(board),
        _due(current) if current is not None and not board.completed else None,
        history_count,
        frozenset(nudged_today),
    )


# --- /units -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LiaisonCount:
    """A unit's bound liaisons: active ones, and how many of them can be reached."""

    active: int = 0
    reachable: int = 0


@dataclass(frozen=True, slots=True)
class UnitLine:
    """One unit in /units: its liaisons, the open cycle's reporting, what is overdue, the year's
    record."""

    unit_id: int
    name: str
    liaisons: LiaisonCount
    owed: int  # obligations of the open cycle
    reported: int  # of those, reported
    overdue: int  # chased missed obligations (the last passed cycle, unreported)
    record: Record = NO_RECORD  # the year so far: on time, late, missed

    @property
    def reachable(self) -> bool:
        """True if at least one bound, active liaison can be reached."""
        return self.liaisons.reachable > 0

    @property
    def rate(self) -> float | None:
        """Reported / owed for the open cycle, None when nothing is owed."""
        return self.reported / self.owed if self.owed else None


@dataclass
class UnitTally:
    """Per unit, the open cycle's obligations and reports, the chased missed ones, and the
    year's record (from boards built with `history`).

    Fed the boards a chunk at a time (`add`), so a whole year's boards need not be held at once.
    """

    owed: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    reported: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    overdue: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    records: dict[int, Record] = field(default_factory=dict)
    open_keys: Counter[str] = field(default_factory=Counter)

    def add(self, boards: Iterable[Board]) -> None:
        """Count the obligations on these boards."""
        owed, reported, overdue, records = self.owed, self.reported, self.overdue, self.records
        for board in boards:
            for s in board.units:
                uid = s.unit.unit_id
                if s.current is not None:
                    owed[uid] += 1
                    reported[uid] += int(s.reported_current)
                    self.open_keys[s.current.key] += 1
                if s.missed is not None:
                    overdue[uid] += 1
                if s.record is not None:
                    records[uid] = records.get(uid, NO_RECORD) + s.record

    @property
    def open_key(self) -> str | None:
        """The open cycle most obligations are in (the month, for monthly tasks)."""
        found = self.open_keys.most_common(1)
        return found[0][0] if found else None


def unit_lines(
    units: Iterable[tuple[int, str]],
    liaisons: Mapping[int, LiaisonCount],
    boards: Iterable[Board] | UnitTally,
) -> list[UnitLine]:
    """Every unit with its liaisons and reporting: unreachable first, then lowest rate."""
    if isinstance(boards, UnitTally):
        tally = boards
    else:
        tally = UnitTally()
        tally.add(boards)
    lines = [
        UnitLine(
            uid,
            name,
            liaisons.get(uid, LiaisonCount()),
            tally.owed.get(uid, 0),
            tally.reported.get(uid, 0),
            tally.overdue.get(uid, 0),
            tally.records.get(uid, NO_RECORD),
        )
        for uid, name in units
    ]
    lines.sort(
        key=lambda u: (
            u.reachable,
            u.rate if u.rate is not None else 2.0,
            -u.overdue,
            u.name,
        )
    )
    return lines


# --- Daily summary ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RedItem:
    """A red task and the worst reason for it."""

    task_no: int
    task_text: str
    reason: Reason
    more: int  # further reasons not shown


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
    red: tuple[RedItem, ...]
    reports: tuple[tuple[int, ReportInfo], ...]  # (task no, report), newest first
    due: tuple[DueDay, ...]
    next_deadline: date | None
    overdue_units: int
    overdue_rows: int


class SummaryBuilder:
    """A summary built from boards fed a chunk at a time (`add`), then the reports (`build`).

    Keeps only what the summary shows: counts, red items, this week's deadlines, the tasks' 序号.
    """

    def __init__(self, *, leader: str | None, now: datetime, since: datetime, tz: tzinfo) -> None:
        self.leader = leader
        self.since = since
        self.today = now.astimezone(tz).date()
        self.week_end = self.today + timedelta(days=6 - self.today.weekday())
        self.counts: dict[Light, int] = {light: 0 for light in Light}
        self.red: list[tuple[tuple[int, int, int], RedItem]] = []
        self.due: dict[date, list[tuple[int, bool]]] = defaultdict(list)
        self.next_deadline: date | None = None
        self.overdue_units: set[int] = set()
        self.overdue_count = 0
        self.nos: dict[int, int] = {}

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
            self.counts[status.light] += 1
            if status.light is Light.RED:
                first = status.reasons[0]
                worst = first.workdays_overdue if isinstance(first, Overdue) else 0
                item = RedItem(board.task.no, board.task.text, first, len(status.reasons) - 1)
                rank = (0 if isinstance(first, Overdue) else 1, -worst, board.task.no)
                self.red.append((rank, item))
            for s in board.units:
                if s.missed is not None:
                    self.overdue_units.add(s.unit.unit_id)
                    self.overdue_count += 1
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

    def build(self, reports: Iterable[ReportInfo]) -> Summary:
        """The summary, with the reports since `since` on the tasks added."""
        nos = self.nos
        newest: dict[tuple[int, int, str], ReportInfo] = {}
        for r in sorted(reports, key=lambda r: r.id):
            if r.task_id in nos:
                newest[(r.task_id, r.unit_id, r.cycle_key)] = r  # a correction replaces it
        recent = sorted(newest.values(), key=lambda r: r.created_at, reverse=True)
        self.red.sort(key=lambda x: x[0])
        return Summary(
            leader=self.leader,
            day=self.today,
            since=self.since,
            counts=dict(self.counts),
            total=self.total,
            red=tuple(item for _, item in self.red),
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
) -> Summary:
    """The summary of some tasks (a leader's, or all) at `now`."""
    builder = SummaryBuilder(leader=leader, now=now, since=since, tz=tz)
    builder.add(boards, statuses)
    return builder.build(reports)


# --- Ledger -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LedgerRow:
    """One task in the ledger (督查台账): the notice's columns and the progress columns."""

    no: int
    section: str
    subsection: str | None
    text: str
    lead: tuple[str, ...]  # the notice's spellings
    responsible: tuple[str, ...]
    leaders: tuple[str, ...]
    latest: tuple[tuple[str, ReportInfo], ...]  # (unit, newest report), lead units first
    percent: float | None
    expected: date | None
    status: Status
    overdue_workdays: int | None
    nudges: int


def ledger_rows(
    boards: Sequence[Board],
    statuses: Mapping[int, Status],
    nudges: Mapping[int, int],
    calendar: WorkCalendar,
    today: date,
) -> list[LedgerRow]:
    """One ledger row per task, by 序号."""
    counter = CountingCalendar(calendar)
    rows = []
    for board in sorted(boards, key=lambda b: b.task.no):
        task = board.task
        leads = [s for s in board.units if s.unit.lead]
        percents = [s.latest.percent for s in leads if s.latest and s.latest.percent is not None]
        expected = [s.latest.expected for s in leads if s.latest and s.latest.expected is not None]
        missed = [
            counter.workdays_between(s.missed.deadline, today)
            for s in board.units
            if s.missed is not None
        ]
        ordered = sorted(
            (s for s in board.units if s.latest is not None), key=lambda s: not s.unit.lead
        )
        rows.append(
            LedgerRow(
                no=task.no,
                section=task.section,
                subsection=task.subsection,
                text=task.text,
                lead=task.lead_labels,
                responsible=task.responsible_labels,
                leaders=task.leader_names,
                latest=tuple((s.unit.name, s.latest.report) for s in ordered if s.latest),
                percent=min(percents) if percents else None,
                expected=max(expected) if expected else None,
                status=statuses[task.id],
                overdue_workdays=max(missed) if missed else None,
                nudges=nudges.get(task.id, 0),
            )
        )
    return rows
