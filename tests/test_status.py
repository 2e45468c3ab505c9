"""Task status (红黄绿灯): each rule and each boundary, on the real 2026 calendar.

Expected numbers are worked out by hand. 2026 is not a leap year (365 days). Days used:
Jul 2 is day 183 → 序时进度 50.1%. Deadlines: Mar 25 (Wed), Jun 25 (Thu), Jul 24 (Fri),
Sep 24 (Thu; Sep 25-27 Mid-Autumn off), Oct 23 (Fri). Sep 20 (Sun) and Oct 10 (Sat) are make-up
workdays; Oct 1-7 are off (National Day); Jun 19 is off (Dragon Boat).
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.config import Settings
from bot.domain.status import (
    LIGHT_LABELS,
    REASON_LIGHT,
    AllReported100,
    Behind,
    CycleDue,
    Difficulty,
    DueSoonUnreported,
    EndDatePassed,
    ExpectedDatePassed,
    FarBehind,
    Light,
    MarkedComplete,
    OnTrack,
    Overdue,
    Reason,
    ReasonCode,
    ScheduleCheck,
    Status,
    StatusThresholds,
    TaskProgress,
    UnitProgress,
    schedule_percent,
    task_status,
)
from bot.domain.workcal import WorkCalendar

FGJ = "发改局"
ZJJ = "住建局"
ZRZYJ = "自然资源局"
CZJ = "财政局"
JXJ = "工信局"

MAR = CycleDue("2026-03", date(2026, 3, 25))
MAY = CycleDue("2026-05", date(2026, 5, 25))
JUN = CycleDue("2026-06", date(2026, 6, 25))
JUL = CycleDue("2026-07", date(2026, 7, 24))
SEP = CycleDue("2026-09", date(2026, 9, 24))
OCT = CycleDue("2026-10", date(2026, 10, 23))
JUL2 = date(2026, 7, 2)

DEFAULT = StatusThresholds()


def status(
    today: date,
    *units: UnitProgress,
    thresholds: StatusThresholds = DEFAULT,
    **task: Any,
) -> Status:
    """Run task_status for a 2026 task and check the light matches its worst reason."""
    result = task_status(
        TaskProgress(today=today, year=2026, units=units, **task), thresholds, WorkCalendar()
    )
    assert result.reasons, "every status says why"
    assert result.light == max(REASON_LIGHT[r.code] for r in result.reasons)
    return result


def on_schedule(unit: str = FGJ, percent: float = 60.0, **kw: Any) -> UnitProgress:
    """A lead unit that reported for July on Jul 2 with `percent`."""
    defaults: dict[str, Any] = {
        "current": JUL,
        "reported_current": True,
        "latest_percent": percent,
        "percent_on": JUL2,
        "latest_report_on": JUL2,
    }
    return UnitProgress(unit, **(defaults | kw))


# --- 序时进度 -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2025, 12, 31), 0.0),
        (date(2026, 1, 1), 0.273972602739726),  # 1/365
        (date(2026, 7, 2), 50.136986301369866),  # 183/365
        (date(2026, 12, 31), 100.0),
        (date(2027, 1, 1), 100.0),
    ],
)
def test_schedule_percent_over_the_year(today: date, expected: float) -> None:
    got = schedule_percent(today, date(2026, 1, 1), date(2026, 12, 31))
    assert got == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(
    ("today", "expected"),
    [(date(2026, 2, 19), 50.0), (date(2026, 4, 10), 100.0), (date(2026, 4, 11), 100.0)],
)
def test_schedule_percent_with_a_task_end_date(today: date, expected: float) -> None:
    # Jan 1 .. Apr 10 is 31 + 28 + 31 + 10 = 100 days; Feb 19 is day 50.
    assert schedule_percent(today, date(2026, 1, 1), date(2026, 4, 10)) == expected


def test_schedule_percent_rejects_a_reversed_period() -> None:
    with pytest.raises(ValueError, match="before it starts"):
        schedule_percent(JUL2, date(2026, 12, 31), date(2026, 1, 1))


# --- Behind the schedule ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("percent", "light", "code", "gap"),
    [
        (60.0, Light.GREEN, ReasonCode.ON_TRACK, -9.9),
        (40.2, Light.GREEN, ReasonCode.ON_TRACK, 9.9),  # one below yellow
        (40.1, Light.YELLOW, ReasonCode.BEHIND, 10.0),  # exactly yellow
        (25.2, Light.YELLOW, ReasonCode.BEHIND, 24.9),  # one below red
        (25.1, Light.RED, ReasonCode.FAR_BEHIND, 25.0),  # exactly red
        (0.0, Light.RED, ReasonCode.FAR_BEHIND, 50.1),
    ],
)
def test_schedule_thresholds_on_jul_2(
    percent: float, light: Light, code: ReasonCode, gap: float
) -> None:
    result = status(JUL2, on_schedule(percent=percent))
    assert result.light is light
    assert result.codes == (code,)
    reason = result.reasons[0]
    assert isinstance(reason, OnTrack | Behind | FarBehind)
    assert (reason.unit, reason.percent, reason.elapsed_pct, reason.gap) == (
        FGJ,
        percent,
        50.1,
        gap,
    )


def test_behind_reason_carries_the_numbers() -> None:
    assert status(JUL2, on_schedule(percent=40.1)).reasons == (Behind(FGJ, 40.1, 50.1, 10.0, JUL2),)


def test_schedule_is_measured_at_the_report_date_by_default() -> None:
    # Reported 45% on Jul 2 (序时 50.1); on Jul 20 (day 201, 序时 55.1) still 45%.
    unit = on_schedule(percent=45.0)
    assert status(date(2026, 7, 20), unit).reasons == (
        OnTrack(ScheduleCheck.CHECKED, FGJ, 45.0, 50.1, 5.1, JUL2, reported=(FGJ,)),
    )
    at_today = StatusThresholds(schedule_at_report_date=False)
    assert status(date(2026, 7, 20), unit, thresholds=at_today).reasons == (
        Behind(FGJ, 45.0, 55.1, 10.1, date(2026, 7, 20)),
    )


def test_percent_without_a_date_is_measured_today() -> None:
    unit = on_schedule(percent=45.0, percent_on=None)
    assert status(date(2026, 7, 20), unit).reasons == (
        Behind(FGJ, 45.0, 55.1, 10.1, date(2026, 7, 20)),
    )


@pytest.mark.parametrize(("percent", "light"), [(40.0, Light.YELLOW), (40.1, Light.GREEN)])
def test_schedule_uses_the_task_end_date(percent: float, light: Light) -> None:
    feb19 = date(2026, 2, 19)
    unit = UnitProgress(FGJ, latest_percent=percent, percent_on=feb19)
    result = status(feb19, unit, period_end=date(2026, 4, 10))
    assert result.light is light
    reason = result.reasons[0]
    assert isinstance(reason, OnTrack | Behind)
    assert reason.elapsed_pct == 50.0


def test_schedule_uses_the_task_start_date() -> None:
    unit = on_schedule(percent=0.0)
    result = status(JUL2, unit, period_start=date(2026, 7, 1))
    # Jul 1 .. Dec 31 is 184 days; Jul 2 is day 2: 1.087 → 1.1.
    assert result.reasons == (
        OnTrack(ScheduleCheck.CHECKED, FGJ, 0.0, 1.1, 1.1, JUL2, reported=(FGJ,)),
    )


def test_growth_rate_task_skips_the_schedule() -> None:
    assert status(JUL2, on_schedule(percent=5.0), schedule_applies=False).reasons == (
        OnTrack(ScheduleCheck.NOT_APPLICABLE, reported=(FGJ,)),
    )


def test_no_percentage_keeps_the_schedule_silent() -> None:
    unit = on_schedule(latest_percent=None, percent_on=None)
    assert status(JUL2, unit).reasons == (OnTrack(ScheduleCheck.NO_PERCENT, reported=(FGJ,)),)


def test_co_responsible_units_percentage_is_checked_too() -> None:
    helper = UnitProgress(ZJJ, lead=False, owes_report=False, latest_percent=10.0, percent_on=JUL2)
    assert status(JUL2, on_schedule(), helper).reasons == (FarBehind(ZJJ, 10.0, 50.1, 40.1, JUL2),)


# --- End of the task's period -------------------------------------------------------------------


def test_task_end_date_passed_is_red() -> None:
    jun30 = date(2026, 6, 30)
    unit = on_schedule(percent=90.0, percent_on=jun30)
    assert status(date(2026, 7, 1), unit, period_end=jun30).reasons == (
        EndDatePassed(jun30, 1),
        Behind(FGJ, 90.0, 100.0, 10.0, jun30),
    )


def test_task_end_date_today_is_not_passed() -> None:
    jun30 = date(2026, 6, 30)
    unit = on_schedule(percent=90.0, percent_on=jun30)
    assert status(jun30, unit, period_end=jun30).light is Light.YELLOW


def test_year_end_passed_is_red() -> None:
    unit = on_schedule(percent=95.0, percent_on=date(2026, 12, 31))
    result = status(date(2027, 1, 1), unit)
    assert result.light is Light.RED
    assert result.reasons[0] == EndDatePassed(date(2026, 12, 31), 1)


def test_end_date_is_ignored_for_growth_rate_tasks() -> None:
    unit = on_schedule(percent=50.0)
    assert status(date(2027, 1, 1), unit, schedule_applies=False).light is Light.GREEN


# --- Expected completion date -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expected", "reasons"),
    [
        (JUL2, (OnTrack(ScheduleCheck.CHECKED, FGJ, 60.0, 50.1, -9.9, JUL2, reported=(FGJ,)),)),
        (date(2026, 7, 1), (ExpectedDatePassed(FGJ, date(2026, 7, 1), 1, 60.0),)),
    ],
)
def test_expected_date_today_is_not_passed_yesterday_is(
    expected: date, reasons: tuple[Reason, ...]
) -> None:
    assert status(JUL2, on_schedule(latest_expected=expected)).reasons == reasons


def test_expected_date_of_a_unit_already_at_100_is_ignored() -> None:
    finished = on_schedule(percent=100.0, latest_expected=date(2026, 6, 1))
    still = on_schedule(ZJJ, percent=50.0)
    result = status(JUL2, finished, still)
    assert result.light is Light.GREEN


# --- Done ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("percents", "light"),
    [
        ((100.0,), Light.DONE),
        ((120.0,), Light.DONE),
        ((99.9,), Light.GREEN),
        ((100.0, 100.0), Light.DONE),
        ((100.0, 99.9), Light.GREEN),
        ((100.0, None), Light.GREEN),
    ],
)
def test_done_needs_every_lead_unit_at_100(
    percents: tuple[float | None, ...], light: Light
) -> None:
    names = (FGJ, ZJJ)
    units = [on_schedule(names[i], latest_percent=p) for i, p in enumerate(percents)]
    assert status(JUL2, *units).light is light


def test_all_100_reason_names_the_lead_units_and_last_date() -> None:
    first = on_schedule(percent=100.0, percent_on=date(2026, 6, 20))
    second = on_schedule(ZJJ, percent=100.0)
    helper = UnitProgress(CZJ, lead=False, latest_percent=30.0, percent_on=JUL2)
    assert status(JUL2, first, second, helper) == Status(
        Light.DONE, (AllReported100((FGJ, ZJJ), JUL2),)
    )


def test_co_responsible_unit_at_100_does_not_finish_the_task() -> None:
    helper = UnitProgress(CZJ, lead=False, latest_percent=100.0, percent_on=JUL2)
    assert status(JUL2, on_schedule(percent=60.0), helper).light is Light.GREEN


def test_marked_complete_overrides_red() -> None:
    unit = on_schedule(
        percent=5.0,
        reported_current=False,
        missed_cycles=(JUN,),
        latest_expected=date(2026, 6, 1),
        latest_difficulties=("资金缺口较大",),
    )
    assert status(JUL2, unit).light is Light.RED
    done = status(JUL2, unit, completed=True, completed_on=date(2026, 6, 30))
    assert done == Status(Light.DONE, (MarkedComplete(date(2026, 6, 30)),))


def test_100_percent_overrides_an_old_overdue_cycle() -> None:
    unit = on_schedule(percent=100.0, missed_cycles=(JUN,))
    assert status(JUL2, unit).light is Light.DONE


# --- Overdue ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "reasons"),
    [
        (date(2026, 3, 25), (DueSoonUnreported(FGJ, "2026-03", date(2026, 3, 25), 0),)),
        (date(2026, 3, 26), (Overdue(FGJ, "2026-03", date(2026, 3, 25), 1, 1),)),
        (date(2026, 3, 27), (Overdue(FGJ, "2026-03", date(2026, 3, 25), 2, 2),)),
        # Mid-Autumn: the deadline has passed though no workday has.
        (date(2026, 9, 27), (Overdue(FGJ, "2026-09", date(2026, 9, 24), 0, 3),)),
        # Sep 28, 29, 30 and Oct 8 are workdays; Oct 1-7 are not.
        (date(2026, 10, 8), (Overdue(FGJ, "2026-09", date(2026, 9, 24), 4, 14),)),
    ],
)
def test_overdue_counts_workdays_after_the_deadline(
    today: date, reasons: tuple[Reason, ...]
) -> None:
    cycle = SEP if today.month >= 9 else MAR
    assert status(today, UnitProgress(FGJ, current=cycle)).reasons == reasons


def test_missed_cycle_and_stale_current_cycle_agree() -> None:
    mar27 = date(2026, 3, 27)
    as_current = status(mar27, UnitProgress(FGJ, current=MAR))
    as_missed = status(mar27, UnitProgress(FGJ, missed_cycles=(MAR,)))
    both = status(mar27, UnitProgress(FGJ, current=MAR, missed_cycles=(MAR,)))
    assert as_current == as_missed == both
    assert as_current.light is Light.RED


def test_one_of_two_lead_units_overdue_is_red() -> None:
    prompt = on_schedule(FGJ)
    late = on_schedule(ZJJ, missed_cycles=(JUN,))
    assert status(JUL2, prompt, late) == Status(
        Light.RED, (Overdue(ZJJ, "2026-06", date(2026, 6, 25), 5, 7),)
    )


def test_unit_that_does_not_owe_reports_is_never_overdue() -> None:
    helper = UnitProgress(CZJ, lead=False, owes_report=False, missed_cycles=(JUN,), current=JUL)
    assert status(JUL2, on_schedule(), helper).light is Light.GREEN


def test_co_responsible_unit_that_owes_reports_can_be_overdue() -> None:
    helper = UnitProgress(CZJ, lead=False, missed_cycles=(JUN,))
    assert status(JUL2, on_schedule(), helper).codes == (ReasonCode.OVERDUE,)


# --- Deadline near, no report -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "deadline", "workdays_left", "light"),
    [
        (date(2026, 10, 20), date(2026, 10, 23), 3, Light.YELLOW),
        (date(2026, 10, 19), date(2026, 10, 23), 4, Light.GREEN),
        (date(2026, 9, 21), date(2026, 9, 24), 3, Light.YELLOW),
        (date(2026, 9, 20), date(2026, 9, 24), 4, Light.GREEN),  # Sunday, a make-up workday
        # Around National Day: Oct 9, 10 (make-up Saturday), 12 are workdays; Oct 11 is not.
        (date(2026, 10, 8), date(2026, 10, 12), 3, Light.YELLOW),
        (date(2026, 9, 30), date(2026, 10, 12), 4, Light.GREEN),
        (date(2026, 10, 3), date(2026, 10, 12), 4, Light.GREEN),  # today a holiday
    ],
)
def test_due_soon_boundary_in_workdays(
    today: date, deadline: date, workdays_left: int, light: Light
) -> None:
    cycle = CycleDue("2026-10", deadline)
    result = status(today, UnitProgress(FGJ, current=cycle))
    assert result.light is light
    if light is Light.YELLOW:
        assert result.reasons == (DueSoonUnreported(FGJ, "2026-10", deadline, workdays_left),)
    else:
        assert result.reasons == (
            OnTrack(
                ScheduleCheck.NO_PERCENT,
                awaiting=(FGJ,),
                next_deadline=deadline,
                workdays_left=workdays_left,
            ),
        )


@pytest.mark.parametrize(
    ("today", "light"), [(date(2026, 10, 23), Light.YELLOW), (date(2026, 10, 22), Light.GREEN)]
)
def test_due_soon_with_zero_workdays_means_deadline_day_only(today: date, light: Light) -> None:
    thresholds = StatusThresholds(yellow_due_within_workdays=0)
    assert status(today, UnitProgress(FGJ, current=OCT), thresholds=thresholds).light is light


def test_reported_this_cycle_is_not_due_soon() -> None:
    unit = UnitProgress(FGJ, current=OCT, reported_current=True)
    assert status(date(2026, 10, 22), unit).reasons == (
        OnTrack(ScheduleCheck.NO_PERCENT, reported=(FGJ,)),
    )


def test_due_soon_only_for_units_that_owe() -> None:
    oct22 = date(2026, 10, 22)
    owing = UnitProgress(CZJ, lead=False, current=OCT)
    not_owing = UnitProgress(CZJ, lead=False, owes_report=False, current=OCT)
    done_lead = UnitProgress(FGJ, current=OCT, reported_current=True)
    assert status(oct22, done_lead, owing).codes == (ReasonCode.DUE_SOON_UNREPORTED,)
    assert status(oct22, done_lead, not_owing).light is Light.GREEN


def test_nothing_reported_early_in_the_year_is_green() -> None:
    # 「尚未到报送期」: Jan 6-9, 12-16, 19-23 are 14 workdays to the Jan 23 deadline.
    jan = CycleDue("2026-01", date(2026, 1, 23))
    assert status(date(2026, 1, 5), UnitProgress(FGJ, current=jan)) == Status(
        Light.GREEN,
        (
            OnTrack(
                ScheduleCheck.NO_PERCENT,
                awaiting=(FGJ,),
                next_deadline=date(2026, 1, 23),
                workdays_left=14,
            ),
        ),
    )


def test_task_with_no_units_is_green() -> None:
    assert status(JUL2) == Status(Light.GREEN, (OnTrack(ScheduleCheck.NO_PERCENT),))


# --- Difficulties -------------------------------------------------------------------------------


def test_difficulty_in_latest_report_is_yellow() -> None:
    unit = on_schedule(
        latest_difficulties=("用地指标需协调", " ", "用地指标需协调 ", "资金缺口较大")
    )
    assert status(JUL2, unit) == Status(
        Light.YELLOW, (Difficulty(FGJ, ("用地指标需协调", "资金缺口较大"), JUL2),)
    )


def test_difficulty_from_a_co_responsible_unit_counts() -> None:
    helper = UnitProgress(CZJ, lead=False, owes_report=False, latest_difficulties=("需市级协调",))
    assert status(JUL2, on_schedule(), helper).reasons == (Difficulty(CZJ, ("需市级协调",), None),)


def test_blank_difficulties_are_ignored() -> None:
    assert status(JUL2, on_schedule(latest_difficulties=("", "  "))).light is Light.GREEN


# --- Several findings ---------------------------------------------------------------------------


def test_reasons_are_sorted_worst_first() -> None:
    # Given in the reverse of the expected order, to show the sort does the work.
    due = UnitProgress(CZJ, lead=False, current=CycleDue("2026-07", date(2026, 7, 3)))
    far = on_schedule(ZRZYJ, percent=20.0, latest_difficulties=("用地指标需协调",))
    behind_little = on_schedule(ZJJ, percent=40.1, latest_expected=date(2026, 6, 1))
    behind_more = on_schedule(JXJ, percent=30.0)
    late = on_schedule(FGJ, missed_cycles=(JUN, MAY))
    result = status(JUL2, due, far, behind_little, behind_more, late)
    assert result.light is Light.RED
    assert result.reasons == (
        # May 26 .. Jul 2: 4 + 5 + 5 + 4 (Jun 19 off) + 5 + 4 = 27 workdays, 38 days.
        Overdue(FGJ, "2026-05", date(2026, 5, 25), 27, 38),
        Overdue(FGJ, "2026-06", date(2026, 6, 25), 5, 7),
        ExpectedDatePassed(ZJJ, date(2026, 6, 1), 31, 40.1),
        FarBehind(ZRZYJ, 20.0, 50.1, 30.1, JUL2),
        Behind(JXJ, 30.0, 50.1, 20.1, JUL2),
        Behind(ZJJ, 40.1, 50.1, 10.0, JUL2),
        Difficulty(ZRZYJ, ("用地指标需协调",), JUL2),
        DueSoonUnreported(CZJ, "2026-07", date(2026, 7, 3), 1),
    )


def test_overdue_units_sorted_by_workdays_then_input_order() -> None:
    a = on_schedule(ZJJ, missed_cycles=(JUN,))
    b = on_schedule(FGJ, missed_cycles=(MAY,))
    c = on_schedule(CZJ, missed_cycles=(JUN,))
    assert status(JUL2, a, b, c).reasons == (
        Overdue(FGJ, "2026-05", date(2026, 5, 25), 27, 38),
        Overdue(ZJJ, "2026-06", date(2026, 6, 25), 5, 7),
        Overdue(CZJ, "2026-06", date(2026, 6, 25), 5, 7),
    )


def test_green_shows_the_unit_furthest_behind() -> None:
    ahead = on_schedule(FGJ, percent=70.0)
    close = on_schedule(ZJJ, percent=45.0)
    assert status(JUL2, ahead, close).reasons == (
        OnTrack(ScheduleCheck.CHECKED, ZJJ, 45.0, 50.1, 5.1, JUL2, reported=(FGJ, ZJJ)),
    )


# --- Lights, thresholds, inputs -----------------------------------------------------------------


def test_lights_order_worst_last_and_have_chinese_labels() -> None:
    assert sorted([Light.RED, Light.DONE, Light.YELLOW, Light.GREEN]) == [
        Light.DONE,
        Light.GREEN,
        Light.YELLOW,
        Light.RED,
    ]
    assert max(Light.GREEN, Light.RED, Light.YELLOW) is Light.RED
    assert [LIGHT_LABELS[light] for light in Light] == ["已完成", "绿灯", "黄灯", "红灯"]
    assert Status(Light.YELLOW, ()).label == "黄灯"


def test_every_reason_code_has_a_light() -> None:
    assert set(REASON_LIGHT) == set(ReasonCode)


def test_thresholds_from_settings() -> None:
    settings = Settings(
        _env_file=None,
        yellow_behind_pct=12,
        red_behind_pct=30,
        yellow_due_within_workdays=5,
    )
    assert StatusThresholds.from_settings(settings) == StatusThresholds(12.0, 30.0, 5, True)


def test_default_thresholds_match_default_settings() -> None:
    settings = Settings(_env_file=None)
    assert StatusThresholds.from_settings(settings) == StatusThresholds()


@pytest.mark.parametrize("percent", [-1.0, math.nan, math.inf])
def test_bad_percentage_is_rejected(percent: float) -> None:
    with pytest.raises(ValueError, match="bad percentage"):
        UnitProgress(FGJ, latest_percent=percent)


def test_reversed_task_period_is_rejected() -> None:
    with pytest.raises(ValueError, match="before it starts"):
        TaskProgress(today=JUL2, year=2026, period_end=date(2025, 12, 31))


# --- Due time within the deadline day -----------------------------------------------------------

SHANGHAI = ZoneInfo("Asia/Shanghai")
MAR_DUE = CycleDue("2026-03", date(2026, 3, 25), datetime(2026, 3, 25, 17, 0, tzinfo=SHANGHAI))


@pytest.mark.parametrize(
    ("now", "reasons"),
    [
        (None, (DueSoonUnreported(FGJ, "2026-03", date(2026, 3, 25), 0),)),
        (
            datetime(2026, 3, 25, 17, 0, tzinfo=SHANGHAI),
            (DueSoonUnreported(FGJ, "2026-03", date(2026, 3, 25), 0),),
        ),
        (
            datetime(2026, 3, 25, 17, 1, tzinfo=SHANGHAI),
            (Overdue(FGJ, "2026-03", date(2026, 3, 25), 0, 0),),
        ),
    ],
)
def test_overdue_from_the_due_time_when_the_moment_is_given(
    now: datetime | None, reasons: tuple[Reason, ...]
) -> None:
    assert status(date(2026, 3, 25), UnitProgress(FGJ, current=MAR_DUE), now=now).reasons == reasons


def test_due_time_without_now_falls_back_to_the_day() -> None:
    assert status(date(2026, 3, 26), UnitProgress(FGJ, current=MAR_DUE)).reasons == (
        Overdue(FGJ, "2026-03", date(2026, 3, 25), 1, 1),
    )


def test_naive_datetimes_are_rejected() -> None:
    naive = datetime(2026, 3, 25, 17, 0)  # noqa: DTZ001 - the point of the test
    with pytest.raises(ValueError, match="naive"):
        CycleDue("2026-03", date(2026, 3, 25), naive)
    with pytest.raises(ValueError, match="naive"):
        TaskProgress(today=date(2026, 3, 25), year=2026, now=naive)
