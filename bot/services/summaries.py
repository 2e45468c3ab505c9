"""The daily summaries (摘要) and the overdue groups of the 通报, built in one pass over the
year's boards: for the office (the city), for supervising leaders, for the work group.

Used by the daily job (all of them, into the outbox) and by /summary (the caller's own).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from bot import charts
from bot.config import Settings
from bot.domain.boards import Board
from bot.domain.overdue import OverdueGroup, OverdueRow, group_overdue, overdue_rows
from bot.domain.status import Light
from bot.domain.summaries import Summary, SummaryBuilder
from bot.domain.workcal import WorkCalendar
from db import digests, views
from db.register_cache import RegisterCache

log = logging.getLogger(__name__)


@dataclass
class Summaries:
    """What one pass built: the city's summary (if asked), each leader's, the overdue groups."""

    city: Summary | None = None
    leaders: dict[int, Summary] = field(default_factory=dict)  # leader id → summary
    overdue: list[OverdueGroup] = field(default_factory=list)
    # digest key → the lights each summary was compared with (None: no earlier digest)
    compared: dict[str, dict[int, Light] | None] = field(default_factory=dict)


Compare = Literal["digest", "latest"]


async def build_summaries(
    session: AsyncSession,
    *,
    scope: views.Scope,
    leaders: Sequence[tuple[int, str]],
    city: bool,
    overdue: bool,
    now: datetime,
    since: datetime,
    settings: Settings,
    calendar: WorkCalendar,
    register: RegisterCache | None = None,
    compare: Compare | None = None,
    with_charts: bool = False,
) -> Summaries:
    """The summaries of the tasks in `scope` since `since`: the city's if `city`, one per leader
    (id, name) with tasks in scope, and the overdue rows grouped by unit if `overdue`.

    `compare`: say which lights changed since the last digest — "digest" for the morning's
    digest (the last one written on an earlier day), "latest" for a summary asked for (the last
    digest, this morning's included).

    A chunk of tasks at a time: the whole year's boards at once took ~45 MB at 10,000 tasks.
    A leader without tasks in scope gets no summary; nothing at all if the scope has no tasks.
    `with_charts`: each summary also keeps what its chart shows (`digest_charts`).
    """
    tz = settings.tz
    today = now.astimezone(tz).date()
    whole = SummaryBuilder(leader=None, now=now, since=since, tz=tz, charts=with_charts)
    builders = {
        leader_id: SummaryBuilder(leader=name, now=now, since=since, tz=tz, charts=with_charts)
        for leader_id, name in leaders
    }
    rows: list[OverdueRow] = []
    async for found in views.board_chunks(
        session,
        scope=scope,
        now=now,
        settings=settings,
        calendar=calendar,
        details=False,  # a summary shows statuses, not the latest reports' text
        register=register,
    ):
        whole.add(found.boards, found.statuses)
        if overdue:
            rows.extend(overdue_rows(found.boards, calendar, today))
        by_leader: dict[int, list[Board]] = defaultdict(list)
        for board in found.boards:
            for leader_id in board.task.leader_ids:
                by_leader[leader_id].append(board)
        for leader_id, builder in builders.items():
            builder.add(by_leader.get(leader_id, ()), found.statuses)
    out = Summaries()
    if not whole.total:
        return out
    reports = await views.reports_between(session, scope, since, now, limit=5000)

    async def previous(key: str) -> dict[int, Light] | None:
        if compare is None:
            return None
        mark = await digests.last_digest(session, key)
        if compare == "latest":
            before = mark.lights if mark is not None else None
        else:
            before = digests.compared_with(mark, today)
        out.compared[key] = before
        return before

    if city:
        out.city = whole.build(reports, await previous(digests.CITY))
    for leader_id, builder in builders.items():
        if builder.total:
            before = await previous(digests.leader_key(leader_id))
            out.leaders[leader_id] = builder.build(reports, before)
    out.overdue = group_overdue(rows)
    return out


async def remember_digest(
    session: AsyncSession, built: Summaries, key: str, summary: Summary, now: datetime
) -> None:
    """Keep what the digest under `key` showed, for the next one to compare with."""
    await digests.keep_digest(
        session,
        key,
        day=summary.day,
        lights=dict(summary.lights),
        before=built.compared.get(key),
        now=now,
    )


def chart_of(summary: Summary) -> charts.Chart:
    """The chart of a summary built `with_charts`: a leader's tasks, or the city's lights."""
    if summary.leader is not None:
        return charts.leader_chart(
            summary.leader, summary.day, summary.bars, summary.total, summary.counts
        )
    return charts.city_chart(summary.day, summary.total, summary.counts, summary.sections)


async def digest_charts(summaries: Mapping[str, Summary]) -> dict[str, bytes]:
    """Each summary's chart as a PNG, by the same key, drawn in one renderer process; none if
    the renderer fails (logged with the reason): the digest goes without its picture."""
    keys = list(summaries)
    try:
        pngs = await charts.render([chart_of(summaries[k]) for k in keys])
    except (charts.ChartError, OSError):
        log.exception("the digests' charts could not be drawn; the digests go without them")
        return {}
    return dict(zip(keys, pngs, strict=True))
