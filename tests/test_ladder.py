"""The reminder ladder on the real 2026 calendar, step by step and over a simulated year.

Expected dates are worked out by hand from the State Council's 2026 holiday notice:
春节 15-23 Feb (Sat 14 and Sat 28 Feb worked), 劳动节 1-5 May (Sat 9 May worked),
端午节 19-21 Jun, 中秋节 25-27 Sep, 国庆节 1-7 Oct (Sun 20 Sep and Sat 10 Oct worked).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.cycles import CycleRule, cycles_for_year
from bot.domain.ladder import (
    Audience,
    Step,
    StepKind,
    ladder,
    overdue_workdays,
    steps_due,
    steps_to_send,
)
from bot.domain.workcal import WorkCalendar

TZ = ZoneInfo("Asia/Shanghai")
DUE_TIME = time(17, 0)
REMIND = time(9, 0)
WEEKDAYS = "一二三四五六日"
# The bot's loop in the simulation wakes at these times every day, to show that only the
# 09:00 run sends and that re-running never sends twice.
TICKS = (time(0, 0), time(8, 59), time(9, 0), time(9, 5), time(12, 0), time(17, 0), time(23, 59))


def task_active(today: date, year: int, completed_on: date | None) -> bool:
    """The simulation's task: reminded within its year until completed."""
    return (completed_on is None or today < completed_on) and today.year <= year


def at(y: int, m: int, d: int, hh: int = 9, mm: int = 0) -> datetime:
    """An aware moment in the configured zone."""
    return datetime(y, m, d, hh, mm, tzinfo=TZ)


def keyed(steps: Iterable[Step]) -> list[tuple[date, str]]:
    """Steps as (day, key) pairs, for literal comparison."""
    return [(s.day, s.key) for s in steps]


def send(
    due: datetime,
    now: datetime,
    sent: set[str],
    *,
    reported: bool = False,
    cal: WorkCalendar | None = None,
    before_days: int = 3,
    escalate_after: int = 3,
) -> list[str]:
    """Keys steps_to_send returns with the default settings."""
    steps = steps_to_send(
        due,
        now,
        reported,
        sent,
        cal or WorkCalendar(),
        tz=TZ,
        reminder_time=REMIND,
        before_days=before_days,
        escalate_after=escalate_after,
    )
    return [s.key for s in steps]


def simulate(
    start: date,
    end: date,
    reports: dict[str, datetime],
    *,
    cal: WorkCalendar | None = None,
    before_days: int = 3,
    escalate_after: int = 3,
    down: Iterable[tuple[datetime, datetime]] = (),
    completed_on: date | None = None,
    year: int = 2026,
) -> list[str]:
    """Run one monthly obligation day by day like the sender job would; return the transcript.

    `reports` maps a cycle key to the moment its report arrives. `down` lists spans
    [from, until) when the bot is not running; it wakes once more at each `until`.
    """
    cal = cal or WorkCalendar()
    # Cycles due before the simulated span are taken as settled.
    cycles = [
        c for c in cycles_for_year(CycleRule(), year, cal, TZ, DUE_TIME) if c.deadline >= start
    ]
    down = list(down)
    sent: dict[str, set[str]] = defaultdict(set)
    transcript: list[str] = []
    day = start
    while day <= end:
        moments = [datetime.combine(day, t, tzinfo=TZ) for t in TICKS]
        moments += [until for _, until in down if until.date() == day]
        for now in sorted(moments):
            if any(frm <= now < until for frm, until in down):
                continue
            if not task_active(now.date(), year, completed_on):
                continue
            for cycle in cycles:
                reported = cycle.key in reports and reports[cycle.key] <= now
                for step in steps_to_send(
                    cycle.due,
                    now,
                    reported,
                    sent[cycle.key],
                    cal,
                    tz=TZ,
                    reminder_time=REMIND,
                    before_days=before_days,
                    escalate_after=escalate_after,
                ):
                    sent[cycle.key].add(step.key)
                    transcript.append(
                        f"{now:%Y-%m-%d} 周{WEEKDAYS[now.weekday()]} {now:%H:%M} "
                        f"{cycle.key} {step.key}"
                    )
        day += timedelta(days=1)
    return transcript


def lines(text: str) -> list[str]:
    """A literal transcript, one message per line."""
    return [line.strip() for line in text.strip().splitlines()]


# --- One year, day by day ----------------------------------------------------------------------

YEAR_REPORTS = {
    "2026-01": at(2026, 1, 22, 8, 30),  # before the day-before reminder
    "2026-02": at(2026, 3, 2, 15),  # late, after 春节: chased and escalated
    "2026-03": at(2026, 3, 25, 11),  # on the deadline day
    "2026-04": at(2026, 5, 7, 10),  # late, across 劳动节
    "2026-05": at(2026, 5, 25, 16),
    "2026-06": at(2026, 6, 24, 10),
    "2026-07": at(2026, 7, 27, 10),
    "2026-08": at(2026, 8, 19, 10),  # early: no reminder at all
    "2026-09": at(2026, 10, 12, 10),  # late, across 中秋节 and 国庆节
    "2026-10": at(2026, 10, 23, 9, 30),
    "2026-11": at(2026, 11, 20, 10),
    # 2026-12 never reported: chased until the task's year ends.
}

YEAR_TRANSCRIPT = """
    2026-01-20 周二 09:00 2026-01 before
    2026-02-13 周五 09:00 2026-02 before
    2026-02-24 周二 09:00 2026-02 day_before
    2026-02-25 周三 09:00 2026-02 due
    2026-02-26 周四 09:00 2026-02 overdue-1
    2026-02-27 周五 09:00 2026-02 overdue-2
    2026-02-28 周六 09:00 2026-02 overdue-3
    2026-02-28 周六 09:00 2026-02 escalate
    2026-03-02 周一 09:00 2026-02 overdue-4
    2026-03-20 周五 09:00 2026-03 before
    2026-03-24 周二 09:00 2026-03 day_before
    2026-03-25 周三 09:00 2026-03 due
    2026-04-21 周二 09:00 2026-04 before
    2026-04-23 周四 09:00 2026-04 day_before
    2026-04-24 周五 09:00 2026-04 due
    2026-04-27 周一 09:00 2026-04 overdue-1
    2026-04-28 周二 09:00 2026-04 overdue-2
    2026-04-29 周三 09:00 2026-04 overdue-3
    2026-04-29 周三 09:00 2026-04 escalate
    2026-04-30 周四 09:00 2026-04 overdue-4
    2026-05-06 周三 09:00 2026-04 overdue-5
    2026-05-07 周四 09:00 2026-04 overdue-6
    2026-05-20 周三 09:00 2026-05 before
    2026-05-22 周五 09:00 2026-05 day_before
    2026-05-25 周一 09:00 2026-05 due
    2026-06-22 周一 09:00 2026-06 before
    2026-06-24 周三 09:00 2026-06 day_before
    2026-07-21 周二 09:00 2026-07 before
    2026-07-23 周四 09:00 2026-07 day_before
    2026-07-24 周五 09:00 2026-07 due
    2026-07-27 周一 09:00 2026-07 overdue-1
    2026-09-21 周一 09:00 2026-09 before
    2026-09-23 周三 09:00 2026-09 day_before
    2026-09-24 周四 09:00 2026-09 due
    2026-09-28 周一 09:00 2026-09 overdue-1
    2026-09-29 周二 09:00 2026-09 overdue-2
    2026-09-30 周三 09:00 2026-09 overdue-3
    2026-09-30 周三 09:00 2026-09 escalate
    2026-10-08 周四 09:00 2026-09 overdue-4
    2026-10-09 周五 09:00 2026-09 overdue-5
    2026-10-10 周六 09:00 2026-09 overdue-6
    2026-10-12 周一 09:00 2026-09 overdue-7
    2026-10-20 周二 09:00 2026-10 before
    2026-10-22 周四 09:00 2026-10 day_before
    2026-10-23 周五 09:00 2026-10 due
    2026-11-20 周五 09:00 2026-11 before
    2026-12-22 周二 09:00 2026-12 before
    2026-12-24 周四 09:00 2026-12 day_before
    2026-12-25 周五 09:00 2026-12 due
    2026-12-28 周一 09:00 2026-12 overdue-1
    2026-12-29 周二 09:00 2026-12 overdue-2
    2026-12-30 周三 09:00 2026-12 overdue-3
    2026-12-30 周三 09:00 2026-12 escalate
    2026-12-31 周四 09:00 2026-12 overdue-4
"""


@pytest.fixture(scope="module")
def year_transcript() -> list[str]:
    """The simulated year, run once for the tests that read it."""
    return simulate(date(2026, 1, 1), date(2027, 1, 15), YEAR_REPORTS)


def test_a_year_of_one_monthly_obligation(year_transcript: list[str]) -> None:
    print("\n".join(year_transcript))  # readable with pytest -s
    assert year_transcript == lines(YEAR_TRANSCRIPT)


def test_the_year_sends_only_on_workdays_and_escalates_once_per_cycle(
    year_transcript: list[str],
) -> None:
    transcript = year_transcript
    days = {date.fromisoformat(line.split()[0]) for line in transcript}
    cal = WorkCalendar()
    assert all(cal.is_workday(d) for d in days)
    # Make-up workdays carry messages; weekends and holidays around them do not.
    assert {date(2026, 2, 28), date(2026, 10, 10)} <= days
    silent = [date(2026, 2, 16) + timedelta(days=i) for i in range(8)]  # 春节 16-23 Feb
    silent += [date(2026, 5, 1) + timedelta(days=i) for i in range(5)]  # 劳动节
    silent += [date(2026, 9, 25) + timedelta(days=i) for i in range(3)]  # 中秋节
    silent += [date(2026, 10, 1) + timedelta(days=i) for i in range(7)]  # 国庆节
    silent += [date(2026, 3, 1), date(2026, 10, 11), date(2027, 1, 4)]
    assert not days & set(silent)
    escalations = [line.split()[3] for line in transcript if line.endswith("escalate")]
    assert escalations == ["2026-02", "2026-04", "2026-09", "2026-12"]


def test_september_notice_on_the_make_up_sunday() -> None:
    # With a 4-workday notice the September notice lands on Sun 20 Sep, a make-up workday.
    transcript = simulate(
        date(2026, 9, 1), date(2026, 9, 30), {"2026-09": at(2026, 9, 24, 12)}, before_days=4
    )
    assert transcript == lines(
        """
        2026-09-20 周日 09:00 2026-09 before
        2026-09-23 周三 09:00 2026-09 day_before
        2026-09-24 周四 09:00 2026-09 due
        """
    )


def test_completed_task_stops_reminding() -> None:
    transcript = simulate(date(2026, 6, 1), date(2026, 7, 31), {}, completed_on=date(2026, 6, 23))
    assert transcript == ["2026-06-22 周一 09:00 2026-06 before"]


# --- Catch-up after downtime -------------------------------------------------------------------


def test_catch_up_sends_the_most_relevant_message_and_a_missed_escalation_once() -> None:
    transcript = simulate(
        date(2026, 2, 1),
        date(2026, 3, 6),
        {"2026-02": at(2026, 3, 3, 12)},
        down=[
            # Down over the day-before and deadline days; back the next morning at 11:00.
            (at(2026, 2, 24, 8), at(2026, 2, 26, 11)),
            # Down over the make-up Saturday when the escalation was due; back Monday 10:30.
            (at(2026, 2, 27, 8), at(2026, 3, 2, 10, 30)),
        ],
    )
    assert transcript == lines(
        """
        2026-02-13 周五 09:00 2026-02 before
        2026-02-26 周四 11:00 2026-02 overdue-1
        2026-03-02 周一 10:30 2026-02 overdue-4
        2026-03-02 周一 10:30 2026-02 escalate
        2026-03-03 周二 09:00 2026-02 overdue-5
        """
    )


def test_back_after_the_deadline_on_the_deadline_day_sends_nothing_stale() -> None:
    transcript = simulate(
        date(2026, 2, 20),
        date(2026, 2, 26),
        {},
        down=[(at(2026, 2, 25, 8), at(2026, 2, 25, 18))],
    )
    assert transcript == lines(
        """
        2026-02-24 周二 09:00 2026-02 day_before
        2026-02-26 周四 09:00 2026-02 overdue-1
        """
    )


def test_missed_notice_is_sent_on_the_next_workday_even_a_make_up_saturday() -> None:
    transcript = simulate(
        date(2026, 2, 10),
        date(2026, 2, 24),
        {},
        down=[(at(2026, 2, 13, 0), at(2026, 2, 14, 8))],  # back 08:00: waits for 09:00
    )
    assert transcript == lines(
        """
        2026-02-14 周六 09:00 2026-02 before
        2026-02-24 周二 09:00 2026-02 day_before
        """
    )


FEB_DUE = at(2026, 2, 25, 17)


@pytest.mark.parametrize(
    ("now", "sent", "expected"),
    [
        (at(2026, 2, 12), set(), []),  # before the notice
        (at(2026, 2, 13, 8, 59), set(), []),  # notice day, before 09:00
        (at(2026, 2, 13), set(), ["before"]),
        (at(2026, 2, 13, 16), {"before"}, []),
        (at(2026, 2, 16), set(), []),  # 春节: nothing, even if something is pending
        (at(2026, 2, 14), set(), ["before"]),  # make-up Saturday: the missed notice
        (at(2026, 2, 24), {"before"}, ["day_before"]),
        (at(2026, 2, 24), set(), ["day_before"]),  # the stale notice is not sent as well
        (at(2026, 2, 25, 16, 59), {"before", "day_before"}, ["due"]),
        (at(2026, 2, 25, 17), {"before", "day_before"}, []),  # deadline passed: "due" lapsed
        (at(2026, 2, 26, 8, 59), {"due"}, []),
        (at(2026, 2, 26), {"due"}, ["overdue-1"]),
        (at(2026, 2, 26), set(), ["overdue-1"]),
        (at(2026, 2, 28), {"overdue-2"}, ["overdue-3", "escalate"]),
        (at(2026, 3, 1), set(), []),  # Sunday
        (at(2026, 3, 2), {"overdue-3", "escalate"}, ["overdue-4"]),
        (at(2026, 3, 2), set(), ["overdue-4", "escalate"]),  # escalation late, still sent
        (at(2026, 3, 2, 16), {"overdue-4", "escalate"}, []),
        (at(2026, 3, 2), {"overdue-5", "escalate"}, []),  # never step back down the ladder
        (at(2026, 3, 2), {"overdue-4", "escalate", "nudge-1"}, []),  # foreign keys ignored
        (datetime(2026, 3, 2, 1, 0, tzinfo=UTC), set(), ["overdue-4", "escalate"]),  # 09:00
        (datetime(2026, 3, 2, 0, 59, tzinfo=UTC), set(), []),  # 08:59 in Shanghai
    ],
)
def test_steps_to_send(now: datetime, sent: set[str], expected: list[str]) -> None:
    assert send(FEB_DUE, now, sent) == expected


def test_steps_to_send_takes_due_in_any_zone() -> None:
    assert send(FEB_DUE.astimezone(UTC), at(2026, 2, 25), {"day_before"}) == ["due"]


def test_steps_to_send_after_a_report_is_empty() -> None:
    assert send(FEB_DUE, at(2026, 3, 2), set(), reported=True) == []


def test_steps_to_send_refuses_naive_datetimes() -> None:
    naive = datetime(2026, 3, 2, 9, 0)  # noqa: DTZ001
    with pytest.raises(ValueError, match="naive"):
        send(FEB_DUE, naive, set())
    with pytest.raises(ValueError, match="naive"):
        send(naive, at(2026, 3, 2), set())


# --- The schedule itself ------------------------------------------------------------------------


def test_ladder_february_around_spring_festival() -> None:
    steps = ladder(date(2026, 2, 25), WorkCalendar(), 3, 3, until=date(2026, 3, 3))
    assert keyed(steps) == [
        (date(2026, 2, 13), "before"),  # 3 workdays back: 24 Feb, Sat 14 Feb, 13 Feb
        (date(2026, 2, 24), "day_before"),
        (date(2026, 2, 25), "due"),
        (date(2026, 2, 26), "overdue-1"),
        (date(2026, 2, 27), "overdue-2"),
        (date(2026, 2, 28), "overdue-3"),  # make-up Saturday
        (date(2026, 2, 28), "escalate"),
        (date(2026, 3, 2), "overdue-4"),
        (date(2026, 3, 3), "overdue-5"),
    ]
    assert [s.audience for s in steps].count(Audience.LEADERS) == 1


def test_ladder_september_around_mid_autumn_and_national_day() -> None:
    steps = ladder(date(2026, 9, 24), WorkCalendar(), 3, 3, until=date(2026, 10, 12))
    assert keyed(steps) == [
        (date(2026, 9, 21), "before"),
        (date(2026, 9, 23), "day_before"),
        (date(2026, 9, 24), "due"),  # 25 Sep is 中秋节
        (date(2026, 9, 28), "overdue-1"),
        (date(2026, 9, 29), "overdue-2"),
        (date(2026, 9, 30), "overdue-3"),
        (date(2026, 9, 30), "escalate"),
        (date(2026, 10, 8), "overdue-4"),  # 1-7 Oct 国庆节
        (date(2026, 10, 9), "overdue-5"),
        (date(2026, 10, 10), "overdue-6"),  # make-up Saturday
        (date(2026, 10, 12), "overdue-7"),
    ]


def test_ladder_stops_on_the_report_day() -> None:
    steps = ladder(
        date(2026, 9, 24),
        WorkCalendar(),
        3,
        3,
        until=date(2026, 10, 31),
        reported_on=date(2026, 10, 8),
    )
    assert keyed(steps)[-1] == (date(2026, 9, 30), "escalate")


def test_ladder_with_one_day_notice_sends_day_before_only() -> None:
    steps = ladder(date(2026, 1, 23), WorkCalendar(), 1, 1, until=date(2026, 1, 27))
    assert keyed(steps) == [
        (date(2026, 1, 22), "day_before"),
        (date(2026, 1, 23), "due"),
        (date(2026, 1, 26), "overdue-1"),
        (date(2026, 1, 26), "escalate"),  # M == 1: escalate on the first overdue workday
        (date(2026, 1, 27), "overdue-2"),
    ]
    assert send(at(2026, 1, 23, 17), at(2026, 1, 22), set(), before_days=1) == ["day_before"]


def test_ladder_with_five_day_notice_skips_dragon_boat_festival() -> None:
    steps = ladder(date(2026, 6, 25), WorkCalendar(), 5, 3, until=date(2026, 6, 25))
    assert keyed(steps) == [
        (date(2026, 6, 17), "before"),  # 24, 23, 22, (19-21 端午节), 18, 17
        (date(2026, 6, 24), "day_before"),
        (date(2026, 6, 25), "due"),
    ]


@pytest.mark.parametrize(
    ("today", "count"),
    [
        (date(2026, 9, 1), 0),
        (date(2026, 9, 24), 0),
        (date(2026, 9, 25), 0),  # 中秋节
        (date(2026, 9, 27), 0),
        (date(2026, 9, 28), 1),
        (date(2026, 10, 7), 3),
        (date(2026, 10, 10), 6),
    ],
)
def test_overdue_workdays(today: date, count: int) -> None:
    assert overdue_workdays(date(2026, 9, 24), today, WorkCalendar()) == count


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2026, 9, 20), []),  # a workday, but 4 workdays ahead with N = 3
        (date(2026, 9, 21), [(date(2026, 9, 21), "before")]),
        (date(2026, 9, 22), []),
        (date(2026, 9, 25), []),
        (date(2026, 9, 30), [(date(2026, 9, 30), "overdue-3"), (date(2026, 9, 30), "escalate")]),
        (date(2026, 10, 3), []),
        (date(2026, 10, 8), [(date(2026, 10, 8), "overdue-4")]),
    ],
)
def test_steps_due(today: date, expected: list[tuple[date, str]]) -> None:
    assert keyed(steps_due(date(2026, 9, 24), today, False, WorkCalendar(), 3, 3)) == expected
    assert steps_due(date(2026, 9, 24), today, True, WorkCalendar(), 3, 3) == []


def test_step_keys_audience_and_send_time() -> None:
    day = date(2026, 9, 30)
    assert Step(StepKind.OVERDUE, day, 3).key == "overdue-3"
    assert Step(StepKind.ESCALATE, day, 3).key == "escalate"
    assert Step(StepKind.DAY_BEFORE, day).key == "day_before"
    assert Step(StepKind.ESCALATE, day, 3).audience is Audience.LEADERS
    assert Step(StepKind.DUE, day).audience is Audience.LIAISON
    assert Step(StepKind.DUE, day).send_at(TZ, REMIND) == at(2026, 9, 30, 9)


@pytest.mark.parametrize(("before_days", "escalate_after"), [(0, 3), (3, 0)])
def test_bad_settings_are_refused(before_days: int, escalate_after: int) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        steps_due(
            date(2026, 9, 24), date(2026, 9, 21), False, WorkCalendar(), before_days, escalate_after
        )


# --- Overrides and the 2027 fallback -------------------------------------------------------------


def test_office_override_moves_the_deadline_and_the_whole_ladder() -> None:
    # The office takes Wed 25 Mar off: the deadline moves to Tue 24 and the ladder with it.
    cal = WorkCalendar({date(2026, 3, 25): False})
    transcript = simulate(date(2026, 3, 1), date(2026, 3, 31), {}, cal=cal)
    assert transcript == lines(
        """
        2026-03-19 周四 09:00 2026-03 before
        2026-03-23 周一 09:00 2026-03 day_before
        2026-03-24 周二 09:00 2026-03 due
        2026-03-26 周四 09:00 2026-03 overdue-1
        2026-03-27 周五 09:00 2026-03 overdue-2
        2026-03-30 周一 09:00 2026-03 overdue-3
        2026-03-30 周一 09:00 2026-03 escalate
        2026-03-31 周二 09:00 2026-03 overdue-4
        """
    )


def test_override_on_a_weekday_during_the_overdue_run() -> None:
    cal = WorkCalendar({date(2026, 9, 30): False, date(2026, 10, 3): True})
    steps = ladder(date(2026, 9, 24), cal, 3, 3, until=date(2026, 10, 8))
    assert keyed(steps)[3:] == [
        (date(2026, 9, 28), "overdue-1"),
        (date(2026, 9, 29), "overdue-2"),
        (date(2026, 10, 3), "overdue-3"),  # Sat 3 Oct made a workday by the office
        (date(2026, 10, 3), "escalate"),
        (date(2026, 10, 8), "overdue-4"),
    ]


def test_2027_falls_back_to_monday_to_friday_until_the_office_sets_holidays() -> None:
    cal = WorkCalendar()
    deadline = date(2027, 9, 24)  # Sat 25 Sep 2027 → Fri 24
    assert keyed(ladder(deadline, cal, 3, 3, until=date(2027, 10, 4))) == [
        (date(2027, 9, 21), "before"),
        (date(2027, 9, 23), "day_before"),
        (date(2027, 9, 24), "due"),
        (date(2027, 9, 27), "overdue-1"),
        (date(2027, 9, 28), "overdue-2"),
        (date(2027, 9, 29), "overdue-3"),
        (date(2027, 9, 29), "escalate"),
        (date(2027, 9, 30), "overdue-4"),
        (date(2027, 10, 1), "overdue-5"),  # no 国庆节 data for 2027: a plain Friday
        (date(2027, 10, 4), "overdue-6"),
    ]
    assert cal.unknown_years == {2027}
    for i in range(7):
        cal.set_override(date(2027, 10, 1) + timedelta(days=i), False)
    assert keyed(ladder(deadline, cal, 3, 3, until=date(2027, 10, 8)))[-2:] == [
        (date(2027, 9, 30), "overdue-4"),
        (date(2027, 10, 8), "overdue-5"),
    ]
