"""Reliability suite 6: 10% of Bot API calls fail for a whole simulated month.

`python -m bench.faults [--days 31] [--liaisons 100] [--reporters 10] [--rate 0.10] [--db ...]`

The real runtime (Application, update pump, outbox sender) runs in this process on a manual
clock, talking to an in-process emulator that answers a share of *every* Bot API call —
getUpdates included — with 429 (retry_after 0.5 s), 500, 502 (nginx's HTML page), a timeout
(the call is not applied) or a lost response (the call is applied, the answer never arrives),
in equal parts. Each simulated day: the clock is set to 09:05, the reminder planner runs (the
same `run_planning` the scheduler calls), and on workdays `--reporters` random liaisons report
through the whole conversation while the clock runs at 30x; the day ends when the outbox is
delivered and every update handled. Liaisons, the office and every leader are bound, so the
month's reminders, the deadline-day notices, the daily overdue reminders and the escalations
all go out.

Counted: calls and faults by kind; reminders and escalations due / delivered / duplicated;
reports confirmed / stored / duplicated; repeated replies (a reply sent again because its
update was retried); updates or messages given up; errors logged; whether the pump and the
sender are still running. Target: everything delivered, nothing doubled beyond the lost
responses to sends, no crash.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import random
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from bench.common import Verdicts, bind_liaisons, database, import_seed, print_table
from bench.people import (
    ESCALATION_MARK,
    MARK,
    REMINDER_MARK,
    bot_messages_with,
    report_once,
)
from bot.config import Settings
from bot.domain.clock import ManualClock
from bot.domain.roles import Role
from bot.domain.workcal import WorkCalendar
from bot.emulator import Emulator, EmulatorRequest, FaultRule
from bot.emulator.faults import FaultKind
from bot.runtime.app import transient
from bot.runtime.run import BotRuntime
from bot.runtime.scheduling import run_planning
from db.engine import create_engine, make_sessionmaker
from db.models import Contact, InboxUpdate, Leader, OutboxMessage, Report

SHANGHAI = ZoneInfo("Asia/Shanghai")
IMPORTED = datetime(2026, 3, 1, 9, 0, tzinfo=SHANGHAI)
SPEED = 30.0  # simulated seconds per real second while a day's activity runs
STEP_TIMEOUT = 60.0
OFFICE_USER = 6_000_001
LEADER_USER = 6_100_001
OUR_LOGGERS = ("bot", "jobs", "handlers", "db")


@dataclass
class FaultsConfig:
    """How long and how hard."""

    start: date = date(2026, 3, 2)
    days: int = 31
    liaisons: int = 100
    reporters: int = 10
    rate: float = 0.10
    seed: int = 20260301


@dataclass
class FaultsResult:
    """What the month counted."""

    days: int = 0
    seconds: float = 0.0
    calls: int = 0
    faults: Counter[str] = field(default_factory=Counter)
    lost_sends: int = 0
    reminders: list[int] = field(default_factory=lambda: [0, 0, 0, 0])  # due, got, dup, lost
    escalations: list[int] = field(default_factory=lambda: [0, 0, 0, 0])
    reports_confirmed: int = 0
    reports_stored: int = 0
    reports_duplicated: int = 0
    reports_lost: int = 0
    repeated_replies: int = 0
    unanswered: int = 0
    unanswered_steps: list[str] = field(default_factory=list)
    given_up: list[str] = field(default_factory=list)
    failed_updates: int = 0
    failed_messages: int = 0
    other_messages: int = 0
    handler_errors: list[str] = field(default_factory=list)
    errors_logged: list[str] = field(default_factory=list)
    alive: bool = True

    @property
    def doubled(self) -> int:
        """Messages a person got twice."""
        return self.reminders[2] + self.escalations[2] + self.repeated_replies

    @property
    def delivered_all(self) -> bool:
        """Nothing lost, given up or unanswered."""
        return (
            self.reminders[3] == 0
            and self.escalations[3] == 0
            and self.reports_lost == 0
            and self.failed_updates == 0
            and self.failed_messages == 0
            and self.unanswered == 0
        )

    @property
    def ok(self) -> bool:
        """The three targets."""
        return (
            self.delivered_all
            and self.doubled <= self.lost_sends
            and self.reports_duplicated == 0
            and self.alive
            and not self.handler_errors
            and not self.errors_logged
        )


class ErrorLog(logging.Handler):
    """Keeps the bot's ERROR records (with the exception's repr) for the report."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Remember one record of the bot's own code (libraries log the faults themselves)."""
        if not record.name.startswith(OUR_LOGGERS):
            return
        detail = repr(record.exc_info[1]) if record.exc_info else ""
        self.records.append(f"{record.name}: {record.getMessage()} {detail}".strip())


def fault_rules(rate: float) -> list[FaultRule]:
    """Five kinds in equal parts of `rate`, as first-match rules with conditional draws."""
    parts: list[dict[str, Any]] = [
        {"kind": FaultKind.RETRY_AFTER, "retry_after": 0.5, "share": 0.25},
        {"kind": FaultKind.SERVER_ERROR, "status": 500, "share": 0.125},
        {"kind": FaultKind.SERVER_ERROR, "status": 502, "share": 0.125},
        {"kind": FaultKind.TIMEOUT, "hold": 0.3, "share": 0.25},
        {"kind": FaultKind.LOST, "share": 0.25},
    ]
    rules = []
    left = 1.0
    for part in parts:
        p = rate * part.pop("share")
        rules.append(FaultRule(rate=p / left, **part))
        left -= p
    return rules


async def bind_readers(url: str, now: datetime, emu: Emulator) -> list[int]:
    """One office contact and a contact for every leader; return their user ids."""
    engine = create_engine(url)
    users = [OFFICE_USER]
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            session.add(
                Contact(
                    tg_user_id=OFFICE_USER,
                    chat_id=OFFICE_USER,
                    name="督导办",
                    role=Role.OFFICE.value,
                    created_at=now,
                )
            )
            leaders = (await session.scalars(select(Leader).order_by(Leader.id))).all()
            for n, leader in enumerate(leaders):
                user_id = LEADER_USER + n
                users.append(user_id)
                session.add(
                    Contact(
                        tg_user_id=user_id,
                        chat_id=user_id,
                        name=leader.name,
                        role=Role.LEADER.value,
                        leader_id=leader.id,
                        created_at=now,
                    )
                )
    finally:
        await engine.dispose()
    for user_id in users:
        emu.create_user(f"读者{user_id}", user_id=user_id)
        emu.start_bot(user_id, send_command=False)
    return users


async def drained(url: str, emu: Emulator) -> bool:
    """Nothing pending in the outbox, the inbox or the emulator's update queue."""
    engine = create_engine(url)
    try:
        async with make_sessionmaker(engine)() as session:
            pending = await session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.status == "pending")
            )
            unhandled = await session.scalar(
                select(func.count()).select_from(InboxUpdate).where(InboxUpdate.status == "new")
            )
    finally:
        await engine.dispose()
    return not pending and not unhandled and not emu.pending


async def ticker(clock: ManualClock, stop: asyncio.Event) -> None:
    """Let simulated time run at SPEED while the day's activity goes on."""
    last = time.perf_counter()
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.05)
        now = time.perf_counter()
        clock.advance(timedelta(seconds=(now - last) * SPEED))
        last = now


async def run_faults(
    cfg: FaultsConfig, url: str, *, log: Any = print, progress: bool = True
) -> FaultsResult:
    """The simulated month; returns what was counted."""
    out = FaultsResult()
    rng = random.Random(cfg.seed)
    engine = create_engine(url)
    sessionmaker = make_sessionmaker(engine)
    await import_seed(sessionmaker, IMPORTED)
    bound = await bind_liaisons(sessionmaker, cfg.liaisons, IMPORTED)
    await engine.dispose()
    emu = Emulator(fault_seed=cfg.seed)
    for b in bound:
        emu.create_user(f"联络员{b.user_id}", user_id=b.user_id)
        emu.start_bot(b.user_id, send_command=False)
    readers = await bind_readers(url, IMPORTED, emu)
    # Each escalation as a message of its own: the run counts their delivery.
    settings = Settings(
        _env_file=None, bot_token=emu.token, database_url=url, escalation_messages=True
    )
    clock = ManualClock(datetime.combine(cfg.start, datetime.min.time(), SHANGHAI))
    runtime = BotRuntime(
        settings,
        clock=clock,
        request=EmulatorRequest(emu),
        updates_request=EmulatorRequest(emu),
        poll_timeout=1.0,
        run_jobs=False,
    )
    errors = ErrorLog()
    logging.getLogger().addHandler(errors)
    await runtime.start()
    assert runtime.application is not None and runtime.services is not None
    handler_errors: list[BaseException] = []

    async def record(update: object, context: Any) -> None:
        handler_errors.append(context.error)

    runtime.application.add_error_handler(record)
    emu.faults.configure(fault_rules(cfg.rate), seed=cfg.seed)
    confirmed: set[str] = set()
    calendar = WorkCalendar()
    t0 = time.perf_counter()
    try:
        for n in range(cfg.days):
            day = cfg.start + timedelta(days=n)
            clock.set(datetime(day.year, day.month, day.day, 9, 5, tzinfo=SHANGHAI))
            stop = asyncio.Event()
            tick = asyncio.create_task(ticker(clock, stop))
            try:
                await run_planning(runtime.services, runtime.sender)
                if calendar.is_workday(day):
                    chosen = rng.sample(bound, min(cfg.reporters, len(bound)))
                    await asyncio.gather(
                        *(
                            _report(emu, b.user_id, f"R{n:02d}-{i:03d}", rng, confirmed, out)
                            for i, b in enumerate(chosen)
                        )
                    )
                deadline = time.perf_counter() + 600
                while not await drained(url, emu):
                    if time.perf_counter() > deadline:
                        raise TimeoutError(f"{day}: the day's work did not drain")
                    await asyncio.sleep(0.2)
            finally:
                stop.set()
                await tick
            out.days += 1
            if progress and (n + 1) % 7 == 0:
                log(f"  day {n + 1}: {emu.faults.total()} faults so far")
        out.alive = all(not task.done() for task in runtime._tasks)
    finally:
        out.seconds = time.perf_counter() - t0
        emu.faults.clear()
        await runtime.stop()
        logging.getLogger().removeHandler(errors)
    out.handler_errors = [repr(e) for e in handler_errors if not transient(e)]
    out.errors_logged = errors.records
    await _count(emu, url, bound, readers, confirmed, out)
    return out


async def _report(
    emu: Emulator,
    user_id: int,
    mark: str,
    rng: random.Random,
    confirmed: set[str],
    out: FaultsResult,
) -> None:
    try:
        await report_once(emu, user_id, mark, rng, STEP_TIMEOUT)
        confirmed.add(mark)
    except TimeoutError as exc:
        out.unanswered += 1
        tail = [
            f"{'bot' if m.from_bot else 'user'} #{m.message_id}: {(m.content.text or '')[:60]!r}"
            for m in list(emu.chats[user_id].messages.values())[-6:]
        ]
        out.unanswered_steps.append(f"{exc}; the chat ends with: " + " | ".join(tail))


def _tally(due: int, got: int, into: list[int]) -> None:
    into[0] += due
    into[1] += min(got, due)
    into[2] += max(0, got - due)
    into[3] += max(0, due - got)


async def _count(
    emu: Emulator,
    url: str,
    bound: list[Any],
    readers: list[int],
    confirmed: set[str],
    out: FaultsResult,
) -> None:
    stats = emu.stats
    out.calls = sum(stats.calls.values())
    for (method, kind), n in emu.faults.counts.items():
        out.faults[kind] += n
        if kind == FaultKind.LOST and method in ("sendMessage", "sendDocument"):
            out.lost_sends += n
    engine = create_engine(url)
    try:
        async with make_sessionmaker(engine)() as session:
            rows = (
                await session.execute(
                    select(OutboxMessage.chat_id, OutboxMessage.kind, OutboxMessage.status)
                )
            ).all()
            texts = (await session.scalars(select(Report.text))).all()
            given_up = (
                await session.execute(
                    select(InboxUpdate.update_id, InboxUpdate.attempts, InboxUpdate.error).where(
                        InboxUpdate.status == "failed"
                    )
                )
            ).all()
            out.failed_updates = len(given_up)
            out.given_up = [f"update {u} after {a} attempts: {e}" for u, a, e in given_up]
    finally:
        await engine.dispose()
    due: Counter[tuple[int, str]] = Counter()
    for chat_id, kind, status in rows:
        if status == "failed":
            out.failed_messages += 1
        if status != "cancelled":
            due[(int(chat_id), str(kind))] += 1
        if kind not in ("reminder", "escalation"):
            out.other_messages += 1
    for b in bound:
        _tally(
            due[(b.user_id, "reminder")],
            bot_messages_with(emu, b.user_id, REMINDER_MARK),
            out.reminders,
        )
    for user_id in readers:
        _tally(
            due[(user_id, "escalation")],
            bot_messages_with(emu, user_id, ESCALATION_MARK),
            out.escalations,
        )
    marks: Counter[str] = Counter()
    for text in texts:
        found = MARK.search(text)
        if found:
            marks[found.group(1)] += 1
    out.reports_confirmed = len(confirmed)
    out.reports_stored = sum(1 for m in confirmed if marks[m] > 0)
    out.reports_lost = sum(1 for m in confirmed if marks[m] == 0)
    out.reports_duplicated = sum(n - 1 for n in marks.values() if n > 1)
    for b in bound:
        previous: str | None = None
        for message in emu.chats[b.user_id].messages.values():
            if not message.from_bot:
                previous = None
                continue
            first = message.edits[0] if message.edits else message.content
            if REMINDER_MARK in (first.text or ""):
                continue  # counted with the reminders
            if first.source is not None and first.source == previous:
                out.repeated_replies += 1
            previous = first.source


def print_result(cfg: FaultsConfig, db: str, r: FaultsResult) -> int:
    """The tables and the verdicts; the exit code."""
    faults = ", ".join(f"{k} {n}" for k, n in sorted(r.faults.items()))
    total = sum(r.faults.values())
    print_table(
        f"Faults suite — {r.days} simulated days from {cfg.start}, {cfg.liaisons} liaisons "
        f"+ office + leaders, {db}, {r.seconds:.0f} s; {r.calls:,} Bot API calls, "
        f"{total:,} faults ({total / max(r.calls, 1) * 100:.1f}%: {faults})",
        ["what", "due / confirmed", "delivered / stored", "duplicated", "lost"],
        [
            ["reminders", *r.reminders],
            ["escalations", *r.escalations],
            [
                "reports",
                r.reports_confirmed,
                r.reports_stored,
                r.reports_duplicated,
                r.reports_lost,
            ],
            ["repeated replies", "-", "-", r.repeated_replies, "-"],
        ],
    )
    print(
        f"  lost responses to sends: {r.lost_sends}; updates given up: {r.failed_updates}; "
        f"messages given up: {r.failed_messages}; steps unanswered: {r.unanswered}; "
        f"other outbox messages: {r.other_messages}; errors logged: {len(r.errors_logged)}"
    )
    for line in sorted(set(r.errors_logged))[:10]:
        print(f"  logged: {line[:200]}")
    for line in r.handler_errors[:10]:
        print(f"  handler error: {line[:200]}")
    for line in r.unanswered_steps[:10]:
        print(f"  unanswered: {line}")
    for line in r.given_up[:10]:
        print(f"  given up: {line[:300]}")
    verdicts = Verdicts()
    verdicts.check(
        "everything delivered",
        r.delivered_all,
        f"lost {r.reminders[3] + r.escalations[3] + r.reports_lost}, given up "
        f"{r.failed_updates + r.failed_messages}, unanswered {r.unanswered}",
    )
    verdicts.check(
        "nothing doubled beyond the lost responses",
        r.doubled <= r.lost_sends and r.reports_duplicated == 0,
        f"{r.doubled} doubled messages, {r.reports_duplicated} doubled reports, "
        f"{r.lost_sends} lost responses to sends",
    )
    verdicts.check(
        "no crash",
        r.alive and not r.handler_errors and not r.errors_logged,
        f"pump and sender running: {r.alive}; non-transient handler errors: "
        f"{len(r.handler_errors)}; errors logged by the bot: {len(r.errors_logged)}",
    )
    return verdicts.print()


async def main_async(args: argparse.Namespace) -> int:
    """Command line body."""
    cfg = FaultsConfig(
        days=args.days,
        liaisons=args.liaisons,
        reporters=args.reporters,
        rate=args.rate,
        seed=args.seed,
    )
    with tempfile.TemporaryDirectory(prefix="bench-faults-") as tmp:
        async with database(args.db, Path(tmp), "faults") as url:
            result = await run_faults(cfg, url)
    return print_result(cfg, args.db, result)


def main() -> int:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=31)
    parser.add_argument("--liaisons", type=int, default=100)
    parser.add_argument("--reporters", type=int, default=10)
    parser.add_argument("--rate", type=float, default=0.10)
    parser.add_argument("--seed", type=int, default=FaultsConfig.seed)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
