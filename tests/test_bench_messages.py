"""bench.messages' counting, on a short window with a reporting plan written out by hand.

The 2026 register imported on Thu 19 March 08:00; the March deadline is Wed 25 March 17:00.
The liaisons' ladder: Fri 20 (3 workdays before), Tue 24 (the day before), Wed 25 (the day),
Thu 26, Fri 27 and Mon 30 (overdue 1-3; on the 3rd the office's digest lists the unit under
提请关注 and the simulated office presses 催办本单位). 发改局 reports everything on Tue 24,
工信局 on Fri 27 after that day's reminder; every other unit never does.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bench.common import database
from bench.messages import check, counts, day_figures, members, workdays_of
from bench.month import EARLY, LATE, Month, Simulated, Sitting, mixed_plan
from bot.config import Settings
from bot.domain.workcal import WorkCalendar

SH = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 3, 19, 8, 0, tzinfo=SH)
DEADLINE = date(2026, 3, 25)
DAYS = [date(2026, 3, d) for d in (19, 20, 23, 24, 25, 26, 27, 30)]  # the workdays
LADDER = {19: 0, 20: 1, 23: 0, 24: 1, 25: 1, 26: 1, 27: 1, 30: 1}


async def simulate(tmp_path: Path) -> Simulated:
    async with database("sqlite", tmp_path, "messages") as url:
        settings = Settings(_env_file=None, bot_token="123456:TEST", database_url=url)
        world = Month(url, settings, start=START)
        try:
            roster = await world.setup(seed=1)
            unit = {name: unit_id for unit_id, name in roster.units.items()}
            sittings = [
                Sitting(datetime(2026, 3, 24, 10, 0, tzinfo=SH), unit["发改局"], EARLY, DEADLINE),
                Sitting(datetime(2026, 3, 27, 11, 0, tzinfo=SH), unit["工信局"], LATE, DEADLINE),
            ]
            return await world.run(START.date(), date(2026, 3, 30), sittings)
        finally:
            await world.close()


def per_day(sim: Simulated, chat_id: int) -> dict[int, list[str]]:
    """The kinds of a chat's messages, by day of March."""
    got = counts(sim)
    return {d.day: [r.kind for r in got.get((chat_id, d), [])] for d in DAYS}


async def test_counts_per_person_and_day(tmp_path: Path) -> None:
    sim = await simulate(tmp_path)
    people = sim.roster.people
    names = {p.name: p for p in people.values() if p.role == "liaison"}
    owing = members(sim, "liaison")
    assert len(owing) == 46 and sum(p.role == "liaison" for p in people.values()) == 80

    # One reminder a day per liaison, however many tasks the unit leads (14 each: 发改局 also
    # as task 29's 发改局（低空办）), none after the unit reported; the office's 催办 on the
    # 3rd overdue workday comes on top.
    assert sim.reports == Counter({LATE: 14, EARLY: 14})
    fagai = per_day(sim, names["发改局"].chat_id)
    assert fagai == {d: ["reminder"] if d in (20, 24) else [] for d in LADDER}
    gongxin = per_day(sim, names["工信局"].chat_id)
    assert gongxin == {d: ["reminder"] * n if d < 30 else [] for d, n in LADDER.items()}
    for p in owing:
        if p.name in ("发改局", "工信局"):
            continue
        got = per_day(sim, p.chat_id)
        assert got == {
            d: ["reminder", "nudge"] if d == 30 else ["reminder"] * n for d, n in LADDER.items()
        }, p.name
    quiet = [p for p in people.values() if p.role == "liaison" and not p.owes]
    assert all(r.chat_id not in {p.chat_id for p in quiet} for r in sim.received)

    # The digests: one a workday for each leader and each office account, each with its chart
    # (a picture right after it, counted with it).
    for role in ("office", "leader"):
        for p in members(sim, role):
            assert per_day(sim, p.chat_id) == {d: ["summary"] for d in LADDER}, p.name
            charts = [
                r.day.day for r in sim.received if r.chat_id == p.chat_id and r.kind == "chart"
            ]
            assert charts == list(LADDER), p.name
    # The group: the first workday after the deadline and Monday 30 (Monday 23: nothing overdue).
    (group,) = members(sim, "group")
    assert per_day(sim, group.chat_id) == {d: ["circular"] if d in (26, 30) else [] for d in LADDER}
    assert sim.cancelled == Counter()

    # The per-role figures and the targets' measurements read the same counts.
    figures = {f.day.day: f for f in day_figures(sim, "liaison", DAYS)}
    assert (figures[25].people, figures[25].high, figures[25].total) == (46, 1, 45)
    assert (figures[30].high, figures[30].over, figures[30].total) == (2, 44, 88)
    assert figures[19].total == figures[23].total == 0
    assert workdays_of(DAYS[0], DAYS[-1], WorkCalendar()) == DAYS
    checked = check(sim, DAYS, WorkCalendar())
    assert checked.liaison_person_days == 46 * 8
    assert checked.liaison_share == (46 * 8 - 44) / (46 * 8)
    assert checked.office_max == 1 and checked.leader_off == 0
    assert checked.leader_days == len(members(sim, "leader")) * 8
    assert checked.group_weeks_over == []


def test_the_mixed_plan_is_seeded_and_keeps_to_its_window() -> None:
    """Each unit owing reports gets at most one sitting per cycle, early ones before the
    deadline, deadline-day ones before 17:00, late ones after it; the same seed, the same plan."""
    from bench.month import ON_DEADLINE, Roster

    settings = Settings(_env_file=None, bot_token="123456:TEST")
    calendar = WorkCalendar()
    deadlines = (date(2026, 3, 25), date(2026, 4, 24))
    roster = Roster({}, {u: f"u{u}" for u in range(1, 41)}, frozenset(range(1, 41)), deadlines, {})
    first, last = date(2026, 3, 1), date(2026, 4, 30)
    plan, never = mixed_plan(7)(roster, calendar, settings, first, last)
    again, _ = mixed_plan(7)(roster, calendar, settings, first, last)
    assert plan == again and plan != mixed_plan(8)(roster, calendar, settings, first, last)[0]
    assert len(plan) + never <= 80
    assert len({(s.unit_id, s.deadline) for s in plan}) == len(plan)
    for s in plan:
        due = datetime.combine(s.deadline, settings.due_time, tzinfo=SH)
        assert calendar.is_workday(s.at.date())
        assert first <= s.at.date() <= last
        if s.behaviour == EARLY:
            assert s.at.date() < s.deadline
        elif s.behaviour == ON_DEADLINE:
            assert s.at.date() == s.deadline and s.at < due
        else:
            assert s.behaviour == LATE and s.at.date() > s.deadline
    assert {s.behaviour for s in plan} == {EARLY, ON_DEADLINE, LATE}
