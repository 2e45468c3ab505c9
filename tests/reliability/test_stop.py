"""A stop (SIGTERM, systemd restart) lets the update under way finish and commit.

Its answer may already be on the person's screen — 已提交 for a report — so cancelling it would
roll back what they were shown until the next start handles it again (found by bench.updates).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from telegram import Update
from telegram.ext import MessageHandler, filters

from db.models import InboxUpdate
from tests.flows.conftest import START
from tests.harness import start_harness


async def test_stop_waits_for_the_update_under_way(engine: AsyncEngine, database_url: str) -> None:
    h = await start_harness(database_url, now=START)
    started, release = asyncio.Event(), asyncio.Event()

    async def slow(update: Update, context: Any) -> None:
        started.set()
        await release.wait()

    assert h.runtime.application is not None
    h.runtime.application.add_handler(MessageHandler(filters.Regex("^slow$"), slow), group=-1)
    try:
        who = await h.person("张三")
        await h.people.send_message(who.id, "slow")
        await asyncio.wait_for(started.wait(), 10)
        stopping = asyncio.create_task(h.runtime.stop())
        await asyncio.sleep(0.2)
        assert not stopping.done()  # waiting for the handler, not cancelling it
        release.set()
        await asyncio.wait_for(stopping, 15)
        async with h.sessionmaker() as session:
            statuses = (await session.scalars(select(InboxUpdate.status))).all()
        assert statuses and set(statuses) == {"done"}
        reply = await h.people.wait_for_bot_message(who.id)  # the rest of the update ran too
        assert reply.plain
    finally:
        release.set()
        await h.people.close()
        await h.server.stop()
        await h.engine.dispose()


async def test_an_idle_bot_stops_at_once(engine: AsyncEngine, database_url: str) -> None:
    h = await start_harness(database_url, now=START)
    try:
        t0 = time.perf_counter()
        await h.runtime.stop()
        assert time.perf_counter() - t0 < 3.0
    finally:
        await h.people.close()
        await h.server.stop()
        await h.engine.dispose()
