"""The one-trip aiosqlite connection behaves like aiosqlite under SQLAlchemy."""

from __future__ import annotations

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


async def test_commit_and_rollback_outside_a_transaction_stay_on_the_loop(tmp_path: Path) -> None:
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
                trips.append(getattr(fn, "__name__", "statement"))
                return await original(fn, *args, **kwargs)

            raw._execute = counted  # type: ignore[method-assign]
            await conn.execute(text("SELECT count(*) FROM t"))
            await conn.commit()  # a read opened no transaction: nothing to send
            assert trips == ["<lambda>"]
            await conn.execute(text("INSERT INTO t VALUES (1)"))
            await conn.commit()
            assert trips == ["<lambda>", "<lambda>", "commit"]
            await conn.execute(text("INSERT INTO t VALUES (2)"))
            await conn.rollback()
            assert trips[-1] == "rollback"
            assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar_one() == 1
    finally:
        await engine.dispose()
