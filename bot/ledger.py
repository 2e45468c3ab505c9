"""The Excel ledger (督查台账): the notice's columns in its order, then the progress columns.

Layout: a title row and a date row, the header row, then the tasks by 序号 with the notice's
section rows (一、… / （一）…) merged across the sheet. Cells of the notice's columns hold the
notice's spellings (TaskUnit.label, leaders' names); several units or leaders in one cell are
joined with line breaks, one per line, as the notice prints most multi-unit cells. Status cells
are filled red / yellow / green, and grey for a completed task. Printed on A4 landscape, one
page wide, the header rows repeated on every page.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, tzinfo
from io import BytesIO

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from bot import texts
from bot.status import Light
from bot.views import LedgerRow

CELL_SEPARATOR = "\n"

# Column widths in characters, chosen to fill an A4 landscape page at fitToWidth.
WIDTHS = (6, 48, 14, 20, 12, 48, 9, 12, 26, 8, 8)

FILLS = {
    Light.RED: "FFC7CE",
    Light.YELLOW: "FFEB9C",
    Light.GREEN: "C6EFCE",
    Light.DONE: "D9D9D9",
}

HEADER_ROW = 3
STATUS_COLUMN = 9


def cell_text(values: Sequence[str]) -> str:
    """Several names in one cell, one per line."""
    return CELL_SEPARATOR.join(values)


def build_ledger(rows: Sequence[LedgerRow], *, year: int, as_of: date, tz: tzinfo) -> bytes:
    """The ledger workbook as .xlsx bytes."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None  # a new workbook always has one sheet
    ws.title = "督查台账"
    columns = len(texts.LEDGER_HEADERS)
    last = get_column_letter(columns)
    thin = Side(style="thin", color="808080")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    wrap = Alignment(wrap_text=True, vertical="top")
    centre = Alignment(wrap_text=True, vertical="center", horizontal="center")

    ws.append([texts.ledger_title(year)])
    ws.merge_cells(f"A1:{last}1")
    ws["A1"].font = Font(bold=True, size=16)
    ws["A1"].alignment = Alignment(horizontal="center", vertical="center")
    ws.row_dimensions[1].height = 30
    ws.append([texts.ledger_subtitle(as_of)])
    ws.merge_cells(f"A2:{last}2")
    ws["A2"].alignment = Alignment(horizontal="right")
    ws.append(list(texts.LEDGER_HEADERS))
    for col in range(1, columns + 1):
        cell = ws.cell(HEADER_ROW, col)
        cell.font = Font(bold=True)
        cell.alignment = centre
        cell.border = border
        cell.fill = PatternFill("solid", fgColor="DDEBF7")

    section: str | None = None
    subsection: str | None = None
    # The row number is counted here: ws.max_row scans every cell, which made a 10,000-task
    # ledger take quadratic time (found by bench.growth).
    r = HEADER_ROW
    for row in rows:
        if row.section != section:
            section, subsection = row.section, None
            r += 1
            _heading(ws, r, row.section, columns, border)
        if row.subsection and row.subsection != subsection:
            subsection = row.subsection
            r += 1
            _heading(ws, r, row.subsection, columns, border)
        ws.append(
            [
                row.no,
                row.text,
                cell_text(row.lead),
                cell_text(row.responsible),
                cell_text(row.leaders),
                texts.ledger_latest_plain(row.latest, tz),
                row.percent / 100 if row.percent is not None else None,
                row.expected,
                texts.ledger_status_plain(row.status),
                row.overdue_workdays,
                row.nudges,
            ]
        )
        r += 1
        for col in range(1, columns + 1):
            cell = ws.cell(r, col)
            cell.border = border
            cell.alignment = centre if col in (1, 3, 4, 5, 7, 8, 10, 11) else wrap
        ws.cell(r, 7).number_format = "0.0%"
        ws.cell(r, 8).number_format = "yyyy-mm-dd"
        ws.cell(r, STATUS_COLUMN).fill = PatternFill("solid", fgColor=FILLS[row.status.light])

    for i, width in enumerate(WIDTHS, 1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = f"A{HEADER_ROW + 1}"
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.5
    ws.print_options.horizontalCentered = True

    out = BytesIO()
    wb.save(out)
    return out.getvalue()


def _heading(ws: Worksheet, r: int, text: str, columns: int, border: Border) -> None:
    """A section row (一、… / （一）…) merged across the sheet, appended as row `r`."""
    ws.append([text])
    ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=columns)
    cell = ws.cell(r, 1)
    cell.font = Font(bold=True)
    cell.alignment = Alignment(vertical="center")
    for col in range(1, columns + 1):
        ws.cell(r, col).border = border
