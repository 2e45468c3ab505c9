"""`python -m bot run` without python-telegram-bot's reply rate limiter (30 calls/s overall).

Only for benchmark 1's extra row: it shows what the handling itself costs once Telegram's
30 messages/s (which the deployed bot respects through AIORateLimiter) is not the ceiling.
"""

from __future__ import annotations

import sys
from typing import Any

import bot.runtime
from bot.app import build_application
from bot.cli import main
from handlers.context import BotApp, Services


def build_without_limiter(services: Services, **kwargs: Any) -> BotApp:
    """The real Application, handlers and error handler included, minus the rate limiter."""
    return build_application(services, rate_limiter=False, **kwargs)


if __name__ == "__main__":
    bot.runtime.build_application = build_without_limiter
    sys.exit(main(["run"]))
