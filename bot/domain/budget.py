"""How often the bot answers an account that is not bound (a stranger, or someone whose binding
was revoked): a few answers, then silence for a while. A stranger sending a thousand messages
gets a handful of replies, so the bot neither spends Telegram's per-chat limit on them nor keeps
the other people waiting behind those replies.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from datetime import datetime, timedelta


class AnswerBudget:
    """At most `answers` answers per account in any `window`; remembers `size` accounts."""

    def __init__(self, answers: int, window: timedelta, size: int = 10_000) -> None:
        self.answers = answers
        self.window = window
        self.size = size
        self._given: OrderedDict[int, deque[datetime]] = OrderedDict()

    def allow(self, account: int, now: datetime) -> bool:
        """True (and counted) if `account` may be answered at `now`."""
        given = self._given.pop(account, None) or deque()
        while given and now - given[0] >= self.window:
            given.popleft()
        allowed = len(given) < self.answers
        if allowed:
            given.append(now)
        self._given[account] = given  # the most recent at the end
        while len(self._given) > self.size:
            self._given.popitem(last=False)
        return allowed
