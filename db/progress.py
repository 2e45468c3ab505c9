"""Queries about progress: who owes reports, what was reported, drafts in progress."""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import (
    CompoundSelect,
    String,
    bindparam,
    delete,
    func,
    insert,
    literal,
    select,
    union_all,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.model import LEAD, RESPONSIBLE
from bot.domain.obligations import COMPLETE, completed_at
from db.engine import core_connection
from db.models import (
    AppState,
    Report,
    ReportCycle,
    ReportDraft,
    ReportLatest,
    Task,
    TaskUnit,
    Unit,
    UnitGroupMember,
)

Pair = tuple[int, int]  # (task id, unit id)


@dataclass(frozen=True)
class Owing:
    """A unit that owes a task a report each cycle."""

    task_id: int
    unit_id: int
    unit: str
    role: str  # lead | responsible


async def owing_units(
    session: AsyncSession, task_ids: Sequence[int], *, responsible_report: bool
) -> dict[int, list[Owing]]:
    """Per task, the units owing reports: lead units, plus co-responsible ones if so set.

    Collective names (各乡镇（街道）…) are expanded to their members; a group nobody has
    filled owes nothing, since nobody can be reminded.
    """
    out: dict[int, list[Owing]] = {t: [] for t in task_ids}
    if not task_ids:
        return out
    roles = [LEAD, RESPONSIBLE] if responsible_report else [LEAD]
    rows = (
        await session.execute(
            select(TaskUnit.task_id, TaskUnit.role, Unit.id, Unit.name, Unit.kind)
            .join(Unit, Unit.id == TaskUnit.unit_id)
            .where(TaskUnit.task_id.in_(task_ids), TaskUnit.role.in_(roles))
            .order_by(TaskUnit.task_id, TaskUnit.role, TaskUnit.position)
        )
    ).all()
    group_ids = {r.id for r in rows if r.kind == "group"}
    members: dict[int, list[tuple[int, str]]] = defaultdict(list)
    if group_ids:
        for gid, uid, name in (
            await session.execute(
                select(UnitGroupMember.group_id, Unit.id, Unit.name)
                .join(Unit, Unit.id == UnitGroupMember.member_id)
                .where(UnitGroupMember.group_id.in_(group_ids))
                .order_by(Unit.id)
            )
        ).all():
            members[gid].append((uid, name))
    seen: set[Pair] = set()
    for r in rows:
        expanded = members[r.id] if r.kind == "group" else [(r.id, r.name)]
        for uid, name in expanded:
            if (r.task_id, uid) in seen:
                continue
            seen.add((r.task_id, uid))
            out[r.task_id].append(Owing(r.task_id, uid, name, r.role))
    return out


# Built once (every report step asks): the units' reported cycles, or those of some cycles.
_REPORTED = select(
    ReportCycle.task_id, ReportCycle.unit_id, ReportCycle.cycle_key, ReportCycle.first_at
)
_REPORTED_BY_UNIT = _REPORTED.where(
    ReportCycle.task_id.in_(bindparam("tasks", expanding=True)),
    ReportCycle.unit_id.in_(bindparam("units", expanding=True)),
)
_REPORTED_IN_CYCLES = _REPORTED.where(
    ReportCycle.task_id.in_(bindparam("tasks", expanding=True)),
    ReportCycle.cycle_key.in_(bindparam("keys", expanding=True)),
)


async def reported_keys(
    session: AsyncSession, pairs: Iterable[Pair], cycle_keys: Iterable[str] | None = None
) -> dict[Pair, dict[str, datetime]]:
    """The cycles each (task, unit) has reported (only `cycle_keys`, when given), each with
    its first report's time (`bot.domain.obligations.Reported`).

    Read from report_cycles (one row per reported cycle, kept by a trigger on reports), so
    the cost does not grow with corrections and repeated reports.
    """
    pairs = list(pairs)
    out: dict[Pair, dict[str, datetime]] = {p: {} for p in pairs}
    if not pairs:
        return out
    task_ids = sorted({t for t, _ in pairs})
    params: dict[str, list[int] | list[str]]
    if cycle_keys is None:
        units = sorted({u for _, u in pairs})
        query, params = _REPORTED_BY_UNIT, {"tasks": task_ids, "units": units}
    else:
        wanted = sorted(set(cycle_keys))
        if not wanted:
            return out
        query, params = _REPORTED_IN_CYCLES, {"tasks": task_ids, "keys": wanted}
    conn = await core_connection(session)  # a report stored in this update included
    for task_id, unit_id, key, first_at in (await conn.execute(query, params)).all():
        found = out.get((task_id, unit_id))
        if found is not None:
            found[key] = first_at
    return out


# A unit's reported cycles and its stated completion in one statement: the report conversation
# asks on every picker and confirmation (bench.updates), so one round trip, not two.
_FACTS: CompoundSelect[Any] = union_all(
    select(
        ReportCycle.task_id,
        ReportCycle.unit_id,
        ReportCycle.cycle_key,
        ReportCycle.first_at,
    ).where(
        ReportCycle.task_id.in_(bindparam("tasks", expanding=True)),
        ReportCycle.unit_id.in_(bindparam("units", expanding=True)),
    ),
    select(
        ReportLatest.task_id,
        ReportLatest.unit_id,
        literal(None, String).label("cycle_key"),
        ReportLatest.pct_at,
    ).where(
        ReportLatest.task_id.in_(bindparam("tasks", expanding=True)),
        ReportLatest.unit_id.in_(bindparam("units", expanding=True)),
        ReportLatest.percent >= COMPLETE,
    ),
)


async def unit_facts(
    session: AsyncSession, pairs: Iterable[Pair]
) -> tuple[dict[Pair, dict[str, datetime]], dict[Pair, datetime]]:
    """For each (task, unit): its reported cycles with their first reports' times (as
    `reported_keys`), and when its newest stated percentage completed its part, if it did
    (the task's own completion mark is the caller's: it keeps the tasks in memory)."""
    pairs = list(pairs)
    reported: dict[Pair, dict[str, datetime]] = {p: {} for p in pairs}
    stated: dict[Pair, datetime] = {}
    if not pairs:
        return reported, stated
    params = {"tasks": sorted({t for t, _ in pairs}), "units": sorted({u for _, u in pairs})}
    conn = await core_connection(session)  # a report stored in this update included
    for task_id, unit_id, key, at in (await conn.execute(_FACTS, params)).all():
        pair = (task_id, unit_id)
        if pair not in reported:
            continue
        if key is None:
            stated[pair] = at
        else:
            reported[pair][key] = at
    return reported, stated


async def done_at(session: AsyncSession, pairs: Iterable[Pair], tz: tzinfo) -> dict[Pair, datetime]:
    """When each (task, unit)'s part was completed, for the pairs that are complete now.

    From the task's completion mark and the unit's newest stated percentage
    (`bot.domain.obligations.completed_at`); pairs not complete are left out.
    """
    pairs = list(pairs)
    if not pairs:
        return {}
    task_ids = sorted({t for t, _ in pairs})
    marked = dict(
        (
            await session.execute(
                select(Task.id, Task.completed_on).where(
                    Task.id.in_(task_ids), Task.completed_on.is_not(None)
                )
            )
        ).all()
    )
    stated = {
        (t, u): (pct, at)
        for t, u, pct, at in (
            await session.execute(
                select(
                    ReportLatest.task_id,
                    ReportLatest.unit_id,
                    ReportLatest.percent,
                    ReportLatest.pct_at,
                ).where(ReportLatest.task_id.in_(task_ids), ReportLatest.percent >= 100)
            )
        ).all()
    }
    out: dict[Pair, datetime] = {}
    for pair in pairs:
        pct, at = stated.get(pair, (None, None))
        when = completed_at(pct, at, marked.get(pair[0]), tz)
        if when is not None:
            out[pair] = when
    return out


async def latest_reports(session: AsyncSession, pairs: Iterable[Pair]) -> dict[Pair, Report]:
    """The newest report (any cycle, newest version) of each (task, unit)."""
    pairs = list(pairs)
    if not pairs:
        return {}
    task_ids = sorted({t for t, _ in pairs})
    newest = (
        select(func.max(Report.id).label("id"))
        .where(Report.task_id.in_(task_ids))
        .group_by(Report.task_id, Report.unit_id)
        .subquery()
    )
    rows = (await session.scalars(select(Report).join(newest, newest.c.id == Report.id))).all()
    wanted = set(pairs)
    return {(r.task_id, r.unit_id): r for r in rows if (r.task_id, r.unit_id) in wanted}


async def history(
    session: AsyncSession, unit_ids: Sequence[int], *, task_id: int | None = None, limit: int = 10
) -> list[Report]:
    """A unit's recent reports, newest first (every version)."""
    query = select(Report).where(Report.unit_id.in_(unit_ids))
    if task_id is not None:
        query = query.where(Report.task_id == task_id)
    return list((await session.scalars(query.order_by(Report.id.desc()).limit(limit))).all())


async def task_history(session: AsyncSession, task_id: int, limit: int = 20) -> list[Report]:
    """A task's recent reports from every unit, newest first."""
    return list(
        (
            await session.scalars(
                select(Report)
                .where(Report.task_id == task_id)
                .order_by(Report.id.desc())
                .limit(limit)
            )
        ).all()
    )


async def latest_version(
    session: AsyncSession, task_id: int, unit_id: int, cycle_key: str
) -> Report | None:
    """The current version of a (task, unit, cycle) report."""
    return await session.scalar(
        select(Report)
        .where(Report.task_id == task_id, Report.unit_id == unit_id, Report.cycle_key == cycle_key)
        .order_by(Report.id.desc())
        .limit(1)
    )


async def tracking_since(session: AsyncSession, year: int) -> datetime | None:
    """When the year's register was first imported: earlier deadlines are not chased."""
    state = await session.get(AppState, f"register_imported:{year}")
    if state is None:
        return None
    return datetime.fromisoformat(str(state.value["at"]))


# --- Drafts -------------------------------------------------------------------------------------


@dataclass(slots=True)
class Draft:
    """A report conversation in progress: a row of report_drafts, changed, then `save_draft`.

    Plain data rather than an ORM object: a report step reads and writes its draft on every
    update, and the ORM's loading and unit of work cost more than the statements themselves
    (bench.updates).
    """

    id: int
    token: str
    tg_user_id: int
    chat_id: int
    contact_id: int | None
    state: str
    task_id: int | None
    unit_id: int | None
    cycle_key: str | None
    text: str | None
    parsed: dict[str, Any] | None
    supersedes_id: int | None
    created_at: datetime
    updated_at: datetime
    expires_at: datetime


_DRAFT_COLUMNS = (
    ReportDraft.id,
    ReportDraft.token,
    ReportDraft.tg_user_id,
    ReportDraft.chat_id,
    ReportDraft.contact_id,
    ReportDraft.state,
    ReportDraft.task_id,
    ReportDraft.unit_id,
    ReportDraft.cycle_key,
    ReportDraft.text,
    ReportDraft.parsed,
    ReportDraft.supersedes_id,
    ReportDraft.created_at,
    ReportDraft.updated_at,
    ReportDraft.expires_at,
)
# Built once (building a statement cost about as much as running it on SQLite).
_DRAFT_OF_USER = select(*_DRAFT_COLUMNS).where(ReportDraft.tg_user_id == bindparam("user_id"))
_DRAFT_BY_TOKEN = select(*_DRAFT_COLUMNS).where(ReportDraft.token == bindparam("token"))
_DRAFTS_EXPIRED = (
    select(*_DRAFT_COLUMNS)
    .where(ReportDraft.expires_at <= bindparam("now"))
    .order_by(ReportDraft.id)
)
_DROP_DRAFTS_OF_USER = delete(ReportDraft).where(ReportDraft.tg_user_id == bindparam("user_id"))
_DROP_DRAFT = delete(ReportDraft).where(ReportDraft.id == bindparam("draft_id"))
_INSERT_DRAFT = insert(ReportDraft).returning(ReportDraft.id)
_SAVE_DRAFT = (
    update(ReportDraft)
    .where(ReportDraft.id == bindparam("draft_id"))
    .values(
        state=bindparam("state"),
        task_id=bindparam("task_id"),
        unit_id=bindparam("unit_id"),
        cycle_key=bindparam("cycle_key"),
        text=bindparam("text"),
        parsed=bindparam("parsed"),
        updated_at=bindparam("updated_at"),
        expires_at=bindparam("expires_at"),
    )
)


def _draft(row: Any) -> Draft:
    return Draft(*row)


async def get_draft(session: AsyncSession, user_id: int) -> Draft | None:
    """The account's open report conversation, if any."""
    conn = await session.connection()
    row = (await conn.execute(_DRAFT_OF_USER, {"user_id": user_id})).first()
    return None if row is None else _draft(row)


async def draft_by_token(session: AsyncSession, token: str) -> Draft | None:
    """A draft by the opaque token its buttons carry."""
    conn = await session.connection()
    row = (await conn.execute(_DRAFT_BY_TOKEN, {"token": token})).first()
    return None if row is None else _draft(row)


async def open_draft(
    session: AsyncSession,
    *,
    user_id: int,
    chat_id: int,
    contact_id: int | None,
    now: datetime,
    expires_at: datetime,
    state: str,
    task_id: int | None = None,
    unit_id: int | None = None,
    text: str | None = None,
    supersedes_id: int | None = None,
    options: list[Any] | None = None,
) -> Draft:
    """Start a new conversation, replacing any open one of the same account."""
    conn = await session.connection()
    await conn.execute(_DROP_DRAFTS_OF_USER, {"user_id": user_id})
    values: dict[str, Any] = {
        "token": secrets.token_hex(8),
        "tg_user_id": user_id,
        "chat_id": chat_id,
        "contact_id": contact_id,
        "state": state,
        "task_id": task_id,
        "unit_id": unit_id,
        "cycle_key": None,
        "text": text,
        "parsed": {"options": options} if options is not None else None,
        "supersedes_id": supersedes_id,
        "created_at": now,
        "updated_at": now,
        "expires_at": expires_at,
    }
    draft_id = (await conn.execute(_INSERT_DRAFT, values)).scalar_one()
    return Draft(id=draft_id, **values)


async def save_draft(session: AsyncSession, draft: Draft) -> None:
    """Write a draft's changes (its step, task, text, understanding and times)."""
    conn = await session.connection()
    await conn.execute(
        _SAVE_DRAFT,
        {
            "draft_id": draft.id,
            "state": draft.state,
            "task_id": draft.task_id,
            "unit_id": draft.unit_id,
            "cycle_key": draft.cycle_key,
            "text": draft.text,
            "parsed": draft.parsed,
            "updated_at": draft.updated_at,
            "expires_at": draft.expires_at,
        },
    )


async def drop_draft(session: AsyncSession, draft: Draft) -> None:
    """End a conversation."""
    conn = await session.connection()
    await conn.execute(_DROP_DRAFT, {"draft_id": draft.id})


async def expired_drafts(session: AsyncSession, now: datetime) -> list[Draft]:
    """Conversations left idle past their time."""
    conn = await session.connection()
    return [_draft(row) for row in await conn.execute(_DRAFTS_EXPIRED, {"now": now})]


@dataclass(frozen=True)
class StoredReport:
    """What the confirmation tells the person about the report just stored."""

    id: int
    task_id: int
    unit_id: int
    cycle_key: str
    version: int


_INSERT_REPORT = insert(Report).returning(Report.id)
_REPORT_VERSION = select(Report.version).where(Report.id == bindparam("report_id"))


async def store_report(
    session: AsyncSession,
    *,
    draft: Draft,
    cycle_key: str,
    now: datetime,
    percent: float | None,
    quantities: list[Any],
    expected: Any,
    difficulties: list[str],
    tg_user_id: int,
) -> StoredReport:
    """Store a confirmed draft as a report (a new version if it corrects an earlier one)."""
    assert draft.task_id is not None and draft.unit_id is not None and draft.text is not None
    conn = await session.connection()
    version = 1
    if draft.supersedes_id is not None:
        old = await conn.scalar(_REPORT_VERSION, {"report_id": draft.supersedes_id})
        version = (old + 1) if old is not None else 1
    report_id = (
        await conn.execute(
            _INSERT_REPORT,
            {
                "task_id": draft.task_id,
                "unit_id": draft.unit_id,
                "cycle_key": cycle_key,
                "contact_id": draft.contact_id,
                "tg_user_id": tg_user_id,
                "text": draft.text,
                "percent": percent,
                "quantities": quantities,
                "expected_date": expected,
                "difficulties": difficulties,
                "version": version,
                "supersedes_id": draft.supersedes_id,
                "source_key": f"draft:{draft.token}",
                "created_at": now,
            },
        )
    ).scalar_one()
    return StoredReport(report_id, draft.task_id, draft.unit_id, cycle_key, version)


async def add_report(
    session: AsyncSession,
    *,
    task_id: int,
    unit_id: int,
    cycle_key: str,
    text: str,
    percent: float | None,
    contact_id: int | None,
    tg_user_id: int,
    source_key: str,
    now: datetime,
) -> int:
    """Store a report written outside the report conversation (a 销号 application); its id."""
    conn = await session.connection()
    return int(
        (
            await conn.execute(
                _INSERT_REPORT,
                {
                    "task_id": task_id,
                    "unit_id": unit_id,
                    "cycle_key": cycle_key,
                    "contact_id": contact_id,
                    "tg_user_id": tg_user_id,
                    "text": text,
                    "percent": percent,
                    "quantities": [],
                    "expected_date": None,
                    "difficulties": [],
                    "version": 1,
                    "supersedes_id": None,
                    "source_key": source_key,
                    "created_at": now,
                },
            )
        ).scalar_one()
    )


async def report_by_source(session: AsyncSession, source_key: str) -> Report | None:
    """The report a draft became, if it was already confirmed."""
    return await session.scalar(select(Report).where(Report.source_key == source_key))
