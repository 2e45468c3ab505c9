"""The pump's lanes: who waits for whom when several people's updates are due at once.

`process_one` is replaced by a script (how long each update takes, whether it fails), so the
scheduling alone is under test; the flows (tests/flows/test_lanes.py) run the real handlers.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from typing import Any, cast

import pytest

from bot.domain.clock import ManualClock
from bot.domain.workcal import WorkCalendar
from bot.runtime.app import UpdatePump
from db.engine import create_engine, make_sessionmaker
from handlers.context import Services
from tests.flows.conftest import START
from tests.harness import make_settings


@dataclass
class ScriptedPump(UpdatePump):
    """A pump whose updates take `seconds` each and fail (False) or raise as scripted."""

    seconds: float = 0.02
    quick: set[int] = field(default_factory=set)  # these take a quarter of `seconds`
    failing: set[int] = field(default_factory=set)
    raising: set[int] = field(default_factory=set)
    events: list[tuple[str, int]] = field(default_factory=list)

    async def process_one(self, update_id: int) -> bool:
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        self.events.append(("start", update_id))
        try:
            await asyncio.sleep(self.seconds / 4 if update_id in self.quick else self.seconds)
            if update_id in self.raising:
                raise RuntimeError(f"update {update_id}: the database went away")
            return update_id not in self.failing
        finally:
            self.in_flight -= 1
            self.events.append(("end", update_id))


def pump(lanes: int, **script: Any) -> ScriptedPump:
    settings = make_settings("sqlite+aiosqlite://")
    # Never connected: the scripted updates touch no database.
    sessionmaker = make_sessionmaker(create_engine(settings.database_url))
    services = Services(settings, sessionmaker, ManualClock(START), WorkCalendar())
    return ScriptedPump(cast(Any, None), services, lanes=lanes, **script)


def assert_in_order(events: list[tuple[str, int]], queue: list[int]) -> None:
    """Each update of the queue starts only after the one before it ended."""
    for before, after in itertools.pairwise(queue):
        assert events.index(("end", before)) < events.index(("start", after)), events


QUEUES = [[1, 2, 3], [4, 5], [6], [7, 8]]


async def test_lanes_handle_people_side_by_side_and_each_persons_in_order() -> None:
    p = pump(3)
    handled, complete = await p._process_queues([list(q) for q in QUEUES], None)
    assert (handled, complete) == (8, True)
    assert p.peak_in_flight == 3
    for queue in QUEUES:
        assert_in_order(p.events, queue)


async def test_one_lane_handles_one_update_at_a_time_taking_turns() -> None:
    p = pump(1)
    assert await p._process_queues([list(q) for q in QUEUES], None) == (8, True)
    assert p.peak_in_flight == 1
    # One update of each person in turn, each person's in order.
    assert [u for kind, u in p.events if kind == "start"] == [1, 4, 6, 7, 2, 5, 8, 3]


async def test_a_burst_delays_another_person_by_one_slot_at_most() -> None:
    """A stranger's 30 queued updates, then a liaison's one: on one lane (SQLite) the liaison's
    is the second handled, not the 31st (issue 19, finding 1)."""
    p = pump(1)
    flood = list(range(100, 130))
    await p._process_queues([flood, [7]], None)
    starts = [u for kind, u in p.events if kind == "start"]
    assert starts.index(7) == 1
    assert_in_order(p.events, flood)


async def test_a_failed_update_holds_back_only_its_senders_later_ones() -> None:
    p = pump(2, failing={4})
    handled, complete = await p._process_queues([list(q) for q in QUEUES], None)
    started = {u for kind, u in p.events if kind == "start"}
    assert 5 not in started  # behind the failed 4: the inbox is asked again
    assert started == {1, 2, 3, 4, 6, 7, 8}
    assert (handled, complete) == (6, False)


async def test_an_error_lets_the_other_lanes_finish_their_update_then_stops() -> None:
    p = pump(3, raising={4}, quick={4})
    with pytest.raises(RuntimeError, match="update 4"):
        await p._process_queues([list(q) for q in QUEUES], None)
    # 1 and 6 were under way beside 4 and finished; nothing new started after the error.
    assert [u for kind, u in p.events if kind == "start"] == [1, 4, 6]
    assert p.in_flight == 0
    assert {u for kind, u in p.events if kind == "end"} == {1, 4, 6}


async def test_stop_ends_every_lane_after_its_current_update() -> None:
    p = pump(2)
    stop = asyncio.Event()

    async def stop_soon() -> None:
        await asyncio.sleep(p.seconds / 2)
        stop.set()

    stopper = asyncio.create_task(stop_soon())
    handled, complete = await p._process_queues([list(q) for q in QUEUES], stop)
    await stopper
    assert (handled, complete) == (2, False)
    assert [u for kind, u in p.events if kind == "start"] == [1, 4]
