"""Wiring: build the python-telegram-bot Application, its error handler and the update pump."""

from __future__ import annotations

import asyncio
import html
import logging
import traceback
from collections import deque
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import update as sql_update
from telegram import Update
from telegram.constants import ChatType
from telegram.error import (
    BadRequest,
    Conflict,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import AIORateLimiter, ApplicationBuilder, ContextTypes, Defaults
from telegram.request import BaseRequest

from bot import texts
from bot.domain.redaction import redact
from bot.transport import api
from bot.transport.http import AiohttpRequest
from db import inbox
from db.engine import retryable, statement_sessionmaker
from db.models import InboxUpdate
from handlers.commands import register
from handlers.context import SCOPE, BotApp, BotContext, Services, UpdateScope

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]
# Telegram's trouble (429, 5xx, timeouts) is retried with a doubling delay capped at five
# minutes (inbox.backoff): 20 attempts span about 68 minutes of it. With 5, a confirmation
# meeting a 10% fault rate was given up about once in a thousand updates and its report lost.
MAX_ATTEMPTS = 20
# Connections for the answers and the jobs' own calls (python-telegram-bot's default is 256;
# updates are handled one at a time, or UPDATE_LANES at a time on PostgreSQL: a few suffice).
REPLY_CONNECTIONS = 16


def reply_rate_limiter() -> AIORateLimiter:
    """Telegram's limits as they apply to the bot's answers to a person's message or press.

    "About 30 messages per second" is Telegram's limit for bulk notifications to many users:
    the outbox (jobs.sender), which sends everything nobody asked for, paces itself to
    SEND_RATE_PER_SECOND. An answer follows a person's own message; capping answers at the
    broadcast rate made every person wait behind the others (in bench.updates it, not the
    handling, set the throughput). What an answer can run into is the per-chat limit (about
    one a second, short bursts tolerated) — only if the person writes that fast — and 20 a
    minute in a group. Updates are handled one at a time (a few at a time on PostgreSQL), so
    waiting ahead of time for one chat would hold up everyone's answers (measured: a per-chat
    bucket of 5 then 1/s halved the throughput of bench.updates); instead Telegram's 429 is
    honoured: AIORateLimiter waits its retry_after and retries, and keeps its per-group
    budget. No overall cap.
    """
    return AIORateLimiter(overall_max_rate=0, max_retries=2)


def build_application(
    services: Services,
    *,
    base_url: str | None = None,
    request: BaseRequest | None = None,
    updates_request: BaseRequest | None = None,
    rate_limiter: bool = True,
) -> BotApp:
    """The Application with our handlers, defaults, reply rate limiter and error handler."""
    settings = services.settings
    token = settings.bot_token.get_secret_value() if settings.bot_token else ""
    builder = (
        ApplicationBuilder()
        .token(token or "0:sandbox")
        .updater(None)
        .context_types(ContextTypes(context=BotContext))
        .defaults(
            Defaults(
                parse_mode=api.PARSE_MODE,
                tzinfo=settings.tz,
                link_preview_options=api.NO_PREVIEW,
            )
        )
    )
    if rate_limiter:
        # PTB's builder generics cannot express the rate limiter's type parameter here.
        builder = builder.rate_limiter(reply_rate_limiter())  # type: ignore[arg-type]
    base = base_url or settings.telegram_base_url
    if base:
        base = base.rstrip("/")
        builder = builder.base_url(f"{base}/bot").base_file_url(f"{base}/file/bot")
    builder = builder.request(
        request or AiohttpRequest(connection_pool_size=REPLY_CONNECTIONS)
    ).get_updates_request(updates_request or AiohttpRequest())
    application: BotApp = builder.build()  # type: ignore[assignment]
    application.bot_data["services"] = services
    register(application)
    application.add_error_handler(on_error)
    return application


def transient(error: BaseException) -> bool:
    """Errors worth retrying the whole update for: Telegram, the network or the database
    hiccuped (db.engine.retryable: a lost connection, a lock, a deadlock)."""
    if isinstance(error, BadRequest):  # a subclass of NetworkError, but never transient
        return False
    return isinstance(error, RetryAfter | TimedOut | NetworkError) or retryable(error)


async def on_error(update: object, context: BotContext) -> None:
    """The one error handler: log with the traceback, tell the admin chat, mark the update."""
    error = context.error
    if error is None:
        return
    scope = SCOPE.get(None)
    if scope is not None:
        scope.error = error
    if transient(error):
        log.warning("transient error while handling an update: %r", error)
        return
    log.error("error while handling an update", exc_info=error)
    settings = context.services.settings
    if settings.admin_chat_id:
        tb = "".join(traceback.format_exception(type(error), error, error.__traceback__))
        body = f"<b>督办助手出错</b>\n<pre>{html.escape(tb[-3000:])}</pre>"
        try:
            await context.bot.send_message(settings.admin_chat_id, body)
        except TelegramError:
            log.warning("could not notify the admin chat", exc_info=True)
    chat = update.effective_chat if isinstance(update, Update) else None
    if chat is not None and chat.type == ChatType.PRIVATE:
        try:
            await context.bot.send_message(chat.id, texts.INTERNAL_ERROR)
        except TelegramError:
            log.warning("could not tell the user about the error", exc_info=True)


class _HandlerFailed(Exception):
    def __init__(self, error: BaseException) -> None:
        super().__init__(repr(error))
        self.error = error


@dataclass
class UpdatePump:
    """Fetches updates into the inbox, then handles them from there, one transaction each.

    getUpdates acknowledges a batch only when the next call passes a higher offset; that next
    call is made only after the batch is committed to the inbox. So a crash at any point loses
    nothing, and a re-delivered update id is ignored by the inbox's primary key.
    """

    application: BotApp
    services: Services
    poll_timeout: float = 10.0
    offset: int | None = None
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    # Set when the processor has handled everything fetched so far (see `run`).
    caught_up: asyncio.Event = field(default_factory=asyncio.Event)
    handled: int = 0
    conflict_pause: float = 10.0  # seconds to wait after a 409 from getUpdates
    in_flight: int = 0  # updates being handled right now (their transaction not yet closed)
    peak_in_flight: int = 0  # the most ever handled at once (at most `lanes`)
    # On stop, the update being handled gets this long to commit: its answer may already be on
    # the person's screen (e.g. 已提交), so cancelling it would roll back what they were shown.
    stop_grace: float = 10.0
    # Different people's updates handled at once (each person's still in order). On
    # PostgreSQL the runtime sets UPDATE_LANES: while one update waits for the database or
    # Telegram, another is handled. SQLite has one writer at a time and stays at one.
    lanes: int = 1

    def __post_init__(self) -> None:
        # Storing a batch (one INSERT) and listing what is due (reads) need no transaction.
        self._bookkeeping = statement_sessionmaker(self.services.sessionmaker)

    async def resume_offset(self) -> None:
        """Continue after the newest update already stored."""
        async with self._bookkeeping() as session:
            newest = await inbox.highest_id(session)
        if newest is not None and (self.offset is None or newest + 1 > self.offset):
            self.offset = newest + 1

    async def fetch(self, poll_seconds: float | None = None) -> int:
        """One getUpdates call; store what came, then (next call) acknowledge it."""
        wait = self.poll_timeout if poll_seconds is None else poll_seconds
        # The updates as Telegram sent them: they are stored as JSON and parsed when handled.
        # Bot.get_updates would parse each into an Update only for it to be turned back into
        # JSON here (a tenth of the CPU of handling a report step, in bench.updates). `api.call`
        # raises Telegram's errors (RetryAfter, Conflict, ...) as get_updates does.
        raw = await api.call(
            self.application.bot,
            "getUpdates",
            {"offset": self.offset, "timeout": int(wait), "allowed_updates": ALLOWED_UPDATES},
            read_timeout=wait + 10,
        )
        updates = [(int(u["update_id"]), u) for u in raw or ()]
        if not updates:
            return 0
        now = self.services.clock.now()
        async with self._bookkeeping() as session, session.begin():
            await inbox.store(session, updates, now)
        self.offset = updates[-1][0] + 1
        self.caught_up.clear()
        self.wake.set()
        return len(updates)

    async def process_pending(self, limit: int = 100, stop: asyncio.Event | None = None) -> int:
        """Handle every stored update that is due, oldest first (until `stop` is set).

        Each person's updates are handled in the order they were sent. With `lanes` > 1,
        up to that many people's updates are handled at once.
        """
        done = 0
        while True:
            async with self._bookkeeping() as session:
                due = await inbox.due(session, self.services.clock.now(), limit)
            if not due:
                return done
            queues: dict[object, list[int]] = {}
            for update_id, sender in due:
                queues.setdefault(sender if sender is not None else (update_id,), []).append(
                    update_id
                )
            handled, complete = await self._process_queues(list(queues.values()), stop)
            done += handled
            if stop is not None and stop.is_set():
                return done
            # A batch cut short (an update failed and waits for a retry, holding its sender's
            # later ones) asks the inbox again; so does one where a person had as many updates
            # as a batch takes of one person (inbox.PER_SENDER: they may have more). Otherwise
            # a batch smaller than `limit` was everything due when asked, and what was fetched
            # since sets `wake`.
            full_turn = any(len(q) >= inbox.PER_SENDER for q in queues.values())
            if complete and len(due) < limit and not full_turn:
                return done

    async def _process_queues(
        self, queues: list[list[int]], stop: asyncio.Event | None
    ) -> tuple[int, bool]:
        """Handle each person's queue in order, `lanes` people at a time.

        Returns how many were handled and whether every queue was handled to its end. A queue
        stops at an update that failed (its sender's later updates wait behind it), and every
        queue stops once `stop` is set or another lane raised (after its current update).
        """
        # Round robin: a lane takes the person at the front, handles one of their updates and
        # sends them to the back of the line. So one person's burst (a stranger's flood) delays
        # each other person by at most one handling slot, on SQLite's single lane too; each
        # person's updates stay in order, since a queue is in one lane's hands at a time.
        waiting = deque(deque(q) for q in queues if q)
        handled = 0
        complete = True
        halt = False

        async def lane() -> None:
            nonlocal handled, complete, halt
            while waiting:
                queue = waiting.popleft()
                if halt or (stop is not None and stop.is_set()):
                    complete = False
                    return
                update_id = queue.popleft()
                try:
                    ok = await self.process_one(update_id)
                except BaseException:
                    halt = True
                    raise
                if not ok:
                    complete = False  # the rest of this person's queue waits behind it
                    continue
                handled += 1
                if queue:
                    waiting.append(queue)

        if self.lanes <= 1 or len(waiting) <= 1:
            await lane()
            return handled, complete
        results = await asyncio.gather(
            *(lane() for _ in range(min(self.lanes, len(waiting)))), return_exceptions=True
        )
        for result in results:
            if isinstance(result, BaseException):
                raise result
        return handled, complete

    async def process_one(self, update_id: int) -> bool:
        """Handle one stored update inside one transaction, together with marking it done."""
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            return await self._process(update_id)
        finally:
            self.in_flight -= 1

    async def _process(self, update_id: int) -> bool:
        async with self.services.sessionmaker() as session:
            scope = UpdateScope(session=session)
            token = SCOPE.set(scope)
            try:
                async with session.begin():
                    row = await inbox.new_update(session, update_id)
                    if row is None:
                        return False
                    scope.received_at = row.received_at
                    scope.register_version = row.register_version
                    if row.account is not None:  # the sender's, read with the update
                        scope.accounts[row.account.principal.user_id] = row.account
                    update = Update.de_json(row.payload, self.application.bot)
                    await self.application.process_update(update)
                    if scope.error is not None:
                        raise _HandlerFailed(scope.error)
                    await inbox.mark_done(
                        session,
                        update_id,
                        self.services.clock.now(),
                        {} if scope.forget else inbox.without_secrets(row.payload),
                    )
            except _HandlerFailed as failed:
                await self._record_failure(update_id, failed.error)
                return False
            finally:
                SCOPE.reset(token)
        self.handled += 1
        return True

    async def _record_failure(self, update_id: int, error: BaseException) -> None:
        now = self.services.clock.now()
        async with self.services.sessionmaker() as session, session.begin():
            row = await session.get(InboxUpdate, update_id)
            if row is None:
                return
            attempts = row.attempts + 1
            retry = transient(error) and attempts < MAX_ATTEMPTS
            if transient(error) and not retry:
                log.error(
                    "update %s given up after %s attempts against Telegram errors: %r",
                    update_id,
                    attempts,
                    error,
                )
            delay = inbox.backoff(attempts)
            if isinstance(error, RetryAfter):
                delay = max(delay, _seconds(error.retry_after))
            await session.execute(
                sql_update(InboxUpdate)
                .where(InboxUpdate.update_id == update_id)
                .values(
                    attempts=attempts,
                    status="new" if retry else "failed",
                    next_attempt_at=now + delay if retry else None,
                    error=redact(repr(error))[:2000],
                    # Given up: what it held that must not be kept goes now.
                    payload=(None if retry else inbox.without_secrets(row.payload)) or row.payload,
                )
            )

    async def run(self, stop: asyncio.Event) -> None:
        """Fetch and handle until `stop` is set."""
        await self.resume_offset()
        processor = asyncio.create_task(self._process_loop(stop), name="inbox-processor")
        try:
            while not stop.is_set():
                try:
                    if await self.fetch():
                        # Fetching again before the processor is through this batch would
                        # not handle anything sooner (Telegram keeps what is not fetched);
                        # the next call then brings everything that came meanwhile, in one
                        # request and one commit.
                        await _wait_for_either(self.caught_up, stop, self.poll_timeout)
                except RetryAfter as exc:
                    await _sleep_or_stop(stop, _seconds(exc.retry_after).total_seconds())
                except Conflict as exc:
                    # Another instance polls with the same token (or a webhook is set).
                    log.error("getUpdates refused: %s; is a second instance running?", exc)
                    await _sleep_or_stop(stop, self.conflict_pause)
                except (NetworkError, TimedOut) as exc:
                    log.warning("getUpdates failed: %r; retrying", exc)
                    await _sleep_or_stop(stop, 2.0)
                except Exception:
                    # The pump must outlive any failure (the database down...). Nothing was
                    # acknowledged: the offset moves only after the inbox commit.
                    log.exception("fetching updates failed; retrying")
                    await _sleep_or_stop(stop, 5.0)
        finally:
            if stop.is_set() and not processor.done():
                # A stop, not a crash: let the update under way finish and commit first.
                self.wake.set()
                await asyncio.wait({processor}, timeout=self.stop_grace)
            processor.cancel()
            await asyncio.gather(processor, return_exceptions=True)

    async def _process_loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self.wake.clear()
            try:
                await self.process_pending(stop=stop)
            except Exception:
                # The updates stay in the inbox; they are handled on a later pass.
                log.exception("handling stored updates failed; retrying")
                self.caught_up.set()
                await _sleep_or_stop(stop, 5.0)
                continue
            if not self.wake.is_set():
                self.caught_up.set()
            try:
                await asyncio.wait_for(self.wake.wait(), timeout=5.0)
            except TimeoutError:
                continue


def _seconds(value: Any) -> timedelta:
    if isinstance(value, timedelta):
        return value
    return timedelta(seconds=float(value))


async def _wait_for_either(first: asyncio.Event, second: asyncio.Event, seconds: float) -> None:
    """Until either event is set, or `seconds` have passed."""
    if first.is_set() or second.is_set():
        return
    waiters = {asyncio.ensure_future(first.wait()), asyncio.ensure_future(second.wait())}
    _, pending = await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    for waiter in pending:
        waiter.cancel()


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        return
