"""The digest's example charts in docs/examples/, from a simulated stretch of the register.

`python -m bench.chart_examples [--month 2026-05] [--leader 吴振强] [--out docs/examples]`

Simulates the 2026 register from the first day of the month before `--month` to its last day
(bench.month: reminders, reports with a seeded mix of early, on-time, late and missing, the
office's 催办), then draws the morning charts of that last day as the daily job would: the
leader's (`chart-leader.png`) and the city's (`chart-office.png`).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from bench.common import database
from bench.messages import DEFAULT_SEED, month_bounds, simulation_start
from bench.month import Month, mixed_plan
from bot.config import load_settings
from bot.domain.summaries import previous_summary
from bot.services.summaries import build_summaries, digest_charts
from db import digests, views
from db.models import Leader

ROOT = Path(__file__).resolve().parent.parent


async def examples(month: str, leader: str, seed: int) -> tuple[bytes, bytes]:
    """Simulate, then draw the two charts: the leader's and the city's."""
    first, last = month_bounds(month)
    start = simulation_start(first)
    with tempfile.TemporaryDirectory() as tmp:
        async with database("sqlite", Path(tmp), "charts") as url:
            # The month's own digests go without charts: only the last morning's are drawn.
            settings = load_settings(
                _env_file=None, bot_token="123456:BENCH", database_url=url, digest_charts=False
            )
            world = Month(url, settings, start=start)
            try:
                roster = await world.setup(seed)
                plan = mixed_plan(seed)
                sittings, _ = plan(roster, world.calendar, settings, start.date(), last)
                await world.run(start.date(), last, sittings)
                day = world.calendar.previous_workday(last)
                now = datetime.combine(day, settings.summary_time, tzinfo=settings.tz)
                async with world.sessionmaker() as session:
                    leader_id = await session.scalar(select(Leader.id).where(Leader.name == leader))
                    if leader_id is None:
                        raise SystemExit(f"no leader named {leader}")
                    built = await build_summaries(
                        session,
                        scope=views.Scope(now.year),
                        leaders=[(leader_id, leader)],
                        city=True,
                        overdue=False,
                        now=now,
                        since=previous_summary(now, settings, world.calendar),
                        settings=settings,
                        calendar=world.calendar,
                        with_charts=True,
                    )
            finally:
                await world.close()
    assert built.city is not None
    mine = digests.leader_key(leader_id)
    pngs = await digest_charts({mine: built.leaders[leader_id], digests.CITY: built.city})
    return pngs[mine], pngs[digests.CITY]


def main(argv: Sequence[str] | None = None) -> int:
    """Write the example charts."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--month", default="2026-05")
    parser.add_argument("--leader", default="吴振强")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "examples")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    mine, city = asyncio.run(examples(args.month, args.leader, args.seed))
    args.out.mkdir(parents=True, exist_ok=True)
    for name, png in (("chart-leader.png", mine), ("chart-office.png", city)):
        (args.out / name).write_bytes(png)
        print(args.out / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
