"""The hand-labelled reader corpus (tests/reader_cases.py) is well formed and covers its brief.

No database and no reader: these tests check the labels against seed_tasks.json only.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from tests.reader_cases import CASES, TODAY, TRAPS, ReaderCase

SEED = Path(__file__).resolve().parents[1] / "seed_tasks.json"

# Traps about which number is read against which target (the others are about percent,
# dates, difficulty, empty replies, or none).
NUMBER_TRAPS = frozenset(
    {
        "total-scope",
        "other-action",
        "another-thing",
        "addition-另",
        "sub-activity",
        "planned-remaining",
        "units",
        "level-growth",
        "percent-subactivity",
    }
)

_SCALES = {"": 1.0, "万": 1e4, "亿": 1e8}
# Base unit -> (family, factor to the family's base).
_BASES: dict[str, tuple[str, float]] = {
    "载重吨": ("dwt", 1.0),
    "平方米": ("m2", 1.0),
    "公里": ("m", 1000.0),
    "千米": ("m", 1000.0),
    "米": ("m", 1.0),
    "亩": ("mu", 1.0),
    "元": ("yuan", 1.0),
    "人": ("people", 1.0),
    "个": ("count", 1.0),
    "家": ("count", 1.0),
    "座": ("count", 1.0),
    "所": ("count", 1.0),
    "条": ("count", 1.0),
    "套": ("count", 1.0),
    "%": ("pct", 1.0),
}
_BASE_ALT = "|".join(sorted(_BASES, key=len, reverse=True))
_NUMBER = re.compile(rf"(?<![\d.A-Za-z])(\d+(?:\.\d+)?)(万|亿)?({_BASE_ALT})")
_UNIT = re.compile(rf"^(万|亿)?({_BASE_ALT})$")


@cache
def _seed() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SEED.read_text(encoding="utf-8"))
    return data


def _tasks() -> dict[int, dict[str, Any]]:
    return {int(task["no"]): task for task in _seed()["tasks"]}


def _targets(task: int) -> dict[str, dict[str, Any]]:
    return {target["metric"]: target for target in _tasks()[task].get("targets") or []}


def _traps(case: ReaderCase) -> list[str]:
    return [tag.strip() for tag in case.trap.split(",")]


def _case_id(case: ReaderCase) -> str:
    return f"{case.task}:{case.text[:24]}"


def _unit(unit: str) -> tuple[str, float]:
    """A target's unit as (family, factor to the family's base): 万亩 → (mu, 10000)."""
    match = _UNIT.match(unit)
    assert match, f"unknown target unit {unit!r}"
    family, factor = _BASES[match.group(2)]
    return family, _SCALES[match.group(1) or ""] * factor


def _numbers(text: str) -> list[tuple[str, float]]:
    """Every number with a unit in the text, as (family, value in the family's base)."""
    found = []
    for match in _NUMBER.finditer(text):
        family, factor = _BASES[match.group(3)]
        found.append((family, float(match.group(1)) * _SCALES[match.group(2) or ""] * factor))
    return found


def _guarded_targets() -> set[tuple[int, str]]:
    """Targets with a trap case holding a number in the target's unit that is not read.

    A heuristic for "a similar-looking number must not be read against it": the number is in
    the target's unit family and is not the value read for any target in that case.
    """
    guarded: set[tuple[int, str]] = set()
    for case in CASES:
        if not NUMBER_TRAPS.intersection(_traps(case)):
            continue
        targets = _targets(case.task)
        read_base = []
        for metric, value in case.read.items():
            family, factor = _unit(targets[metric]["unit"])
            read_base.append((family, value * factor))
        numbers = _numbers(case.text)
        for metric, target in targets.items():
            family, _ = _unit(target["unit"])
            for num_family, value in numbers:
                if num_family != family:
                    continue
                if not any(
                    f == family and abs(v - value) <= 1e-6 * max(1.0, abs(v)) for f, v in read_base
                ):
                    guarded.add((case.task, metric))
                    break
    return guarded


def test_today_is_the_reporting_wednesday() -> None:
    assert date(2026, 5, 13) == TODAY
    assert TODAY.weekday() == 2


def test_at_least_220_cases() -> None:
    assert len(CASES) >= 220


def test_no_duplicate_texts() -> None:
    counts = Counter(case.text for case in CASES)
    assert [text for text, n in counts.items() if n > 1] == []


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_case_is_well_formed(case: ReaderCase) -> None:
    assert case.task in _tasks(), "no such task"
    assert case.text.strip() == case.text and case.text
    targets = _targets(case.task)
    for metric, value in case.read.items():
        assert metric in targets, f"{metric!r} is not a target of task {case.task}"
        assert isinstance(value, int | float) and value > 0
    if case.percent is not None:
        assert 0 < case.percent <= 100
    if case.expected is not None:
        assert case.expected >= TODAY, "an expected completion date lies ahead"
        assert not case.impossible_date
    if case.impossible_date:
        assert case.expected is None
        assert "date-impossible" in _traps(case)
    if case.difficulty is not None:
        assert case.difficulty in case.text, "the difficulty phrase is copied from the reply"
        assert len(case.difficulty) >= 5
    assert set(_traps(case)) <= set(TRAPS), f"unknown trap tag in {case.trap!r}"


@pytest.mark.parametrize("case", [c for c in CASES if c.empty], ids=_case_id)
def test_empty_cases_have_nothing_else(case: ReaderCase) -> None:
    assert case.read == {}
    assert case.percent is None
    assert case.expected is None
    assert case.difficulty is None
    assert not case.impossible_date
    assert _traps(case) == ["empty"]


def test_empty_tag_only_on_empty_cases() -> None:
    assert all(case.empty == ("empty" in _traps(case)) for case in CASES)


def test_every_target_is_read_somewhere() -> None:
    wanted = {(no, metric) for no in _tasks() for metric in _targets(no)}
    assert len(wanted) == 67
    read = {(case.task, metric) for case in CASES for metric in case.read}
    assert sorted(wanted - read) == []


def test_each_trap_has_at_least_five_cases() -> None:
    counts = Counter(tag for case in CASES for tag in _traps(case))
    assert {trap: counts[trap] for trap in TRAPS if counts[trap] < 5} == {}


def test_about_a_quarter_are_plain() -> None:
    plain = sum("plain" in _traps(case) for case in CASES)
    assert 0.2 <= plain / len(CASES) <= 0.35


def test_about_half_the_targets_have_a_decoy() -> None:
    assert len(_guarded_targets()) >= 34


def test_tasks_without_targets_are_covered() -> None:
    without = {no for no in _tasks() if not _targets(no)}
    covered = {case.task for case in CASES if case.task in without and not case.empty}
    assert len(covered) >= 40
    assert all(case.read == {} for case in CASES if case.task in without)
