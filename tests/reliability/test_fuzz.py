"""Bad input from every role: no unhandled exception, replies within Telegram's limits, and a
refused input changes no row.

Inputs: texts (empty, 100 KB, control characters, RTL marks, emoji, HTML-like), commands known
and unknown with arbitrary arguments, forged and oversized callback data, and raw updates of
other kinds (photos, stickers, files, group messages, presses without a message, membership
changes). Each comes from one of five personas — unbound, liaison, leader, office, admin.

"Refused" is decided from the input and the person's roles before it, never from the answer:
anything from an unbound account; text from someone with no report conversation waiting for
text; an empty or over-long report; an unknown command or one the role may not use; button data
that does not parse, names no button, or is not the role's. Read-only commands must not write
either. Only the audit log and the inbox may change for those.
"""

from __future__ import annotations

import re
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import update

from bot.domain.roles import Principal
from db.models import WorkGroup
from handlers.base import MAX_TEXT, clean_text, decode
from handlers.commands import BUTTONS, COMMANDS
from tests.reliability.conftest import FUZZ
from tests.reliability.world import (
    GROUP,
    LIAISON,
    PERSONAS,
    STRANGERS,
    World,
)

ROLES = list(PERSONAS)
COMMAND = re.compile(r"/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w/])")
BOT = "duban_test_bot"
# Commands that may change rows when the role may use them; every other command only reads.
WRITING_COMMANDS = frozenset({"report", "cancel"})
SPECIAL = [
    "",
    " ",
    "\n",
    "\t",
    "\x00",
    "\x07",
    "\x1b[31m",
    "\u200b",
    "\u200f",
    "\u202e",
    "\u2066",
    "\ufeff",
    "\ud7ff",
    "🙂",
    "👨‍👩‍👧‍👦",
    "🇨🇳",
    "𠀀",
    "<b>",
    "</b>",
    "<a href='javascript:x'>",
    "<pre>",
    "&",
    "&amp;",
    "&#0;",
    "<script>alert(1)</script>",
    "@duban_test_bot",
    "/report",
    "完成",
    "50%",
    "320亿元",
    "6月底前",
    "2026年2月30日",
    "需协调",
    "第6项",
]
PIECES = st.lists(st.sampled_from(SPECIAL), max_size=40).map("".join)
HUGE = st.tuples(
    st.sampled_from(["a", "汉", "🙂", "<b>", "&", "\u202e", "完成50%，"]),
    st.integers(min_value=1, max_value=102_400),
).map(lambda t: (t[0] * t[1])[:102_400])
TEXTS = st.one_of(st.text(max_size=300), PIECES, HUGE, st.just(""))
COMMAND_NAMES = st.one_of(
    st.sampled_from([c.name for c in COMMANDS]),
    st.sampled_from(["REPORT", "Overdue", "foo", "report_", "start@other_bot", "报送", "x" * 64]),
    st.from_regex(r"[A-Za-z0-9_]{1,40}", fullmatch=True),
)
DATA = st.one_of(
    st.text(max_size=100),
    st.binary(max_size=100).map(lambda b: b.decode("latin-1")),
    st.builds(
        lambda prefix, args: ":".join([prefix, *args]),
        st.sampled_from([b.prefix for b in BUTTONS] + ["zz", "RC", "r", ""]),
        st.lists(
            st.one_of(
                st.integers(min_value=-5, max_value=10**13).map(str),
                st.text(alphabet="abcdefABCDEF0123456789_-", max_size=40),
                st.text(max_size=8),
            ),
            max_size=6,
        ),
    ),
)


def user_json(user_id: int) -> dict[str, Any]:
    """A Bot API User."""
    return {"id": user_id, "is_bot": False, "first_name": f"u{user_id}"}


def chat_json(chat_id: int) -> dict[str, Any]:
    """A Bot API Chat: the person's private chat or the work group."""
    if chat_id == GROUP:
        return {"id": GROUP, "type": "group", "title": "督办工作群"}
    return {"id": chat_id, "type": "private", "first_name": f"u{chat_id}"}


ATTACHMENTS: st.SearchStrategy[dict[str, Any]] = st.sampled_from(
    [
        {"photo": [{"file_id": "p", "file_unique_id": "pu", "width": 9, "height": 9}]},
        {
            "sticker": {
                "file_id": "s",
                "file_unique_id": "su",
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
            }
        },
        {"document": {"file_id": "d", "file_unique_id": "du", "file_name": "报表.xlsx"}},
        {"location": {"latitude": 24.96, "longitude": 118.39}},
        {"contact": {"phone_number": "+8613800000000", "first_name": "张三"}},
        {"voice": {"file_id": "v", "file_unique_id": "vu", "duration": 3}},
        {},
    ]
)


@st.composite
def raw_updates(draw: st.DrawFn, user_id: int) -> dict[str, Any]:
    """A raw update of a kind other than a plain private text (see the module docstring)."""
    kind = draw(
        st.sampled_from(
            ["attachment", "group_text", "anonymous", "reply", "inline_press", "edited", "post"]
        )
    )
    message: dict[str, Any] = {
        "message_id": draw(st.integers(min_value=1, max_value=10**6)),
        "date": 1_773_600_000,
        "from": user_json(user_id),
        "chat": chat_json(user_id),
    }
    if kind == "attachment":
        message.update(draw(ATTACHMENTS))
        caption = draw(st.one_of(st.none(), TEXTS))
        if caption:
            message["caption"] = caption
        return {"message": message}
    if kind in ("group_text", "anonymous"):
        message["chat"] = chat_json(GROUP)
        message["text"] = draw(st.one_of(TEXTS, COMMAND_NAMES.map(lambda n: f"/{n}")))
        if kind == "anonymous":
            del message["from"]
            message["sender_chat"] = chat_json(GROUP)
        return {"message": message}
    if kind == "reply":
        message["text"] = draw(TEXTS) or "x"
        message["reply_to_message"] = {
            "message_id": draw(st.integers(min_value=1, max_value=10**6)),
            "date": 1_773_600_000,
            "chat": chat_json(user_id),
            "from": {"id": 123456, "is_bot": True, "first_name": "督办助手", "username": BOT},
            "text": draw(TEXTS) or "y",
        }
        return {"message": message}
    if kind == "inline_press":
        press: dict[str, Any] = {
            "id": str(draw(st.integers(min_value=1, max_value=10**12))),
            "from": user_json(user_id),
            "chat_instance": "1",
            "inline_message_id": "AAAA",
        }
        if draw(st.booleans()):
            press["data"] = draw(DATA)
        else:
            press["game_short_name"] = "g"
        return {"callback_query": press}
    message["text"] = draw(TEXTS) or "x"
    if kind == "edited":
        message["edit_date"] = 1_773_600_100
        return {"edited_message": message}
    message["chat"] = {"id": -1_009_999, "type": "channel", "title": "频道"}
    del message["from"]
    return {"channel_post": message}


def text_refused(principal: Principal, draft: str | None, body: str) -> bool:
    """Whether a private text must change nothing."""
    if not principal.bound or not principal.units or draft != "await_text":
        return True
    cleaned = clean_text(body)
    return not cleaned or len(cleaned) > MAX_TEXT or body == ""


def command_refused(principal: Principal, name: str) -> bool:
    """Whether a command must change nothing (refused, unknown, or read-only)."""
    if not principal.bound:
        return True
    base, _, target = name.partition("@")
    if target and target.lower() != BOT:
        return True
    spec = next((c for c in COMMANDS if c.name == base.lower()), None)
    if spec is None or not principal.may(spec.roles):
        return True
    return spec.name not in WRITING_COMMANDS


def button_refused(principal: Principal, data: str) -> bool:
    """Whether a press must change nothing."""
    if not principal.bound:
        return True
    parsed = decode(data)
    spec = next((b for b in BUTTONS if parsed and b.prefix == parsed[0]), None)
    return spec is None or not principal.may(spec.roles)


async def open_conversation(world: World) -> None:
    """The liaison starts /report and picks a task: a draft now waits for text."""
    await world.settle(world.say(LIAISON, "/report"))
    chat = world.emu.chats[LIAISON]
    picker = max((m for m in chat.messages.values() if m.from_bot), key=lambda m: m.message_id)
    rows = (picker.content.reply_markup or {}).get("inline_keyboard", [])
    data = next(
        b["callback_data"] for row in rows for b in row if b.get("callback_data", "")[:3] == "rt:"
    )
    await world.settle(world.press(LIAISON, data))


async def exercise(
    world: World,
    user_id: int,
    act: Any,
    refused: Any,
    *,
    with_draft: bool = False,
) -> None:
    """Reset, act, wait for the bot, and check the three properties."""
    await world.reset()
    if with_draft and user_id == LIAISON:
        await open_conversation(world)
    principal = await world.principal(user_id)
    draft = await world.draft_state(user_id)
    must_refuse = bool(refused(principal, draft))
    before = await world.snapshot() if must_refuse else None
    errors, refusals = len(world.errors), len(world.refusals)
    for update_id in act():
        await world.settle(update_id)
    assert world.errors[errors:] == [], f"handler errors: {world.errors[errors:]!r}"
    assert world.unexpected_refusals(refusals) == [], "replies Telegram would refuse"
    if before is not None:
        after = await world.snapshot()
        changed = {t for t in before if before[t] != after[t]}
        assert not changed, f"a refused input changed {sorted(changed)}"


@FUZZ
@given(role=st.sampled_from(ROLES), body=TEXTS, with_draft=st.booleans())
def test_texts_from_every_role(world: World, role: str, body: str, with_draft: bool) -> None:
    """Arbitrary texts (never commands) in the person's private chat."""
    body = body.lstrip("/")
    user_id = PERSONAS[role]
    world.run(
        exercise(
            world,
            user_id,
            lambda: [world.say(user_id, body)],
            lambda p, d: text_refused(p, d, body),
            with_draft=with_draft,
        )
    )


@FUZZ
@given(
    role=st.sampled_from(ROLES),
    name=COMMAND_NAMES,
    args=st.one_of(st.just(""), TEXTS, PIECES),
    with_draft=st.booleans(),
)
def test_commands_from_every_role(
    world: World, role: str, name: str, args: str, with_draft: bool
) -> None:
    """Known and unknown commands with arbitrary arguments."""
    user_id = PERSONAS[role]
    text = f"/{name}" + (f" {args}" if args else "")
    # Only what Telegram marks as a command is one (/报送 is text, taken as such).
    command = COMMAND.match(text) is not None

    def refused(p: Principal, d: str | None) -> bool:
        return command_refused(p, name) if command else text_refused(p, d, text)

    world.run(
        exercise(world, user_id, lambda: [world.say(user_id, text)], refused, with_draft=with_draft)
    )


@FUZZ
@given(role=st.sampled_from(ROLES), data=DATA, with_draft=st.booleans())
def test_forged_button_data_from_every_role(
    world: World, role: str, data: str, with_draft: bool
) -> None:
    """Presses with forged, malformed and oversized callback data."""
    user_id = PERSONAS[role]
    world.run(
        exercise(
            world,
            user_id,
            lambda: [world.press(user_id, data)],
            lambda p, d: button_refused(p, data),
            with_draft=with_draft,
        )
    )


@FUZZ
@given(who=st.sampled_from([*ROLES, "stranger"]), data=st.data())
def test_other_updates_from_every_role(world: World, who: str, data: st.DataObject) -> None:
    """Attachments, group messages, anonymous senders, presses without a message, edits, posts."""
    user_id = PERSONAS.get(who, STRANGERS[0])
    raw = data.draw(raw_updates(user_id))
    private_text_kinds = "message" in raw and raw["message"]["chat"]["type"] == "private"
    reply_text = private_text_kinds and "text" in raw["message"]

    def refused(principal: Principal, draft: str | None) -> bool:
        if not principal.bound:
            return True
        if reply_text:
            return text_refused(principal, draft, raw["message"]["text"])
        return "callback_query" not in raw or button_refused(
            principal, raw["callback_query"].get("data", "")
        )

    world.run(exercise(world, user_id, lambda: [world.inject(raw)], refused))


@FUZZ
@given(role=st.sampled_from(ROLES))
def test_adding_the_bot_to_a_group(world: World, role: str) -> None:
    """Someone adds the bot to a group: an admin or the office registers it, anyone else is
    refused."""
    user_id = PERSONAS[role]

    async def outside() -> None:
        # A real add: the bot is not in the group and the group is not registered.
        world.emu.chats[GROUP].bot_status = "left"
        async with world.sessionmaker() as session, session.begin():
            await session.execute(update(WorkGroup).values(active=False))

    def act() -> list[int]:
        before = max(world.emu.history)
        world.emu.add_bot_to_group(GROUP, user_id)
        return [u for u in sorted(world.emu.history) if u > before]

    world.run(outside())
    world.run(exercise(world, user_id, act, lambda p, d: not (p.admin or p.office)))
