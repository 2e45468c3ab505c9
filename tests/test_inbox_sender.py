"""The inbox knows each update's sender: stored with it, filled in by migration 0005, and the
sender's account read in the same query as the update."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.roles import Role
from db import inbox, people
from db.engine import create_engine, make_sessionmaker
from db.migrate import upgrade
from db.models import Contact, InboxUpdate, Unit
from tests.test_report_latest import blank_url

__all__ = ["blank_url"]  # the fixture, from the other migration test

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def _message(update_id: int, user_id: int) -> tuple[int, dict[str, object]]:
    body = {"message_id": update_id, "from": {"id": user_id, "is_bot": False, "first_name": "甲"}}
    return update_id, {"update_id": update_id, "message": body}


async def test_migration_fills_in_the_sender_of_updates_still_waiting(blank_url: str) -> None:
    engine = create_engine(blank_url)
    try:
        await upgrade(engine, "0004")
        rows = [
            (1, _message(1, 11)[1], "new"),
            (2, {"update_id": 2, "channel_post": {"chat": {"id": -5}}}, "new"),
            (3, _message(3, 33)[1], "done"),
        ]
        async with engine.begin() as conn:
            for update_id, payload, status in rows:
                await conn.execute(
                    text(
                        "INSERT INTO inbox (update_id, payload, status, attempts, received_at) "
                        "VALUES (:id, :payload, :status, 0, :at)"
                    ),
                    {"id": update_id, "payload": json.dumps(payload), "status": status,
                     "at": NOW.replace(tzinfo=None)},
                )  # fmt: skip
        await upgrade(engine)
        async with make_sessionmaker(engine)() as session:
            found = dict(
                (await session.execute(select(InboxUpdate.update_id, InboxUpdate.sender_id))).all()
            )
            assert found == {1: 11, 2: None, 3: None}  # a handled update is left alone
            assert await inbox.waiting_senders(session) == {11}
    finally:
        await engine.dispose()


async def test_the_update_comes_with_its_senders_account(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker() as session, session.begin():
        unit = Unit(name="发改局", kind="department")
        session.add(unit)
        await session.flush()
        for role, unit_id, active in [
            (Role.LIAISON, unit.id, True),
            (Role.OFFICE, None, True),
            (Role.LIAISON, unit.id, False),
        ]:
            session.add(
                Contact(
                    tg_user_id=11,
                    chat_id=11,
                    name="甲",
                    role=role,
                    unit_id=unit_id,
                    active=active,
                    created_at=NOW,
                )
            )
        await inbox.store(session, [_message(1, 11), _message(2, 22)], NOW)
        await inbox.store(
            session, [(3, {"update_id": 3, "channel_post": {"chat": {"id": -5}}})], NOW
        )
    async with sessionmaker() as session:
        bound = await inbox.new_update(session, 1)
        assert bound is not None and bound.sender_id == 11
        assert bound.account == await people.account(session, 11)  # as read on its own
        assert bound.account.principal.office and len(bound.account.principal.units) == 1
        assert bound.payload == _message(1, 11)[1]
        stranger = await inbox.new_update(session, 2)
        assert stranger is not None and stranger.account == await people.account(session, 22)
        assert not stranger.account.principal.units and not stranger.account.principal.office
        channel = await inbox.new_update(session, 3)
        assert channel is not None and channel.sender_id is None and channel.account is None
        await inbox.mark_done(session, 1, NOW)
        assert await inbox.new_update(session, 1) is None  # handled: nothing to do


async def test_one_persons_flood_does_not_fill_a_batch(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """30 updates from a stranger, then one from a liaison: the liaison's is in the first batch
    of due updates, beside at most PER_SENDER of the stranger's (issue 19, finding 1)."""
    now = datetime(2026, 3, 16, 2, 0, tzinfo=UTC)
    flood = [_message(1000 + n, 777) for n in range(30)]
    async with sessionmaker() as s, s.begin():
        await inbox.store(s, [*flood, _message(2000, 555)], now)
    async with sessionmaker() as s:
        due = await inbox.due(s, now, limit=10)
    assert (2000, 555) in due
    assert sum(1 for _, sender in due if sender == 777) == inbox.PER_SENDER
    assert [u for u, sender in due if sender == 777] == [1000, 1001, 1002, 1003]
