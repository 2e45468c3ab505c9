"""Benchmark 4: peak RSS of the bot process serving the largest data set.

`python -m bench.memory [--reports 1000000] [--db sqlite|postgresql]`

The bot runs as its own process (`bench.clock_bot`: BotRuntime and its jobs, the clock at
2026-11-20 10:00) on the generated register (10,000 tasks, 1,000 units, 1,000,000 reports;
bench.datagen) against the HTTP emulator in this process, where the 1,000 liaisons, the office
and 20 leaders exist. While the bot does its own work — the planner's overdue reminders to
every liaison who owes a report, the leaders' daily summaries, the sender delivering them at
29/s — the office, a leader and a liaison use it: /overdue and its next page, task cards,
/summary, /units, /export, /tasks and a whole report. Each command's latency is measured
from the person's message to the bot's answer (end to end, Telegram client included).

RSS is sampled every 0.2 s; the peak is the kernel's high-water mark (VmHWM), read before the
process is stopped. Target: peak <= 200 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select

from bench.common import BotProcess, Verdicts, database, print_table
from bench.datagen import LEADER_USER, LIAISON_USER, NOW, OFFICE_USER, synthetic
from bench.people import button, first_after, report_once, until
from bot.emulator import Emulator, EmulatorServer
from bot.emulator.state import StoredMessage
from db.engine import create_engine, make_sessionmaker
from db.models import OutboxMessage

TARGET_MB = 200.0
TIMEOUT = 300.0


def status_kb(pid: int, field_name: str) -> int:
    """A `Vm…` line of /proc/<pid>/status, in kB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1])
    return 0


@dataclass
class Sampler:
    """Samples a process's RSS until stopped."""

    pid: int
    samples: list[tuple[float, int]] = field(default_factory=list)

    async def run(self, stop: asyncio.Event) -> None:
        """Sample every 0.2 s."""
        t0 = time.perf_counter()
        while not stop.is_set():
            with contextlib.suppress(FileNotFoundError, ProcessLookupError):
                self.samples.append((time.perf_counter() - t0, status_kb(self.pid, "VmRSS")))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.2)


async def ask(
    emu: Emulator, user_id: int, text: str, match: Callable[[StoredMessage], bool]
) -> tuple[float, StoredMessage]:
    """Send `text`; wait for the first matching bot answer; return the seconds and the answer."""
    t0 = time.perf_counter()
    sent = emu.user_sends(user_id, text)
    found: list[StoredMessage] = []

    def answered() -> bool:
        m = first_after(emu, user_id, sent.message_id, match)
        if m is not None:
            found.append(m)
        return m is not None

    await until(emu, answered, TIMEOUT)
    return time.perf_counter() - t0, found[-1]


async def press(emu: Emulator, user_id: int, message: StoredMessage, data: str) -> float:
    """Press a button; wait until the message is edited (or a new answer arrives)."""
    before = len(message.edits)
    newest = max(emu.chats[user_id].messages)
    t0 = time.perf_counter()
    emu.press_button(user_id, message.message_id, data=data)
    await until(
        emu,
        lambda: (
            len(message.edits) > before
            or first_after(emu, user_id, newest, lambda m: True) is not None
        ),
        TIMEOUT,
    )
    return time.perf_counter() - t0


def starts(prefix: str) -> Callable[[StoredMessage], bool]:
    """An answer whose text starts with `prefix` (any answer when empty)."""
    return lambda m: (m.content.text or "").startswith(prefix)


def not_reminder(m: StoredMessage) -> bool:
    """A command's answer, not a reminder or summary the jobs sent meanwhile."""
    text = m.content.text or ""
    return "您单位牵头的" not in text and "进展摘要" not in text and "督办提示" not in text


def summary_answer(m: StoredMessage) -> bool:
    """The answer to /summary (office or leader)."""
    return "进展摘要" in (m.content.text or "")


async def daily_summary_delivered(url: str, chat_id: int) -> None:
    """Wait until the day's summary job has delivered this person's copy (up to 120 s).

    The answer to /summary has the same text: asked before, it could not be told apart.
    """
    deadline = time.perf_counter() + 120
    engine = create_engine(url)
    try:
        while time.perf_counter() < deadline:
            async with make_sessionmaker(engine)() as session:
                statuses = set(
                    (
                        await session.scalars(
                            select(OutboxMessage.status).where(
                                OutboxMessage.chat_id == chat_id, OutboxMessage.kind == "summary"
                            )
                        )
                    ).all()
                )
            if statuses and "pending" not in statuses:
                return
            await asyncio.sleep(0.5)
    finally:
        await engine.dispose()


async def use_the_bot(
    url: str, emu: Emulator, pid: int, latencies: dict[str, list[float]], rss: dict[str, int]
) -> None:
    """The office, a leader and a liaison at work, three rounds."""
    office, leader, liaison = OFFICE_USER, LEADER_USER + 1, LIAISON_USER + 7
    rng = random.Random(3)

    def record(name: str, seconds: float) -> None:
        latencies.setdefault(name, []).append(seconds * 1000)
        rss[name] = max(rss.get(name, 0), status_kb(pid, "VmRSS"))

    for round_no in range(3):
        seconds, page = await ask(emu, office, "/overdue", not_reminder)
        record("/overdue (office)", seconds)
        data = button(page, "ovp:")
        if data is not None:
            record("/overdue next page", await press(emu, office, page, data))
        for no in (1 + round_no, 5000 + round_no, 9999 - round_no):
            seconds, _ = await ask(emu, office, f"/task {no}", not_reminder)
            record("/task N", seconds)
        for who, name in ((office, "/summary (office)"), (leader, "/summary (leader)")):
            await daily_summary_delivered(url, who)
            seconds, _ = await ask(emu, who, "/summary", summary_answer)
            record(name, seconds)
        seconds, _ = await ask(emu, leader, "/overdue", not_reminder)
        record("/overdue (leader)", seconds)
        seconds, _ = await ask(emu, office, "/units", not_reminder)
        record("/units", seconds)
        seconds, _ = await ask(emu, liaison, "/tasks", not_reminder)
        record("/tasks (liaison)", seconds)
        t0 = time.perf_counter()
        await report_once(emu, liaison, f"R9-{round_no}", rng, TIMEOUT)
        record("report, 4 steps (liaison)", time.perf_counter() - t0)
        if round_no == 0:
            seconds, _ = await ask(emu, office, "/export", lambda m: m.document is not None)
            record("/export", seconds)


async def outbox_state(url: str) -> tuple[int, int]:
    """Messages the bot has still to send, and the reminders and escalations it planned."""
    engine = create_engine(url)
    try:
        async with make_sessionmaker(engine)() as session:
            query = select(func.count()).select_from(OutboxMessage)
            pending = await session.scalar(query.where(OutboxMessage.status == "pending"))
            planned = await session.scalar(
                query.where(OutboxMessage.kind.in_(("reminder", "escalation")))
            )
            return int(pending or 0), int(planned or 0)
    finally:
        await engine.dispose()


async def main_async(args: argparse.Namespace) -> int:
    """Generate the data, run the bot, use it, read the peak."""
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        workdir = Path(tmp)
        async with database(args.db, workdir, "memory") as url:
            print("generating the data set ...", file=sys.stderr, flush=True)
            made = await synthetic(url, reports=args.reports)
            emu = Emulator()
            users = [LIAISON_USER + n for n in range(1, made.units + 1)]
            users += [OFFICE_USER] + [LEADER_USER + n for n in range(1, 21)]
            for user_id in users:
                emu.create_user(f"u{user_id}", user_id=user_id)
                emu.start_bot(user_id, send_command=False)
            latencies: dict[str, list[float]] = {}
            rss: dict[str, int] = {}
            async with EmulatorServer(emu) as server:
                proc = BotProcess(
                    "bench.clock_bot",
                    token=server.token,
                    base_url=server.url,
                    workdir=workdir,
                    polls=lambda: emu.stats.calls.get("getUpdates", 0),
                    env={
                        "DATABASE_URL": url,
                        "BENCH_CLOCK_START": NOW.isoformat(),
                        "BENCH_CLOCK_ORIGIN": repr(time.time()),
                    },
                )
                print("starting the bot ...", file=sys.stderr, flush=True)
                await proc.start(timeout=120)
                started_kb = status_kb(proc.pid, "VmRSS")
                stop = asyncio.Event()
                sampler = Sampler(proc.pid)
                sampling = asyncio.create_task(sampler.run(stop))
                t0 = time.perf_counter()
                try:
                    await use_the_bot(url, emu, proc.pid, latencies, rss)
                    deadline = time.perf_counter() + 600
                    # Until the planner's fan-out is written (its transaction can outlast
                    # the commands above) and delivered.
                    while True:
                        pending, planned = await outbox_state(url)
                        if planned and not pending:
                            break
                        if time.perf_counter() > deadline:
                            raise TimeoutError("the outbox did not drain")
                        await asyncio.sleep(1.0)
                    peak_kb = status_kb(proc.pid, "VmHWM")
                    final_kb = status_kb(proc.pid, "VmRSS")
                finally:
                    stop.set()
                    await sampling
                    await proc.stop()
                seconds = time.perf_counter() - t0
                sent = emu.stats.calls.get("sendMessage", 0)
    print_table(
        f"Benchmark 4 — memory: the bot on {made.tasks:,} tasks, {made.units:,} units, "
        f"{made.reports:,} reports ({args.db}), {seconds:.0f} s of work, {sent:,} messages sent",
        ["RSS after start MB", "peak (VmHWM) MB", "at the end MB", "samples"],
        [
            [
                f"{started_kb / 1024:.1f}",
                f"{peak_kb / 1024:.1f}",
                f"{final_kb / 1024:.1f}",
                len(sampler.samples),
            ]
        ],
    )
    print_table(
        "End-to-end latency while the jobs run (ms), and the bot's RSS right after the answer",
        ["command", "runs", "p50", "max", "RSS after, MB"],
        [
            [
                name,
                len(ms),
                f"{statistics.median(ms):.0f}",
                f"{max(ms):.0f}",
                f"{rss[name] / 1024:.0f}",
            ]
            for name, ms in latencies.items()
        ],
    )
    verdicts = Verdicts()
    verdicts.check(
        f"peak RSS <= {TARGET_MB:.0f} MB", peak_kb / 1024 <= TARGET_MB, f"{peak_kb / 1024:.1f} MB"
    )
    return verdicts.print()


def main() -> int:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
