"""The HTTP transport: an aiohttp server with the Bot API, file downloads and the control API.

Routes:
    ``/bot<token>/<method>``        Bot API (GET or POST; JSON, urlencoded or multipart bodies)
    ``/file/bot<token>/<file_path>`` file downloads (what ``File.download_*`` fetches)
    ``/_control/<op>``               control API (POST JSON, see ``control.handle_control``)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from typing import Any

from aiohttp import web

from bot.emulator.control import ControlClient, handle_control
from bot.emulator.faults import FaultKind
from bot.emulator.methods import ApiOutcome, UploadedFile, call_api, token_error
from bot.emulator.state import ControlError, Emulator, dumps

_LOGGER = logging.getLogger(__name__)
_API_PATH = re.compile(r"^/bot([^/]+)/([A-Za-z0-9_]+)/?$")
_FILE_PATH = re.compile(r"^/file/bot([^/]+)/(.+)$")
_NOT_FOUND = dumps({"ok": False, "error_code": 404, "description": "Not Found"})
MAX_UPLOAD = 60 * 1024 * 1024


async def read_params(request: web.Request) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
    """Collect a Bot API request's parameters from the query string and the body."""
    values: dict[str, Any] = dict(request.query)
    files: dict[str, UploadedFile] = {}
    if request.method != "POST" or not request.can_read_body:
        return values, files
    if request.content_type == "application/json":
        raw = await request.read()
        if raw.strip():
            data = json.loads(raw)
            if not isinstance(data, dict):
                raise ValueError("JSON body must be an object")
            values.update(data)
        return values, files
    form = await request.post()
    for name, value in form.items():
        if isinstance(value, web.FileField):
            files[name] = UploadedFile(value.file.read(), value.filename, value.content_type)
        elif isinstance(value, bytes | bytearray):
            files[name] = UploadedFile(bytes(value))
        else:
            values[name] = value
    return values, files


class EmulatorServer:
    """Serves one ``Emulator`` over HTTP on 127.0.0.1 (port 0 picks a free port)."""

    def __init__(
        self,
        emulator: Emulator | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        **emulator_kwargs: Any,
    ) -> None:
        self.emulator = emulator or Emulator(**emulator_kwargs)
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None
        self._clients: list[ControlClient] = []

    @property
    def token(self) -> str:
        """The bot token the emulator accepts."""
        return self.emulator.token

    @property
    def url(self) -> str:
        """The server's root URL."""
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """What to pass as python-telegram-bot's ``base_url``."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """What to pass as python-telegram-bot's ``base_file_url``."""
        return f"{self.url}/file/bot"

    def client(self) -> ControlClient:
        """A control client talking HTTP to this server (closed when the server stops)."""
        client = ControlClient.connect(self.url)
        self._clients.append(client)
        return client

    def make_app(self) -> web.Application:
        """The aiohttp application."""
        app = web.Application(client_max_size=MAX_UPLOAD)
        app.router.add_route("*", "/_control/{op}", self._control)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        return app

    async def start(self) -> None:
        """Bind and start serving; ``port`` then holds the chosen port."""
        self._runner = web.AppRunner(self.make_app(), shutdown_timeout=0.5, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        _LOGGER.info("Bot API emulator listening on %s", self.url)

    async def stop(self) -> None:
        """Wake pending long polls and waiters, then shut the server down."""
        await self.emulator.close()
        for client in self._clients:
            await client.close()
        self._clients.clear()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> EmulatorServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        match = _API_PATH.match(path)
        if match is not None:
            return await self._api(request, match.group(1), match.group(2))
        match = _FILE_PATH.match(path)
        if match is not None and request.method in ("GET", "HEAD"):
            return self._file(match.group(1), match.group(2))
        if path == "/":
            info = {"emulator": "Telegram Bot API emulator", "bot": self.emulator.bot.to_json()}
            return web.Response(body=dumps(info), content_type="application/json")
        return web.Response(status=404, body=_NOT_FOUND, content_type="application/json")

    async def _api(self, request: web.Request, token: str, method: str) -> web.StreamResponse:
        try:
            values, files = await read_params(request)
        except ValueError:
            body = {"ok": False, "error_code": 400, "description": "Bad Request: invalid JSON"}
            return web.Response(status=400, body=dumps(body), content_type="application/json")
        outcome = await call_api(self.emulator, token, method, values, files)
        return await self._respond(request, outcome)

    async def _respond(self, request: web.Request, outcome: ApiOutcome) -> web.StreamResponse:
        if outcome.fault == FaultKind.TIMEOUT:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.emulator.closed_event.wait(), outcome.hold)
            return self._drop(request)
        if outcome.fault == FaultKind.LOST:
            return self._drop(request)
        return web.Response(
            status=outcome.status, body=outcome.body, content_type=outcome.content_type
        )

    @staticmethod
    def _drop(request: web.Request) -> web.StreamResponse:
        """Close the connection without an answer, as a lost response looks to the client."""
        transport = request.transport
        if transport is not None:
            transport.abort()
        return web.Response(status=500)

    def _file(self, token: str, file_path: str) -> web.Response:
        if token_error(self.emulator, token) is not None:
            return web.Response(status=404, body=_NOT_FOUND, content_type="application/json")
        record = self.emulator.files_by_path.get(file_path)
        if record is None:
            return web.Response(status=404, body=_NOT_FOUND, content_type="application/json")
        return web.Response(
            body=record.data, content_type=record.mime_type or "application/octet-stream"
        )

    async def _control(self, request: web.Request) -> web.Response:
        op = request.match_info["op"]
        payload: dict[str, Any] = dict(request.query)
        if request.method == "POST" and request.can_read_body:
            raw = await request.read()
            if raw.strip():
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = None
                if not isinstance(body, dict):
                    return _control_error("the body must be a JSON object")
                payload.update(body)
        try:
            result = await handle_control(self.emulator, op, payload)
        except ControlError as exc:
            return _control_error(str(exc))
        return web.Response(
            body=dumps({"ok": True, "result": result}), content_type="application/json"
        )


def _control_error(message: str) -> web.Response:
    return web.Response(
        status=400, body=dumps({"ok": False, "error": message}), content_type="application/json"
    )
