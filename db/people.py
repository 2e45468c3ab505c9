"""Queries about people: contacts, invites, the audit log, registered groups."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, bindparam, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute

from bot.domain.redaction import redact
from bot.domain.roles import ContactView, LeaderRef, NewInvite, Principal, Role, UnitRef
from db.engine import core_connection
from db.models import AuditEntry, Contact, Invite, Leader, Unit, UnitAlias, WorkGroup

CODE_BYTES = 18  # 144 random bits; base64url gives 24 characters, within /start's 64


def hash_code(code: str) -> str:
    """The stored form of an invite code."""
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Account:
    """A Telegram account as an update needs it: its roles and the state of its contact rows."""

    principal: Principal
    liaison_contacts: tuple[tuple[int, int], ...] = ()  # (contact id, unit id), active, by id
    unreachable: bool = False  # a contact row of the account (active or not) is unreachable

    def liaison_contact_id(self, unit_ids: Iterable[int]) -> int | None:
        """The account's active contact row for one of `unit_ids` (as `liaison_contact_id`)."""
        wanted = set(unit_ids)
        return next((cid for cid, uid in self.liaison_contacts if uid in wanted), None)


AnySelect = TypeVar("AnySelect", bound=Select[*tuple[Any, ...]])

# An account's contact rows: `account_from_rows` reads them in this order.
ACCOUNT_COLUMNS = (
    Contact.id,
    Contact.role,
    Contact.active,
    Contact.reachable,
    Contact.unit_id,
    Unit.name,
    Leader.id,
    Leader.name,
)


def _with_names(query: AnySelect) -> AnySelect:
    """`query` (which has Contact) with each contact row's unit and leader, by contact id."""
    return (
        query.outerjoin(Unit, Unit.id == Contact.unit_id)
        .outerjoin(Leader, Leader.id == Contact.leader_id)
        .order_by(Contact.id)
    )


def join_account(
    query: Select[Any], user_id: ColumnElement[Any] | QueryableAttribute[Any]
) -> Select[Any]:
    """`query` with the contact rows (ACCOUNT_COLUMNS) of the account `user_id`, outer-joined."""
    return _with_names(query.outerjoin(Contact, Contact.tg_user_id == user_id))


# Built once: it runs for every update (building it cost as much as running it).
_ACCOUNT = _with_names(select(*ACCOUNT_COLUMNS).where(Contact.tg_user_id == bindparam("user_id")))


async def account(session: AsyncSession, user_id: int) -> Account:
    """Roles, liaison contact rows and reachability of an account, in one query."""
    conn = await core_connection(session)  # roles changed in this update included
    return account_from_rows(user_id, (await conn.execute(_ACCOUNT, {"user_id": user_id})).all())


def account_from_rows(user_id: int, rows: Iterable[Sequence[Any]]) -> Account:
    """An account from its contact rows as `_ACCOUNT` selects them (ordered by contact id)."""
    units: list[UnitRef] = []
    leaders: list[LeaderRef] = []
    contacts: list[tuple[int, int]] = []
    office = admin = unreachable = False
    for contact_id, role, active, reachable, unit_id, unit_name, leader_id, leader_name in rows:
        if contact_id is None:  # an outer join that found no contact row
            continue
        unreachable = unreachable or not reachable
        if not active:
            continue
        if unit_id is not None:
            contacts.append((contact_id, unit_id))
        if role == Role.LIAISON and unit_id is not None:
            units.append(UnitRef(unit_id, unit_name))
        elif role == Role.LEADER and leader_id is not None:
            leaders.append(LeaderRef(leader_id, leader_name))
        elif role == Role.OFFICE:
            office = True
        elif role == Role.ADMIN:
            admin = True
    principal = Principal(
        user_id=user_id, units=tuple(units), leaders=tuple(leaders), office=office, admin=admin
    )
    return Account(principal, tuple(contacts), unreachable)


async def principal(session: AsyncSession, user_id: int) -> Principal:
    """The roles an account holds now, from its active contact rows."""
    return (await account(session, user_id)).principal


_AUDIT = insert(AuditEntry)  # built once: every refusal and every report is audited


async def audit(
    session: AsyncSession,
    *,
    at: datetime,
    actor: int | None,
    action: str,
    target: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append to the audit log (never pass a token or an invite code here)."""
    conn = await session.connection()
    await conn.execute(
        _AUDIT,
        {"at": at, "actor_user_id": actor, "action": action, "target": target, "detail": detail},
    )


async def recent_actions(session: AsyncSession, *, actor: int, action: str, since: datetime) -> int:
    """How many times `actor` did `action` since `since` (e.g. failed binds)."""
    count = await session.scalar(
        select(func.count())
        .select_from(AuditEntry)
        .where(
            AuditEntry.actor_user_id == actor,
            AuditEntry.action == action,
            AuditEntry.at >= since,
        )
    )
    return int(count or 0)


# --- Invites ------------------------------------------------------------------------------------


async def create_invite(
    session: AsyncSession,
    *,
    role: Role,
    now: datetime,
    ttl: timedelta,
    unit: UnitRef | None = None,
    leader: LeaderRef | None = None,
    deputy: bool = False,
    created_by: int | None = None,
    keep_older: bool = False,
) -> NewInvite:
    """Create a single-use invite and return its code (stored only as a hash).

    A new link replaces the open links for the same role and unit, leader or deputy seat (and
    an admin link every open admin link): they are revoked unless `keep_older`. Office links
    are for several people, so they are kept.
    """
    if role == Role.LIAISON and unit is None:
        raise ValueError("a liaison invite needs a unit")
    if role == Role.LEADER and leader is None:
        raise ValueError("a leader invite needs a leader")
    if not keep_older and role != Role.OFFICE:
        same: list[ColumnElement[bool]] = [
            Invite.role == role.value,
            Invite.used_at.is_(None),
            Invite.revoked_at.is_(None),
            Invite.expires_at > now,
        ]
        if role != Role.ADMIN:
            same.append(Invite.unit_id == unit.id if unit else Invite.unit_id.is_(None))
            same.append(Invite.leader_id == leader.id if leader else Invite.leader_id.is_(None))
            same.append(Invite.deputy.is_(deputy))
        await session.execute(update(Invite).where(*same).values(revoked_at=now))
    code = secrets.token_urlsafe(CODE_BYTES)
    invite = Invite(
        code_hash=hash_code(code),
        role=role.value,
        unit_id=unit.id if unit else None,
        leader_id=leader.id if leader else None,
        deputy=deputy,
        created_by_user_id=created_by,
        created_at=now,
        expires_at=now + ttl,
    )
    session.add(invite)
    await session.flush()
    await audit(
        session,
        at=now,
        actor=created_by,
        action="invite_created",
        target=_target_label(role, unit, leader),
        detail={"invite_id": invite.id, "deputy": deputy},
    )
    return NewInvite(code, invite.id, role, unit, leader, invite.expires_at, deputy)


@dataclass(frozen=True)
class OpenInvite:
    """An invite that can still bind someone: not used, not revoked, not expired."""

    id: int
    role: Role
    target: str  # the unit or leader, or ""
    deputy: bool
    created_at: datetime
    expires_at: datetime


async def open_invites(session: AsyncSession, now: datetime, limit: int = 200) -> list[OpenInvite]:
    """The invites that can still bind someone, newest first."""
    rows = (
        await session.execute(
            select(Invite, Unit.name, Leader.name)
            .outerjoin(Unit, Unit.id == Invite.unit_id)
            .outerjoin(Leader, Leader.id == Invite.leader_id)
            .where(Invite.used_at.is_(None), Invite.revoked_at.is_(None), Invite.expires_at > now)
            .order_by(Invite.id.desc())
            .limit(limit)
        )
    ).all()
    return [
        OpenInvite(i.id, Role(i.role), unit or leader or "", i.deputy, i.created_at, i.expires_at)
        for i, unit, leader in rows
    ]


async def revoke_invites(
    session: AsyncSession, *, now: datetime, by: int | None, ids: Sequence[int] | None = None
) -> int:
    """Revoke the open invites with these ids (all open invites when `ids` is None)."""
    condition = [Invite.used_at.is_(None), Invite.revoked_at.is_(None), Invite.expires_at > now]
    if ids is not None:
        condition.append(Invite.id.in_(sorted(ids)))
    result = await session.execute(update(Invite).where(*condition).values(revoked_at=now))
    count = int(getattr(result, "rowcount", 0) or 0)
    if count:
        await audit(
            session, at=now, actor=by, action="invites_revoked",
            detail={"ids": sorted(ids) if ids is not None else "all", "count": count},
        )  # fmt: skip
    return count


async def burn_invite(session: AsyncSession, *, code: str, now: datetime) -> bool:
    """Revoke the open invite with this code (a code tried while its sender is throttled must
    not stay usable by someone else). True if there was one."""
    result = await session.execute(
        update(Invite)
        .where(
            Invite.code_hash == hash_code(code),
            Invite.used_at.is_(None),
            Invite.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0) == 1


def _target_label(role: Role, unit: UnitRef | None, leader: LeaderRef | None) -> str:
    if unit is not None:
        return f"{role.value}:{unit.name}"
    if leader is not None:
        return f"{role.value}:{leader.name}"
    return role.value


class BindOutcome(StrEnum):
    """Why a /start code did or did not bind."""

    BOUND = "bound"
    ALREADY = "already"  # this account already holds exactly this role
    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"
    REVOKED = "revoked"


@dataclass(frozen=True)
class BindResult:
    """The outcome of redeeming a code."""

    outcome: BindOutcome
    role: Role | None = None
    unit: UnitRef | None = None
    leader: LeaderRef | None = None
    deputy: bool = False


async def redeem_invite(
    session: AsyncSession,
    *,
    code: str,
    user_id: int,
    chat_id: int,
    name: str,
    username: str | None,
    now: datetime,
) -> BindResult:
    """Bind the account with `code` if it is valid; one statement decides who wins a race."""
    invite = await session.scalar(select(Invite).where(Invite.code_hash == hash_code(code)))
    if invite is None:
        return BindResult(BindOutcome.UNKNOWN)
    if invite.revoked_at is not None:
        return BindResult(BindOutcome.REVOKED)
    if invite.used_at is not None:
        return BindResult(BindOutcome.USED)
    if invite.expires_at <= now:
        return BindResult(BindOutcome.EXPIRED)
    # Claim the invite atomically: a concurrent redeemer updates zero rows and loses.
    claimed = await session.execute(
        update(Invite)
        .where(Invite.id == invite.id, Invite.used_at.is_(None))
        .values(used_at=now, used_by_user_id=user_id)
    )
    if getattr(claimed, "rowcount", 0) != 1:
        return BindResult(BindOutcome.USED)
    role = Role(invite.role)
    unit = leader = None
    if invite.unit_id is not None:
        unit_row = await session.get_one(Unit, invite.unit_id)
        unit = UnitRef(unit_row.id, unit_row.name)
    if invite.leader_id is not None:
        leader_row = await session.get_one(Leader, invite.leader_id)
        leader = LeaderRef(leader_row.id, leader_row.name)
    same_role = [
        Contact.tg_user_id == user_id,
        Contact.active.is_(True),
        Contact.role == role.value,
    ]
    if invite.unit_id is not None:
        same_role.append(Contact.unit_id == invite.unit_id)
    if invite.leader_id is not None:
        same_role.append(Contact.leader_id == invite.leader_id)
    existing = await session.scalar(select(Contact).where(*same_role))
    if existing is not None:
        existing.chat_id = chat_id
        existing.reachable = True
        return BindResult(BindOutcome.ALREADY, role, unit, leader, existing.deputy)
    # A unit has one main liaison: if someone else took that seat since the invite was made
    # (the admin asks "replace or deputy" when making one), this one becomes a deputy.
    deputy = invite.deputy
    if role == Role.LIAISON and not deputy and invite.unit_id is not None:
        main = await session.scalar(
            select(Contact.id).where(
                Contact.role == Role.LIAISON.value,
                Contact.unit_id == invite.unit_id,
                Contact.active.is_(True),
                Contact.deputy.is_(False),
            )
        )
        deputy = main is not None
    session.add(
        Contact(
            tg_user_id=user_id,
            chat_id=chat_id,
            name=name,
            username=username,
            role=role.value,
            unit_id=invite.unit_id,
            leader_id=invite.leader_id,
            deputy=deputy,
            created_at=now,
        )
    )
    await session.flush()
    await audit(
        session,
        at=now,
        actor=user_id,
        action="bind",
        target=_target_label(role, unit, leader),
        detail={"invite_id": invite.id, "deputy": deputy},
    )
    return BindResult(BindOutcome.BOUND, role, unit, leader, deputy)


# --- Contacts -----------------------------------------------------------------------------------


async def list_contacts(session: AsyncSession) -> list[ContactView]:
    """Active contacts, by role then unit/leader name."""
    rows = (
        await session.execute(
            select(Contact, Unit.name, Leader.name)
            .outerjoin(Unit, Unit.id == Contact.unit_id)
            .outerjoin(Leader, Leader.id == Contact.leader_id)
            .where(Contact.active.is_(True))
            .order_by(Contact.role, Unit.name, Leader.name, Contact.id)
        )
    ).all()
    return [
        ContactView(
            c.id, c.name, c.username, Role(c.role), u, x, c.deputy, c.reachable, c.created_at
        )
        for c, u, x in rows
    ]


async def get_contact(session: AsyncSession, contact_id: int) -> ContactView | None:
    """One active contact."""
    views = [v for v in await list_contacts(session) if v.id == contact_id]
    return views[0] if views else None


async def deactivate_contact(
    session: AsyncSession, *, contact_id: int, now: datetime, reason: str, actor: int | None
) -> Contact | None:
    """Revoke a binding: the account loses that role at once."""
    contact = await session.get(Contact, contact_id)
    if contact is None or not contact.active:
        return None
    contact.active = False
    contact.deactivated_at = now
    contact.deactivated_reason = reason
    await audit(
        session,
        at=now,
        actor=actor,
        action=f"contact_{reason}",
        target=f"contact:{contact_id}",
        detail={"role": contact.role, "unit_id": contact.unit_id, "leader_id": contact.leader_id},
    )
    return contact


async def purge_audit(session: AsyncSession, older_than: datetime) -> int:
    """Forget audit entries made before `older_than`."""
    result = await session.execute(delete(AuditEntry).where(AuditEntry.at < older_than))
    return int(getattr(result, "rowcount", 0) or 0)


async def mark_unreachable(
    session: AsyncSession, *, chat_id: int, now: datetime, error: str
) -> list[Contact]:
    """A 403 from Telegram: the person blocked the bot; their contacts cannot be reminded.

    Each contact is claimed with a conditional UPDATE, so two senders seeing the same 403 at
    once (two processes) mark and report it only once.
    """
    candidates = (
        await session.scalars(
            select(Contact).where(
                Contact.chat_id == chat_id, Contact.active.is_(True), Contact.reachable.is_(True)
            )
        )
    ).all()
    marked: list[Contact] = []
    for contact in candidates:
        claimed = await session.execute(
            update(Contact)
            .where(Contact.id == contact.id, Contact.reachable.is_(True))
            .values(reachable=False)
            .execution_options(synchronize_session=False)
        )
        if getattr(claimed, "rowcount", 0) != 1:
            continue
        contact.reachable = False
        marked.append(contact)
        await audit(
            session,
            at=now,
            actor=None,
            action="contact_unreachable",
            target=f"contact:{contact.id}",
            detail={"error": redact(error)[:200]},
        )
    return marked


async def mark_reachable(session: AsyncSession, *, user_id: int) -> None:
    """The person wrote to the bot again: they can be reached."""
    await session.execute(
        update(Contact)
        .where(Contact.tg_user_id == user_id, Contact.reachable.is_(False))
        .values(reachable=True)
    )


async def contacts_for_units(
    session: AsyncSession, unit_ids: Sequence[int]
) -> dict[int, list[Contact]]:
    """Active liaisons per unit (reachable or not: callers that send filter on `reachable`)."""
    out: dict[int, list[Contact]] = {u: [] for u in unit_ids}
    if not unit_ids:
        return out
    rows = (
        await session.scalars(
            select(Contact)
            .where(
                Contact.role == Role.LIAISON.value,
                Contact.active.is_(True),
                Contact.unit_id.in_(unit_ids),
            )
            .order_by(Contact.deputy, Contact.id)
        )
    ).all()
    for c in rows:
        if c.unit_id is not None:
            out[c.unit_id].append(c)
    return out


async def liaison_contact_id(
    session: AsyncSession, *, user_id: int, unit_ids: Iterable[int]
) -> int | None:
    """The account's active liaison contact row for one of `unit_ids`."""
    return await session.scalar(
        select(Contact.id)
        .where(
            Contact.tg_user_id == user_id,
            Contact.active.is_(True),
            Contact.unit_id.in_(list(unit_ids)),
        )
        .limit(1)
    )


async def contacts_with_role(session: AsyncSession, role: Role) -> list[Contact]:
    """Active contacts holding `role`."""
    return list(
        (
            await session.scalars(
                select(Contact)
                .where(Contact.role == role.value, Contact.active.is_(True))
                .order_by(Contact.id)
            )
        ).all()
    )


async def count_admins(session: AsyncSession) -> int:
    """Active admin contacts."""
    n = await session.scalar(
        select(func.count())
        .select_from(Contact)
        .where(Contact.role == Role.ADMIN.value, Contact.active.is_(True))
    )
    return int(n or 0)


# --- Units and leaders --------------------------------------------------------------------------


async def find_unit(session: AsyncSession, name: str) -> UnitRef | None:
    """A reportable unit (not a group) by its name or an alias."""
    unit = await session.scalar(select(Unit).where(Unit.name == name, Unit.kind != "group"))
    if unit is None:
        alias = await session.scalar(select(UnitAlias).where(UnitAlias.alias == name))
        if alias is not None:
            unit = await session.get(Unit, alias.unit_id)
    if unit is None or unit.kind == "group":
        return None
    return UnitRef(unit.id, unit.name)


async def find_leader(session: AsyncSession, name: str) -> LeaderRef | None:
    """A leader by name."""
    leader = await session.scalar(select(Leader).where(Leader.name == name))
    return LeaderRef(leader.id, leader.name) if leader else None


async def reportable_units(session: AsyncSession) -> list[UnitRef]:
    """Every unit that can have a liaison (groups excluded), by name."""
    rows = (
        await session.scalars(select(Unit).where(Unit.kind != "group", Unit.active.is_(True)))
    ).all()
    # Sorted here, not in SQL: the order must not depend on the database's collation.
    return sorted((UnitRef(u.id, u.name) for u in rows), key=lambda u: u.name)


async def units_in_order(session: AsyncSession) -> list[tuple[UnitRef, str]]:
    """Every unit that can have a liaison with its register kind, in the notice's order (units
    are imported in the order the notice first names them)."""
    rows = (
        await session.scalars(
            select(Unit).where(Unit.kind != "group", Unit.active.is_(True)).order_by(Unit.id)
        )
    ).all()
    return [(UnitRef(u.id, u.name), u.kind) for u in rows]


async def all_leaders(session: AsyncSession) -> list[LeaderRef]:
    """Every leader, by id (the notice's order of first appearance)."""
    rows = (await session.scalars(select(Leader).order_by(Leader.id))).all()
    return [LeaderRef(x.id, x.name) for x in rows]


# --- Groups -------------------------------------------------------------------------------------


async def register_group(
    session: AsyncSession, *, chat_id: int, title: str, by: int, now: datetime
) -> None:
    """Register a group chat for the daily 通报."""
    group = await session.get(WorkGroup, chat_id)
    if group is None:
        session.add(
            WorkGroup(chat_id=chat_id, title=title, registered_by_user_id=by, registered_at=now)
        )
    else:
        group.active = True
        group.title = title
    await audit(session, at=now, actor=by, action="group_registered", target=f"chat:{chat_id}")


async def unregister_group(session: AsyncSession, *, chat_id: int, now: datetime) -> None:
    """The bot left or was removed from a group."""
    group = await session.get(WorkGroup, chat_id)
    if group is not None and group.active:
        group.active = False
        await audit(session, at=now, actor=None, action="group_left", target=f"chat:{chat_id}")


async def is_registered_group(session: AsyncSession, chat_id: int) -> bool:
    """True if an admin registered this group."""
    group = await session.get(WorkGroup, chat_id)
    return group is not None and group.active


async def active_contact_ids(session: AsyncSession, contact_ids: Iterable[int]) -> set[int]:
    """Those of the contacts still bound and active."""
    ids = sorted(set(contact_ids))
    if not ids:
        return set()
    rows = await session.scalars(
        select(Contact.id).where(Contact.id.in_(ids), Contact.active.is_(True))
    )
    return set(rows.all())


async def active_groups(session: AsyncSession) -> list[WorkGroup]:
    """Registered, active work groups."""
    return list((await session.scalars(select(WorkGroup).where(WorkGroup.active.is_(True)))).all())
