"""The ledger (督查台账) as plain data: one row per task in the notice's columns plus progress.

Decision: a task's percentage in the ledger is the lowest latest percentage among its lead
units (a task is as far as its slowest lead unit); its expected date is the latest one they gave.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import date

from bot.domain.boards import Board, CountingCalendar
from bot.domain.model import ExtensionNote, ReportInfo
from bot.domain.status import (
    Status,
)
from bot.domain.workcal import WorkCalendar

# --- Ledger -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LedgerRow:
    """One task in the ledger (督查台账): the notice's columns and the progress columns."""

    no: int
    section: str
    subsection: str | None
    text: str
    lead: tuple[str, ...]  # the notice's spellings
    responsible: tuple[str, ...]
    leaders: tuple[str, ...]
    latest: tuple[tuple[str, ReportInfo], ...]  # (unit, newest report), lead units first
    percent: float | None
    expected: date | None
    status: Status
    overdue_workdays: int | None
    nudges: int
    unacknowledged: tuple[str, ...]  # lead units that have not acknowledged (签收) it
    evidence: int = 0  # files attached to it (佐证材料), by every unit
    extensions: tuple[ExtensionNote, ...] = ()  # 延期申请 on the task, oldest first
    returns: int = 0  # reports returned (退回重报), all units
    closures: tuple[tuple[str, str], ...] = ()  # (lead unit, 销号 state) of those that applied
    closed: bool = False  # every lead unit's part is closed (销号)


def ledger_rows(
    boards: Sequence[Board],
    statuses: Mapping[int, Status],
    nudges: Mapping[int, int],
    calendar: WorkCalendar,
    today: date,
    acknowledged: AbstractSet[tuple[int, int]] = frozenset(),
    evidence: Mapping[int, int] | None = None,
    returns: Mapping[tuple[int, int], int] | None = None,
    closures: Mapping[tuple[int, int], str] | None = None,
    extensions: Mapping[int, Sequence[ExtensionNote]] | None = None,
) -> list[LedgerRow]:
    """One ledger row per task, by 序号 (`acknowledged`: the (task, unit) parts acknowledged;
    `evidence`: how many files (佐证材料) each task has; `returns`: how often each part's
    reports were returned; `closures`: each part's 销号 state; `extensions`: each task's
    延期申请)."""
    returns = returns or {}
    closures = closures or {}
    counter = CountingCalendar(calendar)
    rows = []
    for board in sorted(boards, key=lambda b: b.task.no):
        task = board.task
        leads = [s for s in board.units if s.unit.lead]
        percents = [s.latest.percent for s in leads if s.latest and s.latest.percent is not None]
        expected = [s.latest.expected for s in leads if s.latest and s.latest.expected is not None]
        missed = [
            counter.workdays_between(s.missed.deadline, today)
            for s in board.units
            if s.missed is not None
        ]
        ordered = sorted(
            (s for s in board.units if s.latest is not None), key=lambda s: not s.unit.lead
        )
        rows.append(
            LedgerRow(
                no=task.no,
                section=task.section,
                subsection=task.subsection,
                text=task.text,
                lead=task.lead_labels,
                responsible=task.responsible_labels,
                leaders=task.leader_names,
                latest=tuple((s.unit.name, s.latest.report) for s in ordered if s.latest),
                percent=min(percents) if percents else None,
                expected=max(expected) if expected else None,
                status=statuses[task.id],
                overdue_workdays=max(missed) if missed else None,
                nudges=nudges.get(task.id, 0),
                unacknowledged=tuple(
                    s.unit.name for s in leads if (task.id, s.unit.unit_id) not in acknowledged
                ),
                evidence=(evidence or {}).get(task.id, 0),
                extensions=tuple((extensions or {}).get(task.id, ())),
                returns=sum(returns.get((task.id, s.unit.unit_id), 0) for s in board.units),
                closures=tuple(
                    (s.unit.name, closures[(task.id, s.unit.unit_id)])
                    for s in leads
                    if (task.id, s.unit.unit_id) in closures
                ),
                closed=bool(leads)
                and all(closures.get((task.id, s.unit.unit_id)) == "closed" for s in leads),
            )
        )
    return rows
