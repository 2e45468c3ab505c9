"""The glue every handler shares: command specs, role guards, button data, replies."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatType
from telegram.error import BadRequest

from bot import texts
from bot.domain.roles import Principal, Role
from bot.transport import api
from db import people
from handlers.context import BotContext

log = logging.getLogger(__name__)

Handler = Callable[[Update, BotContext], Coroutine[Any, Any, None]]
ButtonHandler = Callable[
    [Update, BotContext, Principal, tuple[str, ...]], Coroutine[Any, Any, None]
]

ANYONE: frozenset[Role] = frozenset()
LIAISON = frozenset({Role.LIAISON})
OFFICE = frozenset({Role.OFFICE})
LEADER = frozenset({Role.LEADER})
ADMIN = frozenset({Role.ADMIN})
READERS = frozenset({Role.OFFICE, Role.LEADER, Role.ADMIN})
BOUND = frozenset(Role)

MAX_TEXT = 2000  # a progress reply longer than this is refused, not stored
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


@dataclass(frozen=True)
class CommandSpec:
    """One command: its handler, who may use it, and its menu description (Chinese)."""

    name: str
    callback: Handler
    roles: frozenset[Role]
    menu: str
    in_menu: bool = True


@dataclass(frozen=True)
class ButtonSpec:
    """One kind of inline button, by the prefix of its callback data."""

    prefix: str
    callback: ButtonHandler
    roles: frozenset[Role]


def clean_text(text: str) -> str:
    """Strip control and direction-override characters and outer white space."""
    return _CONTROL.sub("", text).strip()


def encode(prefix: str, *args: object) -> str:
    """Callback data: prefix and arguments joined by ':' (checked against the 64-byte limit)."""
    data = ":".join([prefix, *(str(a) for a in args)])
    if len(data.encode("utf-8")) > 64:
        raise ValueError(f"callback data over 64 bytes: {data!r}")
    return data


def decode(data: str | None) -> tuple[str, tuple[str, ...]] | None:
    """Split callback data; None for anything malformed (it is untrusted input)."""
    if not data or len(data.encode("utf-8")) > 64:
        return None
    if not re.fullmatch(r"[a-z]{1,4}(:[A-Za-z0-9_\-]{0,40}){0,5}", data):
        return None
    prefix, *args = data.split(":")
    return prefix, tuple(args)


def page_buttons(page: int, pages: int, data: Callable[[int], str]) -> list[InlineKeyboardButton]:
    """Previous / next page buttons (none past either end); `data(page)` is a page's data."""
    row = []
    if page > 0:
        row.append(InlineKeyboardButton(texts.PREV_PAGE, callback_data=data(page - 1)))
    if page + 1 < pages:
        row.append(InlineKeyboardButton(texts.NEXT_PAGE, callback_data=data(page + 1)))
    return row


def int_arg(args: tuple[str, ...], index: int, *, low: int = 0, high: int = 10**12) -> int | None:
    """An integer argument of button data within bounds, or None."""
    if index >= len(args) or not re.fullmatch(r"\d{1,12}", args[index]):
        return None
    value = int(args[index])
    return value if low <= value <= high else None


async def answer(query: CallbackQuery, text: str | None = None, *, alert: bool = False) -> None:
    """Answer a button press; a press already answered (e.g. by a run before a crash) is fine.

    Telegram refuses a second answer ("query is too old"). That must not fail the update,
    or the work the press did — a report stored — would be rolled back.
    """
    try:
        await query.answer(text, show_alert=alert)
    except BadRequest as exc:
        log.info("callback query %s not answered: %s", query.id, exc)


async def reply(update: Update, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Reply in the update's chat, split past Telegram's 4096 characters."""
    message = update.effective_message
    if message is None:
        return
    parts = texts.split_message(text)
    thread = message.message_thread_id if message.is_topic_message else None
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        await api.send_text(
            message.get_bot(), message.chat_id, part, markup if last else None, thread_id=thread
        )


async def edit_or_reply(
    update: Update, text: str, markup: InlineKeyboardMarkup | None = None
) -> None:
    """Edit the message a button sits on; fall back to a new message if it is too long."""
    query = update.callback_query
    fits = texts.visible_length(text) <= texts.LIMIT
    if query is not None and isinstance(query.message, Message) and fits:
        message = query.message
        try:
            await api.edit_text(
                message.get_bot(), message.chat_id, message.message_id, text, markup
            )
        except BadRequest as exc:
            # Handling the same press again (after a crash) finds the edit already made.
            if "not modified" not in str(exc).lower():
                raise
        return
    await reply(update, text, markup)


async def tell_unbound(update: Update, context: BotContext) -> None:
    """Tell an account that is not bound how to bind, a few times per window, then nothing
    (bot.domain.budget); a button press is always answered, without text once silent."""
    user = update.effective_user
    allowed = user is not None and context.services.unbound_budget().allow(user.id, context.now())
    query = update.callback_query
    if not allowed:
        context.forget_update()  # a flood's content is not kept (growth stays bounded)
    if query is not None:
        await answer(query, texts.UNBOUND if allowed else None, alert=allowed)
    elif allowed:
        await reply(update, texts.UNBOUND)


async def deny(update: Update, context: BotContext, principal: Principal, what: str) -> None:
    """Refuse, record the denial, change nothing else."""
    if not principal.bound:
        # Not recorded: a stranger's flood must not grow the audit log (it is the inbox's).
        await tell_unbound(update, context)
        return
    user = update.effective_user
    await people.audit(
        context.session,
        at=context.now(),
        actor=user.id if user else None,
        action="denied",
        target=what[:200],
    )
    query = update.callback_query
    if query is not None:
        await answer(query, texts.denied_for(principal), alert=True)
    else:
        await reply(update, texts.denied_for(principal))


def private_chat(update: Update) -> bool:
    """True in a one-to-one chat with the bot."""
    chat = update.effective_chat
    return chat is not None and chat.type == ChatType.PRIVATE


def guard_command(spec: CommandSpec) -> Handler:
    """Wrap a command so the caller's role is checked from the database on every message."""

    async def guarded(update: Update, context: BotContext) -> None:
        user = update.effective_user
        if user is None or not private_chat(update):
            return  # groups are for the office's 通报 only; commands there are ignored
        principal = await context.principal(user.id)
        if not principal.may(spec.roles):
            await deny(update, context, principal, f"/{spec.name}")
            return
        await spec.callback(update, context)

    guarded.__name__ = f"cmd_{spec.name}"
    return guarded


def make_button_router(specs: tuple[ButtonSpec, ...]) -> Handler:
    """One entry point for every button press: parse, check the role, dispatch."""
    table = {s.prefix: s for s in specs}

    async def route(update: Update, context: BotContext) -> None:
        query: CallbackQuery | None = update.callback_query
        user = update.effective_user
        if query is None or user is None:
            return
        parsed = decode(query.data)
        spec = table.get(parsed[0]) if parsed else None
        if parsed is None or spec is None:
            await people.audit(
                context.session,
                at=context.now(),
                actor=user.id,
                action="denied",
                target="button:malformed",
                detail={"data": (query.data or "")[:80]},
            )
            await answer(query, texts.STALE_BUTTON, alert=True)
            return
        principal = await context.principal(user.id)
        if not private_chat(update) or not principal.may(spec.roles):
            await deny(update, context, principal, f"button:{spec.prefix}")
            return
        await spec.callback(update, context, principal, parsed[1])

    return route
