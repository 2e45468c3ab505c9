"""The sandbox's web page and its small JSON API (aiohttp, served on 127.0.0.1).

Routes:
    ``GET  /``                       the page (plain HTML and JavaScript, no external assets)
    ``GET  /api/state``              the clock (and a running step's progress), the personas,
                                     the clock buttons, the note on the sandbox's rate limits
    ``GET  /api/personas``           who the page can act as
    ``GET  /api/transcript``         ``?persona=&since=&clock=&wait=``: one persona's chat with
                                     the bot, command menu and personas; long-polls until
                                     something changes
    ``POST /api/send``               ``{persona, text, reply_to?}``: the persona writes
    ``POST /api/press``              ``{persona, message_id, data}``: the persona presses a button
    ``POST /api/clock/advance``      ``{step}``: move the simulated clock, running the jobs
    ``POST /api/new-person``         a fresh, unbound Telegram user
    ``GET  /api/document``           ``?persona=&message_id=``: a file the bot sent
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import ipaddress
import json
import logging
from collections.abc import Awaitable, Callable
from importlib import resources
from typing import Any
from urllib.parse import quote

from aiohttp import web

from bot.emulator import ControlError, TranscriptMessage
from bot.sandbox.steps import Step
from bot.sandbox.world import BOT_USERNAME, LIMITS_NOTE, Sandbox, SandboxError

log = logging.getLogger(__name__)

SANDBOX_KEY: web.AppKey[Sandbox] = web.AppKey("sandbox", Sandbox)
# The Host header values the page answers to (set once the port is known): a web page elsewhere
# must not drive the sandbox through DNS rebinding (a name of its own that resolves to 127.0.0.1).
HOSTS_KEY: web.AppKey[set[str]] = web.AppKey("hosts", set)
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def is_loopback(host: str) -> bool:
    """True for the loopback addresses and localhost."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def allowed_hosts(host: str, port: int) -> set[str]:
    """Host header values for a page served on host:port (a loopback address)."""
    names = set(LOOPBACK) | {host}
    return {f"[{n}]:{port}" if ":" in n else f"{n}:{port}" for n in names}


MAX_WAIT = 25.0
MAX_BODY = 64 * 1024
MAX_FILE_BODY = 32 * 1024 * 1024  # /api/attach: a file of up to 20 MB, base64-encoded

STEP_LABELS: tuple[tuple[Step, str], ...] = (
    (Step.HOUR, "+1 小时"),
    (Step.NEXT_WORKDAY, "到下一个工作日 {reminder}"),
    (Step.DAY, "+1 天"),
    (Step.WEEK, "+1 周"),
    (Step.MONTH, "快进一个月"),
    (Step.TODAY, "跳到今天"),
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(
        text=json.dumps(data, ensure_ascii=False),
        status=status,
        content_type="application/json",
        charset="utf-8",
    )


@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Bad input gets a short JSON answer; an unexpected failure is logged with its traceback."""
    hosts = request.app[HOSTS_KEY]
    if hosts and request.host not in hosts:
        return web.Response(text="Forbidden: unknown Host", status=403)
    if request.path.startswith("/api/") and not request.app[SANDBOX_KEY].ready:
        return _json({"ok": False, "error": "沙盒正在启动，请稍候"}, status=503)
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except (SandboxError, ControlError) as exc:
        return _json({"ok": False, "error": str(exc)}, status=400)
    except Exception:
        log.exception("sandbox request %s %s failed", request.method, request.path)
        return _json({"ok": False, "error": "沙盒内部错误，详情见终端日志"}, status=500)


def make_app(sandbox: Sandbox) -> web.Application:
    """The page and the JSON API for one running sandbox."""
    app = web.Application(middlewares=[errors], client_max_size=MAX_FILE_BODY)
    app[SANDBOX_KEY] = sandbox
    app[HOSTS_KEY] = set()  # filled by PageServer.start once the port is known
    app.router.add_get("/", page)
    app.router.add_get("/api/state", state)
    app.router.add_get("/api/personas", personas)
    app.router.add_get("/api/transcript", transcript)
    app.router.add_post("/api/send", send)
    app.router.add_post("/api/attach", attach)
    app.router.add_post("/api/press", press)
    app.router.add_post("/api/clock/advance", advance)
    app.router.add_post("/api/new-person", new_person)
    app.router.add_get("/api/document", document)
    return app


async def page(request: web.Request) -> web.Response:
    """The single page."""
    html = resources.files("bot.sandbox").joinpath("page.html").read_text(encoding="utf-8")
    return web.Response(text=html, content_type="text/html", charset="utf-8")


def _sandbox(request: web.Request) -> Sandbox:
    return request.app[SANDBOX_KEY]


async def _body(request: web.Request, limit: int = MAX_BODY) -> dict[str, Any]:
    # JSON only: a cross-site form cannot post here without a CORS preflight, which fails.
    if request.content_type != "application/json":
        raise SandboxError("请求须为 JSON")
    if request.content_length is not None and request.content_length > limit:
        raise SandboxError("请求过大")
    try:
        data = await request.json()
    except ValueError as exc:
        raise SandboxError("请求格式错误") from exc
    if not isinstance(data, dict):
        raise SandboxError("请求格式错误")
    return data


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool):
        raise SandboxError(f"{what}无效")
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise SandboxError(f"{what}无效") from exc


def _float(value: str | None, default: float, high: float) -> float:
    try:
        number = float(value) if value is not None else default
    except ValueError:
        return default
    return min(max(number, 0.0), high)


def state_json(sandbox: Sandbox) -> dict[str, Any]:
    """What /api/state returns."""
    reminder = sandbox.settings.reminder_time.strftime("%H:%M")
    return {
        "ok": True,
        "clock": sandbox.clock_facts(),
        "personas": [p.to_json() for p in sandbox.personas.values()],
        "steps": [
            {"step": step.value, "label": label.format(reminder=reminder)}
            for step, label in STEP_LABELS
        ],
        "bot_username": BOT_USERNAME,
        "limits_note": LIMITS_NOTE,
    }


async def state(request: web.Request) -> web.Response:
    """The clock and the personas."""
    sandbox = _sandbox(request)
    await sandbox.refresh_personas()
    return _json(state_json(sandbox))


async def personas(request: web.Request) -> web.Response:
    """Who the page can act as."""
    sandbox = _sandbox(request)
    await sandbox.refresh_personas()
    return _json([p.to_json() for p in sandbox.personas.values()])


def message_json(
    sandbox: Sandbox, message: TranscriptMessage, by_id: dict[int, TranscriptMessage], key: str
) -> dict[str, Any]:
    """One message as the page renders it: plain text with entities, never raw markup."""
    stamped = sandbox.stamped(message.chat_id, message.message_id)
    replied = by_id.get(message.reply_to) if message.reply_to is not None else None
    document = None
    if message.document is not None:
        document = {
            "filename": message.document.filename or "file",
            "size": message.document.size,
            "url": f"/api/document?persona={quote(key)}&message_id={message.message_id}",
        }
    return {
        "id": message.message_id,
        "from_bot": message.from_bot,
        "at": stamped.strftime("%m-%d %H:%M") if stamped else "",
        "text": service_text(message.service) if message.service else (message.plain or ""),
        "entities": message.entities,
        "buttons": [
            [{"text": b.text, "data": b.callback_data, "url": b.url} for b in row]
            for row in message.buttons
        ],
        "reply_to": message.reply_to,
        "reply_preview": (replied.plain or "")[:60] if replied is not None else None,
        "document": document,
        "photo": message.photo,
        "edited": bool(message.edits),
        "deleted": message.deleted,
        "service": message.service is not None,
    }


def service_text(service: dict[str, Any]) -> str:
    """A group's service message as one line (who joined or left)."""
    joined = service.get("new_chat_members") or []
    if joined:
        names = "、".join(str(u.get("first_name", "")) for u in joined if isinstance(u, dict))
        return f"{names} 加入了群聊"
    left = service.get("left_chat_member")
    if isinstance(left, dict):
        return f"{left.get('first_name', '')} 离开了群聊"
    return "群成员变动"


async def transcript(request: web.Request) -> web.Response:
    """One persona's chat; with ``since``/``clock``, wait until the chat or the clock changes."""
    sandbox = _sandbox(request)
    key = request.query.get("persona", "")
    sandbox.persona(key)
    wait = _float(request.query.get("wait"), 0.0, MAX_WAIT)
    since = request.query.get("since")
    generation = request.query.get("clock")
    if wait > 0 and since is not None:
        await _wait_for_change(sandbox, _int(since, "since"), generation, wait)
    version = int(await sandbox.control.call("version"))
    await sandbox.refresh_personas()
    messages = await sandbox.transcript(key)
    by_id = {m.message_id: m for m in messages}
    return _json(
        {
            "ok": True,
            "persona": sandbox.persona(key).to_json(),
            "version": version,
            "clock": sandbox.clock_facts(),
            "messages": [message_json(sandbox, m, by_id, key) for m in messages],
            "commands": await sandbox.commands(key),
            "personas": [p.to_json() for p in sandbox.personas.values()],
        }
    )


async def _wait_for_change(
    sandbox: Sandbox, since: int, generation: str | None, seconds: float
) -> None:
    """Until the emulator's version passes `since` or the clock's generation changes."""
    waits: list[asyncio.Task[Any]] = [
        asyncio.create_task(
            sandbox.control.call("wait_change", wait=seconds, after=since, timeout=seconds)
        )
    ]
    if generation is not None:
        waits.append(asyncio.create_task(sandbox.wait_clock(_int(generation, "clock"), seconds)))
    try:
        await asyncio.wait(waits, timeout=seconds + 1.0, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in waits:
            task.cancel()
        await asyncio.gather(*waits, return_exceptions=True)


async def send(request: web.Request) -> web.Response:
    """The persona writes a message or a command (optionally replying to a message)."""
    body = await _body(request)
    text = body.get("text")
    if not isinstance(text, str):
        raise SandboxError("消息不能为空")
    reply_to = body.get("reply_to")
    message_id = await _sandbox(request).send(
        str(body.get("persona", "")),
        text,
        reply_to=_int(reply_to, "reply_to") if reply_to is not None else None,
    )
    return _json({"ok": True, "message_id": message_id})


async def attach(request: web.Request) -> web.Response:
    """The persona sends a photo or a file (optionally replying to a message)."""
    body = await _body(request, MAX_FILE_BODY)
    name, data = body.get("filename"), body.get("data_b64")
    if not isinstance(name, str) or not name.strip() or not isinstance(data, str):
        raise SandboxError("请选择文件")
    try:
        content = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SandboxError("文件内容无效") from exc
    mime = body.get("mime_type")
    reply_to = body.get("reply_to")
    message_id = await _sandbox(request).attach(
        str(body.get("persona", "")),
        name.strip()[:200],
        content,
        mime_type=mime if isinstance(mime, str) and mime else None,
        reply_to=_int(reply_to, "reply_to") if reply_to is not None else None,
    )
    return _json({"ok": True, "message_id": message_id})


async def press(request: web.Request) -> web.Response:
    """The persona presses an inline button."""
    body = await _body(request)
    data = body.get("data")
    if not isinstance(data, str) or not data:
        raise SandboxError("按钮数据无效")
    answer = await _sandbox(request).press(
        str(body.get("persona", "")), _int(body.get("message_id"), "message_id"), data
    )
    return _json({"ok": True, **answer})


async def advance(request: web.Request) -> web.Response:
    """Move the simulated clock; the jobs run at each checkpoint on the way."""
    body = await _body(request)
    try:
        step = Step(str(body.get("step", "")))
    except ValueError as exc:
        raise SandboxError("未知的时间步长") from exc
    sandbox = _sandbox(request)
    result = await sandbox.advance(step)
    return _json({"ok": True, **result, "clock": sandbox.clock_facts()})


async def new_person(request: web.Request) -> web.Response:
    """A new, unbound Telegram user."""
    persona = await _sandbox(request).new_person()
    return _json({"ok": True, "persona": persona.to_json()})


async def document(request: web.Request) -> web.Response:
    """A file the bot sent to the persona, as a download."""
    sandbox = _sandbox(request)
    filename, mime, data = await sandbox.document(
        request.query.get("persona", ""), _int(request.query.get("message_id"), "message_id")
    )
    ascii_name = filename.encode("ascii", "replace").decode().replace('"', "_")
    return web.Response(
        body=data,
        content_type=mime,
        headers={
            "Content-Disposition": (
                f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
            )
        },
    )


class PageServer:
    """Serves the page for a sandbox on host:port (port 0 picks a free one)."""

    def __init__(self, sandbox: Sandbox, host: str, port: int) -> None:
        self.sandbox = sandbox
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        """The page's address."""
        return f"http://{self.host}:{self.port}/"

    async def start(self) -> None:
        """Bind and serve."""
        app = make_app(self.sandbox)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()
        self.port = int(self._runner.addresses[0][1])
        if is_loopback(self.host):
            # Served to the network on purpose (SANDBOX_ALLOW_REMOTE), its name is not known.
            app[HOSTS_KEY].update(allowed_hosts(self.host, self.port))

    async def stop(self) -> None:
        """Stop serving."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
