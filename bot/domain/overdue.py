"""/overdue as plain data: the chased missed obligations as rows, grouped by unit, paged, filtered.

Decisions:
- Rows are grouped by unit (a nudge and the 通报 address units), the unit with the longest
  overdue first, then the unit with most overdue rows, then by name; rows in a group by
  workdays overdue, then 序号.
- A filter names a cycle, a unit or alias, a group, a leader or a heading (`parse_filter`).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Literal, TypeVar

from bot.domain.boards import Board, CountingCalendar
from bot.domain.units import CATEGORIES, category_named
from bot.domain.workcal import WorkCalendar

T = TypeVar("T")

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


def unit_order(worst: int, rows: int, unit: str) -> tuple[int, int, str]:
    """The order units are listed in everywhere (/overdue, digests, 通报): longest overdue
    first, then most rows, then by name."""
    return (-worst, -rows, unit)


def group_overdue(rows: Iterable[OverdueRow]) -> list[OverdueGroup]:
    """Rows grouped by unit, in `unit_order`."""
    by_unit: dict[int, list[OverdueRow]] = defaultdict(list)
    for row in rows:
        by_unit[row.unit_id].append(row)
    groups = [overdue_group(uid, items[0].unit, items) for uid, items in by_unit.items()]
    groups.sort(key=lambda g: unit_order(g.worst, len(g.rows), g.unit))
    return groups


def flatten(groups: Sequence[OverdueGroup]) -> list[OverdueRow]:
    """The rows of the groups in display order."""
    return [row for group in groups for row in group.rows]


def page_of(items: Sequence[T], page: int, per_page: int) -> tuple[list[T], int, int]:
    """One page of items: (items, page clamped to range, number of pages)."""
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
    ordered = sorted(counts, key=lambda c: unit_order(c.worst, c.rows, c.unit))
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

FilterKind = Literal["all", "unit", "group", "kind", "leader", "section", "cycle"]
MAX_HEADINGS = 12  # a section filter's indices must fit in 40 characters of button data

_CYCLE_KEY = re.compile(r"\d{4}-(?:0[1-9]|1[0-2])(?:-(?:0[1-9]|[12]\d|3[01]))?|\d{4}-Q[1-4]")
_MONTH = re.compile(r"(?:(\d{4})年)?(1[0-2]|0?[1-9])月(?:份)?")
_QUARTER = re.compile(r"(?:(\d{4})年)?第?([一二三四1-4])季度")
_CODE = re.compile(
    r"(?:([uglsk])(\d{1,9}(?:_\d{1,9}){0,15})|c(" + _CYCLE_KEY.pattern + r"))?(?:w(\d{1,3}))?"
)
# "提请关注" or "逾期5个工作日以上" in a filter: only rows overdue that many workdays or more.
_ESCALATED = re.compile(r"提请关注|逾期(\d{1,3})个?工作日以上")


@dataclass(frozen=True)
class Catalogue:
    """The names a filter can name: units and their aliases, groups, leaders, section headings."""

    units: Mapping[str, int]  # canonical name or alias → unit id
    unit_names: Mapping[int, str]  # unit id → canonical name
    groups: Mapping[str, tuple[int, tuple[int, ...]]]  # group name → (group id, member ids)
    leaders: Mapping[str, int]  # name → id
    headings: tuple[str, ...]  # section and subsection headings in the notice's order
    # units of each category, by index in bot.domain.units.CATEGORIES
    categories: tuple[tuple[int, ...], ...] = ()

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
    """What `/overdue <arg>` keeps: a unit, a group's members, a kind of unit, a leader,
    headings or a cycle; and, with `min_workdays`, only rows overdue that long (提请关注)."""

    kind: FilterKind = "all"
    # unit ids, the group id, the category index, the leader id, or heading indices
    ids: tuple[int, ...] = ()
    cycle_key: str | None = None
    label: str = ""
    unit_ids: frozenset[int] = field(default_factory=frozenset)  # unit, group, kind filters
    headings: frozenset[str] = field(default_factory=frozenset)
    min_workdays: int = 0

    def matches(self, row: OverdueRow) -> bool:
        """True if the row passes the filter."""
        return row.workdays >= self.min_workdays and self._matches(row)

    def _matches(self, row: OverdueRow) -> bool:
        if self.kind in ("unit", "group", "kind"):
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
        status = f"w{self.min_workdays}" if self.min_workdays else ""
        if self.kind == "cycle":
            return f"c{self.cycle_key}{status}"
        if self.kind == "all":
            return status
        letter = {"unit": "u", "group": "g", "kind": "k", "leader": "l", "section": "s"}
        return letter[self.kind] + "_".join(str(i) for i in self.ids) + status

    @property
    def title(self) -> str:
        """What the filter keeps, for the page's title ("" for everything)."""
        if not self.min_workdays:
            return self.label
        status = f"逾期{self.min_workdays}个工作日以上"
        return f"{self.label}，{status}" if self.label else status

    def escalated(self, workdays: int) -> OverdueFilter:
        """The same filter keeping only rows overdue `workdays` or more (0: all rows)."""
        return replace(self, min_workdays=workdays)


ALL = OverdueFilter()


@dataclass(frozen=True)
class FilterProblem:
    """Why a filter argument names nothing usable: unknown, or several units (candidates)."""

    arg: str
    candidates: tuple[str, ...] = ()


def parse_filter(
    arg: str, catalogue: Catalogue, year: int, escalate_after: int = 3
) -> OverdueFilter | FilterProblem:
    """Read `/overdue <arg>`: a status word (提请关注 = overdue `escalate_after` workdays or more;
    逾期N个工作日以上) with, or without, one of: a cycle, a unit or alias, a group, a kind of unit,
    a leader, a heading, a unit part.

    Order: cycle key (2026-03, 2026-Q1, 2026-05-20, 3月, 第一季度) → exact unit or alias →
    exact group → kind of unit (市直部门, 乡镇街道, 开发区, 企业) → exact leader (spaces
    ignored: 周 全) → part of a section or subsection heading → part of exactly one unit name.
    """
    text = "".join(arg.split())
    status = _ESCALATED.search(text)
    if status is not None:
        text = (text[: status.start()] + text[status.end() :]).strip("，,、")
        workdays = int(status.group(1)) if status.group(1) else escalate_after
        found = parse_filter(text, catalogue, year)
        if isinstance(found, FilterProblem):
            return FilterProblem(arg, found.candidates)
        return found.escalated(max(workdays, 1))
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
    category = category_named(text)
    if category is not None:
        return category_filter(category, catalogue)
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


def category_filter(index: int, catalogue: Catalogue) -> OverdueFilter:
    """A filter on the units of one kind (index in CATEGORIES)."""
    members = catalogue.categories[index] if index < len(catalogue.categories) else ()
    return OverdueFilter(
        "kind", (index,), label=CATEGORIES[index].label, unit_ids=frozenset(members)
    )


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
    found = _decode(match, catalogue)
    if found is None or match.group(4) is None:
        return found
    return found.escalated(int(match.group(4)))


def _decode(match: re.Match[str], catalogue: Catalogue) -> OverdueFilter | None:
    if match.group(3):
        return OverdueFilter("cycle", cycle_key=match.group(3), label=match.group(3))
    letter = match.group(1)
    if letter is None:
        return ALL
    ids = tuple(int(x) for x in match.group(2).split("_"))
    if letter == "u":
        return unit_filter(ids[0], catalogue) if ids[0] in catalogue.unit_names else None
    if letter == "g":
        found = catalogue.group_by_id(ids[0])
        if found is None:
            return None
        return OverdueFilter("group", ids[:1], label=found[0], unit_ids=frozenset(found[1]))
    if letter == "k":
        return category_filter(ids[0], catalogue) if ids[0] < len(CATEGORIES) else None
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
