"""How often parse_due_date and dateparser alone get the shared deadline table right.

Run from the repository root: `.venv/bin/python bench/dateparser_accuracy.py`.
"dateparser alone" is its best effort on the raw text: `search_dates` with languages zh,
RELATIVE_BASE = the case's day and PREFER_DATES_FROM = future, taking the first hit's date
(no hit counts as None, which is right for the cases that name no date).
"""

from __future__ import annotations

import sys
import time
from collections import defaultdict
from datetime import date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dateparser.search import search_dates

from bot.domain.dates import parse_due_date
from bot.domain.workcal import WorkCalendar
from tests.date_cases import CASES, CATEGORIES


def dateparser_alone(text: str, today: date) -> date | None:
    """The first date dateparser's search finds in `text`, relative to `today`."""
    base = datetime(today.year, today.month, today.day)  # noqa: DTZ001 - dateparser wants naive
    settings = {"RELATIVE_BASE": base, "PREFER_DATES_FROM": "future"}
    try:
        found = search_dates(text, languages=["zh"], settings=settings)
    except (ValueError, OverflowError):
        return None
    if not found:
        return None
    first: datetime = found[0][1]
    return first.date()


def _percent(hits: int, total: int) -> str:
    return f"{hits}/{total} ({100 * hits / total:.1f}%)" if total else "-"


def main() -> None:
    """Print accuracy by category and overall for both parsers."""
    calendar = WorkCalendar()
    ours: dict[str, int] = defaultdict(int)
    theirs: dict[str, int] = defaultdict(int)
    totals: dict[str, int] = defaultdict(int)
    ours_time = theirs_time = 0.0
    misses: list[str] = []
    for case in CASES:
        totals[case.category] += 1
        start = time.perf_counter()
        got = parse_due_date(case.text, case.today, calendar)
        ours_time += time.perf_counter() - start
        start = time.perf_counter()
        alone = dateparser_alone(case.text, case.today)
        theirs_time += time.perf_counter() - start
        ours[case.category] += got == case.expected
        theirs[case.category] += alone == case.expected
        if got != case.expected:
            misses.append(f"  {case.text!r} @ {case.today}: expected {case.expected}, got {got}")

    print(f"{'category':<12} {'cases':>5}  {'parse_due_date':<18} {'dateparser alone':<18}")
    for category in CATEGORIES:
        n = totals[category]
        print(
            f"{category:<12} {n:>5}  {_percent(ours[category], n):<18} "
            f"{_percent(theirs[category], n):<18}"
        )
    total = len(CASES)
    print()
    print(
        f"parse_due_date {_percent(sum(ours.values()), total)}  "
        f"dateparser alone {_percent(sum(theirs.values()), total)}"
    )
    print(
        f"time per case: parse_due_date {1000 * ours_time / total:.2f} ms, "
        f"dateparser alone {1000 * theirs_time / total:.2f} ms"
    )
    if misses:
        print("parse_due_date misses:")
        print("\n".join(misses))


if __name__ == "__main__":
    main()
