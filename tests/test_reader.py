"""The reader on the labelled replies (tests/reader_cases.py): never a number against a wrong
target, never an invented completion date, and nearly every reply read right."""

from __future__ import annotations

from tests.reader_cases import CASES
from tests.reader_score import score


def test_the_labelled_replies_are_read_right() -> None:
    s = score(CASES)
    wrong = [(v.case.task, v.case.text, v.wrong) for v in s.failing("wrong")]
    invented = [(v.case.task, v.case.text) for v in s.failing("date_invented")]
    assert wrong == []
    assert invented == []
    assert s.read_right / s.replies >= 0.95, [v.case.text for v in s.verdicts if not v.ok]
    assert s.recall >= 0.9
