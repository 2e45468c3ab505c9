"""A month of the work calendar as plain text, for developers and admins at a terminal.

Glossary: 班 = workday; 补 = make-up workday (调休上班, a weekend day worked in exchange for a
holiday); 假 = statutory holiday (法定节假日); 休 = any other day off; 截止日 = a report
deadline. A `*` marks a day the admin overrode.

Example (`python -m bot calendar 2026-10`), 56 columns wide:

    2026年10月 工作日历
      周一    周二    周三    周四    周五    周六    周日
                              1 假    2 假    3 假    4 假
      5 假    6 假    7 假    8 班    9 班   10 补   11 休
    ...
"""

from __future__ import annotations

import calendar as _calendar
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date

from bot.domain.workcal import WorkCalendar

WEEKDAYS_ZH = "一二三四五六日"
CELL = 8  # display columns per day: mark, 2-digit day, space, label (2 columns), star, space

LEGEND = (
    "图例：班 工作日  补 调休上班  假 法定节假日  休 休息日",
    "      * 管理员调整  > 报送截止日",
)


@dataclass(frozen=True)
class _Day:
    """How one day is shown."""

    day: date
    label: str  # 班, 补, 假 or 休
    overridden: bool
    holiday: str | None  # Chinese holiday name, if the day belongs to one

    @property
    def note(self) -> str | None:
        """What the footer says about the day, or None for an ordinary day."""
        if self.overridden:
            return "管理员设为工作日" if self.label in ("班", "补") else "管理员设为休息日"
        if self.label == "补":
            return f"{self.holiday or '节假日'} 调休上班"
        if self.label == "假":
            return f"{self.holiday or '节假日'} 放假"
        return None


def _classify(day: date, calendar: WorkCalendar) -> _Day:
    """Label a day: workday, make-up workday, statutory holiday or weekend."""
    weekend = day.weekday() >= 5
    holiday = calendar.holiday_name(day)
    if calendar.is_workday(day):
        label = "补" if weekend else "班"
    else:
        # A weekday off that no statutory holiday explains is the admin's doing: 休*, not 假.
        label = "假" if holiday is not None else "休"
    return _Day(day, label, calendar.override(day) is not None, holiday)


def _zh_date(day: date) -> str:
    """'10月1日（周四）'."""
    return f"{day.month}月{day.day}日（周{WEEKDAYS_ZH[day.weekday()]}）"


def render_month(
    year: int, month: int, calendar: WorkCalendar, *, deadlines: Collection[date] = ()
) -> str:
    """A Monday-first grid of the month with each day's kind, a legend and the special days."""
    if not 1 <= month <= 12:
        raise ValueError(f"month must be 1-12, got {month}")
    first = date(year, month, 1)  # ValueError for a year outside 1-9999
    n_days = _calendar.monthrange(year, month)[1]
    days = [_classify(first.replace(day=i), calendar) for i in range(1, n_days + 1)]

    lines = [f"{year}年{month}月 工作日历"]
    lines.append("".join(f"  周{w}  " for w in WEEKDAYS_ZH).rstrip())
    row = " " * CELL * first.weekday()
    for d in days:
        mark = ">" if d.day in deadlines else " "
        star = "*" if d.overridden else " "
        row += f"{mark}{d.day.day:>2} {d.label}{star} "
        if d.day.weekday() == 6:
            lines.append(row.rstrip())
            row = ""
    if row:
        lines.append(row.rstrip())

    lines.append("")
    lines.extend(LEGEND)
    workdays = sum(1 for d in days if d.label in ("班", "补"))
    lines.append(f"本月工作日 {workdays} 天。")
    month_deadlines = sorted(d for d in deadlines if (d.year, d.month) == (year, month))
    if month_deadlines:
        lines.append("报送截止日：" + "、".join(_zh_date(d) for d in month_deadlines))
    if not calendar.knows_year(year):
        lines.append(f"注意：缺少{year}年法定节假日数据，暂按周一至周五计算；")
        lines.append("      节假日和调休请由管理员设置。")

    # Runs of consecutive days with the same note: "10月1日（周四）至10月7日（周三） 国庆节 放假".
    runs: list[tuple[date, date, str]] = []
    for d in days:
        note = d.note
        if note is None:
            continue
        if runs and runs[-1][2] == note and (d.day - runs[-1][1]).days == 1:
            runs[-1] = (runs[-1][0], d.day, note)
        else:
            runs.append((d.day, d.day, note))
    if runs:
        lines.append("特殊日期：")
    for start, end, note in runs:
        span = _zh_date(start) if start == end else f"{_zh_date(start)}至{_zh_date(end)}"
        lines.append(f"  {span}  {note}")
    return "\n".join(lines) + "\n"
