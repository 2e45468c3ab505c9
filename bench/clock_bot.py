"""The bot (BotRuntime and its jobs) on a clock starting at a fixed moment and running in real time.

`BENCH_CLOCK_START` (ISO, aware) is "now" at wall time `BENCH_CLOCK_ORIGIN` (Unix seconds);
every restart continues the same timeline, so a benchmark can crash and restart the bot on the
day it chooses (e.g. a deadline day at 09:05) whatever the machine's date. Otherwise this is
`python -m bot run`: same settings from the environment, same runtime, same jobs, SIGTERM stops.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import time
from datetime import datetime, timedelta

from bot.config import load_settings
from bot.runtime.run import BotRuntime, tune_collector


class OffsetClock:
    """Real time, shifted so that `origin` (Unix seconds) is `start`."""

    def __init__(self, start: datetime, origin: float) -> None:
        if start.tzinfo is None:
            raise ValueError("aware start required")
        self.start = start
        self.origin = origin

    def now(self) -> datetime:
        """The shifted current time."""
        return self.start + timedelta(seconds=time.time() - self.origin)


async def run() -> int:
    """Run until SIGTERM or SIGINT."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    settings = load_settings()
    clock = OffsetClock(
        datetime.fromisoformat(os.environ["BENCH_CLOCK_START"]),
        float(os.environ["BENCH_CLOCK_ORIGIN"]),
    )
    runtime = BotRuntime(settings, clock=clock)
    await runtime.start()
    tune_collector()  # as `bot run` does
    try:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
    finally:
        await runtime.stop()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(run()))
