"""Benchmark: one stranger (or ten, or a bound liaison) flooding the bot must not slow anyone else.

`python -m bench.fairness [--db sqlite|postgresql] [--reports 60] [--flood-rate 20]`

The real bot (`python -m bot run`) runs as its own process against the HTTP emulator in this
process, which enforces Telegram's limits (30 messages/s overall, about one a second per chat),
with 20 liaisons bound. The liaisons report at a steady pace (the paced load of
bench.updates: conversations started at a fixed rate, well below the bot's capacity), and
their latency is measured in the emulator as there: from the person's message or press to the
bot's answer. Four runs, each on the same bot:

- no flood (the baseline);
- one stranger sending `--flood-rate` messages a second for the whole run;
- ten strangers, each at a tenth of that rate, and a bound liaison sending free text at the same
  total rate;
and for each the liaisons' p50 and p99 against the baseline, and the database's growth per
flood message: how much more the database grew than in the run without a flood (SQLite's pages
in use, or pg_database_size on PostgreSQL), per flood message.

Targets (issue 19): the liaisons' p99 with a flood at most 2x their p99 without; growth
bounded (printed per message; the retention job removes handled updates after KEEP_INBOX_DAYS).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sqlite3
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import asyncpg

from bench.common import (
    BotProcess,
    Verdicts,
    asyncpg_dsn,
    bind_liaisons,
    database,
    fmt,
    import_seed,
    percentile,
    print_table,
)
from bench.updates import (
    PACED_UPDATES_PER_SECOND,
    Person,
    Run,
    TimedEmulator,
    duban_report,
    paced,
)
from bot.config import Settings
from bot.domain.clock import SystemClock
from bot.emulator import EmulatorServer
from bot.emulator.limits import RateLimitConfig
from db.engine import create_engine, make_sessionmaker

LIAISONS = 20
STRANGERS = 10
FLOOD_TEXT = "在吗？在吗？请回复"


def _sqlite_live_bytes(path: str) -> int:
    """The pages a SQLite database uses (its WAL written back first; free pages not counted)."""
    with contextlib.closing(sqlite3.connect(path, timeout=10)) as conn:
        conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        free = conn.execute("PRAGMA freelist_count").fetchone()[0]
        size = conn.execute("PRAGMA page_size").fetchone()[0]
    return int((pages - free) * size)


async def db_bytes(url: str) -> int:
    """The data the database holds now (SQLite's pages in use, or pg_database_size)."""
    if url.startswith("sqlite"):
        return await asyncio.to_thread(_sqlite_live_bytes, url.split("///", 1)[1])
    conn = await asyncpg.connect(asyncpg_dsn(url), timeout=5)
    try:
        return int(await conn.fetchval("SELECT pg_database_size(current_database())"))
    finally:
        await conn.close()


async def flood(
    emu: TimedEmulator, senders: Sequence[int], rate: float, stop: asyncio.Event
) -> int:
    """Messages from `senders` in turn at `rate` a second in all, until `stop`; how many."""
    sent = 0
    t0 = time.perf_counter()
    while not stop.is_set():
        emu.user_sends(senders[sent % len(senders)], f"{FLOOD_TEXT}{sent}")
        sent += 1
        delay = t0 + sent / rate - time.perf_counter()
        if delay > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
    return sent


async def main_async(args: argparse.Namespace) -> int:
    """Run the four loads and print the table and verdicts."""
    emu = TimedEmulator()
    # Telegram's limits as they are (30 messages/s overall, about one a second per chat): an
    # answer to a flooder beyond them costs a 429 and its wait.
    emu.limiter.configure(RateLimitConfig(enabled=True))
    settings = Settings(_env_file=None)
    now = SystemClock(settings.tz).now()
    rows = []
    runs: dict[str, tuple[Run, int, float]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-fairness-") as tmp:
        async with EmulatorServer(emu) as server, database(args.db, Path(tmp), "fairness") as url:
            engine = create_engine(url)
            sessionmaker = make_sessionmaker(engine)
            await import_seed(sessionmaker, now)
            bound = await bind_liaisons(sessionmaker, LIAISONS + 1, now)
            await engine.dispose()
            people = []
            for b in bound:
                emu.create_user(f"联络员{b.user_id}", user_id=b.user_id)
                emu.start_bot(b.user_id, send_command=False)
                people.append(Person(emu, b.user_id))
            loud_liaison, people = people[-1].user_id, people[:-1]
            strangers = []
            for n in range(STRANGERS):
                user_id = 8_100_001 + n
                emu.create_user(f"陌生人{n + 1}", user_id=user_id)
                emu.start_bot(user_id, send_command=False)
                strangers.append(user_id)
            proc = BotProcess(
                "bot",
                args=("run",),
                token=server.token,
                base_url=server.url,
                workdir=Path(tmp),
                polls=lambda: emu.stats.calls.get("getUpdates", 0),
                env={"DATABASE_URL": url},
            )
            await proc.start()
            try:
                warm = Run("warm-up", "paced")
                await paced(people, LIAISONS, duban_report, warm, proc.pid)
                loads: list[tuple[str, Sequence[int]]] = [
                    ("no flood", ()),
                    ("1 stranger", strangers[:1]),
                    ("10 strangers", strangers),
                    ("10 strangers + a liaison", [*strangers, loud_liaison]),
                ]
                for name, senders in loads:
                    print(f"running {name} ...", file=sys.stderr, flush=True)
                    run = Run(name, "paced")
                    size0 = await db_bytes(url)
                    stop = asyncio.Event()
                    flooding = (
                        asyncio.create_task(flood(emu, senders, args.flood_rate, stop))
                        if senders
                        else None
                    )
                    await paced(people, args.reports, duban_report, run, proc.pid)
                    stop.set()
                    sent = await flooding if flooding is not None else 0
                    await asyncio.sleep(2.0)  # what the bot still has to handle of the flood
                    # The liaisons' own reports grow the database as much in every run: what
                    # a run grew beyond the run without a flood is the flood's.
                    grown = await db_bytes(url) - size0
                    quiet = runs["no flood"][2] if "no flood" in runs else grown
                    runs[name] = (run, sent, (grown - quiet) / sent if sent else grown)
            finally:
                await proc.stop()
    base = runs["no flood"][0]
    base_p99 = percentile(base.latencies(), 99)
    verdicts = Verdicts()
    for name, (run, sent, growth) in runs.items():
        growth = growth if sent else 0.0
        lat = run.latencies()
        p99 = percentile(lat, 99)
        rows.append(
            [
                name,
                fmt(sent),
                fmt(run.updates),
                fmt(percentile(lat, 50), 1),
                fmt(p99, 1),
                f"{p99 / base_p99:.2f}x",
                fmt(growth, 0),
            ]
        )
        if sent:
            verdicts.check(
                f"{name}: liaisons' p99 <= 2x without a flood", p99 <= 2 * base_p99,
                f"{p99:.1f} ms vs {base_p99:.1f} ms ({p99 / base_p99:.2f}x)",
            )  # fmt: skip
    print_table(
        f"Fairness — {LIAISONS} liaisons reporting ({args.reports} reports a run at "
        f"{PACED_UPDATES_PER_SECOND:g} updates/s) while others flood at {args.flood_rate:g} "
        f"messages/s, {args.db}",
        ["load", "flood msgs", "updates", "p50 ms", "p99 ms", "p99 vs none", "DB bytes/flood msg"],
        rows,
    )
    return verdicts.print()


def main() -> int:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=60, help="liaison reports per run")
    parser.add_argument("--flood-rate", type=float, default=20.0, help="flood messages a second")
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
