"""Close report conversations left idle: tell the person politely, store nothing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts
from db import inbox, outbox, progress


async def expire_drafts(*, now: datetime, session: AsyncSession) -> int:
    """Drop drafts past their time and queue one notice each; return how many."""
    expired = await progress.expired_drafts(session, now)
    # A person whose update still waits in the inbox (Telegram trouble, retried) may have
    # answered in time: that update decides, by when it arrived.
    waiting = await inbox.waiting_senders(session) if expired else set()
    expired = [d for d in expired if d.tg_user_id not in waiting]
    for draft in expired:
        await outbox.enqueue(
            session,
            kind="notice",
            chat_id=draft.chat_id,
            contact_id=draft.contact_id,
            text=texts.DRAFT_TIMEOUT,
            now=now,
            key=f"draft-timeout:{draft.token}",
        )
        await progress.drop_draft(session, draft)
    return len(expired)
