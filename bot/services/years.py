"""Closing a year's register (it stops being the working year) and reopening it, audited."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from db import people, years


async def close_year(
    session: AsyncSession, year: int, now: datetime, *, actor: int | None
) -> int | None:
    """Close `year`; the working year afterwards, or None if it has no register or is closed.

    `now` is local time (its year decides the working year when no register is open).
    """
    if not await years.close_year(session, year, now, by="cli" if actor is None else str(actor)):
        return None
    await people.audit(session, at=now, actor=actor, action="close_year", target=str(year))
    return await years.working_year(session, now.year)


async def reopen_year(
    session: AsyncSession, year: int, now: datetime, *, actor: int | None
) -> bool:
    """Reopen a closed year; False if it was not closed."""
    if not await years.reopen_year(session, year, now):
        return False
    await people.audit(session, at=now, actor=actor, action="reopen_year", target=str(year))
    return True
