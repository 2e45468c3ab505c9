"""The bot as a real process (`python -m bot run`) against the emulator, for kill tests."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from bot.emulator import EmulatorServer

ROOT = Path(__file__).resolve().parent.parent


class BotProcess:
    """Start, SIGKILL and restart `python -m bot run` with a given database."""

    def __init__(self, server: EmulatorServer, database_url: str, workdir: Path) -> None:
        self.server = server
        self.database_url = database_url
        self.workdir = workdir
        self.proc: asyncio.subprocess.Process | None = None
        self.people = server.client()
        self.starts = 0
        self.kills = 0

    def env(self) -> dict[str, str]:
        """The bot's environment: the emulator as Telegram, our database, no .env file."""
        env = {k: v for k, v in os.environ.items() if k not in ("BOT_TOKEN", "DATABASE_URL")}
        env.update(
            BOT_TOKEN=self.server.token,
            TELEGRAM_BASE_URL=self.server.url,
            DATABASE_URL=self.database_url,
            PYTHONPATH=str(ROOT),
        )
        return env

    async def start(self) -> None:
        """Start the bot and wait until it polls for updates."""
        before = await self._polls()
        log = (self.workdir / f"bot-{self.starts}.log").open("wb")
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            cwd=self.workdir,
            env=self.env(),
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
        )
        log.close()
        self.starts += 1
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 30
        while await self._polls() <= before:
            if self.proc.returncode is not None or loop.time() > deadline:
                raise RuntimeError(f"bot did not start; see {self.workdir}/bot-*.log")
            await asyncio.sleep(0.05)

    async def kill(self) -> None:
        """SIGKILL: no clean-up of any kind."""
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGKILL)
            self.kills += 1
        await self.proc.wait()

    async def stop(self) -> None:
        """SIGTERM and wait."""
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), timeout=15)
            except TimeoutError:
                await self.kill()

    async def _polls(self) -> int:
        calls = (await self.people.stats()).get("calls", {})
        return sum(int(n) for method, n in calls.items() if method.lower() == "getupdates")
