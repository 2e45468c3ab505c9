"""Fixtures: an emulator served over HTTP on a free port, a real PTB Bot and a control client."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import Bot
from telegram.request import BaseRequest, HTTPXRequest

from bot.emulator import ControlClient, Emulator, EmulatorRequest, EmulatorServer, Person
from bot.transport.http import AiohttpRequest


@pytest.fixture
async def server() -> AsyncIterator[EmulatorServer]:
    """A running emulator on 127.0.0.1 with a free port."""
    async with EmulatorServer(webhook_retry_delay=0.05) as running:
        yield running


@pytest.fixture
def people(server: EmulatorServer) -> ControlClient:
    """A control client over HTTP (closed with the server)."""
    return server.client()


def transport(kind: str, *, read_timeout: float = 5.0, connect_timeout: float = 5.0) -> BaseRequest:
    """python-telegram-bot's own HTTP transport, or the bot's (bot.transport.http)."""
    if kind == "aiohttp":
        return AiohttpRequest(
            connection_pool_size=4, read_timeout=read_timeout, connect_timeout=connect_timeout
        )
    return HTTPXRequest(read_timeout=read_timeout, connect_timeout=connect_timeout)


@pytest.fixture(params=["httpx", "aiohttp"])
def transport_kind(request: pytest.FixtureRequest) -> str:
    """Each HTTP test runs on python-telegram-bot's transport and on the bot's."""
    kind: str = request.param
    return kind


@pytest.fixture
async def bot(server: EmulatorServer, transport_kind: str) -> AsyncIterator[Bot]:
    """A real python-telegram-bot Bot talking HTTP to the emulator."""
    async with Bot(
        server.token,
        base_url=server.base_url,
        base_file_url=server.base_file_url,
        request=transport(transport_kind, read_timeout=2.0, connect_timeout=2.0),
        get_updates_request=transport(transport_kind, read_timeout=2.0),
    ) as ptb_bot:
        yield ptb_bot


@pytest.fixture
async def alice(people: ControlClient) -> Person:
    """A person who has started the bot (her "/start" is pending as an update)."""
    person = await people.create_user("Alice", username="alice", language_code="zh-hans")
    await people.start_bot(person.id)
    return person


@pytest.fixture
async def local_emu() -> AsyncIterator[Emulator]:
    """An in-process emulator (no sockets)."""
    emu = Emulator()
    yield emu
    await emu.close()


@pytest.fixture
async def local_bot(local_emu: Emulator) -> AsyncIterator[Bot]:
    """A PTB Bot wired to the in-process emulator through EmulatorRequest."""
    async with Bot(
        local_emu.token,
        request=EmulatorRequest(local_emu, read_timeout=0.5),
        get_updates_request=EmulatorRequest(local_emu),
    ) as ptb_bot:
        yield ptb_bot


@pytest.fixture
def local_people(local_emu: Emulator) -> ControlClient:
    """A control client calling the in-process emulator directly."""
    return ControlClient.local(local_emu)
