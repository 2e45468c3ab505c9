"""佐证材料 (evidence) rows: files attached to a task for a unit, their link to the unit's
next report, and what the card and the ledger count and list."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.evidence import PHOTO, EvidenceFile, Incoming
from db.engine import conflict_insert
from db.models import Evidence, Task, Unit


async def exists(session: AsyncSession, task_id: int, unit_id: int, file_unique_id: str) -> bool:
    """Whether this file is already kept for the task and unit."""
    found = await session.scalar(
        select(Evidence.id).where(
            Evidence.task_id == task_id,
            Evidence.unit_id == unit_id,
            Evidence.file_unique_id == file_unique_id,
        )
    )
    return found is not None


async def add(
    session: AsyncSession,
    *,
    task_id: int,
    unit_id: int,
    by_user_id: int,
    incoming: Incoming,
    size: int,
    path: str,
    now: datetime,
) -> int | None:
    """Keep a file for the task and unit; its id, or None if it was kept already (one
    statement decides, against a concurrent sender)."""
    statement = (
        conflict_insert(session, Evidence)
        .values(
            task_id=task_id,
            unit_id=unit_id,
            by_user_id=by_user_id,
            file_id=incoming.file_id,
            file_unique_id=incoming.file_unique_id,
            file_name=(incoming.file_name or None) and incoming.file_name[:255],
            mime_type=(incoming.mime_type or None) and incoming.mime_type[:100],
            size=size,
            path=path,
            kind=incoming.kind,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["task_id", "unit_id", "file_unique_id"])
        .returning(Evidence.id)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def link_to_report(session: AsyncSession, task_id: int, unit_id: int, report_id: int) -> int:
    """Link the unit's files on the task not yet linked to a report to this one; how many."""
    result = await session.execute(
        update(Evidence)
        .where(
            Evidence.task_id == task_id,
            Evidence.unit_id == unit_id,
            Evidence.report_id.is_(None),
        )
        .values(report_id=report_id)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def _of_task(task_id: int, unit_ids: Iterable[int] | None) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [Evidence.task_id == task_id]
    if unit_ids is not None:
        conditions.append(Evidence.unit_id.in_(sorted(unit_ids)))
    return conditions


async def count(session: AsyncSession, task_id: int, unit_ids: Iterable[int] | None) -> int:
    """How many files the task has (of these units; None: of all)."""
    found = await session.scalar(
        select(func.count()).select_from(Evidence).where(*_of_task(task_id, unit_ids))
    )
    return int(found or 0)


async def of_task(
    session: AsyncSession, task_id: int, unit_ids: Iterable[int] | None, *, limit: int
) -> list[EvidenceFile]:
    """The task's files (of these units; None: of all), newest first."""
    rows = await session.execute(
        select(
            Evidence.id,
            Unit.name,
            Evidence.kind,
            Evidence.file_id,
            Evidence.file_name,
            Evidence.size,
            Evidence.created_at,
            Evidence.path,
        )
        .join(Unit, Unit.id == Evidence.unit_id)
        .where(*_of_task(task_id, unit_ids))
        .order_by(Evidence.created_at.desc(), Evidence.id.desc())
        .limit(limit)
    )
    unnamed = {PHOTO: "照片"}
    return [
        EvidenceFile(i, unit, kind, file_id, name or unnamed.get(kind, "文件"), size, at, path)
        for i, unit, kind, file_id, name, size, at, path in rows.all()
    ]


async def counts_in_year(session: AsyncSession, year: int) -> dict[int, int]:
    """How many files each of `year`'s tasks has (tasks with none left out)."""
    rows = await session.execute(
        select(Evidence.task_id, func.count())
        .join(Task, Task.id == Evidence.task_id)
        .where(Task.year == year)
        .group_by(Evidence.task_id)
    )
    return {task_id: int(n) for task_id, n in rows.all()}
