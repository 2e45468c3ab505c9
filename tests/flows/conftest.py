"""The `h` fixture: a running bot and emulator, once per database backend."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.harness import Harness, start_harness, stop_harness

SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 3, 16, 10, 0, tzinfo=SHANGHAI)  # a Monday, ten days before a deadline


@pytest.fixture
async def h(engine: AsyncEngine, database_url: str) -> AsyncIterator[Harness]:
    """The bot on an empty migrated database with the 2026 register, at START."""
    harness = await start_harness(database_url, now=START)
    try:
        yield harness
    finally:
        await stop_harness(harness)
    assert harness.errors == [], f"handler errors: {harness.errors!r}"
