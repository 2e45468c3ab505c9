"""A real telegram.ext.Application polling the emulator: commands, buttons, errors."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import NetworkError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
)

from bot.emulator import ControlClient, Emulator, EmulatorRequest, EmulatorServer, FaultKind

WELCOME = "欢迎使用<b>督办助手</b>"
ACK = InlineKeyboardMarkup([[InlineKeyboardButton("收到", callback_data="ack")]])


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Greet with a button."""
    assert update.effective_message is not None
    await update.effective_message.reply_html(WELCOME, reply_markup=ACK)


async def acknowledge(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer the press and edit the message."""
    query = update.callback_query
    assert query is not None
    await query.answer("已确认")
    await query.edit_message_text("✅ 已确认")


def add_handlers(
    app: Application,
    errors: list[object],
    error_seen: asyncio.Event | None = None,
) -> None:
    """Register the two handlers and an error handler that records every exception."""

    async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        errors.append(context.error)
        if error_seen is not None:
            error_seen.set()

    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(acknowledge, pattern="^ack$"))
    app.add_error_handler(on_error)


@asynccontextmanager
async def running(app: Application) -> AsyncIterator[None]:
    """Run the application with polling for the duration of the block."""
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(timeout=2)
        try:
            yield
        finally:
            await app.updater.stop()
            await app.stop()


async def _start_and_press(people: ControlClient) -> None:
    alice = await people.create_user("Alice", username="alice")
    await people.start_bot(alice.id)
    welcome = await people.wait_for_bot_message(alice.id)
    assert welcome.plain == "欢迎使用督办助手"
    assert welcome.reply_to is None
    query = await people.press_button(alice.id, welcome.message_id, text="收到")
    answer = await people.wait_for_callback_answer(query.id)
    assert answer.text == "已确认"
    edited = await people.wait_for_edit(alice.id, welcome.message_id)
    assert edited.plain == "✅ 已确认"
    assert edited.buttons == []
    assert [v.plain for v in edited.edits] == ["欢迎使用督办助手"]


async def test_application_over_http(server: EmulatorServer, people: ControlClient) -> None:
    """/start gets the greeting; pressing its button gets an answer and an edit."""
    errors: list[object] = []
    app = (
        ApplicationBuilder()
        .token(server.token)
        .base_url(server.base_url)
        .base_file_url(server.base_file_url)
        .build()
    )
    add_handlers(app, errors)
    async with running(app):
        await _start_and_press(people)
    assert errors == []


async def test_application_in_process(local_emu: Emulator, local_people: ControlClient) -> None:
    """The same flow with EmulatorRequest, no sockets."""
    errors: list[object] = []
    app = (
        ApplicationBuilder()
        .token(local_emu.token)
        .request(EmulatorRequest(local_emu))
        .get_updates_request(EmulatorRequest(local_emu))
        .build()
    )
    add_handlers(app, errors)
    async with running(app):
        await _start_and_press(local_people)
    assert errors == []


async def test_handler_failures_reach_the_error_handler(
    server: EmulatorServer, people: ControlClient
) -> None:
    """A failed send in a handler reaches the error handler; polling survives a 500."""
    errors: list[object] = []
    app = (
        ApplicationBuilder()
        .token(server.token)
        .base_url(server.base_url)
        .base_file_url(server.base_file_url)
        .build()
    )
    error_seen = asyncio.Event()
    add_handlers(app, errors, error_seen)
    await people.add_fault(FaultKind.SERVER_ERROR, methods=["getUpdates"], times=1)
    await people.add_fault(FaultKind.SERVER_ERROR, methods=["sendMessage"], times=1)
    async with running(app):
        bob = await people.create_user("Bob")
        await people.start_bot(bob.id)
        await asyncio.wait_for(error_seen.wait(), 5)
        await people.send_command(bob.id, "start")
        welcome = await people.wait_for_bot_message(bob.id)
        assert welcome.plain == "欢迎使用督办助手"
    assert len(errors) == 1
    assert isinstance(errors[0], NetworkError)
    stats = await people.stats()
    assert stats["faults"]["getUpdates"] == {"server_error": 1}
