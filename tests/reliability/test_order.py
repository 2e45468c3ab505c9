"""A person's updates are handled in the order they sent them, even when one must be retried.

Found by the faults suite: /report's reply was delivered but its response lost, so the update
was postponed for a retry; the person pressed a task on the picker they did see and wrote their
text, but the late retry of /report reopened the conversation at "choose a task" and the text
got the hint instead of the confirmation card.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.domain.roles import Role
from db import inbox
from db.models import InboxUpdate
from tests.flows.conftest import START
from tests.harness import start_harness, stop_harness


async def test_a_postponed_update_holds_back_the_same_persons_later_ones(
    engine: AsyncEngine, database_url: str
) -> None:
    h = await start_harness(database_url, now=START)
    try:
        liaison = await h.bound("发改局联络员", Role.LIAISON, unit="发改局")
        other = await h.bound("财政局联络员", Role.LIAISON, unit="财政局")
        await h.people.add_fault("lost", methods=["sendMessage"], times=1)
        await h.people.send_command(liaison.id, "report")
        picker = await h.people.wait_for_bot_message(liaison.id)  # delivered; the bot never knew
        label = next(b.text for row in picker.buttons for b in row if b.text.startswith("第"))
        await h.people.press_button(liaison.id, picker.message_id, text=label)
        assert (await h.command(other, "help")).plain  # someone else is not held back by it
        await h.people.send_message(liaison.id, "完成45%，无困难")

        h.clock.advance(timedelta(seconds=5))  # the retry of /report falls due
        assert h.runtime.pump is not None
        h.runtime.pump.wake.set()
        card = await h.people.wait_for_bot_message(
            liaison.id, lambda m: not (m.plain or "").startswith("请选择要报送进展的任务")
        )
        assert "进展报送确认" in (card.plain or ""), card.plain
    finally:
        await stop_harness(h)


async def test_a_retry_failing_again_still_holds_back_the_later_ones(
    engine: AsyncEngine, database_url: str
) -> None:
    # As above, but the retry of /report fails too, in the same batch as the press and the text
    # that wait behind it (found by the faults suite: the text got "choose a task first").
    h = await start_harness(database_url, now=START)
    try:
        liaison = await h.bound("发改局联络员", Role.LIAISON, unit="发改局")
        await h.people.add_fault("lost", methods=["sendMessage"], times=2)
        await h.people.send_command(liaison.id, "report")
        picker = await h.people.wait_for_bot_message(liaison.id)
        label = next(b.text for row in picker.buttons for b in row if b.text.startswith("第"))
        await h.people.press_button(liaison.id, picker.message_id, text=label)
        await h.people.send_message(liaison.id, "完成45%，无困难")
        assert h.runtime.pump is not None
        for _ in range(2):  # the first retry is lost as well; the second one gets through
            await h.settle()
            h.clock.advance(timedelta(seconds=10))
            h.runtime.pump.wake.set()
        card = await h.people.wait_for_bot_message(
            liaison.id, lambda m: "进展报送确认" in (m.plain or "")
        )
        assert "完成45%" in (card.plain or "")
        hints = [m.plain for m in await h.people.bot_messages(liaison.id)]
        assert not any("请先在上方选择" in (t or "") for t in hints), hints
    finally:
        await stop_harness(h)


def _message(update_id: int, user_id: int) -> tuple[int, dict[str, Any]]:
    user = {"id": user_id, "is_bot": False, "first_name": "x"}
    chat = {"id": user_id, "type": "private"}
    return update_id, {"update_id": update_id, "message": {"from": user, "chat": chat, "text": "x"}}


async def test_pending_keeps_each_persons_order(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    now = START
    async with sessionmaker() as session, session.begin():
        await inbox.store(
            session,
            [
                _message(1, 11),
                _message(2, 22),
                _message(3, 11),
                _message(4, 33),
                _message(5, 22),
                (6, {"update_id": 6, "channel_post": {"chat": {"id": -5}}}),
            ],
            now,
        )
        # Person 11's first update failed and waits for a retry; 22's second one too.
        await session.execute(
            update(InboxUpdate)
            .where(InboxUpdate.update_id.in_([1, 5]))
            .values(next_attempt_at=now + timedelta(seconds=8), attempts=1)
        )
    async with sessionmaker() as session:
        assert await inbox.pending(session, now) == [2, 4, 6]
        assert await inbox.pending(session, now, limit=2) == [2, 4]
        later = now + timedelta(seconds=10)
        assert await inbox.pending(session, later) == [1, 2, 3, 4, 5, 6]


async def test_pending_looks_past_a_window_of_held_updates(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    now = START
    async with sessionmaker() as session, session.begin():
        await inbox.store(session, [_message(n, 11) for n in range(1, 8)] + [_message(9, 22)], now)
        await session.execute(
            update(InboxUpdate)
            .where(InboxUpdate.update_id == 1)
            .values(next_attempt_at=now + timedelta(seconds=8), attempts=1)
        )
    async with sessionmaker() as session:
        assert await inbox.pending(session, now, limit=3) == [9]
