"""The obligation model (bot.domain.obligations) on the real 2026 calendar."""

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.domain.cycles import Cycle, CycleRule, cycles_for_year
from bot.domain.obligations import Record, Terms, correctable, credit, duty, record
from bot.domain.workcal import WorkCalendar

TZ = ZoneInfo("Asia/Shanghai")
CYCLES: list[Cycle] = cycles_for_year(CycleRule(), 2026, WorkCalendar(), TZ, time(17, 0))
BY_KEY = {c.key: c for c in CYCLES}
SINCE = datetime(2026, 3, 1, 10, 0, tzinfo=TZ)  # register imported: Jan and Feb not owed


def at(m: int, d: int, hh: int = 9, y: int = 2026) -> datetime:
    """A moment in the configured zone."""
    return datetime(y, m, d, hh, 0, tzinfo=TZ)


def on_time(*keys: str) -> dict[str, datetime]:
    """Each cycle reported a day before its deadline."""
    return {k: BY_KEY[k].due.replace(hour=9) for k in keys}


def terms(done_at: datetime | None = None, owes: bool = True) -> Terms:
    """A monthly task's terms for one unit, tracked since 1 March."""
    return Terms(CYCLES, owes=owes, since=SINCE, done_at=done_at)


def test_before_tracking_nothing_is_missed() -> None:
    d = duty(terms(), {}, at(3, 10))
    assert d.current is not None and d.current.key == "2026-03"
    assert d.missed is None and d.earlier_missed == 0
    assert d.chased == d.current


def test_a_missed_month_stays_on_the_record_after_the_next_deadline() -> None:
    # March never reported; on 4-27 April's deadline (4-24) has passed too.
    d = duty(terms(), {}, at(4, 27))
    assert d.missed is not None and d.missed.key == "2026-04"
    assert d.earlier_missed == 1  # March: not chased, but counted
    assert d.current is not None and d.current.key == "2026-05"
    assert record(terms(), {}, at(4, 27)) == Record(on_time=0, late=0, missed=2)


def test_a_late_report_is_credited_to_the_chased_cycle_then_to_the_open_one() -> None:
    t = terms()
    march_late = credit(t, {}, at(4, 2))
    assert march_late is not None and march_late.key == "2026-03"
    reported = {"2026-03": at(4, 2)}
    april = credit(t, reported, at(4, 3))
    assert april is not None and april.key == "2026-04"
    assert record(t, reported, at(4, 27)) == Record(on_time=0, late=1, missed=1)


def test_a_cycle_before_tracking_is_not_caught_up() -> None:
    # On 3-2, February's deadline passed before the import: the report goes to March.
    cycle = credit(terms(), {}, at(3, 2))
    assert cycle is not None and cycle.key == "2026-03"


def test_completion_stops_every_obligation_and_keeps_the_record() -> None:
    done_at = at(4, 10)
    reported = {"2026-03": at(3, 20), "2026-04": done_at}
    t = terms(done_at=done_at)
    d = duty(t, reported, at(12, 22))
    assert d.done and d.current is None and d.missed is None and d.chased is None
    assert d.earlier_missed == 0
    assert record(t, reported, at(12, 22)) == Record(on_time=2, late=0, missed=0)


def test_completion_before_a_missed_cycle_is_not_chased_but_counted() -> None:
    # Office marked the task complete on 5-1 while April was never reported.
    t = terms(done_at=at(5, 1, 0))
    d = duty(t, {"2026-03": at(3, 20)}, at(6, 1))
    assert d.done and d.missed is None and d.chased is None
    assert d.earlier_missed == 1
    assert record(t, {"2026-03": at(3, 20)}, at(6, 1)).missed == 1


def test_reopened_part_owes_again() -> None:
    # done_at None: a later report below 100% reopened it.
    d = duty(terms(), on_time("2026-03", "2026-04"), at(5, 6))
    assert not d.done and d.current is not None and d.current.key == "2026-05"
    assert d.chased == d.current


def test_a_unit_that_owes_nothing_is_never_chased() -> None:
    d = duty(terms(owes=False), {}, at(6, 1))
    assert d.chased is None and d.earlier_missed == 0
    assert record(terms(owes=False), {}, at(6, 1)) == Record()


def test_after_the_year_the_last_cycle_is_still_chased_in_january() -> None:
    d = duty(terms(), on_time(*(f"2026-{m:02d}" for m in range(3, 12))), at(1, 6, y=2027))
    assert d.missed is not None and d.missed.key == "2026-12"
    assert d.current is None
    cycle = credit(terms(), {}, at(1, 6, y=2027))
    assert cycle is not None and cycle.key == "2026-12"
    # Reported: a further report in January belongs to the year's last cycle as well.
    cycle = credit(terms(), {"2026-12": at(1, 5, y=2027)}, at(1, 6, y=2027))
    assert cycle is not None and cycle.key == "2026-12"


@pytest.mark.parametrize(
    ("reported", "key", "now", "expected"),
    [
        ({"2026-03": at(3, 20), "2026-04": at(4, 10)}, "2026-04", at(4, 11), True),  # open
        ({"2026-03": at(3, 20)}, "2026-03", at(4, 11), True),  # until April's deadline
        ({"2026-03": at(3, 20)}, "2026-03", at(5, 6), False),  # April's deadline has passed
        ({"2026-03": at(3, 20), "2026-05": at(5, 6)}, "2026-03", at(5, 7), False),
    ],
)
def test_correctable(
    reported: dict[str, datetime], key: str, now: datetime, expected: bool
) -> None:
    assert correctable(terms(), reported, key, now) is expected


def test_record_rate() -> None:
    assert Record(on_time=3, late=1, missed=1).rate == pytest.approx(0.8)
    assert Record().rate is None
    assert Record(1, 0, 0) + Record(0, 1, 2) == Record(1, 1, 2)
