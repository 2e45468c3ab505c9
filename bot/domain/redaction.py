"""No secret reaches a log line, an error message or a stored error.

The bot's token is in every Bot API URL (`/bot<token>/getMe`), so any error that quotes a URL
(a redirect loop, a refused connection) or python-telegram-bot's "The token `…` was rejected"
would carry it. Every log record is redacted as it is made (`install`), and every error text
the bot stores goes through `redact`. Telegram tokens are recognised by their shape as well as
by the configured value, so a token that is not the configured one (a second bot) is hidden too.
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Iterable

MASK = "<BOT_TOKEN>"
_TOKEN_SHAPE = re.compile(r"\d{5,}:[A-Za-z0-9_-]{30,}")
_secrets: tuple[str, ...] = ()


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with the configured secrets and anything shaped like a bot token masked."""
    for secret in (*_secrets, *secrets):
        if secret:
            text = text.replace(secret, MASK)
    return _TOKEN_SHAPE.sub(MASK, text)


def install(secrets: Iterable[str]) -> None:
    """Redact every log record made from now on in this process (whatever its handler)."""
    global _secrets
    _secrets = tuple(s for s in secrets if len(s) >= 4)
    make = logging.getLogRecordFactory()
    if getattr(make, "redacting", False):
        return

    def factory(*args: object, **kwargs: object) -> logging.LogRecord:
        record = make(*args, **kwargs)
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = str(record.msg)
        record.msg, record.args = redact(message), None
        if record.exc_info and record.exc_info[0] is not None:
            # Rendered now and redacted; handlers print exc_text instead of rendering again.
            record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)))
            record.exc_text = record.exc_text.rstrip("\n")
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return record

    factory.redacting = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)
