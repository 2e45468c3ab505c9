"""The framework's floor: python-telegram-bot's echo example and nothing else (bench.echo_bot).

Reads BOT_TOKEN and TELEGRAM_BASE_URL from the environment, long-polls like the real bot and
answers every text with the same text.
"""

from __future__ import annotations

import os

from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send the text back."""
    message = update.effective_message
    if message is not None and message.text:
        await message.reply_text(message.text)


def main() -> None:
    """Build the Application and poll until SIGTERM."""
    base = os.environ["TELEGRAM_BASE_URL"].rstrip("/")
    application = (
        Application.builder()
        .token(os.environ["BOT_TOKEN"])
        .base_url(f"{base}/bot")
        .base_file_url(f"{base}/file/bot")
        .build()
    )
    application.add_handler(MessageHandler(filters.TEXT, echo))
    application.run_polling(timeout=10, allowed_updates=["message"])


if __name__ == "__main__":
    main()
