"""The one-trip aiosqlite connection behaves like aiosqlite under SQLAlchemy."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from db import sqlite_driver
from db.engine import create_engine


async def test_rows_counts_ids_and_errors(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    try:
        async with engine.begin() as conn:
            raw = await conn.get_raw_connection()
            assert isinstance(raw.driver_connection, sqlite_driver.OneTripConnection)
            await conn.execute(text("CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT UNIQUE)"))
            inserted = await conn.execute(text("INSERT INTO t (b) VALUES ('x')"))
            assert inserted.lastrowid == 1
            many = await conn.execute(
                text("INSERT INTO t (b) VALUES (:b)"), [{"b": "y"}, {"b": "z"}]
            )
            assert many.rowcount == 2
            returned = await conn.execute(text("INSERT INTO t (b) VALUES ('w') RETURNING a"))
            assert returned.scalar_one() == 4
            updated = await conn.execute(text("UPDATE t SET b = b || '!' WHERE a > 1"))
            assert updated.rowcount == 3
            rows = (await conn.execute(text("SELECT a, b FROM t ORDER BY a"))).all()
            assert [tuple(r) for r in rows] == [(1, "x"), (2, "y!"), (3, "z!"), (4, "w!")]
            streamed = await conn.stream(text("SELECT a FROM t ORDER BY a"))
            assert [r[0] async for r in streamed] == [1, 2, 3, 4]
            assert (await conn.execute(text("PRAGMA journal_mode"))).scalar_one() == "wal"
        with pytest.raises(IntegrityError):
            async with engine.begin() as conn:
                await conn.execute(text("INSERT INTO t (b) VALUES ('x')"))
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar_one() == 4
    finally:
        await engine.dispose()


async def test_rollback_discards(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'y.db'}")
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (a INTEGER)"))
        async with engine.connect() as conn:
            await conn.execute(text("INSERT INTO t VALUES (1)"))
            await conn.rollback()
            assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar_one() == 0
    finally:
        await engine.dispose()


async def test_statements_make_no_trip_to_the_worker_thread(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'z.db'}")
    trips: list[str] = []
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (a INTEGER)"))
        async with engine.connect() as conn:
            raw = (await conn.get_raw_connection()).driver_connection
            assert isinstance(raw, sqlite_driver.OneTripConnection)
            original = raw._execute

            async def counted(fn: Any, *args: Any, **kwargs: Any) -> Any:
                trips.append(getattr(fn, "__name__", "?"))
                return await original(fn, *args, **kwargs)

            raw._execute = counted  # type: ignore[method-assign]
            await conn.execute(text("INSERT INTO t VALUES (1)"))
            await conn.commit()
            await conn.execute(text("INSERT INTO t VALUES (2)"))
            await conn.rollback()
            assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar_one() == 1
        assert trips == []
    finally:
        await engine.dispose()


async def test_a_locked_database_is_waited_for_without_blocking_the_loop(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'w.db'}"
    first, second = create_engine(url), create_engine(url)
    try:
        async with first.begin() as conn:
            await conn.execute(text("CREATE TABLE t (a INTEGER)"))
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        clock = asyncio.create_task(ticker())
        async with first.connect() as holder:
            await holder.execute(text("INSERT INTO t VALUES (1)"))  # holds the write lock

            async def writer() -> None:
                async with second.begin() as conn:
                    await conn.execute(text("INSERT INTO t VALUES (2)"))

            waiting = asyncio.create_task(writer())
            await asyncio.sleep(0.2)
            assert not waiting.done() and ticks >= 10  # it waits, and the loop runs on
            await holder.commit()
            await asyncio.wait_for(waiting, 5)
        clock.cancel()
        async with second.connect() as conn:
            assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar_one() == 2
    finally:
        await first.dispose()
        await second.dispose()
