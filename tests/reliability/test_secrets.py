"""The bot token never reaches output or the database (issue 19, finding 8): a start-up with a
token Telegram rejects, and one against a server that redirects in a loop (the URL, which holds
the token, is quoted by the error)."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from aiohttp import web

from bot.emulator import EmulatorServer

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "7412589630:AAHkq2JZ-wrongTokenForTheTest_0123456789"


async def _run_bot(base_url: str, workdir: Path) -> tuple[int, str, bytes]:
    """`python -m bot run` with TOKEN: its exit code, its output, the database's bytes."""
    database = workdir / "bot.db"
    env = {k: v for k, v in os.environ.items() if k not in ("BOT_TOKEN", "DATABASE_URL")}
    env.update(
        BOT_TOKEN=TOKEN,
        TELEGRAM_BASE_URL=base_url,
        DATABASE_URL=f"sqlite+aiosqlite:///{database}",
        PYTHONPATH=str(ROOT),
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", cwd=workdir, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), 60)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    stored = await asyncio.to_thread(
        lambda: b"".join(p.read_bytes() for p in workdir.glob("bot.db*"))
    )
    return proc.returncode or 0, out.decode(errors="replace"), stored


async def test_a_rejected_token_is_one_line_without_the_token(tmp_path: Path) -> None:
    async with EmulatorServer() as server:
        code, output, stored = await _run_bot(server.url, tmp_path)
    assert code == 2, output
    assert "BOT_TOKEN 被 Telegram 拒绝" in output
    assert TOKEN not in output and TOKEN.encode() not in stored
    assert TOKEN.split(":")[1] not in output


async def test_a_redirect_loop_does_not_leak_the_token(tmp_path: Path) -> None:
    async def loop(request: web.Request) -> web.Response:
        raise web.HTTPFound(str(request.url))

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", loop)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        code, output, stored = await _run_bot(f"http://127.0.0.1:{port}", tmp_path)
    finally:
        await runner.cleanup()
    assert code != 0
    assert "<BOT_TOKEN>" in output or "redirect" in output.lower(), output
    assert TOKEN not in output and TOKEN.encode() not in stored
    assert TOKEN.split(":")[1] not in output
