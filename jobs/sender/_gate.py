"""The sender's pacing: Telegram's overall rate, one message per private chat per interval, and a
per-group budget per minute (`RateGate`).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable

GROUP_SLACK = 0.05  # share of the group window added between a group's 1st and 21st message


class RateGate:
    """Hands out send slots: an overall rate, per private chat spacing, per group budget.

    Private chats have positive ids, groups negative ones. `group_window` is Telegram's minute;
    tests against a sped-up emulator shorten it. `monotonic` and `sleep` are the gate's clock.
    """

    def __init__(
        self,
        rate: float,
        private_interval: float,
        group_per_minute: int,
        monotonic: Callable[[], float] = time.monotonic,
        *,
        group_window: float = 60.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.interval = 1.0 / rate
        self.private_interval = private_interval
        self.group_per_minute = group_per_minute
        self.group_window = group_window
        self.monotonic = monotonic
        self.sleep = sleep
        self._next = 0.0
        self._chat_free: dict[int, float] = {}
        self._group_sent: dict[int, deque[float]] = {}

    def chat_free_at(self, chat_id: int) -> float:
        """When this chat may receive its next message."""
        if chat_id > 0:
            return self._chat_free.get(chat_id, 0.0)
        sent = self._group_sent.get(chat_id)
        if sent is None or len(sent) < self.group_per_minute:
            return 0.0
        # A little slack: a message reaches Telegram a moment after its slot, and a late
        # first one would otherwise still count in the window of the one a minute later.
        return sent[0] + self.group_window * (1 + GROUP_SLACK)

    def pause_chat(self, chat_id: int, seconds: float) -> None:
        """Telegram asked us to wait for this chat."""
        until = self.monotonic() + seconds
        if chat_id > 0:
            self._chat_free[chat_id] = max(self._chat_free.get(chat_id, 0.0), until)
        else:
            sent = self._group_sent.setdefault(chat_id, deque())
            sent.extend([until - self.group_window * (1 + GROUP_SLACK)] * self.group_per_minute)
            while len(sent) > self.group_per_minute:
                sent.popleft()

    async def take(self, chat_id: int) -> None:
        """Wait for the next overall slot and book the chat (call only when the chat is free)."""
        now = self.monotonic()
        slot = max(now, self._next)
        self._next = slot + self.interval
        if chat_id > 0:
            self._chat_free[chat_id] = slot + self.private_interval
        else:
            sent = self._group_sent.setdefault(chat_id, deque())
            sent.append(slot)
            while len(sent) > self.group_per_minute:
                sent.popleft()
        if slot > now:
            await self.sleep(slot - now)
