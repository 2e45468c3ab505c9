"""The register's tasks as the domain reads them (`read_tasks` → `bot.domain.model.TaskInfo`, the
one task type) and small lookups: a unit's tasks, a task's id by 序号, the newest year.

`RegisterCache` keeps what `read_tasks` returns between updates; read through it where a
session has validated one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import model
from bot.domain.model import LEAD, TaskInfo, UnitOnTask
from db.models import Leader, Target, Task, TaskLeader, TaskUnit, Unit, UnitGroupMember


async def rows(
    session: AsyncSession, statement: Any, params: dict[str, Any] | None = None
) -> Sequence[Any]:
    """All rows of a statement, through the session's connection (its transaction).

    Core rows, without the ORM's per-row result processing: the views read tens of thousands
    of plain column tuples and never ORM objects.
    """
    connection = await session.connection()
    return (await connection.execute(statement, params or {})).all()


async def read_tasks(
    session: AsyncSession,
    ids: Select[Any] | Sequence[int],
    responsible_report: bool,
    shared: dict[Any, Any] | None = None,
) -> list[TaskInfo]:
    """Some tasks with leaders, units (groups expanded) and targets, by 序号.

    `ids`: the tasks' ids or a subquery of them. `responsible_report`: whether co-responsible
    units owe reports (`UnitOnTask.owes`). Equal strings and tuples are kept once, in `shared`.
    """
    shared = {} if shared is None else shared
    tasks = await rows(
        session,
        select(
            Task.id,
            Task.year,
            Task.no,
            Task.section,
            Task.subsection,
            Task.text,
            Task.cycle_kind,
            Task.cycle_dates,
            Task.completed_on,
        )
        .where(Task.id.in_(ids))
        .order_by(Task.no),
    )
    if not tasks:
        return []

    # Each name, label and tuple of them once: the rows bring a new copy of each string per
    # task, and at 10,000 tasks the copies were 60% of the tasks' memory.
    def one(value: Any) -> Any:
        return shared.setdefault(value, value)

    leaders: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for task_id, leader_id, name in await rows(
        session,
        select(TaskLeader.task_id, Leader.id, Leader.name)
        .join(Leader, Leader.id == TaskLeader.leader_id)
        .where(TaskLeader.task_id.in_(ids))
        .order_by(TaskLeader.task_id, TaskLeader.position),
    ):
        leaders[task_id].append(one((leader_id, one(name))))
    unit_rows = await rows(
        session,
        select(TaskUnit.task_id, TaskUnit.role, TaskUnit.label, Unit.id, Unit.name, Unit.kind)
        .join(Unit, Unit.id == TaskUnit.unit_id)
        .where(TaskUnit.task_id.in_(ids))
        .order_by(TaskUnit.task_id, TaskUnit.role, TaskUnit.position),
    )
    members = await group_members(session, {r[3] for r in unit_rows if r[5] == "group"})
    targets: dict[int, list[model.Target]] = defaultdict(list)
    for t in await rows(
        session,
        select(
            Target.task_id,
            Target.metric,
            Target.kind,
            Target.value,
            Target.unit,
            Target.comparator,
        )
        .where(Target.task_id.in_(ids))
        .order_by(Target.task_id, Target.position),
    ):
        targets[t[0]].append(one(model.Target(*(one(v) for v in t[1:]))))
    by_task: dict[int, list[tuple[str, str, int, str, str]]] = defaultdict(list)
    # Plain tuples: attribute access on tens of thousands of rows is measurably slower.
    for task_id, role, label, uid, name, kind in unit_rows:
        by_task[task_id].append((one(role), one(label), uid, one(name), one(kind)))
    # A unit has the same part on many tasks: one (immutable) UnitOnTask per part.
    parts: dict[tuple[int, str, str | None], UnitOnTask] = {}

    def part(member_id: int, member: str, role: str, via: str | None) -> UnitOnTask:
        found = parts.get((member_id, role, via))
        if found is None:
            owes = role == LEAD or responsible_report
            found = parts[(member_id, role, via)] = UnitOnTask(member_id, member, role, owes, via)
        return found

    out = []
    for task_id, year, no, section, subsection, text, kind, dates, completed_on in tasks:
        task_rows = by_task[task_id]
        units: list[UnitOnTask] = []
        at: dict[int, int] = {}  # unit id → its index in `units`
        # Rows come lead before responsible: a unit keeps its first role; within that role a
        # direct mention beats one through a collective name (see bot.domain.model).
        for role, _, uid, name, unit_kind in task_rows:
            expanded = members.get(uid, []) if unit_kind == "group" else [(uid, name)]
            via = name if unit_kind == "group" else None
            for member_id, member in expanded:
                index = at.get(member_id)
                if index is None:
                    at[member_id] = len(units)
                    units.append(part(member_id, member, role, via))
                elif via is None and units[index].role == role and units[index].via_group:
                    units[index] = part(member_id, member, role, None)
        out.append(
            TaskInfo(
                id=task_id,
                year=year,
                no=no,
                section=one(section),
                subsection=one(subsection),
                text=text,
                cycle_kind=one(kind),
                cycle_dates=one(tuple(dates or ())),
                completed_on=completed_on,
                leaders=one(tuple(leaders[task_id])),
                lead_labels=one(tuple(r[1] for r in task_rows if r[0] == LEAD)),
                responsible_labels=one(tuple(r[1] for r in task_rows if r[0] != LEAD)),
                units=one(tuple(units)),
                targets=one(tuple(targets[task_id])),
            )
        )
    return out


async def group_members(
    session: AsyncSession, group_ids: set[int]
) -> dict[int, list[tuple[int, str]]]:
    """The members of some collective names, by unit id."""
    out: dict[int, list[tuple[int, str]]] = defaultdict(list)
    if not group_ids:
        return out
    for gid, uid, name in await rows(
        session,
        select(UnitGroupMember.group_id, Unit.id, Unit.name)
        .join(Unit, Unit.id == UnitGroupMember.member_id)
        .where(UnitGroupMember.group_id.in_(group_ids))
        .order_by(Unit.id),
    ):
        out[gid].append((uid, name))
    return out


async def groups_of(session: AsyncSession, unit_id: int) -> dict[int, str]:
    """The groups (collective names) a unit belongs to: id → name."""
    found = (
        await session.execute(
            select(Unit.id, Unit.name)
            .join(UnitGroupMember, UnitGroupMember.group_id == Unit.id)
            .where(UnitGroupMember.member_id == unit_id)
        )
    ).all()
    return {gid: name for gid, name in found}


async def unit_task_ids(session: AsyncSession, unit_id: int, year: int) -> list[int]:
    """The ids of the unit's lead and co-responsible tasks of `year` (groups too), by 序号."""
    ids = [unit_id, *await groups_of(session, unit_id)]
    found = await session.scalars(
        select(Task.id)
        .join(TaskUnit, TaskUnit.task_id == Task.id)
        .where(Task.year == year, TaskUnit.unit_id.in_(ids))
        .group_by(Task.id, Task.no)
        .order_by(Task.no)
    )
    return list(found)


async def task_id_by_no(session: AsyncSession, year: int, no: int) -> int | None:
    """The id of task `no` of `year`."""
    return await session.scalar(select(Task.id).where(Task.year == year, Task.no == no))


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
