"""Registered and closed years (bot.domain.years), kept in app_state."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import years as rules
from db.models import AppState, Task

IMPORTED = "register_imported:"  # + year: when the year's register first reached the database
CLOSED = "year_closed:"  # + year: when and by whom the office closed the year
REGISTER_VERSION = "register_version"  # its value changes with every import and year change


@dataclass(frozen=True)
class Years:
    """The years with a register, and those the office closed."""

    registered: frozenset[int]
    closed: frozenset[int]


def _year_of(key: str, prefix: str) -> int | None:
    tail = key[len(prefix) :]
    return int(tail) if tail.isdigit() else None


async def years(session: AsyncSession) -> Years:
    """Every registered year and every closed one."""
    keys = (
        await session.scalars(
            select(AppState.key).where(
                AppState.key.like(f"{IMPORTED}%") | AppState.key.like(f"{CLOSED}%")
            )
        )
    ).all()
    registered = {y for k in keys if k.startswith(IMPORTED) and (y := _year_of(k, IMPORTED))}
    # Tasks written without an import (by hand, or a generated benchmark set) count too.
    registered.update((await session.scalars(select(Task.year).distinct())).all())
    closed = {y for k in keys if k.startswith(CLOSED) and (y := _year_of(k, CLOSED))}
    return Years(frozenset(registered), frozenset(closed))


async def working_year(session: AsyncSession, today_year: int) -> int:
    """The year the bot serves by default (bot.domain.years.working_year)."""
    found = await years(session)
    return rules.working_year(found.registered, found.closed, today_year)


async def bump_register_version(session: AsyncSession, now: datetime) -> None:
    """Tell every running bot to drop the register it keeps in memory (db.register_cache)."""
    stamp = {"id": uuid.uuid4().hex, "at": now.isoformat()}
    version = await session.get(AppState, REGISTER_VERSION)
    if version is None:
        session.add(AppState(key=REGISTER_VERSION, value=stamp, updated_at=now))
    else:
        version.value = stamp
        version.updated_at = now


async def close_year(session: AsyncSession, year: int, now: datetime, by: str) -> bool:
    """Close a registered year; False if it has no register or is closed already."""
    if year not in (await years(session)).registered:
        return False
    if await session.get(AppState, f"{CLOSED}{year}") is not None:
        return False
    session.add(
        AppState(key=f"{CLOSED}{year}", value={"at": now.isoformat(), "by": by}, updated_at=now)
    )
    await bump_register_version(session, now)
    await session.flush()
    return True


async def reopen_year(session: AsyncSession, year: int, now: datetime) -> bool:
    """Open a closed year again; False if it was not closed."""
    state = await session.get(AppState, f"{CLOSED}{year}")
    if state is None:
        return False
    await session.delete(state)
    await bump_register_version(session, now)
    await session.flush()
    return True
