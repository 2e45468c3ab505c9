"""The ledger of a large register builds in linear time (found by bench.growth: a 10,000-task
ledger took quadratic time because each row asked openpyxl for `max_row`, a scan of every
cell)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from unittest import mock

from openpyxl.worksheet.worksheet import Worksheet

from bot.ledger import build_ledger
from bot.views import LedgerRow
from tests.test_ledger import AS_OF, SH, rows_from_seed, sheet, task_rows


def many_rows(copies: int) -> list[LedgerRow]:
    """The seed's 88 rows again and again, numbered on."""
    seed = rows_from_seed()
    return [
        dataclasses.replace(row, no=n * len(seed) + row.no) for n in range(copies) for row in seed
    ]


@contextmanager
def counting_max_row() -> Iterator[list[int]]:
    """Count how often the sheet is asked for max_row (each ask scans every cell)."""
    calls: list[int] = []
    original = Worksheet.max_row

    def counted(ws: Worksheet) -> int:
        calls.append(1)
        return int(original.fget(ws))  # type: ignore[attr-defined]

    with mock.patch.object(Worksheet, "max_row", property(counted)):
        yield calls


def test_the_sheet_is_not_rescanned_per_row() -> None:
    with counting_max_row() as small:
        build_ledger(many_rows(1), year=2026, as_of=AS_OF, tz=SH)
    with counting_max_row() as large:
        build_ledger(many_rows(10), year=2026, as_of=AS_OF, tz=SH)
    assert len(large) == len(small)  # a constant, whatever the number of rows


def test_every_row_is_where_it_belongs() -> None:
    rows = many_rows(3)
    ws = sheet(build_ledger(rows, year=2026, as_of=AS_OF, tz=SH))
    found = task_rows(ws)
    assert sorted(found) == [r.no for r in rows]
    assert all(found[r.no][1] == r.text for r in rows)
