"""Correcting the work calendar for one day (an admin's override), audited."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from db import calendar, people


async def change_day(
    session: AsyncSession,
    day: date,
    *,
    is_workday: bool | None,
    note: str | None,
    now: datetime,
    actor: int | None = None,
) -> bool | None:
    """Set `day` as a workday or a day off, or clear its override (`is_workday` None).

    Returns the override it replaced (None: there was none, and clearing then changes nothing).
    """
    was = await calendar.set_override(session, day, is_workday=is_workday, note=note, now=now)
    if is_workday is None and was is None:
        return None
    detail: dict[str, Any]
    if is_workday is None:
        action, detail = "calendar_override_cleared", {"was_workday": was}
    else:
        action = "calendar_override_set"
        detail = {"is_workday": is_workday, "note": note, "was_workday": was}
    await people.audit(
        session, at=now, actor=actor, action=action, target=day.isoformat(), detail=detail
    )
    return was
