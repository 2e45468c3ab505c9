"""The bot's HTTP client verifies TLS certificates as httpx did (certifi, or SSL_CERT_FILE)."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from telegram.error import NetworkError

from bot.transport.http import AiohttpRequest

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl CLI")


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture
async def https_api(certificate: tuple[Path, Path]) -> AsyncIterator[str]:
    """A Bot API look-alike over HTTPS, answering every method with ok."""

    async def answer(_: web.Request) -> web.Response:
        return web.json_response({"ok": True, "result": {"answered": True}})

    app = web.Application()
    app.router.add_post("/{tail:.*}", answer)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"https://127.0.0.1:{port}/bot1:x/getMe"
    finally:
        await runner.cleanup()


async def post(url: str) -> object:
    request = AiohttpRequest(connect_timeout=2.0)
    await request.initialize()
    try:
        return await request.post(url)
    finally:
        await request.shutdown()


async def test_unknown_certificate_is_refused(
    https_api: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A certificate no trusted authority signed: the call fails, nothing is sent in clear."""
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    with pytest.raises(NetworkError, match=r"(?i)certificate"):
        await post(https_api)


async def test_ssl_cert_file_is_trusted(
    https_api: str, certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """SSL_CERT_FILE names the authorities to trust (an office's own CA, say)."""
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    assert await post(https_api) == {"answered": True}
