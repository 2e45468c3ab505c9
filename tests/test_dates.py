"""parse_due_date: the shared table of deadline expressions, plus its contracts."""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import bot.domain.dates
from bot import texts
from bot.domain.dates import Completion, add_months, completion_date, parse_due_date
from bot.domain.replies import understand
from bot.domain.workcal import WorkCalendar
from tests.date_cases import CASES, CATEGORIES, DateCase

_CALENDAR = WorkCalendar()


def _case_id(case: DateCase) -> str:
    return f"{case.category}:{case.text or '<empty>'}@{case.today.isoformat()}"


def test_table_is_large_and_covers_every_category() -> None:
    assert len(CASES) >= 120
    assert {case.category for case in CASES} == set(CATEGORIES)
    assert len({(case.text, case.today) for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_case_table(case: DateCase) -> None:
    assert parse_due_date(case.text, case.today, _CALENDAR) == case.expected


@pytest.mark.parametrize("case", CASES[:20], ids=_case_id)
def test_default_calendar_gives_the_same_answers(case: DateCase) -> None:
    assert parse_due_date(case.text, case.today) == case.expected


def test_calendar_override_moves_a_workday_deadline() -> None:
    calendar = WorkCalendar(overrides={date(2026, 10, 8): False})
    # Workdays after 09-30 are now 10-09, 10-10 (make-up Saturday), 10-12.
    assert parse_due_date("3个工作日内", date(2026, 9, 30), calendar) == date(2026, 10, 12)


def test_rules_that_match_never_call_dateparser(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("dateparser called although a rule matched")

    monkeypatch.setattr(bot.domain.dates, "search_dates", refuse)
    for case in CASES:
        if case.expected is not None or any(ch in case.text for ch in "月/-"):
            assert parse_due_date(case.text, case.today, _CALENDAR) == case.expected


def test_dateparser_is_the_fallback_when_no_rule_matches(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[dict[str, Any]] = []

    def fake(text: str, languages: list[str], settings: dict[str, Any]) -> list[Any]:
        seen.append({"text": text, "languages": languages, **settings})
        return [("下午3点", datetime(2026, 5, 13, 15, 0))]  # noqa: DTZ001

    monkeypatch.setattr(bot.domain.dates, "search_dates", fake)
    assert parse_due_date("下午3点前", date(2026, 5, 13)) == date(2026, 5, 13)
    assert seen[0]["languages"] == ["zh"]
    assert seen[0]["RELATIVE_BASE"] == datetime(2026, 5, 13)  # noqa: DTZ001
    assert seen[0]["PREFER_DATES_FROM"] == "future"


def test_dateparser_hit_without_a_date_word_is_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    def fake(text: str, languages: list[str], settings: dict[str, Any]) -> list[Any]:
        return [("12.5", datetime(2026, 12, 5))]  # noqa: DTZ001

    monkeypatch.setattr(bot.domain.dates, "search_dates", fake)
    assert parse_due_date("完成投资12.5亿元", date(2026, 5, 13)) is None


def test_dateparser_fallback_finding_nothing_is_none() -> None:
    assert parse_due_date("下午3点前", date(2026, 5, 13)) is None


_FILLER = "已完成投资320亿元，新增规上企业56家，铺设管网120公里，用地指标需协调。" * 400


@pytest.mark.parametrize(
    ("text", "expected"),
    [(_FILLER + "预计6月底前完成竣工验收。", date(2026, 6, 30)), (_FILLER, None)],
    ids=["deadline-at-the-end", "no-deadline"],
)
def test_long_text_is_fast(text: str, expected: date | None) -> None:
    start = time.perf_counter()
    result = parse_due_date(text, date(2026, 5, 13), _CALENDAR)
    elapsed = time.perf_counter() - start
    assert result == expected
    assert elapsed < 0.5


def test_binary_garbage_is_none() -> None:
    assert parse_due_date("\x00\x01\ufffd" * 50, date(2026, 5, 13)) is None


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),
        (date(2026, 12, 15), 1, date(2027, 1, 15)),
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
        (date(2026, 5, 13), 24, date(2028, 5, 13)),
    ],
)
def test_add_months_clamps(day: date, months: int, expected: date) -> None:
    assert add_months(day, months) == expected


_TODAYS = st.dates(min_value=date(2025, 1, 1), max_value=date(2030, 12, 31))


@given(today=_TODAYS, month=st.integers(1, 12), day=st.integers(1, 28))
def test_a_date_without_a_year_is_within_the_coming_year(today: date, month: int, day: int) -> None:
    result = parse_due_date(f"{month}月{day}日前完成", today, _CALENDAR)
    assert result is not None
    assert (result.month, result.day) == (month, day)
    assert today <= result < add_months(today, 12) + timedelta(days=1)


@given(today=_TODAYS, n=st.integers(1, 20))
def test_workday_span_lands_on_a_workday_after_today(today: date, n: int) -> None:
    result = parse_due_date(f"{n}个工作日内", today, _CALENDAR)
    assert result is not None
    assert result > today
    assert _CALENDAR.is_workday(result)
    assert _CALENDAR.workdays_between(today, result) == n


_DATE_CHARS = (
    "0123456789一二三四五六七八九十零〇两年月日号底末初中上下旬"
    "周星期天本这个季度半内后前今明Q-/.%，已预计"
)
_DATE_ALPHABET = [*_DATE_CHARS, "工作日", "上半年", "2026年", "下下周"]


@given(
    text=st.lists(st.sampled_from(_DATE_ALPHABET), max_size=20).map("".join),
    today=st.dates(min_value=date(1990, 1, 1), max_value=date(2090, 12, 31)),
)
def test_date_like_noise_never_raises(text: str, today: date) -> None:
    result = parse_due_date(text, today, _CALENDAR)
    assert result is None or isinstance(result, date)


# --- completion dates in a reply (bot.domain.dates.completion_date), read on 2026-05-13 --------

COMPLETION_CASES = [
    # Observed inventions: none of these states when the task will be completed.
    ("本月新增规上企业3家", None),
    ("新增规上企业12家，下月中旬再报一批", None),
    ("本月无进展，土地指标需市里协调", None),
    ("计划下月再引进10家", None),
    ("已报市政府，完成约三分之一", None),
    ("预计9月开工", None),
    ("截至4月底已完成投资120亿元", None),
    ("下月中旬再报完成情况", None),
    ("3月份已建成投用", None),
    # Completion dates, named periods and festivals read with the work calendar.
    ("预计国庆节后第一周完成", date(2026, 10, 11)),  # first workday 10-08; that week's Sunday
    ("完成投资320亿元，预计6月底前完成竣工验收", date(2026, 6, 30)),
    ("预计9月开工、12月底竣工", date(2026, 12, 31)),
    ("力争年底前全面建成", date(2026, 12, 31)),
    ("预计春节前交付使用", date(2027, 2, 5)),  # Spring Festival 2027-02-06
    ("4月底已完成主体施工，预计7月投用", date(2026, 7, 31)),
    ("计划三季度末完成", date(2026, 9, 30)),
    ("预计10月中旬完成", date(2026, 10, 20)),
    ("三季度末完成", None),  # no promise and no 前: as likely a time reference
    ("1-4月一般公共预算收入完成21.36亿元", None),
    ("本月新增投产企业21家", None),
    ("力争6月底前再竣工15个", None),  # a milestone with a figure
    ("力争6月底前完成投资400亿元", None),
    ("试点项目预计10月中旬完成设计方案审查", None),  # a sub-step
    ("预计9月开工，年底前完成主体", None),
    ("一期预计6月完工，二期年底前完工", date(2026, 12, 31)),
]


@pytest.mark.parametrize(("text", "expected"), COMPLETION_CASES)
def test_completion_date_only_from_words_about_completing(text: str, expected: date | None) -> None:
    assert completion_date(text, date(2026, 5, 13), WorkCalendar()).day == expected


def test_an_impossible_completion_date_is_named_not_dropped() -> None:
    found = completion_date("预计6月31日完工", date(2026, 5, 13), WorkCalendar())
    assert found == Completion(None, "6月31日")
    understood = understand("进展顺利，预计6月31日完工", [], date(2026, 5, 13), WorkCalendar())
    card = texts.report_card(6, "任务", "发改局", "5月", understood, False)
    assert "「6月31日」不是有效日期" in card
