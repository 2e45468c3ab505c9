"""Faults while handling an update: a bug reaches the admin chat; a Telegram hiccup is retried."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from telegram import Bot

from bot import texts
from bot.domain.roles import Role
from bot.runtime.app import MAX_ATTEMPTS
from bot.runtime.scheduling import run_planning
from db import progress
from db.models import InboxUpdate, Report, ReportDraft
from db.sqlite_driver import OneTripConnection
from tests.flows.conftest import START
from tests.flows.test_report import pick_task
from tests.harness import Harness, start_harness, stop_harness

ADMIN_CHAT = 424242


@pytest.fixture
async def hx(engine: AsyncEngine, database_url: str) -> AsyncIterator[Harness]:
    """A bot that reports errors to an admin chat."""
    harness = await start_harness(database_url, now=START, settings={"admin_chat_id": ADMIN_CHAT})
    await harness.people.create_user("值班管理员", user_id=ADMIN_CHAT)
    await harness.people.start_bot(ADMIN_CHAT, send_command=False)
    try:
        yield harness
    finally:
        await stop_harness(harness)


async def test_a_bug_is_reported_and_changes_nothing(
    hx: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    person = await hx.bound("联络员", Role.LIAISON, unit="发改局")

    def broken(*_: object) -> str:
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(texts, "help_text", broken)
    answer = await hx.command(person, "help")
    assert answer.plain == texts.INTERNAL_ERROR
    report = await hx.people.wait_for_bot_message(ADMIN_CHAT)
    assert "督办助手出错" in (report.plain or "")
    assert "RuntimeError: simulated bug" in (report.plain or "")
    rows = await hx.rows(InboxUpdate)
    failed = [r for r in rows if r.status == "failed"]
    assert len(failed) == 1
    assert "simulated bug" in (failed[0].error or "")
    assert [type(e) for e in hx.errors] == [RuntimeError]
    hx.errors.clear()


async def _failing_update(hx: Harness, attempts: int) -> InboxUpdate:
    """The one update not handled yet, once it has been tried `attempts` times."""
    for _ in range(1000):
        rows = [r for r in await hx.rows(InboxUpdate) if r.status != "done"]
        if rows and rows[0].attempts >= attempts:
            (row,) = rows
            return row
        await asyncio.sleep(0.01)
    raise AssertionError(f"no update tried {attempts} times")


async def test_a_confirmation_outlasts_an_hour_of_telegram_errors(hx: Harness) -> None:
    person = await hx.bound("联络员", Role.LIAISON, unit="发改局")
    await pick_task(hx, person, 6)
    card = await hx.say(person, "完成30%")
    # The card's edit fails 12 times in a row (5xx): retried over about half an hour.
    await hx.people.add_fault("server_error", rate=1.0, methods=["editMessageText"], times=12)
    await hx.people.press_button(person.id, card.message_id, text="确认提交")
    assert hx.runtime.pump is not None
    for attempt in range(1, 13):
        row = await _failing_update(hx, attempt)
        assert row.status == "new" and row.attempts == attempt  # to be retried, not given up
        assert await hx.rows(Report) == []
        hx.clock.advance(timedelta(minutes=6))
        if attempt == 6:
            # The draft's 30 minutes are over; the drafts job leaves it to the waiting press.
            assert hx.runtime.services is not None
            await run_planning(hx.runtime.services, None)
            assert len(await hx.rows(ReportDraft)) == 1
        await hx.runtime.pump.process_pending()
    edited = await hx.people.wait_for_edit(person.id, card.message_id)
    assert "已提交" in (edited.plain or "")
    assert len(await hx.rows(Report)) == 1
    hx.errors.clear()


async def test_an_update_failing_for_over_an_hour_is_given_up_and_logged(
    hx: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    person = await hx.bound("联络员", Role.LIAISON, unit="发改局")
    await hx.people.add_fault("server_error", rate=1.0, methods=["sendMessage"])
    await hx.people.send_command(person.id, "help")
    assert hx.runtime.pump is not None
    row = await _failing_update(hx, 1)
    for _ in range(MAX_ATTEMPTS - 1):
        hx.clock.advance(timedelta(minutes=6))
        await hx.runtime.pump.process_pending()
    (row,) = [r for r in await hx.rows(InboxUpdate) if r.update_id == row.update_id]
    assert row.status == "failed" and row.attempts == MAX_ATTEMPTS
    assert f"given up after {MAX_ATTEMPTS} attempts" in caplog.text
    await hx.people.clear_faults()
    hx.errors.clear()


async def _retried_and_stored_once(hx: Harness, person_id: int, card_id: int) -> None:
    """The confirmation's retry falls due: the card says 已提交 and one report is stored."""
    hx.clock.advance(timedelta(seconds=5))
    assert hx.runtime.pump is not None
    await hx.runtime.pump.process_pending()
    edited = await hx.people.wait_for_edit(person_id, card_id)
    assert "已提交" in (edited.plain or "")
    assert len(await hx.rows(Report)) == 1


async def test_a_5xx_while_confirming_is_retried_and_stored_once(hx: Harness) -> None:
    person = await hx.bound("联络员", Role.LIAISON, unit="发改局")
    await pick_task(hx, person, 6)
    card = await hx.say(person, "完成30%")
    await hx.people.add_fault("server_error", rate=1.0, methods=["editMessageText"], times=1)
    query = await hx.people.press_button(person.id, card.message_id, text="确认提交")
    await hx.people.wait_for_callback_answer(query.id)
    assert await hx.rows(Report) == []  # rolled back with the failed reply
    await _retried_and_stored_once(hx, person.id, card.message_id)
    assert hx.errors  # the first attempt's error reached the error handler
    hx.errors.clear()


async def _lose_the_database(session: AsyncSession, database_url: str) -> None:
    """A real database failure in the middle of a transaction, on either backend.

    PostgreSQL: the server ends this session's connection (as on a restart). SQLite: another
    process holds the write lock past the driver's wait (the test shortens it).
    """
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))
        return
    blocker = sqlite3.connect(make_url(database_url).database or "", isolation_level=None)
    try:
        blocker.execute("BEGIN IMMEDIATE")
        await session.execute(text("UPDATE app_state SET value = value WHERE key = 'none'"))
    finally:
        blocker.close()


async def test_a_database_failure_while_confirming_is_retried_and_stored_once(
    hx: Harness, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A lost connection or a lock is transient: the press is handled again, not dropped."""
    person = await hx.bound("联络员", Role.LIAISON, unit="发改局")
    await pick_task(hx, person, 6)
    card = await hx.say(person, "完成30%")
    monkeypatch.setattr(OneTripConnection, "busy_timeout", 0.2)
    real = progress.store_report
    calls = 0

    async def store_once_failing(session: AsyncSession, *args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 1:
            await _lose_the_database(session, database_url)
        return await real(session, *args, **kwargs)

    monkeypatch.setattr(progress, "store_report", store_once_failing)
    await hx.people.press_button(person.id, card.message_id, text="确认提交")
    row = await _failing_update(hx, 1)
    assert row.status == "new" and row.next_attempt_at is not None  # to be retried
    assert [type(e).__name__ for e in hx.errors] in (["OperationalError"], ["DBAPIError"])
    assert await hx.rows(Report) == []
    assert await hx.people.transcript(ADMIN_CHAT) == []  # a hiccup, not a bug to report
    await _retried_and_stored_once(hx, person.id, card.message_id)
    assert calls == 2
    hx.errors.clear()


async def test_a_second_poller_does_not_stop_the_bot(hx: Harness) -> None:
    """A 409 Conflict (another instance polling) is logged and polling resumes."""
    assert hx.runtime.pump is not None
    hx.runtime.pump.conflict_pause = 0.2
    person = await hx.bound("联络员", Role.LIAISON, unit="发改局")
    async with Bot(hx.server.token, base_url=hx.server.base_url) as intruder:
        await intruder.get_updates(timeout=0)  # ends the bot's long poll with 409
    answer = await hx.command(person, "help")
    assert "发改局联络员" in (answer.plain or "")
