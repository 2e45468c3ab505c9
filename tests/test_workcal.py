"""WorkCalendar on the real 2026 statutory calendar, with overrides and the 2027 fallback."""

from datetime import date

import pytest

from bot.domain.workcal import WorkCalendar

# Every 2026 day whose status differs from plain Monday-Friday, per the State Council's notice
# (国办发明电〔2025〕7号) as carried by chinesecalendar 1.11.
DAYS_OFF_ON_WEEKDAYS_2026 = [
    date(2026, 1, 1),  # Thu, 元旦
    date(2026, 1, 2),  # Fri, 元旦
    date(2026, 2, 16),  # Mon-Fri and the next Mon, 春节
    date(2026, 2, 17),
    date(2026, 2, 18),
    date(2026, 2, 19),
    date(2026, 2, 20),
    date(2026, 2, 23),
    date(2026, 4, 6),  # Mon, 清明节
    date(2026, 5, 1),  # Fri, 劳动节
    date(2026, 5, 4),
    date(2026, 5, 5),
    date(2026, 6, 19),  # Fri, 端午节
    date(2026, 9, 25),  # Fri, 中秋节
    date(2026, 10, 1),  # Thu-Wed, 国庆节
    date(2026, 10, 2),
    date(2026, 10, 5),
    date(2026, 10, 6),
    date(2026, 10, 7),
]
MAKE_UP_WORKDAYS_2026 = [
    date(2026, 1, 4),  # Sun
    date(2026, 2, 14),  # Sat
    date(2026, 2, 28),  # Sat
    date(2026, 5, 9),  # Sat
    date(2026, 9, 20),  # Sun
    date(2026, 10, 10),  # Sat
]


def test_2026_differs_from_monday_to_friday_exactly_on_the_notice_days() -> None:
    cal = WorkCalendar()
    day = date(2026, 1, 1)
    off: list[date] = []
    on: list[date] = []
    while day.year == 2026:
        plain = day.weekday() < 5
        if cal.is_workday(day) != plain:
            (off if plain else on).append(day)
        day = date.fromordinal(day.toordinal() + 1)
    assert off == DAYS_OFF_ON_WEEKDAYS_2026
    assert on == MAKE_UP_WORKDAYS_2026
    assert cal.unknown_years == set()
    assert cal.knows_year(2026)


@pytest.mark.parametrize(
    ("day", "name"),
    [
        (date(2026, 10, 3), "国庆节"),  # a Saturday inside the holiday
        (date(2026, 10, 10), "国庆节"),  # its make-up workday
        (date(2026, 9, 20), "国庆节"),
        (date(2026, 9, 25), "中秋节"),
        (date(2026, 2, 14), "春节"),
        (date(2026, 4, 6), "清明节"),
        (date(2026, 6, 19), "端午节"),
        (date(2026, 5, 1), "劳动节"),
        (date(2026, 1, 1), "元旦"),
        (date(2026, 3, 14), None),  # an ordinary Saturday
        (date(2026, 3, 16), None),  # an ordinary Monday
        (date(2027, 10, 1), None),  # no data for 2027
    ],
)
def test_holiday_name(day: date, name: str | None) -> None:
    assert WorkCalendar().holiday_name(day) == name


@pytest.mark.parametrize(
    ("day", "previous", "following"),
    [
        (date(2026, 3, 18), date(2026, 3, 18), date(2026, 3, 18)),  # a Wednesday
        (date(2026, 1, 25), date(2026, 1, 23), date(2026, 1, 26)),  # Sunday
        (date(2026, 1, 3), date(2025, 12, 31), date(2026, 1, 4)),  # 元旦; Sun Jan 4 is worked
        (date(2026, 2, 22), date(2026, 2, 14), date(2026, 2, 24)),  # 春节
        (date(2026, 10, 4), date(2026, 9, 30), date(2026, 10, 8)),  # 国庆节
        (date(2026, 9, 26), date(2026, 9, 24), date(2026, 9, 28)),  # 中秋节 weekend
    ],
)
def test_previous_and_next_workday(day: date, previous: date, following: date) -> None:
    cal = WorkCalendar()
    assert cal.previous_workday(day) == previous
    assert cal.next_workday(day) == following


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (date(2026, 3, 25), 0, date(2026, 3, 25)),
        (date(2026, 3, 25), 1, date(2026, 3, 26)),
        (date(2026, 3, 25), 3, date(2026, 3, 30)),
        (date(2026, 3, 25), -3, date(2026, 3, 20)),
        (date(2026, 2, 25), -2, date(2026, 2, 14)),  # back over 春节 to the make-up Saturday
        (date(2026, 2, 25), -3, date(2026, 2, 13)),
        (date(2026, 2, 25), 3, date(2026, 2, 28)),  # forward onto the make-up Saturday
        (date(2026, 9, 24), 1, date(2026, 9, 28)),  # over 中秋节
        (date(2026, 9, 24), 4, date(2026, 10, 8)),  # and over 国庆节
        (date(2026, 9, 24), 6, date(2026, 10, 10)),
        (date(2026, 9, 21), -1, date(2026, 9, 20)),  # the make-up Sunday
        (date(2026, 10, 8), -1, date(2026, 9, 30)),
        (date(2026, 1, 3), 1, date(2026, 1, 4)),  # a non-workday start counts from the next one
    ],
)
def test_add_workdays(start: date, n: int, expected: date) -> None:
    assert WorkCalendar().add_workdays(start, n) == expected


@pytest.mark.parametrize(
    ("start", "end", "count"),
    [
        (date(2026, 3, 25), date(2026, 3, 25), 0),
        (date(2026, 3, 25), date(2026, 3, 26), 1),  # (start, end]: the end counts
        (date(2026, 3, 27), date(2026, 3, 29), 0),  # Fri to Sun
        (date(2026, 9, 24), date(2026, 10, 10), 6),  # 28, 29, 30 Sep; 8, 9, 10 Oct
        (date(2026, 10, 10), date(2026, 9, 24), -6),
        (date(2026, 2, 13), date(2026, 2, 25), 3),  # 14 (Sat, worked), 24, 25
        (date(2025, 12, 31), date(2026, 12, 31), 248),  # 261 weekdays - 19 holidays + 6 make-up
    ],
)
def test_workdays_between(start: date, end: date, count: int) -> None:
    assert WorkCalendar().workdays_between(start, end) == count


def test_override_turns_a_day_off_and_on_and_can_be_cleared() -> None:
    cal = WorkCalendar({date(2026, 3, 25): False})
    assert not cal.is_workday(date(2026, 3, 25))
    assert cal.override(date(2026, 3, 25)) is False
    assert cal.previous_workday(date(2026, 3, 25)) == date(2026, 3, 24)

    cal.set_override(date(2026, 10, 5), True)  # a 国庆节 day worked by order of the office
    assert cal.is_workday(date(2026, 10, 5))
    assert cal.add_workdays(date(2026, 9, 30), 1) == date(2026, 10, 5)

    cal.clear_override(date(2026, 3, 25))
    cal.clear_override(date(2026, 3, 26))  # clearing an absent override is harmless
    assert cal.is_workday(date(2026, 3, 25))
    assert cal.override(date(2026, 3, 25)) is None


def test_unknown_year_falls_back_to_monday_to_friday_and_is_recorded() -> None:
    cal = WorkCalendar()
    assert not cal.knows_year(2027)
    assert cal.unknown_years == set()
    assert cal.is_workday(date(2027, 10, 1))  # a Friday: no 国庆节 data, so a workday
    assert not cal.is_workday(date(2027, 10, 2))
    assert cal.unknown_years == {2027}
    assert cal.previous_workday(date(2027, 4, 25)) == date(2027, 4, 23)
    # An override is still honoured in an unknown year, and the year is not recorded twice.
    cal.set_override(date(2027, 10, 1), False)
    assert not cal.is_workday(date(2027, 10, 1))
    assert cal.unknown_years == {2027}


def test_span_across_the_year_end_uses_both_calendars() -> None:
    cal = WorkCalendar()
    # Thu Dec 31 2026 (statutory), then Fri Jan 1 2027 counted as a workday by the fallback.
    assert cal.add_workdays(date(2026, 12, 30), 2) == date(2027, 1, 1)
    assert cal.unknown_years == {2027}
