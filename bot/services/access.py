"""Who may use the bot: binding with an invite code (throttled), what a new person is told,
invites, and revoking or replacing a binding. Plain values in and out; handlers render.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.deadlines import next_due, rule_for
from bot.domain.roles import ContactView, LeaderRef, NewInvite, Role, UnitRef
from bot.domain.units import category_of
from bot.services import reporting
from bot.services.desk import Desk
from db import people, tasks
from db.models import Contact
from db.people import BindOutcome, BindResult

CODE = re.compile(r"[A-Za-z0-9_\-]{16,64}")  # the shape of an invite code
FAIL_WINDOW = timedelta(minutes=15)
FAIL_LIMIT = 5  # failed codes per window before every code is refused
BIND_FAILURES = {BindOutcome.UNKNOWN, BindOutcome.USED, BindOutcome.EXPIRED, BindOutcome.REVOKED}


async def bind(
    desk: Desk, *, code: str, user_id: int, chat_id: int, name: str, username: str | None
) -> BindResult | None:
    """Redeem an invite code for an account; None if the account tried too many wrong codes.

    A code refused for that reason is burnt: one seen by someone guessing must not bind anyone
    later. Every failure is audited.
    """
    session, now = desk.session, desk.now
    failures = await people.recent_actions(
        session, actor=user_id, action="bind_failed", since=now - FAIL_WINDOW
    )
    if failures >= FAIL_LIMIT:
        await people.audit(session, at=now, actor=user_id, action="bind_throttled")
        if CODE.fullmatch(code):
            await people.burn_invite(session, code=code, now=now)
        return None
    if not CODE.fullmatch(code):
        result = BindResult(BindOutcome.UNKNOWN)
    else:
        result = await people.redeem_invite(
            session,
            code=code,
            user_id=user_id,
            chat_id=chat_id,
            name=name[:200],
            username=username,
            now=now,
        )
    if result.outcome in BIND_FAILURES:
        await people.audit(
            session, at=now, actor=user_id, action="bind_failed", detail={"why": result.outcome}
        )
    return result


@dataclass(frozen=True)
class Welcome:
    """What a newly bound liaison is told: the unit's tasks and the next deadline."""

    unit: str
    lead: list[tuple[int, str]]  # (序号, text)
    responsible: list[tuple[int, str]]
    due: datetime | None  # the next deadline
    deputy: bool


async def liaison_welcome(desk: Desk, unit: UnitRef, year: int, deputy: bool) -> Welcome:
    """The unit's lead and co-responsible tasks of `year` and its next reporting deadline."""
    mine = await reporting.unit_tasks(desk, unit.id, year)
    lead = [t for t in mine if (part := t.part(unit.id)) is not None and part.lead]
    responsible = [t for t in mine if t not in lead]
    settings = desk.settings
    due = next_due(
        (rule_for(t.cycle_kind, t.cycle_dates, settings) for t in lead if not t.completed_on),
        desk.now,
        year,
        settings,
        desk.calendar,
    )
    return Welcome(
        unit.name,
        [(t.no, t.text) for t in lead],
        [(t.no, t.text) for t in responsible],
        due,
        deputy,
    )


async def leader_task_count(desk: Desk, leader: LeaderRef, year: int) -> int:
    """How many tasks of `year` a leader supervises."""
    return await tasks.leader_task_count(desk.session, leader.id, year)


async def new_invite(
    desk: Desk,
    role: Role,
    *,
    unit: UnitRef | None = None,
    leader: LeaderRef | None = None,
    deputy: bool = False,
    by: int | None = None,
) -> NewInvite:
    """A single-use invite valid for the configured time (replacing the same seat's open one)."""
    return await people.create_invite(
        desk.session,
        role=role,
        now=desk.now,
        ttl=timedelta(hours=desk.settings.invite_ttl_hours),
        unit=unit,
        leader=leader,
        deputy=deputy,
        created_by=by,
    )


@dataclass(frozen=True, slots=True)
class UnitChoice:
    """A unit an invite can be for: its kind (bot.domain.units.CATEGORIES) and its liaisons."""

    unit: UnitRef
    category: str
    liaisons: tuple[ContactView, ...]  # active, the main liaison first


async def unit_choices(desk: Desk) -> list[UnitChoice]:
    """Every unit that can have a liaison, in the notice's order, with its liaisons."""
    units = await people.units_in_order(desk.session)
    views = [v for v in await people.list_contacts(desk.session) if v.role == Role.LIAISON]
    by_unit: dict[str, list[ContactView]] = {}
    for v in sorted(views, key=lambda v: (v.deputy, v.since, v.id)):
        if v.unit is not None:
            by_unit.setdefault(v.unit, []).append(v)
    return [
        UnitChoice(unit, category_of(kind, unit.name), tuple(by_unit.get(unit.name, ())))
        for unit, kind in units
    ]


async def find_invite_targets(
    desk: Desk, text: str, *, most: int = 12
) -> tuple[list[UnitRef], list[LeaderRef]]:
    """Units and leaders whose name (or a unit's alias) contains `text`, spaces ignored."""
    needle = "".join(text.split())
    if not needle:
        return [], []
    units = [u for u, _ in await people.units_in_order(desk.session) if needle in u.name]
    alias = await people.find_unit(desk.session, needle)
    if alias is not None and all(u.id != alias.id for u in units):
        units.insert(0, alias)
    leaders = [
        x for x in await people.all_leaders(desk.session) if needle in "".join(x.name.split())
    ]
    return units[:most], leaders[:most]


async def revoke(desk: Desk, view: ContactView, *, by: int) -> Contact | None:
    """Revoke a binding: the account loses the role at once (None if it was not active)."""
    return await people.deactivate_contact(
        desk.session, contact_id=view.id, now=desk.now, reason="revoked", actor=by
    )


async def replace_liaison(
    desk: Desk, view: ContactView, *, by: int
) -> tuple[NewInvite, Contact | None] | None:
    """Revoke a liaison's binding and invite someone for the same unit and seat.

    None if the contact is not a liaison of a known unit.
    """
    if view.role != Role.LIAISON or view.unit is None:
        return None
    unit = await people.find_unit(desk.session, view.unit)
    if unit is None:
        return None
    contact = await people.deactivate_contact(
        desk.session, contact_id=view.id, now=desk.now, reason="replaced", actor=by
    )
    invite = await new_invite(desk, Role.LIAISON, unit=unit, deputy=view.deputy, by=by)
    return invite, contact


async def group_joined(desk: Desk, *, chat_id: int, title: str, by: int, allowed: bool) -> bool:
    """The bot was added to a group: kept as the work group if an admin or the office added it
    (`allowed`); otherwise the attempt is audited and False says to leave."""
    if allowed:
        await people.register_group(
            desk.session, chat_id=chat_id, title=title[:200], by=by, now=desk.now
        )
        return True
    await people.audit(
        desk.session, at=desk.now, actor=by, action="denied", target=f"group_join:{chat_id}"
    )
    return False


async def group_left(desk: Desk, chat_id: int) -> None:
    """The bot left or was removed from a group."""
    await people.unregister_group(desk.session, chat_id=chat_id, now=desk.now)
