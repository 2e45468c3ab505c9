"""The sandbox: see the bot work before asking BotFather for a token.

``python -m bot run`` without ``BOT_TOKEN`` calls ``run_sandbox``: the Telegram Bot API emulator
runs in-process, the real bot talks to it on a simulated clock and its own SQLite database
(``data/sandbox.db``, never the production ``DATABASE_URL``), and a page on
``http://SANDBOX_HOST:SANDBOX_PORT/`` lets a person act as a liaison, the office, a leader or
the admin (or a new, unbound person), press the bot's buttons, read the work group the bot posts
its 通报 in, and move the clock forward.

Simulated time: a fresh sandbox starts on the first workday from 16 March of the register's
year at the reminder time (2026-03-16 09:00, a Monday), ten days before the month's deadline,
so one "快进一个月" shows reminders, the deadline, overdue reminders, escalations and the next
cycle. The time is stored in the database (AppState ``sandbox_clock``) and a restart continues
from it; "跳到今天" jumps forward to the real date. Time never goes back. Each clock step stops
at every day's summary time and reminder time on the way and at its end, and there runs what the
scheduler runs (the daily summaries and the reminder planner, which decide themselves about
workdays and what is due), then delivers the outbox; each message shows the simulated time it
was sent at. A jump longer than two months is a bot that was down: one catch-up run at midnight
two months before the jump's end, then day by day. While a step runs the page shows the clock
and the messages moving. Telegram's 20 messages a minute per group is sped up in the sandbox
(the page says so; ``world.GROUP_PER_MINUTE``), so a month passes in a few seconds. Delete
``data/sandbox.db`` to start over.

Screenshots of each role's main screens: ``python -m bot.sandbox.screenshots`` (``make
screenshots``) writes them to ``docs/screenshots/``.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import webbrowser
from datetime import datetime

from bot.config import ConfigError, Settings
from bot.sandbox.server import PageServer, is_loopback
from bot.sandbox.world import DEFAULT_DATABASE_URL, Sandbox

__all__ = ["DEFAULT_DATABASE_URL", "PageServer", "Sandbox", "run_sandbox"]


async def run_sandbox(
    settings: Settings,
    *,
    open_browser: bool = False,
    database_url: str | None = None,
    start: datetime | None = None,
) -> None:
    """Run the sandbox until SIGINT/SIGTERM or cancellation, printing the page's address."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    handled: list[signal.Signals] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
            handled.append(sig)
    if not is_loopback(settings.sandbox_host):
        if not settings.sandbox_allow_remote:
            raise ConfigError(
                f"沙盒只在本机地址提供（SANDBOX_HOST={settings.sandbox_host} 不是本机地址）；"
                "确需在网络上提供，请同时设置 SANDBOX_ALLOW_REMOTE=true。"
            )
        print(
            f"警告：沙盒网页将在 {settings.sandbox_host} 上对网络开放，任何能访问该地址的人"
            "都可以管理员身份操作沙盒。",
            file=sys.stderr,
            flush=True,
        )
    sandbox = Sandbox(settings, database_url=database_url, start=start)
    # The page's port first: a port in use is reported before anything else starts.
    server = PageServer(sandbox, settings.sandbox_host, settings.sandbox_port)
    try:
        try:
            await server.start()
        except OSError as exc:
            raise ConfigError(
                f"沙盒网页无法在 {settings.sandbox_host}:{settings.sandbox_port} 启动"
                f"（{exc.strerror or exc}），请设置其他 SANDBOX_PORT。"
            ) from None
        async with sandbox:
            print(
                f"沙盒已启动：请在浏览器中打开 {server.url} "
                f"（数据库 {sandbox.database_url.split('///', 1)[-1]}，按 Ctrl+C 结束）",
                flush=True,
            )
            if open_browser:
                await asyncio.to_thread(webbrowser.open, server.url)
            await stop.wait()
    finally:
        await server.stop()
        for sig in handled:
            loop.remove_signal_handler(sig)
