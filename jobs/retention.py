"""Retention: what the bot keeps, and for how long (settings KEEP_*_DAYS), run once a day.

Handled updates are kept a month (they are the record of what people sent, and each was
handled in one transaction), delivered messages half a year (their keys guard against a second
send while their cycles can still be chased), the audit log two years. Reports, nudges, invites
and contacts are the supervision's record and are kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from db import inbox, outbox, people


@dataclass(frozen=True)
class Purged:
    """How many rows each table lost."""

    inbox: int
    outbox: int
    audit: int


async def purge_old(*, now: datetime, session: AsyncSession, settings: Settings) -> Purged:
    """Delete what is older than its retention period."""
    return Purged(
        inbox=await inbox.purge_done(session, now - timedelta(days=settings.keep_inbox_days)),
        outbox=await outbox.purge_finished(
            session, now - timedelta(days=settings.keep_outbox_days)
        ),
        audit=await people.purge_audit(session, now - timedelta(days=settings.keep_audit_days)),
    )
