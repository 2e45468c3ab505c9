"""The sender's pacing (RateGate) on a fake monotonic clock: 30/s overall, 1/s per private
chat, 20/min per group — checked on the send times a dispatcher would get."""

from __future__ import annotations

import itertools
import random
from collections import Counter, deque

import pytest

from jobs.sender import RateGate

EPS = 1e-9


class FakeClock:
    """A monotonic clock that only moves when the gate sleeps (or the test moves it)."""

    def __init__(self) -> None:
        self.t = 0.0

    def monotonic(self) -> float:
        """Now."""
        return self.t

    async def sleep(self, seconds: float) -> None:
        """Sleeping moves time on at once."""
        self.t += seconds


def gate(clock: FakeClock, *, rate: float = 30.0, group_window: float = 60.0) -> RateGate:
    """Telegram's limits: 30/s overall, 1 s between messages to a person, 20/min per group."""
    return RateGate(rate, 1.0, 20, clock.monotonic, group_window=group_window, sleep=clock.sleep)


async def dispatch(g: RateGate, clock: FakeClock, chats: list[int]) -> list[tuple[float, int]]:
    """Send to `chats` in order, skipping past chats that must wait (as OutboxSender does)."""
    pending = deque(chats)
    sent: list[tuple[float, int]] = []
    while pending:
        now = clock.monotonic()
        chat = next((c for c in pending if g.chat_free_at(c) <= now), None)
        if chat is None:
            clock.t = min(g.chat_free_at(c) for c in pending)
            continue
        pending.remove(chat)
        await g.take(chat)
        sent.append((clock.monotonic(), chat))
    return sent


def most_in_window(times: list[float], window: float) -> int:
    """The most events in any half-open window [t, t + window)."""
    times = sorted(times)
    best = 0
    j = 0
    for i, start in enumerate(times):
        while j < len(times) and times[j] < start + window - EPS:
            j += 1
        best = max(best, j - i)
    return best


async def test_thirty_a_second_overall() -> None:
    clock = FakeClock()
    sent = await dispatch(gate(clock), clock, list(range(1, 91)))
    times = [t for t, _ in sent]
    assert times == pytest.approx([n / 30 for n in range(90)])
    assert most_in_window(times, 1.0) == 30


async def test_one_a_second_per_person_while_others_fill_the_gaps() -> None:
    clock = FakeClock()
    sent = await dispatch(gate(clock), clock, [7, 7, 7, 8, 9])
    assert [c for _, c in sent] == [7, 8, 9, 7, 7]
    assert [t for t, _ in sent] == pytest.approx([0.0, 1 / 30, 2 / 30, 1.0, 2.0])


async def test_twenty_a_minute_per_group() -> None:
    clock = FakeClock()
    sent = await dispatch(gate(clock), clock, [-100] * 25)
    times = [t for t, _ in sent]
    assert times[:20] == pytest.approx([n / 30 for n in range(20)])
    # The 21st waits until the first has left the minute (with 5% slack for the time a
    # message takes to reach Telegram), then one per slot as each leaves.
    assert times[20:] == pytest.approx([63 + n / 30 for n in range(5)])
    assert most_in_window(times, 60.0) == 20


async def test_a_shorter_group_window_for_a_sped_up_emulator() -> None:
    clock = FakeClock()
    sent = await dispatch(gate(clock, group_window=3.0), clock, [-100] * 21)
    assert sent[-1][0] == pytest.approx(3.15)


async def test_telegram_asking_to_wait_pauses_only_that_chat() -> None:
    clock = FakeClock()
    g = gate(clock)
    await g.take(5)
    await g.take(-100)
    clock.t = 10.0
    g.pause_chat(5, 7.5)
    g.pause_chat(-100, 4.0)
    assert g.chat_free_at(5) == pytest.approx(17.5)
    assert g.chat_free_at(-100) == pytest.approx(14.0)
    assert g.chat_free_at(6) == 0.0
    # A shorter pause does not shorten a longer one.
    g.pause_chat(5, 1.0)
    assert g.chat_free_at(5) == pytest.approx(17.5)


async def test_mixed_traffic_keeps_every_limit() -> None:
    rng = random.Random(26)
    chats = [rng.choice([*range(1, 41), -100, -200]) for _ in range(600)]
    clock = FakeClock()
    sent = await dispatch(gate(clock), clock, chats)
    assert sorted(c for _, c in sent) == sorted(chats)
    times = [t for t, _ in sent]
    assert most_in_window(times, 1.0) <= 30
    for chat in set(chats):
        mine = [t for t, c in sent if c == chat]
        if chat > 0:
            assert all(b - a >= 1.0 - EPS for a, b in itertools.pairwise(mine))
        else:
            assert most_in_window(mine, 60.0) <= 20
    # Nobody waits needlessly: private messages are done about when the overall rate or the
    # busiest person's one-a-second allows, whichever is later (groups wait their minute).
    private = [t for t, c in sent if c > 0]
    busiest = max(Counter(c for c in chats if c > 0).values())
    assert max(private) < max(len(private) / 30, busiest - 1) + 2.0


async def test_the_default_rate_leaves_headroom_for_replies() -> None:
    clock = FakeClock()
    g = RateGate(29.0, 1.0, 20, clock.monotonic, sleep=clock.sleep)
    sent = await dispatch(g, clock, list(range(1, 301)))
    assert most_in_window([t for t, _ in sent], 1.0) == 29
