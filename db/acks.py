"""签收 (acknowledgement) rows: which (task, unit) parts a lead unit's liaison acknowledged."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.engine import conflict_insert
from db.models import Acknowledgement, Task

Pair = tuple[int, int]  # (task id, unit id)


async def acknowledged(session: AsyncSession, unit_ids: Iterable[int]) -> dict[Pair, datetime]:
    """When each (task, unit) part of these units was acknowledged."""
    ids = sorted(set(unit_ids))
    if not ids:
        return {}
    rows = await session.execute(
        select(
            Acknowledgement.task_id, Acknowledgement.unit_id, Acknowledgement.acknowledged_at
        ).where(Acknowledgement.unit_id.in_(ids))
    )
    return {(t, u): at for t, u, at in rows.all()}


async def acknowledge(
    session: AsyncSession, pairs: Sequence[Pair], *, by_user_id: int | None, now: datetime
) -> int:
    """Record the acknowledgement of each pair not acknowledged yet; how many were new (one
    statement decides, against a concurrent press)."""
    if not pairs:
        return 0
    statement = (
        conflict_insert(session, Acknowledgement)
        .values(
            [
                {"task_id": t, "unit_id": u, "by_user_id": by_user_id, "acknowledged_at": now}
                for t, u in pairs
            ]
        )
        .on_conflict_do_nothing(index_elements=["task_id", "unit_id"])
        .returning(Acknowledgement.id)
    )
    return len((await session.execute(statement)).scalars().all())


async def acknowledged_in_year(session: AsyncSession, year: int) -> set[Pair]:
    """Every acknowledged (task, unit) part of `year`'s tasks."""
    rows = await session.execute(
        select(Acknowledgement.task_id, Acknowledgement.unit_id)
        .join(Task, Task.id == Acknowledgement.task_id)
        .where(Task.year == year)
    )
    return {(t, u) for t, u in rows.all()}
