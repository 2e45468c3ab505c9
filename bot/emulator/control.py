"""The control API: simulated people act, tests read transcripts, faults and limits are set.

Server side, ``handle_control(emu, op, payload)`` runs one operation; the HTTP server exposes it
as ``POST /_control/<op>`` with a JSON body. Client side, ``ControlClient`` offers the same
operations as typed async methods over either transport: ``ControlClient.connect(url)`` (HTTP)
or ``ControlClient.local(emulator)`` (in-process).
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp

from bot.emulator.faults import FaultKind, FaultRule
from bot.emulator.limits import RateLimitConfig
from bot.emulator.state import JSON, ControlError, Emulator

# --------------------------------------------------------------------------- server side


async def _wait_messages(
    emu: Emulator, chat_id: int, after_id: int, sender: str | None, seconds: float
) -> list[JSON]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while True:
        found = [
            emu.transcript_json(m)
            for m in emu.iter_messages(chat_id)
            if m.message_id > after_id and (sender is None or (sender == "bot") == m.from_bot)
        ]
        remaining = deadline - loop.time()
        if found or emu.closing or remaining <= 0:
            return found
        await emu.change_pulse.wait(remaining)


async def _wait_callback(emu: Emulator, query_id: str, seconds: float) -> JSON:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while True:
        record = emu.callbacks.get(query_id)
        if record is None:
            raise ControlError(f"unknown callback query {query_id}")
        remaining = deadline - loop.time()
        if record.answered or emu.closing or remaining <= 0:
            return record.to_json()
        await emu.change_pulse.wait(remaining)


async def _wait_change(emu: Emulator, after: int, seconds: float) -> int:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while emu.version <= after and not emu.closing:
        remaining = deadline - loop.time()
        if remaining <= 0:
            break
        await emu.change_pulse.wait(remaining)
    return emu.version


def _message_or_none(emu: Emulator, message: Any) -> JSON | None:
    return emu.transcript_json(message) if message is not None else None


async def handle_control(emu: Emulator, op: str, p: JSON) -> Any:
    """Run one control operation; raise ControlError for a request that cannot be carried out."""
    try:
        return await _dispatch(emu, op, p)
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, ControlError):
            raise
        raise ControlError(f"{op}: bad arguments: {exc!r}") from exc


async def _dispatch(emu: Emulator, op: str, p: JSON) -> Any:
    if op == "create_user":
        user = emu.create_user(
            p["first_name"],
            user_id=p.get("user_id"),
            username=p.get("username"),
            last_name=p.get("last_name"),
            language_code=p.get("language_code", "zh-hans"),
        )
        return user.to_json()
    if op == "start_bot":
        message = emu.start_bot(
            int(p["user_id"]), payload=p.get("payload"), send_command=p.get("send_command", True)
        )
        return _message_or_none(emu, message)
    if op == "create_group":
        chat = emu.create_group(
            p["title"],
            member_ids=[int(u) for u in p.get("member_ids", [])],
            chat_id=p.get("chat_id"),
            supergroup=bool(p.get("supergroup", False)),
            username=p.get("username"),
            creator_id=p.get("creator_id"),
        )
        return chat.to_json()
    if op == "add_bot_to_group":
        message = emu.add_bot_to_group(
            int(p["chat_id"]), int(p["by_user_id"]), as_admin=bool(p.get("as_admin", False))
        )
        return emu.transcript_json(message)
    if op == "remove_bot_from_group":
        emu.remove_bot_from_group(int(p["chat_id"]), int(p["by_user_id"]))
        return True
    if op == "set_bot_rights":
        emu.set_bot_rights(int(p["chat_id"]), int(p["by_user_id"]), admin=bool(p["admin"]))
        return True
    if op == "add_member":
        return emu.transcript_json(emu.add_member(int(p["chat_id"]), int(p["user_id"])))
    if op == "send_message":
        message = emu.user_sends(
            int(p["user_id"]), p["text"], chat_id=p.get("chat_id"), reply_to=p.get("reply_to")
        )
        return emu.transcript_json(message)
    if op == "send_document":
        message = emu.user_sends_document(
            int(p["user_id"]),
            p["filename"],
            base64.b64decode(p["data_b64"]),
            chat_id=p.get("chat_id"),
            caption=p.get("caption"),
            mime_type=p.get("mime_type"),
            reply_to=p.get("reply_to"),
        )
        return emu.transcript_json(message)
    if op == "send_photo":
        message = emu.user_sends_photo(
            int(p["user_id"]),
            base64.b64decode(p["data_b64"]),
            chat_id=p.get("chat_id"),
            caption=p.get("caption"),
            reply_to=p.get("reply_to"),
        )
        return emu.transcript_json(message)
    if op == "press_button":
        record = emu.press_button(
            int(p["user_id"]),
            int(p["message_id"]),
            chat_id=p.get("chat_id"),
            data=p.get("data"),
            text=p.get("text"),
            forge=bool(p.get("forge", False)),
        )
        return record.to_json()
    if op in ("block", "unblock"):
        emu.set_blocked(int(p["user_id"]), op == "block")
        return True
    if op == "inject_update":
        return emu.inject_update(p["update"])
    if op == "duplicate_update":
        return emu.duplicate_update(int(p["update_id"]))
    if op == "pending_updates":
        return [u.data for u in emu.pending]
    if op == "updates":
        return list(emu.history.values())
    if op == "transcript":
        with_data = bool(p.get("with_data", True))
        return [
            emu.transcript_json(m, with_data=with_data)
            for m in emu.iter_messages(int(p["chat_id"]))
        ]
    if op == "wait_messages":
        return await _wait_messages(
            emu,
            int(p["chat_id"]),
            int(p.get("after_id", 0)),
            p.get("sender", "bot"),
            float(p.get("timeout", 5.0)),
        )
    if op == "callback_answers":
        return emu.callback_answers(p.get("chat_id"))
    if op == "wait_callback_answer":
        return await _wait_callback(emu, str(p["query_id"]), float(p.get("timeout", 5.0)))
    if op == "wait_change":
        return await _wait_change(emu, int(p.get("after", 0)), float(p.get("timeout", 5.0)))
    if op == "version":
        return emu.version
    if op == "chat_actions":
        return list(emu.get_chat(int(p["chat_id"])).chat_actions)
    if op == "set_faults":
        rules = [FaultRule.from_json(r) for r in p.get("rules", [])]
        emu.faults.configure(rules, seed=p.get("seed"))
        return [r.to_json() for r in emu.faults.rules]
    if op == "add_fault":
        emu.faults.add(FaultRule.from_json(p))
        return [r.to_json() for r in emu.faults.rules]
    if op == "clear_faults":
        emu.faults.clear()
        return True
    if op == "faults":
        return [r.to_json() for r in emu.faults.rules]
    if op == "set_limits":
        emu.limiter.configure(RateLimitConfig.from_json(p))
        return emu.limiter.config.to_json()
    if op == "stats":
        return emu.stats.to_json(emu.faults.counts)
    if op == "reset_stats":
        emu.stats.reset()
        emu.faults.counts.clear()
        return True
    if op == "commands":
        key = (p.get("scope", "default"), p.get("chat_id"), p.get("user_id"), p.get("lang", ""))
        return emu.commands.get(key, [])
    if op == "visible_commands":
        return emu.visible_commands(int(p["chat_id"]), p.get("user_id"), p.get("language_code"))
    if op == "webhook":
        hook = emu.webhook
        if hook is None:
            return None
        return {
            "url": hook.url,
            "secret_token": hook.secret_token,
            "last_error_date": hook.last_error_date,
            "last_error_message": hook.last_error_message,
        }
    if op == "bot":
        return {"token": emu.token, "user": emu.bot.to_json()}
    if op == "configure":
        if "privacy_mode" in p:
            emu.privacy_mode = bool(p["privacy_mode"])
        if "strict_html_ampersand" in p:
            emu.strict_html_ampersand = bool(p["strict_html_ampersand"])
        return True
    raise ControlError(f"unknown control operation {op!r}")


# --------------------------------------------------------------------------- client side


class ControlTransport(Protocol):
    """Carries one control operation to the emulator and returns its result."""

    async def __call__(self, op: str, payload: JSON, seconds: float) -> Any:
        """Run ``op`` with ``payload``."""


class LocalTransport:
    """Calls the emulator in this process directly."""

    def __init__(self, emu: Emulator) -> None:
        self.emu = emu

    async def __call__(self, op: str, payload: JSON, seconds: float) -> Any:
        """Run the operation in-process."""
        return await handle_control(self.emu, op, payload)

    async def close(self) -> None:
        """Nothing to release."""


class HttpTransport:
    """Posts operations to ``<url>/_control/<op>``."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self._session: aiohttp.ClientSession | None = None

    async def __call__(self, op: str, payload: JSON, seconds: float) -> Any:
        """Run the operation over HTTP."""
        if self._session is None:
            self._session = aiohttp.ClientSession()
        client_timeout = aiohttp.ClientTimeout(total=seconds + 10.0)
        async with self._session.post(
            f"{self.url}/_control/{op}", json=payload, timeout=client_timeout
        ) as resp:
            body = await resp.json()
        if not body.get("ok"):
            raise ControlError(body.get("error", f"control operation {op} failed"))
        return body.get("result")

    async def close(self) -> None:
        """Close the HTTP session."""
        if self._session is not None:
            await self._session.close()
            self._session = None


@dataclass(frozen=True)
class Person:
    """A simulated user."""

    id: int
    first_name: str
    username: str | None
    language_code: str | None


@dataclass(frozen=True)
class Button:
    """One inline keyboard button."""

    text: str
    callback_data: str | None
    url: str | None


@dataclass(frozen=True)
class SentDocument:
    """A file attached to a message."""

    file_id: str
    filename: str | None
    mime_type: str | None
    size: int
    data: bytes | None


@dataclass(frozen=True)
class MessageVersion:
    """One version of a message's content (the edits history holds the replaced ones)."""

    text: str | None  # as sent, with markup
    plain: str | None  # as a person sees it
    parse_mode: str | None
    buttons: list[list[Button]]
    keyboard: list[list[str]] | None
    date: int


@dataclass(frozen=True)
class TranscriptMessage:
    """A message as the transcript shows it."""

    message_id: int
    chat_id: int
    sender: str  # "bot" or "user"
    user_id: int
    date: int
    text: str | None  # as sent, with markup (caption for documents)
    plain: str | None  # rendered plain text
    parse_mode: str | None
    entities: list[JSON]
    buttons: list[list[Button]]
    keyboard: list[list[str]] | None
    remove_keyboard: bool
    force_reply: bool
    reply_to: int | None
    document: SentDocument | None
    service: JSON | None
    edit_date: int | None
    edits: list[MessageVersion]
    deleted: bool
    photo: bool = False  # the file (in `document`) is a photo

    @property
    def from_bot(self) -> bool:
        """Whether the bot sent this message."""
        return self.sender == "bot"

    @property
    def button_data(self) -> list[str]:
        """The callback_data of every inline button, row by row."""
        return [b.callback_data for row in self.buttons for b in row if b.callback_data]

    def button(self, text: str) -> Button:
        """The inline button labelled ``text`` (KeyError if none)."""
        for row in self.buttons:
            for b in row:
                if b.text == text:
                    return b
        raise KeyError(text)

    @classmethod
    def from_json(cls, data: JSON) -> TranscriptMessage:
        """Build from the control API's JSON."""
        doc = data.get("document")
        document = None
        if doc is not None:
            raw = doc.get("data_b64")
            document = SentDocument(
                doc["file_id"],
                doc.get("filename"),
                doc.get("mime_type"),
                int(doc.get("size", 0)),
                base64.b64decode(raw) if raw is not None else None,
            )
        return cls(
            message_id=data["message_id"],
            chat_id=data["chat_id"],
            sender=data["sender"],
            user_id=data["user_id"],
            date=data["date"],
            text=data["text"],
            plain=data["plain"],
            parse_mode=data["parse_mode"],
            entities=data["entities"],
            buttons=_buttons(data["buttons"]),
            keyboard=data["keyboard"],
            remove_keyboard=data["remove_keyboard"],
            force_reply=data["force_reply"],
            reply_to=data["reply_to"],
            document=document,
            photo=bool(data.get("photo", False)),
            service=data["service"],
            edit_date=data["edit_date"],
            edits=[
                MessageVersion(
                    v["text"],
                    v["plain"],
                    v["parse_mode"],
                    _buttons(v["buttons"]),
                    v["keyboard"],
                    v["date"],
                )
                for v in data["edits"]
            ],
            deleted=data["deleted"],
        )


def _buttons(rows: list[list[JSON]]) -> list[list[Button]]:
    return [[Button(b["text"], b.get("callback_data"), b.get("url")) for b in row] for row in rows]


@dataclass(frozen=True)
class CallbackAnswer:
    """A button press and the bot's answer (``answered`` False until it answers)."""

    id: str
    user_id: int
    chat_id: int | None
    message_id: int | None
    data: str | None
    answered: bool
    text: str | None
    show_alert: bool
    url: str | None

    @classmethod
    def from_json(cls, data: JSON) -> CallbackAnswer:
        """Build from the control API's JSON."""
        return cls(
            data["id"],
            data["user_id"],
            data["chat_id"],
            data["message_id"],
            data["data"],
            data["answered"],
            data["text"],
            data["show_alert"],
            data["url"],
        )


class ControlClient:
    """Simulated people and inspection for tests, over HTTP or in-process."""

    def __init__(self, transport: LocalTransport | HttpTransport) -> None:
        self._transport = transport
        self._cursors: dict[int, int] = {}

    @classmethod
    def connect(cls, url: str) -> ControlClient:
        """A client for an emulator serving HTTP at ``url`` (e.g. ``http://127.0.0.1:8081``)."""
        return cls(HttpTransport(url))

    @classmethod
    def local(cls, emu: Emulator) -> ControlClient:
        """A client calling an in-process emulator directly."""
        return cls(LocalTransport(emu))

    async def close(self) -> None:
        """Release the transport."""
        await self._transport.close()

    async def __aenter__(self) -> ControlClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def call(self, op: str, *, wait: float = 10.0, **payload: Any) -> Any:
        """Run a raw control operation (``wait``: how long it may block server-side)."""
        return await self._transport(op, payload, wait)

    # people

    async def create_user(
        self,
        first_name: str,
        *,
        user_id: int | None = None,
        username: str | None = None,
        last_name: str | None = None,
        language_code: str | None = "zh-hans",
    ) -> Person:
        """Create a simulated person."""
        data = await self.call(
            "create_user",
            first_name=first_name,
            user_id=user_id,
            username=username,
            last_name=last_name,
            language_code=language_code,
        )
        return Person(data["id"], data["first_name"], data.get("username"), language_code)

    async def start_bot(
        self, user_id: int, *, payload: str | None = None, send_command: bool = True
    ) -> TranscriptMessage | None:
        """The person presses START (sends "/start [payload]" unless send_command is False)."""
        data = await self.call(
            "start_bot", user_id=user_id, payload=payload, send_command=send_command
        )
        return TranscriptMessage.from_json(data) if data else None

    async def create_group(
        self,
        title: str,
        member_ids: list[int],
        *,
        chat_id: int | None = None,
        supergroup: bool = False,
        username: str | None = None,
        creator_id: int | None = None,
    ) -> int:
        """Create a group with these members; return its chat id."""
        data = await self.call(
            "create_group",
            title=title,
            member_ids=member_ids,
            chat_id=chat_id,
            supergroup=supergroup,
            username=username,
            creator_id=creator_id,
        )
        return int(data["id"])

    async def add_bot_to_group(
        self, chat_id: int, by_user_id: int, *, as_admin: bool = False
    ) -> TranscriptMessage:
        """A member adds the bot: my_chat_member and new_chat_members updates."""
        data = await self.call(
            "add_bot_to_group", chat_id=chat_id, by_user_id=by_user_id, as_admin=as_admin
        )
        return TranscriptMessage.from_json(data)

    async def set_bot_rights(self, chat_id: int, by_user_id: int, *, admin: bool) -> None:
        """A group admin promotes the bot (admin=True) or demotes it to a member."""
        await self.call("set_bot_rights", chat_id=chat_id, by_user_id=by_user_id, admin=admin)

    async def remove_bot_from_group(self, chat_id: int, by_user_id: int) -> None:
        """A member removes the bot from a group."""
        await self.call("remove_bot_from_group", chat_id=chat_id, by_user_id=by_user_id)

    async def add_member(self, chat_id: int, user_id: int) -> TranscriptMessage:
        """A person joins a group."""
        return TranscriptMessage.from_json(
            await self.call("add_member", chat_id=chat_id, user_id=user_id)
        )

    async def send_message(
        self, user_id: int, text: str, *, chat_id: int | None = None, reply_to: int | None = None
    ) -> TranscriptMessage:
        """The person writes ``text`` (in their private chat unless ``chat_id`` is given)."""
        data = await self.call(
            "send_message", user_id=user_id, text=text, chat_id=chat_id, reply_to=reply_to
        )
        return TranscriptMessage.from_json(data)

    async def send_command(
        self,
        user_id: int,
        command: str,
        args: str = "",
        *,
        chat_id: int | None = None,
        mention: str | None = None,
    ) -> TranscriptMessage:
        """The person sends ``/command args`` (``mention``: append ``@botname``)."""
        text = "/" + command.lstrip("/") + (f"@{mention}" if mention else "")
        if args:
            text += " " + args
        return await self.send_message(user_id, text, chat_id=chat_id)

    async def reply(
        self, user_id: int, message_id: int, text: str, *, chat_id: int | None = None
    ) -> TranscriptMessage:
        """The person replies to a message (e.g. a bot's ForceReply prompt)."""
        return await self.send_message(user_id, text, chat_id=chat_id, reply_to=message_id)

    async def send_document(
        self,
        user_id: int,
        filename: str,
        data: bytes,
        *,
        chat_id: int | None = None,
        caption: str | None = None,
        mime_type: str | None = None,
        reply_to: int | None = None,
    ) -> TranscriptMessage:
        """The person sends a file (replying to a message, if given)."""
        result = await self.call(
            "send_document",
            user_id=user_id,
            filename=filename,
            data_b64=base64.b64encode(data).decode(),
            chat_id=chat_id,
            caption=caption,
            mime_type=mime_type,
            reply_to=reply_to,
        )
        return TranscriptMessage.from_json(result)

    async def send_photo(
        self,
        user_id: int,
        data: bytes,
        *,
        chat_id: int | None = None,
        caption: str | None = None,
        reply_to: int | None = None,
    ) -> TranscriptMessage:
        """The person sends a photo (replying to a message, if given)."""
        result = await self.call(
            "send_photo",
            user_id=user_id,
            data_b64=base64.b64encode(data).decode(),
            chat_id=chat_id,
            caption=caption,
            reply_to=reply_to,
        )
        return TranscriptMessage.from_json(result)

    async def press_button(
        self,
        user_id: int,
        message_id: int,
        *,
        chat_id: int | None = None,
        data: str | None = None,
        text: str | None = None,
        forge: bool = False,
    ) -> CallbackAnswer:
        """The person presses the inline button with this callback ``data`` or label ``text``.

        ``forge=True`` sends ``data`` even if no button carries it. Returns the query (its
        answer is filled in later; see ``wait_for_callback_answer``).
        """
        result = await self.call(
            "press_button",
            user_id=user_id,
            message_id=message_id,
            chat_id=chat_id,
            data=data,
            text=text,
            forge=forge,
        )
        return CallbackAnswer.from_json(result)

    async def block_bot(self, user_id: int) -> None:
        """The person blocks the bot (sends then fail with 403)."""
        await self.call("block", user_id=user_id)

    async def unblock_bot(self, user_id: int) -> None:
        """The person unblocks the bot."""
        await self.call("unblock", user_id=user_id)

    # updates

    async def inject_update(self, update: JSON) -> int:
        """Queue a raw update (update_id assigned when missing); return its update_id."""
        return int(await self.call("inject_update", update=update))

    async def duplicate_update(self, update_id: int) -> int:
        """Deliver an existing update again with the same update_id."""
        return int(await self.call("duplicate_update", update_id=update_id))

    async def pending_updates(self) -> list[JSON]:
        """Updates not yet acknowledged (getUpdates) or delivered (webhook)."""
        return list(await self.call("pending_updates"))

    async def updates(self) -> list[JSON]:
        """Every update created so far."""
        return list(await self.call("updates"))

    # reading

    async def transcript(self, chat_id: int, *, with_data: bool = True) -> list[TranscriptMessage]:
        """Every message of the chat in order (deleted ones flagged)."""
        data = await self.call("transcript", chat_id=chat_id, with_data=with_data)
        return [TranscriptMessage.from_json(m) for m in data]

    async def bot_messages(self, chat_id: int) -> list[TranscriptMessage]:
        """The bot's messages in the chat, in order."""
        return [m for m in await self.transcript(chat_id) if m.from_bot]

    async def callback_answers(self, chat_id: int | None = None) -> list[CallbackAnswer]:
        """Every button press (of one chat) with the bot's answers."""
        data = await self.call("callback_answers", chat_id=chat_id)
        return [CallbackAnswer.from_json(c) for c in data]

    async def chat_actions(self, chat_id: int) -> list[str]:
        """The chat actions ("typing", ...) the bot sent to the chat."""
        return list(await self.call("chat_actions", chat_id=chat_id))

    async def visible_commands(
        self, chat_id: int, user_id: int | None = None, language_code: str | None = None
    ) -> list[JSON]:
        """The command menu this person sees in this chat (Telegram's scope resolution)."""
        return list(
            await self.call(
                "visible_commands", chat_id=chat_id, user_id=user_id, language_code=language_code
            )
        )

    async def webhook(self) -> JSON | None:
        """The webhook as set, with the last delivery error."""
        result: JSON | None = await self.call("webhook")
        return result

    # waiting

    def mark_seen(self, chat_id: int, message_id: int) -> None:
        """Make ``wait_for_bot_message`` look only at bot messages after ``message_id`` (never
        back: pressing a button on an older message does not make later replies "next")."""
        self._cursors[chat_id] = max(self._cursors.get(chat_id, 0), message_id)

    async def wait_for_bot_message(
        self,
        chat_id: int,
        predicate: Callable[[TranscriptMessage], bool] | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109 - a deadline for the whole wait, not one await
    ) -> TranscriptMessage:
        """Wait for the next bot message in the chat (matching ``predicate``) and return it.

        "Next" means after the one the previous call returned, so a reply the bot sent before
        this call is not missed. TimeoutError if none arrives within ``timeout`` seconds.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        scan = self._cursors.get(chat_id, 0)
        while True:
            remaining = deadline - loop.time()
            batch = await self.call(
                "wait_messages",
                wait=max(remaining, 0.0),
                timeout=max(remaining, 0.0),
                chat_id=chat_id,
                after_id=scan,
                sender="bot",
            )
            for data in batch:
                message = TranscriptMessage.from_json(data)
                scan = message.message_id
                if predicate is None or predicate(message):
                    self._cursors[chat_id] = message.message_id
                    return message
            if loop.time() >= deadline:
                tail = [m.plain for m in (await self.transcript(chat_id, with_data=False))[-5:]]
                raise TimeoutError(
                    f"no new bot message in chat {chat_id} within {timeout}s; last messages: "
                    f"{tail!r}"
                )

    async def wait_for_bot_messages(
        self,
        chat_id: int,
        count: int,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> list[TranscriptMessage]:
        """Wait for the next ``count`` bot messages in the chat."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        found = []
        for _ in range(count):
            found.append(
                await self.wait_for_bot_message(chat_id, timeout=max(deadline - loop.time(), 0))
            )
        return found

    async def wait_until(
        self,
        condition: Callable[[], Awaitable[bool]],
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> None:
        """Re-check ``condition`` after every visible change until it holds (TimeoutError)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            version = int(await self.call("version"))
            if await condition():
                return
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"condition not met within {timeout}s")
            await self.call("wait_change", wait=remaining, timeout=remaining, after=version)

    async def wait_for_edit(
        self,
        chat_id: int,
        message_id: int,
        *,
        min_edits: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> TranscriptMessage:
        """Wait until the message has been edited at least ``min_edits`` times; return it."""
        result: list[TranscriptMessage] = []

        async def edited() -> bool:
            for message in await self.transcript(chat_id, with_data=False):
                if message.message_id == message_id and len(message.edits) >= min_edits:
                    result.append(message)
                    return True
            return False

        await self.wait_until(edited, timeout)
        return result[0]

    async def wait_for_callback_answer(
        self,
        query_id: str,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> CallbackAnswer:
        """Wait until the bot answers the button press (TimeoutError otherwise)."""
        data = await self.call(
            "wait_callback_answer", wait=timeout, timeout=timeout, query_id=query_id
        )
        answer = CallbackAnswer.from_json(data)
        if not answer.answered:
            raise TimeoutError(f"callback query {query_id} not answered within {timeout}s")
        return answer

    # faults, limits, statistics

    async def set_faults(self, rules: list[FaultRule], *, seed: int | None = None) -> None:
        """Replace the fault rules (and reseed)."""
        await self.call("set_faults", rules=[r.to_json() for r in rules], seed=seed)

    async def add_fault(
        self,
        kind: FaultKind | str,
        *,
        rate: float = 1.0,
        methods: list[str] | None = None,
        exclude: list[str] | None = None,
        retry_after: float = 1,
        status: int = 500,
        hold: float = 30.0,
        times: int | None = None,
    ) -> None:
        """Add one fault rule (see ``faults.FaultRule``)."""
        await self.call(
            "add_fault",
            kind=str(kind),
            rate=rate,
            methods=methods,
            exclude=exclude or [],
            retry_after=retry_after,
            status=status,
            hold=hold,
            times=times,
        )

    async def clear_faults(self) -> None:
        """Remove every fault rule."""
        await self.call("clear_faults")

    async def set_limits(
        self,
        *,
        enabled: bool = True,
        speedup: float = 1.0,
        **overrides: float,
    ) -> JSON:
        """Enable (or disable) Telegram's flood limits, optionally sped up."""
        result: JSON = await self.call("set_limits", enabled=enabled, speedup=speedup, **overrides)
        return result

    async def stats(self) -> JSON:
        """Calls per method and outcome, faults, violations and accepted-send timestamps."""
        result: JSON = await self.call("stats")
        return result

    async def reset_stats(self) -> None:
        """Zero the statistics."""
        await self.call("reset_stats")
