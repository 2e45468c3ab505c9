"""The migrations give the same schema as the models, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Connection, inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db.migrate import current_revision
from db.models import AuditEntry, Base, Unit, UnitAlias


def _table_columns(conn: Connection) -> dict[str, set[str]]:
    insp = inspect(conn)
    return {t: {c["name"] for c in insp.get_columns(t)} for t in insp.get_table_names()}


async def test_migrated_schema_matches_models(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        tables = await conn.run_sync(_table_columns)
    expected = {t.name: {c.name for c in t.columns} for t in Base.metadata.sorted_tables}
    tables.pop("alembic_version")
    assert tables == expected
    assert await current_revision(engine) is not None


def _diff(conn: Connection) -> list[object]:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    context = MigrationContext.configure(conn, opts={"compare_type": False})
    return list(compare_metadata(context, Base.metadata))


async def test_models_and_migrations_do_not_drift(engine: AsyncEngine) -> None:
    """Autogenerate against the migrated database finds nothing to do (tables, indexes...)."""
    async with engine.connect() as conn:
        diff = await conn.run_sync(_diff)
    assert diff == []


async def test_aware_datetimes_round_trip_in_utc(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    shanghai = timezone(timedelta(hours=8))
    moment = datetime(2026, 3, 25, 17, 0, tzinfo=shanghai)
    async with sessionmaker() as s, s.begin():
        s.add(AuditEntry(at=moment, action="test"))
    async with sessionmaker() as s:
        row = (await s.execute(select(AuditEntry))).scalar_one()
    assert row.at == moment
    assert row.at.tzinfo is not None
    assert row.at.utcoffset() == timedelta(0)
    assert row.at.astimezone(UTC).hour == 9


async def test_naive_datetime_is_refused(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker() as s:
        s.add(AuditEntry(at=datetime(2026, 1, 1), action="test"))  # noqa: DTZ001
        with pytest.raises(Exception, match="naive"):
            await s.commit()


async def test_foreign_keys_are_enforced(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker() as s:
        s.add(UnitAlias(alias="无此单位", unit_id=999))
        with pytest.raises(IntegrityError):
            await s.commit()


async def test_unique_names(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker() as s, s.begin():
        s.add(Unit(name="发改局", kind="department"))
    async with sessionmaker() as s:
        s.add(Unit(name="发改局", kind="department"))
        with pytest.raises(IntegrityError):
            await s.commit()
