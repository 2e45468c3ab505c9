"""What each digest last showed: the lights of its tasks, so the next one can say what changed.

One AppState row per digest (``digest:city`` for the office's, ``digest:leader:<id>`` for a
leader's): the day it was written, its lights, and the lights it compared with (so a second
run on the same day compares with the same earlier digest and writes the same text).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.status import Light
from db.models import AppState

CITY = "digest:city"


def leader_key(leader_id: int) -> str:
    """The AppState key of a leader's digest."""
    return f"digest:leader:{leader_id}"


@dataclass(frozen=True, slots=True)
class DigestMark:
    """The last digest of one kind: when, its lights, and the lights it was compared with."""

    day: date
    lights: dict[int, Light]
    before: dict[int, Light] | None


def _lights(raw: Any) -> dict[int, Light] | None:
    if not isinstance(raw, dict):
        return None
    return {int(k): Light(int(v)) for k, v in raw.items()}


async def last_digest(session: AsyncSession, key: str) -> DigestMark | None:
    """The mark of the last digest written under `key`, if any."""
    row = await session.get(AppState, key)
    if row is None:
        return None
    value = row.value
    lights = _lights(value.get("lights")) or {}
    return DigestMark(date.fromisoformat(value["day"]), lights, _lights(value.get("before")))


def compared_with(mark: DigestMark | None, today: date) -> dict[int, Light] | None:
    """The lights today's digest compares with: the last earlier day's digest (a second run
    today compares with what the first one did)."""
    if mark is None:
        return None
    return mark.before if mark.day >= today else mark.lights


async def keep_digest(
    session: AsyncSession,
    key: str,
    *,
    day: date,
    lights: dict[int, Light],
    before: dict[int, Light] | None,
    now: datetime,
) -> None:
    """Remember today's digest (`before`: the lights it was compared with)."""
    value: dict[str, Any] = {
        "day": day.isoformat(),
        "lights": {str(k): int(v) for k, v in lights.items()},
        "before": None if before is None else {str(k): int(v) for k, v in before.items()},
    }
    await session.merge(AppState(key=key, value=value, updated_at=now))
