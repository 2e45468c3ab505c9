"""Import a register into the database: idempotent, and a corrected file keeps every report."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.register import Register, guess_kind
from db.models import (
    AppState,
    Base,
    Leader,
    Target,
    Task,
    TaskLeader,
    TaskUnit,
    Unit,
    UnitAlias,
    UnitGroupMember,
)
from db.years import IMPORTED, bump_register_version


@dataclass
class ImportResult:
    """What an import changed."""

    tasks_created: list[int] = field(default_factory=list)
    tasks_updated: list[int] = field(default_factory=list)
    tasks_unchanged: int = 0
    tasks_not_in_file: list[int] = field(default_factory=list)
    units_created: list[str] = field(default_factory=list)
    leaders_created: list[str] = field(default_factory=list)
    other_changes: int = 0

    @property
    def changed(self) -> bool:
        """True if anything in the database changed."""
        return bool(
            self.tasks_created
            or self.tasks_updated
            or self.units_created
            or self.leaders_created
            or self.other_changes
        )


class _Names:
    """Resolves a name as spelled in a task cell to a unit row, creating units a sheet adds."""

    def __init__(self, session: AsyncSession, result: ImportResult) -> None:
        self.session = session
        self.result = result
        self.units: dict[str, Unit] = {}
        self.aliases: dict[str, int] = {}

    async def load(self) -> None:
        for unit in (await self.session.scalars(select(Unit))).all():
            self.units[unit.name] = unit
        for alias in (await self.session.scalars(select(UnitAlias))).all():
            self.aliases[alias.alias] = alias.unit_id

    async def unit(self, name: str, kind: str | None = None) -> Unit:
        """The unit row named `name` (created if missing)."""
        unit = self.units.get(name)
        if unit is None:
            unit = Unit(name=name, kind=kind or guess_kind(name))
            self.session.add(unit)
            await self.session.flush()
            self.units[name] = unit
            self.result.units_created.append(name)
        elif kind is not None and unit.kind != kind:
            unit.kind = kind
            self.result.other_changes += 1
        return unit

    async def resolve(self, label: str) -> int:
        """The unit id a cell's spelling stands for (through an alias if there is one)."""
        if label in self.aliases:
            return self.aliases[label]
        return (await self.unit(label)).id


async def _sync_units(session: AsyncSession, register: Register, names: _Names) -> None:
    for u in register.units:
        await names.unit(u.name, u.kind)
    for g in register.groups:
        group = await names.unit(g.name, "group")
        if g.comment and group.comment != g.comment:
            group.comment = g.comment
            names.result.other_changes += 1
        wanted = {(await names.unit(m)).id for m in g.members}
        rows = (
            await session.scalars(
                select(UnitGroupMember.member_id).where(UnitGroupMember.group_id == group.id)
            )
        ).all()
        have = set(rows)
        # The file only adds members: an admin may have filled a group the notice leaves open.
        for member_id in sorted(wanted - have):
            session.add(UnitGroupMember(group_id=group.id, member_id=member_id))
            names.result.other_changes += 1
    for a in register.aliases:
        unit = await names.unit(a.unit)
        existing = await session.scalar(select(UnitAlias).where(UnitAlias.alias == a.alias))
        if existing is None:
            session.add(UnitAlias(alias=a.alias, unit_id=unit.id, comment=a.comment or None))
            names.result.other_changes += 1
        elif existing.unit_id != unit.id or (existing.comment or "") != a.comment:
            existing.unit_id = unit.id
            existing.comment = a.comment or None
            names.result.other_changes += 1
        names.aliases[a.alias] = unit.id
    await session.flush()


async def _leaders(
    session: AsyncSession, register: Register, result: ImportResult
) -> dict[str, int]:
    by_name = {x.name: x for x in (await session.scalars(select(Leader))).all()}
    wanted = list(register.leaders)
    for t in register.tasks:
        wanted.extend(t.leaders)
    for name in wanted:
        if name not in by_name:
            leader = Leader(name=name)
            session.add(leader)
            await session.flush()
            by_name[name] = leader
            result.leaders_created.append(name)
    return {name: leader.id for name, leader in by_name.items()}


def _target_tuple(t: Target) -> tuple[object, ...]:
    return (t.metric, t.kind, t.value, t.unit, t.comparator, t.source)


async def _sync_tasks(
    session: AsyncSession,
    register: Register,
    names: _Names,
    leader_ids: dict[str, int],
    now: datetime,
    result: ImportResult,
) -> None:
    """Create or update every task of the file, reading what exists in a few bulk queries."""
    year = register.year
    existing = {
        t.no: t for t in (await session.scalars(select(Task).where(Task.year == year))).all()
    }
    created: set[int] = set()
    for data in register.tasks:
        if data.no not in existing:
            task = Task(
                year=year,
                no=data.no,
                section=data.section,
                subsection=data.subsection,
                text=data.text,
                updated_at=now,
            )
            session.add(task)
            existing[data.no] = task
            created.add(data.no)
    await session.flush()
    ids = [existing[d.no].id for d in register.tasks]
    have_units: dict[int, list[tuple[str, int, str, int]]] = defaultdict(list)
    for r in (await session.scalars(select(TaskUnit).where(TaskUnit.task_id.in_(ids)))).all():
        have_units[r.task_id].append((r.role, r.position, r.label, r.unit_id))
    have_leaders: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for x in (await session.scalars(select(TaskLeader).where(TaskLeader.task_id.in_(ids)))).all():
        have_leaders[x.task_id].append((x.position, x.leader_id))
    have_targets: dict[int, list[tuple[object, ...]]] = defaultdict(list)
    for g in (
        await session.scalars(
            select(Target).where(Target.task_id.in_(ids)).order_by(Target.position)
        )
    ).all():
        have_targets[g.task_id].append(_target_tuple(g))

    stale_units: list[int] = []
    stale_leaders: list[int] = []
    stale_targets: list[int] = []
    fresh: list[Base] = []
    for data in register.tasks:
        task = existing[data.no]
        changed = False
        for attr, value in (
            ("section", data.section),
            ("subsection", data.subsection),
            ("text", data.text),
        ):
            if getattr(task, attr) != value:
                setattr(task, attr, value)
                changed = True
        wanted_units = []
        for role, labels in (("lead", data.lead_units), ("responsible", data.responsible_units)):
            for position, label in enumerate(labels):
                wanted_units.append((role, position, label, await names.resolve(label)))
        if sorted(have_units[task.id]) != sorted(wanted_units):
            stale_units.append(task.id)
            fresh.extend(
                TaskUnit(task_id=task.id, unit_id=u, role=role, position=pos, label=label)
                for role, pos, label, u in wanted_units
            )
            changed = True
        wanted_leaders = [(i, leader_ids[name]) for i, name in enumerate(data.leaders)]
        if sorted(have_leaders[task.id]) != wanted_leaders:
            stale_leaders.append(task.id)
            fresh.extend(
                TaskLeader(task_id=task.id, leader_id=lid, position=pos)
                for pos, lid in wanted_leaders
            )
            changed = True
        wanted_targets = [
            (t.metric, t.kind, float(t.value), t.unit, t.comparator, t.source) for t in data.targets
        ]
        if have_targets[task.id] != wanted_targets:
            stale_targets.append(task.id)
            fresh.extend(
                Target(
                    task_id=task.id,
                    position=pos,
                    metric=t.metric,
                    kind=t.kind,
                    value=float(t.value),
                    unit=t.unit,
                    comparator=t.comparator,
                    source=t.source,
                )
                for pos, t in enumerate(data.targets)
            )
            changed = True
        if data.no in created:
            result.tasks_created.append(data.no)
        elif changed:
            task.updated_at = now
            result.tasks_updated.append(data.no)
        else:
            result.tasks_unchanged += 1
    for model, stale in (
        (TaskUnit, stale_units),
        (TaskLeader, stale_leaders),
        (Target, stale_targets),
    ):
        if stale:
            await session.execute(delete(model).where(model.task_id.in_(stale)))
    session.add_all(fresh)
    await session.flush()


async def import_register(
    session: AsyncSession, register: Register, *, now: datetime
) -> ImportResult:
    """Bring the database in line with `register` inside the caller's transaction.

    Tasks are matched by (year, 序号) and updated in place, so reports stay attached. Tasks of
    the year missing from the file are kept and listed in the result, never deleted.
    """
    result = ImportResult()
    names = _Names(session, result)
    await names.load()
    await _sync_units(session, register, names)
    leader_ids = await _leaders(session, register, result)
    await _sync_tasks(session, register, names, leader_ids, now, result)
    in_file = {t.no for t in register.tasks}
    existing: Sequence[int] = (
        await session.scalars(select(Task.no).where(Task.year == register.year))
    ).all()
    result.tasks_not_in_file = sorted(set(existing) - in_file)
    # Deadlines before the register first reached the database are not chased.
    key = f"{IMPORTED}{register.year}"
    if await session.get(AppState, key) is None:
        session.add(AppState(key=key, value={"at": now.isoformat()}, updated_at=now))
        result.other_changes += 1
    if result.changed:
        # A new version tells every running bot to drop the register it keeps in memory
        # (db.register_cache). An import that changes nothing leaves the database as it was.
        await bump_register_version(session, now)
    await session.flush()
    return result
