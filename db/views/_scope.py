"""Which tasks a view covers (`Scope`: a year, a leader's tasks, one task, some ids) and the
register's tasks as the views read them (`load_tasks`, kept by the RegisterCache).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    CompoundSelect,
    Select,
    bindparam,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import BindParameter

from bot.config import Settings
from bot.domain.boards import Board
from bot.domain.model import (
    TaskInfo,
)
from bot.domain.overdue import (
    Catalogue,
)
from bot.domain.units import CATEGORIES, category_of
from db.models import (
    Leader,
    Task,
    TaskLeader,
    TaskUnit,
    Unit,
    UnitAlias,
    UnitGroupMember,
)
from db.register_cache import RegisterCache
from db.tasks import group_members, read_tasks
from db.tasks import rows as _rows

Shape = tuple[bool, bool, bool, bool, bool]  # see Scope.shape


@dataclass(frozen=True)
class Scope:
    """Which tasks a view covers: a year, optionally one leader's tasks or a single task."""

    year: int
    leader_ids: tuple[int, ...] = ()
    task_id: int | None = None
    only_kind: str | None = None  # only tasks with this cycle kind
    not_kind: str | None = None  # tasks with any other cycle kind
    ids: tuple[int, ...] = ()  # only these tasks (one chunk of a larger scope, `board_chunks`)

    def task_ids(self) -> Select[Any]:
        """The ids of the tasks in scope, as a subquery."""
        return _task_ids(self.shape(), self.params())

    def shape(self) -> Shape:
        """Which filters the scope has: scopes of one shape share one (cached) statement."""
        return (
            bool(self.leader_ids),
            self.task_id is not None,
            self.only_kind is not None,
            self.not_kind is not None,
            bool(self.ids),
        )

    def params(self) -> dict[str, Any]:
        """The values of the named parameters of `task_ids` (see `_task_ids`)."""
        return {
            "scope_year": self.year,
            "scope_leaders": list(self.leader_ids),
            "scope_task": self.task_id,
            "scope_only_kind": self.only_kind,
            "scope_not_kind": self.not_kind,
            "scope_ids": list(self.ids),
        }


# Placeholders: a cached statement gets its values when it runs.

CHUNK = 1000  # tasks per chunk in `board_chunks`

_NO_VALUES: dict[str, Any] = Scope(0).params()


def _task_ids(shape: Shape, values: dict[str, Any]) -> Select[Any]:
    """The task ids of a scope of `shape`, with named parameters holding `values`.

    The names let a statement built once for a shape run for any scope of that shape with
    `Scope.params()` as execution parameters (building the larger statements costs more than
    running them).
    """
    leaders, one_task, only_kind, not_kind, some = shape
    query = select(Task.id).where(Task.year == bindparam("scope_year", values["scope_year"]))
    if leaders:
        wanted: BindParameter[list[int]] = bindparam(
            "scope_leaders", values["scope_leaders"], expanding=True
        )
        query = query.where(
            Task.id.in_(select(TaskLeader.task_id).where(TaskLeader.leader_id.in_(wanted)))
        )
    if one_task:
        query = query.where(Task.id == bindparam("scope_task", values["scope_task"]))
    if only_kind:
        query = query.where(
            Task.cycle_kind == bindparam("scope_only_kind", values["scope_only_kind"])
        )
    if not_kind:
        query = query.where(
            Task.cycle_kind != bindparam("scope_not_kind", values["scope_not_kind"])
        )
    if some:
        query = query.where(
            Task.id.in_(bindparam("scope_ids", values["scope_ids"], expanding=True))
        )
    return query


# --- The register -------------------------------------------------------------------------------


async def load_tasks(
    session: AsyncSession,
    scope: Scope,
    *,
    responsible_report: bool,
    register: RegisterCache | None = None,
    ids: Sequence[int] | None = None,
) -> list[TaskInfo]:
    """The tasks in scope with leaders, units (groups expanded) and targets, by 序号.

    With `register` (validated in this session), tasks read before are taken from memory and
    only the scope's ids are queried (not even those, when the caller read them: `ids`): the
    register changes only with an import, and reading a leader's 800 tasks took 35-60 ms of a
    100 ms summary at 10,000 tasks.
    """
    if register is None:
        return await read_tasks(session, scope.task_ids(), responsible_report)
    if ids is None:
        ids = [r[0] for r in await _rows(session, scope.task_ids())]
    found = await register.tasks(session, ids, responsible_report)
    tasks = [info for t in ids if (info := found.get(t)) is not None and info.year == scope.year]
    tasks.sort(key=lambda info: info.no)
    return tasks


async def task_year(session: AsyncSession, task_id: int) -> int | None:
    """The year of a task, or None if there is no such task."""
    return await session.scalar(select(Task.year).where(Task.id == task_id))


async def catalogue(session: AsyncSession, year: int) -> Catalogue:
    """Names a /overdue filter may use: units, aliases, groups, leaders, headings of `year`."""
    units = await _rows(session, select(Unit.id, Unit.name, Unit.kind))
    names = {u.id: u.name for u in units if u.kind != "group"}
    lookup = {u.name: u.id for u in units if u.kind != "group"}
    for alias, unit_id in await _rows(session, select(UnitAlias.alias, UnitAlias.unit_id)):
        if unit_id in names:
            lookup.setdefault(alias, unit_id)
    group_ids = {u.id: u.name for u in units if u.kind == "group"}
    members = await group_members(session, set(group_ids))
    groups = {
        name: (gid, tuple(uid for uid, _ in members.get(gid, [])))
        for gid, name in group_ids.items()
    }
    leaders = {name: lid for lid, name in await _rows(session, select(Leader.id, Leader.name))}
    # Names in the notice are sometimes spaced (周  全): match them without spaces too.
    leaders.update({"".join(name.split()): lid for name, lid in list(leaders.items())})
    headings: list[str] = []
    for section, subsection in await _rows(
        session,
        select(Task.section, Task.subsection).where(Task.year == year).order_by(Task.no),
    ):
        for heading in (section, subsection):
            if heading and heading not in headings:
                headings.append(heading)
    by_category: dict[str, list[int]] = {c.key: [] for c in CATEGORIES}
    for u in units:
        if u.kind != "group":
            by_category[category_of(u.kind, u.name)].append(u.id)
    categories = tuple(tuple(sorted(by_category[c.key])) for c in CATEGORIES)
    return Catalogue(lookup, names, groups, leaders, tuple(headings), categories)


def _pairs(scope: Scope, roles: Sequence[str] | None = None) -> CompoundSelect[Any]:
    """(task_id, unit_id, role) of the units on the tasks in scope, collective names expanded."""
    return _pairs_of(scope.task_ids(), roles)


def _pairs_of(ids: Select[Any], roles: Sequence[str] | None = None) -> CompoundSelect[Any]:
    """(task_id, unit_id, role) of the units on the tasks `ids`, collective names expanded."""
    direct = (
        select(TaskUnit.task_id, TaskUnit.unit_id, TaskUnit.role)
        .join(Unit, Unit.id == TaskUnit.unit_id)
        .where(TaskUnit.task_id.in_(ids), Unit.kind != "group")
    )
    members = (
        select(TaskUnit.task_id, UnitGroupMember.member_id.label("unit_id"), TaskUnit.role)
        .join(UnitGroupMember, UnitGroupMember.group_id == TaskUnit.unit_id)
        .where(TaskUnit.task_id.in_(ids))
    )
    if roles is not None:
        direct = direct.where(TaskUnit.role.in_(roles))
        members = members.where(TaskUnit.role.in_(roles))
    return union_all(direct, members)


def _leader_ids(packed: str | None) -> tuple[int, ...]:
    """Leader ids in position order from 'position:leader_id,...' (any order; None: none)."""
    if not packed:
        return ()
    found = sorted(tuple(int(x) for x in item.split(":")) for item in packed.split(","))
    return tuple(leader_id for _, leader_id in found)


def local_day(moment: datetime, settings: Settings) -> date:
    """The local date of a moment."""
    return moment.astimezone(settings.tz).date()


def by_id(boards: Sequence[Board]) -> dict[int, Board]:
    """Boards by task id."""
    return {b.task.id: b for b in boards}
