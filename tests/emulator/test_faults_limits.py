"""Seeded fault injection and Telegram's flood limits, with the statistics benchmarks read."""

from __future__ import annotations

import asyncio
import datetime as dt
import warnings

import pytest
from telegram import Bot
from telegram.error import NetworkError, RetryAfter, TelegramError, TimedOut

from bot.emulator import ControlClient, Emulator, EmulatorRequest, FaultKind, FaultRule
from bot.emulator.limits import RateLimitConfig, RateLimiter

# PTB 22 warns whenever a RetryAfter is built that retry_after will become a timedelta.
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


def retry_seconds(exc: RetryAfter) -> float:
    """RetryAfter.retry_after in seconds (PTB 22 gives int or timedelta, and warns)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


async def _fault_pattern(seed: int, calls: int) -> list[int]:
    """Indices of the sendMessage calls that failed, for one seed."""
    emu = Emulator()
    people = ControlClient.local(emu)
    user = await people.create_user("U")
    await people.start_bot(user.id, send_command=False)
    await people.set_faults([FaultRule(FaultKind.SERVER_ERROR, rate=0.3)], seed=seed)
    failed = []
    async with Bot(emu.token, request=EmulatorRequest(emu)) as bot:
        for index in range(calls):
            try:
                await bot.send_message(user.id, f"n{index}")
            except NetworkError:
                failed.append(index)
    stats = await people.stats()
    assert stats["faults_total"] == len(failed)
    assert stats["outcomes"]["sendMessage"].get("fault_server_error", 0) == len(failed)
    await emu.close()
    return failed


async def test_fault_share_is_deterministic_per_seed() -> None:
    """The same seed fails the same calls; about the configured share fails."""
    first = await _fault_pattern(seed=42, calls=300)
    second = await _fault_pattern(seed=42, calls=300)
    other = await _fault_pattern(seed=7, calls=300)
    assert first == second
    assert first != other
    assert 60 <= len(first) <= 120  # 30 % of 300, generously bounded


async def test_fault_rules_by_method_exclusion_and_times(
    local_bot: Bot, local_people: ControlClient
) -> None:
    """Rules apply per method, skip excluded methods and stop after ``times`` injections."""
    user = await local_people.create_user("U")
    await local_people.start_bot(user.id, send_command=False)
    await local_people.add_fault(FaultKind.RETRY_AFTER, methods=["sendMessage"], times=2)
    await local_people.add_fault(FaultKind.SERVER_ERROR, exclude=["sendMessage", "getMe"])
    for _ in range(2):
        with pytest.raises(RetryAfter):
            await local_bot.send_message(user.id, "x")
    assert (await local_bot.send_message(user.id, "through")).text == "through"
    with pytest.raises(NetworkError):
        await local_bot.get_chat(user.id)
    assert (await local_bot.get_me()).is_bot
    await local_people.clear_faults()
    assert (await local_bot.get_chat(user.id)).id == user.id


async def test_in_process_timeout_and_lost(local_bot: Bot, local_people: ControlClient) -> None:
    """In-process, a held call raises TimedOut after the read timeout; a lost one NetworkError."""
    user = await local_people.create_user("U")
    await local_people.start_bot(user.id, send_command=False)
    await local_people.add_fault(FaultKind.TIMEOUT, methods=["sendMessage"], hold=30, times=1)
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(TimedOut):
        await local_bot.send_message(user.id, "held", read_timeout=0.2)
    assert loop.time() - started < 1
    await local_people.add_fault(FaultKind.LOST, methods=["sendMessage"], times=1)
    with pytest.raises(NetworkError):
        await local_bot.send_message(user.id, "applied")
    assert [m.plain for m in await local_people.bot_messages(user.id)] == ["applied"]


def test_private_chat_limit_allows_a_burst_then_one_per_second() -> None:
    """Three quick sends pass in a private chat; the fourth waits about a second."""
    limiter = RateLimiter(RateLimitConfig(enabled=True))
    assert [limiter.check(1, is_private=True, now=10.0) for _ in range(3)] == [0.0] * 3
    wait = limiter.check(1, is_private=True, now=10.0)
    assert wait == pytest.approx(1.0)
    assert limiter.retry_after(wait) == 1
    assert limiter.check(1, is_private=True, now=11.0) == 0.0
    assert limiter.check(2, is_private=True, now=11.0) == 0.0  # other chats are independent


def test_group_and_global_limits_with_speedup() -> None:
    """20 per minute per group and 30 per second overall, scaled by speedup."""
    limiter = RateLimiter(RateLimitConfig(enabled=True))
    assert all(limiter.check(-5, is_private=False, now=0.0) == 0.0 for _ in range(20))
    assert limiter.check(-5, is_private=False, now=30.0) == pytest.approx(30.0)
    assert limiter.check(-5, is_private=False, now=60.0) == 0.0
    fast = RateLimiter(RateLimitConfig(enabled=True, speedup=100))
    assert sum(fast.check(c, is_private=True, now=0.0) == 0.0 for c in range(100)) == 30
    # spread over one second, 30 per 1/100 s adds up to 3000/s overall
    attempts = (fast.check(c, is_private=True, now=1 + c / 10_000) for c in range(10_000))
    assert 2950 <= sum(wait == 0.0 for wait in attempts) <= 3050
    wait = fast.check(99_999, is_private=True, now=1.9999)
    assert 0 < fast.retry_after(wait) <= 0.01


async def test_over_limit_sends_are_refused_and_counted(
    local_bot: Bot, local_people: ControlClient
) -> None:
    """An over-limit send gets RetryAfter and counts as a violation; accepted sends are timed."""
    user = await local_people.create_user("U")
    await local_people.start_bot(user.id, send_command=False)
    await local_people.set_limits(speedup=1)
    for n in range(3):
        await local_bot.send_message(user.id, f"burst {n}")
    with pytest.raises(RetryAfter) as caught:
        await local_bot.send_message(user.id, "too fast")
    assert retry_seconds(caught.value) == 1
    stats = await local_people.stats()
    assert stats["violations"] == 1
    assert stats["violations_per_chat"] == {str(user.id): 1}
    assert stats["accepted_sends"] == 3
    assert stats["outcomes"]["sendMessage"] == {"ok": 3, "rate_limited": 1}
    times = stats["send_times"]
    assert times == sorted(times)
    await local_people.set_limits(enabled=False)
    assert (await local_bot.send_message(user.id, "free")).text == "free"


async def test_speedup_benchmark_rate(local_emu: Emulator, local_people: ControlClient) -> None:
    """With speedup 100 a sender that honours retry_after sustains about 100 msg/s per chat."""
    user = await local_people.create_user("U")
    await local_people.start_bot(user.id, send_command=False)
    await local_people.set_limits(speedup=100)
    async with Bot(local_emu.token, request=EmulatorRequest(local_emu)) as bot:
        sent = 0
        while sent < 60:
            try:
                await bot.send_message(user.id, f"n{sent}")
                sent += 1
            except RetryAfter as exc:
                await asyncio.sleep(retry_seconds(exc))
            except TelegramError:
                raise
    stats = await local_people.stats()
    times = stats["send_times"]
    rate = (len(times) - 3) / (times[-1] - times[0])  # the first 3 are the burst
    assert 60 <= rate <= 110
    assert stats["violations"] > 0
