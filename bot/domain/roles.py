"""Who a Telegram account is: roles and the principal checked on every action.

Glossary: 联络员 liaison (a unit's contact person; a unit may have a main and a deputy),
督导办 supervision office, 分管领导 supervising leader, 管理员 admin (the office's IT staff).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Role(StrEnum):
    """A role a contact row grants."""

    LIAISON = "liaison"
    OFFICE = "office"
    LEADER = "leader"
    ADMIN = "admin"


ROLE_LABELS: dict[Role, str] = {
    Role.LIAISON: "联络员",
    Role.OFFICE: "督导办",
    Role.LEADER: "分管领导",
    Role.ADMIN: "管理员",
}


@dataclass(frozen=True)
class UnitRef:
    """A unit by id and name."""

    id: int
    name: str


@dataclass(frozen=True)
class LeaderRef:
    """A leader by id and name."""

    id: int
    name: str


@dataclass(frozen=True)
class Principal:
    """The roles one Telegram account holds right now (active contact rows only)."""

    user_id: int
    units: tuple[UnitRef, ...] = ()
    leaders: tuple[LeaderRef, ...] = ()
    office: bool = False
    admin: bool = False

    @property
    def roles(self) -> frozenset[Role]:
        """Every role held."""
        roles: set[Role] = set()
        if self.units:
            roles.add(Role.LIAISON)
        if self.leaders:
            roles.add(Role.LEADER)
        if self.office:
            roles.add(Role.OFFICE)
        if self.admin:
            roles.add(Role.ADMIN)
        return frozenset(roles)

    @property
    def bound(self) -> bool:
        """True if the account holds any role."""
        return bool(self.roles)

    def may(self, allowed: frozenset[Role]) -> bool:
        """True if any held role is in `allowed` (an empty set admits everyone)."""
        return not allowed or bool(self.roles & allowed)

    def unit_ids(self) -> frozenset[int]:
        """Units this account is a liaison of."""
        return frozenset(u.id for u in self.units)

    def leader_ids(self) -> frozenset[int]:
        """Leaders this account is bound to."""
        return frozenset(x.id for x in self.leaders)


@dataclass(frozen=True)
class NewInvite:
    """A created invite: the code is shown once and never stored."""

    code: str
    invite_id: int
    role: Role
    unit: UnitRef | None
    leader: LeaderRef | None
    expires_at: datetime
    deputy: bool = False


@dataclass(frozen=True)
class ContactView:
    """A contact as the admin sees it."""

    id: int
    name: str
    username: str | None
    role: Role
    unit: str | None
    leader: str | None
    deputy: bool
    reachable: bool
    since: datetime


def invite_link(bot_username: str, code: str) -> str:
    """The deep link that binds an account."""
    return f"https://t.me/{bot_username}?start={code}"
