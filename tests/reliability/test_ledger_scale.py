"""The ledger of a large register builds in linear time (found by bench.growth: a 10,000-task
ledger took quadratic time because each row asked openpyxl for `max_row`, a scan of every
cell), and in memory that does not grow with its rows (the whole sheet held in memory cost
~4 KB a task: ~50 MB more peak RSS for 10,000 tasks; each row is now written as it comes)."""

from __future__ import annotations

import dataclasses
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from unittest import mock

from openpyxl.worksheet.worksheet import Worksheet

from bot.domain.ledger import LedgerRow
from bot.services.workbook import build_ledger
from tests.test_ledger import AS_OF, SH, rows_from_seed, sheet, task_rows


def many_rows(copies: int) -> list[LedgerRow]:
    """The seed's 88 rows again and again, numbered on."""
    seed = rows_from_seed()
    return [
        dataclasses.replace(row, no=n * len(seed) + row.no) for n in range(copies) for row in seed
    ]


def lazy_rows(copies: int) -> Iterator[LedgerRow]:
    """As many_rows, each row made only when the ledger asks for it."""
    seed = rows_from_seed()
    for n in range(copies):
        for row in seed:
            yield dataclasses.replace(row, no=n * len(seed) + row.no)


def peak_memory(copies: int) -> int:
    """Peak bytes allocated while the ledger of lazy_rows(copies) is built."""
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        build_ledger(lazy_rows(copies), year=2026, as_of=AS_OF, tz=SH)
        return tracemalloc.get_traced_memory()[1] - before
    finally:
        if started:
            tracemalloc.stop()


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


def test_the_sheet_is_written_as_it_goes_not_held() -> None:
    build_ledger(many_rows(1)[:3], year=2026, as_of=AS_OF, tz=SH)  # imports, caches
    small, large = peak_memory(1), peak_memory(5)
    added = 4 * len(rows_from_seed())
    # ~4 KB a row while the whole sheet was held; ~0.2 KB now (the .xlsx bytes themselves).
    assert large - small < added * 1024, (small, large)
