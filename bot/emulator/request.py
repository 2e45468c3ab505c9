"""The in-process transport: a python-telegram-bot request class that calls the emulator directly.

No sockets, no HTTP: ``Bot(token, request=EmulatorRequest(emu), get_updates_request=...)`` runs
every call through the same ``methods.call_api`` the HTTP server uses, which makes thousands of
calls per second possible. Injected timeouts and lost responses surface as PTB's ``TimedOut`` and
``NetworkError``, exactly as ``HTTPXRequest`` would raise them.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from typing import IO, Any
from urllib.parse import unquote, urlsplit

from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

from bot.emulator.faults import FaultKind
from bot.emulator.methods import UploadedFile, call_api, token_error
from bot.emulator.state import Emulator, dumps

_API_PATH = re.compile(r"/bot([^/]+)/([A-Za-z0-9_]+)/?$")
_FILE_PATH = re.compile(r"/file/bot([^/]+)/(.+)$")
_NOT_FOUND = dumps({"ok": False, "error_code": 404, "description": "Not Found"})


def _read_content(content: bytes | IO[bytes] | Any) -> bytes:
    if isinstance(content, bytes | bytearray):
        return bytes(content)
    data = content.read()
    return data if isinstance(data, bytes) else str(data).encode()


class EmulatorRequest(BaseRequest):
    """A ``telegram.request.BaseRequest`` answering from an in-process ``Emulator``."""

    def __init__(self, emulator: Emulator, *, read_timeout: float | None = 5.0) -> None:
        self.emulator = emulator
        self._read_timeout = read_timeout

    @property
    def read_timeout(self) -> float | None:
        """The default read timeout (only injected timeouts ever wait for it)."""
        return self._read_timeout

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Answer one call the way the HTTP server would."""
        path = unquote(urlsplit(url).path)
        file_match = _FILE_PATH.search(path)
        if file_match is not None:
            return self._download(file_match.group(1), file_match.group(2))
        match = _API_PATH.search(path)
        if match is None:
            return 404, _NOT_FOUND
        values: dict[str, Any] = {}
        files: dict[str, UploadedFile] = {}
        if request_data is not None:
            # The same encoding PTB posts over HTTP: strings, nested objects as JSON strings.
            values.update(request_data.json_parameters)
            for name, (filename, content, mimetype) in request_data.multipart_data.items():
                files[name] = UploadedFile(_read_content(content), filename, mimetype)
        outcome = await call_api(self.emulator, match.group(1), match.group(2), values, files)
        if outcome.fault == FaultKind.TIMEOUT:
            timeout = self._read_timeout if isinstance(read_timeout, DefaultValue) else read_timeout
            hold = outcome.hold if timeout is None else min(outcome.hold, timeout)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.emulator.closed_event.wait(), hold)
            raise TimedOut
        if outcome.fault == FaultKind.LOST:
            raise NetworkError(
                "httpx.RemoteProtocolError: Server disconnected without sending a response."
            )
        return outcome.status, outcome.body

    def _download(self, token: str, file_path: str) -> tuple[int, bytes]:
        if token_error(self.emulator, token) is not None:
            return 404, _NOT_FOUND
        record = self.emulator.files_by_path.get(file_path)
        if record is None:
            return 404, _NOT_FOUND
        return 200, record.data
