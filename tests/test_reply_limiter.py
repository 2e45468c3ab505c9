"""The reply rate limiter: no broadcast cap on answers; groups keep PTB's per-minute budget."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from telegram.ext import AIORateLimiter

from bot.runtime.app import reply_rate_limiter


async def _call(limiter: AIORateLimiter, chat_id: int | None, sent: list[float]) -> None:
    async def callback() -> bool:
        sent.append(time.monotonic())
        return True

    data: dict[str, Any] = {} if chat_id is None else {"chat_id": chat_id}
    await limiter.process_request(callback, (), {}, "sendMessage", data, None)


async def test_answers_are_not_held_to_the_broadcast_rate() -> None:
    limiter = reply_rate_limiter()
    sent: list[float] = []
    start = time.monotonic()
    await asyncio.gather(*(_call(limiter, 1000 + n, sent) for n in range(100)))
    for _ in range(10):  # a person answered quickly several times in a row
        await _call(limiter, 42, sent)
    assert len(sent) == 110
    assert time.monotonic() - start < 0.5


def test_a_group_keeps_twenty_a_minute_and_429s_are_retried() -> None:
    limiter = reply_rate_limiter()
    assert limiter._group_max_rate == 20 and limiter._group_time_period == 60
    assert limiter._max_retries == 2
    assert limiter._base_limiter is None  # no overall cap
