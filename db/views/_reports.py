"""Reports as the views read them: the cycles each (task, unit) reported (report_cycles), the
completed parts and each pair's latest reports (report_latest), the reports of a period or task.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    Select,
    func,
    null,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.domain.model import (
    Latest,
    Pair,
    QuantityInfo,
    ReportInfo,
)
from bot.domain.obligations import COMPLETE
from db.models import (
    Report,
    ReportCycle,
    ReportLatest,
    Unit,
)
from db.views._scope import _NO_VALUES, Scope, Shape, _rows, _task_ids

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
    with when it was stated (bot.domain.obligations.completed_at; the task's own completion mark is
    applied by bot.domain.boards.build_board)."""
    rows = await _rows(
        session,
        select(ReportLatest.task_id, ReportLatest.unit_id, ReportLatest.pct_at).where(
            ReportLatest.task_id.in_(scope.task_ids()), ReportLatest.percent >= COMPLETE
        ),
    )
    return {(t, u): at for t, u, at in rows if at is not None}


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
    """Stored quantities matched to a target (see bot.domain.replies.MeasuredQuantity)."""
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
    session: AsyncSession,
    task_id: int,
    *,
    offset: int,
    limit: int,
    unit_ids: Iterable[int] | None = None,
) -> tuple[list[ReportInfo], int]:
    """A page of a task's reports, newest first, and how many there are (only those of
    `unit_ids` when given: bot.domain.visibility)."""
    condition = _of_task(task_id, unit_ids)
    total = await session.scalar(select(func.count()).select_from(Report).where(*condition))
    rows = await _rows(
        session,
        _report_query().where(*condition).order_by(Report.id.desc()).offset(offset).limit(limit),
    )
    return [_report_info(r) for r in rows], int(total or 0)


async def report_count(
    session: AsyncSession, task_id: int, unit_ids: Iterable[int] | None = None
) -> int:
    """How many reports (every version) a task has (of `unit_ids`, when given)."""
    condition = _of_task(task_id, unit_ids)
    n = await session.scalar(select(func.count()).select_from(Report).where(*condition))
    return int(n or 0)


def _of_task(task_id: int, unit_ids: Iterable[int] | None) -> list[Any]:
    """Conditions for a task's reports, of some units only if `unit_ids` is given."""
    condition: list[Any] = [Report.task_id == task_id]
    if unit_ids is not None:
        condition.append(Report.unit_id.in_(sorted(unit_ids)))
    return condition
