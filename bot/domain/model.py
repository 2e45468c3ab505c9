"""The register as the views and the obligation rule read it: tasks with their units (collective
names expanded), leaders and targets; reports and each (task, unit)'s latest. Plain data.

Glossary: 牵头单位 lead unit, 责任单位 (co-)responsible unit, 分管（挂钩）领导 supervising leader.

Decisions:
- A unit named both directly and through a collective name (各乡镇（街道）) appears once, with its
  first role in the notice's order (lead before responsible); within one role, as named directly.
- The schedule rule (序时进度) applies to a task with no targets or with at least one amount
  target; targets that are only growth rates or levels cannot be measured against time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

LEAD = "lead"
RESPONSIBLE = "responsible"
MONTHLY = "monthly"

Pair = tuple[int, int]  # (task id, unit id)


# --- Inputs -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Target:
    """A quantitative target of a task (完成投资 ≥ 800 亿元): the one target type of the domain,
    read from the notice, stored, measured against and shown."""

    metric: str
    kind: str  # amount | growth | level
    value: float
    unit: str
    comparator: str = "at_least"  # at_least | exact | at_most
    source: str = ""  # the notice's words it was read from


@dataclass(frozen=True, slots=True)
class UnitOnTask:
    """A unit's part in a task: lead or responsible, whether it owes reports, via which group."""

    unit_id: int
    name: str
    role: str  # lead | responsible
    owes: bool
    via_group: str | None = None

    @property
    def lead(self) -> bool:
        """True for a lead unit (牵头单位)."""
        return self.role == LEAD


@dataclass(frozen=True, slots=True)
class TaskInfo:
    """One task of the register with its units (groups expanded), leaders and targets."""

    id: int
    year: int
    no: int
    section: str
    subsection: str | None
    text: str
    cycle_kind: str = "monthly"
    cycle_dates: tuple[str, ...] = ()
    completed_on: date | None = None
    leaders: tuple[tuple[int, str], ...] = ()
    lead_labels: tuple[str, ...] = ()
    responsible_labels: tuple[str, ...] = ()
    units: tuple[UnitOnTask, ...] = ()
    targets: tuple[Target, ...] = ()

    def part(self, unit_id: int) -> UnitOnTask | None:
        """The unit's part in the task (None if it has none)."""
        return next((u for u in self.units if u.unit_id == unit_id), None)

    @property
    def leader_names(self) -> tuple[str, ...]:
        """The supervising leaders' names in the notice's order."""
        return tuple(name for _, name in self.leaders)

    @property
    def leader_ids(self) -> frozenset[int]:
        """The supervising leaders' ids."""
        return frozenset(i for i, _ in self.leaders)

    @property
    def schedule_applies(self) -> bool:
        """True unless every target is a growth rate or a level (see the module's decisions)."""
        return not self.targets or any(t.kind == "amount" for t in self.targets)

    def completed(self, today: date) -> bool:
        """True if the task is marked complete as of `today`."""
        return self.completed_on is not None and self.completed_on <= today


@dataclass(frozen=True, slots=True)
class QuantityInfo:
    """A quantity a report gave against a target."""

    metric: str
    value: float
    unit: str
    percent_of_target: float | None = None


@dataclass(frozen=True, slots=True)
class ReportInfo:
    """A stored report, as the views need it."""

    id: int
    task_id: int
    unit_id: int
    unit: str
    cycle_key: str
    text: str
    created_at: datetime
    percent: float | None = None
    expected: date | None = None
    difficulties: tuple[str, ...] = ()
    quantities: tuple[QuantityInfo, ...] = ()
    version: int = 1


@dataclass(frozen=True, slots=True)
class Latest:
    """A (task, unit)'s newest report, and the newest percentage and expected date it stated."""

    report: ReportInfo
    percent: float | None = None
    percent_at: datetime | None = None
    expected: date | None = None


@dataclass(frozen=True, slots=True)
class CardNote:
    """A leader's instruction (领导批示) or a unit's request (提请协调) on a task card: who
    (the leader, or the unit), what, when."""

    id: int
    who: str
    text: str
    at: datetime


@dataclass(frozen=True, slots=True)
class ReturnNote:
    """退回重报 on a task card: which unit's report of which cycle was returned, why, when."""

    unit: str
    cycle_key: str
    comment: str
    at: datetime


@dataclass(frozen=True, slots=True)
class PartClosure:
    """A lead unit's part in a task with its 销号 state (None: never applied)."""

    unit_id: int
    name: str
    state: str | None  # applied | closed | refused | reopened
    closure_id: int | None = None
    comment: str | None = None


@dataclass(frozen=True, slots=True)
class ExtensionNote:
    """A 延期申请 on a task card or in the ledger."""

    task_id: int
    unit: str
    cycle_key: str | None  # None: the task's own deadline
    old_date: date
    new_date: date
    state: str  # requested | approved | refused
    reason: str
    comment: str | None
