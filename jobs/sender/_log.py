"""Deliveries recorded right after each send, several marks to a transaction when they come fast
(`DeliveryLog`), so a crash repeats at most the messages in flight.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import outbox
from db.engine import bound_engine


class DeliveryNotRecorded(Exception):
    """The transaction recording a batch of deliveries, this one among them, failed."""


@dataclass
class _Mark:
    delivered: outbox.Delivered
    done: bool = False
    error: BaseException | None = None


class DeliveryLog:
    """Records delivered messages as sent, in as few transactions as the pace allows.

    `record` returns once its message is recorded: the send's worker slot is held until then,
    so the messages delivered but not yet recorded (which a crash would send again) stay
    within `send_concurrency`, as with a transaction per message. While one transaction
    commits, the marks arriving meanwhile wait, and the first of them to get its turn records
    them all in the next (group commit). At Telegram's real pace that is one transaction per
    message; at a sped-up emulator's thousands a second, a transaction per message was most
    of the sender's CPU (bench.fanout).
    """

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        # A Core transaction on the sessionmaker's engine: no ORM session is needed for one
        # executemany, and building one per batch was a tenth of the sender's CPU at 100x.
        engine = bound_engine(sessionmaker)
        if engine is None:
            raise TypeError("DeliveryLog needs a sessionmaker bound to an AsyncEngine")
        self.engine = engine
        self._waiting: list[_Mark] = []
        self._turn = asyncio.Lock()
        self.transactions = 0

    async def record(self, delivered: outbox.Delivered) -> None:
        """Record one delivery (with any others waiting), committed when this returns."""
        mark = _Mark(delivered)
        self._waiting.append(mark)
        async with self._turn:
            if not mark.done:
                batch, self._waiting = self._waiting, []
                try:
                    async with self.engine.begin() as conn:
                        await outbox.mark_delivered(conn, [m.delivered for m in batch])
                    self.transactions += 1
                except BaseException as exc:
                    for other in batch:
                        other.error = exc
                    raise
                finally:
                    for other in batch:
                        other.done = True
        if mark.error is not None:  # another task's transaction, with this mark in it, failed
            raise DeliveryNotRecorded(repr(mark.error)) from mark.error


@dataclass
class DeliveryStats:
    """What one delivery run did."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    cancelled: int = 0
    unreachable: int = 0
    errors: list[str] = field(default_factory=list)
