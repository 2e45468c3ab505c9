"""The engine: live PostgreSQL connections from the pool; which database errors are retried."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import asyncpg
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from db import inbox
from db.engine import create_engine, make_sessionmaker, retryable, statement_sessionmaker
from db.models import InboxUpdate


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _backend_pid(engine: object) -> int:
    async with engine.connect() as conn:  # type: ignore[attr-defined]
        return int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def _log_queries(engine: AsyncEngine, sent: list[str]) -> Callable[[], None]:
    """Log the simple queries of the connection the pool hands out next into `sent`.

    Returns the function that stops the logging. asyncpg logs simple queries (BEGIN, `;`),
    not prepared statements.
    """
    async with engine.connect() as conn:  # now the pool's next connection
        raw = (await conn.get_raw_connection()).driver_connection
    assert raw is not None

    def log(record: Any) -> None:
        sent.append(record.query)

    raw.add_query_logger(log)
    return lambda: raw.remove_query_logger(log)


async def test_a_connection_killed_while_pooled_is_replaced(pg_database_url: str) -> None:
    """A server restart (here: the pooled connection's backend killed) costs no operation."""
    engine = create_engine(pg_database_url)
    try:
        first = await _backend_pid(engine)
        admin = await asyncpg.connect(_dsn(pg_database_url), timeout=5)
        try:
            assert await admin.fetchval("SELECT pg_terminate_backend($1)", first)
        finally:
            await admin.close()
        # The pooled connection is dead; the checkout notices and connects afresh.
        second = await _backend_pid(engine)
        assert second != first
        assert await _backend_pid(engine) == second  # and keeps the new one
    finally:
        await engine.dispose()


async def test_checkout_check_is_one_statement_outside_a_transaction(
    pg_database_url: str,
) -> None:
    """Not SQLAlchemy's pre-ping, which wraps its ping in BEGIN ... ROLLBACK on asyncpg."""
    engine = create_engine(pg_database_url)
    sent: list[str] = []
    try:
        await _log_queries(engine, sent)
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        # pre-ping would have sent BEGIN, ";", ROLLBACK before the statement's own BEGIN.
        # (asyncpg logs simple queries, not the prepared SELECT itself).
        assert sent[:2] == [";", "BEGIN;"]
        assert sent.count(";") == 1
    finally:
        await engine.dispose()


async def _raised(engine: AsyncEngine, statement: str) -> BaseException:
    try:
        async with engine.begin() as conn:
            await conn.execute(text(statement))
    except Exception as error:
        return error
    raise AssertionError(f"{statement!r} did not fail")


async def test_a_violated_constraint_or_bad_statement_is_not_retryable(engine: AsyncEngine) -> None:
    """Running them again would fail the same way."""
    row = "INSERT INTO app_state (key, value, updated_at) VALUES ('k', '1', '2026-01-01')"
    async with engine.begin() as conn:
        await conn.execute(text(row))
    duplicate = await _raised(engine, row)
    assert isinstance(duplicate, IntegrityError)
    assert not retryable(duplicate)
    assert not retryable(await _raised(engine, "SELECT no_such_column FROM app_state"))
    assert not retryable(RuntimeError("a bug"))


async def test_a_deadlock_victim_is_retryable(pg_database_url: str) -> None:
    """PostgreSQL ends one of two transactions that wait for each other (40P01)."""
    engine = create_engine(pg_database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("DELETE FROM app_state"))
            await conn.execute(
                text(
                    "INSERT INTO app_state (key, value, updated_at) VALUES "
                    "('a', '1', now()), ('b', '1', now())"
                )
            )
        both_locked = asyncio.Barrier(2)

        async def lock(first: str, second: str) -> None:
            async with engine.begin() as conn:
                await conn.execute(text(f"UPDATE app_state SET value = '2' WHERE key = '{first}'"))
                await both_locked.wait()
                await conn.execute(text(f"UPDATE app_state SET value = '3' WHERE key = '{second}'"))

        results = await asyncio.gather(lock("a", "b"), lock("b", "a"), return_exceptions=True)
        errors = [r for r in results if isinstance(r, BaseException)]
        assert len(errors) == 1, results
        assert isinstance(errors[0], DBAPIError)
        assert getattr(errors[0].orig, "sqlstate", None) == "40P01"
        assert retryable(errors[0])
    finally:
        await engine.dispose()


async def test_statement_sessions_skip_begin_on_postgresql_and_still_commit(
    engine: AsyncEngine,
) -> None:
    """The pump's bookkeeping: no BEGIN/COMMIT round trips, and what it writes is kept."""
    sessionmaker = make_sessionmaker(engine)
    statements = statement_sessionmaker(sessionmaker)
    now = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    sent: list[str] = []
    if engine.dialect.name == "sqlite":
        assert statements is sessionmaker  # SQLite transactions cost no round trip
        stop_logging = None
    else:
        stop_logging = await _log_queries(engine, sent)
    async with statements() as session:
        assert await session.scalar(select(func.count()).select_from(InboxUpdate)) == 0
    async with statements() as session, session.begin():
        assert await inbox.store(session, [(7, {"update_id": 7})], now) == 1
    if stop_logging is not None:
        stop_logging()
        assert sent  # the connection checks were logged: the logger saw this connection
        assert not [q for q in sent if q.strip(" ;").upper() in {"BEGIN", "COMMIT", "ROLLBACK"}]
    async with sessionmaker() as session:  # another connection sees it: committed
        assert await inbox.highest_id(session) == 7
