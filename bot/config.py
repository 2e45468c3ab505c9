"""The one settings object, read from the environment and `.env`."""

from __future__ import annotations

from datetime import time
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ConfigError(Exception):
    """A setting is missing or malformed; the message is one readable line."""


class Settings(BaseSettings):
    """Everything configurable. Built once at start-up and passed in, never imported as a global."""

    model_config = SettingsConfigDict(
        env_prefix="",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    # Telegram. No token means: run the local sandbox instead of talking to Telegram.
    bot_token: SecretStr | None = None
    bot_username: str | None = None
    telegram_base_url: str | None = Field(
        default=None, description="Bot API base URL override (e.g. a local Bot API server)"
    )
    admin_chat_id: int | None = Field(
        default=None, description="Chat that receives error reports with tracebacks"
    )

    # Storage and time.
    database_url: str = "sqlite+aiosqlite:///./data/duban.db"
    timezone: str = "Asia/Shanghai"

    # Reporting cycles and reminders.
    due_day: int = Field(default=25, ge=1, le=28)
    due_time: time = time(17, 0)
    reminder_time: time = time(9, 0)
    remind_days_before: int = Field(default=3, ge=1, le=20)
    escalate_after_workdays: int = Field(default=3, ge=1, le=60)
    responsible_units_report: bool = False
    # 签收: a liaison whose unit has not acknowledged its tasks this many workdays after binding
    # (or after the register was imported) is reminded once per task; 0 never reminds.
    ack_remind_after_workdays: int = Field(default=2, ge=0, le=60)
    # Who approves a 延期申请: the office, or the task's supervising leader (the office is told).
    extension_approver: Literal["office", "leader"] = "office"
    # 考评 (bot.domain.assessment): points off per unit of each measure.
    assess_late: float = Field(default=20.0, ge=0, le=100)
    assess_missed: float = Field(default=50.0, ge=0, le=100)
    assess_overdue: float = Field(default=1.0, ge=0, le=100)
    assess_behind: float = Field(default=0.3, ge=0, le=10)
    assess_returned: float = Field(default=10.0, ge=0, le=100)
    assess_nudged: float = Field(default=10.0, ge=0, le=100)

    # Sending from the outbox within Telegram's limits (about 30 messages/s overall, one per
    # second per private chat, 20 per minute per group); a little headroom is left for replies.
    send_rate_per_second: float = Field(default=29.0, gt=0, le=100000)
    send_private_interval: float = Field(default=1.0, ge=0, le=60)
    send_group_per_minute: int = Field(default=20, ge=1, le=100000)
    send_concurrency: int = Field(default=8, ge=1, le=256)
    # Attempts before a message that fails on our side (a bug, bad data) is given up; Telegram
    # outages (5xx, timeouts) are retried, backing off up to 5 minutes, until delivered.
    send_max_attempts: int = Field(default=8, ge=1, le=50)
    # Different people's updates handled at once on PostgreSQL (each person's in order);
    # SQLite, one writer at a time, always handles one update at a time. At most 8: each lane
    # holds a pooled connection (db.engine: 15 at most) beside the jobs' and the sender's.
    update_lanes: int = Field(default=4, ge=1, le=8)

    # Daily summaries: sent on workdays at summary_time; a run missed while the bot was down is
    # caught up until summary_latest. summary_items caps each list (red tasks, new reports).
    summary_time: time = time(8, 30)
    summary_latest: time = time(12, 0)
    summary_items: int = Field(default=5, ge=1, le=50)
    # Each digest is followed by a picture: a leader's tasks against the time-elapsed schedule,
    # the office's the city's lights by section (bot.charts).
    digest_charts: bool = True
    # Escalations (reports overdue escalate_after_workdays) are folded into the morning digest
    # of the office and the leaders; true sends each one as a message of its own at 09:00.
    escalation_messages: bool = False
    # The work group's 通报 of units with overdue reports: on this weekday's first workday of
    # the week (0 = Monday … 4 = Friday; -1: never weekly) and on the first workday after each
    # monthly deadline (circular_after_deadlines), never every day.
    circular_weekday: int = Field(default=0, ge=-1, le=4)
    circular_after_deadlines: bool = True

    # Status thresholds (percentage points behind the time-elapsed schedule).
    yellow_behind_pct: float = Field(default=10.0, ge=0, le=100)
    red_behind_pct: float = Field(default=25.0, ge=0, le=100)
    yellow_due_within_workdays: int = Field(default=3, ge=0, le=30)

    # Retention (days): handled updates, delivered (or given-up) messages, the audit log. A daily
    # job deletes what is older, so nothing grows without bound.
    keep_inbox_days: int = Field(default=30, ge=1, le=3650)
    keep_outbox_days: int = Field(default=180, ge=30, le=3650)
    keep_audit_days: int = Field(default=730, ge=365, le=36500)
    retention_time: time = time(3, 30)

    # Accounts that are not bound get this many answers per window, then silence (a stranger's
    # flood must not use up Telegram's limits or keep others waiting).
    unbound_answers: int = Field(default=3, ge=1, le=10_000)
    unbound_window_minutes: int = Field(default=10, ge=1, le=24 * 60)

    # Invites and conversations.
    invite_ttl_hours: int = Field(default=72, ge=1, le=24 * 90)
    draft_timeout_minutes: int = Field(default=30, ge=1, le=24 * 60)

    # 佐证材料 (evidence): the photos and documents liaisons attach are copied under this
    # directory (<year>/<task 序号>/…), up to EVIDENCE_MAX_MB each (20 MB is what Telegram lets a
    # bot download), of the file types listed (photos always count as jpg).
    evidence_dir: Path = Path("./data/evidence")
    evidence_max_mb: int = Field(default=20, ge=1, le=2000)
    evidence_types: str = "jpg,jpeg,png,pdf,doc,docx,xls,xlsx,wps,et"

    # Sandbox web page: on the loopback address unless serving it to the network is asked for
    # explicitly (it acts as the admin and every other persona, with no login).
    sandbox_host: str = "127.0.0.1"
    sandbox_port: int = Field(default=8080, ge=1, le=65535)
    sandbox_allow_remote: bool = False

    @field_validator("bot_token")
    @classmethod
    def _token_not_empty(cls, value: SecretStr | None) -> SecretStr | None:
        # An empty BOT_TOKEN= is a mistake, not a wish for the sandbox (leave the variable out).
        if value is not None and not value.get_secret_value().strip():
            raise ValueError("is empty: set the token from @BotFather, or remove the line")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("database_url")
    @classmethod
    def _supported_db(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "must start with sqlite+aiosqlite:// or postgresql+asyncpg:// "
                f"(got {value.split(':', 1)[0]!r})"
            )
        parts = urlsplit(value)
        try:
            parts.port  # noqa: B018 -- a port that is not a number raises here
        except ValueError:
            raise ValueError("has a port that is not a number") from None
        if parts.scheme.startswith("postgresql") and not (parts.hostname and parts.path.strip("/")):
            raise ValueError("needs a host and a database: postgresql+asyncpg://user@host/db")
        return value

    @field_validator("evidence_types")
    @classmethod
    def _types_listed(cls, value: str) -> str:
        types = [t.strip().lower().lstrip(".") for t in value.split(",") if t.strip()]
        if not types or not all(t.isalnum() and len(t) <= 10 for t in types):
            raise ValueError("must list file extensions separated by commas, e.g. jpg,pdf,docx")
        return ",".join(types)

    @property
    def evidence_extensions(self) -> frozenset[str]:
        """The file types (extensions, lower case, no dot) accepted as 佐证材料."""
        return frozenset(self.evidence_types.split(","))

    @property
    def evidence_max_bytes(self) -> int:
        """The largest 佐证材料 file accepted, in bytes."""
        return self.evidence_max_mb * 1024 * 1024

    @property
    def tz(self) -> ZoneInfo:
        """The configured time zone."""
        return ZoneInfo(self.timezone)

    @property
    def sandbox(self) -> bool:
        """True when no token is configured: the bot runs against the local emulator."""
        return self.bot_token is None

    def sqlite_path(self) -> Path | None:
        """The SQLite file behind database_url, if it is a file-backed SQLite URL."""
        prefix = "sqlite+aiosqlite:///"
        if not self.database_url.startswith(prefix):
            return None
        rest = self.database_url[len(prefix) :]
        if not rest or rest == ":memory:":
            return None
        return Path(rest)


def load_settings(**overrides: object) -> Settings:
    """Build the settings, turning a validation error into one readable line."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "settings"
        raise ConfigError(
            f"配置错误 / configuration error: {where.upper()}: {first.get('msg', 'invalid')}"
        ) from None
