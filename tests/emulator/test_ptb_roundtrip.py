"""python-telegram-bot round-trips every emulator response and maps refusals to its exceptions."""

from __future__ import annotations

import asyncio
import datetime as dtm
import json
import warnings

import pytest
from aiohttp import web
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeChat,
    BotCommandScopeChatMember,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    ReplyKeyboardMarkup,
    ReplyParameters,
)
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter, TimedOut

from bot.emulator import ControlClient, EmulatorServer, FaultKind, Person
from bot.transport.http import AiohttpRequest
from tests.emulator.conftest import transport

KEYBOARD = InlineKeyboardMarkup(
    [
        [InlineKeyboardButton("完成", callback_data="done:7")],
        [InlineKeyboardButton("详情", url="https://example.org/t/7")],
    ]
)


async def test_get_me_and_get_updates(bot: Bot, alice: Person) -> None:
    """get_me parses; get_updates returns the /start message with aware datetimes."""
    me = await bot.get_me()
    assert me.is_bot
    assert me.username == "duban_test_bot"
    [update] = await bot.get_updates(timeout=0)
    assert update.message is not None
    assert update.message.text == "/start"
    assert update.message.date.tzinfo is not None
    assert abs(update.message.date - dtm.datetime.now(dtm.UTC)) < dtm.timedelta(minutes=1)
    assert update.message.entities[0].type == "bot_command"
    # offset acknowledges everything below it
    assert await bot.get_updates(offset=update.update_id + 1, timeout=0) == ()


async def test_send_edit_answer_delete(bot: Bot, people: ControlClient, alice: Person) -> None:
    """send_message with a keyboard, a button press, answer, edit, edit markup, delete."""
    sent = await bot.send_message(
        alice.id, "<b>任务</b>：报送材料", parse_mode=ParseMode.HTML, reply_markup=KEYBOARD
    )
    assert sent.text == "任务：报送材料"
    assert sent.reply_markup == KEYBOARD
    seen = await people.wait_for_bot_message(alice.id)
    assert seen.plain == "任务：报送材料"
    assert seen.text == "<b>任务</b>：报送材料"
    assert seen.button_data == ["done:7"]
    assert seen.buttons[1][0].url == "https://example.org/t/7"

    query = await people.press_button(alice.id, sent.message_id, text="完成")
    updates = await bot.get_updates(timeout=0)
    callback = updates[-1].callback_query
    assert callback is not None
    assert callback.data == "done:7"
    assert callback.message is not None
    assert callback.message.message_id == sent.message_id
    assert await callback.answer("已完成", show_alert=True)
    answer = await people.wait_for_callback_answer(query.id)
    assert (answer.text, answer.show_alert) == ("已完成", True)
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(callback.id)

    edited = await bot.edit_message_text("已完成", chat_id=alice.id, message_id=sent.message_id)
    assert isinstance(edited, type(sent))
    assert edited.edit_date is not None
    assert edited.reply_markup is None  # no reply_markup in the edit removes the keyboard
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text("已完成", chat_id=alice.id, message_id=sent.message_id)
    marked = await bot.edit_message_reply_markup(alice.id, sent.message_id, reply_markup=KEYBOARD)
    assert not isinstance(marked, bool)
    assert marked.reply_markup == KEYBOARD

    transcript = await people.transcript(alice.id)
    current = next(m for m in transcript if m.message_id == sent.message_id)
    assert [v.plain for v in current.edits] == ["任务：报送材料", "已完成"]
    assert current.plain == "已完成"

    assert await bot.delete_message(alice.id, sent.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", chat_id=alice.id, message_id=sent.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await bot.delete_message(alice.id, sent.message_id)
    assert (await people.transcript(alice.id))[-1].deleted


async def test_reply_keyboards_and_replies(bot: Bot, people: ControlClient, alice: Person) -> None:
    """Reply keyboards and ForceReply are in the transcript; a person's reply reaches the bot."""
    await bot.get_updates(timeout=0)
    prompt = await bot.send_message(
        alice.id, "请输入完成情况", reply_markup=ForceReply(input_field_placeholder="完成情况")
    )
    await bot.send_message(alice.id, "选择", reply_markup=ReplyKeyboardMarkup([["是", "否"]]))
    transcript = await people.bot_messages(alice.id)
    assert transcript[0].force_reply
    assert transcript[1].keyboard == [["是", "否"]]
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text(
            "请输入完成情况", chat_id=alice.id, message_id=prompt.message_id
        )
    await bot.edit_message_text(
        "请输入完成情况（必填）", chat_id=alice.id, message_id=prompt.message_id
    )
    assert (await people.bot_messages(alice.id))[0].force_reply  # not part of the message
    await people.reply(alice.id, prompt.message_id, "已完成 80%")
    updates = await bot.get_updates(offset=-1, timeout=0)
    message = updates[-1].message
    assert message is not None
    assert message.reply_to_message is not None
    assert message.reply_to_message.message_id == prompt.message_id
    quoted = await bot.send_message(
        alice.id, "收到", reply_parameters=ReplyParameters(message.message_id)
    )
    assert quoted.reply_to_message is not None
    assert quoted.reply_to_message.text == "已完成 80%"


async def test_documents_round_trip(bot: Bot, people: ControlClient, alice: Person) -> None:
    """send_document with bytes, get_file, download; resend by file_id; a person's upload."""
    payload = "序号,任务\n1,报送\n".encode()
    sent = await bot.send_document(
        alice.id, payload, filename="任务.csv", caption="<i>附件</i>", parse_mode=ParseMode.HTML
    )
    assert sent.document is not None
    assert sent.document.file_name == "任务.csv"
    assert sent.caption == "附件"
    file = await bot.get_file(sent.document.file_id)
    assert bytes(await file.download_as_bytearray()) == payload
    again = await bot.send_document(alice.id, sent.document.file_id)
    assert again.document is not None
    assert again.document.file_id == sent.document.file_id
    seen = await people.wait_for_bot_message(alice.id)
    assert seen.document is not None
    assert (seen.document.filename, seen.document.data) == ("任务.csv", payload)
    assert seen.plain == "附件"

    await bot.get_updates(timeout=0)
    await people.send_document(alice.id, "台账.xlsx", b"PK\x03\x04fake", caption="导入")
    updates = await bot.get_updates(offset=-1, timeout=0)
    document = updates[-1].message.document if updates[-1].message else None
    assert document is not None
    assert document.file_name == "台账.xlsx"
    uploaded = await bot.get_file(document.file_id)
    assert bytes(await uploaded.download_as_bytearray()) == b"PK\x03\x04fake"
    with pytest.raises(BadRequest, match=r"(?i)invalid file_id"):
        await bot.get_file("nope")


async def test_commands_with_scopes(bot: Bot, people: ControlClient, alice: Person) -> None:
    """set/get/delete_my_commands per scope and language; the menu a person sees resolves."""
    default = [BotCommand("start", "开始"), BotCommand("tasks", "我的任务")]
    admin = [BotCommand("report", "报表")]
    assert await bot.set_my_commands(default)
    assert await bot.set_my_commands(admin, scope=BotCommandScopeChat(alice.id))
    assert await bot.set_my_commands([BotCommand("start", "start")], language_code="en")
    assert await bot.get_my_commands() == tuple(default)
    assert await bot.get_my_commands(scope=BotCommandScopeChat(alice.id)) == tuple(admin)
    assert await bot.get_my_commands(scope=BotCommandScopeAllGroupChats()) == ()
    assert (await bot.get_my_commands(language_code="en"))[0].description == "start"
    visible = await people.visible_commands(alice.id)
    assert [c["command"] for c in visible] == ["report"]
    assert await bot.delete_my_commands(scope=BotCommandScopeChat(alice.id))
    assert [c["command"] for c in await people.visible_commands(alice.id)] == ["start", "tasks"]
    with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand("Bad-Name", "x")])
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.set_my_commands(admin, scope=BotCommandScopeChat(999))
    group = await people.create_group("责任单位", [alice.id])
    assert await bot.set_my_commands(admin, scope=BotCommandScopeChatMember(group, alice.id))
    assert await bot.get_my_commands(scope=BotCommandScopeChatMember(group, alice.id)) == tuple(
        admin
    )


async def test_chats_groups_and_leaving(bot: Bot, people: ControlClient, alice: Person) -> None:
    """get_chat, the bot joining a group (my_chat_member), leave_chat, chat actions."""
    chat = await bot.get_chat(alice.id)
    assert (chat.id, chat.type, chat.first_name) == (alice.id, "private", "Alice")
    group = await people.create_group("督办工作群", [alice.id], supergroup=True)
    await bot.get_updates(timeout=0)
    await people.add_bot_to_group(group, alice.id)
    updates = await bot.get_updates(offset=-2, timeout=0)
    member_update = next(u for u in updates if u.my_chat_member)
    assert member_update.my_chat_member is not None
    assert member_update.my_chat_member.new_chat_member.status == "member"
    joined = next(u for u in updates if u.message)
    assert joined.message is not None
    assert joined.message.new_chat_members[0].id == bot.id
    group_chat = await bot.get_chat(group)
    assert (group_chat.type, group_chat.title) == ("supergroup", "督办工作群")
    member = await bot.get_chat_member(group, alice.id)
    assert member.status == "member"
    assert await bot.send_chat_action(group, ChatAction.TYPING)
    assert await people.chat_actions(group) == ["typing"]
    assert await bot.leave_chat(group)
    with pytest.raises(Forbidden, match=r"(?i)bot is not a member of the supergroup chat"):
        await bot.send_message(group, "x")
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.get_chat(-5)


async def test_webhook_methods(bot: Bot, alice: Person) -> None:
    """set_webhook / get_webhook_info / delete_webhook(drop_pending_updates)."""
    info = await bot.get_webhook_info()
    assert (info.url, info.pending_update_count) == ("", 1)
    assert await bot.set_webhook("http://127.0.0.1:9/hook", secret_token="s3cr3t")
    info = await bot.get_webhook_info()
    assert info.url == "http://127.0.0.1:9/hook"
    assert info.pending_update_count == 1
    assert await bot.delete_webhook(drop_pending_updates=True)
    info = await bot.get_webhook_info()
    assert (info.url, info.pending_update_count) == ("", 0)
    assert await bot.close()
    assert await bot.log_out()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"text": "x" * 4097}, "Message is too long"),
        ({"text": ""}, "Message text is empty"),
        ({"text": "a < b", "parse_mode": "HTML"}, "Can't parse entities: unsupported start tag"),
        (
            {
                "text": "x",
                "reply_markup": InlineKeyboardMarkup(
                    [[InlineKeyboardButton("a", callback_data="x" * 65)]]
                ),
            },
            "Button_data_invalid",
        ),
    ],
)
async def test_refusals_raise_bad_request(
    bot: Bot, alice: Person, kwargs: dict[str, object], message: str
) -> None:
    """Each refusal surfaces as BadRequest (PTB capitalises the description)."""
    with pytest.raises(BadRequest) as caught:
        await bot.send_message(alice.id, **kwargs)  # type: ignore[arg-type]
    assert caught.value.message.lower().startswith(message.lower())


async def test_forbidden_and_unknown_chat(bot: Bot, people: ControlClient, alice: Person) -> None:
    """Blocked → Forbidden; unknown chat → BadRequest; unknown method → BadRequest."""
    await people.block_bot(alice.id)
    with pytest.raises(Forbidden, match=r"(?i)blocked by the user"):
        await bot.send_message(alice.id, "x")
    await people.unblock_bot(alice.id)
    assert (await bot.send_message(alice.id, "back")).text == "back"
    with pytest.raises(BadRequest, match=r"(?i)Chat not found"):
        await bot.send_message(123, "x")
    with pytest.raises(BadRequest, match=r"(?i)method sendhologram is not implemented"):
        await bot.do_api_request("sendHologram", api_kwargs={"chat_id": alice.id})


async def test_wrong_token_is_invalid_token(server: EmulatorServer) -> None:
    """A wrong token fails initialisation with InvalidToken."""
    wrong = Bot("123:wrong", base_url=server.base_url, base_file_url=server.base_file_url)
    with pytest.raises(InvalidToken):
        await wrong.initialize()


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_injected_faults_raise_ptb_exceptions(
    server: EmulatorServer, people: ControlClient, alice: Person, transport_kind: str
) -> None:
    """429 → RetryAfter; 500 → NetworkError; hold → TimedOut; lost → NetworkError."""
    async with Bot(
        server.token,
        base_url=server.base_url,
        base_file_url=server.base_file_url,
        request=transport(transport_kind, read_timeout=0.3),
    ) as bot:
        await people.add_fault(
            FaultKind.RETRY_AFTER, methods=["sendMessage"], retry_after=7, times=1
        )
        with pytest.raises(RetryAfter) as retry:
            await bot.send_message(alice.id, "x")
        with warnings.catch_warnings():  # PTB 22 warns that retry_after becomes a timedelta
            warnings.simplefilter("ignore")
            assert retry.value.retry_after in (7, dtm.timedelta(seconds=7))
        await people.add_fault(FaultKind.SERVER_ERROR, methods=["sendMessage"], status=500, times=1)
        with pytest.raises(NetworkError, match=r"(?i)Internal Server Error"):
            await bot.send_message(alice.id, "x")
        await people.add_fault(FaultKind.TIMEOUT, methods=["sendMessage"], hold=2.0, times=1)
        with pytest.raises(TimedOut):
            await bot.send_message(alice.id, "x")
        await people.add_fault(FaultKind.LOST, methods=["sendMessage"], times=1)
        with pytest.raises(NetworkError) as lost:
            await bot.send_message(alice.id, "lost but applied")
        assert not isinstance(lost.value, TimedOut)
        assert (await bot.send_message(alice.id, "ok")).text == "ok"
    texts = [m.plain for m in await people.bot_messages(alice.id)]
    assert texts == ["lost but applied", "ok"]
    stats = await people.stats()
    assert stats["faults"]["sendMessage"] == {
        "lost": 1,
        "retry_after": 1,
        "server_error": 1,
        "timeout": 1,
    }
    assert stats["faults_total"] == 4


async def test_aiohttp_pool_carries_concurrent_calls(
    server: EmulatorServer, people: ControlClient, alice: Person
) -> None:
    """More calls at once than connections: they wait for one, none is lost or doubled."""
    async with Bot(
        server.token,
        base_url=server.base_url,
        base_file_url=server.base_file_url,
        request=AiohttpRequest(connection_pool_size=2),
    ) as bot:
        sent = await asyncio.gather(*(bot.send_message(alice.id, f"第{i}条") for i in range(20)))
    assert sorted(m.text or "" for m in sent) == sorted(f"第{i}条" for i in range(20))
    texts = sorted(m.plain or "" for m in await people.bot_messages(alice.id))
    assert texts == sorted(f"第{i}条" for i in range(20))


async def test_aiohttp_refuses_calls_before_initialize() -> None:
    """Like HTTPXRequest after shutdown: a clear error, not a hang."""
    request = AiohttpRequest()
    with pytest.raises(RuntimeError, match="not initialized"):
        await request.do_request("http://127.0.0.1:9/x", "POST")
    await request.initialize()
    await request.shutdown()
    with pytest.raises(RuntimeError, match="not initialized"):
        await request.do_request("http://127.0.0.1:9/x", "POST")


async def test_aiohttp_unreachable_server_is_network_error() -> None:
    """Nothing listening: NetworkError (which the bot retries), not an aiohttp exception."""
    request = AiohttpRequest(connect_timeout=1.0)
    await request.initialize()
    try:
        with pytest.raises(NetworkError, match="aiohttp"):
            await request.post("http://127.0.0.1:9/bot1:x/getMe")
    finally:
        await request.shutdown()


async def test_aiohttp_honours_proxy_from_environment(
    server: EmulatorServer, alice: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HTTP_PROXY is used as httpx would use it: here a dead proxy, so the call cannot pass."""
    url = f"{server.base_url}{server.token}/getMe"
    request = AiohttpRequest(connect_timeout=1.0)
    await request.initialize()
    try:
        assert await request.post(url)  # direct: the emulator answers
    finally:
        await request.shutdown()
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    request = AiohttpRequest(connect_timeout=1.0)
    await request.initialize()
    try:
        with pytest.raises(NetworkError):
            await request.post(url)
    finally:
        await request.shutdown()


async def test_aiohttp_sends_parameters_as_one_json_object() -> None:
    """The body is UTF-8 JSON whose members are the strings a form would carry, as the Bot API
    reads them; a file still goes as multipart."""
    seen: list[tuple[str, bytes]] = []

    async def record(request: web.Request) -> web.Response:
        if request.path.endswith("/getMe"):
            me = {"id": 1, "is_bot": True, "first_name": "督办助手", "username": "duban_bot"}
            return web.json_response({"ok": True, "result": me})
        seen.append((request.content_type, await request.read()))
        return web.json_response({"ok": True, "result": True})

    app = web.Application()
    app.router.add_post("/{path:.*}", record)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        async with Bot(
            "1:x", base_url=f"http://127.0.0.1:{port}/bot", request=AiohttpRequest()
        ) as bot:
            await bot.set_my_description("督办助手：进度填报", language_code="zh")
            await bot.set_chat_photo(5, b"\x89PNG not really")
    finally:
        await runner.cleanup()
    (kind, body), (photo_kind, _) = seen
    assert kind == "application/json"
    assert "督办助手：进度填报".encode() in body  # not escaped, not percent-encoded
    assert json.loads(body) == {"description": "督办助手：进度填报", "language_code": "zh"}
    assert photo_kind == "multipart/form-data"
