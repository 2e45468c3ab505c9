"""签收: a lead unit's liaison acknowledges the unit's tasks (issue 21).

Every part a unit leads in the working year's open tasks is to be acknowledged once; a task
newly imported or newly assigned to the unit starts unacknowledged. Acknowledging says the unit
knows the task and its reporting duty; it changes no status and no reminder of reports.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.domain.model import TaskInfo
from bot.domain.roles import UnitRef
from bot.services import reporting
from bot.services.desk import Desk
from db import acks, people


@dataclass(frozen=True, slots=True)
class Pending:
    """A unit's tasks still to be acknowledged, by 序号."""

    unit: UnitRef
    tasks: tuple[TaskInfo, ...]


async def pending(desk: Desk, units: Sequence[UnitRef], year: int) -> list[Pending]:
    """The units' lead parts in open tasks of `year` not acknowledged yet (units with none are
    left out)."""
    done = await acks.acknowledged(desk.session, [u.id for u in units])
    out = []
    for unit in units:
        mine = []
        for task in await reporting.unit_tasks(desk, unit.id, year):
            part = task.part(unit.id)
            if (
                part is not None
                and part.lead
                and task.completed_on is None
                and (task.id, unit.id) not in done
            ):
                mine.append(task)
        if mine:
            out.append(Pending(unit, tuple(mine)))
    return out


async def acknowledge(
    desk: Desk, units: Sequence[UnitRef], year: int, *, task_id: int | None, by: int
) -> list[tuple[UnitRef, TaskInfo]]:
    """Acknowledge the units' pending tasks (all, or the one `task_id`, which must be one of
    theirs: a forged id acknowledges nothing); the (unit, task) parts newly acknowledged."""
    chosen = [
        (p.unit, t)
        for p in await pending(desk, units, year)
        for t in p.tasks
        if task_id is None or t.id == task_id
    ]
    if not chosen:
        return []
    await acks.acknowledge(
        desk.session, [(t.id, u.id) for u, t in chosen], by_user_id=by, now=desk.now
    )
    await people.audit(
        desk.session,
        at=desk.now,
        actor=by,
        action="acknowledge",
        target="、".join(sorted({u.name for u, _ in chosen})),
        detail={"tasks": [[t.id, u.id] for u, t in chosen]},
    )
    return chosen


async def pending_counts(desk: Desk, units: Sequence[UnitRef], year: int) -> dict[int, int]:
    """How many tasks each unit has still to acknowledge (units with none left out)."""
    return {p.unit.id: len(p.tasks) for p in await pending(desk, units, year)}
