"""Reporting cycles on the real 2026 calendar: keys, moved deadlines, lookup by moment."""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.domain.cycles import (
    Cycle,
    CycleRule,
    cycles_for_year,
)
from bot.domain.obligations import Terms, credit, last_passed, open_cycle
from bot.domain.workcal import WorkCalendar

TZ = ZoneInfo("Asia/Shanghai")
DUE = time(17, 0)
MONTHLY = CycleRule()


def at(y: int, m: int, d: int, hh: int = 9, mm: int = 0, ss: int = 0) -> datetime:
    """An aware moment in the configured zone."""
    return datetime(y, m, d, hh, mm, ss, tzinfo=TZ)


def year_of(rule: CycleRule, year: int = 2026, cal: WorkCalendar | None = None) -> list[Cycle]:
    """The rule's cycles in `year` with the default settings."""
    return cycles_for_year(rule, year, cal or WorkCalendar(), TZ, DUE)


def test_monthly_2026_deadlines_by_hand() -> None:
    # (key, nominal 25th, deadline): a 25th that is not a workday moves to the previous workday.
    expected = [
        ("2026-01", date(2026, 1, 25), date(2026, 1, 23)),  # Sun → Fri (Sat 24 also off)
        ("2026-02", date(2026, 2, 25), date(2026, 2, 25)),  # Wed, after 春节 (15-23 Feb)
        ("2026-03", date(2026, 3, 25), date(2026, 3, 25)),  # Wed
        ("2026-04", date(2026, 4, 25), date(2026, 4, 24)),  # Sat → Fri
        ("2026-05", date(2026, 5, 25), date(2026, 5, 25)),  # Mon
        ("2026-06", date(2026, 6, 25), date(2026, 6, 25)),  # Thu
        ("2026-07", date(2026, 7, 25), date(2026, 7, 24)),  # Sat → Fri
        ("2026-08", date(2026, 8, 25), date(2026, 8, 25)),  # Tue
        ("2026-09", date(2026, 9, 25), date(2026, 9, 24)),  # Fri 中秋节 → Thu
        ("2026-10", date(2026, 10, 25), date(2026, 10, 23)),  # Sun → Fri (Sat 24 also off)
        ("2026-11", date(2026, 11, 25), date(2026, 11, 25)),  # Wed
        ("2026-12", date(2026, 12, 25), date(2026, 12, 25)),  # Fri
    ]
    cycles = year_of(MONTHLY)
    assert [(c.key, c.nominal, c.deadline) for c in cycles] == expected
    assert [c.moved for c in cycles] == [
        True, False, False, True, False, False, True, False, True, True, False, False,
    ]  # fmt: skip
    assert all(c.year == 2026 for c in cycles)
    assert cycles[0].due == datetime(2026, 1, 23, 17, 0, tzinfo=TZ)
    assert cycles[8].due == datetime(2026, 9, 24, 17, 0, tzinfo=TZ)
    assert cycles[8].due.astimezone(UTC) == datetime(2026, 9, 24, 9, 0, tzinfo=UTC)
    # Each period opens the day after the previous nominal 25th.
    assert [c.opens for c in cycles] == [date(2026, 1, 1)] + [
        date(2026, m, 26) for m in range(1, 12)
    ]


def test_quarterly_2026() -> None:
    cycles = year_of(CycleRule(kind="quarterly"))
    assert [(c.key, c.deadline, c.opens) for c in cycles] == [
        ("2026-Q1", date(2026, 3, 25), date(2026, 1, 1)),
        ("2026-Q2", date(2026, 6, 25), date(2026, 3, 26)),
        ("2026-Q3", date(2026, 9, 24), date(2026, 6, 26)),  # 25 Sep is 中秋节
        ("2026-Q4", date(2026, 12, 25), date(2026, 9, 26)),
    ]


def test_fixed_dates_keep_the_listed_date_as_key() -> None:
    rule = CycleRule(
        kind="dates",
        dates=(
            date(2026, 10, 1),  # 国庆节 → Wed 30 Sep
            date(2026, 5, 20),  # a Wednesday
            date(2026, 2, 28),  # a make-up Saturday: a workday, stays
            date(2025, 12, 1),  # another year: not a 2026 cycle
        ),
    )
    assert rule.dates[0] == date(2025, 12, 1)  # sorted
    assert [(c.key, c.deadline, c.opens) for c in year_of(rule)] == [
        ("2026-02-28", date(2026, 2, 28), date(2026, 1, 1)),
        ("2026-05-20", date(2026, 5, 20), date(2026, 3, 1)),
        ("2026-10-01", date(2026, 9, 30), date(2026, 5, 21)),
    ]


def test_due_day_past_the_month_end_means_the_last_day() -> None:
    cycles = year_of(CycleRule(due_day=31))
    deadlines = {c.key: c.deadline for c in cycles}
    assert deadlines["2026-01"] == date(2026, 1, 30)  # Sat 31 → Fri 30
    assert deadlines["2026-02"] == date(2026, 2, 28)  # the make-up Saturday is a workday
    assert deadlines["2026-04"] == date(2026, 4, 30)  # Thu 30
    assert deadlines["2026-05"] == date(2026, 5, 29)  # Sun 31 → Fri 29


def test_deadline_that_would_move_before_the_period_moves_forward() -> None:
    # 1 Jan is 元旦: the previous workday is in 2025, before the period opened.
    first = year_of(CycleRule(due_day=1))[0]
    assert (first.key, first.nominal, first.deadline) == (
        "2026-01",
        date(2026, 1, 1),
        date(2026, 1, 4),  # the make-up Sunday
    )
    oct_ = year_of(CycleRule(due_day=1))[9]
    assert (oct_.key, oct_.deadline) == ("2026-10", date(2026, 9, 30))  # back as usual


def test_override_moves_a_deadline_but_not_its_key() -> None:
    cal = WorkCalendar({date(2026, 3, 25): False, date(2026, 4, 25): True})
    cycles = {c.key: c for c in year_of(MONTHLY, cal=cal)}
    assert cycles["2026-03"].deadline == date(2026, 3, 24)  # the office took Wed 25 off
    assert cycles["2026-04"].deadline == date(2026, 4, 25)  # and works Sat 25
    assert not cycles["2026-04"].moved


def test_an_override_made_later_changes_the_cycles_already_worked_out() -> None:
    """The calendar keeps each year's cycles, and forgets them when an override changes."""
    cal = WorkCalendar()
    before = year_of(MONTHLY, cal=cal)
    assert before[2].deadline == date(2026, 3, 25)
    before.clear()  # what a caller does with its list does not reach the kept cycles
    assert year_of(MONTHLY, cal=cal)[2].deadline == date(2026, 3, 25)
    cal.set_override(date(2026, 3, 25), False)
    assert year_of(MONTHLY, cal=cal)[2].deadline == date(2026, 3, 24)
    moved = open_cycle(year_of(MONTHLY, cal=cal), at(2026, 3, 25))
    assert moved is not None and moved.key == "2026-04"
    cal.clear_override(date(2026, 3, 25))
    assert year_of(MONTHLY, cal=cal)[2].deadline == date(2026, 3, 25)


def test_2027_without_statutory_data_falls_back_to_monday_to_friday() -> None:
    cal = WorkCalendar()
    cycles = year_of(MONTHLY, 2027, cal)
    assert [c.deadline for c in cycles] == [
        date(2027, 1, 25),  # Mon
        date(2027, 2, 25),  # Thu
        date(2027, 3, 25),  # Thu
        date(2027, 4, 23),  # Sun 25 → Fri
        date(2027, 5, 25),  # Tue
        date(2027, 6, 25),  # Fri
        date(2027, 7, 23),  # Sun 25 → Fri
        date(2027, 8, 25),  # Wed
        date(2027, 9, 24),  # Sat 25 → Fri
        date(2027, 10, 25),  # Mon
        date(2027, 11, 25),  # Thu
        date(2027, 12, 24),  # Sat 25 → Fri
    ]
    assert cal.unknown_years == {2027}


@pytest.mark.parametrize(
    ("moment", "key"),
    [
        (at(2025, 12, 20), "2026-01"),  # before the year: its first cycle
        (at(2026, 1, 1, 0, 0), "2026-01"),
        (at(2026, 1, 23, 17, 0), "2026-01"),  # exactly at the deadline: still on time
        (at(2026, 1, 23, 17, 0, 1), "2026-02"),
        (at(2026, 1, 24, 10), "2026-02"),  # Sat before the nominal 25th: next cycle
        (at(2026, 9, 24, 16, 59), "2026-09"),
        (at(2026, 9, 25, 10), "2026-10"),  # 中秋节, after the moved deadline
        (at(2026, 12, 25, 17, 0), "2026-12"),
        (at(2026, 12, 25, 17, 1), None),  # after the task's last cycle
        (at(2027, 1, 5), None),
        (datetime(2026, 1, 23, 9, 0, tzinfo=UTC), "2026-01"),  # = 17:00 in Shanghai
        (datetime(2026, 1, 23, 9, 1, tzinfo=UTC), "2026-02"),
    ],
)
def test_open_cycle(moment: datetime, key: str | None) -> None:
    found = open_cycle(year_of(MONTHLY), moment)
    assert (found.key if found else None) == key


@pytest.mark.parametrize(
    ("moment", "current", "previous"),
    [
        (at(2026, 1, 10), "2026-01", None),
        (at(2026, 9, 24, 18), "2026-10", "2026-09"),
        (at(2026, 12, 1), "2026-12", "2026-11"),
        (at(2026, 12, 28), None, "2026-12"),
    ],
)
def test_open_and_last_passed(moment: datetime, current: str | None, previous: str | None) -> None:
    cur = open_cycle(year_of(MONTHLY), moment)
    prev = last_passed(year_of(MONTHLY), moment)
    assert (cur.key if cur else None, prev.key if prev else None) == (current, previous)


@pytest.mark.parametrize(
    ("moment", "reported", "key"),
    [
        (at(2026, 1, 10), set(), "2026-01"),
        (at(2026, 3, 27, 10), set(), "2026-03"),  # late: catches up the overdue March
        (at(2026, 3, 27, 10), {"2026-03"}, "2026-04"),
        (at(2026, 4, 20), {"2026-01"}, "2026-03"),  # Feb stays missed; March is chased
        (at(2026, 12, 28), set(), "2026-12"),
        (at(2026, 12, 28), {"2026-12"}, "2026-12"),  # past the year's end: its last cycle
    ],
)
def test_credit(moment: datetime, reported: set[str], key: str | None) -> None:
    terms = Terms(year_of(MONTHLY))
    found = credit(terms, dict.fromkeys(reported, moment), moment)
    assert (found.key if found else None) == key


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"kind": "weekly"}, "unknown cycle kind"),
        ({"due_day": 0}, "due_day"),
        ({"due_day": 32}, "due_day"),
        ({"kind": "dates"}, "at least one date"),
        ({"kind": "monthly", "dates": (date(2026, 5, 20),)}, "only for"),
    ],
)
def test_bad_rule_is_refused(kwargs: dict[str, object], needle: str) -> None:
    with pytest.raises(ValueError, match=needle):
        CycleRule(**kwargs)  # type: ignore[arg-type]


def test_parse_stored_values() -> None:
    assert CycleRule.parse("monthly") == CycleRule()
    assert CycleRule.parse("quarterly", None, due_day=20) == CycleRule("quarterly", 20)
    rule = CycleRule.parse("dates", ["2026-05-20", "2026-05-20", date(2026, 3, 1)])
    assert rule.dates == (date(2026, 3, 1), date(2026, 5, 20))
    with pytest.raises(ValueError, match="unknown cycle kind"):
        CycleRule.parse("yearly")
    with pytest.raises(ValueError, match="day is out of range"):
        CycleRule.parse("dates", ["2026-02-30"])
