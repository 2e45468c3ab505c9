"""What a handler gets: the update's DB session, the services, the caller's principal."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram.ext import Application, CallbackContext, ExtBot, JobQueue

from bot.config import Settings
from bot.domain.budget import AnswerBudget
from bot.domain.clock import Clock
from bot.domain.roles import Principal
from bot.domain.workcal import WorkCalendar
from bot.domain.years import working_year
from bot.services.desk import Desk
from db import people
from db.register_cache import NOT_READ, RegisterCache


@dataclass
class Services:
    """Long-lived dependencies, built once at start-up and handed to handlers and jobs."""

    settings: Settings
    sessionmaker: async_sessionmaker[AsyncSession]
    clock: Clock
    calendar: WorkCalendar
    bot_username: str = ""
    register: RegisterCache = field(default_factory=RegisterCache)
    unbound: AnswerBudget | None = None  # made from the settings on first use
    hints: AnswerBudget | None = None

    def unbound_budget(self) -> AnswerBudget:
        """How often an account that is not bound is answered (bot.domain.budget)."""
        if self.unbound is None:
            self.unbound = self._budget()
        return self.unbound

    def hint_budget(self) -> AnswerBudget:
        """How often a bound person gets a hint for text or a command the bot does not take."""
        if self.hints is None:
            self.hints = self._budget()
        return self.hints

    def _budget(self) -> AnswerBudget:
        return AnswerBudget(
            self.settings.unbound_answers, timedelta(minutes=self.settings.unbound_window_minutes)
        )


@dataclass
class UpdateScope:
    """Per-update state: one DB session (one transaction) and the outcome."""

    session: AsyncSession
    error: BaseException | None = None
    accounts: dict[int, people.Account] = field(default_factory=dict)
    register_checked: bool = False
    # The register's version as this update's transaction first read it (with the update).
    register_version: Any = NOT_READ
    # Nothing of the update is worth keeping (a stranger's message once they are no longer
    # answered): the inbox keeps its id and sender, not its content.
    forget: bool = False
    # When the update reached us (stored in the inbox): a retry after Telegram trouble judges
    # what the person did by when they did it, not by when the bot got round to it.
    received_at: datetime | None = None


SCOPE: ContextVar[UpdateScope] = ContextVar("update_scope")


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """python-telegram-bot's context with typed access to our services and session."""

    @property
    def services(self) -> Services:
        """The application's services."""
        services: Services = self.application.bot_data["services"]
        return services

    @property
    def session(self) -> AsyncSession:
        """The session of the update being handled (committed by the update pump)."""
        return SCOPE.get().session

    def now(self) -> datetime:
        """The current time, from the one clock."""
        return self.services.clock.now()

    def acted_at(self) -> datetime:
        """When the person sent this update: its arrival, else now."""
        scope = SCOPE.get(None)
        if scope is not None and scope.received_at is not None:
            return scope.received_at
        return self.now()

    async def account(self, user_id: int) -> people.Account:
        """The caller's roles and contact rows, read from the database once per update."""
        scope = SCOPE.get()
        cached = scope.accounts.get(user_id)
        if cached is None:
            cached = await people.account(scope.session, user_id)
            scope.accounts[user_id] = cached
        return cached

    async def principal(self, user_id: int) -> Principal:
        """The caller's roles, read from the database once per update."""
        return (await self.account(user_id)).principal

    def forget_update(self) -> None:
        """Keep nothing of this update's content in the inbox once it is handled."""
        SCOPE.get().forget = True

    def forget_principal(self, user_id: int) -> None:
        """Drop the cached principal after a change of roles within this update."""
        SCOPE.get().accounts.pop(user_id, None)

    async def year(self) -> int:
        """The working year (bot.domain.years): the oldest registered year not closed."""
        found = await (await self.register()).years(self.session)
        today = self.now().astimezone(self.services.settings.tz)
        return working_year(found.registered, found.closed, today.year)

    async def desk(self) -> Desk:
        """What a service's use case runs with, for this update (bot.services.desk)."""
        services = self.services
        return Desk(
            self.session, await self.register(), services.settings, services.calendar, self.now()
        )

    async def register(self) -> RegisterCache:
        """The register kept in memory, checked against the database once per update."""
        scope = SCOPE.get()
        cache = self.services.register
        if not scope.register_checked:
            await cache.validate(scope.session, scope.register_version)
            scope.register_checked = True
        return cache


BotApp = Application[
    ExtBot[None],
    BotContext,
    dict[Any, Any],
    dict[Any, Any],
    dict[Any, Any],
    JobQueue[BotContext],
]
