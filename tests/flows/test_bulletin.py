"""The monthly 通报 (issue 22): /bulletin sends the office a Word document in the form an office
issues — title, 文号 line to fill in, the figures' paragraphs, the red and yellow tasks, the
units with missed reports, the ranking — read back here with python-docx, on SQLite and
PostgreSQL; a bad month gets the usage and nothing else."""

from __future__ import annotations

from datetime import datetime
from io import BytesIO

from docx import Document

from bot import texts
from bot.domain.roles import Role
from tests.flows.conftest import SHANGHAI
from tests.flows.test_office import insert_report
from tests.harness import Harness


async def test_the_office_gets_the_months_bulletin_as_a_word_document(h: Harness) -> None:
    office = await h.bound("督导办", Role.OFFICE)
    await insert_report(h, 16, "发改局", datetime(2026, 3, 20, 10, tzinfo=SHANGHAI), percent=10.0)
    await insert_report(h, 7, "商务局", datetime(2026, 3, 27, 10, tzinfo=SHANGHAI))
    h.clock.set(datetime(2026, 4, 1, 9, tzinfo=SHANGHAI))

    message = await h.command(office, "bulletin")
    assert message.document is not None and message.document.data is not None
    assert message.document.filename == "月度通报-2026-03.docx"
    assert "2026年3月份重点工作目标任务推进情况通报" in (message.plain or "")
    doc = Document(BytesIO(message.document.data))
    paragraphs = [p.text for p in doc.paragraphs if p.text]
    assert paragraphs[0] == texts.bulletin_number(2026)
    assert paragraphs[1] == texts.bulletin_title(2026, 3)
    assert paragraphs[-2:] == ["市大督导办", "2026年4月1日"]
    lights = next(p for p in paragraphs if p.startswith("全市"))
    assert "全市88项重点工作目标任务中" in lights
    reports = next(p for p in paragraphs if p.startswith("3月份各单位应报送进展"))
    assert "按时报送1项次，逾期补报1项次" in reports
    headings = [p for p in paragraphs if p[1:2] == "、"]
    assert headings == [
        "一、总体进展",
        "二、红灯任务",
        "三、黄灯任务",
        "四、缺报单位",
        "五、考评排名",
    ]

    tables = [[[c.text for c in row.cells] for row in t.rows] for t in doc.tables]
    red = next(t for t in tables if t[0] == list(texts.BULLETIN_TASK_HEADERS))
    assert any(row[0] == "6" and "发改局" in row[2] and "逾期" in row[3] for row in red[1:])
    missed = next(t for t in tables if t[0] == list(texts.BULLETIN_MISSED_HEADERS))
    by_unit = {row[0]: row for row in missed[1:]}
    assert int(by_unit["发改局"][1]) > 0
    ranking = next(t for t in tables if t[0] == list(texts.BULLETIN_RANKING_HEADERS))
    kinds = {row[0] for row in ranking[1:]}
    assert "市直部门" in kinds
    departments = [row[2] for row in ranking[1:] if row[0] == "市直部门"]
    assert departments.index("商务局") < departments.index("发改局")

    # A month named explicitly, and one that is not a month.
    named = await h.command(office, "bulletin", "2026-04")
    assert named.document is not None and named.document.filename == "月度通报-2026-04.docx"
    bad = await h.command(office, "bulletin", "下个月")
    assert bad.plain == texts.BULLETIN_USAGE and bad.document is None
