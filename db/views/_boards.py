"""Boards of the tasks in scope (bot.domain.boards) from the queries, whole or a chunk of tasks at a
time, and the ledger's rows.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.domain.boards import Board, CountingCalendar, CycleBook, board_status, build_board
from bot.domain.ledger import LedgerRow, ledger_rows
from bot.domain.model import ExtensionNote
from bot.domain.status import Status, StatusThresholds
from bot.domain.workcal import WorkCalendar
from db import acks, evidence, loop, progress
from db.models import (
    Task,
)
from db.register_cache import RegisterCache
from db.views._nudges import nudge_counts
from db.views._reports import done_at, latest, reported_keys
from db.views._scope import CHUNK, Scope, _rows, load_tasks

# --- Boards -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Boards:
    """The tasks in scope at `now`, their standing, and (if asked) their status."""

    boards: list[Board]
    statuses: dict[int, Status]
    book: CycleBook


async def boards(
    session: AsyncSession,
    *,
    scope: Scope,
    now: datetime,
    settings: Settings,
    calendar: WorkCalendar,
    with_latest: bool = True,
    details: bool = True,
    book: CycleBook | None = None,
    register: RegisterCache | None = None,
    ids: Sequence[int] | None = None,
    history: bool = False,
) -> Boards:
    """Every task in scope with its obligations (and latest reports and status if asked).

    `details=False`: the latest reports without text and quantities (see `latest`), for views
    that show statuses but not the reports themselves (the summaries). `ids`: the scope's task
    ids, when the caller has read them (see `load_tasks`). `history`: read every cycle of the
    year up to now, so each standing has its earlier misses and its record (cards, /units, the
    ledger); otherwise only the open and the last passed cycle.
    """
    today = now.astimezone(settings.tz).date()
    tasks = await load_tasks(
        session,
        scope,
        responsible_report=settings.responsible_units_report,
        register=register,
        ids=ids,
    )
    if book is None:
        book = CycleBook(
            settings, calendar, now, await progress.tracking_since(session, scope.year)
        )
    moves, ends = await loop.approved(session, [t.id for t in tasks])
    keys = book.keys(tasks, history=history, moves=moves)
    reported = await reported_keys(session, scope, keys) if tasks else {}
    done = await done_at(session, scope) if tasks else {}
    newest = await latest(session, scope, details=details) if with_latest and tasks else {}
    built = [
        build_board(
            t,
            reported,
            newest,
            book,
            today,
            done,
            history=history,
            moves=moves,
            end=ends.get(t.id),
        )
        for t in tasks
    ]
    statuses: dict[int, Status] = {}
    if with_latest:
        thresholds = StatusThresholds.from_settings(settings)
        counter = CountingCalendar(calendar)
        statuses = {
            b.task.id: board_status(b, thresholds, counter, now, settings.tz) for b in built
        }
    return Boards(built, statuses, book)


async def board_chunks(
    session: AsyncSession,
    *,
    scope: Scope,
    now: datetime,
    settings: Settings,
    calendar: WorkCalendar,
    with_latest: bool = True,
    details: bool = True,
    size: int = CHUNK,
    register: RegisterCache | None = None,
    history: bool = False,
) -> AsyncIterator[Boards]:
    """`boards` of the scope's tasks, `size` tasks at a time in 序号 order.

    For the views over a whole year (the city-wide summary, /units, the ledger): at 10,000
    tasks the boards of all of them at once took ~45 MB; a chunk at a time keeps only what the
    view accumulates. Every chunk shares one cycle book, so they agree on the cycles.
    """
    ids = [r[0] for r in await _rows(session, scope.task_ids().order_by(Task.no))]
    if not ids:
        return
    book = CycleBook(settings, calendar, now, await progress.tracking_since(session, scope.year))
    for start in range(0, len(ids), size):
        chunk = ids[start : start + size]
        yield await boards(
            session,
            # A scope that fits in one chunk keeps its own filter: a list of 800 ids costs
            # PostgreSQL more to bind and plan than the subquery costs to run.
            scope=scope if len(chunk) == len(ids) else Scope(scope.year, ids=tuple(chunk)),
            ids=chunk,
            now=now,
            settings=settings,
            calendar=calendar,
            with_latest=with_latest,
            details=details,
            book=book,
            register=register,
            history=history,
        )


# --- Ledger -------------------------------------------------------------------------------------


async def ledger_chunks(
    session: AsyncSession,
    *,
    year: int,
    now: datetime,
    settings: Settings,
    calendar: WorkCalendar,
    size: int = CHUNK,
    register: RegisterCache | None = None,
) -> AsyncIterator[list[LedgerRow]]:
    """The ledger rows of the year's tasks, by 序号, `size` tasks at a time."""
    today = now.astimezone(settings.tz).date()
    scope = Scope(year)
    nudges = await nudge_counts(session, scope)
    signed = await acks.acknowledged_in_year(session, year)
    files = await evidence.counts_in_year(session, year)
    async for found in board_chunks(
        session,
        scope=scope,
        now=now,
        settings=settings,
        calendar=calendar,
        size=size,
        register=register,
    ):
        ids = [b.task.id for b in found.boards]
        returns = await loop.return_counts(session, ids)
        closed = {pair: row.state for pair, row in (await loop.closures(session, ids)).items()}
        asked: dict[int, list[ExtensionNote]] = {}
        for n in await loop.extensions_of_task(session, ids):
            asked.setdefault(n.task_id, []).append(n)
        yield ledger_rows(
            found.boards,
            found.statuses,
            nudges,
            calendar,
            today,
            signed,
            files,
            returns,
            closed,
            asked,
        )
