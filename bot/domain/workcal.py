"""Workdays by the Chinese statutory calendar (with make-up workdays, 调休), plus overrides.

Glossary: 法定节假日 = statutory holiday; 调休 = the shuffle of days around a holiday;
调休上班 / 补班 = make-up workday (a Saturday or Sunday worked in exchange for a holiday).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Hashable, Mapping
from datetime import date, timedelta
from typing import Any, TypeVar, cast

import chinese_calendar

T = TypeVar("T")

# chinesecalendar's own Chinese names are terse ("中秋"); these are the names in the State
# Council's notice, which people recognise.
_HOLIDAY_NAMES_ZH = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
}


class WorkCalendar:
    """Answers "is this a workday?" — statutory calendar first, then the admin's overrides.

    A year the chinesecalendar library does not know falls back to Monday–Friday;
    `unknown_years` records which years did, so the admin can be warned once.
    """

    def __init__(self, overrides: Mapping[date, bool] | None = None) -> None:
        self._overrides: dict[date, bool] = dict(overrides or {})
        self.unknown_years: set[int] = set()
        # chinesecalendar scans its whole table on every call (~35 µs); the ladder asks about
        # the same days thousands of times per run, so statutory answers are remembered.
        self._statutory: dict[date, bool] = {}
        self._derived: dict[Hashable, Any] = {}

    def set_override(self, day: date, is_workday: bool) -> None:
        """Force `day` to be a workday (True) or a day off (False)."""
        self._overrides[day] = is_workday
        self._derived.clear()

    def clear_override(self, day: date) -> None:
        """Drop an override; the statutory calendar applies again."""
        self._overrides.pop(day, None)
        self._derived.clear()

    def derived(self, key: Hashable, compute: Callable[[], T]) -> T:
        """`compute()`, remembered under `key` until an override changes the calendar.

        For results that depend only on `key` and on which days are workdays (a year's
        deadlines: bot.domain.cycles). Callers must not change what they get back.
        """
        try:
            return cast(T, self._derived[key])
        except KeyError:
            value = self._derived[key] = compute()
            return value

    def override(self, day: date) -> bool | None:
        """The admin's override for `day` (True: workday, False: day off), or None."""
        return self._overrides.get(day)

    def holiday_name(self, day: date) -> str | None:
        """The Chinese name of the statutory holiday `day` is off or made up for, if any."""
        try:
            _, name = chinese_calendar.get_holiday_detail(day)
        except NotImplementedError:
            return None
        if name is None:
            return None
        return _HOLIDAY_NAMES_ZH.get(name) or str(chinese_calendar.Holiday(name).chinese)

    def knows_year(self, year: int) -> bool:
        """True if the statutory calendar has data for `year`."""
        try:
            chinese_calendar.is_workday(date(year, 6, 1))
        except NotImplementedError:
            return False
        return True

    def is_workday(self, day: date) -> bool:
        """True if `day` is a workday."""
        if day in self._overrides:
            return self._overrides[day]
        known = self._statutory.get(day)
        if known is None:
            known = self._statutory[day] = self._statutory_workday(day)
        return known

    def _statutory_workday(self, day: date) -> bool:
        """The statutory answer for `day`, or Monday-Friday for a year without data."""
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:
            self.unknown_years.add(day.year)
            return day.weekday() < 5

    def previous_workday(self, day: date) -> date:
        """The last workday on or before `day`."""
        while not self.is_workday(day):
            day -= timedelta(days=1)
        return day

    def next_workday(self, day: date) -> date:
        """The first workday on or after `day`."""
        while not self.is_workday(day):
            day += timedelta(days=1)
        return day

    def add_workdays(self, day: date, n: int) -> date:
        """The n-th workday after `day` (n > 0) or before it (n < 0); n == 0 gives `day`."""
        step = timedelta(days=1 if n > 0 else -1)
        remaining = abs(n)
        while remaining:
            day += step
            if self.is_workday(day):
                remaining -= 1
        return day

    def workdays_between(self, start: date, end: date) -> int:
        """Workdays in the half-open span (start, end]; negative if end < start."""
        if end < start:
            return -self.workdays_between(end, start)
        count = 0
        day = start
        while day < end:
            day += timedelta(days=1)
            if self.is_workday(day):
                count += 1
        return count
