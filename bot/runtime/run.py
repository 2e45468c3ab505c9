"""The running bot: database, Application, update pump and jobs, started and stopped together."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from datetime import timedelta
from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncEngine
from telegram import Bot
from telegram.request import BaseRequest

from bot.config import Settings
from bot.domain.clock import Clock, SystemClock
from bot.domain.roles import Role, invite_link
from bot.domain.workcal import WorkCalendar
from bot.runtime.app import UpdatePump, build_application
from bot.runtime.scheduling import schedule_jobs
from bot.transport.http import AiohttpRequest
from db import people
from db.calendar import overrides
from db.engine import create_engine, make_sessionmaker
from db.migrate import upgrade
from handlers.context import BotApp, Services
from handlers.menu import default_menu
from jobs.sender import OutboxSender

log = logging.getLogger(__name__)

# Young-generation threshold of the cycle collector (CPython's default is 700).
GC_YOUNG_THRESHOLD = 50_000


def tune_collector() -> None:
    """Keep the cycle collector off the start-up objects and run it less often.

    A view of 10,000 tasks builds tens of thousands of short-lived objects (a leader's summary:
    800 tasks, 3,000 units on them, their statuses); at the default threshold the collector
    ran dozens of times per request and its older generations kept re-walking the objects
    every process holds from start-up (SQLAlchemy, python-telegram-bot, the register's
    modules). That was 25-40% of the CPU of /overdue and of a leader's summary (bench.growth).
    Freezing moves what exists after start-up out of the collector's generations; the larger
    threshold lets at most 50,000 young objects wait for a collection (a few MB).
    Called once per process after start-up (`bot run`), not by BotRuntime itself: the tests
    and the sandbox start many runtimes in one process.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, 20, 20)


async def load_calendar(services_or_engine: AsyncEngine) -> WorkCalendar:
    """The statutory calendar with the admin's overrides from the database."""
    sessionmaker = make_sessionmaker(services_or_engine)
    async with sessionmaker() as session:
        return WorkCalendar(await overrides(session))


class BotRuntime:
    """Everything that runs while the bot is up. Use as `async with BotRuntime(settings) as rt`."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        base_url: str | None = None,
        request: BaseRequest | None = None,
        updates_request: BaseRequest | None = None,
        poll_timeout: float = 10.0,
        run_jobs: bool = True,
    ) -> None:
        self.settings = settings
        self.clock = clock or SystemClock(settings.tz)
        self.base_url = base_url
        self.request = request
        self.updates_request = updates_request
        self.poll_timeout = poll_timeout
        self.run_jobs = run_jobs
        self.engine: AsyncEngine | None = None
        self.services: Services | None = None
        self.application: BotApp | None = None
        self.pump: UpdatePump | None = None
        self.sender: OutboxSender | None = None
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._bots: list[Bot] = []

    async def start(self) -> None:
        """Migrate the database, start the Application, the update pump and the jobs."""
        self.engine = create_engine(self.settings.database_url)
        await upgrade(self.engine)
        calendar = await load_calendar(self.engine)
        self.services = Services(
            settings=self.settings,
            sessionmaker=make_sessionmaker(self.engine),
            clock=self.clock,
            calendar=calendar,
        )
        self.application = build_application(
            self.services,
            base_url=self.base_url,
            request=self.request,
            updates_request=self.updates_request,
        )
        await self.application.initialize()
        self.services.bot_username = self.application.bot.username
        await self.application.bot.delete_webhook()
        await self.application.bot.set_my_commands(default_menu())
        await self.application.start()
        self.sender = OutboxSender(
            await self._sender_bot(), self.services.sessionmaker, self.clock, self.settings
        )
        if self.run_jobs:
            schedule_jobs(self.application, self.sender)
        lanes = self.settings.update_lanes if self.engine.dialect.name == "postgresql" else 1
        self.pump = UpdatePump(
            self.application, self.services, poll_timeout=self.poll_timeout, lanes=lanes
        )
        self._tasks.append(asyncio.create_task(self.pump.run(self._stop), name="update-pump"))
        self._tasks.append(
            asyncio.create_task(self.sender.run_forever(self._stop), name="outbox-sender")
        )

    async def _sender_bot(self) -> Bot:
        """A second client for the outbox: our own pacing, not the replies' rate limiter."""
        assert self.application is not None
        app_bot = self.application.bot
        bot = Bot(
            app_bot.token,
            base_url=app_bot.base_url.removesuffix(app_bot.token),
            base_file_url=app_bot.base_file_url.removesuffix(app_bot.token),
            request=self.request
            or AiohttpRequest(connection_pool_size=self.settings.send_concurrency + 2),
        )
        await bot.initialize()
        self._bots.append(bot)
        return bot

    async def first_admin_invite(self) -> str | None:
        """If nobody is admin yet, create an admin invite and return its link."""
        assert self.services is not None
        async with self.services.sessionmaker() as session, session.begin():
            if await people.count_admins(session) > 0:
                return None
            invite = await people.create_invite(
                session,
                role=Role.ADMIN,
                now=self.clock.now(),
                ttl=timedelta(hours=self.settings.invite_ttl_hours),
            )
        return invite_link(self.services.bot_username, invite.code)

    async def stop(self) -> None:
        """Stop everything and release the database."""
        self._stop.set()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        for bot in self._bots:
            await bot.shutdown()
        self._bots.clear()
        if self.application is not None:
            if self.application.running:
                await self.application.stop()
            await self.application.shutdown()
        if self.engine is not None:
            await self.engine.dispose()

    async def wait(self) -> None:
        """Run until stop() is called."""
        await self._stop.wait()

    async def __aenter__(self) -> BotRuntime:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
