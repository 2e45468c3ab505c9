"""Bot API calls whose answer is not needed as python-telegram-bot objects.

`Bot.send_message` and `Message.edit_text` parse Telegram's answer into a `Message` (its
sender, chat, entities, reply markup: dozens of objects). The bot never reads that answer
beyond the new message's id, and parsing it was the largest single cost after the HTTP call
itself: about 8% of the CPU of handling a report step (bench.updates) and 14% of sending a
reminder (bench.fanout). These helpers make the same calls through `Bot._post`, the method
every `Bot` method ends in (python-telegram-bot 20-22): the `Defaults` and the rate limiter
apply, and Telegram's errors are raised as the `Bot` methods raise them (RetryAfter,
Forbidden, BadRequest, ...), but the answer is left as Telegram's JSON.

The formatting every message of the bot uses is set here once: HTML, no link previews.
`Defaults` in `bot.runtime.app` fill it in for the `Bot` methods; `_post` passes parameters through
as given, so the helpers name it themselves.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from telegram import Bot, InlineKeyboardMarkup, LinkPreviewOptions
from telegram.constants import ParseMode

PARSE_MODE = ParseMode.HTML
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


async def call(bot: Bot, method: str, params: dict[str, Any], **timeouts: Any) -> Any:
    """One Bot API call, answered with Telegram's JSON `result` (a dict, list or bool).

    `timeouts`: python-telegram-bot's `read_timeout` and friends, as `Bot` methods take them.
    """
    return await bot._post(method, params, **timeouts)


def _formatted(
    chat_id: int, text: str, markup: InlineKeyboardMarkup | dict[str, Any] | None, **more: Any
) -> dict[str, Any]:
    """A text's parameters in the bot's formatting (`Bot._post` drops those left None)."""
    return {
        "chat_id": chat_id,
        "text": text,
        "parse_mode": PARSE_MODE,
        "link_preview_options": NO_PREVIEW,
        "reply_markup": markup,
        **more,
    }


async def send_text(
    bot: Bot,
    chat_id: int,
    text: str,
    markup: InlineKeyboardMarkup | dict[str, Any] | None = None,
    *,
    thread_id: int | None = None,
) -> int:
    """sendMessage in the bot's formatting; the new message's id.

    `markup` may also be given as the JSON object it stands for (as the outbox stores it).
    """
    params = _formatted(chat_id, text, markup, message_thread_id=thread_id)
    result = await call(bot, "sendMessage", params)
    return int(result["message_id"])


async def edit_text(
    bot: Bot, chat_id: int, message_id: int, text: str, markup: InlineKeyboardMarkup | None
) -> None:
    """editMessageText in the bot's formatting (the markup replaced, or removed if None)."""
    await call(bot, "editMessageText", _formatted(chat_id, text, markup, message_id=message_id))


async def send_file(bot: Bot, chat_id: int, kind: str, file_id: str, caption: str) -> int:
    """sendPhoto ("photo") or sendDocument (anything else) of a file Telegram already has,
    by its file id, with an HTML caption; the new message's id."""
    field = "photo" if kind == "photo" else "document"
    method = "sendPhoto" if kind == "photo" else "sendDocument"
    params = {"chat_id": chat_id, field: file_id, "caption": caption, "parse_mode": PARSE_MODE}
    result = await call(bot, method, params)
    return int(result["message_id"])


async def upload_file(
    bot: Bot, chat_id: int, kind: str, path: Path, name: str, caption: str
) -> None:
    """sendPhoto ("photo") or sendDocument of a local file, with an HTML caption."""
    data = await asyncio.to_thread(path.read_bytes)
    if kind == "photo":
        await bot.send_photo(chat_id, data, caption=caption, parse_mode=PARSE_MODE)
    else:
        await bot.send_document(
            chat_id, data, filename=name, caption=caption, parse_mode=PARSE_MODE
        )


async def download(bot: Bot, file_id: str, path: Path) -> int:
    """getFile, then download the file to `path`; the bytes written."""
    found = await bot.get_file(file_id)
    await found.download_to_drive(path)
    return (await asyncio.to_thread(path.stat)).st_size
