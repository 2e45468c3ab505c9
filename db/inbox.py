"""The incoming-update inbox: updates are stored here before Telegram is told we have them."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.engine import conflict_insert
from db.models import AppState, InboxUpdate
from db.people import ACCOUNT_COLUMNS, Account, account_from_rows, join_account
from db.years import REGISTER_VERSION


async def store(
    session: AsyncSession, updates: Sequence[tuple[int, dict[str, Any]]], now: datetime
) -> int:
    """Insert updates, ignoring any already stored (a re-delivered update id). Returns new rows."""
    if not updates:
        return 0
    rows = [
        {
            "update_id": uid,
            "payload": payload,
            "sender_id": sender_of(payload),
            "status": "new",
            "attempts": 0,
            "received_at": now,
        }
        for uid, payload in updates
    ]
    # One statement: a row already stored is skipped, and RETURNING lists only the new ones.
    stmt = (
        conflict_insert(session, InboxUpdate)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["update_id"])
        .returning(InboxUpdate.update_id)
    )
    return len((await session.execute(stmt)).all())


@dataclass(frozen=True)
class NewUpdate:
    """A stored update still to be handled, with what its transaction read along with it."""

    payload: dict[str, Any]
    received_at: datetime
    register_version: Any
    sender_id: int | None
    account: Account | None  # the sender's (None without a sender)


# The statements run for every update are built once: building one (its clauses, their
# coercions) cost about as much as running it on SQLite (bench.updates). Reading the update
# reads what every update needs next, in the same round trip: the register's version (checked
# before the register is read, db.register_cache) and the sender's account (one row per
# contact row of theirs, or one row of NULLs).
_NEW_UPDATE = join_account(
    select(
        InboxUpdate.status,
        InboxUpdate.payload,
        InboxUpdate.received_at,
        InboxUpdate.sender_id,
        select(AppState.value)
        .where(AppState.key == REGISTER_VERSION)
        .scalar_subquery()
        .label("register_version"),
        *ACCOUNT_COLUMNS,
    ).where(InboxUpdate.update_id == bindparam("update_id")),
    InboxUpdate.sender_id,
)
_MARK_DONE = (
    update(InboxUpdate)
    .where(InboxUpdate.update_id == bindparam("id"))
    .values(status="done", processed_at=bindparam("now"), error=None)
)
# Where the account's columns (the last ones) start in _NEW_UPDATE's rows.
_ACCOUNT_AT = len(_NEW_UPDATE.selected_columns) - len(ACCOUNT_COLUMNS)


async def new_update(session: AsyncSession, update_id: int) -> NewUpdate | None:
    """The stored update to handle, or None if it is unknown or no longer new."""
    conn = await session.connection()
    rows = (await conn.execute(_NEW_UPDATE, {"update_id": update_id})).all()
    if not rows or rows[0].status != "new":
        return None
    first = rows[0]
    sender = first.sender_id
    found = None
    if sender is not None:
        found = account_from_rows(sender, (row[_ACCOUNT_AT:] for row in rows))
    return NewUpdate(first.payload, first.received_at, first.register_version, sender, found)


async def mark_done(
    session: AsyncSession, update_id: int, now: datetime, payload: dict[str, Any] | None = None
) -> None:
    """Record an update as handled (in the transaction that handled it); `payload` replaces
    the stored update when what it held must not be kept (`without_secrets`)."""
    conn = await session.connection()
    await conn.execute(_MARK_DONE, {"id": update_id, "now": now})
    if payload is not None:
        await conn.execute(
            update(InboxUpdate).where(InboxUpdate.update_id == update_id).values(payload=payload)
        )


_START_WITH_CODE = re.compile(r"^/start(@\w+)?\s+\S+")


def without_secrets(payload: dict[str, Any]) -> dict[str, Any] | None:
    """The update with an invite code (`/start <code>`) blanked, or None if it holds none.

    A handled /start's code is of no use to anyone but whoever reads the database; a refused
    one (burnt while its sender was throttled, handlers.start) would otherwise stay readable.
    """
    message = payload.get("message")
    if not isinstance(message, dict):
        return None
    text = message.get("text")
    if not isinstance(text, str) or not _START_WITH_CODE.match(text):
        return None
    return {**payload, "message": {**message, "text": "/start <code removed>", "entities": []}}


def sender_of(payload: dict[str, Any]) -> int | None:
    """The person an update comes from (None for a channel post and the like)."""
    for body in payload.values():
        if isinstance(body, dict):
            user = body.get("from")
            if isinstance(user, dict) and isinstance(user.get("id"), int):
                return int(user["id"])
    return None


async def pending(session: AsyncSession, now: datetime, limit: int = 100) -> list[int]:
    """Ids of updates due to be handled, oldest first (see `due`)."""
    return [update_id for update_id, _ in await due(session, now, limit)]


PER_SENDER = 4  # a person's updates in one batch of `due`


async def due(
    session: AsyncSession, now: datetime, limit: int = 100
) -> list[tuple[int, int | None]]:
    """Updates due to be handled (id, sender), oldest first, each person's in the order sent.

    While one of a person's updates waits for a retry, their later ones wait behind it: handled
    first, they would be overtaken by the retry (a retried /report reopening a conversation the
    person has moved on in). Other people are not held back.
    """
    postponed = (
        await session.execute(
            select(InboxUpdate.update_id, InboxUpdate.sender_id).where(
                InboxUpdate.status == "new", InboxUpdate.next_attempt_at > now
            )
        )
    ).all()
    held: dict[int, int] = {}  # person -> their oldest postponed update
    for update_id, person in postponed:
        if person is not None:
            held[person] = min(held.get(person, update_id), update_id)
    ready = (InboxUpdate.status == "new") & or_(
        InboxUpdate.next_attempt_at.is_(None), InboxUpdate.next_attempt_at <= now
    )
    # At most PER_SENDER of a person's updates per batch: a flood by one person fills no batch,
    # so everyone else's updates are in the next one (the pump then takes turns).
    turn = (
        func.row_number()
        .over(
            partition_by=func.coalesce(InboxUpdate.sender_id, -InboxUpdate.update_id),
            order_by=InboxUpdate.update_id,
        )
        .label("turn")
    )
    capped = select(InboxUpdate.update_id, InboxUpdate.sender_id, turn).where(ready).subquery()
    rows_of = select(capped.c.update_id, capped.c.sender_id).where(capped.c.turn <= PER_SENDER)
    if not held:
        rows = await session.execute(rows_of.order_by(capped.c.update_id).limit(limit))
        return [(update_id, person) for update_id, person in rows.all()]
    out: list[tuple[int, int | None]] = []
    after = -1
    while len(out) < limit:
        chunk = (
            await session.execute(
                rows_of.where(capped.c.update_id > after).order_by(capped.c.update_id).limit(limit)
            )
        ).all()
        for update_id, person in chunk:
            if person is None or update_id < held.get(person, update_id + 1):
                out.append((update_id, person))
        if len(chunk) < limit:
            break
        after = chunk[-1][0]
    return out[:limit]


async def waiting_senders(session: AsyncSession) -> set[int]:
    """The people with updates stored but not yet handled (due, or waiting for a retry)."""
    rows = await session.scalars(
        select(InboxUpdate.sender_id)
        .where(InboxUpdate.status == "new", InboxUpdate.sender_id.is_not(None))
        .distinct()
    )
    return {p for p in rows.all() if p is not None}


async def highest_id(session: AsyncSession) -> int | None:
    """The newest update id ever stored (to resume getUpdates after it)."""
    return await session.scalar(
        select(InboxUpdate.update_id).order_by(InboxUpdate.update_id.desc()).limit(1)
    )


async def purge_done(session: AsyncSession, older_than: datetime) -> int:
    """Forget updates handled (or given up) before `older_than`; the newest row is always
    kept, since getUpdates resumes after it."""
    newest = await highest_id(session)
    result = await session.execute(
        delete(InboxUpdate).where(
            InboxUpdate.status.in_(("done", "failed")),
            func.coalesce(InboxUpdate.processed_at, InboxUpdate.received_at) < older_than,
            InboxUpdate.update_id != (newest or -1),
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


def backoff(attempts: int) -> timedelta:
    """Delay before retrying an update whose handling failed for a transient reason."""
    return timedelta(seconds=min(300, 2 ** min(attempts, 8)))
