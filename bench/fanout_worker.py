"""One sender of benchmark 2, as its own process: `python -m bench.fanout_worker --mode ...`.

Modes (each sends the pending outbox of the database it is given, then prints one JSON line):
- `outbox`: the bot's own OutboxSender with its RateGate scaled by `--speedup`, on a fixed clock
  (the planning moment), exactly as the running bot delivers reminders;
- `aiorate`: the baseline — python-telegram-bot's stock AIORateLimiter (overall and group
  rates scaled by `--speedup`) wrapping a plain loop over the same messages;
- `raw`: the same loop with no limiter at all (the HTTP path's physical ceiling).

All three use the bot's HTTP transport (`bot.transport.http.AiohttpRequest`), so the modes
differ only in
how they pace.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import time
from datetime import datetime
from typing import Any

from sqlalchemy import select
from telegram import Bot, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import AIORateLimiter, ExtBot

from bot.config import Settings
from bot.domain.clock import ManualClock
from bot.transport.http import AiohttpRequest
from db.engine import create_engine, make_sessionmaker
from db.models import OutboxMessage
from jobs.sender import OutboxSender, RateGate


async def run_outbox(args: argparse.Namespace, settings: Settings) -> dict[str, Any]:
    """Deliver with the bot's OutboxSender until nothing is pending."""
    engine = create_engine(args.db)
    sessionmaker = make_sessionmaker(engine)
    request = AiohttpRequest(connection_pool_size=settings.send_concurrency + 2)
    bot = Bot(args.token, base_url=f"{args.base_url}/bot", request=request)
    await bot.initialize()
    clock = ManualClock(datetime.fromisoformat(args.now))
    gate = RateGate(
        settings.send_rate_per_second * args.speedup,
        settings.send_private_interval / args.speedup,
        settings.send_group_per_minute,
    )
    sender = OutboxSender(bot, sessionmaker, clock, settings, gate=gate)
    totals: dict[str, Any] = {"sent": 0, "retried": 0, "failed": 0, "cancelled": 0, "runs": 0}
    t0 = time.perf_counter()
    try:
        while True:
            stats = await sender.run_once()
            totals["runs"] += 1
            for key in ("sent", "retried", "failed", "cancelled"):
                totals[key] += getattr(stats, key)
            async with sessionmaker() as session:
                left = (
                    await session.scalars(
                        select(OutboxMessage.next_attempt_at)
                        .where(OutboxMessage.status == "pending")
                        .order_by(OutboxMessage.next_attempt_at)
                        .limit(1)
                    )
                ).first()
            if left is None:
                break
            # Retries wait on the clock we own: move it to the next attempt.
            wait = (left - clock.now()).total_seconds()
            if wait > 0:
                await asyncio.sleep(min(wait / args.speedup, 1.0))
                clock.set(max(clock.now(), left))
    finally:
        totals["elapsed"] = time.perf_counter() - t0
        await bot.shutdown()
        await engine.dispose()
    return totals


async def run_loop(args: argparse.Namespace, settings: Settings) -> dict[str, Any]:
    """A plain send loop over the outbox's messages, with or without AIORateLimiter."""
    engine = create_engine(args.db)
    async with make_sessionmaker(engine)() as session:
        rows = (
            await session.execute(
                select(OutboxMessage.chat_id, OutboxMessage.text).order_by(OutboxMessage.id)
            )
        ).all()
    await engine.dispose()
    limiter: AIORateLimiter | None = None
    if args.mode == "aiorate":
        limiter = AIORateLimiter(
            overall_max_rate=30 * args.speedup,
            group_max_rate=20 * args.speedup,
            max_retries=3,
        )
    request = AiohttpRequest(connection_pool_size=settings.send_concurrency + 2)
    bot: ExtBot[None] = ExtBot(
        args.token,
        base_url=f"{args.base_url}/bot",
        request=request,
        rate_limiter=limiter,  # type: ignore[arg-type]  # PTB's generics: any limiter fits
    )
    await bot.initialize()
    workers = asyncio.Semaphore(settings.send_concurrency)
    totals: dict[str, Any] = {"sent": 0, "failed": 0}
    preview = LinkPreviewOptions(is_disabled=True)

    async def send(chat_id: int, text: str) -> None:
        async with workers:
            try:
                await bot.send_message(
                    chat_id, text, parse_mode=ParseMode.HTML, link_preview_options=preview
                )
                totals["sent"] += 1
            except TelegramError:
                totals["failed"] += 1

    t0 = time.perf_counter()
    try:
        await asyncio.gather(*(send(chat_id, text) for chat_id, text in rows))
    finally:
        totals["elapsed"] = time.perf_counter() - t0
        await bot.shutdown()
    return totals


def main() -> int:
    """Command line: send, then print the totals as one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=["outbox", "aiorate", "raw"], required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--speedup", type=float, default=100.0)
    parser.add_argument("--now", required=True, help="the planning moment (ISO, aware)")
    parser.add_argument("--concurrency", type=int, default=None)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    overrides: dict[str, Any] = {}
    if args.concurrency:
        overrides["send_concurrency"] = args.concurrency
    settings = Settings(_env_file=None, **overrides)
    runner = run_outbox if args.mode == "outbox" else run_loop
    totals = asyncio.run(runner(args, settings))
    print(json.dumps(totals), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
