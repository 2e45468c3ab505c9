"""考评 (bot.domain.assessment): the measures of a period from the units' outcomes, the score's
rule with its weights, and the ranking within each kind of unit."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.domain.assessment import Tally, Weights, points, ranking, scores, tally
from bot.domain.boards import Board, Standing
from bot.domain.model import LEAD, RESPONSIBLE, Latest, ReportInfo, TaskInfo, UnitOnTask
from bot.domain.obligations import Outcome
from bot.domain.workcal import WorkCalendar

SH = ZoneInfo("Asia/Shanghai")
CAL = WorkCalendar()


def due(day: date) -> datetime:
    return datetime.combine(day, time(17), tzinfo=SH)


def outcome(month: int, first: datetime | None) -> Outcome:
    deadline = date(2026, month, 25)
    return Outcome(f"2026-{month:02d}", deadline, due(deadline), first)


def board(*standings: Standing) -> Board:
    task = TaskInfo(id=1, year=2026, no=1, section="一、", subsection=None, text="任务")
    return Board(task, standings)


def standing(unit_id: int, *found: Outcome, percent: float | None = None) -> Standing:
    unit = UnitOnTask(unit_id, f"单位{unit_id}", LEAD if unit_id < 10 else RESPONSIBLE, True)
    latest = None
    if percent is not None:
        at = due(date(2026, 6, 1))
        report = ReportInfo(1, 1, unit_id, unit.name, "2026-06", "进展", at, percent)
        latest = Latest(report, percent, at)
    return Standing(unit, latest=latest, outcomes=found)


def test_the_period_counts_on_time_late_and_missed_with_their_overdue_workdays() -> None:
    late = due(date(2026, 6, 29))  # the Monday after
    b = board(
        standing(
            1,
            outcome(5, due(date(2026, 5, 20))),  # on time
            outcome(6, late),  # two workdays late (Friday 26th, Monday 29th)
            outcome(7, None),  # missed
            outcome(8, None),  # not passed yet on the day below: left out
        )
    )
    today = date(2026, 8, 3)
    found = tally([b], start=date(2026, 1, 1), end=date(2026, 12, 31), today=today, calendar=CAL)
    t = found[1]
    assert (t.on_time, t.late, t.missed, t.owed) == (1, 1, 1, 3)
    missed_days = CAL.workdays_between(date(2026, 7, 25), today)
    assert t.overdue_workdays == CAL.workdays_between(date(2026, 6, 25), date(2026, 6, 29)) + (
        missed_days
    )
    june = tally([b], start=date(2026, 6, 1), end=date(2026, 6, 30), today=today, calendar=CAL)
    assert (june[1].on_time, june[1].late, june[1].missed) == (0, 1, 0)


def test_behind_schedule_counts_lead_units_with_a_stated_percentage() -> None:
    b = board(standing(1, percent=20.0), standing(2), standing(11, percent=0.0))
    found = tally(
        [b], start=date(2026, 6, 1), end=date(2026, 6, 30), today=date(2026, 7, 1), calendar=CAL
    )
    # July 1st: 182 of 365 days elapsed.
    assert found[1].behind == [pytest.approx(100 * 182 / 365 - 20.0)]
    assert found[2].behind == []  # no stated percentage: not guessed
    assert found[11].behind == []  # a co-responsible unit: not its schedule


def test_the_score_takes_shares_off_a_hundred() -> None:
    w = Weights()
    assert points(Tally(), w) is None  # owed nothing: no score
    assert points(Tally(on_time=4), w) == 100.0
    # One late of four: 20 × 1/4, its 2 overdue workdays: 1 × 2/4.
    assert points(Tally(on_time=3, late=1, overdue_workdays=2), w) == 94.5
    # A missed report of two, 10 workdays: 50 × 1/2 + 1 × 10/2; 10 points behind: 0.3 × 10.
    t = Tally(on_time=1, missed=1, overdue_workdays=10, behind=[10.0])
    assert points(t, w) == 67.0
    # Returns and nudges are shares too; the score never goes below 0.
    assert points(Tally(on_time=2, returned=1, nudged=2), w) == 85.0
    assert points(Tally(missed=1, overdue_workdays=200), w) == 0.0
    # The weights are the settings'.
    assert points(Tally(on_time=1, late=1), Weights(late=40.0)) == 80.0


def test_ranking_within_each_kind_shares_equal_places() -> None:
    units = [
        (1, "发改局", "department"),
        (2, "工信局", "department"),
        (3, "商务局", "department"),
        (4, "五里街镇", "town"),
        (5, "团市委", "other"),
    ]
    tallies = {
        1: Tally(on_time=4),
        2: Tally(on_time=3, late=1),
        3: Tally(on_time=4),
        4: Tally(on_time=1, missed=1),
    }
    found = scores(units, tallies, {2: 1}, {}, Weights())
    ranked = ranking(found, ["department", "town", "zone", "other"])
    assert [(r.rank, r.score.name, r.score.points) for r in ranked["department"]] == [
        (1, "发改局", 100.0),
        (1, "商务局", 100.0),
        (3, "工信局", 92.5),  # 20 × 1/4 late, 10 × 1/4 returned
    ]
    assert [(r.rank, r.score.name) for r in ranked["town"]] == [(1, "五里街镇")]
    assert ranked["zone"] == []
    assert [(r.rank, r.score.points) for r in ranked["other"]] == [(None, None)]
