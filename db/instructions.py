"""领导批示 and 提请协调 rows, and the one typed text the bot waits for from a person."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.model import CardNote
from db.models import AppState, CoordinationRequest, Instruction, Leader, Report, Unit


async def add(
    session: AsyncSession,
    *,
    task_id: int,
    leader_id: int,
    by_user_id: int,
    text: str,
    now: datetime,
) -> int:
    """Store an instruction; its id."""
    row = Instruction(
        task_id=task_id, leader_id=leader_id, by_user_id=by_user_id, text=text, created_at=now
    )
    session.add(row)
    await session.flush()
    return row.id


async def of_task(session: AsyncSession, task_id: int, *, limit: int = 5) -> list[CardNote]:
    """The task's instructions, newest first."""
    return await _instructions(session, task_id, limit=limit)


async def unanswered(
    session: AsyncSession, task_id: int, unit_id: int, *, limit: int = 3
) -> list[CardNote]:
    """The task's instructions written after the unit's latest report on it (to answer), in
    one statement (it runs each time a liaison picks a task to report on)."""
    last = (
        select(func.max(Report.created_at))
        .where(Report.task_id == task_id, Report.unit_id == unit_id)
        .scalar_subquery()
    )
    after = or_(last.is_(None), Instruction.created_at > last)
    return await _instructions(session, task_id, after, limit=limit)


async def _instructions(
    session: AsyncSession, task_id: int, *conditions: Any, limit: int
) -> list[CardNote]:
    """The task's instructions meeting `conditions`, newest first."""
    rows = (
        await session.execute(
            select(Instruction.id, Leader.name, Instruction.text, Instruction.created_at)
            .outerjoin(Leader, Leader.id == Instruction.leader_id)
            .where(Instruction.task_id == task_id, *conditions)
            .order_by(Instruction.created_at.desc(), Instruction.id.desc())
            .limit(limit)
        )
    ).all()
    # The notice spaces some names (周  全): shown without the spaces.
    return [CardNote(i, "".join((name or "").split()), text, at) for i, name, text, at in rows]


async def add_request(
    session: AsyncSession, *, task_id: int, unit_id: int, by_user_id: int, text: str, now: datetime
) -> int:
    """Store a 提请协调; its id."""
    row = CoordinationRequest(
        task_id=task_id, unit_id=unit_id, by_user_id=by_user_id, text=text, created_at=now
    )
    session.add(row)
    await session.flush()
    return row.id


async def requests_of_task(
    session: AsyncSession, task_id: int, *, limit: int = 3
) -> list[CardNote]:
    """The task's 提请协调, newest first (`who` is the unit that asked)."""
    rows = (
        await session.execute(
            select(
                CoordinationRequest.id,
                Unit.name,
                CoordinationRequest.text,
                CoordinationRequest.created_at,
            )
            .join(Unit, Unit.id == CoordinationRequest.unit_id)
            .where(CoordinationRequest.task_id == task_id)
            .order_by(CoordinationRequest.created_at.desc(), CoordinationRequest.id.desc())
            .limit(limit)
        )
    ).all()
    return [CardNote(i, name, text, at) for i, name, text, at in rows]


# --- A typed answer the bot waits for ------------------------------------------------------------

AWAITING = "awaiting:"


async def await_text(
    session: AsyncSession, user_id: int, action: str, data: dict[str, Any], now: datetime
) -> None:
    """Remember that the person's next text is for `action` (one at a time: a new one replaces
    the old)."""
    value = {"action": action, "at": now.isoformat(), **data}
    await session.merge(AppState(key=f"{AWAITING}{user_id}", value=value, updated_at=now))


async def awaited(
    session: AsyncSession, user_id: int, now: datetime, ttl: timedelta
) -> dict[str, Any] | None:
    """What the person's text is awaited for, if asked within `ttl`."""
    row = await session.get(AppState, f"{AWAITING}{user_id}")
    if row is None:
        return None
    if datetime.fromisoformat(str(row.value["at"])) + ttl < now:
        return None
    return dict(row.value)


async def stop_awaiting(session: AsyncSession, user_id: int) -> bool:
    """Forget the awaited text; whether there was one."""
    result = await session.execute(delete(AppState).where(AppState.key == f"{AWAITING}{user_id}"))
    return bool(getattr(result, "rowcount", 0))
