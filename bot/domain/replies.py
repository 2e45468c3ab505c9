"""What the bot understood from a progress reply: percent, measured quantities, date, difficulty.

Rules: an explicit percentage (完成45%, 过半, 已全面完成) is the task's progress. Without one,
the quantities measured against the task's *amount* targets give it — their mean, each capped
at 100 (320亿元 of 800亿元 → 40%). Growth and level targets are measured and shown, but a
growth rate achieved is not progress through the year, so they never set the percentage.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from datetime import date
from typing import Any

from bot.domain.dates import completion_date
from bot.domain.quantities import (
    Target,
    convert,
    detect_difficulty,
    measure_against_targets,
    parse_percent,
    percent_of,
)
from bot.domain.workcal import WorkCalendar


@dataclass(frozen=True)
class MeasuredQuantity:
    """A quantity in the reply, and what it is against a target if one matched."""

    source: str
    value: float
    unit: str
    metric: str | None
    target_metric: str | None = None
    target_value: float | None = None
    target_unit: str | None = None
    target_kind: str | None = None
    percent_of_target: float | None = None


@dataclass(frozen=True)
class Understood:
    """The bot's reading of one reply."""

    text: str
    percent: float | None
    percent_from: str | None  # "explicit" | "targets" | None
    quantities: tuple[MeasuredQuantity, ...]
    expected: date | None
    difficulties: tuple[str, ...]
    impossible_date: str | None = None  # the words of a completion date that does not exist

    def to_json(self) -> dict[str, Any]:
        """For storing a draft in the database."""
        data = asdict(self)
        data["expected"] = self.expected.isoformat() if self.expected else None
        data["quantities"] = [asdict(q) for q in self.quantities]
        data["difficulties"] = list(self.difficulties)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Understood:
        """Back from the database."""
        expected = data.get("expected")
        return cls(
            text=str(data.get("text", "")),
            percent=data.get("percent"),
            percent_from=data.get("percent_from"),
            quantities=tuple(MeasuredQuantity(**q) for q in data.get("quantities", [])),
            expected=date.fromisoformat(expected) if expected else None,
            difficulties=tuple(data.get("difficulties", [])),
            impossible_date=data.get("impossible_date"),
        )


def _target_percent(quantities: Sequence[MeasuredQuantity]) -> float | None:
    """The task's progress from its amount targets: their mean, each capped at 100."""
    amounts = [
        min(100.0, q.percent_of_target)
        for q in quantities
        if q.target_kind == "amount" and q.percent_of_target is not None
    ]
    return round(sum(amounts) / len(amounts), 1) if amounts else None


def choices(understood: Understood, targets: Sequence[Target], index: int) -> list[int]:
    """The targets (by index) the reply's `index`-th number could be put against: those whose
    unit it can be expressed in and that no other number of the reply is read against."""
    q = understood.quantities[index]
    if understood.percent_from == "explicit" and q.unit == "%" and q.value == understood.percent:
        return []  # the task's stated progress (完成45%), not a figure toward a target
    taken = {x.target_metric for i, x in enumerate(understood.quantities) if i != index}
    return [
        ti
        for ti, t in enumerate(targets)
        if t.metric not in taken and convert(q.value, q.unit, t.unit) is not None
    ]


def reassign(understood: Understood, index: int, target: Target | None) -> Understood:
    """The reading with the `index`-th number put against `target` (None: against none), as the
    liaison corrected it on the card; a percentage worked out from targets follows."""
    q = understood.quantities[index]
    if target is None:
        changed = MeasuredQuantity(q.source, q.value, q.unit, q.metric)
    else:
        value = convert(q.value, q.unit, target.unit)
        if value is None:
            raise ValueError(f"{q.source} cannot be measured in {target.unit}")
        changed = MeasuredQuantity(
            q.source, q.value, q.unit, q.metric, target.metric, target.value, target.unit,
            target.kind, percent_of(target, value),
        )  # fmt: skip
    quantities = tuple(changed if i == index else x for i, x in enumerate(understood.quantities))
    if understood.percent_from == "explicit":
        return replace(understood, quantities=quantities)
    percent = _target_percent(quantities)
    return replace(
        understood,
        quantities=quantities,
        percent=percent,
        percent_from="targets" if percent is not None else None,
    )


def without_date(understood: Understood) -> Understood:
    """The reading without its completion date (the liaison dropped it on the card)."""
    return replace(understood, expected=None, impossible_date=None)


def understand(
    text: str,
    targets: Sequence[Target],
    today: date,
    calendar: WorkCalendar,
    task_text: str = "",
) -> Understood:
    """Read a liaison's reply against the task's targets (`task_text`: the task's words)."""
    measurements = measure_against_targets(text, list(targets))
    quantities = tuple(
        MeasuredQuantity(
            source=m.quantity.source,
            value=m.quantity.value,
            unit=m.quantity.unit,
            metric=m.quantity.metric,
            target_metric=m.target.metric if m.target else None,
            target_value=m.target.value if m.target else None,
            target_unit=m.target.unit if m.target else None,
            target_kind=m.target.kind if m.target else None,
            percent_of_target=m.percent_of_target,
        )
        for m in measurements
    )
    percent = parse_percent(text, task_text)
    percent_from: str | None = "explicit" if percent is not None else None
    if percent is None:
        percent = _target_percent(quantities)
        percent_from = "targets" if percent is not None else None
    if percent is not None:
        percent = max(0.0, min(100.0, percent))
    completion = completion_date(text, today, calendar)
    return Understood(
        text=text,
        percent=percent,
        percent_from=percent_from,
        quantities=quantities,
        expected=completion.day,
        difficulties=tuple(detect_difficulty(text)),
        impossible_date=completion.impossible,
    )


# An acknowledgement, optionally with a promise to report later: not a report.
_RE_ACKNOWLEDGEMENT = re.compile(
    r"(?:好的?|好滴|收到|已收到|收悉|嗯+|哦+|噢|ok|okay|yes|是的?|对|行|明白|知道了?|了解|谢谢|"
    r"多谢|感谢|辛苦了?|马上|稍后|立即|立刻|尽快|这就|正在|准备|会|将|报|报送|上报|填报|处理|办理|"
    r"[了啦呀吧哈的哦]|谢|您|你|领导)*",
    re.IGNORECASE,
)


def content_free(text: str) -> bool:
    """True if a reply says nothing about progress: emoji, punctuation, 好的, 收到, 收到马上报.

    Such a reply is asked for the actual progress instead of becoming a report.
    """
    kept = "".join(ch for ch in text if unicodedata.category(ch)[0] in "LN")
    return _RE_ACKNOWLEDGEMENT.fullmatch(kept) is not None
