"""Whose report texts a person may read on a task (the one rule for cards and histories).

The office, the supervising leaders and the admins read every unit's reports. A liaison reads
their own unit's; a lead unit's liaison also reads the co-responsible units' reports on the
tasks it leads (it coordinates them), not another lead unit's. A co-responsible unit sees the
task's overall status, not the other units' texts (a lead unit may write what is not for
everyone: 资金缺口…暂勿外传); nor does one town read another's on a task given to all towns.
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.domain.model import UnitOnTask
from bot.domain.roles import Principal


def readable_units(principal: Principal, units: Iterable[UnitOnTask]) -> frozenset[int] | None:
    """The units whose reports `principal` may read on a task with these units; None: all."""
    if principal.office or principal.admin or principal.leaders:
        return None
    mine = principal.unit_ids()
    units = list(units)
    if any(u.lead and u.unit_id in mine for u in units):
        return mine | {u.unit_id for u in units if not u.lead}
    return mine
