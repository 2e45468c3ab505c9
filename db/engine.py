"""Engine and session factory for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.sqlite.aiosqlite import SQLiteDialect_aiosqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection
from sqlalchemy.util import await_

from bot.config import ConfigError
from db import sqlite_driver


def _sqlite_pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    """WAL for concurrent readers, foreign keys on; a locked database is reported at once.

    Statements run on the event loop's thread (db.sqlite_driver), so sqlite3 must not sleep
    waiting for a lock there: the driver waits asynchronously instead (up to 10 s, as the
    busy timeout did) and tries again.
    """
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=0")
    cursor.close()


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """Create the async engine; for a SQLite file, create its folder and the file, private."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            try:
                _private_sqlite_file(Path(database))
            except OSError as exc:
                raise ConfigError(
                    f"数据库文件无法创建 / cannot create the database file {database}: "
                    f"{exc.strerror or exc}"
                ) from None
        # The URL's own connection arguments, as SQLAlchemy would pass them to aiosqlite.
        args, kwargs = SQLiteDialect_aiosqlite().create_connect_args(parsed)
        engine = create_async_engine(
            url, echo=echo, async_creator=lambda: sqlite_driver.connect(*args, **kwargs)
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    engine = create_async_engine(
        url,
        echo=echo,
        # Checked on checkout by `_ping_on_checkout` rather than `pool_pre_ping`.
        pool_size=5,
        max_overflow=10,
        # No JIT: the views' queries run in milliseconds, and compiling one that the planner
        # costs above jit_above_cost (the /overdue anti-join on 10,000 tasks) took 80 ms more.
        connect_args={"server_settings": {"jit": "off"}},
    )
    event.listen(engine.sync_engine, "checkout", _ping_on_checkout)
    return engine


async def check_reachable(engine: AsyncEngine) -> None:
    """Connect once: a server that is down, a wrong password or database name, or a file that
    cannot be opened becomes one readable line (ConfigError) instead of a traceback."""
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except (TimeoutError, OSError, DBAPIError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0][:200]
        where = engine.url.render_as_string(hide_password=True)
        raise ConfigError(f"数据库无法连接 / database unreachable: {where}: {reason}") from None


def _private_sqlite_file(path: Path) -> None:
    """The database file (and its WAL and shared-memory files) readable by its owner only:
    it holds every report and the invite hashes. SQLite gives the WAL and SHM files the
    database file's permissions when it creates them."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=True)
    for each in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if each.exists() and each.stat().st_mode & 0o077:
            each.chmod(0o600)


def _ping_on_checkout(
    dbapi_connection: Any, _record: ConnectionPoolEntry, _proxy: PoolProxiedConnection
) -> None:
    """Make sure a pooled PostgreSQL connection is alive before it is handed out.

    SQLAlchemy's `pool_pre_ping` does the same, but on asyncpg it pings inside a transaction
    of its own (for PgBouncer's transaction mode, which this bot does not support: it relies
    on asyncpg's prepared statements): BEGIN, an empty statement, ROLLBACK, three round trips
    on every checkout, and the update path checks a connection out once per update. This is
    one. A dead connection raises DisconnectionError, on which the pool replaces it (and
    tries again), exactly as after a failed pre-ping.
    """
    try:
        await_(dbapi_connection.driver_connection.fetchrow(";"))
    except Exception as error:
        raise DisconnectionError(f"connection check failed: {error!r}") from error


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """One session per unit of work; objects stay usable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)


def bound_engine(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncEngine | None:
    """The engine a sessionmaker's sessions are bound to (None if it names no single one)."""
    engine = sessionmaker.kw.get("bind")
    return engine if isinstance(engine, AsyncEngine) else None


def conflict_insert(session: AsyncSession, table: Any) -> postgresql.Insert | sqlite.Insert:
    """An INSERT in the session's database's dialect, so it can skip rows whose key exists
    (`on_conflict_do_nothing`): one statement decides, even against a concurrent writer."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def statement_sessionmaker(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> async_sessionmaker[AsyncSession]:
    """Sessions in which each statement commits on its own, for reads and one-statement writes.

    On PostgreSQL a transaction costs two round trips of its own (BEGIN; COMMIT or ROLLBACK),
    as many as the statement: the update pump's bookkeeping (store a batch, list what is due)
    runs once per getUpdates answer, so on a quiet day once per update, in the latency a
    person waits. SQLite's transactions cost no round trip; its sessions are left as they are.
    """
    engine = bound_engine(sessionmaker)
    if engine is None or engine.dialect.name != "postgresql":
        return sessionmaker
    return make_sessionmaker(engine.execution_options(isolation_level="AUTOCOMMIT"))


async def core_connection(session: AsyncSession) -> AsyncConnection:
    """The session's connection, for a Core statement that must see the session's changes.

    A statement run through `session.execute` pays for the ORM's execution path (about twice
    a Core statement's CPU in bench.updates) and flushes pending changes first (autoflush).
    For the queries every update runs, this keeps the flush, only when something is pending,
    and runs the statement on the connection.
    """
    sync = session.sync_session
    if sync.new or sync.dirty or sync.deleted:
        await session.flush()
    return await session.connection()


# PostgreSQL: serialization_failure, deadlock_detected, the server shutting down or starting.
_RETRY_SQLSTATES = frozenset({"40001", "40P01", "57P01", "57P02", "57P03"})
_SQLITE_BUSY, _SQLITE_LOCKED = 5, 6  # primary result codes (the low byte of extended ones)


def retryable(error: BaseException) -> bool:
    """A database error that running the whole transaction again can cure.

    The connection was lost (the server restarted, the network dropped it), SQLite stayed
    locked past the driver's wait or its snapshot went stale (SQLITE_BUSY_SNAPSHOT), or
    PostgreSQL chose this transaction as a deadlock's or a serialization conflict's victim.
    The transaction was rolled back; nothing it did was kept. A violated constraint or a bad
    statement is not retryable: running it again would fail the same way.
    """
    if not isinstance(error, DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    sqlite_code = getattr(error.orig, "sqlite_errorcode", None)
    if isinstance(sqlite_code, int):
        # sqlite3 raises OperationalError for a missing column as for a lock: the code tells.
        return sqlite_code & 0xFF in (_SQLITE_BUSY, _SQLITE_LOCKED)
    if isinstance(error, InterfaceError):  # asyncpg: the connection is closed or was lost
        return True
    sqlstate = getattr(error.orig, "sqlstate", None) or ""
    return sqlstate in _RETRY_SQLSTATES or sqlstate.startswith("08")  # 08: connection exception
