"""The register (tasks, their units, leaders and targets) kept in memory between updates.

The register changes only when it is imported (`db.register.import_register`, from the CLI, the
first start or the sandbox), while every report step reads it: the unit's tasks for the picker,
the task's targets for the card, its number for the receipt. Reading it again on each update
cost four to six queries. So it is read once and kept, and each update that uses it first
reads one row, the version every import bumps (`REGISTER_VERSION`): another version — an
import by another process included — drops everything kept. As a backstop for edits made
outside an import (SQL by hand), nothing is kept longer than `max_age` seconds.

Updates of different people may be handled at once (bot.runtime.app.UpdatePump's lanes): one
may still
be reading in a transaction that validated the old version after another dropped it. What such
a transaction reads is answered but not kept: every `clear` starts a new epoch, each task
remembers the epoch it validated in (a context variable), and only reads made in the current
epoch are kept.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.model import TaskInfo
from db import progress, tasks
from db import years as _years
from db.models import AppState, Unit
from db.years import REGISTER_VERSION

NOT_READ: Any = object()  # `validate` without a version read by the caller
_CACHES = itertools.count()
CHUNK = 1000  # tasks read per statement


async def register_version(session: AsyncSession) -> Any:
    """The register's current version stamp (None before the first import that set one)."""
    return await session.scalar(select(AppState.value).where(AppState.key == REGISTER_VERSION))


class RegisterCache:
    """The register's tasks (`db.tasks.read_tasks`) and lookups, kept while it is unchanged.

    `validate(session)` must be called (once per update, before the lookups) in the session the
    lookups then use; the answers are never older than that call.
    """

    def __init__(
        self, *, max_age: float = 60.0, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_age = max_age
        self.monotonic = monotonic
        self.loads = 0  # how many times it was (re)filled, for tests
        self._version: Any = None
        self._loaded_at: float | None = None
        self._unit_tasks: dict[tuple[int, int], list[int]] = {}
        self._since: dict[int, datetime | None] = {}
        self._years: _years.Years | None = None
        self._unit_names: dict[int, str] | None = None
        # The tasks, per task id and per reading of the co-responsible units' duty; `shared`
        # holds each string and tuple they share once.
        self._infos: dict[tuple[int, bool], TaskInfo] = {}
        self.shared: dict[Any, Any] = {}
        self._epoch = 0
        self._validated: ContextVar[int] = ContextVar(f"register_epoch_{next(_CACHES)}")

    def _current(self) -> bool:
        """Whether this task validated since the last `clear` (so what it reads may be kept)."""
        return self._validated.get(-1) == self._epoch

    def clear(self) -> None:
        """Forget everything (the next lookup reads the database)."""
        self._epoch += 1
        self._loaded_at = None
        self._unit_tasks.clear()
        self._since.clear()
        self._years = None
        self._unit_names = None
        self._infos.clear()
        self.shared.clear()

    async def validate(self, session: AsyncSession, version: Any = NOT_READ) -> None:
        """Drop what is kept if the register was imported since, or it is too old.

        `version`: the register's version if this transaction has read it already.
        """
        if version is NOT_READ:
            version = await register_version(session)
        now = self.monotonic()
        fresh = self._loaded_at is not None and now - self._loaded_at <= self.max_age
        if not fresh or version != self._version:
            self.clear()
            self._version = version
            self._loaded_at = now
            self.loads += 1
        self._validated.set(self._epoch)

    async def tasks(
        self, session: AsyncSession, task_ids: Sequence[int], responsible_report: bool
    ) -> dict[int, TaskInfo]:
        """Some tasks by id (`db.tasks.read_tasks`); unknown ids are left out."""
        infos = self._infos
        found = {t: info for t in task_ids if (info := infos.get((t, responsible_report)))}
        missing = sorted({t for t in task_ids if t not in found})
        for start in range(0, len(missing), CHUNK):
            chunk = missing[start : start + CHUNK]
            loaded = await tasks.read_tasks(session, chunk, responsible_report, self.shared)
            if self._current():
                for info in loaded:
                    infos[(info.id, responsible_report)] = info
            found.update((info.id, info) for info in loaded)
        return found

    async def task(
        self, session: AsyncSession, task_id: int, responsible_report: bool
    ) -> TaskInfo | None:
        """One task by id (None for an unknown id)."""
        return (await self.tasks(session, [task_id], responsible_report)).get(task_id)

    async def unit_tasks(
        self, session: AsyncSession, unit_id: int, year: int, responsible_report: bool
    ) -> list[TaskInfo]:
        """The unit's lead and co-responsible tasks of `year` (groups too), by 序号."""
        key = (unit_id, year)
        ids = self._unit_tasks.get(key)
        if ids is None:
            ids = await tasks.unit_task_ids(session, unit_id, year)
            if self._current():
                self._unit_tasks[key] = ids
        found = await self.tasks(session, ids, responsible_report)
        return [found[t] for t in ids if t in found]

    async def years(self, session: AsyncSession) -> _years.Years:
        """As `db.years.years` (changed only with the register's version)."""
        if self._years is not None:
            return self._years
        found = await _years.years(session)
        if self._current():
            self._years = found
        return found

    async def tracking_since(self, session: AsyncSession, year: int) -> datetime | None:
        """As `db.progress.tracking_since` (written only by an import)."""
        if year in self._since:
            return self._since[year]
        since = await progress.tracking_since(session, year)
        if self._current():
            self._since[year] = since
        return since

    async def unit_name(self, session: AsyncSession, unit_id: int) -> str:
        """A unit's name ("" for an unknown id)."""
        names = self._unit_names
        if names is None:
            rows = (await session.execute(select(Unit.id, Unit.name))).all()
            names = {uid: name for uid, name in rows}
            if self._current():
                self._unit_names = names
        return names.get(unit_id, "")
