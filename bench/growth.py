"""Benchmark 3: /overdue, a task card, a leader summary and the Excel export as the data grows.

`python -m bench.growth [--db sqlite,postgresql] [--runs 15]`

Data sets (bench.datagen): the real register (88 tasks, a year of reports) and a generated
one (10,000 tasks, 1,000 units) with 10,000 and with 1,000,000 reports, on SQLite and on
PostgreSQL; the clock at 2026-11-20 10:00. The two generated sets differ only in history
(same tasks, same reports in the chased and the open cycle), so latency growth between them
is the cost of volume: indexes, not scans.

Each operation does what its handler in handlers/office.py does, minus Telegram: the queries
of db/views/ in one session, the assembly of bot/domain/, and the reply text of
bot/texts (or, for the export, the .xlsx bytes of bot/services/workbook.py):
- /overdue: the office's first page (every overdue task and unit counted, 15 rows shown);
- task card: /task N for a different task each run;
- leader summary: /summary for a supervising leader (the daily digest's content);
- export: the whole ledger as .xlsx.
Latency is the median (p50) and the slowest (max) of `--runs` runs after one warm-up run.
As in the running bot, the register's tasks are kept in memory between requests
(db.register_cache, checked against the register's version on each request); the warm-up
run reads them, and its time is printed as "first run".
Targets: p50 under 100 ms at 1,000,000 reports for all but the export; p50 at 1,000,000 at
most 2x p50 at 10,000 for every operation.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.common import Verdicts, database, print_table
from bench.datagen import NOW, YEAR, Generated, real_register, synthetic
from bot import texts
from bot.config import Settings
from bot.domain.cards import build_card
from bot.domain.overdue import ALL
from bot.domain.summaries import SummaryBuilder, previous_summary
from bot.domain.workcal import WorkCalendar
from bot.runtime.run import tune_collector
from bot.services.export import export_ledger
from db import views
from db.engine import create_engine, make_sessionmaker
from db.models import Leader, Task, TaskLeader
from db.register_cache import RegisterCache

OPERATIONS = ("/overdue", "task card", "leader summary", "export")
TARGET_MS = 100.0
GROWTH = 2.0


@dataclass
class Context:
    """What the handlers get from the runtime."""

    sessionmaker: async_sessionmaker[AsyncSession]
    settings: Settings
    calendar: WorkCalendar
    task_nos: list[int]
    leader_id: int
    leader_name: str
    turn: int = 0
    register: RegisterCache = field(default_factory=RegisterCache)

    async def kept(self, session: AsyncSession) -> RegisterCache:
        """The register kept in memory, checked once per request as the handlers do."""
        await self.register.validate(session)
        return self.register


async def overdue_page(ctx: Context) -> int:
    """handlers.office._show_overdue for the office, first page, no filter."""
    async with ctx.sessionmaker() as session:
        scope = views.Scope(YEAR)
        found = await views.overdue_page(
            session,
            scope=scope,
            flt=ALL,
            page=0,
            per_page=texts.OVERDUE_PAGE_ROWS,
            now=NOW,
            settings=ctx.settings,
            calendar=ctx.calendar,
            register=await ctx.kept(session),
        )
        nudged = await views.nudged_since(session, scope, views.day_start(NOW, ctx.settings))
        text = texts.overdue_page(
            found.rows,
            found.groups,
            label=ALL.label,
            own=False,
            total=found.total,
            units=found.units,
            page=found.page + 1,
            pages=found.pages,
            as_of=NOW.astimezone(ctx.settings.tz),
            continued=found.continued,
            nudged={k: v.astimezone(ctx.settings.tz) for k, v in nudged.items()},
            year=YEAR,
        )
    return len(text)


async def task_card(ctx: Context) -> int:
    """handlers.office.cmd_task → _show_card, a different task each time."""
    no = ctx.task_nos[ctx.turn % len(ctx.task_nos)]
    ctx.turn += 1
    async with ctx.sessionmaker() as session:
        task_id = await views.task_id_by_no(session, YEAR, no)
        assert task_id is not None
        year = await views.task_year(session, task_id)
        assert year is not None
        scope = views.Scope(year, task_id=task_id)
        found = await views.boards(
            session,
            scope=scope,
            now=NOW,
            settings=ctx.settings,
            calendar=ctx.calendar,
            register=await ctx.kept(session),
        )
        nudged = await views.nudged_since(session, scope, views.day_start(NOW, ctx.settings))
        card = build_card(
            found.boards[0],
            found.statuses[task_id],
            found.book,
            await views.report_count(session, task_id),
            (unit for _, unit in nudged),
        )
        text = texts.task_card(card, ctx.settings.tz)
    return len(text)


async def leader_summary(ctx: Context) -> int:
    """handlers.office.cmd_summary for one supervising leader."""
    since = previous_summary(NOW, ctx.settings, ctx.calendar)
    async with ctx.sessionmaker() as session:
        scope = views.Scope(YEAR, leader_ids=(ctx.leader_id,))
        builder = SummaryBuilder(leader=ctx.leader_name, now=NOW, since=since, tz=ctx.settings.tz)
        async for found in views.board_chunks(
            session,
            scope=scope,
            now=NOW,
            settings=ctx.settings,
            calendar=ctx.calendar,
            details=False,
            register=await ctx.kept(session),
        ):
            builder.add(found.boards, found.statuses)
        reports = await views.reports_between(session, scope, since, NOW, limit=5000)
        summary = builder.build(reports)
        text = texts.summary_text(summary, ctx.settings.tz, limit=ctx.settings.summary_items)
    return len(text)


async def export(ctx: Context) -> int:
    """handlers.office.cmd_export: the ledger as .xlsx bytes."""
    async with ctx.sessionmaker() as session:
        ledger = await export_ledger(session, now=NOW, settings=ctx.settings, calendar=ctx.calendar)
    assert ledger is not None
    return len(ledger.data)


RUNNERS: dict[str, Callable[[Context], Awaitable[int]]] = {
    "/overdue": overdue_page,
    "task card": task_card,
    "leader summary": leader_summary,
    "export": export,
}


@dataclass
class Measured:
    """Latencies (ms) of each operation on one data set."""

    backend: str
    dataset: str
    generated: Generated
    ms: dict[str, list[float]] = field(default_factory=dict)
    first: dict[str, float] = field(default_factory=dict)  # the warm-up run
    sizes: dict[str, int] = field(default_factory=dict)

    def p50(self, op: str) -> float:
        """Median latency."""
        return statistics.median(self.ms[op])


async def context_for(url: str, settings: Settings) -> tuple[Context, object]:
    """Pick the tasks to open (37 spread over the register) and the leader to summarize."""
    engine = create_engine(url)
    sessionmaker = make_sessionmaker(engine)
    async with sessionmaker() as session:
        nos = list((await session.scalars(select(Task.no).where(Task.year == YEAR))).all())
        leader_id, leader_name = (
            await session.execute(
                select(Leader.id, Leader.name)
                .join(TaskLeader, TaskLeader.leader_id == Leader.id)
                .group_by(Leader.id, Leader.name)
                .order_by(Leader.id)
                .limit(1)
            )
        ).one()
    step = max(1, len(nos) // 37)
    picked = sorted(nos)[::step]
    return (
        Context(sessionmaker, settings, WorkCalendar(), picked, int(leader_id), str(leader_name)),
        engine,
    )


async def measure(url: str, backend: str, name: str, made: Generated, runs: int) -> Measured:
    """Time every operation on one data set."""
    settings = Settings(_env_file=None)
    ctx, engine = await context_for(url, settings)
    tune_collector()  # the bot process runs with the collector tuned after start-up (bot run)
    out = Measured(backend, name, made)
    try:
        for op in OPERATIONS:
            runner = RUNNERS[op]
            t0 = time.perf_counter()
            out.sizes[op] = await runner(ctx)  # warm-up: caches, imports, the planner's stats
            out.first[op] = (time.perf_counter() - t0) * 1000
            times = []
            for _ in range(runs if op != "export" else max(3, runs // 5)):
                t0 = time.perf_counter()
                await runner(ctx)
                times.append((time.perf_counter() - t0) * 1000)
            out.ms[op] = times
    finally:
        await engine.dispose()  # type: ignore[attr-defined]
    return out


async def main_async(args: argparse.Namespace) -> int:
    """Generate, measure, print."""
    results: list[Measured] = []
    sets: list[tuple[str, Callable[[str], Awaitable[Generated]]]] = [
        ("88 tasks (real)", real_register),
        ("10k tasks, 10k reports", lambda url: synthetic(url, reports=10_000)),
        ("10k tasks, 1M reports", lambda url: synthetic(url, reports=args.reports)),
    ]
    with tempfile.TemporaryDirectory(prefix="bench-growth-") as tmp:
        for backend in args.db.split(","):
            for n, (name, generate) in enumerate(sets):
                async with database(backend, Path(tmp), f"growth{n}") as url:
                    print(f"{backend}: generating {name} ...", file=sys.stderr, flush=True)
                    made = await generate(url)
                    print(
                        f"  {made.reports:,} reports in {made.seconds:.0f} s; measuring ...",
                        file=sys.stderr,
                        flush=True,
                    )
                    results.append(await measure(url, backend, name, made, args.runs))
    rows = []
    first_rows = []
    for m in results:
        rows.append(
            [
                m.backend,
                m.dataset,
                *(f"{m.p50(op):.1f} / {max(m.ms[op]):.1f}" for op in OPERATIONS),
            ]
        )
        first_rows.append([m.backend, m.dataset, *(f"{m.first[op]:.1f}" for op in OPERATIONS)])
    print_table(
        "Benchmark 3 — growth with data: p50 / max ms per operation "
        f"({args.runs} runs, export {max(3, args.runs // 5)})",
        ["db", "data set", *OPERATIONS],
        rows,
    )
    print_table(
        "First run (ms): the register's tasks read from the database, not yet kept in memory",
        ["db", "data set", *OPERATIONS],
        first_rows,
    )
    verdicts = Verdicts()
    growth_rows = []
    for backend in args.db.split(","):
        small, large = [m for m in results if m.backend == backend][1:3]
        growth_rows.append(
            [backend, *(f"{large.p50(op) / small.p50(op):.2f}x" for op in OPERATIONS)]
        )
        for op in OPERATIONS:
            if op != "export":
                verdicts.check(
                    f"{backend} {op} < {TARGET_MS:.0f} ms at {large.generated.reports:,} reports",
                    large.p50(op) < TARGET_MS,
                    f"p50 {large.p50(op):.1f} ms",
                )
            ratio = large.p50(op) / small.p50(op)
            verdicts.check(
                f"{backend} {op} growth 10k → {large.generated.reports:,} reports <= {GROWTH:g}x",
                ratio <= GROWTH,
                f"{ratio:.2f}x",
            )
    print_table(
        "Growth from 10,000 to 1,000,000 reports (p50 ratio)", ["db", *OPERATIONS], growth_rows
    )
    return verdicts.print()


def main() -> int:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--reports", type=int, default=1_000_000, help="the largest set")
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
