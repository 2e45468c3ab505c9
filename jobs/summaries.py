"""The daily summaries: each leader's, the office's city-wide one, and the work group's 通报.

Written to the outbox under one key per recipient and local day, so a restart or a second run
never sends twice. Sent on workdays only (the statutory calendar with its make-up workdays),
from `summary_time` until `summary_latest` (a run missed while the bot was down is caught up
within that window, not in the evening). "Since the last summary" means since the previous
workday's summary time; which lights changed is since the last digest the person got (kept in
``db.digests``). Reports overdue `escalate_after_workdays` are folded into the office's
and each leader's digest (unless `escalation_messages`). The group gets the 通报 on the days
`circular_due` names, and only when something is overdue.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts
from bot.config import Settings
from bot.domain.deadlines import rule_for, year_cycles
from bot.domain.model import MONTHLY
from bot.domain.overdue import OverdueGroup, overdue_group, unit_order
from bot.domain.roles import Role
from bot.domain.summaries import circular_due, previous_summary, summary_due
from bot.domain.workcal import WorkCalendar
from bot.services.summaries import build_summaries, remember_digest
from db import digests, outbox, people, views, years
from db.register_cache import RegisterCache


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
    if register is not None:
        await register.validate(session)
    contacts = [c for c in await views.leader_contacts(session) if c[0].reachable]
    built = await build_summaries(
        session,
        scope=scope,
        leaders=sorted({(leader_id, name) for _, leader_id, name in contacts}),
        city=True,
        overdue=True,
        now=now,
        since=since,
        settings=settings,
        calendar=calendar,
        register=register,
        compare="digest",
    )
    if built.city is None:
        return 0
    stamp = today.isoformat()
    added = 0

    # Escalations are in the digest unless they go as messages of their own (jobs.reminders).
    threshold = settings.escalate_after_workdays
    escalated = [] if settings.escalation_messages else _escalated(built.overdue, threshold)
    for contact, leader_id, _ in contacts:
        summary = built.leaders.get(leader_id)
        if summary is None:
            continue
        mine = _escalated(escalated, threshold, leader_id)
        text = texts.summary_text(summary, tz, limit=settings.summary_items, year=year,
                                  escalated=mine, escalate_after=threshold)  # fmt: skip
        added += await _enqueue(session, f"summary:{contact.id}:{stamp}", contact.chat_id,
                                contact.id, text, now)  # fmt: skip
        await remember_digest(session, built, digests.leader_key(leader_id), summary, now)

    city_text = texts.summary_text(built.city, tz, limit=settings.summary_items, year=year,
                                   escalated=escalated, escalate_after=threshold)  # fmt: skip
    office = [c for c in await people.contacts_with_role(session, Role.OFFICE) if c.reachable]
    for contact in office:
        added += await _enqueue(session, f"summary:{contact.id}:{stamp}", contact.chat_id,
                                contact.id, city_text, now)  # fmt: skip
    if office:
        await remember_digest(session, built, digests.CITY, built.city, now)

    groups = built.overdue
    cycles = year_cycles(rule_for(MONTHLY, (), settings), year, settings, calendar)
    if groups and circular_due(today, settings, calendar, [c.deadline for c in cycles]):
        circular = texts.circular(groups, now.astimezone(tz))
        for group in await people.active_groups(session):
            added += await _enqueue(
                session, f"circular:{group.chat_id}:{stamp}", group.chat_id, None, circular, now,
                kind="circular",
            )  # fmt: skip
    return added


def _escalated(
    groups: Sequence[OverdueGroup], threshold: int, leader_id: int | None = None
) -> list[OverdueGroup]:
    """The units' rows overdue `threshold` workdays or more (of one leader's tasks), worst
    unit first."""
    out = []
    for g in groups:
        rows = [
            r
            for r in g.rows
            if r.workdays >= threshold and (leader_id is None or leader_id in r.leader_ids)
        ]
        if rows:
            out.append(overdue_group(g.unit_id, g.unit, rows))
    out.sort(key=lambda g: unit_order(g.worst, len(g.rows), g.unit))
    return out


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
