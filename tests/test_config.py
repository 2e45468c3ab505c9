"""Settings: defaults, and one readable line for a bad value."""

from pathlib import Path

import pytest

from bot.cli import main
from bot.config import ConfigError, load_settings


def test_defaults_are_sandbox_sqlite_shanghai(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BOT_TOKEN", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    s = load_settings(_env_file=None)
    assert s.sandbox
    assert s.timezone == "Asia/Shanghai"
    assert s.database_url.startswith("sqlite+aiosqlite:///")
    assert s.due_day == 25


@pytest.mark.parametrize(
    ("env", "value", "needle"),
    [
        ("TIMEZONE", "Mars/Olympus", "TIMEZONE"),
        ("DATABASE_URL", "mysql://localhost/x", "DATABASE_URL"),
        ("DUE_DAY", "31", "DUE_DAY"),
        ("REMINDER_TIME", "25:99", "REMINDER_TIME"),
        ("UPDATE_LANES", "9", "UPDATE_LANES"),  # more than the connection pool can serve
        ("BOT_TOKEN", "", "BOT_TOKEN"),  # empty: a mistake, not a wish for the sandbox
        ("BOT_TOKEN", "   ", "BOT_TOKEN"),
        ("DATABASE_URL", "postgresql+asyncpg://u@host:port/db", "DATABASE_URL"),
        ("DATABASE_URL", "postgresql+asyncpg://", "DATABASE_URL"),
    ],
)
def test_malformed_value_is_one_readable_line(
    monkeypatch: pytest.MonkeyPatch, env: str, value: str, needle: str
) -> None:
    monkeypatch.setenv(env, value)
    with pytest.raises(ConfigError) as info:
        load_settings(_env_file=None)
    message = str(info.value)
    assert "\n" not in message
    assert needle in message


def test_token_is_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_TOKEN", "123:abc")
    s = load_settings(_env_file=None)
    assert not s.sandbox
    assert "123:abc" not in repr(s)


@pytest.mark.parametrize(
    ("url", "needle"),
    [
        ("postgresql+asyncpg://postgres:secret@127.0.0.1:1/test", "database unreachable"),
        ("sqlite+aiosqlite:////proc/no/such/dir/x.db", "cannot create the database file"),
    ],
)
def test_an_unreachable_database_is_one_readable_line(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    url: str,
    needle: str,
) -> None:
    """`python -m bot migrate` against a server that is down or a path that cannot be written:
    one line on stderr, exit 2, and no password in it (issue 19, finding 11)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.delenv("BOT_TOKEN", raising=False)
    assert main(["migrate"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and needle in err and "secret" not in err
