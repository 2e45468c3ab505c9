"""Fault injection: answer a share of Bot API calls with 429, 5xx, a timeout or a lost response.

Rules are checked in the order they were added; the first rule that matches the method and wins
its draw decides the fault. Draws come from one ``random.Random(seed)``, so the same sequence of
calls with the same seed gets the same faults.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class FaultKind(StrEnum):
    """What an injected fault does to a call."""

    RETRY_AFTER = "retry_after"  # 429 Too Many Requests with parameters.retry_after
    SERVER_ERROR = "server_error"  # 500 (JSON body) or 502 (nginx HTML page, like Telegram's)
    TIMEOUT = "timeout"  # hold the request past the client's timeout, then drop the connection
    LOST = "lost"  # apply the call, then drop the connection so the client believes it failed


@dataclass
class FaultRule:
    """One fault rule: which methods, how often, what happens."""

    kind: FaultKind
    rate: float = 1.0
    methods: frozenset[str] | None = None  # None: every method
    exclude: frozenset[str] = frozenset()
    retry_after: float = 1
    status: int = 500
    hold: float = 30.0
    times: int | None = None  # stop after this many injections (None: unlimited)
    injected: int = 0

    def matches(self, method: str) -> bool:
        """Whether this rule applies to ``method`` and still has injections left."""
        if self.times is not None and self.injected >= self.times:
            return False
        if method in self.exclude:
            return False
        return self.methods is None or method in self.methods

    def to_json(self) -> dict[str, Any]:
        """Describe the rule as JSON."""
        return {
            "kind": str(self.kind),
            "rate": self.rate,
            "methods": sorted(self.methods) if self.methods is not None else None,
            "exclude": sorted(self.exclude),
            "retry_after": self.retry_after,
            "status": self.status,
            "hold": self.hold,
            "times": self.times,
            "injected": self.injected,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FaultRule:
        """Build a rule from its JSON description (the control API's body)."""
        methods = data.get("methods")
        return cls(
            kind=FaultKind(data["kind"]),
            rate=float(data.get("rate", 1.0)),
            methods=frozenset(methods) if methods is not None else None,
            exclude=frozenset(data.get("exclude") or ()),
            retry_after=float(data.get("retry_after", 1)),
            status=int(data.get("status", 500)),
            hold=float(data.get("hold", 30.0)),
            times=int(data["times"]) if data.get("times") is not None else None,
        )


@dataclass
class FaultInjector:
    """Holds the fault rules and the seeded random source; counts every injected fault."""

    seed: int = 0
    rules: list[FaultRule] = field(default_factory=list)
    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    _rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def configure(self, rules: list[FaultRule], *, seed: int | None = None) -> None:
        """Replace all rules (and reseed when ``seed`` is given)."""
        self.rules = list(rules)
        if seed is not None:
            self.seed = seed
            self._rng = random.Random(seed)

    def add(self, rule: FaultRule) -> None:
        """Add one rule after the existing ones."""
        self.rules.append(rule)

    def clear(self) -> None:
        """Remove every rule (counts are kept)."""
        self.rules.clear()

    def draw(self, method: str) -> FaultRule | None:
        """Decide whether this call of ``method`` gets a fault; count it when it does."""
        for rule in self.rules:
            if not rule.matches(method):
                continue
            if rule.rate >= 1.0 or self._rng.random() < rule.rate:
                rule.injected += 1
                self.counts[(method, str(rule.kind))] += 1
                return rule
        return None

    def total(self) -> int:
        """Number of faults injected so far."""
        return sum(self.counts.values())
