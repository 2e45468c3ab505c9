"""python-telegram-bot's transport on aiohttp instead of httpx.

Every Bot API call goes through a `telegram.request.BaseRequest`. python-telegram-bot's own,
`HTTPXRequest`, spends about 1.1 ms of CPU per call against a local Bot API server on this
project's 2-core machine; this one about 0.45 ms (measured with python-telegram-bot's
`Bot.send_message` in a loop). The bot makes 1.5 calls per update it handles (a button press is
answered and its message edited) and the outbox sends thousands of reminders in a row, so the
transport was the largest single cost of handling an update (bench.updates). aiohttp is already
a dependency (the emulator serves on it).

Errors are mapped as `HTTPXRequest` maps them: a timeout is `TimedOut`, any other transport
failure `NetworkError`; Bot API error answers are left to `BaseRequest`.
"""

from __future__ import annotations

import json
import os
import ssl

import aiohttp
import certifi
from aiohttp.helpers import get_env_proxy_for_url
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData
from yarl import URL

_JSON_HEADERS = {"Content-Type": "application/json"}


def tls_context() -> ssl.SSLContext:
    """Certificate verification as httpx does it: SSL_CERT_FILE / SSL_CERT_DIR, else certifi.

    certifi's bundle does not depend on the server's CA store (a minimal container may have
    none), so the bot reaches api.telegram.org wherever it did on python-telegram-bot's httpx.
    """
    if os.environ.get("SSL_CERT_FILE"):
        return ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
    if os.environ.get("SSL_CERT_DIR"):
        return ssl.create_default_context(capath=os.environ["SSL_CERT_DIR"])
    return ssl.create_default_context(cafile=certifi.where())


class AiohttpRequest(BaseRequest):
    """A `BaseRequest` on one `aiohttp.ClientSession`, with HTTPXRequest's defaults.

    `connection_pool_size` caps the connections open at once (a call beyond them waits up to
    `pool_timeout` for one). Timeouts are python-telegram-bot's four; aiohttp has no write
    timeout of its own, so the four together also bound the whole call.
    """

    def __init__(
        self,
        *,
        connection_pool_size: int = 1,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None
        self._proxies: dict[str, tuple[str | None, dict[str, str] | None]] = {}

    @property
    def read_timeout(self) -> float | None:
        """The default read timeout (seconds)."""
        return self._read_timeout

    async def initialize(self) -> None:
        """Open the session (on the running loop)."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size, ssl=tls_context()),
                headers={"User-Agent": self.USER_AGENT},
            )
            self._proxies.clear()

    async def shutdown(self) -> None:
        """Close the session and its connections."""
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    def _proxy(self, url: str) -> tuple[str | None, dict[str, str] | None]:
        """The proxy for `url` (and its credentials header) from the environment, or None.

        HTTPS_PROXY / HTTP_PROXY / NO_PROXY, as httpx honours them: an office network may reach
        Telegram only through its proxy. Looked up once per server, not per call: aiohttp's own
        `trust_env` looks them (and ~/.netrc) up on a worker thread for every request, which
        doubled the CPU of a call.
        """
        origin = url[: url.find("/", url.find("//") + 2)] if "//" in url else url
        found = self._proxies.get(origin)
        if found is None:
            try:
                proxy, auth = get_env_proxy_for_url(URL(url))
            except LookupError:
                found = (None, None)
            else:
                headers = {"Proxy-Authorization": auth.encode()} if auth is not None else None
                found = (str(proxy), headers)
            self._proxies[origin] = found
        return found

    def _timeout(
        self,
        read: ODVInput[float],
        write: ODVInput[float],
        connect: ODVInput[float],
        pool: ODVInput[float],
        files: bool,
    ) -> aiohttp.ClientTimeout:
        read_s = self._read_timeout if isinstance(read, DefaultValue) else read
        default_write = self._media_write_timeout if files else self._write_timeout
        write_s = default_write if isinstance(write, DefaultValue) else write
        connect_s = self._connect_timeout if isinstance(connect, DefaultValue) else connect
        pool_s = self._pool_timeout if isinstance(pool, DefaultValue) else pool
        parts = (read_s, write_s, connect_s, pool_s)
        total = None if any(p is None for p in parts) else sum(p for p in parts if p is not None)
        # aiohttp's `connect` is the wait for a pooled connection plus opening a new one.
        acquire = None if connect_s is None or pool_s is None else connect_s + pool_s
        return aiohttp.ClientTimeout(
            total=total, connect=acquire, sock_connect=connect_s, sock_read=read_s
        )

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
        """One HTTP request: (status, body), or TimedOut / NetworkError."""
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data.multipart_data if request_data else None
        params = request_data.json_parameters if request_data else None
        body: aiohttp.FormData | bytes | None = None
        headers = None
        if params and not files:
            # The Bot API takes a JSON object as well as a form; each value here is already the
            # string a form field would carry (numbers, objects as JSON text), and the server
            # reads string members as it reads form fields. Encoding the form cost twice the
            # CPU (percent-encoding every byte of a Chinese text) and tripled its size.
            body = json.dumps(params, ensure_ascii=False).encode()
            headers = _JSON_HEADERS
        elif files:
            form = aiohttp.FormData(quote_fields=False)
            for name, value in (params or {}).items():
                form.add_field(name, value)
            for name, (filename, content, mimetype) in files.items():
                form.add_field(name, content, filename=filename, content_type=mimetype)
            body = form
        timeout = self._timeout(
            read_timeout, write_timeout, connect_timeout, pool_timeout, bool(files)
        )
        try:
            proxy, proxy_headers = self._proxy(url)
            async with self._session.request(
                method,
                url,
                data=body,
                headers=headers,
                timeout=timeout,
                proxy=proxy,
                proxy_headers=proxy_headers,
            ) as response:
                return response.status, await response.read()
        except TimeoutError as exc:  # aiohttp's timeouts are asyncio.TimeoutError subclasses
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {exc}") from exc
