"""Telegram's flood limits for sending messages, and the call statistics benchmarks read.

Telegram documents: about 30 messages per second overall per bot, one message per second in a
private chat (short bursts are tolerated) and 20 messages per minute in a group. ``speedup``
scales every rate up (and every ``retry_after`` down) so benchmarks run in seconds: with
``speedup=100`` the bot may send 3000 messages/s overall and 100/s per private chat.
"""

from __future__ import annotations

import math
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any


@dataclass
class RateLimitConfig:
    """Which limits are enforced and how fast the emulated clock runs."""

    enabled: bool = False
    speedup: float = 1.0
    global_per_second: float = 30.0
    private_per_second: float = 1.0
    private_burst: int = 3
    group_per_minute: float = 20.0

    def to_json(self) -> dict[str, Any]:
        """Describe the configuration as JSON."""
        return {
            "enabled": self.enabled,
            "speedup": self.speedup,
            "global_per_second": self.global_per_second,
            "private_per_second": self.private_per_second,
            "private_burst": self.private_burst,
            "group_per_minute": self.group_per_minute,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RateLimitConfig:
        """Build a configuration from JSON (missing keys keep Telegram's defaults)."""
        default = cls()
        return cls(
            enabled=bool(data.get("enabled", True)),
            speedup=float(data.get("speedup", default.speedup)),
            global_per_second=float(data.get("global_per_second", default.global_per_second)),
            private_per_second=float(data.get("private_per_second", default.private_per_second)),
            private_burst=int(data.get("private_burst", default.private_burst)),
            group_per_minute=float(data.get("group_per_minute", default.group_per_minute)),
        )


class SlidingWindow:
    """At most ``limit`` events in any window of ``period`` seconds."""

    def __init__(self, limit: int, period: float) -> None:
        self.limit = limit
        self.period = period
        self._events: deque[float] = deque()

    def wait_time(self, now: float) -> float:
        """Seconds until one more event fits (0 if it fits now)."""
        while self._events and self._events[0] <= now - self.period:
            self._events.popleft()
        if len(self._events) < self.limit:
            return 0.0
        return self._events[0] + self.period - now

    def record(self, now: float) -> None:
        """Record an accepted event."""
        self._events.append(now)


class TokenBucket:
    """``rate`` events per second with bursts of up to ``capacity``."""

    def __init__(self, capacity: float, rate: float, now: float) -> None:
        self.capacity = capacity
        self.rate = rate
        self._tokens = capacity
        self._stamp = now

    def wait_time(self, now: float) -> float:
        """Seconds until one more event fits (0 if it fits now)."""
        self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now
        if self._tokens >= 1.0:
            return 0.0
        return (1.0 - self._tokens) / self.rate

    def record(self, now: float) -> None:
        """Take one token for an accepted event."""
        self._tokens -= 1.0


class RateLimiter:
    """Flood control over sends: overall, per private chat and per group."""

    def __init__(self, config: RateLimitConfig | None = None) -> None:
        self.config = config or RateLimitConfig()
        self._reset_windows()

    def _reset_windows(self) -> None:
        c = self.config
        self._global = SlidingWindow(max(1, round(c.global_per_second)), 1.0 / c.speedup)
        self._private: dict[int, TokenBucket] = {}
        self._groups: dict[int, SlidingWindow] = {}

    def configure(self, config: RateLimitConfig) -> None:
        """Switch to a new configuration and forget the history."""
        self.config = config
        self._reset_windows()

    def check(self, chat_id: int, *, is_private: bool, now: float | None = None) -> float:
        """Return 0 and record the send if it is within limits, else the seconds to wait."""
        c = self.config
        if not c.enabled:
            return 0.0
        now = time.monotonic() if now is None else now
        if is_private:
            chat_limit: SlidingWindow | TokenBucket = self._private.setdefault(
                chat_id,
                TokenBucket(c.private_burst, c.private_per_second * c.speedup, now),
            )
        else:
            chat_limit = self._groups.setdefault(
                chat_id,
                SlidingWindow(max(1, round(c.group_per_minute)), 60.0 / c.speedup),
            )
        wait = max(self._global.wait_time(now), chat_limit.wait_time(now))
        if wait > 0:
            return wait
        self._global.record(now)
        chat_limit.record(now)
        return 0.0

    def retry_after(self, wait: float) -> int | float:
        """The ``retry_after`` to announce: whole seconds at real speed, scaled under speedup."""
        if self.config.speedup == 1.0:
            return max(1, math.ceil(wait))
        return round(max(wait, 0.001), 3)


@dataclass
class Stats:
    """Counts of calls per method and outcome, rate-limit violations, accepted-send timestamps."""

    calls: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[tuple[str, str]] = field(default_factory=Counter)
    violations: int = 0
    violations_per_chat: Counter[int] = field(default_factory=Counter)
    send_times: list[float] = field(default_factory=list)

    def reset(self) -> None:
        """Forget everything counted so far."""
        self.calls.clear()
        self.outcomes.clear()
        self.violations = 0
        self.violations_per_chat.clear()
        self.send_times.clear()

    def to_json(self, faults: Counter[tuple[str, str]]) -> dict[str, Any]:
        """Describe the statistics as JSON (``send_times`` are Unix timestamps in seconds)."""
        per_method: dict[str, dict[str, int]] = {}
        for (method, outcome), count in sorted(self.outcomes.items()):
            per_method.setdefault(method, {})[outcome] = count
        fault_counts: dict[str, dict[str, int]] = {}
        for (method, kind), count in sorted(faults.items()):
            fault_counts.setdefault(method, {})[kind] = count
        return {
            "calls": dict(sorted(self.calls.items())),
            "outcomes": per_method,
            "faults": fault_counts,
            "faults_total": sum(faults.values()),
            "violations": self.violations,
            "violations_per_chat": {str(k): v for k, v in self.violations_per_chat.items()},
            "accepted_sends": len(self.send_times),
            "send_times": list(self.send_times),
        }
