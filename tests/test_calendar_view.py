"""The month view: a Monday-first grid on the real 2026 calendar, overrides and 2027."""

import re
import unicodedata
from datetime import date

import pytest

from bot.domain.calendar_view import render_month
from bot.domain.workcal import WorkCalendar


def width(line: str) -> int:
    """Terminal columns a line takes (CJK characters take two)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)


OCTOBER_2026 = """\
2026年10月 工作日历
  周一    周二    周三    周四    周五    周六    周日
                          1 假    2 假    3 假    4 假
  5 假    6 假    7 假    8 班    9 班   10 补   11 休
 12 班   13 班   14 班   15 班   16 班   17 休   18 休
 19 班   20 班   21 班   22 班  >23 班   24 休   25 休
 26 班   27 班   28 班   29 班   30 班   31 休

图例：班 工作日  补 调休上班  假 法定节假日  休 休息日
      * 管理员调整  > 报送截止日
本月工作日 18 天。
报送截止日：10月23日（周五）
特殊日期：
  10月1日（周四）至10月7日（周三）  国庆节 放假
  10月10日（周六）  国庆节 调休上班
"""


def test_october_2026_with_its_deadline() -> None:
    text = render_month(2026, 10, WorkCalendar(), deadlines=[date(2026, 10, 23)])
    assert text == OCTOBER_2026


def test_september_2026_make_up_sunday_and_mid_autumn() -> None:
    text = render_month(2026, 9, WorkCalendar())
    grid = text.splitlines()
    assert grid[4] == " 14 班   15 班   16 班   17 班   18 班   19 休   20 补"
    assert grid[5] == " 21 班   22 班   23 班   24 班   25 假   26 假   27 假"
    assert "本月工作日 22 天。" in grid
    assert "  9月20日（周日）  国庆节 调休上班" in grid
    assert "  9月25日（周五）至9月27日（周日）  中秋节 放假" in grid
    assert "报送截止日：" not in text


def test_february_2026_spring_festival() -> None:
    lines = render_month(2026, 2, WorkCalendar()).splitlines()
    assert lines[2].strip() == "1 休"  # Feb 1 is a Sunday: the last column
    assert lines[4] == "  9 班   10 班   11 班   12 班   13 班   14 补   15 假"
    assert lines[-3:] == [
        "  2月14日（周六）  春节 调休上班",
        "  2月15日（周日）至2月23日（周一）  春节 放假",
        "  2月28日（周六）  春节 调休上班",
    ]
    assert "本月工作日 16 天。" in lines


def test_overrides_are_starred_and_listed() -> None:
    cal = WorkCalendar({date(2026, 3, 25): False, date(2026, 3, 28): True})
    lines = render_month(2026, 3, cal).splitlines()
    assert lines[6] == " 23 班   24 班   25 休*  26 班   27 班   28 补*  29 休"
    assert lines[-2:] == [
        "  3月25日（周三）  管理员设为休息日",
        "  3月28日（周六）  管理员设为工作日",
    ]
    assert "本月工作日 22 天。" in lines  # 22 weekdays, one taken off, one Saturday added


def test_unknown_year_warns_and_uses_monday_to_friday() -> None:
    text = render_month(2027, 10, WorkCalendar())
    assert "  4 班    5 班    6 班    7 班    8 班    9 休   10 休" in text
    assert "缺少2027年法定节假日数据" in text
    assert "特殊日期" not in text
    assert "缺少" not in render_month(2026, 10, WorkCalendar())


@pytest.mark.parametrize("month", range(1, 13))
def test_every_2026_month_fits_80_columns_and_has_a_full_grid(month: int) -> None:
    lines = render_month(2026, month, WorkCalendar()).splitlines()
    assert all(width(line) <= 80 for line in lines)
    grid = lines[2 : lines.index("")]
    assert 4 <= len(grid) <= 6
    days = [int(d) for line in grid for d in re.findall(r"(\d+) [班补假休]", line)]
    assert days == list(range(1, len(days) + 1))
    assert len(days) >= 28
    # Each day sits under its weekday: its label ends at display column 8 * weekday + 6.
    for line in grid:
        for match in re.finditer(r"(\d+) [班补假休]", line):
            weekday = date(2026, month, int(match.group(1))).weekday()
            assert width(line[: match.end()]) == 8 * weekday + 6


def test_bad_month_is_refused() -> None:
    with pytest.raises(ValueError, match="month"):
        render_month(2026, 13, WorkCalendar())
