"""A local Telegram Bot API emulator for tests, benchmarks and the sandbox mode.

The real python-telegram-bot client talks to it, over HTTP or in-process; simulated people write
to the bot, press its buttons and block it; faults and Telegram's flood limits can be switched on.

Start it (HTTP, free port on 127.0.0.1)::

    async with EmulatorServer() as server:
        bot = Bot(server.token, base_url=server.base_url, base_file_url=server.base_file_url)
        people = server.client()                     # ControlClient over HTTP

or standalone: ``python -m bot.emulator --port 8081`` (control API at ``/_control/<op>``).

In-process, without sockets (thousands of calls per second)::

    emu = Emulator()
    bot = Bot(emu.token, request=EmulatorRequest(emu), get_updates_request=EmulatorRequest(emu))
    people = ControlClient.local(emu)

Simulated people (``ControlClient``)::

    alice = await people.create_user("Alice", username="alice")
    await people.start_bot(alice.id)                 # the private chat opens, "/start" is sent
    reply = await people.wait_for_bot_message(alice.id)
    query = await people.press_button(alice.id, reply.message_id, data="done")
    answer = await people.wait_for_callback_answer(query.id)

Faults: ``await people.add_fault("retry_after" | "server_error" | "timeout" | "lost", rate=0.1,
methods=["sendMessage"], retry_after=3, status=502, hold=30, times=None)``; draws come from a
seeded random source (``set_faults(rules, seed=...)``), and ``stats()`` counts every injected fault.

Limits: ``await people.set_limits(speedup=100)`` enforces 30 msg/s overall, 1 msg/s per private
chat (bursts of 3) and 20 msg/min per group, each scaled by ``speedup``; an over-limit send gets
429 with ``retry_after`` and counts as a violation in ``stats()``.
"""

from bot.emulator.control import (
    Button,
    CallbackAnswer,
    ControlClient,
    MessageVersion,
    Person,
    SentDocument,
    TranscriptMessage,
)
from bot.emulator.faults import FaultKind, FaultRule
from bot.emulator.limits import RateLimitConfig
from bot.emulator.request import EmulatorRequest
from bot.emulator.server import EmulatorServer
from bot.emulator.state import DEFAULT_TOKEN, ApiError, ControlError, Emulator

__all__ = [
    "DEFAULT_TOKEN",
    "ApiError",
    "Button",
    "CallbackAnswer",
    "ControlClient",
    "ControlError",
    "Emulator",
    "EmulatorRequest",
    "EmulatorServer",
    "FaultKind",
    "FaultRule",
    "MessageVersion",
    "Person",
    "RateLimitConfig",
    "SentDocument",
    "TranscriptMessage",
]
