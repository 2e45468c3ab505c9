"""The daily summaries: each leader's, the office's city-wide one, and the work group's 通报.

Written to the outbox under one key per recipient and local day, so a restart or a second run
never sends twice. Sent on workdays only (the statutory calendar with its make-up workdays),
from `summary_time` until `summary_latest` (a run missed while the bot was down is caught up
within that window, not in the evening). "Since the last summary" means since the previous
workday's summary time. The group gets the 通报 only when something is overdue.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts
from bot.config import Settings
from bot.roles import Role
from bot.views import Board, OverdueRow, SummaryBuilder, group_overdue, overdue_rows
from bot.workcal import WorkCalendar
from db import outbox, people, views, years
from db.register_cache import RegisterCache


def previous_summary(now: datetime, settings: Settings, calendar: WorkCalendar) -> datetime:
    """The summary time of the workday before `now`'s day."""
    today = now.astimezone(settings.tz).date()
    before = calendar.previous_workday(today - timedelta(days=1))
    return datetime.combine(before, settings.summary_time, tzinfo=settings.tz)


def summary_due(now: datetime, settings: Settings, calendar: WorkCalendar) -> bool:
    """True on a workday between summary_time and summary_latest."""
    local = now.astimezone(settings.tz)
    if not calendar.is_workday(local.date()):
        return False
    return settings.summary_time <= local.time().replace(tzinfo=None) < settings.summary_latest


async def send_daily_summaries(
    *,
    now: datetime,
    session: AsyncSession,
    settings: Settings,
    calendar: WorkCalendar,
    register: RegisterCache | None = None,
) -> int:
    """Write today's summaries and 通报 to the outbox; return how many messages were added.

    `register`: the tasks kept in memory, validated here in `session` before use.
    """
    if not summary_due(now, settings, calendar):
        return 0
    tz = settings.tz
    today = now.astimezone(tz).date()
    year = await years.working_year(session, today.year)
    scope = views.Scope(year)
    since = previous_summary(now, settings, calendar)
    leaders = [
        (contact, leader_id, SummaryBuilder(leader=leader, now=now, since=since, tz=tz))
        for contact, leader_id, leader in await views.leader_contacts(session)
        if contact.reachable
    ]
    city = SummaryBuilder(leader=None, now=now, since=since, tz=tz)
    overdue: list[OverdueRow] = []
    # A chunk of tasks at a time: the whole year's boards at once took ~45 MB at 10,000 tasks.
    if register is not None:
        await register.validate(session)
    async for found in views.board_chunks(
        session,
        scope=scope,
        now=now,
        settings=settings,
        calendar=calendar,
        details=False,
        register=register,
    ):
        city.add(found.boards, found.statuses)
        overdue.extend(overdue_rows(found.boards, calendar, today))
        by_leader: dict[int, list[Board]] = defaultdict(list)
        for board in found.boards:
            for leader_id in board.task.leader_ids:
                by_leader[leader_id].append(board)
        for _, leader_id, builder in leaders:
            builder.add(by_leader.get(leader_id, ()), found.statuses)
    if not city.total:
        return 0
    reports = await views.reports_between(session, scope, since, now, limit=5000)
    stamp = today.isoformat()
    added = 0

    for contact, _, builder in leaders:
        if not builder.total:
            continue
        text = texts.summary_text(
            builder.build(reports), tz, limit=settings.summary_items, year=year
        )
        added += await _enqueue(session, f"summary:{contact.id}:{stamp}", contact.chat_id,
                                contact.id, text, now)  # fmt: skip

    city_text = texts.summary_text(city.build(reports), tz, limit=settings.summary_items, year=year)
    for contact in await people.contacts_with_role(session, Role.OFFICE):
        if contact.reachable:
            added += await _enqueue(session, f"summary:{contact.id}:{stamp}", contact.chat_id,
                                    contact.id, city_text, now)  # fmt: skip

    groups = group_overdue(overdue)
    if groups:
        circular = texts.circular(groups, now.astimezone(tz))
        for group in await people.active_groups(session):
            added += await _enqueue(
                session, f"circular:{group.chat_id}:{stamp}", group.chat_id, None, circular, now,
                kind="circular",
            )  # fmt: skip
    return added


async def _enqueue(
    session: AsyncSession,
    key: str,
    chat_id: int,
    contact_id: int | None,
    text: str,
    now: datetime,
    *,
    kind: str = "summary",
) -> int:
    """One summary, split only past Telegram's limit; nothing if today's was already written."""
    added = 0
    for i, part in enumerate(texts.split_message(text)):
        message = await outbox.enqueue(
            session,
            kind=kind,
            chat_id=chat_id,
            contact_id=contact_id,
            text=part,
            now=now,
            key=key if i == 0 else f"{key}:{i + 1}",
        )
        if message is None:
            break  # written by an earlier run: its parts were written with it
        added += 1
    return added
