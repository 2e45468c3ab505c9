"""Queries about tasks: a unit's tasks (directly or through a group), a task's card data."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import model
from db.models import Leader, Target, Task, TaskLeader, TaskUnit, Unit, UnitGroupMember

LEAD = "lead"
RESPONSIBLE = "responsible"


@dataclass(frozen=True)
class UnitTask:
    """A task as one unit sees it: its role on it, and the group it came through if any."""

    task_id: int
    no: int
    text: str
    role: str  # lead | responsible
    via_group: str | None = None
    cycle_kind: str = "monthly"
    cycle_dates: tuple[str, ...] = ()
    completed: bool = False
    completed_on: date | None = None


@dataclass(frozen=True)
class TaskView:
    """Everything the register says about one task."""

    id: int
    year: int
    no: int
    section: str
    subsection: str | None
    text: str
    lead_labels: tuple[str, ...]
    responsible_labels: tuple[str, ...]
    lead_units: tuple[tuple[int, str], ...]  # (unit id, canonical name)
    responsible_units: tuple[tuple[int, str], ...]
    leaders: tuple[tuple[int, str], ...]
    targets: tuple[model.Target, ...]
    cycle_kind: str
    cycle_dates: tuple[str, ...]
    completed_on: date | None


async def groups_of(session: AsyncSession, unit_id: int) -> dict[int, str]:
    """The groups (collective names) a unit belongs to: id → name."""
    rows = (
        await session.execute(
            select(Unit.id, Unit.name)
            .join(UnitGroupMember, UnitGroupMember.group_id == Unit.id)
            .where(UnitGroupMember.member_id == unit_id)
        )
    ).all()
    return {gid: name for gid, name in rows}


async def unit_tasks(session: AsyncSession, unit_id: int, year: int) -> list[UnitTask]:
    """The unit's lead and co-responsible tasks of `year` (groups expanded), by 序号."""
    groups = await groups_of(session, unit_id)
    ids = [unit_id, *groups]
    rows = (
        await session.execute(
            select(Task, TaskUnit.role, TaskUnit.unit_id)
            .join(TaskUnit, TaskUnit.task_id == Task.id)
            .where(Task.year == year, TaskUnit.unit_id.in_(ids))
            .order_by(Task.no, TaskUnit.role)
        )
    ).all()
    best: dict[int, UnitTask] = {}
    for task, role, via in rows:
        item = UnitTask(
            task_id=task.id,
            no=task.no,
            text=task.text,
            role=role,
            via_group=groups.get(via),
            cycle_kind=task.cycle_kind,
            cycle_dates=tuple(task.cycle_dates or ()),
            completed=task.completed_on is not None,
            completed_on=task.completed_on,
        )
        current = best.get(task.id)
        # A direct role beats one through a group; lead beats responsible.
        if current is None or (_rank(item) < _rank(current)):
            best[task.id] = item
    return sorted(best.values(), key=lambda t: t.no)


def _rank(t: UnitTask) -> tuple[int, int]:
    return (0 if t.role == LEAD else 1, 0 if t.via_group is None else 1)


async def task_id_by_no(session: AsyncSession, year: int, no: int) -> int | None:
    """The id of task `no` of `year`."""
    return await session.scalar(select(Task.id).where(Task.year == year, Task.no == no))


async def task_no(session: AsyncSession, task_id: int) -> int | None:
    """The 序号 of a task."""
    return await session.scalar(select(Task.no).where(Task.id == task_id))


async def task_views(session: AsyncSession, task_ids: Sequence[int]) -> dict[int, TaskView]:
    """Full register data for some tasks."""
    if not task_ids:
        return {}
    tasks = (await session.scalars(select(Task).where(Task.id.in_(task_ids)))).all()
    units = (
        await session.execute(
            select(TaskUnit.task_id, TaskUnit.role, TaskUnit.label, Unit.id, Unit.name)
            .join(Unit, Unit.id == TaskUnit.unit_id)
            .where(TaskUnit.task_id.in_(task_ids))
            .order_by(TaskUnit.task_id, TaskUnit.role, TaskUnit.position)
        )
    ).all()
    leaders = (
        await session.execute(
            select(TaskLeader.task_id, Leader.id, Leader.name)
            .join(Leader, Leader.id == TaskLeader.leader_id)
            .where(TaskLeader.task_id.in_(task_ids))
            .order_by(TaskLeader.task_id, TaskLeader.position)
        )
    ).all()
    targets = (
        await session.scalars(
            select(Target).where(Target.task_id.in_(task_ids)).order_by(Target.position)
        )
    ).all()
    out: dict[int, TaskView] = {}
    for t in tasks:
        mine = [u for u in units if u.task_id == t.id]
        out[t.id] = TaskView(
            id=t.id,
            year=t.year,
            no=t.no,
            section=t.section,
            subsection=t.subsection,
            text=t.text,
            lead_labels=tuple(u.label for u in mine if u.role == LEAD),
            responsible_labels=tuple(u.label for u in mine if u.role == RESPONSIBLE),
            lead_units=tuple((u.id, u.name) for u in mine if u.role == LEAD),
            responsible_units=tuple((u.id, u.name) for u in mine if u.role == RESPONSIBLE),
            leaders=tuple((x.id, x.name) for x in leaders if x.task_id == t.id),
            targets=tuple(
                model.Target(g.metric, g.kind, g.value, g.unit, g.comparator, g.source)
                for g in targets
                if g.task_id == t.id
            ),
            cycle_kind=t.cycle_kind,
            cycle_dates=tuple(t.cycle_dates or ()),
            completed_on=t.completed_on,
        )
    return out


async def leader_task_count(session: AsyncSession, leader_id: int, year: int) -> int:
    """How many tasks of `year` a leader supervises."""
    n = await session.scalar(
        select(func.count(func.distinct(TaskLeader.task_id)))
        .join(Task, Task.id == TaskLeader.task_id)
        .where(TaskLeader.leader_id == leader_id, Task.year == year)
    )
    return int(n or 0)


async def latest_year(session: AsyncSession) -> int | None:
    """The newest year that has tasks."""
    return await session.scalar(select(Task.year).order_by(Task.year.desc()).limit(1))
