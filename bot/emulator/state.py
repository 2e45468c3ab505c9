"""The emulated Telegram world: users, chats, messages, files, updates, and the people's actions.

``Emulator`` holds all state of one emulated bot. The Bot API methods (``methods.py``) and the
control operations below both work on it; the transports (``server.py`` over HTTP,
``request.py`` in-process) only translate requests into calls on it.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from bot.emulator.faults import FaultInjector
from bot.emulator.limits import RateLimiter, Stats
from bot.emulator.textparse import Entity, detect_bot_commands

JSON = dict[str, Any]

DEFAULT_TOKEN = "7000000001:EMULATOR-token-0123456789abcdefghij"
# Update types delivered when allowed_updates is empty or was never set (Bot API default).
DEFAULT_ALLOWED_UPDATES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "purchased_paid_media",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
    }
)
_ADMIN_RIGHTS = (
    "can_be_edited",
    "is_anonymous",
    "can_manage_chat",
    "can_delete_messages",
    "can_manage_video_chats",
    "can_restrict_members",
    "can_promote_members",
    "can_change_info",
    "can_invite_users",
    "can_post_stories",
    "can_edit_stories",
    "can_delete_stories",
    "can_pin_messages",
)


class ApiError(Exception):
    """A Bot API refusal: becomes ``{"ok": false, "error_code": ..., "description": ...}``."""

    def __init__(self, code: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    @classmethod
    def bad_request(cls, detail: str) -> ApiError:
        """400 with the ``Bad Request: `` prefix Telegram uses."""
        return cls(400, f"Bad Request: {detail}")

    @classmethod
    def forbidden(cls, detail: str) -> ApiError:
        """403 with the ``Forbidden: `` prefix Telegram uses."""
        return cls(403, f"Forbidden: {detail}")

    def to_json(self) -> JSON:
        """The error body as Telegram sends it."""
        body: JSON = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


class ControlError(ValueError):
    """A control-API request that cannot be carried out (unknown user, no such button, ...)."""


@dataclass
class User:
    """A Telegram user (a simulated person or the bot itself)."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    is_bot: bool = False

    def to_json(self) -> JSON:
        """Render as a Bot API User object."""
        data: JSON = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        if self.language_code and not self.is_bot:
            data["language_code"] = self.language_code
        return data


@dataclass
class FileRecord:
    """An uploaded file: its bytes and the ids the Bot API knows it by."""

    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes
    filename: str | None
    mime_type: str | None

    def document_json(self) -> JSON:
        """Render as a Bot API Document object."""
        data: JSON = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
        }
        if self.filename:
            data["file_name"] = self.filename
        if self.mime_type:
            data["mime_type"] = self.mime_type
        return data

    def photo_json(self) -> list[JSON]:
        """Render as a Bot API photo: one PhotoSize (the emulator keeps no smaller copies)."""
        return [
            {
                "file_id": self.file_id,
                "file_unique_id": self.file_unique_id,
                "file_size": len(self.data),
                "width": 1280,
                "height": 960,
            }
        ]

    def file_json(self) -> JSON:
        """Render as a Bot API File object (what getFile returns)."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
            "file_path": self.file_path,
        }


@dataclass
class Version:
    """One version of a message's content (the current one or one replaced by an edit)."""

    text: str | None
    entities: tuple[Entity, ...]
    source: str | None
    parse_mode: str | None
    reply_markup: JSON | None
    date: int


@dataclass
class StoredMessage:
    """A message in a chat, as the emulator remembers it."""

    message_id: int
    chat_id: int
    sender: User
    from_bot: bool
    date: int
    content: Version
    caption_mode: bool = False  # the content is a caption (document messages)
    reply_to: int | None = None
    document: FileRecord | None = None
    photo: bool = False  # the file is a photo, not a document
    service: JSON | None = None
    edit_date: int | None = None
    edits: list[Version] = field(default_factory=list)
    deleted: bool = False

    @property
    def text(self) -> str | None:
        """The plain text (or caption) of the current version."""
        return self.content.text


@dataclass
class CallbackRecord:
    """A button press and the bot's answer to it."""

    id: str
    user_id: int
    chat_id: int | None
    message_id: int | None
    data: str | None
    date: int
    answered: bool = False
    text: str | None = None
    show_alert: bool = False
    url: str | None = None
    cache_time: int | None = None

    def to_json(self) -> JSON:
        """Describe the press and its answer (control API)."""
        return {
            "id": self.id,
            "user_id": self.user_id,
            "chat_id": self.chat_id,
            "message_id": self.message_id,
            "data": self.data,
            "date": self.date,
            "answered": self.answered,
            "text": self.text,
            "show_alert": self.show_alert,
            "url": self.url,
        }


@dataclass
class Chat:
    """A private chat (id == user id), a group or a supergroup."""

    id: int
    type: str
    title: str | None = None
    username: str | None = None
    user: User | None = None  # the other party of a private chat
    members: dict[int, str] = field(default_factory=dict)  # user id -> status
    bot_status: str = "left"  # member / administrator / left / kicked
    started: bool = False  # private: the user pressed START (or wrote to the bot)
    blocked: bool = False  # private: the user blocked the bot
    messages: dict[int, StoredMessage] = field(default_factory=dict)
    next_message_id: int = 1
    chat_actions: list[str] = field(default_factory=list)

    @property
    def is_private(self) -> bool:
        """Whether this is a one-to-one chat with a user."""
        return self.type == "private"

    def to_json(self) -> JSON:
        """Render as a Bot API Chat object."""
        data: JSON = {"id": self.id, "type": self.type}
        if self.is_private and self.user is not None:
            data["first_name"] = self.user.first_name
            if self.user.last_name:
                data["last_name"] = self.user.last_name
            if self.user.username:
                data["username"] = self.user.username
        else:
            data["title"] = self.title or ""
            if self.username:
                data["username"] = self.username
        return data

    def full_info_json(self) -> JSON:
        """Render as a Bot API ChatFullInfo object (what getChat returns)."""
        data = self.to_json()
        data.update(
            {
                "accent_color_id": 0,
                "max_reaction_count": 11,
                "accepted_gift_types": {
                    "unlimited_gifts": False,
                    "limited_gifts": False,
                    "unique_gifts": False,
                    "premium_subscription": False,
                    "gifts_from_channels": False,
                },
            }
        )
        if self.is_private and self.user is not None and self.user.username:
            data["active_usernames"] = [self.user.username]
        return data


@dataclass
class PendingUpdate:
    """An update waiting to be fetched by getUpdates or delivered to the webhook."""

    update_id: int
    data: JSON
    forced: bool = False  # a re-delivered duplicate: handed out once whatever the offset
    handed_out: bool = False


@dataclass
class WebhookConfig:
    """The webhook as set by setWebhook, plus its delivery errors."""

    url: str
    secret_token: str | None = None
    max_connections: int = 40
    last_error_date: int | None = None
    last_error_message: str | None = None


class Pulse:
    """Wakes every waiter when something changes (no polling loops)."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def fire(self) -> None:
        """Wake all current waiters."""
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, seconds: float | None) -> bool:
        """Wait for the next fire; False when ``seconds`` pass first."""
        event = self._event
        try:
            await asyncio.wait_for(event.wait(), seconds)
        except TimeoutError:
            return False
        return True


def now_ts() -> int:
    """Telegram's dates: whole Unix seconds."""
    return int(time.time())


def chat_instance_for(chat_id: int) -> str:
    """A stable, opaque chat_instance string for callback queries from this chat."""
    return str((chat_id * 0x9E3779B97F4A7C15) % (1 << 63) - (1 << 62))


class Emulator:
    """The whole emulated world of one bot: state, faults, limits and statistics."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_first_name: str = "督办助手",
        bot_username: str = "duban_test_bot",
        privacy_mode: bool = True,
        strict_html_ampersand: bool = True,
        fault_seed: int = 0,
        webhook_retry_delay: float = 0.2,
    ) -> None:
        self.token = token
        bot_id = int(token.split(":", 1)[0])
        self.bot = User(bot_id, bot_first_name, username=bot_username, is_bot=True)
        self.privacy_mode = privacy_mode
        self.strict_html_ampersand = strict_html_ampersand
        self.users: dict[int, User] = {}
        self.chats: dict[int, Chat] = {}
        self.files: dict[str, FileRecord] = {}
        self.files_by_path: dict[str, FileRecord] = {}
        self.callbacks: dict[str, CallbackRecord] = {}
        self.commands: dict[tuple[str, int | None, int | None, str], list[JSON]] = {}
        self.pending: list[PendingUpdate] = []
        self.history: dict[int, JSON] = {}  # every update ever created, by update_id
        self.allowed_updates: frozenset[str] = DEFAULT_ALLOWED_UPDATES
        self.webhook: WebhookConfig | None = None
        self.webhook_retry_delay = webhook_retry_delay
        self.faults = FaultInjector(seed=fault_seed)
        self.limiter = RateLimiter()
        self.stats = Stats()
        self.closing = False
        self.closed_event = asyncio.Event()
        self.version = 0  # bumped on every change people can see (messages, edits, answers)
        self.poll_generation = 0
        self.updates_pulse = Pulse()
        self.change_pulse = Pulse()
        self._update_ids = itertools.count(100_000_001)
        self._user_ids = itertools.count(1_000_001)
        self._group_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._callback_ids = itertools.count(1)
        self.webhook_task: asyncio.Task[None] | None = None

    # ----------------------------------------------------------------- lifecycle

    async def close(self) -> None:
        """Wake every pending long poll and waiter and stop webhook delivery."""
        self.closing = True
        self.closed_event.set()
        self.updates_pulse.fire()
        self.change_pulse.fire()
        task, self.webhook_task = self.webhook_task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    def touch(self) -> None:
        """Record a visible change and wake waiters."""
        self.version += 1
        self.change_pulse.fire()

    # ----------------------------------------------------------------- lookups

    def get_user(self, user_id: int) -> User:
        """The simulated user with this id (ControlError if unknown)."""
        try:
            return self.users[user_id]
        except KeyError:
            raise ControlError(f"unknown user {user_id}") from None

    def get_chat(self, chat_id: int) -> Chat:
        """The chat with this id (ControlError if unknown)."""
        try:
            return self.chats[chat_id]
        except KeyError:
            raise ControlError(f"unknown chat {chat_id}") from None

    def find_chat(self, chat_ref: int | str) -> Chat | None:
        """Resolve a Bot API chat_id (number or @username) to a chat."""
        if isinstance(chat_ref, str):
            if chat_ref.startswith("@"):
                name = chat_ref[1:].lower()
                for chat in self.chats.values():
                    if not chat.is_private and (chat.username or "").lower() == name:
                        return chat
                return None
            try:
                chat_ref = int(chat_ref)
            except ValueError:
                return None
        return self.chats.get(chat_ref)

    def iter_messages(self, chat_id: int) -> Iterator[StoredMessage]:
        """All messages of a chat in order."""
        return iter(self.get_chat(chat_id).messages.values())

    # ----------------------------------------------------------------- updates

    def push_update(self, kind: str, payload: JSON) -> int | None:
        """Create an update of ``kind`` (dropped when not in allowed_updates); return its id."""
        if kind not in self.allowed_updates:
            return None
        update_id = next(self._update_ids)
        data = {"update_id": update_id, kind: payload}
        self.history[update_id] = data
        self.pending.append(PendingUpdate(update_id, data))
        self.updates_pulse.fire()
        return update_id

    def inject_update(self, update: JSON) -> int:
        """Queue a raw update (an update_id is assigned when missing)."""
        data = dict(update)
        update_id = int(data.get("update_id") or next(self._update_ids))
        data["update_id"] = update_id
        self.history[update_id] = data
        self.pending.append(PendingUpdate(update_id, data))
        self.updates_pulse.fire()
        return update_id

    def duplicate_update(self, update_id: int) -> int:
        """Deliver an already created update again, with the same update_id."""
        try:
            data = self.history[update_id]
        except KeyError:
            raise ControlError(f"unknown update {update_id}") from None
        self.pending.append(PendingUpdate(update_id, data, forced=True))
        self.updates_pulse.fire()
        return update_id

    def take_updates(self, offset: int | None, limit: int) -> list[JSON]:
        """Apply getUpdates' offset semantics and return up to ``limit`` pending updates."""
        if offset is not None and offset < 0:
            keep = -offset
            normal = [u for u in self.pending if not u.forced]
            dropped = {id(u) for u in normal[: max(0, len(normal) - keep)]}
            self.pending = [u for u in self.pending if id(u) not in dropped]
        elif offset is not None:
            self.pending = [
                u
                for u in self.pending
                if (u.forced and not u.handed_out) or (not u.forced and u.update_id >= offset)
            ]
        else:
            self.pending = [u for u in self.pending if not (u.forced and u.handed_out)]
        batch = self.pending[:limit]
        for item in batch:
            item.handed_out = True
        return [item.data for item in batch]

    # ----------------------------------------------------------------- messages

    def new_message(
        self,
        chat: Chat,
        sender: User,
        *,
        content: Version,
        from_bot: bool,
        reply_to: int | None = None,
        document: FileRecord | None = None,
        photo: bool = False,
        caption_mode: bool = False,
        service: JSON | None = None,
    ) -> StoredMessage:
        """Store a new message in ``chat``."""
        message = StoredMessage(
            message_id=chat.next_message_id,
            chat_id=chat.id,
            sender=sender,
            from_bot=from_bot,
            date=now_ts(),
            content=content,
            caption_mode=caption_mode,
            reply_to=reply_to,
            document=document,
            photo=photo,
            service=service,
        )
        chat.next_message_id += 1
        chat.messages[message.message_id] = message
        self.touch()
        return message

    def message_json(self, message: StoredMessage, *, nested: bool = True) -> JSON:
        """Render a stored message as a Bot API Message object."""
        chat = self.chats[message.chat_id]
        data: JSON = {
            "message_id": message.message_id,
            "from": message.sender.to_json(),
            "chat": chat.to_json(),
            "date": message.date,
        }
        if message.edit_date is not None:
            data["edit_date"] = message.edit_date
        if nested and message.reply_to is not None:
            replied = chat.messages.get(message.reply_to)
            if replied is not None and not replied.deleted:
                data["reply_to_message"] = self.message_json(replied, nested=False)
        content = message.content
        if message.document is not None and message.photo:
            data["photo"] = message.document.photo_json()
        elif message.document is not None:
            data["document"] = message.document.document_json()
        if message.service:
            data.update(message.service)
        if content.text is not None and content.text != "":
            key = "caption" if message.caption_mode else "text"
            data[key] = content.text
            if content.entities:
                data[f"{key}_entities" if message.caption_mode else "entities"] = [
                    e.to_json() for e in content.entities
                ]
        markup = content.reply_markup
        if markup is not None and "inline_keyboard" in markup:
            data["reply_markup"] = markup
        return data

    def new_file(
        self, data: bytes, filename: str | None, mime_type: str | None, *, folder: str = "documents"
    ) -> FileRecord:
        """Store uploaded bytes and give them a file_id."""
        n = next(self._file_ids)
        suffix = ""
        if filename and "." in filename:
            suffix = "." + re.sub(r"[^A-Za-z0-9]", "", filename.rsplit(".", 1)[1])[:8]
        record = FileRecord(
            file_id=f"BQACAgUAAxkBAAE{n:08d}{self.bot.id:x}",
            file_unique_id=f"AgAD{n:06d}",
            file_path=f"{folder}/file_{n}{suffix}",
            data=data,
            filename=filename,
            mime_type=mime_type,
        )
        self.files[record.file_id] = record
        self.files_by_path[record.file_path] = record
        return record

    # ----------------------------------------------------------------- people (control API)

    def create_user(
        self,
        first_name: str,
        *,
        user_id: int | None = None,
        username: str | None = None,
        last_name: str | None = None,
        language_code: str | None = "zh-hans",
    ) -> User:
        """Create a simulated person (and their not-yet-started private chat with the bot)."""
        uid = user_id if user_id is not None else next(self._user_ids)
        if uid in self.users:
            raise ControlError(f"user {uid} exists")
        user = User(uid, first_name, last_name, username, language_code)
        self.users[uid] = user
        self.chats[uid] = Chat(uid, "private", user=user)
        return user

    def start_bot(
        self, user_id: int, *, payload: str | None = None, send_command: bool = True
    ) -> StoredMessage | None:
        """The user presses START: the private chat opens and "/start [payload]" is sent."""
        chat = self.get_chat(user_id)
        chat.started = True
        chat.bot_status = "member"
        if not send_command:
            return None
        text = "/start" if not payload else f"/start {payload}"
        return self.user_sends(user_id, text)

    def create_group(
        self,
        title: str,
        *,
        member_ids: list[int] | tuple[int, ...] = (),
        chat_id: int | None = None,
        supergroup: bool = False,
        username: str | None = None,
        creator_id: int | None = None,
    ) -> Chat:
        """Create a group (or supergroup) with these members; the bot is not in it yet."""
        if chat_id is None:
            n = next(self._group_ids)
            chat_id = -1_001_000_000_000 - n if supergroup else -4_000_000_000 - n
        if chat_id in self.chats:
            raise ControlError(f"chat {chat_id} exists")
        chat = Chat(
            chat_id, "supergroup" if supergroup else "group", title=title, username=username
        )
        for uid in member_ids:
            self.get_user(uid)
            chat.members[uid] = "member"
        if creator_id is not None:
            self.get_user(creator_id)
            chat.members[creator_id] = "creator"
        self.chats[chat_id] = chat
        return chat

    def member_json(self, user: User, status: str) -> JSON:
        """Render a ChatMember object of ``user`` with ``status``."""
        data: JSON = {"user": user.to_json(), "status": status}
        if status == "administrator":
            data.update({right: right != "is_anonymous" for right in _ADMIN_RIGHTS})
            data["can_be_edited"] = False
        elif status == "kicked":
            data["until_date"] = 0
        elif status == "creator":
            data["is_anonymous"] = False
        return data

    def bot_member_update(self, chat: Chat, actor: User, old: str, new: str) -> int | None:
        """Queue a my_chat_member update: the bot's status in ``chat`` changed."""
        payload = {
            "chat": chat.to_json(),
            "from": actor.to_json(),
            "date": now_ts(),
            "old_chat_member": self.member_json(self.bot, old),
            "new_chat_member": self.member_json(self.bot, new),
        }
        return self.push_update("my_chat_member", payload)

    def add_bot_to_group(
        self, chat_id: int, by_user_id: int, *, as_admin: bool = False
    ) -> StoredMessage:
        """A member adds the bot to a group: my_chat_member plus a new_chat_members message."""
        chat = self.get_chat(chat_id)
        actor = self.get_user(by_user_id)
        if chat.is_private:
            raise ControlError("cannot add the bot to a private chat")
        old = chat.bot_status
        chat.bot_status = "administrator" if as_admin else "member"
        self.bot_member_update(chat, actor, old, chat.bot_status)
        message = self.new_message(
            chat,
            actor,
            content=Version(None, (), None, None, None, now_ts()),
            from_bot=False,
            service={"new_chat_members": [self.bot.to_json()]},
        )
        self.push_update("message", self.message_json(message))
        return message

    def set_bot_rights(self, chat_id: int, by_user_id: int, *, admin: bool) -> None:
        """A group admin promotes the bot to administrator or demotes it to member."""
        chat = self.get_chat(chat_id)
        actor = self.get_user(by_user_id)
        old = chat.bot_status
        if old not in ("member", "administrator"):
            raise ControlError("the bot is not in this group")
        chat.bot_status = "administrator" if admin else "member"
        self.bot_member_update(chat, actor, old, chat.bot_status)
        self.touch()

    def remove_bot_from_group(self, chat_id: int, by_user_id: int) -> None:
        """A member removes the bot from a group: my_chat_member (kicked)."""
        chat = self.get_chat(chat_id)
        actor = self.get_user(by_user_id)
        old = chat.bot_status
        chat.bot_status = "kicked"
        self.bot_member_update(chat, actor, old, "kicked")
        self.touch()

    def add_member(self, chat_id: int, user_id: int) -> StoredMessage:
        """A person joins a group: a new_chat_members message (and chat_member if allowed)."""
        chat = self.get_chat(chat_id)
        user = self.get_user(user_id)
        chat.members[user_id] = "member"
        message = self.new_message(
            chat,
            user,
            content=Version(None, (), None, None, None, now_ts()),
            from_bot=False,
            service={"new_chat_members": [user.to_json()]},
        )
        if chat.bot_status in ("member", "administrator"):
            self.push_update("message", self.message_json(message))
            self.push_update(
                "chat_member",
                {
                    "chat": chat.to_json(),
                    "from": user.to_json(),
                    "date": now_ts(),
                    "old_chat_member": self.member_json(user, "left"),
                    "new_chat_member": self.member_json(user, "member"),
                },
            )
        return message

    def _bot_sees(self, chat: Chat, text: str, reply_to: StoredMessage | None) -> bool:
        """Privacy mode: in groups a bot that is no admin sees only commands, replies, mentions."""
        if chat.bot_status not in ("member", "administrator"):
            return False
        if chat.is_private or not self.privacy_mode or chat.bot_status == "administrator":
            return True
        if text.startswith("/"):
            return True
        if reply_to is not None and reply_to.from_bot:
            return True
        username = self.bot.username or ""
        return bool(username) and f"@{username.lower()}" in text.lower()

    def _user_chat(self, user_id: int, chat_id: int | None) -> tuple[User, Chat]:
        user = self.get_user(user_id)
        chat = self.get_chat(chat_id if chat_id is not None else user_id)
        if chat.is_private:
            if chat.id != user_id:
                raise ControlError(f"user {user_id} cannot write in private chat {chat.id}")
            if not chat.started:
                chat.started = True
                chat.bot_status = "member"
        elif user_id not in chat.members:
            raise ControlError(f"user {user_id} is not a member of chat {chat.id}")
        return user, chat

    def user_sends(
        self,
        user_id: int,
        text: str,
        *,
        chat_id: int | None = None,
        reply_to: int | None = None,
    ) -> StoredMessage:
        """A person writes ``text`` (commands get bot_command entities); the bot gets an update."""
        user, chat = self._user_chat(user_id, chat_id)
        replied = None
        if reply_to is not None:
            replied = chat.messages.get(reply_to)
            if replied is None or replied.deleted:
                raise ControlError(f"no message {reply_to} in chat {chat.id}")
        entities = detect_bot_commands(text)
        message = self.new_message(
            chat,
            user,
            content=Version(text, entities, text, None, None, now_ts()),
            from_bot=False,
            reply_to=reply_to,
        )
        if self._bot_sees(chat, text, replied):
            self.push_update("message", self.message_json(message))
        return message

    def user_sends_document(
        self,
        user_id: int,
        filename: str,
        data: bytes,
        *,
        chat_id: int | None = None,
        caption: str | None = None,
        mime_type: str | None = None,
        reply_to: int | None = None,
    ) -> StoredMessage:
        """A person sends a file; the bot gets a message update with a document."""
        record = self.new_file(data, filename, mime_type or "application/octet-stream")
        return self._user_sends_file(user_id, record, chat_id, caption, reply_to, photo=False)

    def user_sends_photo(
        self,
        user_id: int,
        data: bytes,
        *,
        chat_id: int | None = None,
        caption: str | None = None,
        reply_to: int | None = None,
    ) -> StoredMessage:
        """A person sends a photo; the bot gets a message update with a photo."""
        record = self.new_file(data, "photo.jpg", "image/jpeg", folder="photos")
        return self._user_sends_file(user_id, record, chat_id, caption, reply_to, photo=True)

    def _user_sends_file(
        self,
        user_id: int,
        record: FileRecord,
        chat_id: int | None,
        caption: str | None,
        reply_to: int | None,
        *,
        photo: bool,
    ) -> StoredMessage:
        user, chat = self._user_chat(user_id, chat_id)
        replied = None
        if reply_to is not None:
            replied = chat.messages.get(reply_to)
            if replied is None or replied.deleted:
                raise ControlError(f"no message {reply_to} in chat {chat.id}")
        entities = detect_bot_commands(caption) if caption else ()
        message = self.new_message(
            chat,
            user,
            content=Version(caption, entities, caption, None, None, now_ts()),
            from_bot=False,
            reply_to=reply_to,
            document=record,
            photo=photo,
            caption_mode=True,
        )
        if self._bot_sees(chat, caption or "", replied):
            self.push_update("message", self.message_json(message))
        return message

    def press_button(
        self,
        user_id: int,
        message_id: int,
        *,
        chat_id: int | None = None,
        data: str | None = None,
        text: str | None = None,
        forge: bool = False,
    ) -> CallbackRecord:
        """A person presses an inline button (by callback data or label); the bot gets a query.

        With ``forge=True`` ``data`` is sent even if no button carries it (tampered clients).
        """
        user = self.get_user(user_id)
        chat = self.get_chat(chat_id if chat_id is not None else user_id)
        message = chat.messages.get(message_id)
        if message is None or message.deleted:
            raise ControlError(f"no message {message_id} in chat {chat.id}")
        if not forge:
            markup = message.content.reply_markup or {}
            buttons = [b for row in markup.get("inline_keyboard", []) for b in row]
            match = [
                b
                for b in buttons
                if "callback_data" in b
                and (data is None or b["callback_data"] == data)
                and (text is None or b.get("text") == text)
            ]
            if not match:
                raise ControlError(
                    f"message {message_id} has no button with data={data!r} text={text!r}"
                )
            data = match[0]["callback_data"]
        query_id = str(4_000_000_000_000_000 + next(self._callback_ids))
        record = CallbackRecord(query_id, user_id, chat.id, message_id, data, now_ts())
        self.callbacks[query_id] = record
        payload: JSON = {
            "id": query_id,
            "from": user.to_json(),
            "message": self.message_json(message),
            "chat_instance": chat_instance_for(chat.id),
        }
        if data is not None:
            payload["data"] = data
        self.push_update("callback_query", payload)
        self.touch()
        return record

    def set_blocked(self, user_id: int, blocked: bool) -> None:
        """The person blocks (or unblocks) the bot: my_chat_member kicked/member."""
        user = self.get_user(user_id)
        chat = self.get_chat(user_id)
        if chat.blocked == blocked:
            return
        chat.blocked = blocked
        old = chat.bot_status if chat.started else "left"
        chat.bot_status = "kicked" if blocked else "member"
        if blocked or chat.started:
            self.bot_member_update(chat, user, old, chat.bot_status)
        if not blocked:
            chat.started = True
        self.touch()

    # ----------------------------------------------------------------- transcript (control API)

    def version_json(self, version: Version) -> JSON:
        """Describe one version of a message's content."""
        markup = version.reply_markup or {}
        return {
            "text": version.source,
            "plain": version.text,
            "parse_mode": version.parse_mode,
            "entities": [e.to_json() for e in version.entities],
            "buttons": [
                [
                    {
                        "text": b.get("text", ""),
                        "callback_data": b.get("callback_data"),
                        "url": b.get("url"),
                    }
                    for b in row
                ]
                for row in markup.get("inline_keyboard", [])
            ],
            "keyboard": [
                [b if isinstance(b, str) else b.get("text", "") for b in row]
                for row in markup.get("keyboard", [])
            ]
            or None,
            "remove_keyboard": bool(markup.get("remove_keyboard")),
            "force_reply": bool(markup.get("force_reply")),
            "date": version.date,
        }

    def transcript_json(self, message: StoredMessage, *, with_data: bool = True) -> JSON:
        """Describe a message for the transcript (control API)."""
        data = self.version_json(message.content)
        document = None
        if message.document is not None:
            record = message.document
            document = {
                "file_id": record.file_id,
                "filename": record.filename,
                "mime_type": record.mime_type,
                "size": len(record.data),
                "data_b64": base64.b64encode(record.data).decode() if with_data else None,
            }
        data.update(
            {
                "message_id": message.message_id,
                "chat_id": message.chat_id,
                "sender": "bot" if message.from_bot else "user",
                "user_id": message.sender.id,
                "date": message.date,
                "reply_to": message.reply_to,
                "document": document,
                "photo": message.photo,
                "service": message.service,
                "edit_date": message.edit_date,
                "edits": [self.version_json(v) for v in message.edits],
                "deleted": message.deleted,
            }
        )
        return data

    def callback_answers(self, chat_id: int | None = None) -> list[JSON]:
        """Every button press (optionally of one chat) with the bot's answer."""
        return [
            c.to_json() for c in self.callbacks.values() if chat_id is None or c.chat_id == chat_id
        ]

    def visible_commands(
        self, chat_id: int, user_id: int | None = None, language_code: str | None = None
    ) -> list[JSON]:
        """The command menu a person would see, resolving scopes the way Telegram documents."""
        chat = self.get_chat(chat_id)
        is_admin = user_id is not None and chat.members.get(user_id) in (
            "administrator",
            "creator",
        )
        keys: list[tuple[str, int | None, int | None]] = []
        if chat.is_private:
            keys += [("chat", chat.id, None), ("all_private_chats", None, None)]
        else:
            if user_id is not None:
                keys.append(("chat_member", chat.id, user_id))
            if is_admin:
                keys.append(("chat_administrators", chat.id, None))
            keys.append(("chat", chat.id, None))
            if is_admin:
                keys.append(("all_chat_administrators", None, None))
            keys.append(("all_group_chats", None, None))
        keys.append(("default", None, None))
        for kind, cid, uid in keys:
            for lang in ([language_code] if language_code else []) + [""]:
                found = self.commands.get((kind, cid, uid, lang))
                if found:
                    return found
        return []


def dumps(data: Any) -> bytes:
    """Compact UTF-8 JSON, as the Bot API sends it."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


__all__ = [
    "DEFAULT_TOKEN",
    "ApiError",
    "CallbackRecord",
    "Chat",
    "ControlError",
    "Emulator",
    "FileRecord",
    "StoredMessage",
    "User",
    "Version",
    "dumps",
]
