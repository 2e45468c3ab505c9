"""Queries behind the office's and leaders' views: tasks, obligations, latest reports, nudges.

Set-based: each function runs a fixed number of statements whatever the number of tasks, and
restricts reports through a subquery of the tasks in scope (a year, a leader's tasks, one task);
only the views over a whole year go through their tasks' ids, 1,000 at a time (`board_chunks`).
Reports are read through the indexes on (task_id, unit_id, created_at), (cycle_key, task_id,
unit_id) and (created_at), each pair's latest ones from report_latest.

At 10,000 tasks the cost is mostly outside the database, so: rows are read as Core tuples
(`_rows`), the largest statements are built once per scope shape with named parameters
(`Scope.shape`, `Scope.params`), /overdue reads only the page it shows (`overdue_page`), and
the summaries ask for the latest reports without text and quantities (`details=False`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from functools import cache
from typing import Any

from sqlalchemy import (
    CompoundSelect,
    Date,
    Select,
    String,
    bindparam,
    case,
    cast,
    exists,
    func,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import BindParameter

from bot.config import Settings
from bot.cycles import Cycle
from bot.obligations import COMPLETE, Terms, duty
from bot.roles import Role
from bot.schedule import rule_for, year_cycles
from bot.status import Status, StatusThresholds
from bot.views import (
    LEAD,
    MONTHLY,
    RESPONSIBLE,
    Board,
    Catalogue,
    CountingCalendar,
    CycleBook,
    Latest,
    LedgerRow,
    LiaisonCount,
    OverdueCount,
    OverdueFilter,
    OverdueGroup,
    OverdueRow,
    Pair,
    QuantityInfo,
    ReportInfo,
    TargetInfo,
    TaskInfo,
    UnitOnTask,
    board_status,
    build_board,
    ledger_rows,
    overdue_group,
    overdue_rows,
    page_spans,
)
from bot.workcal import WorkCalendar
from db import progress, years
from db.models import (
    Contact,
    Leader,
    Nudge,
    Report,
    ReportCycle,
    ReportLatest,
    Target,
    Task,
    TaskLeader,
    TaskUnit,
    Unit,
    UnitAlias,
    UnitGroupMember,
)
from db.register_cache import RegisterCache
from db.tasks import task_id_by_no as task_id_by_no  # re-exported for callers of the views

Shape = tuple[bool, bool, bool, bool, bool]  # see Scope.shape


@dataclass(frozen=True)
class Scope:
    """Which tasks a view covers: a year, optionally one leader's tasks or a single task."""

    year: int
    leader_ids: tuple[int, ...] = ()
    task_id: int | None = None
    only_kind: str | None = None  # only tasks with this cycle kind
    not_kind: str | None = None  # tasks with any other cycle kind
    ids: tuple[int, ...] = ()  # only these tasks (one chunk of a larger scope, `board_chunks`)

    def task_ids(self) -> Select[Any]:
        """The ids of the tasks in scope, as a subquery."""
        return _task_ids(self.shape(), self.params())

    def shape(self) -> Shape:
        """Which filters the scope has: scopes of one shape share one (cached) statement."""
        return (
            bool(self.leader_ids),
            self.task_id is not None,
            self.only_kind is not None,
            self.not_kind is not None,
            bool(self.ids),
        )

    def params(self) -> dict[str, Any]:
        """The values of the named parameters of `task_ids` (see `_task_ids`)."""
        return {
            "scope_year": self.year,
            "scope_leaders": list(self.leader_ids),
            "scope_task": self.task_id,
            "scope_only_kind": self.only_kind,
            "scope_not_kind": self.not_kind,
            "scope_ids": list(self.ids),
        }


# Placeholders: a cached statement gets its values when it runs.
_NO_VALUES: dict[str, Any] = Scope(0).params()


def _task_ids(shape: Shape, values: dict[str, Any]) -> Select[Any]:
    """The task ids of a scope of `shape`, with named parameters holding `values`.

    The names let a statement built once for a shape run for any scope of that shape with
    `Scope.params()` as execution parameters (building the larger statements costs more than
    running them).
    """
    leaders, one_task, only_kind, not_kind, some = shape
    query = select(Task.id).where(Task.year == bindparam("scope_year", values["scope_year"]))
    if leaders:
        wanted: BindParameter[list[int]] = bindparam(
            "scope_leaders", values["scope_leaders"], expanding=True
        )
        query = query.where(
            Task.id.in_(select(TaskLeader.task_id).where(TaskLeader.leader_id.in_(wanted)))
        )
    if one_task:
        query = query.where(Task.id == bindparam("scope_task", values["scope_task"]))
    if only_kind:
        query = query.where(
            Task.cycle_kind == bindparam("scope_only_kind", values["scope_only_kind"])
        )
    if not_kind:
        query = query.where(
            Task.cycle_kind != bindparam("scope_not_kind", values["scope_not_kind"])
        )
    if some:
        query = query.where(
            Task.id.in_(bindparam("scope_ids", values["scope_ids"], expanding=True))
        )
    return query


async def _rows(
    session: AsyncSession, statement: Any, params: dict[str, Any] | None = None
) -> Sequence[Any]:
    """All rows of a statement, through the session's connection (its transaction).

    Core rows, without the ORM's per-row result processing: the views read tens of thousands
    of plain column tuples and never ORM objects.
    """
    connection = await session.connection()
    return (await connection.execute(statement, params or {})).all()


# --- The register -------------------------------------------------------------------------------


async def load_tasks(
    session: AsyncSession,
    scope: Scope,
    *,
    responsible_report: bool,
    register: RegisterCache | None = None,
    ids: Sequence[int] | None = None,
) -> list[TaskInfo]:
    """The tasks in scope with leaders, units (groups expanded) and targets, by 序号.

    With `register` (validated in this session), tasks read before are taken from memory and
    only the scope's ids are queried (not even those, when the caller read them: `ids`): the
    register changes only with an import, and reading a leader's 800 tasks took 35-60 ms of a
    100 ms summary at 10,000 tasks.
    """
    if register is None:
        return await _load_tasks(session, scope, responsible_report, {})
    if ids is None:
        ids = [r[0] for r in await _rows(session, scope.task_ids())]
    found = register.task_infos(ids, responsible_report)
    missing = [t for t in ids if t not in found]
    for start in range(0, len(missing), CHUNK):
        some = Scope(scope.year, ids=tuple(missing[start : start + CHUNK]))
        loaded = await _load_tasks(session, some, responsible_report, register.shared)
        register.keep_task_infos(loaded, responsible_report)
        found.update((info.id, info) for info in loaded)
    tasks = [info for t in ids if (info := found.get(t)) is not None and info.year == scope.year]
    tasks.sort(key=lambda info: info.no)
    return tasks


async def _load_tasks(
    session: AsyncSession, scope: Scope, responsible_report: bool, shared: dict[Any, Any]
) -> list[TaskInfo]:
    """`load_tasks` from the database; equal strings and tuples are kept once, in `shared`."""
    ids = scope.task_ids()
    tasks = await _rows(
        session,
        select(
            Task.id,
            Task.year,
            Task.no,
            Task.section,
            Task.subsection,
            Task.text,
            Task.cycle_kind,
            Task.cycle_dates,
            Task.completed_on,
        )
        .where(Task.id.in_(ids))
        .order_by(Task.no),
    )
    if not tasks:
        return []

    # Each name, label and tuple of them once: the rows bring a new copy of each string per
    # task, and at 10,000 tasks the copies were 60% of the tasks' memory.
    def one(value: Any) -> Any:
        return shared.setdefault(value, value)

    leaders: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for task_id, leader_id, name in await _rows(
        session,
        select(TaskLeader.task_id, Leader.id, Leader.name)
        .join(Leader, Leader.id == TaskLeader.leader_id)
        .where(TaskLeader.task_id.in_(ids))
        .order_by(TaskLeader.task_id, TaskLeader.position),
    ):
        leaders[task_id].append(one((leader_id, one(name))))
    unit_rows = await _rows(
        session,
        select(TaskUnit.task_id, TaskUnit.role, TaskUnit.label, Unit.id, Unit.name, Unit.kind)
        .join(Unit, Unit.id == TaskUnit.unit_id)
        .where(TaskUnit.task_id.in_(ids))
        .order_by(TaskUnit.task_id, TaskUnit.role, TaskUnit.position),
    )
    members = await _members(session, {r[3] for r in unit_rows if r[5] == "group"})
    targets: dict[int, list[TargetInfo]] = defaultdict(list)
    for t in await _rows(
        session,
        select(
            Target.task_id,
            Target.metric,
            Target.kind,
            Target.value,
            Target.unit,
            Target.comparator,
        )
        .where(Target.task_id.in_(ids))
        .order_by(Target.task_id, Target.position),
    ):
        targets[t[0]].append(one(TargetInfo(*(one(v) for v in t[1:]))))
    by_task: dict[int, list[tuple[str, str, int, str, str]]] = defaultdict(list)
    # Plain tuples: attribute access on tens of thousands of rows is measurably slower.
    for task_id, role, label, uid, name, kind in unit_rows:
        by_task[task_id].append((one(role), one(label), uid, one(name), one(kind)))
    # A unit has the same part on many tasks: one (immutable) UnitOnTask per part.
    parts: dict[tuple[int, str, str | None], UnitOnTask] = {}
    out = []
    for task_id, year, no, section, subsection, text, kind, dates, completed_on in tasks:
        rows = by_task[task_id]
        units: list[UnitOnTask] = []
        seen: set[int] = set()
        for role, _, uid, name, unit_kind in rows:
            expanded = members.get(uid, []) if unit_kind == "group" else [(uid, name)]
            via = name if unit_kind == "group" else None
            for member_id, member in expanded:
                if member_id not in seen:
                    seen.add(member_id)
                    part = parts.get((member_id, role, via))
                    if part is None:
                        owes = role == LEAD or responsible_report
                        part = parts[(member_id, role, via)] = UnitOnTask(
                            member_id, member, role, owes, via
                        )
                    units.append(part)
        out.append(
            TaskInfo(
                id=task_id,
                year=year,
                no=no,
                section=one(section),
                subsection=one(subsection),
                text=text,
                cycle_kind=one(kind),
                cycle_dates=one(tuple(dates or ())),
                completed_on=completed_on,
                leaders=one(tuple(leaders[task_id])),
                lead_labels=one(tuple(r[1] for r in rows if r[0] == LEAD)),
                responsible_labels=one(tuple(r[1] for r in rows if r[0] != LEAD)),
                units=one(tuple(units)),
                targets=one(tuple(targets[task_id])),
            )
        )
    return out


async def _members(session: AsyncSession, group_ids: set[int]) -> dict[int, list[tuple[int, str]]]:
    """The members of some collective names, by unit id."""
    out: dict[int, list[tuple[int, str]]] = defaultdict(list)
    if not group_ids:
        return out
    for gid, uid, name in await _rows(
        session,
        select(UnitGroupMember.group_id, Unit.id, Unit.name)
        .join(Unit, Unit.id == UnitGroupMember.member_id)
        .where(UnitGroupMember.group_id.in_(group_ids))
        .order_by(Unit.id),
    ):
        out[gid].append((uid, name))
    return out


async def task_year(session: AsyncSession, task_id: int) -> int | None:
    """The year of a task, or None if there is no such task."""
    return await session.scalar(select(Task.year).where(Task.id == task_id))


async def catalogue(session: AsyncSession, year: int) -> Catalogue:
    """Names a /overdue filter may use: units, aliases, groups, leaders, headings of `year`."""
    units = await _rows(session, select(Unit.id, Unit.name, Unit.kind))
    names = {u.id: u.name for u in units if u.kind != "group"}
    lookup = {u.name: u.id for u in units if u.kind != "group"}
    for alias, unit_id in await _rows(session, select(UnitAlias.alias, UnitAlias.unit_id)):
        if unit_id in names:
            lookup.setdefault(alias, unit_id)
    group_ids = {u.id: u.name for u in units if u.kind == "group"}
    members = await _members(session, set(group_ids))
    groups = {
        name: (gid, tuple(uid for uid, _ in members.get(gid, [])))
        for gid, name in group_ids.items()
    }
    leaders = {name: lid for lid, name in await _rows(session, select(Leader.id, Leader.name))}
    # Names in the notice are sometimes spaced (周  全): match them without spaces too.
    leaders.update({"".join(name.split()): lid for name, lid in list(leaders.items())})
    headings: list[str] = []
    for section, subsection in await _rows(
        session,
        select(Task.section, Task.subsection).where(Task.year == year).order_by(Task.no),
    ):
        for heading in (section, subsection):
            if heading and heading not in headings:
                headings.append(heading)
    return Catalogue(lookup, names, groups, leaders, tuple(headings))


# --- Progress -----------------------------------------------------------------------------------


async def reported_keys(
    session: AsyncSession, scope: Scope, keys: Iterable[str]
) -> dict[Pair, dict[str, datetime]]:
    """Which of the cycle `keys` each (task, unit) in scope has reported, with the first
    report's time (from report_cycles: one row per reported cycle)."""
    wanted = sorted(set(keys))
    out: dict[Pair, dict[str, datetime]] = defaultdict(dict)
    if not wanted:
        return out
    rows = await _rows(
        session,
        select(
            ReportCycle.task_id, ReportCycle.unit_id, ReportCycle.cycle_key, ReportCycle.first_at
        ).where(ReportCycle.cycle_key.in_(wanted), ReportCycle.task_id.in_(scope.task_ids())),
    )
    for task_id, unit_id, key, first_at in rows:
        out[(task_id, unit_id)][key] = first_at
    return out


async def done_at(session: AsyncSession, scope: Scope) -> dict[Pair, datetime]:
    """The (task, unit) pairs in scope whose newest stated percentage completes their part,
    with when it was stated (bot.obligations.completed_at; the task's own completion mark is
    applied by bot.views.build_board)."""
    rows = await _rows(
        session,
        select(ReportLatest.task_id, ReportLatest.unit_id, ReportLatest.pct_at).where(
            ReportLatest.task_id.in_(scope.task_ids()), ReportLatest.percent >= COMPLETE
        ),
    )
    return {(t, u): at for t, u, at in rows if at is not None}


def _pairs(scope: Scope, roles: Sequence[str] | None = None) -> CompoundSelect[Any]:
    """(task_id, unit_id, role) of the units on the tasks in scope, collective names expanded."""
    return _pairs_of(scope.task_ids(), roles)


def _pairs_of(ids: Select[Any], roles: Sequence[str] | None = None) -> CompoundSelect[Any]:
    """(task_id, unit_id, role) of the units on the tasks `ids`, collective names expanded."""
    direct = (
        select(TaskUnit.task_id, TaskUnit.unit_id, TaskUnit.role)
        .join(Unit, Unit.id == TaskUnit.unit_id)
        .where(TaskUnit.task_id.in_(ids), Unit.kind != "group")
    )
    members = (
        select(TaskUnit.task_id, UnitGroupMember.member_id.label("unit_id"), TaskUnit.role)
        .join(UnitGroupMember, UnitGroupMember.group_id == TaskUnit.unit_id)
        .where(TaskUnit.task_id.in_(ids))
    )
    if roles is not None:
        direct = direct.where(TaskUnit.role.in_(roles))
        members = members.where(TaskUnit.role.in_(roles))
    return union_all(direct, members)


async def latest(
    session: AsyncSession, scope: Scope, *, details: bool = True
) -> dict[Pair, Latest]:
    """Per (task, unit) in scope: the newest report and the newest stating a percent, a date.

    Read from report_latest (kept by a trigger on reports): one row per pair, by task id.
    `details=False` leaves out what only a card or the ledger shows (the report's text and
    quantities: '' and ()); a status needs neither.
    """
    rows = await _rows(session, _latest_statement(scope.shape(), details), scope.params())
    out: dict[Pair, Latest] = {}
    if details:
        for r in rows:
            report = _report_info(r)
            out[(report.task_id, report.unit_id)] = Latest(report, r[12], r[13], r[14])
        return out
    for r in rows:
        report = ReportInfo(
            id=r[0],
            task_id=r[1],
            unit_id=r[2],
            unit=r[3],
            cycle_key=r[4],
            text="",
            created_at=r[6],
            percent=r[7],
            expected=r[8],
            difficulties=_strings(r[9]),
            version=r[11],
        )
        out[(report.task_id, report.unit_id)] = Latest(report, r[12], r[13], r[14])
    return out


@cache
def _latest_statement(shape: Shape, details: bool) -> Select[Any]:
    """The statement of `latest` for scopes of one shape (built once)."""
    last = aliased(Report)
    nothing = null()
    return (
        select(
            last.id,
            last.task_id,
            last.unit_id,
            Unit.name,
            last.cycle_key,
            last.text if details else nothing.label("text"),
            last.created_at,
            last.percent,
            last.expected_date,
            last.difficulties,
            last.quantities if details else nothing.label("quantities"),
            last.version,
            ReportLatest.percent,
            ReportLatest.pct_at,
            ReportLatest.expected_date,
        )
        .select_from(ReportLatest)
        .join(last, last.id == ReportLatest.last_id)
        .join(Unit, Unit.id == ReportLatest.unit_id)
        .where(ReportLatest.task_id.in_(_task_ids(shape, _NO_VALUES)))
    )


def _strings(value: Any) -> tuple[str, ...]:
    """Stored difficulty phrases (a JSON list), tolerating anything else as none."""
    if not isinstance(value, list):
        return ()
    return tuple(str(x) for x in value if isinstance(x, str))


def _quantities(value: Any) -> tuple[QuantityInfo, ...]:
    """Stored quantities matched to a target (see bot.progress.MeasuredQuantity)."""
    if not isinstance(value, list):
        return ()
    out = []
    for q in value:
        if not isinstance(q, dict) or not q.get("target_metric"):
            continue
        try:
            pct = q.get("percent_of_target")
            out.append(
                QuantityInfo(
                    str(q["target_metric"]),
                    float(q["value"]),
                    str(q.get("unit") or ""),
                    float(pct) if pct is not None else None,
                )
            )
        except (KeyError, TypeError, ValueError):
            continue  # a malformed entry is skipped, not fatal to the whole view
    return tuple(out)


def _report_query() -> Select[Any]:
    return select(
        Report.id,
        Report.task_id,
        Report.unit_id,
        Unit.name,
        Report.cycle_key,
        Report.text,
        Report.created_at,
        Report.percent,
        Report.expected_date,
        Report.difficulties,
        Report.quantities,
        Report.version,
    ).join(Unit, Unit.id == Report.unit_id)


def _report_info(r: Any) -> ReportInfo:
    return ReportInfo(
        id=r[0],
        task_id=r[1],
        unit_id=r[2],
        unit=r[3],
        cycle_key=r[4],
        text=r[5],
        created_at=r[6],
        percent=r[7],
        expected=r[8],
        difficulties=_strings(r[9]),
        quantities=_quantities(r[10]),
        version=r[11],
    )


async def reports_between(
    session: AsyncSession, scope: Scope, since: datetime, until: datetime, *, limit: int = 500
) -> list[ReportInfo]:
    """Reports stored in [since, until) on tasks in scope, newest first (at most `limit`)."""
    rows = await _rows(
        session,
        _report_query()
        .where(
            Report.created_at >= since,
            Report.created_at < until,
            # "+ 0" keeps SQLite on ix_reports_created (a day of reports) instead of
            # reading every report of every task in scope through the task index.
            (Report.task_id + 0).in_(scope.task_ids()),
        )
        .order_by(Report.id.desc())
        .limit(limit),
    )
    return [_report_info(r) for r in rows]


async def task_reports(
    session: AsyncSession, task_id: int, *, offset: int, limit: int
) -> tuple[list[ReportInfo], int]:
    """A page of a task's reports, newest first, and how many there are."""
    total = await session.scalar(
        select(func.count()).select_from(Report).where(Report.task_id == task_id)
    )
    rows = await _rows(
        session,
        _report_query()
        .where(Report.task_id == task_id)
        .order_by(Report.id.desc())
        .offset(offset)
        .limit(limit),
    )
    return [_report_info(r) for r in rows], int(total or 0)


async def report_count(session: AsyncSession, task_id: int) -> int:
    """How many reports (every version) a task has."""
    n = await session.scalar(
        select(func.count()).select_from(Report).where(Report.task_id == task_id)
    )
    return int(n or 0)


# --- Boards -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Boards:
    """The tasks in scope at `now`, their standing, and (if asked) their status."""

    boards: list[Board]
    statuses: dict[int, Status]
    book: CycleBook


async def boards(
    session: AsyncSession,
    *,
    scope: Scope,
    now: datetime,
    settings: Settings,
    calendar: WorkCalendar,
    with_latest: bool = True,
    details: bool = True,
    book: CycleBook | None = None,
    register: RegisterCache | None = None,
    ids: Sequence[int] | None = None,
    history: bool = False,
) -> Boards:
    """Every task in scope with its obligations (and latest reports and status if asked).

    `details=False`: the latest reports without text and quantities (see `latest`), for views
    that show statuses but not the reports themselves (the summaries). `ids`: the scope's task
    ids, when the caller has read them (see `load_tasks`). `history`: read every cycle of the
    year up to now, so each standing has its earlier misses and its record (cards, /units, the
    ledger); otherwise only the open and the last passed cycle.
    """
    today = now.astimezone(settings.tz).date()
    tasks = await load_tasks(
        session,
        scope,
        responsible_report=settings.responsible_units_report,
        register=register,
        ids=ids,
    )
    if book is None:
        book = CycleBook(
            settings, calendar, now, await progress.tracking_since(session, scope.year)
        )
    keys = book.keys(tasks, history=history)
    reported = await reported_keys(session, scope, keys) if tasks else {}
    done = await done_at(session, scope) if tasks else {}
    newest = await latest(session, scope, details=details) if with_latest and tasks else {}
    built = [build_board(t, reported, newest, book, today, done, history=history) for t in tasks]
    statuses: dict[int, Status] = {}
    if with_latest:
        thresholds = StatusThresholds.from_settings(settings)
        counter = CountingCalendar(calendar)
        statuses = {
            b.task.id: board_status(b, thresholds, counter, now, settings.tz) for b in built
        }
    return Boards(built, statuses, book)


CHUNK = 1000  # tasks per chunk in `board_chunks`


async def board_chunks(
    session: AsyncSession,
    *,
    scope: Scope,
    now: datetime,
    settings: Settings,
    calendar: WorkCalendar,
    with_latest: bool = True,
    details: bool = True,
    size: int = CHUNK,
    register: RegisterCache | None = None,
    history: bool = False,
) -> AsyncIterator[Boards]:
    """`boards` of the scope's tasks, `size` tasks at a time in 序号 order.

    For the views over a whole year (the city-wide summary, /units, the ledger): at 10,000
    tasks the boards of all of them at once took ~45 MB; a chunk at a time keeps only what the
    view accumulates. Every chunk shares one cycle book, so they agree on the cycles.
    """
    ids = [r[0] for r in await _rows(session, scope.task_ids().order_by(Task.no))]
    if not ids:
        return
    book = CycleBook(settings, calendar, now, await progress.tracking_since(session, scope.year))
    for start in range(0, len(ids), size):
        chunk = ids[start : start + size]
        yield await boards(
            session,
            # A scope that fits in one chunk keeps its own filter: a list of 800 ids costs
            # PostgreSQL more to bind and plan than the subquery costs to run.
            scope=scope if len(chunk) == len(ids) else Scope(scope.year, ids=tuple(chunk)),
            ids=chunk,
            now=now,
            settings=settings,
            calendar=calendar,
            with_latest=with_latest,
            details=details,
            book=book,
            register=register,
            history=history,
        )


async def overdue(
    session: AsyncSession,
    *,
    scope: Scope,
    now: datetime,
    settings: Settings,
    calendar: WorkCalendar,
    register: RegisterCache | None = None,
) -> list[OverdueRow]:
    """Every missed obligation in scope, as `bot.views.overdue_rows` would list it from boards.

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
    """Today, the scope's cycle book, and the overdue rows of its tasks not on the monthly rule."""
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
    return today, book, overdue_rows(found.boards, calendar, today)


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

    Only the rows the page shows are read: the monthly tasks' overdue pairs are counted per
    unit by the database (with the filter as conditions), which orders the units; then the
    rows of the units on the page are read. Tasks with other rules go through the boards.
    """
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
    if chased is not None:
        monthly = replace(scope, only_kind=MONTHLY)
        roles = (LEAD, RESPONSIBLE) if settings.responsible_units_report else (LEAD,)
        pairs, keyed, detailed = _missing_statements(monthly.shape(), roles)
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
    spans, page, pages, continued = page_spans(counts.values(), page, per_page)
    shown = [span.count.unit_id for span in spans]
    if chased is not None and shown:
        statement = detailed.where(*conditions, pairs.c.unit_id.in_(shown))
        missing = await _missing_rows(session, statement, params, chased, calendar, today)
        for row in await _with_earlier(session, missing, book, scope.year):
            by_unit[row.unit_id].append(row)
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
    if flt.kind in ("unit", "group"):
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
        # (bot.obligations; tests/test_obligation_sql.py holds the two to the same answer).
        ~exists().where(
            ReportLatest.task_id == pairs.c.task_id,
            ReportLatest.unit_id == pairs.c.unit_id,
            ReportLatest.percent >= COMPLETE,
        ),
        ~exists().where(
            Report.cycle_key == bindparam("chased", type_=String),
            Report.task_id == pairs.c.task_id,
            Report.unit_id == pairs.c.unit_id,
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


def _leader_ids(packed: str | None) -> tuple[int, ...]:
    """Leader ids in position order from 'position:leader_id,...' (any order; None: none)."""
    if not packed:
        return ()
    found = sorted(tuple(int(x) for x in item.split(":")) for item in packed.split(","))
    return tuple(leader_id for _, leader_id in found)


# --- People and nudges --------------------------------------------------------------------------


async def liaison_counts(session: AsyncSession) -> dict[int, LiaisonCount]:
    """Per unit: active liaisons, and how many of them can be reached."""
    rows = await _rows(
        session,
        select(
            Contact.unit_id,
            func.count(),
            func.sum(case((Contact.reachable.is_(True), 1), else_=0)),
        )
        .where(
            Contact.role == Role.LIAISON.value,
            Contact.active.is_(True),
            Contact.unit_id.is_not(None),
        )
        .group_by(Contact.unit_id),
    )
    return {uid: LiaisonCount(int(n), int(ok or 0)) for uid, n, ok in rows if uid is not None}


async def nudge_counts(session: AsyncSession, scope: Scope) -> dict[int, int]:
    """How many nudges each task in scope has had."""
    rows = await _rows(
        session,
        select(Nudge.task_id, func.count())
        .where(Nudge.task_id.in_(scope.task_ids()))
        .group_by(Nudge.task_id),
    )
    return {task_id: int(n) for task_id, n in rows}


def day_start(now: datetime, settings: Settings) -> datetime:
    """Midnight of `now`'s local day, aware."""
    return datetime.combine(now.astimezone(settings.tz).date(), time(0), tzinfo=settings.tz)


async def nudged_since(
    session: AsyncSession, scope: Scope, since: datetime
) -> dict[Pair, datetime]:
    """(task, unit) pairs in scope nudged at or after `since`, with the latest nudge time."""
    rows = await _rows(
        session,
        select(Nudge.task_id, Nudge.unit_id, func.max(Nudge.created_at))
        .where(Nudge.created_at >= since, Nudge.task_id.in_(scope.task_ids()))
        .group_by(Nudge.task_id, Nudge.unit_id),
    )
    return {(t, u): at for t, u, at in rows}


async def add_nudge(
    session: AsyncSession,
    *,
    task_id: int,
    unit_id: int,
    cycle_key: str | None,
    by_user_id: int | None,
    now: datetime,
) -> Nudge:
    """Record a nudge (its id numbers the outbox items it sends)."""
    nudge = Nudge(
        task_id=task_id, unit_id=unit_id, cycle_key=cycle_key, by_user_id=by_user_id, created_at=now
    )
    session.add(nudge)
    await session.flush()
    return nudge


async def leader_contacts(session: AsyncSession) -> list[tuple[Contact, int, str]]:
    """Active leader contacts with their leader's id and name."""
    rows = (
        await session.execute(
            select(Contact, Leader.id, Leader.name)
            .join(Leader, Leader.id == Contact.leader_id)
            .where(Contact.role == Role.LEADER.value, Contact.active.is_(True))
            .order_by(Contact.id)
        )
    ).all()
    return [(c, lid, name) for c, lid, name in rows]


def local_day(moment: datetime, settings: Settings) -> date:
    """The local date of a moment."""
    return moment.astimezone(settings.tz).date()


def by_id(boards: Sequence[Board]) -> dict[int, Board]:
    """Boards by task id."""
    return {b.task.id: b for b in boards}


# --- Ledger -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ledger:
    """The ledger's rows for a year, as of a day."""

    year: int
    as_of: date
    rows: list[LedgerRow]


async def ledger_chunks(
    session: AsyncSession,
    *,
    year: int,
    now: datetime,
    settings: Settings,
    calendar: WorkCalendar,
    size: int = CHUNK,
    register: RegisterCache | None = None,
) -> AsyncIterator[list[LedgerRow]]:
    """The ledger rows of the year's tasks, by 序号, `size` tasks at a time."""
    today = now.astimezone(settings.tz).date()
    scope = Scope(year)
    nudges = await nudge_counts(session, scope)
    async for found in board_chunks(
        session,
        scope=scope,
        now=now,
        settings=settings,
        calendar=calendar,
        size=size,
        register=register,
    ):
        yield ledger_rows(found.boards, found.statuses, nudges, calendar, today)


async def ledger(
    session: AsyncSession,
    *,
    now: datetime,
    settings: Settings,
    calendar: WorkCalendar,
    year: int | None = None,
) -> Ledger | None:
    """The ledger of `year` (default: the working year); None if it has no tasks."""
    today = now.astimezone(settings.tz).date()
    if year is None:
        year = await years.working_year(session, today.year)
    rows = [
        row
        async for chunk in ledger_chunks(
            session, year=year, now=now, settings=settings, calendar=calendar
        )
        for row in chunk
    ]
    return Ledger(year, today, rows) if rows else None
