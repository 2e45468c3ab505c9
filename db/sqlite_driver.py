"""aiosqlite with one trip to its thread per statement instead of four.

aiosqlite runs each sqlite3 call on a worker thread and waits for the answer through the event
loop. SQLAlchemy's adapter makes four such calls per statement — open a cursor, execute,
fetch all rows, close — and every one is a thread hand-off fighting for the GIL: with about ten
statements per update, the hand-offs cost more CPU than the queries. This connection's cursor
does all four in one call on the worker thread and keeps the rows (SQLAlchemy's adapter fetches
every row at once anyway), so the results, errors and transactions are those of aiosqlite.
Commit and rollback without an open transaction (every pool check-in rolls back) make no trip.
"""

from __future__ import annotations

import sqlite3
from collections import deque
from collections.abc import Generator, Iterable, Sequence
from typing import Any

import aiosqlite

Description = tuple[tuple[Any, ...], ...] | None
Outcome = tuple[Description, list[Any], int, int | None]


def _run(conn: sqlite3.Connection, sql: str, parameters: Any, many: bool) -> Outcome:
    """On the worker thread: execute, read every row, close the cursor."""
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
        conn = self._connection
        outcome: Outcome = await conn._execute(lambda: _run(conn._conn, sql, parameters, many))
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
        """Nothing to release: the sqlite3 cursor was closed on the worker thread."""
        self._rows.clear()

    async def __aenter__(self) -> BufferedCursor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def __await__(self) -> Generator[Any, None, BufferedCursor]:
        # `await connection.cursor()` works as with aiosqlite.
        return self.__aenter__().__await__()


class OneTripConnection(aiosqlite.Connection):
    """An aiosqlite connection whose cursors make one trip to the worker thread per statement."""

    def cursor(self) -> BufferedCursor:  # type: ignore[override]
        """A cursor; opening it needs no trip to the worker thread."""
        return BufferedCursor(self)

    def _idle(self) -> bool:
        # No transaction open (sqlite3 opens one only before a write): commit and rollback
        # would do nothing, and SQLAlchemy rolls back every connection it takes back into
        # its pool. Read between statements only, never while one runs on the worker.
        return self._connection is not None and not self._connection.in_transaction

    async def commit(self) -> None:
        """Commit the current transaction (no trip to the worker thread if there is none)."""
        if not self._idle():
            await super().commit()

    async def rollback(self) -> None:
        """Roll back the current transaction (no trip to the worker thread if there is none)."""
        if not self._idle():
            await super().rollback()


def connect(database: str, **kwargs: Any) -> OneTripConnection:
    """Like `aiosqlite.connect` (await the result), with one-trip cursors."""

    def connector() -> sqlite3.Connection:
        return sqlite3.connect(database, **kwargs)

    connection = OneTripConnection(connector, iter_chunk_size=64)
    # As SQLAlchemy does for aiosqlite: a forgotten connection must not keep the process alive.
    connection._thread.daemon = True
    return connection
