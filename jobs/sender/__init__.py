"""Deliver the outbox within Telegram's limits; every message at most once but for a crash.

Each message is sent, then marked sent before its request slot is free again (several marks
to a transaction when they come fast: DeliveryLog), so a crash can at worst repeat the
messages in flight at that moment. Pacing is our own (not AIORateLimiter's): an overall
rate, one message per private chat per interval (which AIORateLimiter does not enforce), and a
per-group budget per minute. 429 → wait `retry_after`; 5xx and timeouts → back off (at most
five minutes) until delivered or no longer relevant; 403 → the contact is marked unreachable
and the office is told which unit cannot be reached.

Before sending, a reminder or escalation is checked against the database: a reminder planned on
an earlier day is stale (the planner's catch-up sends today's step instead), and obligations
reported, completed or no longer the recipient's since planning are dropped from the text.

Modules: `_gate` (pacing), `_log` (recording deliveries), `_check` (does it still apply),
`_sender` (the loop). This package is their public surface.
"""

from jobs.sender._check import CHECKED_KINDS, PRE_DEADLINE_STEPS, STALE_KINDS
from jobs.sender._gate import GROUP_SLACK, RateGate
from jobs.sender._log import DeliveryLog, DeliveryNotRecorded, DeliveryStats
from jobs.sender._sender import MAX_BACKOFF, RETRIES_IN_RUN, RETRY_IN_RUN, OutboxSender

__all__ = [
    "CHECKED_KINDS",
    "GROUP_SLACK",
    "MAX_BACKOFF",
    "PRE_DEADLINE_STEPS",
    "RETRIES_IN_RUN",
    "RETRY_IN_RUN",
    "STALE_KINDS",
    "DeliveryLog",
    "DeliveryNotRecorded",
    "DeliveryStats",
    "OutboxSender",
    "RateGate",
]
