"""考评: each unit's score for a period (a month, or the year to date) from its record, and its
rank among the units of its kind (市直部门, 乡镇街道, 开发区, 企业, 其他单位).

The rule (also in the README, 考评规则). Counted over the unit's owed reports whose deadline
falls in the period and has passed (`Outcome`s, bot.domain.obligations):

    score = 100 − late      × (late reports ÷ owed reports)
                − missed    × (missed reports ÷ owed reports)
                − overdue   × (overdue workdays ÷ owed reports)
                − behind    × (average points behind the time-elapsed schedule, lead tasks)
                − returned  × (reports returned in the period ÷ owed reports)
                − nudged    × (催办 in the period ÷ owed reports)

floored at 0, to one decimal. Overdue workdays: from the deadline to the first report (late),
or to today (missed). Behind schedule: for each lead task with a stated percentage that is not
complete, how far the percentage is below the share of the task's period elapsed (序时进度),
0 when ahead. The weights are settings (ASSESS_*). Shares, not counts, so a unit with many
tasks is not marked down for having many. A unit that owed nothing in the period has no score
and no rank.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from bot.domain.boards import Board
from bot.domain.status import schedule_percent
from bot.domain.workcal import WorkCalendar


@dataclass(frozen=True, slots=True)
class Weights:
    """Points taken off per unit of each measure (see the module's rule)."""

    late: float = 20.0
    missed: float = 50.0
    overdue: float = 1.0
    behind: float = 0.3
    returned: float = 10.0
    nudged: float = 10.0


@dataclass(slots=True)
class Tally:
    """One unit's measures for a period."""

    on_time: int = 0
    late: int = 0
    missed: int = 0
    overdue_workdays: int = 0
    behind: list[float] = field(default_factory=list)  # points behind, per lead task
    returned: int = 0
    nudged: int = 0

    @property
    def owed(self) -> int:
        """Owed reports decided in the period."""
        return self.on_time + self.late + self.missed

    @property
    def behind_average(self) -> float | None:
        """Average points behind schedule over the lead tasks with a stated percentage."""
        return sum(self.behind) / len(self.behind) if self.behind else None


@dataclass(frozen=True, slots=True)
class Score:
    """A unit's score for a period, with its measures."""

    unit_id: int
    name: str
    category: str
    tally: Tally
    points: float | None  # None: it owed nothing in the period


@dataclass(frozen=True, slots=True)
class Ranked:
    """A score with its rank among the units of its kind (1 is best; equal scores share)."""

    rank: int | None
    score: Score


def tally(
    boards: Iterable[Board],
    *,
    start: date,
    end: date,
    today: date,
    calendar: WorkCalendar,
    into: dict[int, Tally] | None = None,
) -> dict[int, Tally]:
    """Per unit, the outcomes of its owed reports due in [start, end] and passed by `today`,
    and how far its lead tasks are behind schedule now. Boards must be built with `history`
    (their outcomes) and the latest reports. `into`: add to these tallies (boards in chunks)."""
    out = into if into is not None else {}
    for board in boards:
        for s in board.units:
            t = out.setdefault(s.unit.unit_id, Tally())
            for o in s.outcomes:
                if not (start <= o.deadline <= end) or o.deadline >= today:
                    continue
                if o.first is None:
                    t.missed += 1
                    t.overdue_workdays += calendar.workdays_between(o.deadline, today)
                elif o.on_time:
                    t.on_time += 1
                else:
                    t.late += 1
                    first = o.first.astimezone(o.due.tzinfo).date()
                    t.overdue_workdays += calendar.workdays_between(o.deadline, first)
            behind = _behind(board, s.unit.unit_id, today)
            if behind is not None:
                t.behind.append(behind)
    return out


def _behind(board: Board, unit_id: int, today: date) -> float | None:
    """Points the unit's stated percentage is below the task's schedule (lead units only)."""
    s = board.standing(unit_id)
    if s is None or not s.unit.lead or s.done or board.completed:
        return None
    if not board.task.schedule_applies or s.latest is None or s.latest.percent is None:
        return None
    end = board.end or date(board.task.year, 12, 31)
    start = date(board.task.year, 1, 1)
    elapsed = schedule_percent(min(today, end), start, end)
    return max(0.0, elapsed - s.latest.percent)


def points(t: Tally, w: Weights) -> float | None:
    """The score of a tally (None when nothing was owed)."""
    if t.owed == 0:
        return None
    n = t.owed
    lost = (
        w.late * t.late / n
        + w.missed * t.missed / n
        + w.overdue * t.overdue_workdays / n
        + w.behind * (t.behind_average or 0.0)
        + w.returned * t.returned / n
        + w.nudged * t.nudged / n
    )
    return round(max(0.0, 100.0 - lost), 1)


def scores(
    units: Sequence[tuple[int, str, str]],
    tallies: Mapping[int, Tally],
    returned: Mapping[int, int],
    nudged: Mapping[int, int],
    weights: Weights,
) -> list[Score]:
    """Each unit (id, name, category) scored from its tally and the period's returns and
    nudges."""
    out = []
    for unit_id, name, category in units:
        t = tallies.get(unit_id) or Tally()
        t.returned = returned.get(unit_id, 0)
        t.nudged = nudged.get(unit_id, 0)
        out.append(Score(unit_id, name, category, t, points(t, weights)))
    return out


def ranking(found: Iterable[Score], categories: Sequence[str]) -> dict[str, list[Ranked]]:
    """The scores by kind of unit (in `categories`' order), best first; units with no score
    last, unranked."""
    out: dict[str, list[Ranked]] = {c: [] for c in categories}
    for category in categories:
        mine = [s for s in found if s.category == category]
        scored = sorted(
            (s for s in mine if s.points is not None), key=lambda s: (-(s.points or 0.0), s.name)
        )
        rank = 0
        previous: float | None = None
        for i, s in enumerate(scored, 1):
            if s.points != previous:
                rank, previous = i, s.points
            out[category].append(Ranked(rank, s))
        out[category] += [Ranked(None, s) for s in mine if s.points is None]
    return out
