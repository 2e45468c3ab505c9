"""The reply rate limiter: per private chat a burst then spacing, no overall cap, groups as PTB."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bot.app import ReplyRateLimiter


async def _call(limiter: ReplyRateLimiter, chat_id: object | None, sent: list[float]) -> None:
    async def callback() -> bool:
        sent.append(time.monotonic())
        return True

    data: dict[str, Any] = {} if chat_id is None else {"chat_id": chat_id}
    await limiter.process_request(callback, (), {}, "sendMessage", data, None)


async def test_a_private_chat_gets_a_burst_then_one_per_interval() -> None:
    limiter = ReplyRateLimiter(interval=0.1, burst=3)
    sent: list[float] = []
    start = time.monotonic()
    for _ in range(5):
        await _call(limiter, 42, sent)
    assert all(t - start < 0.05 for t in sent[:3])  # the burst goes at once
    assert sent[3] - start >= 0.07 and sent[4] - start >= 0.17  # then spaced


async def test_many_chats_are_not_held_to_a_broadcast_rate() -> None:
    limiter = ReplyRateLimiter(interval=1.0, burst=2)
    sent: list[float] = []
    start = time.monotonic()
    await asyncio.gather(*(_call(limiter, 1000 + n, sent) for n in range(100)))
    await asyncio.gather(*(_call(limiter, None, sent) for n in range(50)))  # answerCallbackQuery
    assert len(sent) == 150
    assert time.monotonic() - start < 0.5


async def test_a_group_keeps_the_per_minute_budget() -> None:
    limiter = ReplyRateLimiter(interval=1.0)
    limiter._group_max_rate = 2  # PTB's group budget (20/min), made small
    limiter._group_time_period = 0.2
    sent: list[float] = []
    start = time.monotonic()
    for _ in range(3):
        await _call(limiter, -100123, sent)
    assert sent[2] - start >= 0.05
