"""What the digest's charts show, as plain values: per task its light, its stated percentage and
the time-elapsed schedule (序时进度); the worst tasks first; the city's lights by section.

Decision: a task's percentage is the lowest latest percentage among its lead units, as in the
ledger (a task is as far as its slowest lead unit); its schedule is the share of its period
elapsed today (Jan 1 to Dec 31, or to the deadline an approved 延期 moved), none where the
schedule rule does not apply (growth-rate targets).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from bot.domain.boards import Board
from bot.domain.status import Light, Status, schedule_percent

# A chart that fits a phone and Telegram's 1280 px (bot.charts): at most this many tasks of a
# leader's, and sections of the city's.
CHART_BARS = 15
CHART_SECTIONS = 10


@dataclass(frozen=True, slots=True)
class TaskBar:
    """One task in a leader's chart."""

    no: int  # 序号
    text: str
    light: Light
    percent: float | None  # None: no lead unit stated one
    schedule: float | None  # 序时进度 today; None: the schedule rule does not apply


def task_bar(board: Board, status: Status, today: date) -> TaskBar:
    """The task's bar at `today`."""
    task = board.task
    percents = [
        s.latest.percent
        for s in board.units
        if s.unit.lead and s.latest is not None and s.latest.percent is not None
    ]
    schedule = None
    if task.schedule_applies:
        start = date(task.year, 1, 1)
        end = max(board.end or date(task.year, 12, 31), start)
        schedule = round(schedule_percent(today, start, end), 1)
    return TaskBar(task.no, task.text, status.light, min(percents) if percents else None, schedule)


def bar_rank(bar: TaskBar) -> tuple[int, int, float, int]:
    """Worst first: red, yellow, green, done; within a light, no percentage stated first, then
    the furthest behind the schedule; then by 序号."""
    behind = (bar.schedule or 0.0) - (bar.percent or 0.0)
    return (-bar.light, 0 if bar.percent is None else 1, -behind, bar.no)


class WorstBars:
    """The `limit` worst bars of those added (bar_rank), and how many were added: a leader of
    hundreds of tasks keeps a chart's worth, not all of them."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.total = 0
        self._kept: list[TaskBar] = []

    def add(self, bar: TaskBar) -> None:
        """Count a bar in; keep it if it is among the worst so far."""
        self.total += 1
        self._kept.append(bar)
        if len(self._kept) >= 4 * self.limit + 16:
            self._trim()

    def bars(self) -> tuple[TaskBar, ...]:
        """The kept bars, worst first."""
        self._trim()
        return tuple(self._kept)

    def _trim(self) -> None:
        self._kept.sort(key=bar_rank)
        del self._kept[self.limit :]


def worst_bars(bars: Iterable[TaskBar], limit: int) -> tuple[tuple[TaskBar, ...], int]:
    """The `limit` worst bars and how many there were."""
    keeper = WorstBars(limit)
    for bar in bars:
        keeper.add(bar)
    return keeper.bars(), keeper.total


@dataclass(frozen=True, slots=True)
class SectionCounts:
    """How many of a section's tasks have each light."""

    section: str
    counts: Mapping[Light, int]

    @property
    def total(self) -> int:
        """The section's tasks."""
        return sum(self.counts.values())


def section_of(board: Board) -> str:
    """The part of the register a task is counted under: its subsection, else its section."""
    return board.task.subsection or board.task.section


def section_counts(
    counted: Mapping[str, Mapping[Light, int]], order: Iterable[str], limit: int
) -> tuple[SectionCounts, ...]:
    """The sections in `order` (first seen), the ones past `limit − 1` folded into one row
    under the name "" (the caller names it)."""
    names = list(order)
    rows = [SectionCounts(name, dict(counted[name])) for name in names[: limit - 1]]
    rest = names[limit - 1 :]
    if len(rest) == 1:
        rows.append(SectionCounts(rest[0], dict(counted[rest[0]])))
    elif rest:
        folded = {light: sum(counted[n].get(light, 0) for n in rest) for light in Light}
        rows.append(SectionCounts("", folded))
    return tuple(rows)
