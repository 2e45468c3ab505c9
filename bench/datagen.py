"""Synthetic registers for the growth and memory benchmarks, bulk-inserted.

`python -m bench.datagen --db sqlite --tasks 10000 --units 1000 --reports 1000000 [--out f.db]`

Two kinds of data set, both for 2026 with the clock at `NOW` (Friday 2026-11-20 10:00, the
October cycle chased, the November one open):
- `real_register`: the 88 tasks of seed_tasks.json and a year of reports (most lead units
  report most months);
- `synthetic`: `tasks` tasks, `units` units (and 5 collective names), 20 leaders, one liaison
  per unit, the office, a contact per leader, and `reports` reports.

The reports of a synthetic set are built so that sets of different sizes differ only in
history: the same seed gives the same tasks and the same reports for the chased and the open
cycle (60% and 20% of the (task, lead unit) pairs); the rest are earlier months' reports. So
/overdue, the cards and the summaries have the same rows to show at 10,000 and at 1,000,000
reports, and only the volume they must look past grows.

SQLite is written through SQLAlchemy Core executemany on a synchronous connection, PostgreSQL
with COPY; PostgreSQL is then VACUUMed and ANALYZEd, as autovacuum would do to a table loaded
long before (the vacuum sets the visibility map, without which an index-only scan still reads
the table), SQLite is not (the bot never runs ANALYZE, so its planner works without
statistics in production too).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from bench.common import asyncpg_dsn, import_seed, migrate
from db.engine import create_engine, make_sessionmaker
from db.models import (
    AppState,
    Contact,
    Leader,
    Report,
    Target,
    Task,
    TaskLeader,
    TaskUnit,
    Unit,
    UnitGroupMember,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
YEAR = 2026
NOW = datetime(2026, 11, 20, 10, 0, tzinfo=SHANGHAI)
IMPORTED = datetime(2026, 1, 5, 9, 0, tzinfo=SHANGHAI)
CHASED, OPEN = "2026-10", "2026-11"
LIAISON_USER = 50_000_000
OFFICE_USER = 40_000_001
LEADER_USER = 40_100_000
CHUNK = 20_000
KINDS = ("department", "town", "enterprise", "other")
SECTIONS = ("扎实推进经济高质量发展", "全面深化改革开放", "持续保障和改善民生", "加强政府自身建设")
DIFFICULTIES = ("用地指标需协调", "资金缺口较大", "审批流程较长", "需市里协调解决")


@dataclass(frozen=True)
class Generated:
    """What was written and how long it took."""

    tasks: int
    units: int
    reports: int
    seconds: float


def _backend(url: str) -> str:
    return make_url(url).get_backend_name()


async def bulk_insert(url: str, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert many rows: Core executemany on SQLite, COPY on PostgreSQL."""
    if not rows:
        return
    if _backend(url) == "sqlite":
        await asyncio.to_thread(_sqlite_insert, url, table, rows)
        return
    columns = [c.name for c in table.columns if c.name in rows[0]]
    json_columns = {c.name for c in table.columns if isinstance(c.type, sa.JSON)}
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        for start in range(0, len(rows), CHUNK * 5):
            records = [
                tuple(
                    json.dumps(r[c], ensure_ascii=False)
                    if c in json_columns and r[c] is not None
                    else r[c]
                    for c in columns
                )
                for r in rows[start : start + CHUNK * 5]
            ]
            await conn.copy_records_to_table(table.name, records=records, columns=columns)
    finally:
        await conn.close()


def _sqlite_value(value: Any) -> Any:
    """A value in the form SQLAlchemy stores it in SQLite (UTC text, ISO dates, JSON text)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value)
    return value


def _sqlite_insert(url: str, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
    # The DB-API directly: SQLAlchemy's per-row type processing would take minutes for 10^6 rows.
    columns = [c.name for c in table.columns if c.name in rows[0]]
    statement = (
        f'INSERT INTO "{table.name}" ({", ".join(columns)}) '
        f"VALUES ({', '.join('?' for _ in columns)})"
    )
    conn = sqlite3.connect(str(make_url(url).database))
    conn.execute("PRAGMA cache_size=-400000")  # 400 MB: the indexes' pages stay in memory
    conn.execute("PRAGMA synchronous=OFF")  # a benchmark's throw-away file
    try:
        with conn:
            for start in range(0, len(rows), CHUNK):
                conn.executemany(
                    statement,
                    [
                        tuple(_sqlite_value(r[c]) for c in columns)
                        for r in rows[start : start + CHUNK]
                    ],
                )
    finally:
        conn.close()


async def finish(url: str) -> None:
    """PostgreSQL: move the id sequences past the explicit ids, and VACUUM ANALYZE."""
    if _backend(url) != "postgresql":
        return
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        for table in ("units", "leaders", "tasks", "task_units", "task_leaders", "targets"):
            await conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"COALESCE((SELECT max(id) FROM {table}), 1))"
            )
        for table in ("contacts", "reports"):
            await conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"COALESCE((SELECT max(id) FROM {table}), 1))"
            )
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()


def _local(day: date, rng: random.Random) -> datetime:
    """A moment during office hours of `day`, aware (UTC)."""
    at = datetime(day.year, day.month, day.day, 9, 0, tzinfo=SHANGHAI)
    return (at + timedelta(seconds=rng.randrange(8 * 3600))).astimezone(UTC)


def _month_days(month: int) -> list[date]:
    first = date(YEAR, month, 1)
    days = []
    d = first
    while d.month == month:
        if d.weekday() < 5:
            days.append(d)
        d += timedelta(days=1)
    return days


def report_row(
    n: int,
    task_id: int,
    unit_id: int,
    contact: tuple[int, int] | None,
    cycle: str,
    created: datetime,
    target: tuple[str, float] | None,
    rng: random.Random,
) -> dict[str, Any]:
    """One report as the bot would store it (text, percent, quantities, date, difficulties)."""
    pct = rng.randint(1, 100)
    month = rng.randint(int(cycle[5:]), 12)
    text = f"完成{pct}%，预计{month}月底前完成"
    quantities: list[dict[str, Any]] = []
    if target is not None:
        metric, value = target
        done = round(value * pct / 100, 1)
        text = f"已{metric}{done:g}亿元，预计{month}月底前完成"
        quantities = [
            {
                "metric": metric,
                "value": done,
                "unit": "亿元",
                "target_metric": metric,
                "percent_of_target": pct,
            }
        ]
    difficulties = [rng.choice(DIFFICULTIES)] if rng.random() < 0.15 else []
    if difficulties:
        text += "，" + difficulties[0]
    return {
        "id": n,
        "task_id": task_id,
        "unit_id": unit_id,
        "cycle_key": cycle,
        "contact_id": contact[0] if contact else None,
        "tg_user_id": contact[1] if contact else None,
        "text": text,
        "percent": float(pct),
        "quantities": quantities,
        "expected_date": date(YEAR, month, 28) if rng.random() < 0.6 else None,
        "difficulties": difficulties,
        "version": 1,
        "supersedes_id": None,
        "source_key": f"gen:{n}",
        "created_at": created,
    }


def reports_for(
    pairs: Sequence[tuple[int, int]],
    total: int,
    contacts: dict[int, tuple[int, int]],
    targets: dict[int, tuple[str, float]],
    seed: int,
    *,
    chased_share: float = 0.6,
    open_share: float = 0.2,
) -> list[dict[str, Any]]:
    """The chased and open cycles' reports (fixed by the seed), then history up to `total`."""
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    october, november = _month_days(10), [d for d in _month_days(11) if d < NOW.date()]
    for task_id, unit_id in pairs:
        for cycle, share, days in ((CHASED, chased_share, october), (OPEN, open_share, november)):
            if rng.random() < share:
                created = _local(rng.choice(days), rng)
                rows.append(
                    report_row(
                        len(rows) + 1,
                        task_id,
                        unit_id,
                        contacts.get(unit_id),
                        cycle,
                        created,
                        targets.get(task_id),
                        rng,
                    )
                )
    history = random.Random(seed + 1)
    months = {m: _month_days(m) for m in range(1, 10)}
    while len(rows) < total:
        task_id, unit_id = pairs[history.randrange(len(pairs))]
        month = history.randint(1, 9)
        created = _local(history.choice(months[month]), history)
        rows.append(
            report_row(
                len(rows) + 1,
                task_id,
                unit_id,
                contacts.get(unit_id),
                f"{YEAR}-{month:02d}",
                created,
                targets.get(task_id),
                history,
            )
        )
    # Stored in the order they arrived, as the bot stores them.
    rows.sort(key=lambda r: r["created_at"])
    for n, row in enumerate(rows, start=1):
        row["id"] = n
        row["source_key"] = f"gen:{n}"
    return rows


async def synthetic(
    url: str, *, tasks: int = 10_000, units: int = 1_000, reports: int = 10_000, seed: int = 1
) -> Generated:
    """A generated register with its people and `reports` reports (see the module docstring)."""
    t0 = time.perf_counter()
    rng = random.Random(seed)
    now = IMPORTED.astimezone(UTC)
    unit_rows = [
        {"id": n, "name": f"单位{n:04d}", "kind": KINDS[n % 4], "comment": None, "active": True}
        for n in range(1, units + 1)
    ]
    groups = [
        {"id": units + g, "name": f"集体{g}", "kind": "group", "comment": None, "active": True}
        for g in range(1, 6)
    ]
    members = [
        {"group_id": g["id"], "member_id": m}
        for g in groups
        for m in rng.sample(range(1, units + 1), 30)
    ]
    leaders = [{"id": n, "name": f"领导{n:02d}", "active": True} for n in range(1, 21)]
    task_rows: list[dict[str, Any]] = []
    unit_links: list[dict[str, Any]] = []
    leader_links: list[dict[str, Any]] = []
    target_rows: list[dict[str, Any]] = []
    lead_pairs: list[tuple[int, int]] = []
    targets: dict[int, tuple[str, float]] = {}
    for no in range(1, tasks + 1):
        value = float(rng.randint(5, 800))
        has_target = rng.random() < 0.6
        text = f"推进第{no}批重点项目建设" + (f"，完成投资{value:g}亿元以上" if has_target else "")
        # Consecutive tasks share headings, as in the notice: 4 sections, 40 subsections.
        section = SECTIONS[(no - 1) * len(SECTIONS) // tasks]
        subsection = f"（{(no - 1) * 40 // tasks + 1}）重点工作"
        task_rows.append(
            {
                "id": no,
                "year": YEAR,
                "no": no,
                "section": section,
                "subsection": subsection,
                "text": text,
                "cycle_kind": "quarterly" if no % 50 == 0 else "monthly",
                "cycle_dates": None,
                "completed_on": date(YEAR, 6, 30) if no % 100 == 0 else None,
                "updated_at": now,
            }
        )
        leads = [(no - 1) % units + 1]
        if rng.random() < 0.2:
            leads.append(rng.randint(1, units))
        leads = list(dict.fromkeys(leads))
        responsible = [
            u for u in rng.sample(range(1, units + 1), rng.randint(0, 3)) if u not in leads
        ]
        if no % 33 == 0:
            responsible.append(units + 1 + no % 5)  # a collective name
        for position, unit_id in enumerate(leads):
            unit_links.append(
                {
                    "id": len(unit_links) + 1,
                    "task_id": no,
                    "unit_id": unit_id,
                    "role": "lead",
                    "position": position,
                    "label": f"单位{unit_id:04d}",
                }
            )
            lead_pairs.append((no, unit_id))
        for position, unit_id in enumerate(responsible):
            unit_links.append(
                {
                    "id": len(unit_links) + 1,
                    "task_id": no,
                    "unit_id": unit_id,
                    "role": "responsible",
                    "position": position,
                    "label": f"单位{unit_id:04d}" if unit_id <= units else f"集体{unit_id - units}",
                }
            )
        for position, leader_id in enumerate(rng.sample(range(1, 21), rng.randint(1, 2))):
            leader_links.append(
                {
                    "id": len(leader_links) + 1,
                    "task_id": no,
                    "leader_id": leader_id,
                    "position": position,
                }
            )
        if has_target:
            targets[no] = ("完成投资", value)
            target_rows.append(
                {
                    "id": len(target_rows) + 1,
                    "task_id": no,
                    "position": 0,
                    "metric": "完成投资",
                    "kind": "amount",
                    "value": value,
                    "unit": "亿元",
                    "comparator": "at_least",
                    "source": f"完成投资{value:g}亿元以上",
                }
            )
    contact_rows = [
        {
            "id": n,
            "tg_user_id": LIAISON_USER + n,
            "chat_id": LIAISON_USER + n,
            "name": f"联络员{n}",
            "role": "liaison",
            "unit_id": n,
            "leader_id": None,
            "deputy": False,
            "active": True,
            "reachable": True,
            "created_at": now,
        }
        for n in range(1, units + 1)
    ]
    contact_rows.append(
        {
            "id": units + 1,
            "tg_user_id": OFFICE_USER,
            "chat_id": OFFICE_USER,
            "name": "督导办",
            "role": "office",
            "unit_id": None,
            "leader_id": None,
            "deputy": False,
            "active": True,
            "reachable": True,
            "created_at": now,
        }
    )
    for n in range(1, 21):
        contact_rows.append(
            {
                "id": units + 1 + n,
                "tg_user_id": LEADER_USER + n,
                "chat_id": LEADER_USER + n,
                "name": f"领导{n:02d}",
                "role": "leader",
                "unit_id": None,
                "leader_id": n,
                "deputy": False,
                "active": True,
                "reachable": True,
                "created_at": now,
            }
        )
    contacts = {n: (n, LIAISON_USER + n) for n in range(1, units + 1)}
    report_rows = reports_for(lead_pairs, reports, contacts, targets, seed)
    state = [
        {
            "key": f"register_imported:{YEAR}",
            "value": {"at": IMPORTED.isoformat()},
            "updated_at": now,
        }
    ]
    for table, rows in (
        (Unit.__table__, unit_rows + groups),
        (UnitGroupMember.__table__, members),
        (Leader.__table__, leaders),
        (Task.__table__, task_rows),
        (TaskUnit.__table__, unit_links),
        (TaskLeader.__table__, leader_links),
        (Target.__table__, target_rows),
        (Contact.__table__, contact_rows),
        (AppState.__table__, state),
        (Report.__table__, report_rows),
    ):
        await bulk_insert(url, table, rows)  # type: ignore[arg-type]
    await finish(url)
    return Generated(tasks, units, len(report_rows), time.perf_counter() - t0)


async def real_register(url: str, *, seed: int = 1) -> Generated:
    """The 88-task register and a year of reports on it."""
    t0 = time.perf_counter()
    engine = create_engine(url)
    try:
        await import_seed(make_sessionmaker(engine), IMPORTED)
        async with engine.connect() as conn:
            pairs = [
                (int(t), int(u))
                for t, u in (
                    await conn.execute(
                        sa.select(TaskUnit.task_id, TaskUnit.unit_id)
                        .join(Unit, Unit.id == TaskUnit.unit_id)
                        .where(TaskUnit.role == "lead", Unit.kind != "group")
                        .order_by(TaskUnit.task_id, TaskUnit.position)
                    )
                ).all()
            ]
            found = (
                await conn.execute(
                    sa.select(Target.task_id, Target.metric, Target.value).order_by(
                        Target.task_id, Target.position
                    )
                )
            ).all()
    finally:
        await engine.dispose()
    targets: dict[int, tuple[str, float]] = {}
    for task_id, metric, value in found:
        targets.setdefault(int(task_id), (str(metric), float(value)))
    # About nine months in ten reported per pair, plus this year's chased and open cycles.
    rows = reports_for(pairs, len(pairs) * 10, {}, targets, seed, chased_share=0.7)
    await bulk_insert(url, Report.__table__, rows)  # type: ignore[arg-type]
    await finish(url)
    return Generated(88, 0, len(rows), time.perf_counter() - t0)


async def main_async(args: argparse.Namespace) -> int:
    """Generate one data set into a new SQLite file (or an existing, migrated database URL)."""
    url = args.url
    await migrate(url)
    if args.real:
        made = await real_register(url)
    else:
        made = await synthetic(url, tasks=args.tasks, units=args.units, reports=args.reports)
    print(
        f"{made.tasks:,} tasks, {made.units:,} units, {made.reports:,} reports "
        f"in {made.seconds:.1f} s → {url}"
    )
    return 0


def main() -> int:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="bench.db", help="SQLite file to create")
    parser.add_argument("--url", default=None, help="or a migrated, empty database URL")
    parser.add_argument("--real", action="store_true", help="the 88-task register instead")
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--units", type=int, default=1_000)
    parser.add_argument("--reports", type=int, default=10_000)
    args = parser.parse_args()
    args.url = args.url or f"sqlite+aiosqlite:///{Path(args.out).resolve()}"
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
