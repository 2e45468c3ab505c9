"""Shared pieces of the benchmarks: tables, verdicts, databases, bot processes, bound people."""

from __future__ import annotations

import asyncio
import math
import os
import signal
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import asyncpg
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.register import load_json
from bot.domain.roles import Role
from db.engine import create_engine
from db.migrate import upgrade
from db.models import Contact, TaskUnit, Unit
from db.register import import_register

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "seed_tasks.json"
# The server's maintenance database: benchmarks create and drop databases of their own there.
PG_ADMIN_URL = os.environ.get(
    "BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
FIRST_USER_ID = 7_000_001


# --- Figures and verdicts -------------------------------------------------------------------------


def percentile(values: Sequence[float], p: float) -> float:
    """The nearest-rank percentile `p` (0-100) of `values` (NaN when empty)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def fmt(value: float, digits: int = 1) -> str:
    """A number for a table cell ('-' for NaN)."""
    if isinstance(value, float) and math.isnan(value):
        return "-"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.{digits}f}"


def cpu_counters() -> tuple[int, int] | None:
    """(steal, total) clock ticks of all CPUs so far, from Linux's /proc/stat; None elsewhere.

    Steal is the time a virtual machine's CPUs were ready to run but the hypervisor ran
    something else. Under load it shows as pauses of milliseconds in every process at once,
    which no benchmark here can tell from its own slowness: the pacing benchmarks print it.
    """
    try:
        with open("/proc/stat", encoding="ascii") as f:
            fields = f.readline().split()
    except OSError:
        return None
    if len(fields) < 9 or fields[0] != "cpu":
        return None
    ticks = [int(x) for x in fields[1:9]]  # user nice system idle iowait irq softirq steal
    return ticks[7], sum(ticks)


def steal_share(before: tuple[int, int] | None, after: tuple[int, int] | None) -> float:
    """The share of CPU time stolen between two `cpu_counters` readings (NaN if unknown)."""
    if before is None or after is None or after[1] <= before[1]:
        return math.nan
    return (after[0] - before[0]) / (after[1] - before[1])


def print_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Print a small fixed-width table."""
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(_width(r[i]) for r in cells) for i in range(len(headers))]
    print(f"\n{title}")
    for n, row in enumerate(cells):
        print(
            "  "
            + "  ".join(
                _pad(c, w, i == 0) for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
        if n == 0:
            print("  " + "  ".join("-" * w for w in widths))


def _width(text: str) -> int:
    # CJK characters take two columns in a terminal.
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _pad(text: str, width: int, left: bool) -> str:
    space = " " * (width - _width(text))
    return text + space if left else space + text


@dataclass
class Verdicts:
    """PASS/FAIL lines, one per target; the exit code says whether all passed."""

    lines: list[tuple[str, bool, str]] = field(default_factory=list)

    def check(self, target: str, ok: bool, measured: str) -> bool:
        """Record one target's outcome."""
        self.lines.append((target, ok, measured))
        return ok

    def print(self) -> int:
        """Print the verdicts; return 0 if all passed, 1 otherwise."""
        print()
        for target, ok, measured in self.lines:
            print(f"{'PASS' if ok else 'FAIL'}  {target}: {measured}")
        return 0 if all(ok for _, ok, _ in self.lines) else 1


# --- Databases ------------------------------------------------------------------------------------


def asyncpg_dsn(url: str, database: str | None = None) -> str:
    u = make_url(url).set(drivername="postgresql")
    if database is not None:
        u = u.set(database=database)
    return u.render_as_string(hide_password=False)


@asynccontextmanager
async def database(
    backend: str, workdir: Path, name: str = "bench", *, admin_url: str = PG_ADMIN_URL
) -> AsyncIterator[str]:
    """A migrated, empty database of our own (SQLite file or a new PostgreSQL database)."""
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{workdir / (name + '.db')}"
        await migrate(url)
        yield url
        return
    if backend != "postgresql":
        raise ValueError(f"unknown backend {backend!r}")
    name = f"duban_{name}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    conn = await asyncpg.connect(asyncpg_dsn(admin_url), timeout=5)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        await migrate(url)
        yield url
    finally:
        conn = await asyncpg.connect(asyncpg_dsn(admin_url), timeout=5)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


async def migrate(url: str) -> None:
    """Bring a database to the current schema."""
    engine = create_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


async def import_seed(sessionmaker: async_sessionmaker[AsyncSession], now: datetime) -> None:
    """The real 2026 register (88 tasks) from seed_tasks.json."""
    async with sessionmaker() as session, session.begin():
        await import_register(session, load_json(SEED), now=now)


@dataclass(frozen=True)
class Bound:
    """A simulated person bound as a unit's liaison directly in the database."""

    user_id: int
    unit_id: int
    unit: str


async def bind_liaisons(
    sessionmaker: async_sessionmaker[AsyncSession],
    count: int,
    now: datetime,
    *,
    first_user_id: int = FIRST_USER_ID,
) -> list[Bound]:
    """`count` liaisons, spread over the units that lead tasks (most tasks first, round robin)."""
    async with sessionmaker() as session, session.begin():
        rows = (
            await session.execute(
                select(Unit.id, Unit.name, func.count(TaskUnit.id).label("n"))
                .join(TaskUnit, TaskUnit.unit_id == Unit.id)
                .where(TaskUnit.role == "lead", Unit.kind != "group")
                .group_by(Unit.id, Unit.name)
                .order_by(func.count(TaskUnit.id).desc(), Unit.id)
            )
        ).all()
        if not rows:
            raise RuntimeError("no unit leads a task: import a register first")
        out: list[Bound] = []
        for n in range(count):
            unit_id, name, _ = rows[n % len(rows)]
            user_id = first_user_id + n
            session.add(
                Contact(
                    tg_user_id=user_id,
                    chat_id=user_id,
                    name=f"联络员{n + 1}",
                    role=Role.LIAISON.value,
                    unit_id=unit_id,
                    deputy=n >= len(rows),
                    created_at=now,
                )
            )
            out.append(Bound(user_id, unit_id, name))
    return out


# --- The bot as a process -------------------------------------------------------------------------


class BotProcess:
    """A bot (`python -m bot run`, or another module) as a real process talking to an emulator."""

    def __init__(
        self,
        module: str,
        *,
        token: str,
        base_url: str,
        workdir: Path,
        polls: Callable[[], int],
        env: dict[str, str] | None = None,
        args: Sequence[str] = (),
    ) -> None:
        self.module = module
        self.args = list(args)
        self.token = token
        self.base_url = base_url
        self.workdir = workdir
        self.polls = polls
        self.extra_env = env or {}
        self.proc: asyncio.subprocess.Process | None = None
        self.starts = 0
        self.kills = 0

    def environment(self) -> dict[str, str]:
        """The process's environment: the emulator as Telegram, no .env file values."""
        env = {k: v for k, v in os.environ.items() if k not in ("BOT_TOKEN", "DATABASE_URL")}
        env.update(BOT_TOKEN=self.token, TELEGRAM_BASE_URL=self.base_url, PYTHONPATH=str(ROOT))
        env.update(self.extra_env)
        return env

    @property
    def pid(self) -> int:
        """The running process's id."""
        assert self.proc is not None
        return self.proc.pid

    async def start(self, timeout: float = 60.0) -> None:  # noqa: ASYNC109 - a start deadline
        """Start the process and wait until it polls for updates."""
        before = self.polls()
        log = (self.workdir / f"{self.module.replace('.', '_')}-{self.starts}.log").open("wb")
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            self.module,
            *self.args,
            cwd=self.workdir,
            env=self.environment(),
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
        )
        log.close()
        self.starts += 1
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.polls() <= before:
            if self.proc.returncode is not None or loop.time() > deadline:
                raise RuntimeError(f"{self.module} did not start; see {self.workdir}/*.log")
            await asyncio.sleep(0.02)

    @property
    def running(self) -> bool:
        """Whether the process is alive."""
        return self.proc is not None and self.proc.returncode is None

    async def kill(self) -> None:
        """SIGKILL: no clean-up of any kind."""
        if self.proc is None:
            return
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGKILL)
            self.kills += 1
        await self.proc.wait()

    async def stop(self) -> None:
        """SIGTERM and wait (SIGKILL after 20 s)."""
        if self.proc is None or self.proc.returncode is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.proc.wait(), timeout=20)
        except TimeoutError:
            await self.kill()
