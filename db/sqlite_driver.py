"""aiosqlite for SQLAlchemy, with statements run on the event loop's own thread.

aiosqlite runs each sqlite3 call on a worker thread and waits for the answer through the event
loop; SQLAlchemy's adapter makes four such calls per statement (open a cursor, execute, fetch,
close). Each hand-off wakes a thread twice; on a busy machine each wake-up waits for a CPU,
and in bench.updates the bot spent more time waiting for these trips (~2 ms each, ten per
update) than handling the update. This bot's statements take microseconds to a few
milliseconds, so they run right on the loop's thread, each in one call that also reads every
row (SQLAlchemy's adapter fetches all rows at once anyway); aiosqlite's thread only opens and
closes the connection.

What must not block the loop is waiting for a lock: with busy_timeout 0, sqlite3 reports a
locked database at once, and the statement is tried again after an asynchronous sleep, up to
`busy_timeout` seconds, so the coroutine holding the lock — in this process or another — can
finish. Retrying is sound: a statement refused with SQLITE_BUSY did nothing, and since
sqlite3 starts a transaction only at its first write, the refused statement is that first
write, with no snapshot taken that a later retry could find stale.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections import deque
from collections.abc import Callable, Generator, Iterable, Sequence
from typing import Any, TypeVar

import aiosqlite

T = TypeVar("T")
Description = tuple[tuple[Any, ...], ...] | None
Outcome = tuple[Description, list[Any], int, int | None]


def _run(conn: sqlite3.Connection, sql: str, parameters: Any, many: bool) -> Outcome:
    """Execute, read every row, close the cursor."""
    cursor = conn.cursor()
    try:
        if many:
            cursor.executemany(sql, parameters)
        else:
            cursor.execute(sql, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


def _locked(error: sqlite3.OperationalError) -> bool:
    # SQLITE_BUSY and SQLITE_BUSY_RECOVERY only: not BUSY_SNAPSHOT, which no wait can cure.
    return getattr(error, "sqlite_errorcode", None) in (5, 261)


class BufferedCursor:
    """The part of aiosqlite's Cursor SQLAlchemy uses, answered from rows fetched at execute."""

    def __init__(self, connection: OneTripConnection) -> None:
        self._connection = connection
        self._rows: deque[Any] = deque()
        self.description: Description = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self.arraysize = 1

    async def _call(self, sql: str, parameters: Any, many: bool) -> BufferedCursor:
        outcome = await self._connection.run(_run, sql, parameters, many)
        self.description, rows, self.rowcount, self.lastrowid = outcome
        self._rows = deque(rows)
        return self

    async def execute(self, sql: str, parameters: Iterable[Any] | None = None) -> BufferedCursor:
        """Run one statement and keep its rows."""
        return await self._call(sql, () if parameters is None else parameters, False)

    async def executemany(self, sql: str, parameters: Iterable[Iterable[Any]]) -> BufferedCursor:
        """Run one statement per parameter set."""
        return await self._call(sql, parameters, True)

    async def fetchone(self) -> Any:
        """The next row, or None."""
        return self._rows.popleft() if self._rows else None

    async def fetchmany(self, size: int | None = None) -> Sequence[Any]:
        """Up to `size` rows (default: arraysize)."""
        count = self.arraysize if size is None else size
        return [self._rows.popleft() for _ in range(min(count, len(self._rows)))]

    async def fetchall(self) -> Sequence[Any]:
        """Every remaining row."""
        rows = list(self._rows)
        self._rows.clear()
        return rows

    async def close(self) -> None:
        """Nothing to release: the sqlite3 cursor was closed after the statement."""
        self._rows.clear()

    async def __aenter__(self) -> BufferedCursor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def __await__(self) -> Generator[Any, None, BufferedCursor]:
        # `await connection.cursor()` works as with aiosqlite.
        return self.__aenter__().__await__()


class OneTripConnection(aiosqlite.Connection):
    """An aiosqlite connection whose statements, commits and rollbacks run on the loop's thread."""

    busy_timeout = 10.0  # seconds a locked database is waited for (asynchronously)

    def cursor(self) -> BufferedCursor:  # type: ignore[override]
        """A cursor (no trip to the worker thread)."""
        return BufferedCursor(self)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(sqlite3_connection, *args)` here; a locked database is retried after a sleep."""
        delay = 0.001
        deadline: float | None = None
        while True:
            try:
                return fn(self._conn, *args)
            except sqlite3.OperationalError as error:
                if not _locked(error):
                    raise
                now = time.monotonic()
                deadline = now + self.busy_timeout if deadline is None else deadline
                if now >= deadline:
                    raise
                await asyncio.sleep(delay)
                delay = min(delay * 2, 0.05)

    async def commit(self) -> None:
        """Commit the current transaction."""
        await self.run(sqlite3.Connection.commit)

    async def rollback(self) -> None:
        """Roll back the current transaction."""
        await self.run(sqlite3.Connection.rollback)


def connect(database: str, **kwargs: Any) -> OneTripConnection:
    """Like `aiosqlite.connect` (await the result), with statements on the loop's thread."""

    def connector() -> sqlite3.Connection:
        return sqlite3.connect(database, **kwargs)

    connection = OneTripConnection(connector, iter_chunk_size=64)
    # As SQLAlchemy does for aiosqlite: a forgotten connection must not keep the process alive.
    connection._thread.daemon = True
    return connection
