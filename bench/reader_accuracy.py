"""How well the reader understands labelled progress replies (tests/reader_cases.py).

Run from the repository root: `.venv/bin/python -m bench.reader_accuracy [--show N]`.
Prints the share of replies read right (every field), attribution precision (numbers put
against a wrong target: goal 0) and recall, invented and missed completion dates, the
percent, difficulty and content-free checks, and the results per trap; `--show` lists up to
N failing replies per check.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.reader_cases import CASES
from tests.reader_score import score


def _pct(part: float, whole: float) -> str:
    return f"{part / whole:.1%}" if whole else "–"


def main(argv: list[str] | None = None) -> int:
    """Print the figures; the exit status is 1 if a number went to a wrong target or a date
    was invented."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show", type=int, default=0, help="failing replies to list per check")
    args = parser.parse_args(argv)
    s = score(CASES)
    print(f"replies                     {s.replies}")
    print(
        f"read right (every field)    {s.read_right}/{s.replies} ({_pct(s.read_right, s.replies)})"
    )
    print(
        f"attribution                 precision {s.precision:.1%}, recall {s.recall:.1%} "
        f"({s.right_targets} right, {s.wrong_targets} against a wrong target or value, "
        f"{s.expected_targets} expected)"
    )
    print(f"completion dates            invented {s.invented_dates}, "
          f"missed {len(s.failing('date_missed'))}")  # fmt: skip
    for name in ("percent", "difficulty", "empty"):
        bad = len(s.failing(name))
        print(f"{name:<28}{s.replies - bad}/{s.replies}")
    print("\nper trap (read right / replies)")
    for trap, (right, total) in s.by_trap().items():
        print(f"  {trap:<22}{right:>4}/{total:<4}{_pct(right, total):>8}")
    if args.show:
        for name in ("wrong", "missed", "percent", "date_invented", "date_missed", "difficulty"):
            failing = s.failing(name)
            if failing:
                print(f"\n{name} ({len(failing)})")
            for v in failing[: args.show]:
                print(f"  第{v.case.task}项 {v.case.text}  wrong={v.wrong} missed={v.missed}")
    return 1 if s.wrong_targets or s.invented_dates else 0


if __name__ == "__main__":
    raise SystemExit(main())
