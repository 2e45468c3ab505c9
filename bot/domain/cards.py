"""A task card as plain data: the board, the status, each target's newest quantity.

Decision: the quantities on a card are those of each unit's newest report (lead units first).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from bot.domain.boards import Board, CycleBook, Standing
from bot.domain.model import Target
from bot.domain.status import (
    CycleDue,
    Status,
)

# --- Task card ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TargetLine:
    """A target and the newest quantity a unit reported against it."""

    target: Target
    value: float | None = None
    unit: str | None = None
    percent: float | None = None
    by: str | None = None
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Card:
    """Everything a task card shows."""

    board: Board
    status: Status
    targets: tuple[TargetLine, ...]
    current: CycleDue | None
    history_count: int
    nudged_today: frozenset[int] = frozenset()  # unit ids
    restricted: bool = False  # only some units' reports shown (bot.domain.visibility)

    @property
    def nudgeable(self) -> tuple[Standing, ...]:
        """Owing units with a cycle to urge now that were not nudged today."""
        return tuple(
            s
            for s in self.board.units
            if s.nudge is not None and s.unit.unit_id not in self.nudged_today
        )


def target_lines(board: Board) -> tuple[TargetLine, ...]:
    """Each target with the newest matching quantity among the units' newest reports."""
    reports = [s.latest.report for s in board.units if s.latest is not None]
    reports.sort(key=lambda r: r.created_at, reverse=True)
    out = []
    for target in board.task.targets:
        line = TargetLine(target)
        for report in reports:
            q = next((q for q in report.quantities if q.metric == target.metric), None)
            if q is not None:
                line = TargetLine(
                    target, q.value, q.unit, q.percent_of_target, report.unit, report.created_at
                )
                break
        out.append(line)
    return tuple(out)


def build_card(
    board: Board,
    status: Status,
    book: CycleBook,
    history_count: int,
    nudged_today: Iterable[int] = (),
    readable: frozenset[int] | None = None,
) -> Card:
    """A task card from its board and status; `readable`: the only units whose reports (and
    the figures read from them) the viewer may see (bot.domain.visibility), None for all.
    The status stays the whole task's."""
    current, _ = book.cycles(board.task)
    if readable is not None:
        board = replace(board, units=tuple(s for s in board.units if s.unit.unit_id in readable))
    return Card(
        board,
        status,
        target_lines(board),
        book.due(current) if current is not None and not board.completed else None,
        history_count,
        frozenset(nudged_today),
        restricted=readable is not None,
    )
