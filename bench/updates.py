"""Benchmark 1: the real bot's update handling against a bare python-telegram-bot echo bot.

`python -m bench.updates [--reports 1000] [--liaisons 100] [--db sqlite|postgresql]`

Both bots run as their own processes, one after the other, against the same HTTP emulator in
this process (the simulated people live here too), so each bot has a core to itself as it would
in production. The real bot is `python -m bot run` on a database with the 88-task register
and 100 liaisons bound directly in the database.

One report is the whole conversation a liaison has: `/report` → the task picker, a press on a
task → the prompt, the progress text → the confirmation card (permission check, parsing, a
committed draft), the press on 确认提交 → "已提交" (the committed report). That is four updates;
the echo bot gets four texts per "report", so both are compared per update handled.

Latency is measured inside the emulator: from the moment the person's message (or press) is
created to the moment the bot's answer (new message or edit) is stored — the time a person
waits, without the simulated person's own overhead. Two loads:
- burst: all liaisons at once, each starting the next step as soon as the answer arrives;
  gives the throughput (updates/s) and the latency under full load (mostly queueing);
- paced: conversations start at a fixed rate below every bot's capacity (20 updates/s); gives
  the latency a person sees when the bot is not saturated.

The deployed bot answers through its reply rate limiter (`bot.runtime.app.reply_rate_limiter`:
python-telegram-bot's AIORateLimiter with its 20 a minute per group and its 429 handling,
without the overall 30 messages/s cap: that is Telegram's limit for bulk notifications, which
only the outbox sends, paced by jobs.sender; on answers it made this benchmark measure the cap
rather than the handling). The echo bot has no limiter; a third row runs our bot without any
(`bench.uncapped_bot`), to show what the limiter costs here.

Like with like: both bots long-poll with python-telegram-bot and answer each update in turn.
The echo bot does nothing else; ours does what a report needs — the update stored in the
inbox before it is acknowledged, the role check, the parse, a committed transaction per
update, and answerCallbackQuery as well as the edit for each button press (1.5 Bot API
calls per update against the echo's 1). That difference is the handling cost measured.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psutil  # type: ignore[import-untyped]
from sqlalchemy import func, select

from bench.common import (
    BotProcess,
    Verdicts,
    bind_liaisons,
    database,
    fmt,
    import_seed,
    percentile,
    print_table,
)
from bot.config import Settings
from bot.domain.clock import SystemClock
from bot.emulator import Emulator, EmulatorServer
from bot.emulator.state import StoredMessage
from db.engine import create_engine, make_sessionmaker
from db.models import InboxUpdate, Report

STEP_TIMEOUT = 120.0
PACED_UPDATES_PER_SECOND = 20.0
TEMPLATES = (
    "已完成投资{a}亿元，预计{m}月底前完成竣工验收，用地指标需协调",
    "完成{p}%，无困难",
    "本月完成年度目标的{p}%，下一步加快推进，预计{m}月中旬完成",
    "新开工项目{n}个，完成投资{a}亿元，资金缺口较大需市里协调",
    "已完成{p}%，按序时推进",
)


def report_text(rng: random.Random) -> str:
    """A plausible progress reply."""
    return rng.choice(TEMPLATES).format(
        a=rng.randint(1, 500), m=rng.randint(1, 12), p=rng.randint(1, 99), n=rng.randint(1, 30)
    )


class TimedEmulator(Emulator):
    """The emulator, stamping (perf_counter) the moment a watched chat shows the bot's answer."""

    def __init__(self) -> None:
        super().__init__()
        self.watches: dict[int, tuple[Callable[[], bool], asyncio.Future[float]]] = {}

    def touch(self) -> None:
        """Every visible change: resolve the watches whose condition now holds."""
        super().touch()
        if not self.watches:
            return
        now = time.perf_counter()
        for chat_id in [c for c, (cond, _) in self.watches.items() if cond()]:
            _, future = self.watches.pop(chat_id)
            if not future.done():
                future.set_result(now)

    def watch(self, chat_id: int, condition: Callable[[], bool]) -> asyncio.Future[float]:
        """A future resolved with the time `condition` first holds after a change in any chat."""
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.watches[chat_id] = (condition, future)
        return future


class Person:
    """A simulated person acting in-process on the emulator, timing each answer."""

    def __init__(self, emu: TimedEmulator, user_id: int) -> None:
        self.emu = emu
        self.user_id = user_id
        self.chat = emu.chats[user_id]

    async def say(self, text: str) -> tuple[float, StoredMessage]:
        """Write `text`; wait for the bot's next message; return the wait and the message."""
        t0 = time.perf_counter()
        sent = self.emu.user_sends(self.user_id, text)
        after = sent.message_id
        chat = self.chat

        def answered() -> bool:
            last = chat.messages.get(chat.next_message_id - 1)
            return last is not None and last.message_id > after and last.from_bot

        t1 = await asyncio.wait_for(self.emu.watch(self.user_id, answered), STEP_TIMEOUT)
        return t1 - t0, chat.messages[after + 1]

    async def press(self, message: StoredMessage, data: str) -> float:
        """Press a button of `message`; wait until the bot edits the message."""
        before = len(message.edits)
        t0 = time.perf_counter()
        self.emu.press_button(self.user_id, message.message_id, data=data)
        t1 = await asyncio.wait_for(
            self.emu.watch(self.user_id, lambda: len(message.edits) > before), STEP_TIMEOUT
        )
        return t1 - t0


def button(message: StoredMessage, prefix: str) -> str:
    """The callback data of the first button whose data starts with `prefix`."""
    markup = message.content.reply_markup or {}
    for row in markup.get("inline_keyboard", []):
        for b in row:
            data = b.get("callback_data") or ""
            if data.startswith(prefix):
                return str(data)
    raise AssertionError(f"no {prefix!r} button on: {message.content.text!r}")


Samples = list[tuple[str, float]]
Conversation = Callable[[Person, random.Random], Awaitable[Samples]]


async def duban_report(person: Person, rng: random.Random) -> Samples:
    """One report through the real bot: /report, pick, text → card, confirm."""
    l1, picker = await person.say("/report")
    l2 = await person.press(picker, button(picker, "rt:"))
    l3, card = await person.say(report_text(rng))
    if "进展报送确认" not in (card.content.text or ""):
        raise AssertionError(f"expected the confirmation card, got {card.content.text!r}")
    l4 = await person.press(card, button(card, "rc:"))
    if not (card.content.text or "").startswith("已提交"):
        raise AssertionError(f"expected the stored note, got {card.content.text!r}")
    return [("/report → picker", l1), ("pick → prompt", l2), ("text → card", l3), ("confirm", l4)]


async def echo_report(person: Person, rng: random.Random) -> Samples:
    """Four texts to the echo bot (as many updates as one report)."""
    out: Samples = []
    for _ in range(4):
        text = report_text(rng)
        latency, reply = await person.say(text)
        if reply.content.text != text:
            raise AssertionError(f"echo answered {reply.content.text!r} to {text!r}")
        out.append(("echo", latency))
    return out


@dataclass
class Run:
    """One measured load on one bot."""

    bot: str
    load: str
    samples: Samples = field(default_factory=list)
    elapsed: float = 0.0
    cpu: float = 0.0  # seconds of the bot process's CPU
    emulator_cpu: float = 0.0  # seconds of this process's CPU (the emulator, the people)
    server_cpu: float = 0.0  # seconds of the PostgreSQL server's CPU (its local processes)
    reports: int = 0

    @property
    def updates(self) -> int:
        """Updates handled."""
        return len(self.samples)

    def latencies(self, step: str | None = None) -> list[float]:
        """Latencies in ms (of one step, or all)."""
        return [s * 1000 for name, s in self.samples if step is None or name == step]

    @property
    def rate(self) -> float:
        """Updates per second."""
        return self.updates / self.elapsed if self.elapsed else 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


def server_cpu_seconds() -> float:
    """CPU time so far of this machine's PostgreSQL processes (0 where none are visible)."""
    total = 0.0
    for proc in psutil.process_iter(["name"]):
        if (proc.info["name"] or "").startswith("postgres"):
            with contextlib.suppress(psutil.Error):
                times = proc.cpu_times()
                total += times.user + times.system
    return total


@contextlib.contextmanager
def measured(run: Run, pid: int) -> Iterator[None]:
    """Time a load and the CPU it costs the bot, this process and the database server."""
    cpu0, here0, server0 = cpu_seconds(pid), cpu_seconds(os.getpid()), server_cpu_seconds()
    t0 = time.perf_counter()
    yield
    run.elapsed = time.perf_counter() - t0
    run.cpu = cpu_seconds(pid) - cpu0
    run.emulator_cpu = cpu_seconds(os.getpid()) - here0
    run.server_cpu = server_cpu_seconds() - server0


async def burst(
    people: list[Person], reports: int, conversation: Conversation, run: Run, pid: int
) -> None:
    """Every person at once, each going on as soon as the answer arrives."""
    share = [
        reports // len(people) + (1 if i < reports % len(people) else 0) for i in range(len(people))
    ]

    async def one(person: Person, count: int, seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(count):
            run.samples.extend(await conversation(person, rng))
            run.reports += 1

    with measured(run, pid):
        await asyncio.gather(
            *(one(p, n, i) for i, (p, n) in enumerate(zip(people, share, strict=True)))
        )


async def paced(
    people: list[Person], reports: int, conversation: Conversation, run: Run, pid: int
) -> None:
    """Conversations started at a fixed rate (open loop), round robin over the people."""
    interval = 4 / PACED_UPDATES_PER_SECOND
    busy = {p.user_id: asyncio.Lock() for p in people}
    rng = random.Random(7)

    async def one(person: Person) -> None:
        async with busy[person.user_id]:
            run.samples.extend(await conversation(person, rng))
            run.reports += 1

    with measured(run, pid):
        t0 = time.perf_counter()
        tasks = []
        for n in range(reports):
            delay = t0 + n * interval - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(people[n % len(people)])))
        await asyncio.gather(*tasks)


async def count_reports(url: str) -> int:
    """Reports stored in a bot's database."""
    engine = create_engine(url)
    try:
        async with make_sessionmaker(engine)() as session:
            return int(await session.scalar(select(func.count()).select_from(Report)) or 0)
    finally:
        await engine.dispose()


async def unhandled_updates(url: str) -> int:
    """Updates a bot stored in its inbox but did not finish handling."""
    engine = create_engine(url)
    try:
        async with make_sessionmaker(engine)() as session:
            query = (
                select(func.count()).select_from(InboxUpdate).where(InboxUpdate.status != "done")
            )
            return int(await session.scalar(query) or 0)
    finally:
        await engine.dispose()


@dataclass
class BotUnderTest:
    """One bot variant: the module to run and the conversation it is driven with."""

    name: str
    module: str
    args: tuple[str, ...]
    conversation: Conversation
    real: bool


async def measure(
    variant: BotUnderTest,
    server: EmulatorServer,
    emu: TimedEmulator,
    people: list[Person],
    args: argparse.Namespace,
    workdir: Path,
) -> tuple[Run, Run, str]:
    """Warm up, then the burst and the paced load, on a fresh database."""
    settings = Settings(_env_file=None)
    now = SystemClock(settings.tz).now()
    async with database(args.db, workdir, variant.name.replace("-", "_")) as url:
        engine = create_engine(url)
        sessionmaker = make_sessionmaker(engine)
        await import_seed(sessionmaker, now)
        await bind_liaisons(sessionmaker, len(people), now)
        await engine.dispose()
        proc = BotProcess(
            variant.module,
            args=variant.args,
            token=server.token,
            base_url=server.url,
            workdir=workdir,
            polls=lambda: emu.stats.calls.get("getUpdates", 0),
            env={"DATABASE_URL": url},
        )
        await proc.start()
        try:
            warm = Run(variant.name, "warm-up")
            await burst(people, len(people), variant.conversation, warm, proc.pid)
            hot = Run(variant.name, "burst")
            await burst(people, args.reports, variant.conversation, hot, proc.pid)
            calm = Run(variant.name, f"paced {PACED_UPDATES_PER_SECOND:g}/s")
            await paced(people, args.paced_reports, variant.conversation, calm, proc.pid)
        finally:
            await proc.stop()
            emu.pending.clear()  # the last batch a stopped bot did not acknowledge
        stored = ""
        if variant.real:
            expected = warm.reports + hot.reports + calm.reports
            found = await count_reports(url)
            stored = f"{found}/{expected}"
            unhandled = await unhandled_updates(url)
            if unhandled:
                raise AssertionError(f"{variant.name}: {unhandled} updates left unhandled at stop")
            if found != expected:
                raise AssertionError(
                    f"{variant.name}: {found} reports stored, {expected} confirmed"
                )
    return hot, calm, stored


def run_row(run: Run, stored: str = "") -> list[object]:
    """A table row for one run."""
    lat = run.latencies()
    return [
        run.bot,
        run.load,
        fmt(run.updates),
        fmt(run.elapsed, 1),
        fmt(run.rate, 1),
        fmt(percentile(lat, 50), 1),
        fmt(percentile(lat, 99), 1),
        fmt(run.cpu * 1000 / run.updates if run.updates else 0.0, 2),
        fmt(run.emulator_cpu * 1000 / run.updates if run.updates else 0.0, 2),
        fmt(run.server_cpu * 1000 / run.updates if run.updates else 0.0, 2),
        stored,
    ]


async def main_async(args: argparse.Namespace) -> int:
    """Run every bot variant and print the tables and verdicts."""
    variants = [
        BotUnderTest("echo", "bench.echo_bot", (), echo_report, False),
        BotUnderTest("duban", "bot", ("run",), duban_report, True),
        BotUnderTest("duban-uncapped", "bench.uncapped_bot", (), duban_report, True),
    ]
    emu = TimedEmulator()
    results: dict[str, tuple[Run, Run, str]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-updates-") as tmp:
        async with EmulatorServer(emu) as server:
            people = []
            for n in range(args.liaisons):
                user_id = 7_000_001 + n
                emu.create_user(f"联络员{n + 1}", user_id=user_id)
                emu.start_bot(user_id, send_command=False)
                people.append(Person(emu, user_id))
            for variant in variants:
                print(f"running {variant.name} ...", file=sys.stderr, flush=True)
                results[variant.name] = await measure(variant, server, emu, people, args, Path(tmp))
    headers = [
        "bot",
        "load",
        "updates",
        "s",
        "updates/s",
        "p50 ms",
        "p99 ms",
        "bot CPU ms/upd",
        "emulator ms/upd",
        "DB server ms/upd",
        "stored",
    ]
    rows = []
    for hot, calm, stored in results.values():
        rows.append(run_row(hot, stored))
        rows.append(run_row(calm))
    print_table(
        f"Benchmark 1 — update handling: {args.reports:,} reports ({args.reports * 4:,} updates) "
        f"from {args.liaisons} liaisons, {args.db}; 'stored' = reports in the DB / confirmed",
        headers,
        rows,
    )
    for name in ("duban", "duban-uncapped"):
        hot, _, _ = results[name]
        print_table(
            f"{name}, burst, per step",
            ["step", "p50 ms", "p99 ms"],
            [
                [
                    step,
                    fmt(percentile(hot.latencies(step), 50)),
                    fmt(percentile(hot.latencies(step), 99)),
                ]
                for step in ("/report → picker", "pick → prompt", "text → card", "confirm")
            ],
        )
    echo_hot, echo_calm, _ = results["echo"]
    verdicts = Verdicts()
    ratio_rows = []
    for name in ("duban", "duban-uncapped"):
        hot, calm, _ = results[name]
        tput = hot.rate / echo_hot.rate
        p99_hot = percentile(hot.latencies(), 99) / percentile(echo_hot.latencies(), 99)
        p99_calm = percentile(calm.latencies(), 99) / percentile(echo_calm.latencies(), 99)
        ratio_rows.append([name, f"{tput:.2f}x", f"{p99_hot:.2f}x", f"{p99_calm:.2f}x"])
        verdicts.check(f"{name}: throughput >= 0.5x echo (burst)", tput >= 0.5, f"{tput:.2f}x")
        verdicts.check(f"{name}: p99 <= 3x echo (burst)", p99_hot <= 3, f"{p99_hot:.2f}x")
        verdicts.check(f"{name}: p99 <= 3x echo (paced)", p99_calm <= 3, f"{p99_calm:.2f}x")
    print_table(
        "Ratios to the echo bot",
        ["bot", "throughput", "p99 burst", "p99 paced"],
        ratio_rows,
    )
    return verdicts.print()


def main() -> int:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=1000, help="reports in the burst")
    parser.add_argument("--paced-reports", type=int, default=200, help="reports in the paced load")
    parser.add_argument("--liaisons", type=int, default=100)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
