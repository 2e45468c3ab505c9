"""The Bot API over raw HTTP: encodings, response shapes and error bodies as Telegram sends them."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

import aiohttp
import pytest

from bot.emulator import DEFAULT_TOKEN, ControlClient, EmulatorServer, Person

JSONDict = dict[str, Any]


async def post(server: EmulatorServer, method: str, **params: Any) -> tuple[int, JSONDict]:
    """POST a JSON body to a Bot API method."""
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{server.base_url}{server.token}/{method}", json=params) as resp,
    ):
        return resp.status, await resp.json()


async def test_get_me_shape(server: EmulatorServer) -> None:
    """getMe returns a bot User with is_bot and the capability flags."""
    status, body = await post(server, "getMe")
    assert status == 200
    assert body["ok"] is True
    me = body["result"]
    assert me["is_bot"] is True
    assert me["id"] == int(server.token.split(":")[0])
    assert {"first_name", "username", "can_join_groups", "can_read_all_group_messages"} <= set(me)


async def test_get_query_string_and_case_insensitive_method(server: EmulatorServer) -> None:
    """Methods answer GET with query parameters; method names are case-insensitive."""
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{server.base_url}{server.token}/getme") as resp,
    ):
        assert resp.status == 200
        assert (await resp.json())["result"]["is_bot"] is True


async def test_message_update_shape(server: EmulatorServer, alice: Person) -> None:
    """A /start update: dates in seconds, chat type private, bot_command entity."""
    _, body = await post(server, "getUpdates")
    [update] = body["result"]
    message = update["message"]
    assert isinstance(update["update_id"], int)
    assert message["chat"] == {
        "id": alice.id,
        "type": "private",
        "first_name": "Alice",
        "username": "alice",
    }
    assert message["from"]["is_bot"] is False
    assert message["from"]["language_code"] == "zh-hans"
    assert message["text"] == "/start"
    assert message["entities"] == [{"offset": 0, "length": 6, "type": "bot_command"}]
    assert 1_600_000_000 < message["date"] < 10_000_000_000  # seconds, not milliseconds


async def test_send_message_form_encoded_like_ptb(server: EmulatorServer, alice: Person) -> None:
    """PTB's encoding: form fields with nested objects as JSON strings."""
    markup = {"inline_keyboard": [[{"text": "完成", "callback_data": "done:1"}]]}
    form = {
        "chat_id": str(alice.id),
        "text": "<b>任务</b> 已登记",
        "parse_mode": "HTML",
        "reply_markup": json.dumps(markup),
        "link_preview_options": json.dumps({"is_disabled": True}),
    }
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{server.base_url}{server.token}/sendMessage", data=form) as resp,
    ):
        body = await resp.json()
    result = body["result"]
    assert result["text"] == "任务 已登记"
    assert result["entities"] == [{"offset": 0, "length": 2, "type": "bold"}]
    assert result["reply_markup"] == markup
    assert result["from"]["is_bot"] is True
    assert result["chat"]["type"] == "private"


async def test_reply_parameters_and_legacy_reply_to(server: EmulatorServer, alice: Person) -> None:
    """reply_parameters and reply_to_message_id both set reply_to_message."""
    _, first = await post(server, "sendMessage", chat_id=alice.id, text="one")
    first_id = first["result"]["message_id"]
    _, second = await post(
        server, "sendMessage", chat_id=alice.id, text="two", reply_parameters={"message_id": 1}
    )
    assert second["result"]["reply_to_message"]["text"] == "/start"
    _, third = await post(
        server, "sendMessage", chat_id=alice.id, text="three", reply_to_message_id=first_id
    )
    assert third["result"]["reply_to_message"]["message_id"] == first_id
    status, missing = await post(
        server, "sendMessage", chat_id=alice.id, text="x", reply_parameters={"message_id": 999}
    )
    assert (status, missing["description"]) == (400, "Bad Request: message to be replied not found")
    _, allowed = await post(
        server,
        "sendMessage",
        chat_id=alice.id,
        text="x",
        reply_parameters={"message_id": 999, "allow_sending_without_reply": True},
    )
    assert "reply_to_message" not in allowed["result"]


@pytest.mark.parametrize(
    ("params", "status", "description"),
    [
        ({"text": ""}, 400, "Bad Request: message text is empty"),
        ({"text": "   "}, 400, "Bad Request: message text is empty"),
        ({"text": "x" * 4097}, 400, "Bad Request: message is too long"),
        ({"text": "<b>x</b>" * 4000 + "y" * 96, "parse_mode": "HTML"}, 200, None),
        (
            {"text": "<b>x</b>" * 4000 + "y" * 97, "parse_mode": "HTML"},
            400,
            "Bad Request: message is too long",
        ),
        (
            {"text": "<b>x", "parse_mode": "HTML"},
            400,
            "Bad Request: can't parse entities: "
            'Can\'t find end tag corresponding to start tag "b"',
        ),
        (
            {"text": "1.5", "parse_mode": "MarkdownV2"},
            400,
            "Bad Request: can't parse entities: Character '.' is reserved and must be escaped "
            "with the preceding '\\'",
        ),
        (
            {
                "text": "x",
                "reply_markup": {"inline_keyboard": [[{"text": "a", "callback_data": "d" * 65}]]},
            },
            400,
            "Bad Request: BUTTON_DATA_INVALID",
        ),
        (
            {
                "text": "x",
                "reply_markup": {"inline_keyboard": [[{"text": "a", "callback_data": "数" * 22}]]},
            },
            400,
            "Bad Request: BUTTON_DATA_INVALID",
        ),  # 66 bytes in UTF-8
        (
            {"text": "x", "reply_markup": {"inline_keyboard": [[{"text": "a"}]]}},
            400,
            "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the "
            "inline keyboard",
        ),
        (
            {"text": "x", "reply_markup": "{not json"},
            400,
            "Bad Request: can't parse reply keyboard markup JSON object",
        ),
        (
            {"text": "x", "reply_markup": {"keyboard": [["是", "否"]], "resize_keyboard": True}},
            200,
            None,
        ),
        ({"text": "x", "reply_markup": {"remove_keyboard": True}}, 200, None),
        ({"text": "x", "reply_markup": {"force_reply": True}}, 200, None),
    ],
)
async def test_send_message_validation(
    server: EmulatorServer,
    alice: Person,
    params: JSONDict,
    status: int,
    description: str | None,
) -> None:
    """Each refusal has Telegram's status and description; the rest succeed."""
    got_status, body = await post(server, "sendMessage", chat_id=alice.id, **params)
    assert got_status == status
    if description is None:
        assert body["ok"] is True
    else:
        assert body == {"ok": False, "error_code": status, "description": description}


async def test_chat_refusals(server: EmulatorServer, people: ControlClient) -> None:
    """Unknown chat 400; never-started user and blocked user 403; group without the bot 403."""
    status, body = await post(server, "sendMessage", chat_id=424242, text="x")
    assert (status, body["description"]) == (400, "Bad Request: chat not found")
    bob = await people.create_user("Bob")
    status, body = await post(server, "sendMessage", chat_id=bob.id, text="x")
    assert (status, body["description"]) == (
        403,
        "Forbidden: bot can't initiate conversation with a user",
    )
    await people.start_bot(bob.id)
    await people.block_bot(bob.id)
    status, body = await post(server, "sendMessage", chat_id=bob.id, text="x")
    assert (status, body["description"]) == (403, "Forbidden: bot was blocked by the user")
    group = await people.create_group("牵头单位群", [bob.id])
    status, body = await post(server, "sendMessage", chat_id=group, text="x")
    assert (status, body["description"]) == (
        403,
        "Forbidden: bot is not a member of the group chat",
    )
    status, body = await post(server, "sendMessage", text="x")
    assert (status, body["description"]) == (400, "Bad Request: chat_id is empty")


async def test_tokens_and_unknown_methods(server: EmulatorServer) -> None:
    """Wrong token 401, malformed token 404, unimplemented method 400 naming it."""
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{server.base_url}123:wrong/getMe") as resp:
            assert resp.status == 401
            assert await resp.json() == {
                "ok": False,
                "error_code": 401,
                "description": "Unauthorized",
            }
        async with session.post(f"{server.base_url}garbage/getMe") as resp:
            assert resp.status == 404
            assert (await resp.json())["description"] == "Not Found"
    status, body = await post(server, "sendSticker", chat_id=1, sticker="x")
    assert status == 400
    assert (
        body["description"] == "Bad Request: method sendSticker is not implemented by the emulator"
    )


async def test_edit_and_callback_shapes(
    server: EmulatorServer, people: ControlClient, alice: Person
) -> None:
    """Edits return the Message with edit_date; callback queries carry chat_instance."""
    markup = {"inline_keyboard": [[{"text": "好", "callback_data": "ok"}]]}
    _, sent = await post(server, "sendMessage", chat_id=alice.id, text="问", reply_markup=markup)
    message_id = sent["result"]["message_id"]
    query = await people.press_button(alice.id, message_id, data="ok")
    _, updates = await post(server, "getUpdates", offset=0)
    callback = updates["result"][-1]["callback_query"]
    assert callback["id"] == query.id
    assert callback["data"] == "ok"
    assert isinstance(callback["chat_instance"], str)
    assert callback["message"]["message_id"] == message_id
    assert callback["from"]["id"] == alice.id
    _, edited = await post(
        server,
        "editMessageText",
        chat_id=alice.id,
        message_id=message_id,
        text="答",
        reply_markup=markup,
    )
    assert edited["result"]["text"] == "答"
    assert isinstance(edited["result"]["edit_date"], int)
    status, same = await post(
        server,
        "editMessageText",
        chat_id=alice.id,
        message_id=message_id,
        text="答",
        reply_markup=markup,
    )
    assert status == 400
    assert same["description"].startswith("Bad Request: message is not modified: specified new")
    status, gone = await post(server, "editMessageText", chat_id=alice.id, message_id=777, text="z")
    assert (status, gone["description"]) == (400, "Bad Request: message to edit not found")


async def test_webhook_conflicts_with_get_updates(server: EmulatorServer) -> None:
    """getUpdates while a webhook is set answers 409 like Telegram."""
    status, _ = await post(server, "setWebhook", url="http://127.0.0.1:9/hook")
    assert status == 200
    status, body = await post(server, "getUpdates")
    assert status == 409
    assert body["description"].startswith("Conflict: can't use getUpdates method while webhook")
    status, body = await post(server, "setWebhook", url="https://example.org/hook")
    assert status == 400
    await post(server, "deleteWebhook")


async def test_control_api_errors_are_json(server: EmulatorServer) -> None:
    """A control request that cannot be carried out answers 400 with a reason."""
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{server.url}/_control/send_message", json={"user_id": 5, "text": "x"}) as r,
    ):
        assert r.status == 400
        assert (await r.json()) == {"ok": False, "error": "unknown user 5"}


async def test_standalone_module_serves_and_stops() -> None:
    """``python -m bot.emulator --port 0`` prints its URL, serves getMe and stops on SIGTERM."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.emulator",
        "--port",
        "0",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 10)).decode()
        url = line.rsplit(" ", 1)[-1].strip()
        assert url.startswith("http://127.0.0.1:")
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"{url}/bot{DEFAULT_TOKEN}/getMe") as resp,
        ):
            assert (await resp.json())["result"]["is_bot"] is True
    finally:
        process.terminate()
        assert await asyncio.wait_for(process.wait(), 10) == 0
