"""Deliver the outbox within Telegram's limits; every message at most once but for a crash.

Each message is sent, then marked sent in its own transaction, so a crash can at worst repeat
the messages in flight at that moment. Pacing is our own (not AIORateLimiter's): an overall
rate, one message per private chat per interval (which AIORateLimiter does not enforce), and a
per-group budget per minute. 429 → wait `retry_after`; 5xx and timeouts → back off, bounded;
403 → the contact is marked unreachable and the office is told which unit cannot be reached.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Bot, InlineKeyboardMarkup, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot import texts
from bot.clock import Clock
from bot.config import Settings
from bot.roles import ROLE_LABELS, Role
from db import outbox, people, progress
from db.models import OutboxItem, OutboxMessage, Unit

log = logging.getLogger(__name__)

STALE_KINDS = frozenset({"reminder"})  # superseded by the next day's catch-up
CHECKED_KINDS = frozenset({"reminder", "escalation", "nudge"})  # dropped once reported


class RateGate:
    """Hands out send slots: an overall rate, per private chat spacing, per group budget."""

    def __init__(
        self,
        rate: float,
        private_interval: float,
        group_per_minute: int,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval = 1.0 / rate
        self.private_interval = private_interval
        self.group_per_minute = group_per_minute
        self.monotonic = monotonic
        self._next = 0.0
        self._chat_free: dict[int, float] = {}
        self._group_sent: dict[int, deque[float]] = {}

    def chat_free_at(self, chat_id: int) -> float:
        """When this chat may receive its next message."""
        if chat_id > 0:
            return self._chat_free.get(chat_id, 0.0)
        sent = self._group_sent.get(chat_id)
        if sent is None or len(sent) < self.group_per_minute:
            return 0.0
        return sent[0] + 60.0

    def pause_chat(self, chat_id: int, seconds: float) -> None:
        """Telegram asked us to wait for this chat."""
        until = self.monotonic() + seconds
        if chat_id > 0:
            self._chat_free[chat_id] = max(self._chat_free.get(chat_id, 0.0), until)
        else:
            sent = self._group_sent.setdefault(chat_id, deque())
            sent.extend([until - 60.0] * self.group_per_minute)
            while len(sent) > self.group_per_minute:
                sent.popleft()

    async def take(self, chat_id: int) -> None:
        """Wait for the next overall slot and book the chat (call only when the chat is free)."""
        now = self.monotonic()
        slot = max(now, self._next)
        self._next = slot + self.interval
        if chat_id > 0:
            self._chat_free[chat_id] = slot + self.private_interval
        else:
            sent = self._group_sent.setdefault(chat_id, deque())
            sent.append(slot)
            while len(sent) > self.group_per_minute:
                sent.popleft()
        if slot > now:
            await asyncio.sleep(slot - now)


@dataclass
class DeliveryStats:
    """What one delivery run did."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    cancelled: int = 0
    unreachable: int = 0
    errors: list[str] = field(default_factory=list)


class OutboxSender:
    """Sends due outbox messages with a bounded number of concurrent requests."""

    def __init__(
        self,
        bot: Bot,
        sessionmaker: async_sessionmaker[AsyncSession],
        clock: Clock,
        settings: Settings,
        *,
        gate: RateGate | None = None,
    ) -> None:
        self.bot = bot
        self.sessionmaker = sessionmaker
        self.clock = clock
        self.settings = settings
        self.gate = gate or RateGate(
            settings.send_rate_per_second,
            settings.send_private_interval,
            settings.send_group_per_minute,
        )
        self.wake = asyncio.Event()

    async def run_once(self, batch: int = 500) -> DeliveryStats:
        """Deliver everything due now (in batches) and return what happened."""
        stats = DeliveryStats()
        while True:
            async with self.sessionmaker() as session:
                rows = await outbox.due_messages(session, self.clock.now(), batch)
            if not rows:
                return stats
            await self._dispatch(rows, stats)
            if len(rows) < batch:
                return stats

    async def run_forever(self, stop: asyncio.Event, idle: float = 1.0) -> None:
        """Deliver as messages fall due, until `stop` is set."""
        while not stop.is_set():
            self.wake.clear()
            try:
                await self.run_once()
            except Exception:
                log.exception("outbox delivery run failed")
            try:
                await asyncio.wait_for(self.wake.wait(), timeout=idle)
            except TimeoutError:
                continue

    async def _dispatch(self, rows: list[OutboxMessage], stats: DeliveryStats) -> None:
        """Send rows in order, skipping ahead past chats that must wait."""
        pending = deque(rows)
        workers = asyncio.Semaphore(self.settings.send_concurrency)
        running: set[asyncio.Task[None]] = set()
        while pending:
            now = self.gate.monotonic()
            index = next(
                (i for i, r in enumerate(pending) if self.gate.chat_free_at(r.chat_id) <= now),
                None,
            )
            if index is None:
                wait = min(self.gate.chat_free_at(r.chat_id) for r in pending) - now
                await asyncio.sleep(max(wait, 0.001))
                continue
            row = pending[index]
            del pending[index]
            await workers.acquire()
            await self.gate.take(row.chat_id)
            task = asyncio.create_task(self._deliver_released(row, stats, workers))
            running.add(task)
            task.add_done_callback(running.discard)
        if running:
            await asyncio.gather(*running)

    async def _deliver_released(
        self, row: OutboxMessage, stats: DeliveryStats, workers: asyncio.Semaphore
    ) -> None:
        try:
            await self._deliver(row, stats)
        finally:
            workers.release()

    async def _deliver(self, row: OutboxMessage, stats: DeliveryStats) -> None:
        """Send one message and record the outcome in its own transaction."""
        text = await self._current_text(row)
        if text is None:
            async with self.sessionmaker() as session, session.begin():
                await outbox.mark(session, row.id, status=outbox.CANCELLED)
            stats.cancelled += 1
            return
        try:
            sent = await self._send(row, text)
        except RetryAfter as exc:
            seconds = _seconds(exc.retry_after)
            self.gate.pause_chat(row.chat_id, seconds)
            await self._retry(row, seconds, repr(exc), count=False)
            stats.retried += 1
            return
        except Forbidden as exc:
            await self._unreachable(row, repr(exc))
            stats.unreachable += 1
            return
        except BadRequest as exc:
            if "chat not found" in str(exc).lower():
                await self._unreachable(row, repr(exc))
                stats.unreachable += 1
                return
            log.error("outbox message %s refused by Telegram: %s", row.id, exc)
            async with self.sessionmaker() as session, session.begin():
                await outbox.mark(
                    session,
                    row.id,
                    status=outbox.FAILED,
                    attempts=row.attempts + 1,
                    last_error=repr(exc)[:2000],
                )
            stats.failed += 1
            stats.errors.append(str(exc))
            return
        except (TimedOut, NetworkError) as exc:
            # A timeout may hide a delivered message (the response was lost): retrying can
            # repeat it, never lose it.
            if row.attempts + 1 >= self.settings.send_max_attempts:
                async with self.sessionmaker() as session, session.begin():
                    await outbox.mark(
                        session,
                        row.id,
                        status=outbox.FAILED,
                        attempts=row.attempts + 1,
                        last_error=repr(exc)[:2000],
                    )
                stats.failed += 1
                return
            await self._retry(row, min(300.0, 2.0 ** (row.attempts + 1)), repr(exc), count=True)
            stats.retried += 1
            return
        async with self.sessionmaker() as session, session.begin():
            await outbox.mark(
                session,
                row.id,
                status=outbox.SENT,
                sent_at=self.clock.now(),
                tg_message_id=sent,
                attempts=row.attempts + 1,
                text=text,
            )
        stats.sent += 1

    async def _send(self, row: OutboxMessage, text: str) -> int:
        markup = (
            InlineKeyboardMarkup.de_json(row.reply_markup, self.bot) if row.reply_markup else None
        )
        if row.document:
            message = await self.bot.send_document(
                row.chat_id,
                document=bytes.fromhex(str(row.document["hex"])),
                filename=str(row.document["filename"]),
                caption=text,
                parse_mode=ParseMode.HTML,
            )
        else:
            message = await self.bot.send_message(
                row.chat_id,
                text,
                parse_mode=ParseMode.HTML,
                reply_markup=markup,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        return message.message_id

    async def _retry(self, row: OutboxMessage, seconds: float, error: str, *, count: bool) -> None:
        async with self.sessionmaker() as session, session.begin():
            await outbox.mark(
                session,
                row.id,
                attempts=row.attempts + (1 if count else 0),
                next_attempt_at=self.clock.now() + timedelta(seconds=seconds),
                last_error=error[:2000],
            )

    async def _current_text(self, row: OutboxMessage) -> str | None:
        """The text to send now, or None if the message no longer applies."""
        if row.kind not in CHECKED_KINDS or not row.meta:
            return row.text
        now = self.clock.now()
        tz = self.settings.tz
        if (
            row.kind in STALE_KINDS
            and row.created_at.astimezone(tz).date() < now.astimezone(tz).date()
        ):
            return None  # the planner's catch-up sends today's step instead
        async with self.sessionmaker() as session:
            items = (
                await session.scalars(
                    select(OutboxItem).where(OutboxItem.outbox_id == row.id).order_by(OutboxItem.id)
                )
            ).all()
            keys = await progress.reported_keys(session, {(i.task_id, i.unit_id) for i in items})
        open_items = [i for i in items if i.cycle_key not in keys[(i.task_id, i.unit_id)]]
        if not open_items:
            return None
        if len(open_items) == len(items):
            return row.text
        lines = [texts.line_from_json(x) for x in row.meta.get("lines", [])]
        still = {(i.cycle_key, i.task_id, i.unit_id) for i in open_items}
        # Lines and items were written in the same order.
        kept = [
            line
            for line, item in zip(lines, items, strict=True)
            if (item.cycle_key, item.task_id, item.unit_id) in still
        ]
        if not kept:
            return None
        render = texts.escalation if row.kind == "escalation" else texts.reminder
        return render(kept)[0][0]

    async def _unreachable(self, row: OutboxMessage, error: str) -> None:
        """403: mark the contact, fail the message, tell the office once per contact."""
        now = self.clock.now()
        async with self.sessionmaker() as session, session.begin():
            await outbox.mark(
                session, row.id, status=outbox.FAILED, attempts=row.attempts + 1, last_error=error
            )
            contacts = await people.mark_unreachable(
                session, chat_id=row.chat_id, now=now, error=error
            )
            office = await people.contacts_with_role(session, Role.OFFICE)
            for contact in contacts:
                unit = await session.get(Unit, contact.unit_id) if contact.unit_id else None
                body = texts.unreachable(
                    unit.name if unit else None, contact.name, ROLE_LABELS[Role(contact.role)]
                )
                for target in office:
                    if target.chat_id == row.chat_id or not target.reachable:
                        continue
                    await outbox.enqueue(
                        session,
                        kind="notice",
                        chat_id=target.chat_id,
                        contact_id=target.id,
                        text=body,
                        now=now,
                        key=f"unreachable:{contact.id}:{target.id}:{now.date().isoformat()}",
                    )
        self.wake.set()


def _seconds(value: Any) -> float:
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value)
