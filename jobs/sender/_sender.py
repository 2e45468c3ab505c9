"""The outbox sender: reads due messages, checks them, sends them paced, records each delivery,
retries what can be retried.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import warnings
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, cast

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Bot
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.warnings import PTBDeprecationWarning

from bot import texts
from bot.config import Settings
from bot.domain.clock import Clock
from bot.domain.roles import ROLE_LABELS, Role
from bot.transport import api
from db import outbox, people, progress
from db.models import Unit
from jobs.sender._check import CHECKED_KINDS, STALE_KINDS, _Facts, _text_now
from jobs.sender._gate import RateGate
from jobs.sender._log import DeliveryLog, DeliveryStats

log = logging.getLogger(__name__)
MAX_BACKOFF = 300.0


class OutboxSender:
    """Sends due outbox messages with a bounded number of concurrent requests."""

    # On shutdown, sends already under way get this long to finish and be recorded, so a
    # restart does not repeat them; a crash (or a stop after it) may still repeat them.
    stop_grace: float = 2.0

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
        # Texts are checked for a chunk of upcoming messages at a time (enough for about a
        # second of sending) and rechecked if older than `recheck_after` seconds when sent.
        self.check_chunk = max(8, min(256, round(1.0 / self.gate.interval)))
        self.recheck_after = 2.0
        # Two overlapping runs would read the same pending rows and send them twice.
        self._running = asyncio.Lock()
        self.delivered = DeliveryLog(sessionmaker)

    async def run_once(self, batch: int = 500) -> DeliveryStats:
        """Deliver everything due now and return what happened.

        Messages are read `batch` at a time, oldest first; the next batch is read while the
        current one is still being sent, so a long fan-out does not pause between batches.
        """
        stats = DeliveryStats()
        async with self._running:
            await self._dispatch(_Run(batch=batch), stats)
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

    async def _dispatch(self, run: _Run, stats: DeliveryStats) -> None:
        """Send the run's messages in order, skipping ahead past chats that must wait.

        Beside the sends, one task at a time works ahead of them (`_work_ahead`): it checks
        the next chunk of messages against the database and reads the next batch, so the
        dispatcher itself waits on the database only when that task has fallen behind.
        """
        workers = asyncio.Semaphore(self.settings.send_concurrency)
        # Sends under way; a finished one leaves (a run may send tens of thousands), its
        # failure kept to be raised once the others are through.
        started: set[asyncio.Task[None]] = set()
        failures: list[BaseException] = []
        # One message at a time per chat: a chat's messages arrive in order (the parts of a
        # long escalation), and its 403 is handled once.
        busy: set[int] = set()
        finished = asyncio.Event()  # a send ended or the work ahead is done
        ahead: asyncio.Task[None] | None = None

        def wake(_: object) -> None:
            finished.set()

        def settle(task: asyncio.Task[None]) -> None:
            started.discard(task)
            if not task.cancelled() and task.exception() is not None:
                failures.append(cast(BaseException, task.exception()))

        try:
            await self._fetch(run)
            while True:
                finished.clear()
                if ahead is not None and ahead.done():
                    ahead.result()  # its failure (the database's) ends the run, as inline
                    ahead = None
                if ahead is None:
                    job = self._work_ahead(run, stats)
                    if job is not None:
                        ahead = asyncio.create_task(job)
                        ahead.add_done_callback(wake)
                pending = run.pending
                if not pending:
                    if ahead is None and not busy:
                        break  # everything read, sent and settled
                    await finished.wait()  # a send may yet hand its message back (429)
                    continue
                now = self.gate.monotonic()
                row, wait = self._next_ready(pending, busy, now)
                if row is None:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(
                            finished.wait(), None if wait is None else max(wait - now, 0.001)
                        )
                    continue
                if row.id in run.checking and ahead is not None:
                    await asyncio.wait({ahead})  # being checked right now: wait for that
                    continue
                await workers.acquire()
                try:
                    if row.id in run.dropped:  # cancelled by the work ahead meanwhile
                        workers.release()
                        continue
                    # Checked as late as possible: once a request slot is free, before the
                    # (short) wait for the rate slot, so a cancelled message costs no slot.
                    entry = run.checked.get(row.id)
                    if entry is None or self.gate.monotonic() - entry[0] > self.recheck_after:
                        await self._check([row, *self._unchecked(run, skip=row)], run, stats)
                        if row.id not in run.checked:
                            workers.release()
                            continue  # it no longer applies and was cancelled
                    pending.remove(row)
                    checked_at, text = run.checked.pop(row.id)
                    await self.gate.take(row.chat_id)
                except BaseException:
                    workers.release()
                    raise
                busy.add(row.chat_id)
                task = asyncio.create_task(
                    self._deliver_released(row, text, stats, workers, _Attempt(run, checked_at))
                )
                task.add_done_callback(_releaser(busy, row.chat_id, finished))
                task.add_done_callback(settle)
                started.add(task)
                # Let the send's task reach the socket before the dispatcher goes on (and the
                # work that queues up behind it: the check ahead, delivery commits). Delayed
                # into the next send's spacing, two sends arrive together and push a 31st into
                # one of Telegram's windows (bench.fanout at 10x: 429s 1.0-1.6% -> 0.26%).
                await asyncio.sleep(0)
        except BaseException:
            if ahead is not None:
                ahead.cancel()
                await asyncio.gather(ahead, return_exceptions=True)
            await self._stop_started(list(started))
            raise
        # Every send's outcome is awaited here, so none outlives the run or fails unseen.
        await asyncio.gather(*started, return_exceptions=True)
        if failures:
            raise failures[0]

    async def _stop_started(self, started: list[asyncio.Task[None]]) -> None:
        """The run was cancelled: let sends under way finish briefly, then cancel the rest."""
        running = [t for t in started if not t.done()]
        if running and self.stop_grace > 0:
            await asyncio.wait(running, timeout=self.stop_grace)
        for task in started:
            task.cancel()
        await asyncio.gather(*started, return_exceptions=True)

    def _next_ready(
        self, pending: deque[outbox.Due], busy: set[int], now: float
    ) -> tuple[outbox.Due | None, float | None]:
        """The first message whose chat may receive now; else when the first one may.

        Usually the first pending message itself: the scan stops there, so a pick costs
        O(1), not O(batch), however long the batch.
        """
        earliest: float | None = None
        for row in pending:
            chat_id = row.chat_id
            if chat_id in busy:
                continue
            free_at = self.gate.chat_free_at(chat_id)
            if free_at <= now:
                return row, None
            earliest = free_at if earliest is None else min(earliest, free_at)
        return None, earliest

    def _work_ahead(self, run: _Run, stats: DeliveryStats) -> Coroutine[Any, Any, None] | None:
        """The next piece of work ahead of the sends, if one is due: check the next chunk once
        fewer than half a chunk of checked messages is left, read the next batch once fewer
        than half a batch is left."""
        if len(run.checked) < self.check_chunk // 2:
            # Messages never checked only: a recheck (of a message kept waiting) is made by the
            # dispatcher when the message's turn comes, so each is checked ahead at most once.
            chunk = self._unchecked(run, fresh_only=True)
            if chunk:
                return self._check(chunk, run, stats)
        if not run.exhausted and len(run.pending) < run.batch // 2:
            return self._fetch(run)
        return None

    def _unchecked(
        self, run: _Run, skip: outbox.Due | None = None, *, fresh_only: bool = False
    ) -> list[outbox.Due]:
        """The next messages (up to a chunk, less one with `skip`) whose check is missing or
        older than `recheck_after` (missing, with `fresh_only`), and not under way."""
        limit = self.check_chunk - (1 if skip is not None else 0)
        now = self.gate.monotonic()
        out: list[outbox.Due] = []
        for other in run.pending:
            if len(out) >= limit:
                break
            if other is skip or other.id in run.checking:
                continue
            entry = run.checked.get(other.id)
            if entry is None or (not fresh_only and now - entry[0] > self.recheck_after):
                out.append(other)
        return out

    async def _fetch(self, run: _Run) -> None:
        """Read the run's next batch of due messages."""
        async with self.sessionmaker() as session:
            rows = await outbox.due_messages(
                session, self.clock.now(), run.batch, after=run.last_id
            )
        run.pending.extend(rows)
        if rows:
            run.last_id = rows[-1].id
        run.exhausted = len(rows) < run.batch

    def _check(
        self, chunk: list[outbox.Due], run: _Run, stats: DeliveryStats
    ) -> Coroutine[Any, Any, None]:
        """Check a chunk of messages; cancel those that no longer apply.

        The chunk counts as under check from this call on, before the check first runs as a
        task: the dispatcher must not start a second check of the same messages meanwhile.
        """
        ids = {r.id for r in chunk}
        run.checking |= ids
        return self._checked(chunk, ids, run, stats)

    async def _checked(
        self, chunk: list[outbox.Due], ids: set[int], run: _Run, stats: DeliveryStats
    ) -> None:
        try:
            current = await self._current_texts(chunk)
            dropped = [r for r in chunk if current[r.id] is None]
            if dropped:
                async with self.sessionmaker() as session, session.begin():
                    await outbox.mark_many(
                        session, [r.id for r in dropped], status=outbox.CANCELLED
                    )
                stats.cancelled += len(dropped)
                gone = {r.id for r in dropped}
                run.dropped |= gone
                for message_id in gone:
                    run.checked.pop(message_id, None)
                pending = run.pending
                for _ in range(len(pending)):
                    candidate = pending.popleft()
                    if candidate.id not in gone:
                        pending.append(candidate)
            stamp = self.gate.monotonic()
            for r in chunk:
                text = current[r.id]
                if text is not None:
                    run.checked[r.id] = (stamp, text)
        finally:
            run.checking -= ids

    async def _deliver_released(
        self,
        row: outbox.Due,
        text: str,
        stats: DeliveryStats,
        workers: asyncio.Semaphore,
        attempt: _Attempt,
    ) -> None:
        try:
            await self._deliver(row, text, stats, attempt)
        except Exception as exc:
            # Not Telegram's answer but our own failure (data, database): log it with its
            # traceback and back off, so one bad row cannot spin the sender.
            log.exception("outbox message %s could not be delivered", row.id)
            stats.errors.append(repr(exc))
            await self._backoff(row, repr(exc), stats)
        finally:
            workers.release()

    async def _deliver(
        self, row: outbox.Due, text: str, stats: DeliveryStats, attempt: _Attempt
    ) -> None:
        """Send one message and record the outcome (a delivery with others, see DeliveryLog)."""
        try:
            sent = await self._send(row, text)
        except RetryAfter as exc:
            seconds = _retry_after(exc)
            self.gate.pause_chat(row.chat_id, seconds)
            if attempt.hand_back(row, text, seconds):
                # A short wait: sent again in this run once its chat is free, not after the
                # run (nothing to record: the row is still pending should we crash).
                stats.retried += 1
                return
            await self._retry(row, seconds, repr(exc), count=False)
            stats.retried += 1
            return
        except Forbidden as exc:
            await self._unreachable(row, repr(exc))
            stats.unreachable += 1
            return
        except ChatMigrated as exc:
            # The group became a supergroup: send there, now.
            async with self.sessionmaker() as session, session.begin():
                await outbox.mark(session, row.id, chat_id=exc.new_chat_id, last_error=repr(exc))
            stats.retried += 1
            self.wake.set()
            return
        except BadRequest as exc:
            if "chat not found" in str(exc).lower():
                await self._unreachable(row, repr(exc))
                stats.unreachable += 1
                return
            log.error("outbox message %s refused by Telegram: %s", row.id, exc)
            await self._fail(row, repr(exc))
            stats.failed += 1
            stats.errors.append(str(exc))
            return
        except (NetworkError, TelegramError) as exc:
            # 5xx, timeouts, lost connections (and anything else Telegram-side). A timeout may
            # hide a delivered message (the response was lost): retrying can repeat it, never
            # lose it.
            await self._backoff(row, repr(exc), stats, telegram=True)
            return
        await self.delivered.record(
            outbox.Delivered(row.id, self.clock.now(), sent, row.attempts + 1, text)
        )
        stats.sent += 1

    async def _send(self, row: outbox.Due, text: str) -> int:
        if row.document and row.document.get("photo"):
            # A picture (a digest's chart): its caption is the row's text.
            message = await self.bot.send_photo(
                row.chat_id,
                photo=bytes.fromhex(str(row.document["hex"])),
                filename=str(row.document["filename"]),
                caption=text,
                parse_mode=api.PARSE_MODE,
            )
            return message.message_id
        if row.document:
            message = await self.bot.send_document(
                row.chat_id,
                document=bytes.fromhex(str(row.document["hex"])),
                filename=str(row.document["filename"]),
                caption=text,
                parse_mode=api.PARSE_MODE,
            )
            return message.message_id
        return await api.send_text(self.bot, row.chat_id, text, row.reply_markup or None)

    async def _backoff(
        self, row: outbox.Due, error: str, stats: DeliveryStats, *, telegram: bool = False
    ) -> None:
        """A failure worth retrying later, with a doubling wait capped at MAX_BACKOFF.

        Telegram's own trouble (5xx, timeouts, lost connections) never makes a message fail:
        an outage longer than the retries would otherwise lose the day's escalations, while a
        reminder goes stale the next day and a reported task drops out anyway; the error is
        logged once the attempts reach `send_max_attempts`. Our own failure (bad data) gives
        up there, since trying again would not help.
        """
        attempts = row.attempts + 1
        if attempts >= self.settings.send_max_attempts:
            if not telegram:
                log.error(
                    "outbox message %s failed %s times, giving up: %s", row.id, attempts, error
                )
                await self._fail(row, error)
                stats.failed += 1
                return
            if attempts == self.settings.send_max_attempts:
                log.error(
                    "outbox message %s failed %s times, still trying: %s", row.id, attempts, error
                )
        await self._retry(row, min(MAX_BACKOFF, 2.0**attempts), error, count=True)
        stats.retried += 1

    async def _fail(self, row: outbox.Due, error: str) -> None:
        async with self.sessionmaker() as session, session.begin():
            await outbox.mark(
                session,
                row.id,
                status=outbox.FAILED,
                attempts=row.attempts + 1,
                last_error=error[:2000],
            )

    async def _retry(self, row: outbox.Due, seconds: float, error: str, *, count: bool) -> None:
        async with self.sessionmaker() as session, session.begin():
            await outbox.mark(
                session,
                row.id,
                attempts=row.attempts + (1 if count else 0),
                next_attempt_at=self.clock.now() + timedelta(seconds=seconds),
                last_error=error[:2000],
            )

    async def _current_texts(self, rows: list[outbox.Due]) -> dict[int, str | None]:
        """The text to send now for each message, or None if it no longer applies.

        One read for the whole chunk: the messages' obligations, which of them were reported
        or completed since planning, and which recipients are still active.
        """
        now = self.clock.now()
        today = now.astimezone(self.settings.tz).date()
        out: dict[int, str | None] = {}
        checked: list[outbox.Due] = []
        for row in rows:
            if row.kind not in CHECKED_KINDS or not row.meta:
                out[row.id] = row.text
            elif (
                row.kind in STALE_KINDS
                and row.created_at.astimezone(self.settings.tz).date() < today
            ):
                out[row.id] = None  # the planner's catch-up sends today's step instead
            else:
                checked.append(row)
        if not checked:
            return out
        async with self.sessionmaker() as session:
            items = await outbox.items_of(session, [r.id for r in checked])
            every = [i for r in checked for i in items.get(r.id, [])]
            pairs = {(i.task_id, i.unit_id) for i in every}
            keys = await progress.reported_keys(session, pairs, {i.cycle_key for i in every})
            done = await progress.done_at(session, pairs, self.settings.tz)
            active = await people.active_contact_ids(session, {i.contact_id for i in every})
        facts = _Facts(keys=keys, done={p for p, at in done.items() if at <= now}, active=active)
        for n, row in enumerate(checked, start=1):
            out[row.id] = _text_now(row, items.get(row.id, []), facts, now)
            if n % 16 == 0:
                await asyncio.sleep(0)  # the sends under way go out meanwhile
        return out

    async def _unreachable(self, row: outbox.Due, error: str) -> None:
        """403: mark the contact, fail the message, tell the office once per contact."""
        now = self.clock.now()
        async with self.sessionmaker() as session, session.begin():
            await outbox.mark(
                session, row.id, status=outbox.FAILED, attempts=row.attempts + 1, last_error=error
            )
            if row.chat_id < 0:
                # The bot was removed from a group: stop addressing it.
                await people.unregister_group(session, chat_id=row.chat_id, now=now)
            contacts = await people.mark_unreachable(
                session, chat_id=row.chat_id, now=now, error=error
            )
            # The office is told; with no office account bound yet, the admins are.
            office = [
                c for c in await people.contacts_with_role(session, Role.OFFICE) if c.reachable
            ] or await people.contacts_with_role(session, Role.ADMIN)
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


RETRY_IN_RUN = 1.0  # a 429 asking to wait at most this long is retried within the run
RETRIES_IN_RUN = 3  # ... this many times per message; then as any retry, from the database


@dataclass
class _Run:
    """One delivery run's messages: read, checked, under check, handed back after a 429."""

    batch: int
    pending: deque[outbox.Due] = field(default_factory=deque)
    checked: dict[int, tuple[float, str]] = field(default_factory=dict)  # id → (stamp, text)
    checking: set[int] = field(default_factory=set)
    dropped: set[int] = field(default_factory=set)  # cancelled by a check
    last_id: int = 0
    exhausted: bool = False
    handed_back: dict[int, int] = field(default_factory=dict)

    def hand_back(self, row: outbox.Due, text: str, wait: float, checked_at: float) -> bool:
        """Put a message refused with a short `retry_after` back at the head of the run (its
        text as checked then: rechecked before the resend if that check is too old by then)."""
        times = self.handed_back.get(row.id, 0)
        if wait > RETRY_IN_RUN or times >= RETRIES_IN_RUN:
            return False
        self.handed_back[row.id] = times + 1
        self.checked[row.id] = (checked_at, text)
        self.pending.appendleft(row)
        return True


@dataclass(frozen=True, slots=True)
class _Attempt:
    """A send under way in a run, with when its text was checked."""

    run: _Run
    checked_at: float

    def hand_back(self, row: outbox.Due, text: str, wait: float) -> bool:
        """See `_Run.hand_back`."""
        return self.run.hand_back(row, text, wait, self.checked_at)


def _releaser(
    busy: set[int], chat_id: int, finished: asyncio.Event
) -> Callable[[asyncio.Task[None]], None]:
    """A done-callback freeing the chat for its next message and waking the dispatcher."""

    def release(_: asyncio.Task[None]) -> None:
        busy.discard(chat_id)
        finished.set()

    return release


def _retry_after(exc: RetryAfter) -> float:
    """Telegram's wait in seconds, whether PTB gives it as seconds or (from v23) a timedelta."""
    with warnings.catch_warnings():
        # PTB 22 warns on reading an int here; both forms are handled below.
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value: Any = exc.retry_after
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value)
