"""考评 (issue 22): every unit's score for a month and for the year to date, ranked within its
kind of unit. The rule is bot.domain.assessment's; this reads what it needs: the year's boards
(with each unit's outcomes and latest reports), the returns and the 催办 of each period."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.domain.assessment import Ranked, Tally, Weights, ranking, scores, tally
from bot.domain.boards import CycleBook
from bot.domain.deadlines import rule_for
from bot.domain.model import MONTHLY
from bot.domain.units import CATEGORIES, category_of
from bot.domain.workcal import WorkCalendar
from bot.services.desk import Desk
from db import loop, people, views
from db.register_cache import RegisterCache


@dataclass(frozen=True, slots=True)
class Assessment:
    """The month's and the year's rankings, by kind of unit (CATEGORIES' keys)."""

    year: int
    month: date  # its first day
    today: date
    monthly: dict[str, list[Ranked]]
    yearly: dict[str, list[Ranked]]


def weights(s: Settings) -> Weights:
    """The weights from the settings."""
    return Weights(
        s.assess_late,
        s.assess_missed,
        s.assess_overdue,
        s.assess_behind,
        s.assess_returned,
        s.assess_nudged,
    )


def default_month(settings: Settings, calendar: WorkCalendar, now: datetime, year: int) -> date:
    """The month of the monthly tasks' last passed deadline (the last month that can be
    judged), or January."""
    book = CycleBook(settings, calendar, now)
    _, chased = book.cycles_of(rule_for(MONTHLY, (), settings), year)
    return chased.deadline.replace(day=1) if chased is not None else date(year, 1, 1)


async def assess(desk: Desk, year: int, month: date | None = None) -> Assessment:
    """Score every unit for `month` (default: `default_month`) and for the year to date."""
    return await assess_in(
        desk.session,
        now=desk.now,
        settings=desk.settings,
        calendar=desk.calendar,
        register=desk.register,
        year=year,
        month=month,
    )


async def assess_in(
    session: AsyncSession,
    *,
    now: datetime,
    settings: Settings,
    calendar: WorkCalendar,
    register: RegisterCache | None,
    year: int,
    month: date | None = None,
) -> Assessment:
    """`assess` with what the CLI and the ledger export have (no Desk)."""
    today = now.astimezone(settings.tz).date()
    first = month or default_month(settings, calendar, now, year)
    last = _month_end(first)
    monthly: dict[int, Tally] = {}
    yearly: dict[int, Tally] = {}
    async for found in views.board_chunks(
        session,
        scope=views.Scope(year),
        now=now,
        settings=settings,
        calendar=calendar,
        details=False,
        register=register,
        history=True,
    ):
        tally(found.boards, start=first, end=last, today=today, calendar=calendar, into=monthly)
        tally(
            found.boards,
            start=date(year, 1, 1),
            end=date(year, 12, 31),
            today=today,
            calendar=calendar,
            into=yearly,
        )
    units = [
        (u.id, u.name, category_of(kind, u.name))
        for u, kind in await people.units_in_order(session)
    ]
    w = weights(settings)
    tz = settings.tz
    month_start = datetime.combine(first, time(0), tzinfo=tz)
    month_stop = datetime.combine(last + timedelta(days=1), time(0), tzinfo=tz)
    year_start = datetime.combine(date(year, 1, 1), time(0), tzinfo=tz)
    year_stop = datetime.combine(date(year + 1, 1, 1), time(0), tzinfo=tz)
    keys = [c.key for c in CATEGORIES]
    return Assessment(
        year,
        first,
        today,
        ranking(
            scores(
                units,
                monthly,
                await loop.returns_by_unit(session, year, month_start, month_stop),
                await views.nudges_by_unit(session, year, first, last),
                w,
            ),
            keys,
        ),
        ranking(
            scores(
                units,
                yearly,
                await loop.returns_by_unit(session, year, year_start, year_stop),
                await views.nudges_by_unit(session, year, date(year, 1, 1), date(year, 12, 31)),
                w,
            ),
            keys,
        ),
    )


def _month_end(first: date) -> date:
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)
