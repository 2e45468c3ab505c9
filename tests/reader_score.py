"""Scoring the reader (bot.domain.replies.understand) on labelled replies (tests.reader_cases).

Shared by `tests/test_reader.py` and `bench/reader_accuracy.py`. A reply is read right when
every field is: the numbers put against targets (each target with the right value, no other),
the stated percent, the completion date (or the impossible one named), the difficulty and
whether it is a report at all.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from bot.domain.model import Target
from bot.domain.quantities import convert
from bot.domain.replies import Understood, content_free, understand
from bot.domain.workcal import WorkCalendar
from tests.reader_cases import TODAY, ReaderCase

SEED = Path(__file__).resolve().parents[1] / "seed_tasks.json"


@cache
def _tasks() -> dict[int, dict[str, Any]]:
    return {t["no"]: t for t in json.loads(SEED.read_text(encoding="utf-8"))["tasks"]}


def task_text(no: int) -> str:
    """The task's words in the notice."""
    return str(_tasks()[no]["text"])


@cache
def targets_of(no: int) -> tuple[Target, ...]:
    """The task's targets as the register import stores them."""
    tasks = _tasks()
    return tuple(
        Target(g["metric"], g["kind"], g["value"], g["unit"], g["comparator"], g["source"])
        for g in tasks[no].get("targets", [])
    )


def reads(understood: Understood) -> dict[str, float]:
    """Target metric → the value read against it, in the target's unit."""
    out: dict[str, float] = {}
    for q in understood.quantities:
        if q.target_metric is None or q.target_unit is None:
            continue
        value = convert(q.value, q.unit, q.target_unit)
        out[q.target_metric] = value if value is not None else float("nan")
    return out


def _same(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return abs(a - b) <= max(1e-6, abs(b) * 1e-3)


@dataclass(frozen=True)
class Verdict:
    """How one reply was read, field by field."""

    case: ReaderCase
    wrong: tuple[str, ...]  # targets read that the reply does not report (or a wrong value)
    right: int  # targets read right
    missed: tuple[str, ...]  # targets the reply reports that were left unread
    percent_ok: bool
    date_invented: bool  # a completion date the reply does not state (or another one)
    date_missed: bool
    difficulty_ok: bool
    empty_ok: bool

    @property
    def ok(self) -> bool:
        """Every field right."""
        return (
            not self.wrong
            and not self.missed
            and self.percent_ok
            and not self.date_invented
            and not self.date_missed
            and self.difficulty_ok
            and self.empty_ok
        )


def judge(case: ReaderCase) -> Verdict:
    """Read one reply and compare it with its label."""
    calendar = WorkCalendar()
    empty = content_free(case.text)
    if case.empty or empty:
        ok = case.empty == empty
        return Verdict(case, (), 0, (), ok, False, False, ok, ok)
    understood = understand(
        case.text, list(targets_of(case.task)), TODAY, calendar, task_text(case.task)
    )
    got = reads(understood)
    wrong = tuple(m for m, v in got.items() if m not in case.read or not _same(v, case.read[m]))
    missed = tuple(m for m in case.read if m not in got)
    right = sum(1 for m, v in got.items() if m in case.read and _same(v, case.read[m]))
    stated = understood.percent if understood.percent_from == "explicit" else None
    expected = understood.expected
    invented = expected is not None and expected != case.expected
    date_missed = case.expected is not None and expected is None
    if case.impossible_date and not understood.impossible_date:
        date_missed = True
    if case.difficulty is None:
        difficulty_ok = not understood.difficulties
    else:
        difficulty_ok = any(case.difficulty in d for d in understood.difficulties)
    return Verdict(
        case,
        wrong,
        right,
        missed,
        _same(stated, case.percent),
        invented,
        date_missed,
        difficulty_ok,
        True,
    )


@dataclass
class Score:
    """Totals over a set of replies."""

    verdicts: list[Verdict] = field(default_factory=list)

    @property
    def replies(self) -> int:
        return len(self.verdicts)

    @property
    def read_right(self) -> int:
        return sum(v.ok for v in self.verdicts)

    @property
    def wrong_targets(self) -> int:
        return sum(len(v.wrong) for v in self.verdicts)

    @property
    def right_targets(self) -> int:
        return sum(v.right for v in self.verdicts)

    @property
    def expected_targets(self) -> int:
        return sum(len(v.case.read) for v in self.verdicts)

    @property
    def precision(self) -> float:
        read = self.right_targets + self.wrong_targets
        return self.right_targets / read if read else 1.0

    @property
    def recall(self) -> float:
        return self.right_targets / self.expected_targets if self.expected_targets else 1.0

    @property
    def invented_dates(self) -> int:
        return sum(v.date_invented for v in self.verdicts)

    def failing(self, attribute: str) -> list[Verdict]:
        """The verdicts whose `attribute` check failed."""
        checks = {
            "wrong": lambda v: bool(v.wrong),
            "missed": lambda v: bool(v.missed),
            "percent": lambda v: not v.percent_ok,
            "date_invented": lambda v: v.date_invented,
            "date_missed": lambda v: v.date_missed,
            "difficulty": lambda v: not v.difficulty_ok,
            "empty": lambda v: not v.empty_ok,
        }
        return [v for v in self.verdicts if checks[attribute](v)]

    def by_trap(self) -> dict[str, tuple[int, int]]:
        """Trap → (read right, replies)."""
        total: Counter[str] = Counter()
        right: Counter[str] = Counter()
        for v in self.verdicts:
            for trap in v.case.trap.split(","):
                total[trap] += 1
                right[trap] += v.ok
        return {t: (right[t], total[t]) for t in sorted(total)}


def score(cases: Iterable[ReaderCase]) -> Score:
    """Judge every case."""
    return Score([judge(c) for c in cases])
