"""`python -m bot run` without its reply rate limiter (bot.runtime.app.reply_rate_limiter).

Only for benchmark 1's extra row: the handling alone, with no limiter at all (like the echo
bot), to show what the deployed bot's reply limiter costs in that benchmark.
"""

from __future__ import annotations

import sys
from typing import Any

import bot.runtime.run
from bot.cli import main
from bot.runtime.app import build_application
from handlers.context import BotApp, Services


def build_without_limiter(services: Services, **kwargs: Any) -> BotApp:
    """The real Application, handlers and error handler included, minus the reply limiter."""
    return build_application(services, rate_limiter=False, **kwargs)


if __name__ == "__main__":
    bot.runtime.run.build_application = build_without_limiter
    sys.exit(main(["run"]))
