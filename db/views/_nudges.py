"""催办 records (nudges) and the contacts the views address: liaison counts, leaders' accounts."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import (
    case,
    func,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.domain.model import (
    Pair,
)
from bot.domain.roles import Role
from bot.domain.units import LiaisonCount
from db.engine import conflict_insert
from db.models import (
    Contact,
    Leader,
    Nudge,
    Task,
)
from db.views._scope import Scope, _rows

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


async def nudges_by_unit(
    session: AsyncSession, year: int, start: date, end: date
) -> dict[int, int]:
    """How many nudges each unit had on `year`'s tasks on the local days [start, end]."""
    rows = await _rows(
        session,
        select(Nudge.unit_id, func.count())
        .join(Task, Task.id == Nudge.task_id)
        .where(Task.year == year, Nudge.day >= start, Nudge.day <= end)
        .group_by(Nudge.unit_id),
    )
    return {unit_id: int(n) for unit_id, n in rows}


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
    day: date,
) -> int | None:
    """Record a nudge; its id (which numbers the outbox items it sends), or None if the unit was
    already nudged about the task on `day` (one statement decides, against concurrent presses)."""
    statement = (
        conflict_insert(session, Nudge)
        .values(
            task_id=task_id,
            unit_id=unit_id,
            cycle_key=cycle_key,
            by_user_id=by_user_id,
            created_at=now,
            day=day,
        )
        .on_conflict_do_nothing(index_elements=["task_id", "unit_id", "day"])
        .returning(Nudge.id)
    )
    return (await session.execute(statement)).scalar_one_or_none()


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
