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
    unacknowledged: int = 0  # lead tasks its liaisons have not acknowledged (签收) yet

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
    unacknowledged: Mapping[int, int] | None = None,
) -> list[UnitLine]:
    """Every unit with its liaisons and reporting (and tasks not acknowledged): unreachable
    first, then lowest rate."""
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
            (unacknowledged or {}).get(uid, 0),
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


# --- Kinds of unit ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Category:
    """A kind of unit as people sort them: 市直部门, 乡镇街道, 开发区, 企业, 其他."""

    key: str
    label: str
    words: tuple[str, ...]  # what a person may type for it (the label included)


# In the order units are listed (invites, /overdue filters). The register's kinds are
# department, town, enterprise and other; a zone or park ("other" ending in 开发区/园区, run by a
# management committee) is sorted as 开发区, the rest of "other" (mass organisations such as
# 团市委, 侨联) as 其他单位.
CATEGORIES: tuple[Category, ...] = (
    Category("department", "市直部门", ("市直部门", "部门", "市直单位")),
    Category("town", "乡镇街道", ("乡镇街道", "乡镇（街道）", "乡镇", "街道", "镇街")),
    Category("zone", "开发区", ("开发区", "园区", "开发区（园区）")),
    Category("enterprise", "企业", ("企业", "国企", "集团")),
    Category("other", "其他单位", ("其他单位", "群团")),
)
ZONE_SUFFIXES = ("开发区", "园区")


def category_of(kind: str, name: str) -> str:
    """The category key of a unit of register kind `kind` named `name`."""
    if kind == "other" and name.endswith(ZONE_SUFFIXES):
        return "zone"
    return kind if any(c.key == kind for c in CATEGORIES) else "other"


def category_named(text: str) -> int | None:
    """The index in CATEGORIES of the category `text` names exactly, if any."""
    for i, category in enumerate(CATEGORIES):
        if text in category.words:
            return i
    return None
