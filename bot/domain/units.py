"""/units as plain data: each unit's liaisons, the open cycle's reporting, what is overdue now and
the year's record (bot.domain.obligations.Record).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from bot.domain.boards import Board
from bot.domain.obligations import (
    NO_RECORD,
    Record,
)

# --- /units -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LiaisonCount:
    """A unit's bound liaisons: active ones, and how many of them can be reached."""

    active: int = 0
    reachable: int = 0


@dataclass(frozen=True, slots=True)
class UnitLine:
    """One unit in /units: its liaisons, the open cycle's reporting, what is overdue, the year's
    record."""

    unit_id: int
    name: str
    liaisons: LiaisonCount
    owed: int  # obligations of the open cycle
    reported: int  # of those, reported
    overdue: int  # chased missed obligations (the last passed cycle, unreported)
    record: Record = NO_RECORD  # the year so far: on time, late, missed

    @property
    def reachable(self) -> bool:
        """True if at least one bound, active liaison can be reached."""
        return self.liaisons.reachable > 0

    @property
    def rate(self) -> float | None:
        """Reported / owed for the open cycle, None when nothing is owed."""
        return self.reported / self.owed if self.owed else None


@dataclass
class UnitTally:
    """Per unit, the open cycle's obligations and reports, the chased missed ones, and the
    year's record (from boards built with `history`).

    Fed the boards a chunk at a time (`add`), so a whole year's boards need not be held at once.
    """

    owed: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    reported: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    overdue: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    records: dict[int, Record] = field(default_factory=dict)
    open_keys: Counter[str] = field(default_factory=Counter)

    def add(self, boards: Iterable[Board]) -> None:
        """Count the obligations on these boards."""
        owed, reported, overdue, records = self.owed, self.reported, self.overdue, self.records
        for board in boards:
            for s in board.units:
                uid = s.unit.unit_id
                if s.current is not None:
                    owed[uid] += 1
                    reported[uid] += int(s.reported_current)
                    self.open_keys[s.current.key] += 1
                if s.missed is not None:
                    overdue[uid] += 1
                if s.record is not None:
                    records[uid] = records.get(uid, NO_RECORD) + s.record

    @property
    def open_key(self) -> str | None:
        """The open cycle most obligations are in (the month, for monthly tasks)."""
        found = self.open_keys.most_common(1)
        return found[0][0] if found else None


def unit_lines(
    units: Iterable[tuple[int, str]],
    liaisons: Mapping[int, LiaisonCount],
    boards: Iterable[Board] | UnitTally,
) -> list[UnitLine]:
    """Every unit with its liaisons and reporting: unreachable first, then lowest rate."""
    if isinstance(boards, UnitTally):
        tally = boards
    else:
        tally = UnitTally()
        tally.add(boards)
    lines = [
        UnitLine(
            uid,
            name,
            liaisons.get(uid, LiaisonCount()),
            tally.owed.get(uid, 0),
            tally.reported.get(uid, 0),
            tally.overdue.get(uid, 0),
            tally.records.get(uid, NO_RECORD),
        )
        for uid, name in units
    ]
    lines.sort(
        key=lambda u: (
            u.reachable,
            u.rate if u.rate is not None else 2.0,
            -u.overdue,
            u.name,
        )
    )
    return lines
