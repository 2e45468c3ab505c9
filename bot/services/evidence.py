"""佐证材料 (evidence, issue 21): a liaison attaches photos and documents to a task for their
unit — while a report on it is open, or replying to the bot's message about it. Each file is
checked (type, size: bot.domain.evidence), copied under EVIDENCE_DIR, kept with Telegram's
file id, audited, and linked to the unit's next stored report on the task
(bot.services.reporting.submit). The card lists and sends them; the ledger counts them.

Which task a file is for, and that the caller's unit is on it, is the handler's to establish
with bot.services.reporting (own_task, replied_tasks) before calling `attach`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from bot.domain.evidence import EvidenceFile, Incoming, Refusal, local_path, refusal
from bot.domain.model import TaskInfo
from bot.domain.roles import UnitRef
from bot.services.desk import Desk
from db import evidence, people

# Downloads Telegram's file `file_id` to `path`; the number of bytes written.
Fetch = Callable[[str, Path], Awaitable[int]]

SHOWN = 10  # files sent back from the card at most, newest first


class Outcome(StrEnum):
    """What became of a file."""

    STORED = "stored"
    DUPLICATE = "duplicate"  # this file is kept for the task and unit already
    TYPE = Refusal.TYPE.value
    SIZE = Refusal.SIZE.value


@dataclass(frozen=True)
class Attached:
    """The outcome, for the answer: the task, the unit and how many files it has now."""

    outcome: Outcome
    task_no: int
    unit_name: str
    count: int


async def attach(
    desk: Desk, *, task: TaskInfo, unit: UnitRef, by: int, incoming: Incoming, fetch: Fetch
) -> Attached:
    """Check, download and keep one file for `unit` on `task`; a refused or repeated file
    changes nothing."""
    settings, session = desk.settings, desk.session
    why = refusal(incoming, settings.evidence_extensions, settings.evidence_max_bytes)
    outcome: Outcome | None = Outcome(why.value) if why is not None else None
    if outcome is None and await evidence.exists(
        session, task.id, unit.id, incoming.file_unique_id
    ):
        outcome = Outcome.DUPLICATE
    if outcome is None:
        outcome = await _keep(desk, task, unit, by, incoming, fetch)
    return Attached(outcome, task.no, unit.name, await evidence.count(session, task.id, [unit.id]))


async def _keep(
    desk: Desk, task: TaskInfo, unit: UnitRef, by: int, incoming: Incoming, fetch: Fetch
) -> Outcome:
    settings = desk.settings
    relative = local_path(task.year, task.no, unit.id, incoming)
    target = settings.evidence_dir / relative
    await asyncio.to_thread(target.parent.mkdir, parents=True, exist_ok=True)
    # The same file always goes to the same path: a retried update overwrites, never adds.
    size = await fetch(incoming.file_id, target)
    if size > settings.evidence_max_bytes:  # Telegram did not say, or said less
        await asyncio.to_thread(target.unlink, missing_ok=True)
        return Outcome.SIZE
    new_id = await evidence.add(
        desk.session,
        task_id=task.id,
        unit_id=unit.id,
        by_user_id=by,
        incoming=incoming,
        size=size,
        path=relative.as_posix(),
        now=desk.now,
    )
    if new_id is None:
        return Outcome.DUPLICATE
    await people.audit(
        desk.session,
        at=desk.now,
        actor=by,
        action="evidence",
        target=f"task:{task.id}:unit:{unit.id}",
        detail={
            "evidence_id": new_id,
            "kind": incoming.kind,
            "type": incoming.file_type,
            "size": size,
        },
    )
    return Outcome.STORED


async def local_copy(desk: Desk, file: EvidenceFile) -> Path | None:
    """The file's local copy, if it is still there (sent when Telegram no longer knows the
    file id, e.g. the sandbox's emulator after a restart)."""
    path = desk.settings.evidence_dir / file.path
    return path if await asyncio.to_thread(path.is_file) else None


async def count(desk: Desk, task_id: int, unit_ids: frozenset[int] | None) -> int:
    """How many files the task has from these units (None: all), for the card."""
    return await evidence.count(desk.session, task_id, unit_ids)


async def to_send(
    desk: Desk, task_id: int, unit_ids: frozenset[int] | None
) -> tuple[list[EvidenceFile], int]:
    """The task's newest files from these units (None: all), at most SHOWN, and how many
    there are in all."""
    files = await evidence.of_task(desk.session, task_id, unit_ids, limit=SHOWN)
    total = len(files) if len(files) < SHOWN else await count(desk, task_id, unit_ids)
    return files, total
