"""The durable outbox: what is due is written here under unique keys; a sender delivers it."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from bot.domain.redaction import redact
from db.engine import conflict_insert
from db.models import OutboxItem, OutboxMessage

PENDING = "pending"
SENT = "sent"
FAILED = "failed"
CANCELLED = "cancelled"


@dataclass(frozen=True)
class ItemKey:
    """What one message is about, for one recipient: unique across all time."""

    task_id: int
    unit_id: int
    cycle_key: str
    step: str
    contact_id: int


def dedup_key(kind: str, chat_id: int, parts: Iterable[str]) -> str:
    """A stable key for a message from what it covers."""
    digest = hashlib.sha256("|".join(sorted(parts)).encode("utf-8")).hexdigest()[:32]
    return f"{kind}:{chat_id}:{digest}"


def line_meta(line: dict[str, Any], task_id: int, unit_id: int) -> dict[str, Any]:
    """A reminder line as stored in a message's meta, with the obligation it is about."""
    return {**line, "task_id": task_id, "unit_id": unit_id}


def line_ref(line: dict[str, Any]) -> tuple[int, int] | None:
    """The (task id, unit id) a stored reminder line is about, if it says so."""
    task_id, unit_id = line.get("task_id"), line.get("unit_id")
    if isinstance(task_id, int) and isinstance(unit_id, int):
        return task_id, unit_id
    return None


async def sent_steps(
    session: AsyncSession, task_ids: Sequence[int], *, cycle_keys: Sequence[str] | None = None
) -> dict[tuple[int, int, str, int], set[str]]:
    """Step keys already enqueued per (task, unit, cycle, recipient contact).

    `cycle_keys` limits the answer to the cycles the caller is about to look at, so the
    query does not grow with the year's history.
    """
    out: dict[tuple[int, int, str, int], set[str]] = defaultdict(set)
    if not task_ids:
        return out
    query = select(
        OutboxItem.task_id,
        OutboxItem.unit_id,
        OutboxItem.cycle_key,
        OutboxItem.contact_id,
        OutboxItem.step,
    ).where(OutboxItem.task_id.in_(task_ids))
    if cycle_keys is not None:
        if not cycle_keys:
            return out
        query = query.where(OutboxItem.cycle_key.in_(cycle_keys))
    rows = (await session.execute(query)).all()
    for task_id, unit_id, cycle_key, contact_id, step in rows:
        out[(task_id, unit_id, cycle_key, contact_id)].add(step)
    return out


async def enqueue(
    session: AsyncSession,
    *,
    kind: str,
    chat_id: int,
    contact_id: int | None,
    text: str,
    now: datetime,
    items: Sequence[ItemKey] = (),
    key: str | None = None,
    reply_markup: dict[str, Any] | None = None,
    document: dict[str, Any] | None = None,
    meta: dict[str, Any] | None = None,
) -> int | None:
    """Write one message (and the items it covers); its id, None if its key was already used.

    Core inserts, not ORM objects: the planner writes thousands of messages and tens of
    thousands of items in one transaction, and objects kept in the session until the commit
    cost ~15 MB and a flush each at 10,000 tasks.
    """
    dedup = key or dedup_key(
        kind,
        chat_id,
        [f"{i.task_id}/{i.unit_id}/{i.cycle_key}/{i.step}/{i.contact_id}" for i in items],
    )
    # One statement decides: a key already used (also by a transaction committing meanwhile,
    # e.g. a job or another person's update beside this one) inserts nothing and returns no row.
    message_id: int | None = (
        await session.execute(
            conflict_insert(session, OutboxMessage)
            .values(
                dedup_key=dedup,
                kind=kind,
                chat_id=chat_id,
                contact_id=contact_id,
                text=text,
                reply_markup=reply_markup,
                document=document,
                meta=meta,
                status=PENDING,
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
            .on_conflict_do_nothing(index_elements=["dedup_key"])
            .returning(OutboxMessage.id)
        )
    ).scalar_one_or_none()
    if message_id is None:
        return None
    await _insert_items(session, message_id, items)
    return message_id


async def unused_keys(session: AsyncSession, keys: Sequence[str]) -> set[str]:
    """Those of `keys` no message was written under yet."""
    if not keys:
        return set()
    used = await session.scalars(
        select(OutboxMessage.dedup_key).where(OutboxMessage.dedup_key.in_(keys))
    )
    return set(keys) - set(used.all())


async def _insert_items(session: AsyncSession, message_id: int, items: Sequence[ItemKey]) -> None:
    """The items a message covers."""
    if items:
        await session.execute(
            insert(OutboxItem),
            [
                {
                    "outbox_id": message_id,
                    "task_id": i.task_id,
                    "unit_id": i.unit_id,
                    "cycle_key": i.cycle_key,
                    "step": i.step,
                    "contact_id": i.contact_id,
                }
                for i in items
            ],
        )


@dataclass(frozen=True, slots=True)
class Due:
    """A pending message, as the sender reads it (plain values, not an ORM object: a batch is
    500 of them, read every second or so while a fan-out runs)."""

    id: int
    chat_id: int
    kind: str
    text: str
    reply_markup: dict[str, Any] | None
    document: dict[str, Any] | None
    meta: dict[str, Any] | None
    attempts: int
    created_at: datetime


_DUE = (
    select(
        OutboxMessage.id,
        OutboxMessage.chat_id,
        OutboxMessage.kind,
        OutboxMessage.text,
        OutboxMessage.reply_markup,
        OutboxMessage.document,
        OutboxMessage.meta,
        OutboxMessage.attempts,
        OutboxMessage.created_at,
    )
    .where(
        OutboxMessage.status == PENDING,
        OutboxMessage.next_attempt_at <= bindparam("now"),
        OutboxMessage.id > bindparam("after"),
    )
    .order_by(OutboxMessage.id)
    .limit(bindparam("limit"))
)


async def due_messages(
    session: AsyncSession, now: datetime, limit: int, *, after: int = 0
) -> list[Due]:
    """Pending messages whose time has come, oldest first; those after id `after` only (the
    sender reads a run's next batch while the current one is still being sent)."""
    rows = await session.execute(_DUE, {"now": now, "limit": limit, "after": after})
    return [Due(*row) for row in rows.all()]


async def items_of(session: AsyncSession, outbox_ids: Sequence[int]) -> dict[int, list[ItemKey]]:
    """The items of some messages (plain values: the sender checks a chunk before each second
    of sending, and ORM objects for them were a tenth of its CPU at 100x in bench.fanout)."""
    out: dict[int, list[ItemKey]] = defaultdict(list)
    if not outbox_ids:
        return out
    rows = await session.execute(
        select(
            OutboxItem.outbox_id,
            OutboxItem.task_id,
            OutboxItem.unit_id,
            OutboxItem.cycle_key,
            OutboxItem.step,
            OutboxItem.contact_id,
        )
        .where(OutboxItem.outbox_id.in_(outbox_ids))
        .order_by(OutboxItem.id)
    )
    for outbox_id, task_id, unit_id, cycle_key, step, contact_id in rows.all():
        out[outbox_id].append(ItemKey(task_id, unit_id, cycle_key, step, contact_id))
    return out


# Core updates on the table: the ORM's bulk-update machinery (synchronising the session's
# objects) costs more CPU than the statement itself, once per message sent.
_MESSAGES = cast(Table, OutboxMessage.__table__)


async def mark(session: AsyncSession, message_id: int, **values: Any) -> None:
    """Update one message's delivery state (a stored error never holds a secret)."""
    if values.get("last_error") is not None:
        values["last_error"] = redact(str(values["last_error"]))[:2000]
    await session.execute(update(_MESSAGES).where(_MESSAGES.c.id == message_id).values(**values))


async def purge_finished(session: AsyncSession, older_than: datetime) -> int:
    """Forget messages sent (or given up) and written before `older_than`, with their items.

    Their items' keys stop guarding against a second send, which is safe once the cycles they
    name are long past chasing (the retention setting is months, the chase is a cycle)."""
    old = select(_MESSAGES.c.id).where(
        _MESSAGES.c.status.in_((SENT, FAILED)), _MESSAGES.c.created_at < older_than
    )
    await session.execute(delete(OutboxItem).where(OutboxItem.outbox_id.in_(old)))
    result = await session.execute(delete(_MESSAGES).where(_MESSAGES.c.id.in_(old)))
    return int(getattr(result, "rowcount", 0) or 0)


@dataclass(frozen=True)
class Delivered:
    """A message Telegram accepted: what `mark_delivered` records for it."""

    message_id: int
    sent_at: datetime
    tg_message_id: int
    attempts: int
    text: str  # as sent (re-rendered at send time)


_MARK_DELIVERED = (
    update(_MESSAGES)
    .where(_MESSAGES.c.id == bindparam("mid"))
    .values(
        status=SENT,
        sent_at=bindparam("at"),
        tg_message_id=bindparam("tg"),
        attempts=bindparam("n"),
        text=bindparam("body"),
    )
)


async def mark_delivered(conn: AsyncConnection, delivered: Sequence[Delivered]) -> None:
    """Record messages as sent, all in one statement execution (executemany)."""
    if not delivered:
        return
    await conn.execute(
        _MARK_DELIVERED,
        [
            {"mid": d.message_id, "at": d.sent_at, "tg": d.tg_message_id, "n": d.attempts,
             "body": d.text}
            for d in delivered
        ],
    )  # fmt: skip


async def mark_many(session: AsyncSession, message_ids: Sequence[int], **values: Any) -> None:
    """Update several messages' delivery state alike."""
    if message_ids:
        await session.execute(
            update(_MESSAGES).where(_MESSAGES.c.id.in_(message_ids)).values(**values)
        )


async def tasks_of_message(session: AsyncSession, *, chat_id: int, message_id: int) -> list[int]:
    """The tasks a delivered message (a reminder, a nudge) was about, by its Telegram id; a
    reminder's 签收 request added to it (items of `cycle_key` "ack") counts only if it is all
    the message was about."""
    rows = (
        await session.execute(
            select(OutboxItem.task_id, OutboxItem.cycle_key)
            .join(OutboxMessage, OutboxMessage.id == OutboxItem.outbox_id)
            .where(OutboxMessage.chat_id == chat_id, OutboxMessage.tg_message_id == message_id)
            .distinct()
        )
    ).all()
    reports = {t for t, key in rows if key != ACK_CYCLE}
    return sorted(reports or {t for t, _ in rows})


ACK_CYCLE = "ack"  # the cycle key of a 签收 request's items (jobs.acknowledge)


async def add_to_pending(
    session: AsyncSession,
    *,
    chat_id: int,
    kind: str,
    since: datetime,
    text: str,
    reply_markup: dict[str, Any],
    items: Sequence[ItemKey],
    limit: int = 4096,
) -> bool:
    """Add `text` (after a blank line), a keyboard and `items` to the chat's latest message of
    `kind` written since `since` and not sent yet, if its text stays within `limit`; False if
    there is none (or it would not fit), for the caller to send a message of its own."""
    row = (
        await session.execute(
            select(OutboxMessage.id, OutboxMessage.text, OutboxMessage.reply_markup)
            .where(
                OutboxMessage.chat_id == chat_id,
                OutboxMessage.kind == kind,
                OutboxMessage.status == PENDING,
                OutboxMessage.created_at >= since,
            )
            .order_by(OutboxMessage.id.desc())
            .limit(1)
        )
    ).first()
    if row is None or row.reply_markup is not None or len(row.text) + len(text) + 2 > limit:
        return False
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row.id)
        .values(text=f"{row.text}\n\n{text}", reply_markup=reply_markup)
    )
    await _insert_items(session, row.id, items)
    return True
