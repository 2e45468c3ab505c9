"""What a use case runs with: the unit of work and the long-lived things it reads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.domain.workcal import WorkCalendar
from db.register_cache import RegisterCache


@dataclass(frozen=True)
class Desk:
    """The update's (or job's) session, the register kept in memory (validated in that
    session), the settings, the work calendar and the moment the use case acts at."""

    session: AsyncSession
    register: RegisterCache
    settings: Settings
    calendar: WorkCalendar
    now: datetime
