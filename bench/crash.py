"""Reliability suite 5: SIGKILL the bot at random moments during a fan-out and a stream of reports.

`python -m bench.crash [--kills 50] [--recipients 1000] [--reporters 10] [--db sqlite|postgresql]`

The bot runs as its own process (`bench.clock_bot`: BotRuntime with its jobs, on a clock that
starts at the March deadline day, 2026-03-25 09:05, and runs in real time) against the HTTP
emulator in this process. Its own planner writes the day's reminders for every bound liaison;
its sender delivers them at SEND_RATE_PER_SECOND (10/s here, so the fan-out lasts through the
kills). Meanwhile `--reporters` liaisons report without pause: /report, pick, a text carrying a
unique mark, 确认提交 — each waits for the bot's answer, whatever the bot is going through.

After the first planning run has committed, the bot is killed (SIGKILL) after a random 0.5-4 s
of running, and started again, `--kills` times (seeded). Then it runs until the outbox is
delivered and every stored update is handled.

Counted at the end: reminders due (outbox rows not cancelled because reported meanwhile),
delivered (reminder messages that reached the person's chat) and duplicated; reports confirmed
(the person saw 已提交), stored (rows carrying the mark) and duplicated.
Target: nothing lost, duplicates <= kills.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from bench.common import BotProcess, Verdicts, bind_liaisons, database, import_seed, print_table
from bench.people import MARK, REMINDER_MARK, bot_messages_with, report_once
from bot.emulator import Emulator, EmulatorServer
from db.engine import create_engine, make_sessionmaker
from db.models import InboxUpdate, OutboxMessage, Report

SHANGHAI = ZoneInfo("Asia/Shanghai")
IMPORTED = datetime(2026, 3, 1, 9, 0, tzinfo=SHANGHAI)
CLOCK_START = datetime(2026, 3, 25, 9, 5, tzinfo=SHANGHAI)
STEP_TIMEOUT = 90.0


@dataclass
class CrashConfig:
    """How hard to crash the bot."""

    kills: int = 50
    recipients: int = 1000
    reporters: int = 10
    send_rate: float = 10.0
    min_up: float = 0.5
    max_up: float = 4.0
    seed: int = 20260325


@dataclass
class CrashResult:
    """What the run counted."""

    kills: int = 0
    starts: int = 0
    seconds: float = 0.0
    reminders_due: int = 0
    reminders_delivered: int = 0
    reminders_duplicated: int = 0
    reminders_lost: int = 0
    reminders_cancelled: int = 0
    reports_confirmed: int = 0
    reports_stored: int = 0
    reports_duplicated: int = 0
    reports_lost: int = 0
    reports_unconfirmed_stored: int = 0
    unanswered: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def duplicates(self) -> int:
        """Every duplicate, reminders and reports."""
        return self.reminders_duplicated + self.reports_duplicated

    @property
    def ok(self) -> bool:
        """Nothing lost, duplicates within the number of kills, nothing stuck."""
        return (
            self.reminders_lost == 0
            and self.reports_lost == 0
            and self.duplicates <= self.kills
            and not self.problems
        )


async def reporter(
    emu: Emulator, user_id: int, n: int, stop: asyncio.Event, confirmed: set[str], out: CrashResult
) -> None:
    """Report again and again until told to stop (after the conversation under way)."""
    rng = random.Random(user_id)
    count = 0
    while not stop.is_set():
        count += 1
        mark = f"R{n:03d}-{count:04d}"
        try:
            await report_once(emu, user_id, mark, rng, STEP_TIMEOUT)
            confirmed.add(mark)
        except TimeoutError:
            out.unanswered += 1
            emu.user_sends(user_id, "/cancel")


async def db_count(url: str, query: object) -> int:
    """One scalar count."""
    engine = create_engine(url)
    try:
        async with make_sessionmaker(engine)() as session:
            return int(await session.scalar(query) or 0)  # type: ignore[call-overload]
    finally:
        await engine.dispose()


async def wait_for(check: Callable[[], object], timeout: float, what: str) -> None:  # noqa: ASYNC109
    """Poll an async check until it is truthy."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await check():  # type: ignore[misc]
        if loop.time() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(0.25)


async def run_crash(
    cfg: CrashConfig, url: str, workdir: Path, *, log: Callable[[str], None] = print
) -> CrashResult:
    """Prepare, crash and restart the bot `cfg.kills` times, settle, count."""
    out = CrashResult()
    rng = random.Random(cfg.seed)
    engine = create_engine(url)
    sessionmaker = make_sessionmaker(engine)
    await import_seed(sessionmaker, IMPORTED)
    bound = await bind_liaisons(sessionmaker, cfg.recipients, IMPORTED)
    await engine.dispose()
    emu = Emulator()
    for b in bound:
        emu.create_user(f"联络员{b.user_id}", user_id=b.user_id)
        emu.start_bot(b.user_id, send_command=False)
    t0 = time.perf_counter()
    async with EmulatorServer(emu) as server:
        proc = BotProcess(
            "bench.clock_bot",
            token=server.token,
            base_url=server.url,
            workdir=workdir,
            polls=lambda: emu.stats.calls.get("getUpdates", 0),
            env={
                "DATABASE_URL": url,
                "BENCH_CLOCK_START": CLOCK_START.isoformat(),
                "BENCH_CLOCK_ORIGIN": repr(time.time()),
                "SEND_RATE_PER_SECOND": str(cfg.send_rate),
            },
        )
        await proc.start()

        async def planned() -> bool:
            return await db_count(url, select(func.count()).select_from(OutboxMessage)) > 0

        await wait_for(planned, 180, "the first planning run")
        stop = asyncio.Event()
        confirmed: set[str] = set()
        reporters = [
            asyncio.create_task(reporter(emu, b.user_id, n, stop, confirmed, out))
            for n, b in enumerate(bound[: cfg.reporters])
        ]
        try:
            for n in range(cfg.kills):
                await asyncio.sleep(rng.uniform(cfg.min_up, cfg.max_up))
                await proc.kill()
                await proc.start()
                if (n + 1) % 10 == 0:
                    log(f"  {n + 1} kills")
            stop.set()
            await asyncio.wait_for(asyncio.gather(*reporters), STEP_TIMEOUT * 4)

            async def delivered() -> bool:
                pending = select(func.count()).select_from(OutboxMessage)
                pending = pending.where(OutboxMessage.status == "pending")
                unhandled = select(func.count()).select_from(InboxUpdate)
                unhandled = unhandled.where(InboxUpdate.status == "new")
                return (
                    await db_count(url, pending) == 0
                    and await db_count(url, unhandled) == 0
                    and not emu.pending
                )

            budget = cfg.recipients / cfg.send_rate * 2 + 120
            await wait_for(delivered, budget, "the outbox and the inbox to drain")
        finally:
            stop.set()
            for task in reporters:
                task.cancel()
            await asyncio.gather(*reporters, return_exceptions=True)
            await proc.stop()
        out.kills = proc.kills
        out.starts = proc.starts
        out.seconds = time.perf_counter() - t0
        await _count(emu, url, [b.user_id for b in bound], confirmed, out)
    return out


async def _count(
    emu: Emulator, url: str, users: list[int], confirmed: set[str], out: CrashResult
) -> None:
    engine = create_engine(url)
    try:
        async with make_sessionmaker(engine)() as session:
            rows = (
                await session.execute(
                    select(OutboxMessage.chat_id, OutboxMessage.status).where(
                        OutboxMessage.kind == "reminder"
                    )
                )
            ).all()
            reports = (await session.scalars(select(Report.text))).all()
            failed = await session.scalar(
                select(func.count()).select_from(InboxUpdate).where(InboxUpdate.status == "failed")
            )
    finally:
        await engine.dispose()
    due: Counter[int] = Counter()
    for chat_id, status in rows:
        if status == "cancelled":
            out.reminders_cancelled += 1
        else:
            due[int(chat_id)] += 1
        if status in ("pending", "failed"):
            out.problems.append(f"reminder to {chat_id} left {status}")
    for user_id in users:
        got = bot_messages_with(emu, user_id, REMINDER_MARK)
        out.reminders_due += due[user_id]
        out.reminders_delivered += min(got, due[user_id])
        out.reminders_lost += max(0, due[user_id] - got)
        out.reminders_duplicated += max(0, got - due[user_id])
    marks: Counter[str] = Counter()
    for text in reports:
        found = MARK.search(text)
        if found:
            marks[found.group(1)] += 1
    out.reports_confirmed = len(confirmed)
    out.reports_stored = sum(1 for m in confirmed if marks[m] > 0)
    out.reports_lost = sum(1 for m in confirmed if marks[m] == 0)
    out.reports_duplicated = sum(n - 1 for n in marks.values() if n > 1)
    out.reports_unconfirmed_stored = sum(1 for m in marks if m not in confirmed)
    if failed:
        out.problems.append(f"{failed} updates failed for good")


def print_result(cfg: CrashConfig, db: str, result: CrashResult) -> int:
    """The table and the verdicts; the exit code."""
    print_table(
        f"Crash suite — {result.kills} SIGKILLs ({result.starts} starts) in "
        f"{result.seconds:.0f} s, {cfg.recipients:,} liaisons, {cfg.reporters} reporting, "
        f"{db}, seed {cfg.seed}",
        ["what", "due / confirmed", "delivered / stored", "duplicated", "lost"],
        [
            [
                "reminders",
                f"{result.reminders_due:,}",
                f"{result.reminders_delivered:,}",
                result.reminders_duplicated,
                result.reminders_lost,
            ],
            [
                "reports",
                f"{result.reports_confirmed:,}",
                f"{result.reports_stored:,}",
                result.reports_duplicated,
                result.reports_lost,
            ],
        ],
    )
    print(
        f"  reminders cancelled (reported before sending): {result.reminders_cancelled}; "
        f"reports stored but not yet seen as confirmed when stopped: "
        f"{result.reports_unconfirmed_stored}; steps unanswered within {STEP_TIMEOUT:.0f} s: "
        f"{result.unanswered}"
    )
    for problem in result.problems:
        print(f"  problem: {problem}")
    verdicts = Verdicts()
    verdicts.check("no reminder lost", result.reminders_lost == 0, str(result.reminders_lost))
    verdicts.check("no confirmed report lost", result.reports_lost == 0, str(result.reports_lost))
    verdicts.check(
        "duplicates <= kills",
        result.duplicates <= result.kills,
        f"{result.duplicates} duplicates, {result.kills} kills",
    )
    verdicts.check(
        "nothing stuck or failed", not result.problems, f"{len(result.problems)} problems"
    )
    verdicts.check("every step answered", result.unanswered == 0, str(result.unanswered))
    return verdicts.print()


async def main_async(args: argparse.Namespace) -> int:
    """Command line body."""
    cfg = CrashConfig(
        kills=args.kills,
        recipients=args.recipients,
        reporters=args.reporters,
        send_rate=args.send_rate,
        seed=args.seed,
    )
    with tempfile.TemporaryDirectory(prefix="bench-crash-") as tmp:
        async with database(args.db, Path(tmp), "crash") as url:
            result = await run_crash(cfg, url, Path(tmp))
        return print_result(cfg, args.db, result)


def main() -> int:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--recipients", type=int, default=1000)
    parser.add_argument("--reporters", type=int, default=10)
    parser.add_argument("--send-rate", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=CrashConfig.seed)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
