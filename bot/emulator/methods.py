"""The Bot API methods, shared by both transports (HTTP server and in-process request).

``call_api`` is the single entry point: it checks the token, counts the call, applies injected
faults, runs the method and renders Telegram's response body. Parameters arrive either as JSON
values or, as python-telegram-bot sends them, as strings with nested objects JSON-encoded.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from bot.emulator import webhook
from bot.emulator.faults import FaultKind
from bot.emulator.state import (
    DEFAULT_ALLOWED_UPDATES,
    JSON,
    ApiError,
    Chat,
    Emulator,
    FileRecord,
    StoredMessage,
    Version,
    WebhookConfig,
    dumps,
    now_ts,
)
from bot.emulator.textparse import (
    MAX_CAPTION_LENGTH,
    MAX_TEXT_LENGTH,
    FormattedText,
    ParseError,
    format_text,
)

_TOKEN_RE = re.compile(r"^[0-9]+:[A-Za-z0-9_-]+$")
_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_LOOPBACK_HOSTS = ("127.", "localhost", "::1", "[::1]")
_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
BAD_GATEWAY_PAGE = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.18.0</center>\r\n"
    b"</body>\r\n</html>\r\n"
)


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request."""

    data: bytes
    filename: str | None = None
    content_type: str | None = None


@dataclass
class ApiOutcome:
    """What a transport must answer: a status and body, or a fault to act out."""

    status: int
    body: bytes
    content_type: str = "application/json"
    fault: FaultKind | None = None  # TIMEOUT and LOST: drop the connection instead
    hold: float = 0.0  # TIMEOUT: how long to hold the request first


class Params:
    """Typed access to a method's parameters, whatever encoding they arrived in."""

    def __init__(self, values: dict[str, Any], files: dict[str, UploadedFile]) -> None:
        self.values = values
        self.files = files

    def has(self, name: str) -> bool:
        """Whether the parameter was given (and is not null)."""
        return self.values.get(name) is not None

    def text(self, name: str, default: str | None = None) -> str | None:
        """A string parameter."""
        value = self.values.get(name)
        if value is None:
            return default
        return value if isinstance(value, str) else json.dumps(value)

    def integer(self, name: str, default: int | None = None) -> int | None:
        """An integer parameter (400 if it is not one)."""
        value = self.values.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return int(value)
        try:
            return int(value)
        except (TypeError, ValueError):
            try:
                return int(float(value))
            except (TypeError, ValueError):
                raise ApiError.bad_request(f"invalid {name} specified") from None

    def number(self, name: str, default: float | None = None) -> float | None:
        """A number parameter."""
        value = self.values.get(name)
        if value is None or value == "":
            return default
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ApiError.bad_request(f"invalid {name} specified") from None

    def flag(self, name: str) -> bool:
        """A boolean parameter ("true"/"1" count as true)."""
        value = self.values.get(name)
        if isinstance(value, str):
            return value.strip().lower() in ("true", "1", "yes")
        return bool(value)

    def parsed(self, name: str, error: str) -> Any:
        """A parameter holding a JSON object or array (JSON-encoded when sent as a form field)."""
        value = self.values.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise ApiError.bad_request(error) from None
        return value

    def chat_ref(self) -> int | str:
        """The chat_id parameter: an integer or an @username."""
        value = self.values.get("chat_id")
        if value is None or value == "":
            raise ApiError.bad_request("chat_id is empty")
        if isinstance(value, int):
            return value
        text = str(value).strip()
        if text.startswith("@"):
            return text
        try:
            return int(text)
        except ValueError:
            raise ApiError.bad_request("chat not found") from None


Handler = Callable[[Emulator, Params], Awaitable[Any]]
METHODS: dict[str, Handler] = {}


def method(name: str) -> Callable[[Handler], Handler]:
    """Register a Bot API method implementation."""

    def register(func: Handler) -> Handler:
        METHODS[name] = func
        return func

    return register


_CANONICAL: dict[
    str, str
] = {}  # lower-case name -> registered name; Telegram's method names are case-insensitive


def _canonical(name: str) -> str | None:
    if not _CANONICAL:
        _CANONICAL.update({key.lower(): key for key in METHODS})
    return _CANONICAL.get(name.lower())


def _json_body(status: int, body: JSON) -> ApiOutcome:
    return ApiOutcome(status, dumps(body))


def token_error(emu: Emulator, token: str) -> ApiOutcome | None:
    """401 for a well-formed but wrong token, 404 for a malformed one, None when it is right."""
    if token == emu.token:
        return None
    if _TOKEN_RE.match(token):
        return _json_body(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
    return _json_body(404, {"ok": False, "error_code": 404, "description": "Not Found"})


async def call_api(
    emu: Emulator,
    token: str,
    name: str,
    values: dict[str, Any],
    files: dict[str, UploadedFile] | None = None,
) -> ApiOutcome:
    """Run one Bot API call and return what the transport must answer."""
    refused = token_error(emu, token)
    if refused is not None:
        return refused
    canonical = _canonical(name)
    label = canonical or name
    emu.stats.calls[label] += 1
    if canonical is None:
        emu.stats.outcomes[(label, "error_400")] += 1
        error = ApiError.bad_request(f"method {name} is not implemented by the emulator")
        return _json_body(400, error.to_json())
    params = Params(values, files or {})
    rule = emu.faults.draw(canonical)
    if rule is not None and rule.kind != FaultKind.LOST:
        emu.stats.outcomes[(label, f"fault_{rule.kind}")] += 1
        if rule.kind == FaultKind.RETRY_AFTER:
            retry = int(rule.retry_after) if rule.retry_after.is_integer() else rule.retry_after
            error = ApiError(429, f"Too Many Requests: retry after {retry}", {"retry_after": retry})
            return _json_body(429, error.to_json())
        if rule.kind == FaultKind.SERVER_ERROR:
            if rule.status == 502:
                return ApiOutcome(502, BAD_GATEWAY_PAGE, "text/html")
            body = {"ok": False, "error_code": rule.status, "description": "Internal Server Error"}
            return _json_body(rule.status, body)
        return ApiOutcome(504, b"", fault=FaultKind.TIMEOUT, hold=rule.hold)
    try:
        result = await METHODS[canonical](emu, params)
    except ApiError as exc:
        outcome = "rate_limited" if exc.code == 429 else f"error_{exc.code}"
        emu.stats.outcomes[(label, outcome)] += 1
        return _json_body(exc.code, exc.to_json())
    if rule is not None:
        emu.stats.outcomes[(label, f"fault_{rule.kind}")] += 1
        return ApiOutcome(500, b"", fault=FaultKind.LOST)
    emu.stats.outcomes[(label, "ok")] += 1
    return _json_body(200, {"ok": True, "result": result})


# --------------------------------------------------------------------------- helpers


def _resolve_chat(emu: Emulator, params: Params) -> Chat:
    chat = emu.find_chat(params.chat_ref())
    if chat is None:
        raise ApiError.bad_request("chat not found")
    return chat


def _writable_chat(emu: Emulator, params: Params) -> Chat:
    """The target chat of a send, refusing it the way Telegram does."""
    chat = _resolve_chat(emu, params)
    if chat.is_private:
        if chat.blocked:
            raise ApiError.forbidden("bot was blocked by the user")
        if not chat.started:
            raise ApiError.forbidden("bot can't initiate conversation with a user")
    else:
        kind = "supergroup" if chat.type == "supergroup" else "group"
        if chat.bot_status == "kicked":
            raise ApiError.forbidden(f"bot was kicked from the {kind} chat")
        if chat.bot_status not in ("member", "administrator"):
            raise ApiError.forbidden(f"bot is not a member of the {kind} chat")
    return chat


def _format(emu: Emulator, text: str, parse_mode: str | None) -> FormattedText:
    try:
        return format_text(text, parse_mode, strict_ampersand=emu.strict_html_ampersand)
    except ParseError as exc:
        raise ApiError.bad_request(f"can't parse entities: {exc}") from None
    except ValueError:
        raise ApiError.bad_request(f"unsupported parse_mode {parse_mode!r}") from None


def _validate_url(url: Any) -> None:
    parts = urlsplit(str(url))
    if parts.scheme not in ("http", "https", "tg") or not (parts.netloc or parts.scheme == "tg"):
        raise ApiError.bad_request(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")


_INLINE_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)


def _reply_markup(params: Params) -> JSON | None:
    """Parse and validate reply_markup (inline keyboard, reply keyboard, remove, force reply)."""
    markup = params.parsed("reply_markup", "can't parse reply keyboard markup JSON object")
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise ApiError.bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise ApiError.bad_request(
                'field "inline_keyboard" of the InlineKeyboardMarkup should be an Array of Arrays'
            )
        for row in rows:
            for button in row:
                if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                    raise ApiError.bad_request('can\'t find field "text"')
                if not button["text"]:
                    raise ApiError.bad_request("BUTTON_TEXT_INVALID")
                actions = [key for key in _INLINE_ACTIONS if key in button]
                if not actions:
                    raise ApiError.bad_request(
                        "can't parse inline keyboard button: "
                        "Text buttons are unallowed in the inline keyboard"
                    )
                if "callback_data" in button:
                    data = button["callback_data"]
                    if not isinstance(data, str) or not 1 <= len(data.encode()) <= 64:
                        raise ApiError.bad_request("BUTTON_DATA_INVALID")
                if "url" in button:
                    _validate_url(button["url"])
        return {"inline_keyboard": rows}
    if "keyboard" in markup:
        rows = markup["keyboard"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise ApiError.bad_request(
                'field "keyboard" of the ReplyKeyboardMarkup should be an Array of Arrays'
            )
        return markup
    if markup.get("remove_keyboard") or markup.get("force_reply"):
        return markup
    if not markup:
        return None
    raise ApiError.bad_request("can't parse reply keyboard markup JSON object")


def _reply_to(emu: Emulator, chat: Chat, params: Params) -> int | None:
    """Resolve reply_parameters or the legacy reply_to_message_id."""
    reply = params.parsed("reply_parameters", "can't parse reply parameters JSON object")
    allow_missing = params.flag("allow_sending_without_reply")
    target: int | None = None
    if isinstance(reply, dict) and reply.get("message_id") is not None:
        target = int(reply["message_id"])
        allow_missing = bool(reply.get("allow_sending_without_reply", allow_missing))
        other = reply.get("chat_id")
        if other is not None and emu.find_chat(other) is not chat:
            raise ApiError.bad_request("replies to other chats are not supported by the emulator")
    elif params.has("reply_to_message_id"):
        target = params.integer("reply_to_message_id")
    if target is None:
        return None
    replied = chat.messages.get(target)
    if replied is None or replied.deleted:
        if allow_missing:
            return None
        raise ApiError.bad_request("message to be replied not found")
    return target


def _check_flood(emu: Emulator, chat: Chat) -> None:
    """Refuse a send over Telegram's flood limits with 429 + retry_after."""
    wait = emu.limiter.check(chat.id, is_private=chat.is_private)
    if wait > 0:
        emu.stats.violations += 1
        emu.stats.violations_per_chat[chat.id] += 1
        retry = emu.limiter.retry_after(wait)
        raise ApiError(429, f"Too Many Requests: retry after {retry}", {"retry_after": retry})


def _record_send(emu: Emulator) -> None:
    emu.stats.send_times.append(time.time())


def _bot_message(emu: Emulator, chat: Chat, params: Params) -> StoredMessage:
    message_id = params.integer("message_id")
    if params.has("inline_message_id"):
        raise ApiError.bad_request("inline messages are not supported by the emulator")
    if message_id is None:
        raise ApiError.bad_request("message identifier is not specified")
    message = chat.messages.get(message_id)
    if message is None or message.deleted:
        raise ApiError.bad_request("message to edit not found")
    if not message.from_bot:
        raise ApiError.bad_request("message can't be edited")
    return message


_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message"
)


def _inline_only(markup: JSON | None) -> JSON | None:
    """The part of a reply_markup that belongs to the message (only inline keyboards do)."""
    return markup if markup is not None and "inline_keyboard" in markup else None


def _apply_edit(emu: Emulator, message: StoredMessage, new: Version) -> JSON:
    old = message.content
    if (
        new.text == old.text
        and new.entities == old.entities
        and _inline_only(new.reply_markup) == _inline_only(old.reply_markup)
    ):
        raise ApiError.bad_request(_NOT_MODIFIED)
    if new.reply_markup is None and _inline_only(old.reply_markup) is None:
        # A reply keyboard or ForceReply lives on the person's client, not in the message.
        new.reply_markup = old.reply_markup
    message.edits.append(old)
    message.content = new
    message.edit_date = new.date
    emu.touch()
    return emu.message_json(message)


# --------------------------------------------------------------------------- methods


@method("getMe")
async def get_me(emu: Emulator, params: Params) -> Any:
    """Return the bot's User object."""
    data = emu.bot.to_json()
    data.update(
        {
            "can_join_groups": True,
            "can_read_all_group_messages": not emu.privacy_mode,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
    )
    return data


@method("getUpdates")
async def get_updates(emu: Emulator, params: Params) -> Any:
    """Long polling: return pending updates from ``offset``, waiting up to ``timeout`` seconds."""
    if emu.webhook is not None:
        raise ApiError(
            409,
            "Conflict: can't use getUpdates method while webhook is active; "
            "use deleteWebhook to delete the webhook first",
        )
    offset = params.integer("offset")
    limit = max(1, min(100, params.integer("limit", 100) or 100))
    timeout = max(0.0, params.number("timeout", 0.0) or 0.0)
    allowed = params.parsed("allowed_updates", "can't parse allowed updates")
    if allowed is not None:
        emu.allowed_updates = frozenset(allowed) if allowed else DEFAULT_ALLOWED_UPDATES
    # A new getUpdates call ends any older one that is still waiting, as on Telegram.
    emu.poll_generation += 1
    generation = emu.poll_generation
    emu.updates_pulse.fire()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        updates = emu.take_updates(offset, limit)
        if updates or emu.closing:
            return updates
        remaining = deadline - loop.time()
        if remaining <= 0:
            return []
        await emu.updates_pulse.wait(remaining)
        if emu.poll_generation != generation:
            raise ApiError(
                409,
                "Conflict: terminated by other getUpdates request; "
                "make sure that only one bot instance is running",
            )


@method("setWebhook")
async def set_webhook(emu: Emulator, params: Params) -> Any:
    """Set (or with an empty url, remove) the webhook; only loopback URLs are accepted."""
    url = params.text("url", "") or ""
    if params.flag("drop_pending_updates"):
        emu.pending.clear()
    allowed = params.parsed("allowed_updates", "can't parse allowed updates")
    if allowed is not None:
        emu.allowed_updates = frozenset(allowed) if allowed else DEFAULT_ALLOWED_UPDATES
    if not url:
        emu.webhook = None
        return True
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ApiError.bad_request("bad webhook: Failed to resolve host: Name or service not known")
    if not parts.hostname.startswith(_LOOPBACK_HOSTS):
        raise ApiError.bad_request(
            "bad webhook: the emulator delivers webhooks only to loopback addresses"
        )
    secret = params.text("secret_token")
    if secret is not None and not _SECRET_RE.match(secret):
        raise ApiError.bad_request("secret token contains unallowed characters")
    max_connections = params.integer("max_connections", 40) or 40
    if not 1 <= max_connections <= 100:
        raise ApiError.bad_request("bad webhook: max_connections must be between 1 and 100")
    emu.webhook = WebhookConfig(url=url, secret_token=secret, max_connections=max_connections)
    webhook.ensure_delivery(emu)
    emu.updates_pulse.fire()
    return True


@method("deleteWebhook")
async def delete_webhook(emu: Emulator, params: Params) -> Any:
    """Remove the webhook (and with drop_pending_updates, the queued updates)."""
    emu.webhook = None
    if params.flag("drop_pending_updates"):
        emu.pending.clear()
    emu.updates_pulse.fire()
    return True


@method("getWebhookInfo")
async def get_webhook_info(emu: Emulator, params: Params) -> Any:
    """Describe the webhook and the number of pending updates."""
    info: JSON = {
        "url": emu.webhook.url if emu.webhook else "",
        "has_custom_certificate": False,
        "pending_update_count": len(emu.pending),
    }
    hook = emu.webhook
    if hook is not None:
        info["max_connections"] = hook.max_connections
        info["ip_address"] = "127.0.0.1"
        if hook.last_error_date is not None:
            info["last_error_date"] = hook.last_error_date
            info["last_error_message"] = hook.last_error_message
        if emu.allowed_updates != DEFAULT_ALLOWED_UPDATES:
            info["allowed_updates"] = sorted(emu.allowed_updates)
    return info


@method("sendMessage")
async def send_message(emu: Emulator, params: Params) -> Any:
    """Send a text message."""
    chat = _writable_chat(emu, params)
    raw = params.text("text", "") or ""
    parse_mode = params.text("parse_mode") or None
    formatted = _format(emu, raw, parse_mode)
    if not formatted.text:
        raise ApiError.bad_request("message text is empty")
    if len(formatted.text) > MAX_TEXT_LENGTH:
        raise ApiError.bad_request("message is too long")
    markup = _reply_markup(params)
    params.parsed("link_preview_options", "can't parse link preview options JSON object")
    reply_to = _reply_to(emu, chat, params)
    _check_flood(emu, chat)
    content = Version(formatted.text, formatted.entities, raw, parse_mode, markup, now_ts())
    message = emu.new_message(chat, emu.bot, content=content, from_bot=True, reply_to=reply_to)
    _record_send(emu)
    return emu.message_json(message)


def _input_document(emu: Emulator, params: Params, field: str = "document") -> FileRecord:
    upload = params.files.get(field)
    if upload is not None:
        if not upload.data:
            raise ApiError.bad_request("file must be non-empty")
        return emu.new_file(upload.data, upload.filename or field, upload.content_type)
    ref = params.text(field)
    if not ref:
        raise ApiError.bad_request(f"there is no {field} in the request")
    if ref.startswith("attach://"):
        attached = params.files.get(ref.removeprefix("attach://"))
        if attached is None:
            raise ApiError.bad_request("wrong file identifier/HTTP URL specified")
        return emu.new_file(attached.data, attached.filename or "document", attached.content_type)
    if ref.startswith(("http://", "https://")):
        raise ApiError.bad_request("failed to get HTTP URL content")
    record = emu.files.get(ref)
    if record is None:
        raise ApiError.bad_request("wrong file identifier/HTTP URL specified")
    return record


@method("sendDocument")
async def send_document(emu: Emulator, params: Params) -> Any:
    """Send a file (multipart upload, or an existing file_id)."""
    return _send_file(emu, params, photo=False)


@method("sendPhoto")
async def send_photo(emu: Emulator, params: Params) -> Any:
    """Send a photo (multipart upload, or an existing file_id)."""
    return _send_file(emu, params, photo=True)


def _send_file(emu: Emulator, params: Params, *, photo: bool) -> Any:
    chat = _writable_chat(emu, params)
    record = _input_document(emu, params, "photo" if photo else "document")
    raw = params.text("caption")
    parse_mode = params.text("parse_mode") or None
    formatted = _format(emu, raw, parse_mode) if raw else FormattedText("", ())
    if len(formatted.text) > MAX_CAPTION_LENGTH:
        raise ApiError.bad_request("message caption is too long")
    markup = _reply_markup(params)
    reply_to = _reply_to(emu, chat, params)
    _check_flood(emu, chat)
    content = Version(formatted.text or None, formatted.entities, raw, parse_mode, markup, now_ts())
    message = emu.new_message(
        chat,
        emu.bot,
        content=content,
        from_bot=True,
        reply_to=reply_to,
        document=record,
        photo=photo,
        caption_mode=True,
    )
    _record_send(emu)
    return emu.message_json(message)


@method("editMessageText")
async def edit_message_text(emu: Emulator, params: Params) -> Any:
    """Edit the text of a bot message (a missing reply_markup removes the inline keyboard)."""
    chat = _resolve_chat(emu, params)
    message = _bot_message(emu, chat, params)
    if message.caption_mode or message.content.text is None:
        raise ApiError.bad_request("there is no text in the message to edit")
    raw = params.text("text", "") or ""
    parse_mode = params.text("parse_mode") or None
    formatted = _format(emu, raw, parse_mode)
    if not formatted.text:
        raise ApiError.bad_request("message text is empty")
    if len(formatted.text) > MAX_TEXT_LENGTH:
        raise ApiError.bad_request("message is too long")
    markup = _reply_markup(params)
    if markup is not None and "inline_keyboard" not in markup:
        raise ApiError.bad_request("inline keyboard expected")
    content = Version(formatted.text, formatted.entities, raw, parse_mode, markup, now_ts())
    return _apply_edit(emu, message, content)


@method("editMessageReplyMarkup")
async def edit_message_reply_markup(emu: Emulator, params: Params) -> Any:
    """Replace (or with no reply_markup, remove) a bot message's inline keyboard."""
    chat = _resolve_chat(emu, params)
    message = _bot_message(emu, chat, params)
    markup = _reply_markup(params)
    if markup is not None and "inline_keyboard" not in markup:
        raise ApiError.bad_request("inline keyboard expected")
    old = message.content
    content = Version(old.text, old.entities, old.source, old.parse_mode, markup, now_ts())
    return _apply_edit(emu, message, content)


@method("deleteMessage")
async def delete_message(emu: Emulator, params: Params) -> Any:
    """Delete a message."""
    chat = _resolve_chat(emu, params)
    message_id = params.integer("message_id")
    message = chat.messages.get(message_id) if message_id is not None else None
    if message is None or message.deleted:
        raise ApiError.bad_request("message to delete not found")
    if not chat.is_private and not message.from_bot and chat.bot_status != "administrator":
        raise ApiError.bad_request("message can't be deleted")
    message.deleted = True
    emu.touch()
    return True


@method("answerCallbackQuery")
async def answer_callback_query(emu: Emulator, params: Params) -> Any:
    """Answer a button press (once)."""
    query_id = params.text("callback_query_id")
    record = emu.callbacks.get(query_id or "")
    if record is None or record.answered:
        raise ApiError.bad_request(
            "query is too old and response timeout expired or query ID is invalid"
        )
    text = params.text("text")
    if text is not None and len(text) > 200:
        raise ApiError.bad_request("MESSAGE_TOO_LONG")
    record.answered = True
    record.text = text
    record.show_alert = params.flag("show_alert")
    record.url = params.text("url")
    record.cache_time = params.integer("cache_time")
    emu.touch()
    return True


@method("sendChatAction")
async def send_chat_action(emu: Emulator, params: Params) -> Any:
    """Show "typing…" and friends (recorded, not shown in the transcript)."""
    chat = _writable_chat(emu, params)
    action = params.text("action")
    if action not in _CHAT_ACTIONS:
        raise ApiError.bad_request("wrong parameter action in request")
    chat.chat_actions.append(action)
    return True


def _scope_key(emu: Emulator, params: Params) -> tuple[str, int | None, int | None, str]:
    scope = params.parsed("scope", "can't parse BotCommandScope JSON object") or {"type": "default"}
    if not isinstance(scope, dict):
        raise ApiError.bad_request("can't parse BotCommandScope JSON object")
    kind = scope.get("type")
    language = params.text("language_code", "") or ""
    if language and not re.fullmatch(r"[a-z]{2}", language):
        raise ApiError.bad_request("invalid language code specified")
    if kind in ("default", "all_private_chats", "all_group_chats", "all_chat_administrators"):
        return (kind, None, None, language)
    if kind in ("chat", "chat_administrators", "chat_member"):
        ref = scope.get("chat_id")
        if ref is None:
            raise ApiError.bad_request("chat_id is empty")
        chat = emu.find_chat(ref)
        if chat is None:
            raise ApiError.bad_request("chat not found")
        user_id = None
        if kind == "chat_member":
            if scope.get("user_id") is None:
                raise ApiError.bad_request("user not found")
            user_id = int(scope["user_id"])
            if user_id not in emu.users:
                raise ApiError.bad_request("user not found")
        return (kind, chat.id, user_id, language)
    raise ApiError.bad_request("wrong parameter scope type")


@method("setMyCommands")
async def set_my_commands(emu: Emulator, params: Params) -> Any:
    """Store the command list for a scope and language."""
    commands = params.parsed("commands", "can't parse commands JSON object")
    if not isinstance(commands, list):
        raise ApiError.bad_request("can't parse commands JSON object")
    if len(commands) > 100:
        raise ApiError.bad_request("BOT_COMMANDS_TOO_MUCH")
    clean: list[JSON] = []
    for item in commands:
        if not isinstance(item, dict):
            raise ApiError.bad_request("can't parse BotCommand JSON object")
        command = str(item.get("command", ""))
        description = str(item.get("description", ""))
        if not _COMMAND_RE.match(command):
            raise ApiError.bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(description) <= 256:
            raise ApiError.bad_request("command description must be non-empty")
        clean.append({"command": command, "description": description})
    key = _scope_key(emu, params)
    if clean:
        emu.commands[key] = clean
    else:
        emu.commands.pop(key, None)
    return True


@method("getMyCommands")
async def get_my_commands(emu: Emulator, params: Params) -> Any:
    """Return the command list stored for exactly this scope and language."""
    return list(emu.commands.get(_scope_key(emu, params), []))


@method("deleteMyCommands")
async def delete_my_commands(emu: Emulator, params: Params) -> Any:
    """Delete the command list of a scope and language."""
    emu.commands.pop(_scope_key(emu, params), None)
    return True


@method("getChat")
async def get_chat(emu: Emulator, params: Params) -> Any:
    """Return ChatFullInfo."""
    chat = _resolve_chat(emu, params)
    if chat.is_private and not chat.started:
        raise ApiError.bad_request("chat not found")
    return chat.full_info_json()


@method("getChatMember")
async def get_chat_member(emu: Emulator, params: Params) -> Any:
    """Return a ChatMember of a chat."""
    chat = _resolve_chat(emu, params)
    user_id = params.integer("user_id")
    if user_id == emu.bot.id:
        return emu.member_json(emu.bot, chat.bot_status)
    user = emu.users.get(user_id or 0)
    if user is None:
        raise ApiError.bad_request("user not found")
    if chat.is_private:
        status = "member" if user.id == chat.id else "left"
    else:
        status = chat.members.get(user.id, "left")
    return emu.member_json(user, status)


@method("leaveChat")
async def leave_chat(emu: Emulator, params: Params) -> Any:
    """The bot leaves a group."""
    chat = _resolve_chat(emu, params)
    if chat.is_private:
        raise ApiError.bad_request("chat member status can't be changed in private chats")
    if chat.bot_status not in ("member", "administrator"):
        kind = "supergroup" if chat.type == "supergroup" else "group"
        raise ApiError.forbidden(f"bot is not a member of the {kind} chat")
    old = chat.bot_status
    chat.bot_status = "left"
    emu.bot_member_update(chat, emu.bot, old, "left")
    emu.touch()
    return True


@method("getFile")
async def get_file(emu: Emulator, params: Params) -> Any:
    """Return a File with the file_path to download it from."""
    record = emu.files.get(params.text("file_id") or "")
    if record is None:
        raise ApiError.bad_request("invalid file_id")
    if len(record.data) > 20 * 1024 * 1024:
        raise ApiError.bad_request("file is too big")
    return record.file_json()


@method("close")
async def close(emu: Emulator, params: Params) -> Any:
    """Harmless: the emulator has no instance to close."""
    return True


@method("logOut")
async def log_out(emu: Emulator, params: Params) -> Any:
    """Harmless: the emulator has no cloud server to log out from."""
    return True
