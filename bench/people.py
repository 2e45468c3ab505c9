"""Simulated liaisons driving the bot through an in-process emulator, robust to a bot that is down.

Each step waits for the bot's answer by looking at the chat after every visible change, so a
reminder arriving in between, a reply repeated after a crash, or a restart in the middle are all
tolerated; a step without an answer within the timeout raises TimeoutError.
"""

from __future__ import annotations

import asyncio
import random
import re
from collections.abc import Awaitable, Callable
from typing import TypeVar

from bot import texts
from bot.emulator import Emulator
from bot.emulator.state import StoredMessage

T = TypeVar("T")

REMINDER_MARK = "您单位牵头的"  # in every liaison reminder, never in a conversation reply
ESCALATION_MARK = "督办提示"
MARK = re.compile(r"【(R\d+-\d+)】")  # the unique mark a simulated report carries


async def until(emu: Emulator, condition: Callable[[], bool], timeout: float) -> None:  # noqa: ASYNC109
    """Wait for a visible change after which `condition` holds (TimeoutError otherwise)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise TimeoutError
        await emu.change_pulse.wait(min(remaining, 1.0))


def first_after(
    emu: Emulator, chat_id: int, after: int, match: Callable[[StoredMessage], bool]
) -> StoredMessage | None:
    """The first bot message after message `after` that matches."""
    for message in emu.chats[chat_id].messages.values():
        if message.message_id > after and message.from_bot and match(message):
            return message
    return None


def button(message: StoredMessage, prefix: str) -> str | None:
    """The callback data of the first button starting with `prefix`."""
    markup = message.content.reply_markup or {}
    for row in markup.get("inline_keyboard", []):
        for b in row:
            data = str(b.get("callback_data") or "")
            if data.startswith(prefix):
                return data
    return None


async def wait_reply(
    emu: Emulator,
    user_id: int,
    after: int,
    match: Callable[[StoredMessage], bool],
    timeout: float,  # noqa: ASYNC109
) -> StoredMessage:
    """The first bot message after `after` that matches, once it is there."""
    found: list[StoredMessage] = []

    def arrived() -> bool:
        message = first_after(emu, user_id, after, match)
        if message is not None:
            found.append(message)
        return message is not None

    await until(emu, arrived, timeout)
    return found[-1]


async def report_once(
    emu: Emulator,
    user_id: int,
    mark: str,
    rng: random.Random,
    timeout: float,  # noqa: ASYNC109
) -> None:
    """/report, pick the first task offered, a text carrying `mark`, 确认提交 → 已提交 seen.

    A step without its answer raises TimeoutError naming the user, the report and the step.
    """
    step = f"user {user_id}, report {mark}: no answer to"
    sent = emu.user_sends(user_id, "/report")
    menu = await _step(
        f"{step} /report",
        wait_reply(emu, user_id, sent.message_id, lambda m: button(m, "rt:") is not None, timeout),
    )
    data = button(menu, "rt:")
    assert data is not None
    emu.press_button(user_id, menu.message_id, data=data)
    await _step(
        f"{step} the task pick",
        until(emu, lambda: "请直接输入进展情况" in (menu.content.text or ""), timeout),
    )
    text = f"完成{rng.randint(1, 99)}%，预计{rng.randint(4, 12)}月底前完成【{mark}】"
    sent = emu.user_sends(user_id, text)
    card = await _step(
        f"{step} the progress text",
        wait_reply(
            emu,
            user_id,
            sent.message_id,
            lambda m: "进展报送确认" in (m.content.text or ""),
            timeout,
        ),
    )
    data = button(card, "rc:")
    assert data is not None
    press = emu.press_button(user_id, card.message_id, data=data)

    def stored() -> bool:
        edited = (card.content.text or "").startswith("已提交")
        answered = press.answered and press.text in ("已提交", texts.ALREADY_SUBMITTED)
        return edited or answered

    await _step(f"{step} 确认提交", until(emu, stored, timeout))


async def _step(name: str, waiting: Awaitable[T]) -> T:
    """Await a step's answer; a timeout names the step."""
    try:
        return await waiting
    except TimeoutError:
        raise TimeoutError(name) from None


def bot_messages_with(emu: Emulator, chat_id: int, mark: str) -> int:
    """How many bot messages in the chat contain `mark`."""
    return sum(
        1
        for m in emu.chats[chat_id].messages.values()
        if m.from_bot and mark in (m.content.text or "")
    )
