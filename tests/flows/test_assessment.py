"""考评 (issue 22) as the office sees it: /units ranks each kind of unit by the month's score
with the year's beside it, and the exported ledger has a 考评 sheet with each unit's measures,
on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime
from io import BytesIO
from typing import Any

from openpyxl import load_workbook

from bot import texts
from bot.domain.roles import Role
from bot.services.export import export_ledger
from tests.flows.conftest import SHANGHAI
from tests.flows.test_office import buttons, insert_report
from tests.harness import Harness


async def test_units_ranks_by_the_months_score_and_the_ledger_has_the_sheet(h: Harness) -> None:
    office = await h.bound("督导办", Role.OFFICE)
    # March: 发改局 reports one of its lead tasks on time and misses the rest; 商务局 (which
    # leads task 7) reports it two days late.
    await insert_report(h, 16, "发改局", datetime(2026, 3, 20, 10, tzinfo=SHANGHAI), percent=10.0)
    await insert_report(h, 7, "商务局", datetime(2026, 3, 27, 10, tzinfo=SHANGHAI))
    h.clock.set(datetime(2026, 4, 1, 9, tzinfo=SHANGHAI))

    overview = await h.command(office, "units")
    assert buttons(overview) == [texts.RANKING_BUTTON]
    _, ranking = await h.press(office, overview, texts.RANKING_BUTTON)
    text = ranking.plain or ""
    assert "2026年3月" in text and "市直部门" in text
    lines = [line for line in text.splitlines() if "本月" in line and "年度" in line]
    assert any("发改局　本月" in line for line in lines)
    assert any("商务局　本月" in line for line in lines)

    services = h.runtime.services
    assert services is not None
    async with h.sessionmaker() as session:
        done = await export_ledger(
            session, now=h.clock.now(), settings=services.settings, calendar=services.calendar
        )
    assert done is not None
    book = load_workbook(BytesIO(done.data))
    sheet = book[texts.ASSESSMENT_SHEET]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == texts.ASSESSMENT_HEADERS
    by_unit: dict[Any, dict[str, Any]] = {
        r[1]: dict(zip(texts.ASSESSMENT_HEADERS, r, strict=True)) for r in rows[1:]
    }
    fgj = by_unit["发改局"]
    assert fgj["类别"] == "市直部门"
    assert (fgj["按时"], fgj["逾期补报"]) == (1, 0)
    assert fgj["缺报"] == fgj["本月应报"] - 1 > 0
    assert fgj["逾期工作日"] > 0 and fgj["落后序时进度（百分点）"] is not None
    swj = by_unit["商务局"]
    assert (swj["逾期补报"], swj["缺报"]) == (1, swj["本月应报"] - 1)
    # Fewer misses in proportion, a better score: 商务局 ranks above 发改局 among 市直部门.
    assert swj["本月得分"] > fgj["本月得分"]
    assert swj["本月排名"] < fgj["本月排名"]
    # The ranking message orders them the same way.
    names = [line.split(". ", 1)[1].split("　")[0] for line in lines if ". " in line]
    assert names.index("商务局") < names.index("发改局")
