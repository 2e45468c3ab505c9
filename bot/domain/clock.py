"""The one owner of "now": a system clock, and a movable clock for tests and the sandbox."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from typing import Protocol


class Clock(Protocol):
    """Something that tells the current aware time."""

    def now(self) -> datetime:
        """The current time, aware, in the clock's zone."""
        ...


class SystemClock:
    """The machine's clock in a given zone."""

    def __init__(self, tz: tzinfo) -> None:
        self.tz = tz

    def now(self) -> datetime:
        """The current time."""
        return datetime.now(self.tz)


class ManualClock:
    """A clock that only moves when told to (tests, the sandbox's simulated time)."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs an aware start time")
        self._now = start

    def now(self) -> datetime:
        """The simulated current time."""
        return self._now

    def set(self, moment: datetime) -> None:
        """Jump to `moment` (aware)."""
        if moment.tzinfo is None:
            raise ValueError("aware datetime required")
        self._now = moment

    def advance(self, delta: timedelta) -> datetime:
        """Move forward by `delta` and return the new time."""
        self._now = self._now + delta
        return self._now
