"""The monthly 通报 (issue 22) as a Word document, in the form an office issues: title, a 文号
line left to fill in, paragraphs written from the figures, tables of the red and yellow tasks
with their first reason, the units with missed reports, and the 考评 ranking.

The figures are the views' and the assessment's: the lights as of now, the month's reports by
outcome (bot.domain.assessment.tally over the month), each kind of unit's ranking.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from io import BytesIO

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from docx.text.paragraph import Paragraph
from docx.text.run import Run
from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts
from bot.config import Settings
from bot.domain.status import Light
from bot.domain.units import CATEGORIES
from bot.domain.workcal import WorkCalendar
from bot.services.assessment import Assessment, assess_in
from db import people, views, years
from db.register_cache import RegisterCache

TITLE_FONT = "方正小标宋简体"  # the fonts a 通报 is set in; Word falls back when one is missing
BODY_FONT = "仿宋_GB2312"
HEADING_FONT = "黑体"


@dataclass(frozen=True)
class TaskLine:
    """A red or yellow task in the tables."""

    no: int
    text: str
    lead: str
    reason: str


@dataclass(frozen=True)
class Bulletin:
    """A generated 通报."""

    year: int
    month: date
    as_of: date
    red: int
    yellow: int
    data: bytes


async def monthly_bulletin(
    session: AsyncSession,
    *,
    now: datetime,
    settings: Settings,
    calendar: WorkCalendar,
    register: RegisterCache | None = None,
    year: int | None = None,
    month: date | None = None,
    actor: int | None = None,
) -> Bulletin | None:
    """The 通报 of `month` (default: the last month with a passed deadline) of `year` (default:
    the month's year, or the working year); None if that year has no tasks."""
    today = now.astimezone(settings.tz).date()
    if year is None:
        year = month.year if month is not None else await years.working_year(session, today.year)
    counts = dict.fromkeys(Light, 0)
    red: list[TaskLine] = []
    yellow: list[TaskLine] = []
    tasks = 0
    async for found in views.board_chunks(
        session,
        scope=views.Scope(year),
        now=now,
        settings=settings,
        calendar=calendar,
        details=False,
        register=register,
    ):
        for board in found.boards:
            tasks += 1
            status = found.statuses[board.task.id]
            counts[status.light] += 1
            if status.light in (Light.RED, Light.YELLOW):
                line = TaskLine(
                    board.task.no,
                    texts.short(board.task.text, 60),
                    "、".join(board.task.lead_labels),
                    texts.reason_plain(status.reasons[0], brief=True) if status.reasons else "",
                )
                (red if status.light is Light.RED else yellow).append(line)
    if not tasks:
        return None
    scored = await assess_in(
        session,
        now=now,
        settings=settings,
        calendar=calendar,
        register=register,
        year=year,
        month=month,
    )
    data = await asyncio.to_thread(
        _document, year, scored.month, today, counts, red, yellow, scored
    )
    if actor is not None:
        await people.audit(
            session,
            at=now,
            actor=actor,
            action="bulletin",
            target=f"bulletin:{scored.month.isoformat()[:7]}",
            detail={"red": len(red), "yellow": len(yellow)},
        )
    return Bulletin(year, scored.month, today, len(red), len(yellow), data)


def _document(
    year: int,
    month: date,
    today: date,
    counts: dict[Light, int],
    red: Sequence[TaskLine],
    yellow: Sequence[TaskLine],
    scored: Assessment,
) -> bytes:
    """The .docx bytes (run in a thread: python-docx is synchronous)."""
    doc = Document()
    _page(doc)
    _paragraph(doc, texts.bulletin_number(year), align=WD_ALIGN_PARAGRAPH.CENTER)
    title = _paragraph(doc, "", align=WD_ALIGN_PARAGRAPH.CENTER)
    _font(title.add_run(texts.bulletin_title(year, month.month)), TITLE_FONT, 22)
    _paragraph(doc, texts.bulletin_opening(year, month.month, today), indent=True)

    _heading(doc, texts.bulletin_section(1, "总体进展"))
    total = sum(counts.values())
    _paragraph(
        doc,
        texts.bulletin_lights(
            total, counts[Light.DONE], counts[Light.GREEN], counts[Light.YELLOW], counts[Light.RED]
        ),
        indent=True,
    )
    tallies = [r.score.tally for ranked in scored.monthly.values() for r in ranked]
    on_time = sum(t.on_time for t in tallies)
    late = sum(t.late for t in tallies)
    missed = sum(t.missed for t in tallies)
    _paragraph(
        doc,
        texts.bulletin_reports(month.month, on_time + late + missed, on_time, late, missed),
        indent=True,
    )

    _heading(doc, texts.bulletin_section(2, "红灯任务"))
    _tasks(doc, red, "红灯")
    _heading(doc, texts.bulletin_section(3, "黄灯任务"))
    _tasks(doc, yellow, "黄灯")

    _heading(doc, texts.bulletin_section(4, "缺报单位"))
    lapsed = sorted(
        (
            (r.score.name, r.score.tally.missed, r.score.tally.late)
            for ranked in scored.monthly.values()
            for r in ranked
            if r.score.tally.missed
        ),
        key=lambda x: (-x[1], -x[2], x[0]),
    )
    if lapsed:
        _table(doc, texts.BULLETIN_MISSED_HEADERS, [(n, str(m), str(lt)) for n, m, lt in lapsed])
    else:
        _paragraph(doc, texts.bulletin_missed_none(month.month), indent=True)

    _heading(doc, texts.bulletin_section(5, "考评排名"))
    labels = {c.key: c.label for c in CATEGORIES}
    rows = []
    for key, ranked in scored.monthly.items():
        year_of = {r.score.unit_id: r for r in scored.yearly.get(key, ())}
        for r in ranked:
            if r.rank is None:
                continue
            y = year_of.get(r.score.unit_id)
            rows.append(
                (
                    labels.get(key, key),
                    str(r.rank),
                    r.score.name,
                    f"{r.score.points:.1f}",
                    f"{y.score.points:.1f}" if y and y.score.points is not None else "—",
                )
            )
    _table(doc, texts.BULLETIN_RANKING_HEADERS, rows)

    _paragraph(doc, "")
    _paragraph(doc, texts.BULLETIN_ISSUER, align=WD_ALIGN_PARAGRAPH.RIGHT)
    _paragraph(doc, texts.bulletin_date(today), align=WD_ALIGN_PARAGRAPH.RIGHT)
    out = BytesIO()
    doc.save(out)
    return out.getvalue()


def _page(doc: DocumentObject) -> None:
    """A4, the margins of a government document, 仿宋 三号 for the body."""
    section = doc.sections[0]
    section.page_height, section.page_width = Cm(29.7), Cm(21.0)
    section.top_margin, section.bottom_margin = Cm(3.7), Cm(3.5)
    section.left_margin, section.right_margin = Cm(2.8), Cm(2.6)
    normal = doc.styles["Normal"]
    normal.font.name = BODY_FONT
    normal.font.size = Pt(16)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), BODY_FONT)


def _font(run: Run, name: str, size: float, *, bold: bool = False) -> None:
    run.font.name = name
    run.font.size = Pt(size)
    run.font.bold = bold
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), name)


def _paragraph(
    doc: DocumentObject, text: str, *, align: WD_ALIGN_PARAGRAPH | None = None, indent: bool = False
) -> Paragraph:
    paragraph = doc.add_paragraph()
    if text:
        paragraph.add_run(text)
    if align is not None:
        paragraph.alignment = align
    if indent:
        paragraph.paragraph_format.first_line_indent = Pt(32)  # two characters
    return paragraph


def _heading(doc: DocumentObject, text: str) -> None:
    paragraph = doc.add_paragraph()
    _font(paragraph.add_run(text), HEADING_FONT, 16)


def _tasks(doc: DocumentObject, found: Sequence[TaskLine], light: str) -> None:
    if not found:
        _paragraph(doc, texts.bulletin_tasks_none(light), indent=True)
        return
    _table(
        doc,
        texts.BULLETIN_TASK_HEADERS,
        [(str(t.no), t.text, t.lead, t.reason) for t in sorted(found, key=lambda t: t.no)],
    )


# Column widths (cm) of each table, across the 15.6 cm between the margins.
WIDTHS: dict[int, tuple[float, ...]] = {
    len(texts.BULLETIN_TASK_HEADERS): (1.3, 6.3, 3.2, 4.8),
    len(texts.BULLETIN_MISSED_HEADERS): (6.0, 4.8, 4.8),
    len(texts.BULLETIN_RANKING_HEADERS): (3.0, 1.6, 5.0, 3.0, 3.0),
}


def _table(doc: DocumentObject, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    table = doc.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    widths = WIDTHS.get(len(headers))
    for cell, header in zip(table.rows[0].cells, headers, strict=True):
        cell.text = ""
        _font(cell.paragraphs[0].add_run(header), BODY_FONT, 12, bold=True)
    for row in rows:
        cells = table.add_row().cells
        for cell, value in zip(cells, row, strict=True):
            cell.text = ""
            _font(cell.paragraphs[0].add_run(value), BODY_FONT, 12)
    if widths is not None:
        for column, width in zip(table.columns, widths, strict=True):
            column.width = Cm(width)  # the grid, which LibreOffice and WPS read
        for row_ in table.rows:
            for cell, width in zip(row_.cells, widths, strict=True):
                cell.width = Cm(width)
