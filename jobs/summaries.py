"""The daily summaries: each leader's, the office's city-wide one, and the work group's 通报.

Written to the outbox under one key per recipient and local day, so a restart or a second run
never sends twice. Sent on workdays only (the statutory calendar with its make-up workdays),
from `summary_time` until `summary_latest` (a run missed while the bot was down is caught up
within that window, not in the evening). "Since the last summary" means since the previous
workday's summary time; which lights changed is since the last digest the person got (kept in
``db.digests``). Reports overdue `escalate_after_workdays` are folded into the office's
and each leader's digest (unless `escalation_messages`). The group gets the 通报 on the days
`circular_due` names, and only when something is overdue.

With `digest_charts`, each digest is followed by its chart, a photo of its own in the outbox
(kind "chart", the PNG kept in the row as a document is, so a restart sends exactly what was
planned): one text and one picture a morning. Not the digest's caption: a caption holds 1,024
characters, a digest up to 4,096. The charts are drawn (bot.charts, another process) before
anything is written, only for the digests not written yet today.
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
from bot.domain.summaries import Summary, circular_due, previous_summary, summary_due
from bot.domain.workcal import WorkCalendar
from bot.services.summaries import build_summaries, digest_charts, remember_digest
from db import digests, outbox, people, views, years
from db.models import Contact
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
        with_charts=settings.digest_charts,
    )
    if built.city is None:
        return 0
    stamp = today.isoformat()
    added = 0
    office = [c for c in await people.contacts_with_role(session, Role.OFFICE) if c.reachable]
    pictures: dict[str, bytes] = {}
    if settings.digest_charts:
        pictures = await _charts(session, built.city, built.leaders, contacts, office, stamp)

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
        key = f"summary:{contact.id}:{stamp}"
        written = await _enqueue(session, key, contact.chat_id, contact.id, text, now)
        added += written
        if written:
            picture = pictures.get(digests.leader_key(leader_id))
            added += await _enqueue_chart(session, key, contact, summary, picture, now)
        await remember_digest(session, built, digests.leader_key(leader_id), summary, now)

    city_text = texts.summary_text(built.city, tz, limit=settings.summary_items, year=year,
                                   escalated=escalated, escalate_after=threshold)  # fmt: skip
    for contact in office:
        key = f"summary:{contact.id}:{stamp}"
        written = await _enqueue(session, key, contact.chat_id, contact.id, city_text, now)
        added += written
        if written:
            picture = pictures.get(digests.CITY)
            added += await _enqueue_chart(session, key, contact, built.city, picture, now)
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


async def _charts(
    session: AsyncSession,
    city: Summary,
    leaders: dict[int, Summary],
    contacts: Sequence[tuple[Contact, int, str]],
    office: Sequence[Contact],
    stamp: str,
) -> dict[str, bytes]:
    """The charts of the digests not yet written today (by digest key), drawn at once. A
    digest written without its chart (charts off, or the renderer failed) gets none later:
    a picture hours after its text would read as a message of its own."""
    fresh = await outbox.unused_keys(
        session, [f"summary:{c.id}:{stamp}" for c in [*(c for c, _, _ in contacts), *office]]
    )
    wanted: dict[str, Summary] = {}
    for contact, leader_id, _ in contacts:
        if f"summary:{contact.id}:{stamp}" in fresh and leader_id in leaders:
            wanted[digests.leader_key(leader_id)] = leaders[leader_id]
    if any(f"summary:{c.id}:{stamp}" in fresh for c in office):
        wanted[digests.CITY] = city
    return await digest_charts(wanted) if wanted else {}


async def _enqueue_chart(
    session: AsyncSession,
    key: str,
    contact: Contact,
    summary: Summary,
    png: bytes | None,
    now: datetime,
) -> int:
    """The digest's chart, right after its text (nothing without a picture, or if written)."""
    if png is None:
        return 0
    message = await outbox.enqueue(
        session,
        kind="chart",
        chat_id=contact.chat_id,
        contact_id=contact.id,
        text=texts.chart_caption(summary.leader, summary.day),
        now=now,
        key=f"{key}:chart",
        document={"hex": png.hex(), "filename": "chart.png", "photo": True},
    )
    return 0 if message is None else 1


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
