"""Retention (jobs.retention): old handled updates, finished messages and audit entries go;
what is recent, pending, or the newest update stays (issue 19, finding 2). Both databases."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from db.models import AuditEntry, Contact, InboxUpdate, OutboxItem, OutboxMessage
from jobs.retention import purge_old
from tests.harness import import_seed
from tests.test_nudge_once import _bind_liaison
from tests.test_views import _ids

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 1, 3, 30, tzinfo=SH)
SETTINGS = Settings(_env_file=None, bot_token="1:x")
Maker = async_sessionmaker[AsyncSession]


async def test_old_rows_go_and_the_rest_stays(sessionmaker: Maker) -> None:
    await import_seed(sessionmaker, datetime(2026, 3, 16, tzinfo=SH))
    old, recent = NOW - timedelta(days=400), NOW - timedelta(days=5)
    ancient = NOW - timedelta(days=800)
    await _bind_liaison(sessionmaker, "发改局")
    async with sessionmaker() as s, s.begin():
        tasks, units = await _ids(s)
        contact = await s.scalar(select(Contact.id))
        s.add_all(
            [
                InboxUpdate(update_id=1, payload={}, status="done", received_at=old,
                            processed_at=old),
                InboxUpdate(update_id=2, payload={}, status="failed", received_at=old),
                InboxUpdate(update_id=3, payload={}, status="new", received_at=old),
                InboxUpdate(update_id=4, payload={}, status="done", received_at=recent,
                            processed_at=recent),
                InboxUpdate(update_id=5, payload={}, status="done", received_at=old,
                            processed_at=old),  # the newest: getUpdates resumes after it
            ]
        )  # fmt: skip
        for n, (status, at) in enumerate(
            [("sent", old), ("failed", old), ("pending", old), ("sent", recent)]
        ):
            message = OutboxMessage(
                dedup_key=f"k{n}", kind="reminder", chat_id=1, text="t", status=status,
                next_attempt_at=at, created_at=at,
            )  # fmt: skip
            s.add(message)
            await s.flush()
            s.add(
                OutboxItem(
                    outbox_id=message.id,
                    task_id=tasks[6],
                    unit_id=units["发改局"],
                    cycle_key="2025-03",
                    step=f"due-{n}",
                    contact_id=contact,
                )
            )
        s.add_all(
            [
                AuditEntry(at=ancient, actor_user_id=1, action="export"),
                AuditEntry(at=old, actor_user_id=1, action="export"),
            ]
        )
    async with sessionmaker() as s, s.begin():
        purged = await purge_old(now=NOW, session=s, settings=SETTINGS)
    assert (purged.inbox, purged.outbox, purged.audit) == (2, 2, 1)
    async with sessionmaker() as s:
        kept = sorted((await s.scalars(select(InboxUpdate.update_id))).all())
        statuses = sorted((await s.scalars(select(OutboxMessage.status))).all())
        items = await s.scalar(select(func.count()).select_from(OutboxItem))
        audit = await s.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "export")
        )
    assert kept == [3, 4, 5]
    assert statuses == ["pending", "sent"] and items == 2
    assert audit == 1
