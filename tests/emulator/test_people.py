"""Simulated people: groups, privacy mode, blocking, forged presses, transcripts, throughput."""

from __future__ import annotations

import asyncio
import time

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import Forbidden

from bot.emulator import ControlClient, ControlError, Emulator, EmulatorRequest, Person


async def test_group_privacy_mode(bot: Bot, people: ControlClient, alice: Person) -> None:
    """In a group the bot sees commands, replies to it and mentions; not other chatter."""
    bob = await people.create_user("Bob")
    group = await people.create_group("分管领导群", [alice.id, bob.id])
    await people.add_bot_to_group(group, alice.id)
    earlier = await bot.get_updates(timeout=0)
    await bot.get_updates(offset=earlier[-1].update_id + 1, timeout=0)
    sent = await bot.send_message(group, "请各单位报送")
    await people.send_message(bob.id, "闲聊", chat_id=group)
    await people.send_command(bob.id, "tasks", "本周", chat_id=group, mention="duban_test_bot")
    await people.reply(bob.id, sent.message_id, "已报送", chat_id=group)
    await people.send_message(alice.id, "@duban_test_bot 看一下", chat_id=group)
    updates = await bot.get_updates(timeout=0)
    texts = [u.message.text for u in updates if u.message]
    assert texts == ["/tasks@duban_test_bot 本周", "已报送", "@duban_test_bot 看一下"]
    command = updates[0].message
    assert command is not None
    assert command.entities[0].length == len("/tasks@duban_test_bot")
    assert command.chat.type == "group"
    transcript = await people.transcript(group)
    assert [m.plain for m in transcript if m.sender == "user" and m.plain] == [
        "闲聊",
        "/tasks@duban_test_bot 本周",
        "已报送",
        "@duban_test_bot 看一下",
    ]


async def test_group_join_admin_and_kick(bot: Bot, people: ControlClient, alice: Person) -> None:
    """Removing the bot makes sends fail with 'kicked'; members joining produce messages."""
    group = await people.create_group("g", [alice.id], supergroup=True)
    await people.add_bot_to_group(group, alice.id, as_admin=True)
    carol = await people.create_user("Carol")
    joined = await people.add_member(group, carol.id)
    assert joined.service == {
        "new_chat_members": [
            {"id": carol.id, "is_bot": False, "first_name": "Carol", "language_code": "zh-hans"}
        ]
    }
    admin = await bot.get_chat_member(group, bot.id)
    assert admin.status == "administrator"
    await people.remove_bot_from_group(group, alice.id)
    with pytest.raises(Forbidden, match=r"(?i)bot was kicked from the supergroup chat"):
        await bot.send_message(group, "x")


async def test_forged_and_missing_buttons(bot: Bot, people: ControlClient, alice: Person) -> None:
    """Pressing data no button carries needs forge=True; the bot receives the forged data."""
    sent = await bot.send_message(
        alice.id,
        "x",
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("a", callback_data="a")]]),
    )
    with pytest.raises(ControlError, match="no button"):
        await people.press_button(alice.id, sent.message_id, data="admin:delete_all")
    await people.press_button(alice.id, sent.message_id, data="admin:delete_all", forge=True)
    updates = await bot.get_updates(offset=-1, timeout=0)
    query = updates[-1].callback_query
    assert query is not None
    assert query.data == "admin:delete_all"


async def test_blocking_produces_my_chat_member(
    bot: Bot, people: ControlClient, alice: Person
) -> None:
    """Blocking and unblocking send my_chat_member updates (kicked, then member)."""
    await bot.get_updates(timeout=0)
    await people.block_bot(alice.id)
    await people.unblock_bot(alice.id)
    updates = await bot.get_updates(offset=-2, timeout=0)
    statuses = [u.my_chat_member.new_chat_member.status for u in updates if u.my_chat_member]
    assert statuses == ["kicked", "member"]


async def test_wait_for_bot_message_cursor_and_timeout(
    bot: Bot, people: ControlClient, alice: Person
) -> None:
    """Each wait returns the next bot message, even one sent before the call; predicates skip."""
    await bot.send_message(alice.id, "一")
    await bot.send_message(alice.id, "二")
    assert (await people.wait_for_bot_message(alice.id)).plain == "一"
    assert (await people.wait_for_bot_message(alice.id)).plain == "二"
    later = asyncio.create_task(people.wait_for_bot_message(alice.id, lambda m: m.plain == "四"))
    await asyncio.sleep(0.05)
    await bot.send_message(alice.id, "三")
    await bot.send_message(alice.id, "四")
    assert (await asyncio.wait_for(later, 2)).plain == "四"
    started = time.monotonic()
    with pytest.raises(TimeoutError, match="no new bot message"):
        await people.wait_for_bot_message(alice.id, timeout=0.2)
    assert time.monotonic() - started < 1


async def test_in_process_throughput(local_emu: Emulator, local_people: ControlClient) -> None:
    """The in-process transport handles thousands of calls per second."""
    user = await local_people.create_user("U")
    await local_people.start_bot(user.id, send_command=False)
    async with Bot(local_emu.token, request=EmulatorRequest(local_emu)) as bot:
        started = time.perf_counter()
        for n in range(2000):
            await bot.send_message(user.id, f"第{n}条")
        elapsed = time.perf_counter() - started
    assert len(local_emu.chats[user.id].messages) == 2000
    # measured 2000-4000 calls/s here; the bound leaves room for a loaded CI machine
    assert 2000 / elapsed > 500, f"{2000 / elapsed:.0f} calls/s"
