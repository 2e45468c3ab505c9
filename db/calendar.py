"""The admin's corrections of the statutory work calendar, one row per day."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import CalendarOverride


async def overrides(session: AsyncSession) -> dict[date, bool]:
    """Every override: day → is a workday."""
    rows = (await session.execute(select(CalendarOverride.day, CalendarOverride.is_workday))).all()
    return {day: is_workday for day, is_workday in rows}


async def set_override(
    session: AsyncSession, day: date, *, is_workday: bool | None, note: str | None, now: datetime
) -> bool | None:
    """Make `day` a workday or a day off (`is_workday` None: back to the statutory calendar).

    Returns what the override was before (None: there was none).
    """
    row = await session.get(CalendarOverride, day)
    was = None if row is None else row.is_workday
    if is_workday is None:
        if row is not None:
            await session.delete(row)
        return was
    if row is None:
        row = CalendarOverride(day=day, is_workday=is_workday, created_at=now)
        session.add(row)
    row.is_workday, row.note, row.created_at = is_workday, note, now
    return was
