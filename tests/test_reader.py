"""The reader on the labelled replies (tests/reader_cases.py): never a number against a wrong
target, never an invented completion date, and nearly every reply read right."""

from __future__ import annotations

from datetime import date

import pytest

from bot.domain.replies import Understood, content_free, understand
from bot.domain.workcal import WorkCalendar
from tests.reader_cases import CASES, TODAY
from tests.reader_score import reads, score, targets_of, task_text


def test_the_labelled_replies_are_read_right() -> None:
    s = score(CASES)
    wrong = [(v.case.task, v.case.text, v.wrong) for v in s.failing("wrong")]
    invented = [(v.case.task, v.case.text) for v in s.failing("date_invented")]
    assert wrong == []
    assert invented == []
    assert s.read_right / s.replies >= 0.95, [v.case.text for v in s.verdicts if not v.ok]
    assert s.recall >= 0.9


# The readings observed in issue 18, each with the task it was a reply to.
OBSERVED = [
    # (task, reply, targets read, completion date)
    (6, "512个重点项目已开工386个，完成投资420亿元", {"完成投资": 420.0}, None),
    (6, "新开工项目45个", {}, None),
    (24, "完成诊断服务企业120家", {}, None),
    (12, "已上报用地报批材料1800亩，目前获批600亩", {"获批用地": 600.0}, None),
    (23, "本月新增规上企业3家", {"新增规上企业": 3.0}, None),
    (23, "新增规上企业12家，下月中旬再报一批", {"新增规上企业": 12.0}, None),
    (12, "本月无进展，土地指标需市里协调", {}, None),
    (29, "计划下月再引进10家", {}, None),
    (6, "已报市政府，完成约三分之一", {}, None),
    (6, "预计9月开工", {}, None),
    (32, "新增船舶运力14.2万载重吨", {"新增船舶运力": 14.2}, None),
    (13, "争取专项债和超长期特别国债资金11.6亿元", {"争取政策资金": 11.6}, None),
]


@pytest.mark.parametrize(("no", "text", "read", "expected"), OBSERVED)
def test_the_observed_misreadings_are_gone(
    no: int, text: str, read: dict[str, float], expected: date | None
) -> None:
    understood = understand(text, list(targets_of(no)), TODAY, WorkCalendar(), task_text(no))
    assert reads(understood) == read
    assert understood.expected == expected


def test_the_observed_dates_percent_and_difficulties() -> None:
    def read(text: str) -> Understood:
        return understand(text, [], TODAY, WorkCalendar())

    assert read("预计国庆节后第一周完成").expected == date(2026, 10, 11)
    assert read("已报市政府，完成约三分之一").percent == 33.3
    assert read("预计6月31日完工").impossible_date == "6月31日"
    assert read("征地拆迁进度偏慢，需市里协调用地指标").difficulties == (
        "征地拆迁进度偏慢，需市里协调用地指标",
    )
    assert read("因低空经济政策尚未出台，请上级部门给予支持").difficulties == (
        "因低空经济政策尚未出台，请上级部门给予支持",
    )
    assert read("红线内杆线迁改难度大，需供电公司配合").difficulties == (
        "红线内杆线迁改难度大，需供电公司配合",
    )
    assert content_free("👍👍")
