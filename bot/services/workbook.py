"""The Excel ledger (督查台账): the notice's columns in its order, then the progress columns.

Layout: a title row and a date row, the header row, then the tasks by 序号 with the notice's
section rows (一、… / （一）…) merged across the sheet. Cells of the notice's columns hold the
notice's spellings (TaskUnit.label, leaders' names); several units or leaders in one cell are
joined with line breaks, one per line, as the notice prints most multi-unit cells. Status cells
are filled red / yellow / green, and grey for a completed task. Printed on A4 landscape, one
page wide, the header rows repeated on every page.

The sheet is written in openpyxl's write-only mode: each row goes to a temporary file as it is
added, so a ledger of 10,000 tasks does not hold the whole worksheet in memory. Everything
openpyxl writes ahead of the rows (column widths, frozen panes, sheet properties) and each
row's height are therefore set before the rows they belong to.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, tzinfo
from io import BytesIO
from typing import TYPE_CHECKING, TypeAlias

from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.cell_range import CellRange
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from bot import texts
from bot.domain.cells import clean, split_cell
from bot.domain.ledger import LedgerRow
from bot.domain.status import Light

if TYPE_CHECKING:
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet
    from openpyxl.worksheet.cell_range import MultiCellRange
    from openpyxl.worksheet.dimensions import ColumnDimension, DimensionHolder, RowDimension
    from openpyxl.worksheet.page import PageMargins, PrintOptions, PrintPageSetup
    from openpyxl.worksheet.properties import WorksheetProperties

    class _WriteOnlySheet(WriteOnlyWorksheet):
        """WriteOnlyWorksheet with the attributes the ledger sets up before writing.

        The class has them all (it sets itself up as Worksheet does), but openpyxl-stubs
        declare only some of them on it.
        """

        row_dimensions: DimensionHolder[int, RowDimension]
        column_dimensions: DimensionHolder[str, ColumnDimension]
        merged_cells: MultiCellRange
        page_setup: PrintPageSetup
        page_margins: PageMargins
        print_options: PrintOptions
        sheet_properties: WorksheetProperties


CELL_SEPARATOR = "\n"

CellValue: TypeAlias = str | float | date | None  # what the ledger puts in a cell

# Column widths in characters, chosen to fill an A4 landscape page at fitToWidth.
WIDTHS = (6, 48, 14, 20, 12, 48, 9, 12, 26, 8, 8, 14, 8, 24, 8, 16)

FILLS = {
    Light.RED: "FFC7CE",
    Light.YELLOW: "FFEB9C",
    Light.GREEN: "C6EFCE",
    Light.DONE: "D9D9D9",
}

HEADER_ROW = 3
PERCENT_COLUMN = 7
EXPECTED_COLUMN = 8
STATUS_COLUMN = 9
CENTRED_COLUMNS = frozenset({1, 3, 4, 5, PERCENT_COLUMN, EXPECTED_COLUMN, 10, 11, 12, 13, 15})

# The styles, each made once and shared by every cell that wears it.
THIN = Side(style="thin", color="808080")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
WRAP = Alignment(wrap_text=True, vertical="top")
CENTRE = Alignment(wrap_text=True, vertical="center", horizontal="center")
BOLD = Font(bold=True)
TITLE_FONT = Font(bold=True, size=16)
TITLE_ALIGNMENT = Alignment(horizontal="center", vertical="center")
DATE_ALIGNMENT = Alignment(horizontal="right")
HEADING_ALIGNMENT = Alignment(vertical="center")
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
STATUS_FILLS = {light: PatternFill("solid", fgColor=colour) for light, colour in FILLS.items()}


def cell_text(values: Sequence[str]) -> str:
    """Several names in one cell, one per line."""
    return CELL_SEPARATOR.join(values)


class LedgerWriter:
    """The ledger workbook, written row by row: `add` the rows in chunks, then `finish`."""

    def __init__(self, *, year: int, as_of: date, tz: tzinfo) -> None:
        """Start the workbook: page setup, the title, date and header rows."""
        self._tz = tz
        self._wb = Workbook(write_only=True)
        ws: _WriteOnlySheet = self._wb.create_sheet("督查台账")
        self._ws = ws
        self._columns = len(texts.LEDGER_HEADERS)
        self._section: str | None = None
        self._subsection: str | None = None
        self._row = 0  # the last row written
        self._finished = False
        self._more: _WriteOnlySheet | None = None  # the continuation sheet, made when needed

        # openpyxl writes these ahead of the first row, so they are set before it.
        for i, width in enumerate(WIDTHS, 1):
            ws.column_dimensions[get_column_letter(i)].width = width
        ws.freeze_panes = f"A{HEADER_ROW + 1}"
        ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
        ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = Worksheet.PAPERSIZE_A4
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.page_margins.left = ws.page_margins.right = 0.4
        ws.page_margins.top = ws.page_margins.bottom = 0.5
        ws.print_options.horizontalCentered = True

        ws.row_dimensions[1].height = 30
        self._merged_row(self._cell(texts.ledger_title(year), TITLE_FONT, TITLE_ALIGNMENT))
        self._merged_row(self._cell(texts.ledger_subtitle(as_of), alignment=DATE_ALIGNMENT))
        self._append(
            [
                self._cell(header, BOLD, CENTRE, BORDER, HEADER_FILL)
                for header in texts.LEDGER_HEADERS
            ]
        )

    def add(self, rows: Iterable[LedgerRow]) -> None:
        """Append tasks by 序号, each section's row before its first task.

        May be called many times, the rows continuing in 序号 order: a section (or subsection)
        that goes on from the previous call gets no second heading row.
        """
        self._check_open()
        for row in rows:
            if row.section != self._section:
                self._section, self._subsection = row.section, None
                self._heading(row.section)
            if row.subsection and row.subsection != self._subsection:
                self._subsection = row.subsection
                self._heading(row.subsection)
            self._task(row)

    def finish(self) -> bytes:
        """The workbook as .xlsx bytes; the writer cannot be used after."""
        self._check_open()
        self._finished = True
        out = BytesIO()
        self._wb.save(out)
        return out.getvalue()

    def _check_open(self) -> None:
        """Refuse rows or a second save once the workbook is saved."""
        if self._finished:
            raise RuntimeError("the ledger has been finished")

    def _task(self, row: LedgerRow) -> None:
        """One task's row: bordered, centred or wrapped, the status cell filled."""
        values: tuple[CellValue, ...] = (
            row.no,
            row.text,
            cell_text(row.lead),
            cell_text(row.responsible),
            cell_text(row.leaders),
            texts.ledger_latest_plain(row.latest, self._tz),
            row.percent / 100 if row.percent is not None else None,
            row.expected,
            texts.ledger_status_plain(row.status),
            row.overdue_workdays,
            row.nudges,
            texts.ledger_ack_plain(row.unacknowledged, row.status.light is Light.DONE),
            row.evidence,
            texts.ledger_extension_plain(row.extensions),
            row.returns,
            texts.ledger_close_plain(row.closures, row.closed),
        )
        values = tuple(self._fit(row.no, col, v) for col, v in enumerate(values, 1))
        cells = [
            self._cell(value, alignment=CENTRE if col in CENTRED_COLUMNS else WRAP, border=BORDER)
            for col, value in enumerate(values, 1)
        ]
        cells[PERCENT_COLUMN - 1].number_format = "0.0%"
        cells[EXPECTED_COLUMN - 1].number_format = "yyyy-mm-dd"
        cells[STATUS_COLUMN - 1].fill = STATUS_FILLS[row.status.light]
        self._append(cells)

    def _fit(self, no: int, column: int, value: CellValue) -> CellValue:
        """The value as its cell holds it: a text over Excel's cell limit keeps its first part
        and a note; the other parts go to the continuation sheet (bot.domain.cells)."""
        if not isinstance(value, str):
            return value
        parts = split_cell(clean(value), texts.ledger_continued(no))
        if len(parts) > 1:
            sheet = self._continuation()
            header = texts.LEDGER_HEADERS[column - 1]
            for k, part in enumerate(parts[1:], 2):
                sheet.append([no, _text(sheet, header), k, _text(sheet, part)])
        return parts[0]

    def add_sheet(
        self, name: str, headers: Sequence[str], rows: Iterable[Sequence[CellValue]]
    ) -> None:
        """A plain sheet after the ledger (the 考评 ranking): a bold header row, then the rows;
        text stays text."""
        self._check_open()
        sheet: _WriteOnlySheet = self._wb.create_sheet(name)
        for i, header in enumerate(headers, 1):
            sheet.column_dimensions[get_column_letter(i)].width = max(8, 2 * len(header) + 2)
        sheet.freeze_panes = "A2"
        head = []
        for header in headers:
            cell = _text(sheet, header)
            cell.font = BOLD
            cell.fill = HEADER_FILL
            head.append(cell)
        sheet.append(head)
        for row in rows:
            sheet.append([_text(sheet, clean(v)) if isinstance(v, str) else v for v in row])

    def _continuation(self) -> _WriteOnlySheet:
        """The sheet that holds what did not fit in a cell (made on first use)."""
        if self._more is None:
            sheet: _WriteOnlySheet = self._wb.create_sheet(texts.LEDGER_CONTINUATION_SHEET)
            sheet.column_dimensions["D"].width = 100
            sheet.append([_text(sheet, h) for h in texts.LEDGER_CONTINUATION_HEADERS])
            self._more = sheet
        return self._more

    def _heading(self, text: str) -> None:
        """A section row (一、… / （一）…) merged across the sheet, every cell bordered."""
        rest = [self._cell(None, border=BORDER) for _ in range(self._columns - 1)]
        self._merged_row(self._cell(text, BOLD, HEADING_ALIGNMENT, BORDER), *rest)

    def _merged_row(self, *cells: Cell) -> None:
        """Append a row merged across all the columns."""
        self._append(list(cells))
        self._ws.merged_cells.add(
            CellRange(min_col=1, min_row=self._row, max_col=self._columns, max_row=self._row)
        )

    def _append(self, cells: list[Cell]) -> None:
        """Write the next row (openpyxl sends it to its temporary file at once)."""
        self._ws.append(cells)
        self._row += 1

    def _cell(
        self,
        value: CellValue,
        font: Font | None = None,
        alignment: Alignment | None = None,
        border: Border | None = None,
        fill: PatternFill | None = None,
    ) -> Cell:
        """A cell for the next row, wearing the given shared styles."""
        cell = WriteOnlyCell(self._ws)
        if isinstance(value, str):
            value = clean(value)
            cell.value = value
            # Stays text, even "=HYPERLINK(...)" from a task's text (bot.domain.cells).
            cell.data_type = "s"
        else:
            cell.value = value
        if font is not None:
            cell.font = font
        if alignment is not None:
            cell.alignment = alignment
        if border is not None:
            cell.border = border
        if fill is not None:
            cell.fill = fill
        return cell


def _text(sheet: _WriteOnlySheet, text: str) -> Cell:
    """A cell that holds `text` as text (already cleaned), never as a formula."""
    cell = WriteOnlyCell(sheet)
    cell.value = text
    cell.data_type = "s"
    return cell


def build_ledger(rows: Iterable[LedgerRow], *, year: int, as_of: date, tz: tzinfo) -> bytes:
    """The ledger workbook as .xlsx bytes."""
    writer = LedgerWriter(year=year, as_of=as_of, tz=tz)
    writer.add(rows)
    return writer.finish()
