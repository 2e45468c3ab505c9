"""退回重报 and 办结销号 rows, and the recount that keeps "reported" and "done" true after them.

Every view, reminder and export reads whether a unit reported a cycle from report_cycles, and
whether its part is complete from report_latest's newest stated percentage (db.progress,
db.views); triggers on reports keep both as reports are written. A return or a 销号 decision
changes which reports count, so `recount` rebuilds the pair's rows from the reports that still
count, in the same transaction:

- a report counts unless a return of its (task, unit, cycle) covers it (report id at or below
  the return's `upto_report_id`);
- a counted report's stated percentage counts unless it is 100% or more and at or below the
  pair's closure `void_upto` (the office refused or reopened the part's close-out).

Reports are never changed or deleted here: the history keeps them, marked returned.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, and_, delete, exists, func, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.domain.model import ExtensionNote, ReturnNote
from bot.domain.obligations import COMPLETE
from db.models import (
    Closure,
    Extension,
    Report,
    ReportCycle,
    ReportLatest,
    ReportReturn,
    Task,
    Unit,
)

Pair = tuple[int, int]  # (task id, unit id)

APPLIED = "applied"  # the closure states
CLOSED = "closed"
REFUSED = "refused"
REOPENED = "reopened"


def _counted(r: Any) -> Any:
    """The condition that report `r` (a Report alias) still counts: no return covers it."""
    return ~exists().where(
        ReportReturn.task_id == r.task_id,
        ReportReturn.unit_id == r.unit_id,
        ReportReturn.cycle_key == r.cycle_key,
        ReportReturn.upto_report_id >= r.id,
    )


async def recount(session: AsyncSession, task_id: int, unit_id: int) -> None:
    """Rebuild the pair's report_cycles and report_latest rows from the reports that count."""
    r = aliased(Report)
    pair = (r.task_id == task_id, r.unit_id == unit_id, _counted(r))
    await session.execute(
        delete(ReportCycle).where(ReportCycle.task_id == task_id, ReportCycle.unit_id == unit_id)
    )
    await session.execute(
        insert(ReportCycle).from_select(
            ["task_id", "unit_id", "cycle_key", "first_at"],
            select(r.task_id, r.unit_id, r.cycle_key, func.min(r.created_at))
            .where(*pair)
            .group_by(r.task_id, r.unit_id, r.cycle_key),
        )
    )
    await session.execute(
        delete(ReportLatest).where(ReportLatest.task_id == task_id, ReportLatest.unit_id == unit_id)
    )
    void = (
        select(func.coalesce(func.max(Closure.void_upto), 0))
        .where(Closure.task_id == task_id, Closure.unit_id == unit_id)
        .scalar_subquery()
    )

    async def newest(*stated: Any) -> Any:
        return (
            await session.execute(
                select(r.id, r.created_at, r.percent, r.expected_date)
                .where(*pair, *stated)
                .order_by(r.created_at.desc(), r.id.desc())
                .limit(1)
            )
        ).first()

    last = await newest()
    if last is None:
        return
    pct = await newest(r.percent.is_not(None), or_(r.percent < COMPLETE, r.id > void))
    exp = await newest(r.expected_date.is_not(None))
    await session.execute(
        insert(ReportLatest).values(
            task_id=task_id,
            unit_id=unit_id,
            last_id=last.id,
            last_at=last.created_at,
            pct_id=pct.id if pct else None,
            pct_at=pct.created_at if pct else None,
            percent=pct.percent if pct else None,
            exp_id=exp.id if exp else None,
            exp_at=exp.created_at if exp else None,
            expected_date=exp.expected_date if exp else None,
        )
    )


# --- 退回重报 -------------------------------------------------------------------------------------


async def add_return(
    session: AsyncSession,
    *,
    report: Report,
    comment: str,
    by_user_id: int | None,
    now: datetime,
) -> int:
    """Return the unit's reports of `report`'s cycle up to the newest one, and recount; the
    return's id."""
    upto = await session.scalar(
        select(func.max(Report.id)).where(
            Report.task_id == report.task_id,
            Report.unit_id == report.unit_id,
            Report.cycle_key == report.cycle_key,
        )
    )
    row = ReportReturn(
        task_id=report.task_id,
        unit_id=report.unit_id,
        cycle_key=report.cycle_key,
        upto_report_id=upto or report.id,
        comment=comment,
        by_user_id=by_user_id,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    await recount(session, report.task_id, report.unit_id)
    return row.id


async def counted_reports(
    session: AsyncSession, task_id: int, unit_ids: Iterable[int]
) -> list[Report]:
    """Per unit, its newest counted report on the task (what the office may return)."""
    ids = sorted(set(unit_ids))
    if not ids:
        return []
    r = aliased(Report)
    newest = (
        select(func.max(r.id))
        .where(r.task_id == task_id, r.unit_id.in_(ids), _counted(r))
        .group_by(r.unit_id)
    )
    rows = await session.scalars(select(Report).where(Report.id.in_(newest)))
    return list(rows)


async def returned(session: AsyncSession, report_ids: Sequence[int]) -> dict[int, str]:
    """Which of these reports were returned, each with the return's comment."""
    if not report_ids:
        return {}
    rows = await session.execute(
        select(Report.id, ReportReturn.comment, ReportReturn.id)
        .join(
            ReportReturn,
            and_(
                ReportReturn.task_id == Report.task_id,
                ReportReturn.unit_id == Report.unit_id,
                ReportReturn.cycle_key == Report.cycle_key,
                ReportReturn.upto_report_id >= Report.id,
            ),
        )
        .where(Report.id.in_(report_ids))
        .order_by(ReportReturn.id)
    )
    out: dict[int, str] = {}
    for report_id, comment, _ in rows.all():
        out.setdefault(report_id, comment)  # the first return that covered it
    return out


async def returns_of_task(
    session: AsyncSession, task_id: int, *, limit: int = 3
) -> list[ReturnNote]:
    """The task's returns, newest first."""
    rows = await session.execute(
        select(Unit.name, ReportReturn.cycle_key, ReportReturn.comment, ReportReturn.created_at)
        .join(Unit, Unit.id == ReportReturn.unit_id)
        .where(ReportReturn.task_id == task_id)
        .order_by(ReportReturn.created_at.desc(), ReportReturn.id.desc())
        .limit(limit)
    )
    return [ReturnNote(*row) for row in rows.all()]


async def return_counts(session: AsyncSession, task_ids: Iterable[int]) -> dict[Pair, int]:
    """How many times each (task, unit)'s reports were returned (退回次数)."""
    ids = sorted(set(task_ids))
    if not ids:
        return {}
    rows = await session.execute(
        select(ReportReturn.task_id, ReportReturn.unit_id, func.count())
        .where(ReportReturn.task_id.in_(ids))
        .group_by(ReportReturn.task_id, ReportReturn.unit_id)
    )
    return {(t, u): n for t, u, n in rows.all()}


async def returns_by_unit(
    session: AsyncSession, year: int, start: datetime, end: datetime
) -> dict[int, int]:
    """How many returns each unit had on `year`'s tasks in [start, end)."""
    rows = await session.execute(
        select(ReportReturn.unit_id, func.count())
        .join(Task, Task.id == ReportReturn.task_id)
        .where(Task.year == year, ReportReturn.created_at >= start, ReportReturn.created_at < end)
        .group_by(ReportReturn.unit_id)
    )
    return {unit_id: int(n) for unit_id, n in rows.all()}


# --- 办结销号 -------------------------------------------------------------------------------------


async def closure(session: AsyncSession, task_id: int, unit_id: int) -> Closure | None:
    """The pair's close-out row, if it ever applied."""
    return await session.scalar(
        select(Closure).where(Closure.task_id == task_id, Closure.unit_id == unit_id)
    )


async def closure_by_id(session: AsyncSession, closure_id: int) -> Closure | None:
    """A close-out row by id."""
    return await session.get(Closure, closure_id)


async def closures(session: AsyncSession, task_ids: Iterable[int]) -> dict[Pair, Closure]:
    """The close-out rows of these tasks."""
    ids = sorted(set(task_ids))
    if not ids:
        return {}
    rows = await session.scalars(select(Closure).where(Closure.task_id.in_(ids)))
    return {(c.task_id, c.unit_id): c for c in rows}


async def apply(
    session: AsyncSession,
    *,
    task_id: int,
    unit_id: int,
    report_id: int,
    by_user_id: int,
    now: datetime,
) -> Closure:
    """Record (or renew, after a refusal or a reopening) the pair's application."""
    row = await closure(session, task_id, unit_id)
    if row is None:
        row = Closure(task_id=task_id, unit_id=unit_id, applied_at=now)
        session.add(row)
    row.state = APPLIED
    row.report_id = report_id
    row.applied_by = by_user_id
    row.applied_at = now
    row.decided_by = None
    row.decided_at = None
    row.comment = None
    await session.flush()
    return row


async def decide(
    session: AsyncSession,
    row: Closure,
    *,
    state: str,
    comment: str | None,
    by_user_id: int,
    now: datetime,
) -> None:
    """Close, refuse or reopen the pair's part. Refusing or reopening sets aside every 100%
    it stated so far (its part owes reports again) and recounts."""
    row.state = state
    row.comment = comment
    row.decided_by = by_user_id
    row.decided_at = now
    if state in (REFUSED, REOPENED):
        row.void_upto = await session.scalar(
            select(func.max(Report.id)).where(
                Report.task_id == row.task_id, Report.unit_id == row.unit_id
            )
        )
    await session.flush()
    if state in (REFUSED, REOPENED):
        await recount(session, row.task_id, row.unit_id)


# --- 延期申请 -------------------------------------------------------------------------------------

REQUESTED = "requested"  # the extension states
APPROVED = "approved"
# REFUSED is shared with the closures


async def add_extension(
    session: AsyncSession,
    *,
    task_id: int,
    unit_id: int,
    cycle_key: str | None,
    old_date: date,
    new_date: date,
    reason: str,
    by_user_id: int,
    now: datetime,
) -> Extension:
    """Store a request."""
    row = Extension(
        task_id=task_id,
        unit_id=unit_id,
        cycle_key=cycle_key,
        old_date=old_date,
        new_date=new_date,
        reason=reason,
        state=REQUESTED,
        requested_by=by_user_id,
        requested_at=now,
    )
    session.add(row)
    await session.flush()
    return row


async def extension_by_id(session: AsyncSession, extension_id: int) -> Extension | None:
    """A request by id."""
    return await session.get(Extension, extension_id)


async def pending_extension(
    session: AsyncSession, task_id: int, unit_id: int, cycle_key: str | None
) -> Extension | None:
    """The pair's undecided request for that deadline, if any."""
    found = cycle_key_is(cycle_key)
    return await session.scalar(
        select(Extension).where(
            Extension.task_id == task_id,
            Extension.unit_id == unit_id,
            found,
            Extension.state == REQUESTED,
        )
    )


async def pending_extensions(session: AsyncSession, task_id: int) -> list[Extension]:
    """The task's undecided requests, oldest first."""
    rows = await session.scalars(
        select(Extension)
        .where(Extension.task_id == task_id, Extension.state == REQUESTED)
        .order_by(Extension.requested_at, Extension.id)
    )
    return list(rows)


def cycle_key_is(cycle_key: str | None) -> Any:
    """The condition on Extension.cycle_key (NULL: the task's own deadline)."""
    if cycle_key is None:
        return Extension.cycle_key.is_(None)
    return Extension.cycle_key == cycle_key


async def decide_extension(
    session: AsyncSession,
    row: Extension,
    *,
    approved: bool,
    comment: str | None,
    by_user_id: int,
    now: datetime,
) -> None:
    """Approve or refuse a request."""
    row.state = APPROVED if approved else REFUSED
    row.comment = comment
    row.decided_by = by_user_id
    row.decided_at = now
    await session.flush()


Moves = dict[Pair, dict[str, date]]


async def approved(session: AsyncSession, task_ids: Iterable[int]) -> tuple[Moves, dict[int, date]]:
    """The approved extensions of these tasks, in one statement: per (task, unit) its moved
    cycle deadlines (cycle key → date), and per task its moved own deadline (the latest
    approved of each)."""
    ids = sorted(set(task_ids))
    moves: Moves = {}
    ends: dict[int, date] = {}
    if not ids:
        return moves, ends
    rows = await session.execute(
        select(Extension.task_id, Extension.unit_id, Extension.cycle_key, Extension.new_date)
        .where(Extension.task_id.in_(ids), Extension.state == APPROVED)
        .order_by(Extension.decided_at, Extension.id)
    )
    for task_id, unit_id, key, new_date in rows.all():
        if key is None:
            ends[task_id] = max(ends.get(task_id, new_date), new_date)
        else:
            moves.setdefault((task_id, unit_id), {})[key] = new_date
    return moves, ends


def extended_pair(task_id: Any, unit_id: Any) -> Any:
    """The condition that a (task, unit) has an approved cycle extension (the overdue SQL leaves
    such pairs to the obligation model)."""
    return exists().where(
        Extension.task_id == task_id,
        Extension.unit_id == unit_id,
        Extension.state == APPROVED,
        Extension.cycle_key.is_not(None),
    )


async def extended_pairs(session: AsyncSession, task_ids: Select[Any]) -> set[Pair]:
    """The (task, unit) pairs with an approved cycle extension among `task_ids` (a subquery)."""
    rows = await session.execute(
        select(Extension.task_id, Extension.unit_id)
        .where(
            Extension.task_id.in_(task_ids),
            Extension.state == APPROVED,
            Extension.cycle_key.is_not(None),
        )
        .distinct()
    )
    return {(t, u) for t, u in rows.all()}


async def extensions_of_task(session: AsyncSession, task_ids: Iterable[int]) -> list[ExtensionNote]:
    """The requests on these tasks, oldest first, for the card and the ledger."""
    ids = sorted(set(task_ids))
    if not ids:
        return []
    rows = await session.execute(
        select(
            Extension.task_id,
            Unit.name,
            Extension.cycle_key,
            Extension.old_date,
            Extension.new_date,
            Extension.state,
            Extension.reason,
            Extension.comment,
        )
        .join(Unit, Unit.id == Extension.unit_id)
        .where(Extension.task_id.in_(ids))
        .order_by(Extension.requested_at, Extension.id)
    )
    return [ExtensionNote(*row) for row in rows.all()]
