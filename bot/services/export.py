"""The ledger (督查台账) export: the year's ledger rows, a chunk of tasks at a time, streamed
into the workbook, so that exporting 10,000 tasks holds neither all their boards nor the
whole worksheet in memory. Used by /export and `python -m bot export`."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts
from bot.config import Settings
from bot.domain.workcal import WorkCalendar
from bot.services.assessment import assess_in
from bot.services.workbook import LedgerWriter
from db import people, views, years
from db.register_cache import RegisterCache


@dataclass(frozen=True)
class Export:
    """An exported ledger: its year, its date, how many tasks, the .xlsx bytes."""

    year: int
    as_of: date
    tasks: int
    data: bytes


async def export_ledger(
    session: AsyncSession,
    *,
    now: datetime,
    settings: Settings,
    calendar: WorkCalendar,
    register: RegisterCache | None = None,
    year: int | None = None,
    actor: int | None = None,
) -> Export | None:
    """The ledger of `year` (default: the working year, bot.domain.years); None if it has no tasks.

    `register`: the tasks kept in memory (validated in this session), as for the views.
    `actor`: the person who asked (the export is audited for them).
    """
    today = now.astimezone(settings.tz).date()
    if year is None:
        year = await years.working_year(session, today.year)
    writer = LedgerWriter(year=year, as_of=today, tz=settings.tz)
    tasks = 0
    try:
        async for rows in views.ledger_chunks(
            session, year=year, now=now, settings=settings, calendar=calendar, register=register
        ):
            writer.add(rows)
            tasks += len(rows)
        if tasks:  # the 考评 sheet
            found = await assess_in(
                session,
                now=now,
                settings=settings,
                calendar=calendar,
                register=register,
                year=year,
            )
            writer.add_sheet(
                texts.ASSESSMENT_SHEET,
                texts.ASSESSMENT_HEADERS,
                texts.assessment_rows(found.monthly, found.yearly),
            )
    except BaseException:
        with contextlib.suppress(Exception):
            writer.finish()  # closes and removes the worksheet's temporary file
        raise
    data = writer.finish()
    if not tasks:
        return None
    if actor is not None:
        await people.audit(
            session,
            at=now,
            actor=actor,
            action="export",
            target=f"ledger:{year}",
            detail={"tasks": tasks},
        )
    return Export(year, today, tasks, data)
