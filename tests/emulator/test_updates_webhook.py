"""Long polling, offsets, allowed_updates, duplicates, shutdown wake-up and webhook delivery."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from aiohttp import web
from telegram import Bot
from telegram.error import Conflict
from telegram.request import HTTPXRequest

from bot.emulator import ControlClient, EmulatorServer, Person


async def test_long_poll_returns_when_an_update_arrives(
    bot: Bot, people: ControlClient, alice: Person
) -> None:
    """A waiting getUpdates answers as soon as a person writes, not at its timeout."""
    [first] = await bot.get_updates(timeout=0)
    poll = asyncio.create_task(bot.get_updates(offset=first.update_id + 1, timeout=20))
    await asyncio.sleep(0.1)
    assert not poll.done()
    started = time.monotonic()
    await people.send_message(alice.id, "进展如何")
    [update] = await asyncio.wait_for(poll, 2)
    assert time.monotonic() - started < 1
    assert update.message is not None
    assert update.message.text == "进展如何"


async def test_long_poll_wakes_at_shutdown() -> None:
    """Stopping the server ends a pending 30 s long poll at once."""
    server = EmulatorServer()
    await server.start()
    async with Bot(
        server.token,
        base_url=server.base_url,
        base_file_url=server.base_file_url,
        get_updates_request=HTTPXRequest(read_timeout=40),
    ) as bot:
        poll = asyncio.create_task(bot.get_updates(timeout=30, read_timeout=40))
        await asyncio.sleep(0.2)
        started = time.monotonic()
        await server.stop()
        assert await asyncio.wait_for(poll, 2) == ()
        assert time.monotonic() - started < 1.0


async def test_a_second_poll_ends_the_first_with_conflict(bot: Bot) -> None:
    """As on Telegram, a newer getUpdates terminates an older one with 409 Conflict."""
    first = asyncio.create_task(bot.get_updates(timeout=10))
    await asyncio.sleep(0.1)
    second = asyncio.create_task(bot.get_updates(timeout=0))
    with pytest.raises(Conflict, match=r"(?i)terminated by other getUpdates request"):
        await first
    assert await second == ()


async def test_offset_limit_and_negative_offset(
    bot: Bot, people: ControlClient, alice: Person
) -> None:
    """offset confirms everything below it; limit caps the batch; -N keeps the last N."""
    for n in range(4):
        await people.send_message(alice.id, f"m{n}")
    batch = await bot.get_updates(limit=2, timeout=0)
    assert [u.message.text for u in batch if u.message] == ["/start", "m0"]
    rest = await bot.get_updates(offset=batch[-1].update_id + 1, timeout=0)
    assert [u.message.text for u in rest if u.message] == ["m1", "m2", "m3"]
    last = await bot.get_updates(offset=-1, timeout=0)
    assert [u.message.text for u in last if u.message] == ["m3"]
    assert len(await people.pending_updates()) == 1


async def test_allowed_updates_filters_new_updates(
    bot: Bot, people: ControlClient, alice: Person
) -> None:
    """Update types outside allowed_updates are not delivered."""
    await bot.get_updates(timeout=0, allowed_updates=["message"])
    sent = await bot.send_message(
        alice.id,
        "x",
        reply_markup={"inline_keyboard": [[{"text": "a", "callback_data": "a"}]]},  # type: ignore[arg-type]
    )
    await people.press_button(alice.id, sent.message_id, data="a")
    await people.send_message(alice.id, "after")
    updates = await bot.get_updates(offset=-10, timeout=0, allowed_updates=[])
    assert [u.callback_query for u in updates] == [None, None]
    await people.press_button(alice.id, sent.message_id, data="a")
    updates = await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0)
    assert updates[0].callback_query is not None


async def test_duplicate_update_is_redelivered_with_same_id(
    bot: Bot, people: ControlClient, alice: Person
) -> None:
    """A duplicated update arrives again with the same update_id, even after it was confirmed."""
    [start] = await bot.get_updates(timeout=0)
    assert await bot.get_updates(offset=start.update_id + 1, timeout=0) == ()
    await people.duplicate_update(start.update_id)
    [again] = await bot.get_updates(offset=start.update_id + 1, timeout=0)
    assert again.update_id == start.update_id
    assert again.message is not None
    assert again.message.text == "/start"
    assert await bot.get_updates(offset=start.update_id + 1, timeout=0) == ()


async def test_injected_raw_update(bot: Bot, people: ControlClient, alice: Person) -> None:
    """A raw update can be injected as-is."""
    await bot.get_updates(timeout=0)
    update_id = await people.inject_update(
        {
            "update_id": 5,
            "message": {"message_id": 99, "date": 1, "chat": {"id": 1, "type": "private"}},
        }
    )
    [update] = await bot.get_updates(offset=-1, timeout=0)
    assert update.update_id == update_id == 5


async def _receiver(
    statuses: list[int],
) -> tuple[web.AppRunner, str, list[tuple[dict[str, Any], str | None]]]:
    """A local webhook endpoint answering with ``statuses`` in turn (then 200)."""
    received: list[tuple[dict[str, Any], str | None]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append(
            (await request.json(), request.headers.get("X-Telegram-Bot-Api-Secret-Token"))
        )
        return web.Response(status=statuses.pop(0) if statuses else 200)

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app, shutdown_timeout=0.2)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}/hook", received


async def test_webhook_delivery_with_secret_and_retries(
    bot: Bot, people: ControlClient, alice: Person
) -> None:
    """Updates are POSTed with the secret header; a non-2xx answer is retried and recorded."""
    runner, url, received = await _receiver([500])
    try:
        assert await bot.set_webhook(url, secret_token="tok-123")
        await people.send_message(alice.id, "第二条")

        async def delivered() -> bool:
            return not await people.pending_updates() and len(received) >= 3

        await people.wait_until(delivered, timeout=5)
        texts = [body["message"]["text"] for body, _ in received]
        assert texts == ["/start", "/start", "第二条"]  # the first try got 500 and was retried
        assert {secret for _, secret in received} == {"tok-123"}
        assert received[0][0]["update_id"] == received[1][0]["update_id"]
        info = await bot.get_webhook_info()
        assert info.pending_update_count == 0
        assert (
            info.last_error_message == "Wrong response from the webhook: 500 Internal Server Error"
        )
        assert info.last_error_date is not None
    finally:
        await bot.delete_webhook()
        await runner.cleanup()
