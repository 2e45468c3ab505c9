"""The example documents in `docs/examples/`, made from a simulated year.

`python -m bench.examples [--until 2026-11-30] [--seed N] [--out docs/examples]`

The 2026 register is imported on February 1st and lived day by day to `--until` as
`bench.month` simulates it (every unit's liaison reporting with a seeded, realistic mix, the
office's 催办, the reminders and digests); on the next morning the office's documents are made
from that database exactly as the bot makes them: the monthly 通报 (`/bulletin`, the last month
with a passed deadline) and the ledger with its 考评 sheet (`/export`).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time as clock
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from pathlib import Path

from bench.common import database
from bench.month import SHANGHAI, Month, mixed_plan
from bot import texts
from bot.config import load_settings
from bot.services.bulletin import Bulletin, monthly_bulletin
from bot.services.export import Export, export_ledger
from db.engine import create_engine, make_sessionmaker

ROOT = Path(__file__).resolve().parent.parent
START = date(2026, 2, 1)


async def make(until: date, seed: int) -> tuple[Bulletin, Export]:
    """Simulate from START to `until` and make the documents of the next morning."""
    start = datetime.combine(START, time(8, 0), tzinfo=SHANGHAI)
    with tempfile.TemporaryDirectory() as tmp:
        async with database("sqlite", Path(tmp), "examples") as url:
            settings = load_settings(_env_file=None, bot_token="123456:EXAMPLES", database_url=url)
            world = Month(url, settings, start=start)
            try:
                roster = await world.setup(seed)
                sittings, _ = mixed_plan(seed)(roster, world.calendar, settings, START, until)
                await world.run(START, until, sittings, nudges=True)
                calendar = world.calendar
            finally:
                await world.close()
            now = datetime.combine(until + timedelta(days=1), time(9, 0), tzinfo=SHANGHAI)
            engine = create_engine(url)
            try:
                async with make_sessionmaker(engine)() as session:
                    made = await monthly_bulletin(
                        session, now=now, settings=settings, calendar=calendar
                    )
                    ledger = await export_ledger(
                        session, now=now, settings=settings, calendar=calendar
                    )
            finally:
                await engine.dispose()
    assert made is not None and ledger is not None
    return made, ledger


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the arguments, make the documents, print where they are."""
    parser = argparse.ArgumentParser(prog="python -m bench.examples", description=__doc__)
    parser.add_argument("--until", default="2026-11-30", help="the last simulated day")
    parser.add_argument("--seed", type=int, default=20260201)
    parser.add_argument("--out", default=str(ROOT / "docs" / "examples"))
    args = parser.parse_args(argv)
    until = date.fromisoformat(args.until)
    began = clock.monotonic()
    made, ledger = asyncio.run(make(until, args.seed))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    bulletin = out / texts.bulletin_filename(made.year, made.month.month)
    bulletin.write_bytes(made.data)
    workbook = out / texts.ledger_filename(ledger.as_of)
    workbook.write_bytes(ledger.data)
    for path in (bulletin, workbook):
        print(f"{path}  {path.stat().st_size // 1024} KB")
    print(f"simulated {START} to {until} in {clock.monotonic() - began:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
