"""Secrets never reach a log line or a stored error (bot.domain.redaction)."""

import logging

import pytest

from bot.domain import redaction
from bot.domain.redaction import MASK, redact

TOKEN = "7412589630:AAHkq2JZ_TestTokenValue-0123456789abcd"


def test_redact_hides_the_configured_secret_and_any_token_shape() -> None:
    url = f"https://api.telegram.org/bot{TOKEN}/getMe"
    assert TOKEN not in redact(url) and MASK in redact(url)
    assert redact("The token `short:1` was rejected", ["short:1"]) == (
        f"The token `{MASK}` was rejected"
    )
    assert redact("发改局 3月进展") == "发改局 3月进展"


def test_log_records_are_redacted_with_their_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    redaction.install([TOKEN])
    log = logging.getLogger("test.redaction")
    try:
        raise RuntimeError(f"redirect loop at https://x/bot{TOKEN}/getUpdates")
    except RuntimeError:
        log.exception("fetching %s failed", f"https://x/bot{TOKEN}/getMe")
    record = caplog.records[-1]
    text = caplog.text + (record.exc_text or "")
    assert TOKEN not in text and MASK in text
