"""/overdue in the database: the monthly tasks' chased missed pairs by one anti-join (kept equal
to the obligation model by tests/test_obligation_sql.py), the other rules through the boards.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    Date,
    Select,
    String,
    bindparam,
    cast,
    exists,
    func,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.domain.boards import CycleBook
from bot.domain.cycles import Cycle
from bot.domain.deadlines import rule_for, year_cycles
from bot.domain.model import (
    LEAD,
    MONTHLY,
    RESPONSIBLE,
    Pair,
)
from bot.domain.obligations import COMPLETE, Terms, duty
from bot.domain.overdue import (
    OverdueCount,
    OverdueFilter,
    OverdueGroup,
    OverdueRow,
    overdue_group,
    overdue_rows,
    page_of,
    page_spans,
    unit_order,
)
from bot.domain.workcal import WorkCalendar
from db import loop, progress
from db.models import (
    Leader,
    ReportCycle,
    ReportLatest,
    Task,
    TaskLeader,
    Unit,
)
from db.register_cache import RegisterCache
from db.views._boards import boards
from db.views._scope import _NO_VALUES, Scope, Shape, _leader_ids, _pairs_of, _rows, _task_ids


async def overdue(
    session: AsyncSession,
    *,
    scope: Scope,
    now: datetime,
    settings: Settings,
    calendar: WorkCalendar,
    register: RegisterCache | None = None,
) -> list[OverdueRow]:
    """Every missed obligation in scope, as `bot.domain.overdue.overdue_rows` lists it from
    boards.

    Monthly tasks (nearly all) share one rule and so one chased cycle: their overdue pairs come
    from one anti-join on ix_reports_cycle_task_unit, and only those pairs are read. Tasks with
    any other rule go through the boards.
    """
    today, book, rows = await _other_rule_overdue(session, scope, now, settings, calendar, register)
    _, chased = book.cycles_of(rule_for(MONTHLY, (), settings), scope.year)
    if chased is None:
        return rows
    monthly = replace(scope, only_kind=MONTHLY)
    roles = (LEAD, RESPONSIBLE) if settings.responsible_units_report else (LEAD,)
    *_, detailed = _missing_statements(monthly.shape(), roles)
    params = {**monthly.params(), "today": today, "chased": chased.key}
    missing = await _missing_rows(session, detailed, params, chased, calendar, today)
    rows.extend(await _with_earlier(session, missing, book, scope.year))
    return rows


async def _other_rule_overdue(
    session: AsyncSession,
    scope: Scope,
    now: datetime,
    settings: Settings,
    calendar: WorkCalendar,
    register: RegisterCache | None,
) -> tuple[date, CycleBook, list[OverdueRow]]:
    """Today, the scope's cycle book, and the overdue rows the obligation model gives: of the
    tasks not on the monthly rule, and of the monthly tasks' pairs with an approved cycle 延期
    (few; the anti-join leaves them out)."""
    today = now.astimezone(settings.tz).date()
    since = await progress.tracking_since(session, scope.year)
    book = CycleBook(settings, calendar, now, since)
    found = await boards(
        session,
        scope=replace(scope, not_kind=MONTHLY),
        now=now,
        settings=settings,
        calendar=calendar,
        with_latest=False,
        book=book,
        register=register,
        history=True,
    )
    rows = overdue_rows(found.boards, calendar, today)
    monthly = replace(scope, only_kind=MONTHLY)
    extended = await loop.extended_pairs(session, monthly.task_ids())
    if extended:
        moved = await boards(
            session,
            scope=replace(monthly, ids=tuple(sorted({t for t, _ in extended}))),
            now=now,
            settings=settings,
            calendar=calendar,
            with_latest=False,
            book=book,
            register=register,
            history=True,
        )
        rows += [
            r
            for r in overdue_rows(moved.boards, calendar, today)
            if (r.task_id, r.unit_id) in extended
        ]
    return today, book, rows


@dataclass(frozen=True)
class OverduePage:
    """One page of /overdue: its rows, the whole groups of the units on it, the counts."""

    rows: list[OverdueRow]
    groups: dict[int, OverdueGroup]  # the units on this page only
    total: int
    units: int
    page: int  # clamped to the pages there are, from 0
    pages: int
    continued: bool  # the page begins inside the group the previous page ended with


@dataclass
class _Counted:
    """The overdue rows in scope counted per unit (filter applied), before any row is read,
    and what it takes to read the monthly rows of some units."""

    counts: dict[int, OverdueCount]
    by_unit: dict[int, list[OverdueRow]]  # the other rules' rows, already read
    chased: Cycle | None
    statement: Any
    conditions: list[Any]
    pairs: Any
    params: dict[str, Any]
    book: CycleBook
    today: date

    async def rows_of(
        self, session: AsyncSession, unit_ids: list[int], calendar: WorkCalendar, year: int
    ) -> dict[int, list[OverdueRow]]:
        """The rows of these units: the other rules' and the monthly ones."""
        out = {uid: list(self.by_unit.get(uid, [])) for uid in unit_ids}
        if self.chased is not None and unit_ids:
            statement = self.statement.where(*self.conditions, self.pairs.c.unit_id.in_(unit_ids))
            missing = await _missing_rows(
                session, statement, self.params, self.chased, calendar, self.today
            )
            for row in await _with_earlier(session, missing, self.book, year):
                out[row.unit_id].append(row)
        return out


async def _counted(
    session: AsyncSession,
    scope: Scope,
    flt: OverdueFilter,
    now: datetime,
    settings: Settings,
    calendar: WorkCalendar,
    register: RegisterCache | None,
) -> _Counted:
    """The monthly tasks' overdue pairs counted per unit by the database (the filter as
    conditions); tasks with other rules through the boards."""
    today, book, other = await _other_rule_overdue(
        session, scope, now, settings, calendar, register
    )
    by_unit: dict[int, list[OverdueRow]] = defaultdict(list)
    for row in other:
        if flt.matches(row):
            by_unit[row.unit_id].append(row)
    counts = {
        uid: OverdueCount(uid, rows[0].unit, len(rows), max(r.workdays for r in rows))
        for uid, rows in by_unit.items()
    }
    _, chased = book.cycles_of(rule_for(MONTHLY, (), settings), scope.year)
    if flt.kind == "cycle" and chased is not None and flt.cycle_key != chased.key:
        chased = None  # the filter keeps no monthly row
    if chased is not None and calendar.workdays_between(chased.deadline, today) < flt.min_workdays:
        chased = None  # no monthly row is overdue that long yet
    statement: Any = None
    conditions: list[Any] = []
    pairs: Any = None
    params: dict[str, Any] = {}
    if chased is not None:
        monthly = replace(scope, only_kind=MONTHLY)
        roles = (LEAD, RESPONSIBLE) if settings.responsible_units_report else (LEAD,)
        pairs, keyed, statement = _missing_statements(monthly.shape(), roles)
        params = {**monthly.params(), "today": today, "chased": chased.key}
        conditions = _filter_conditions(flt, pairs)
        # A unit named directly and through a group owes the pair once: count pairs, not rows.
        distinct = keyed.where(*conditions).distinct().subquery()
        per_unit = (
            select(distinct.c.unit_id, Unit.name, func.count())
            .join(Unit, Unit.id == distinct.c.unit_id)
            .group_by(distinct.c.unit_id, Unit.name)
        )
        workdays = calendar.workdays_between(chased.deadline, today)
        for uid, name, n in await _rows(session, per_unit, params):
            had = counts.get(uid)
            counts[uid] = (
                OverdueCount(uid, name, n, workdays)
                if had is None
                else OverdueCount(uid, had.unit, had.rows + n, max(had.worst, workdays))
            )
    return _Counted(counts, by_unit, chased, statement, conditions, pairs, params, book, today)


async def overdue_page(
    session: AsyncSession,
    *,
    scope: Scope,
    flt: OverdueFilter,
    page: int,
    per_page: int,
    now: datetime,
    settings: Settings,
    calendar: WorkCalendar,
    register: RegisterCache | None = None,
) -> OverduePage:
    """One page of `overdue` filtered by `flt`, as group_overdue → flatten → page_of shows it.

    Only the rows the page shows are read: the units are counted and ordered first, then the
    rows of the units on the page are read.
    """
    counted = await _counted(session, scope, flt, now, settings, calendar, register)
    counts = counted.counts
    spans, page, pages, continued = page_spans(counts.values(), page, per_page)
    shown = [span.count.unit_id for span in spans]
    by_unit = await counted.rows_of(session, shown, calendar, scope.year)
    groups = {
        span.count.unit_id: overdue_group(span.count.unit_id, span.count.unit, by_unit[uid])
        for span, uid in zip(spans, shown, strict=True)
    }
    return OverduePage(
        rows=[row for s in spans for row in groups[s.count.unit_id].rows[s.start : s.stop]],
        groups=groups,
        total=sum(c.rows for c in counts.values()),
        units=len(counts),
        page=page,
        pages=pages,
        continued=continued,
    )


@dataclass(frozen=True)
class OverdueUnits:
    """One page of /overdue by unit: the units on it with all their rows, and the counts."""

    groups: list[OverdueGroup]
    total: int
    units: int
    page: int  # clamped to the pages there are, from 0
    pages: int


async def overdue_units(
    session: AsyncSession,
    *,
    scope: Scope,
    flt: OverdueFilter,
    page: int,
    per_page: int,
    now: datetime,
    settings: Settings,
    calendar: WorkCalendar,
    register: RegisterCache | None = None,
) -> OverdueUnits:
    """`per_page` units of /overdue (longest overdue first), each with all its rows."""
    counted = await _counted(session, scope, flt, now, settings, calendar, register)
    ordered = sorted(counted.counts.values(), key=lambda c: unit_order(c.worst, c.rows, c.unit))
    shown, page, pages = page_of(ordered, page, per_page)
    by_unit = await counted.rows_of(session, [c.unit_id for c in shown], calendar, scope.year)
    return OverdueUnits(
        groups=[overdue_group(c.unit_id, c.unit, by_unit[c.unit_id]) for c in shown],
        total=sum(c.rows for c in ordered),
        units=len(ordered),
        page=page,
        pages=pages,
    )


async def _with_earlier(
    session: AsyncSession, rows: list[OverdueRow], book: CycleBook, year: int
) -> list[OverdueRow]:
    """The monthly tasks' overdue rows with the earlier cycles each unit missed (read for the
    rows shown only: a pair's reported cycles of the year)."""
    if not rows:
        return rows
    pairs = [(r.task_id, r.unit_id) for r in rows]
    reported = await progress.reported_keys(session, pairs)
    settings = book.settings
    cycles = tuple(year_cycles(rule_for(MONTHLY, (), settings), year, settings, book.calendar))
    terms = Terms(cycles, True, book.since, None)  # the statement left out completed parts
    out = []
    for row, pair in zip(rows, pairs, strict=True):
        earlier = duty(terms, reported[pair], book.now).earlier_missed
        out.append(replace(row, earlier=earlier) if earlier else row)
    return out


def _filter_conditions(flt: OverdueFilter, pairs: Any) -> list[Any]:
    """`flt.matches` as conditions on the missing pairs (cycle filters are decided before)."""
    if flt.kind in ("unit", "group", "kind"):
        return [pairs.c.unit_id.in_(sorted(flt.unit_ids))]
    if flt.kind == "leader":
        return [
            exists().where(TaskLeader.task_id == pairs.c.task_id, TaskLeader.leader_id.in_(flt.ids))
        ]
    if flt.kind == "section":
        headings = sorted(flt.headings)
        return [or_(Task.section.in_(headings), func.coalesce(Task.subsection, "").in_(headings))]
    return []


async def _missing_rows(
    session: AsyncSession,
    statement: Any,
    params: dict[str, Any],
    chased: Cycle,
    calendar: WorkCalendar,
    today: date,
) -> list[OverdueRow]:
    """The overdue rows of the monthly tasks' missing pairs read by `statement`."""
    missing = await _rows(session, statement, params)
    if not missing:
        return []
    names = dict(await _rows(session, select(Leader.id, Leader.name)))
    leaders: dict[str | None, tuple[tuple[str, ...], frozenset[int]]] = {}
    # A unit named directly and through a group appears once, with its lead role if it has one.
    best: dict[Pair, Any] = {}
    for r in missing:
        key = (r[0], r[1])
        if key not in best or (r[2] == LEAD and best[key][2] != LEAD):
            best[key] = r
    workdays = calendar.workdays_between(chased.deadline, today)
    days = (today - chased.deadline).days
    rows = []
    for task_id, unit_id, role, no, text, section, subsection, unit, packed in best.values():
        found = leaders.get(packed)
        if found is None:
            ids = _leader_ids(packed)
            found = leaders[packed] = (tuple(names[i] for i in ids), frozenset(ids))
        rows.append(
            OverdueRow(
                task_id=task_id,
                task_no=no,
                task_text=text,
                section=section,
                subsection=subsection,
                unit_id=unit_id,
                unit=unit,
                lead=role == LEAD,
                cycle_key=chased.key,
                deadline=chased.deadline,
                workdays=workdays,
                days=days,
                leaders=found[0],
                leader_ids=found[1],
            )
        )
    return rows


@cache
def _missing_statements(
    shape: Shape, roles: tuple[str, ...]
) -> tuple[Any, Select[Any], Select[Any]]:
    """The owing (task, unit) pairs of monthly tasks without a report for the chased cycle.

    Returns the pairs subquery (for further conditions), a statement of the missing
    (task_id, unit_id) and one of the rows /overdue shows. One probe of
    ix_reports_cycle_task_unit per pair. A row carries its task's leaders packed as
    'position:leader_id,...' (one short string per row instead of a second query returning
    every task's leaders).
    """
    pairs = _pairs_of(_task_ids(shape, _NO_VALUES), roles).subquery()
    today = bindparam("today", type_=Date)
    conditions = (
        or_(Task.completed_on.is_(None), Task.completed_on > today),
        # A unit whose newest stated percentage completes its part owes nothing more
        # (bot.domain.obligations; tests/test_obligation_sql.py holds the two to the same answer).
        ~exists().where(
            ReportLatest.task_id == pairs.c.task_id,
            ReportLatest.unit_id == pairs.c.unit_id,
            ReportLatest.percent >= COMPLETE,
        ),
        # A pair with an approved cycle 延期 is the obligation model's (_other_rule_overdue).
        ~loop.extended_pair(pairs.c.task_id, pairs.c.unit_id),
        # report_cycles: a returned report no longer counts (db.loop.recount).
        ~exists().where(
            ReportCycle.task_id == pairs.c.task_id,
            ReportCycle.unit_id == pairs.c.unit_id,
            ReportCycle.cycle_key == bindparam("chased", type_=String),
        ),
    )
    keyed = (
        select(pairs.c.task_id, pairs.c.unit_id)
        .join(Task, Task.id == pairs.c.task_id)
        .where(*conditions)
    )
    packed = (
        select(
            func.aggregate_strings(
                cast(TaskLeader.position, String) + ":" + cast(TaskLeader.leader_id, String), ","
            )
        )
        .where(TaskLeader.task_id == pairs.c.task_id)
        .scalar_subquery()
    )
    detailed = (
        select(
            pairs.c.task_id,
            pairs.c.unit_id,
            pairs.c.role,
            Task.no,
            Task.text,
            Task.section,
            Task.subsection,
            Unit.name,
            packed,
        )
        .join(Task, Task.id == pairs.c.task_id)
        .join(Unit, Unit.id == pairs.c.unit_id)
        .where(*conditions)
    )
    return pairs, keyed, detailed
