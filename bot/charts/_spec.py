"""The charts as plain data, their words already written (bot.texts): what the renderer draws,
passed to it as JSON."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from bot.domain.charts import CHART_BARS, CHART_SECTIONS

WIDTH = 1080  # px: a phone's screen, full width
DPI = 100
# Telegram scales a photo down to 1280 px on its longer side: a chart that fits keeps its
# 28 px type. A leader's chart shows at most this many tasks (the worst; a note names the rest).
MAX_HEIGHT = 1280
HEAD = 170  # title and counts line
FOOT = 200  # the axis, the legend and the note
ROW = 60  # one task
SECTION_ROW = 80  # one section of the city's chart
EMPTY = 160  # the space of the "no tasks" line
MAX_BARS = CHART_BARS
MAX_SECTIONS = CHART_SECTIONS  # under the city's own row
assert HEAD + FOOT + ROW * MAX_BARS <= MAX_HEIGHT
assert HEAD + FOOT + SECTION_ROW * (MAX_SECTIONS + 1) <= MAX_HEIGHT


@dataclass(frozen=True, slots=True)
class Bar:
    """One task: its label, light (bot.domain.status.Light's value), stated percentage and
    schedule (None: none), and the words beside the bar."""

    label: str
    light: int
    percent: float | None
    schedule: float | None
    value: str


@dataclass(frozen=True, slots=True)
class ProgressChart:
    """A leader's chart: the tasks' progress against the time-elapsed schedule."""

    title: str
    subtitle: str
    bars: tuple[Bar, ...]
    note: str  # under the chart ("" for none)
    empty: str  # said instead of bars when there are none
    legend: tuple[str, ...]  # red, yellow, green, done, the schedule

    @property
    def height(self) -> int:
        """The picture's height in px."""
        return HEAD + FOOT + (ROW * len(self.bars) if self.bars else EMPTY)


@dataclass(frozen=True, slots=True)
class CountRow:
    """One row of the city's chart: a label and the count of each light (red, yellow, green,
    done)."""

    label: str
    counts: tuple[int, int, int, int]


@dataclass(frozen=True, slots=True)
class CountChart:
    """The city's chart: the share of each light, city-wide and by section."""

    title: str
    subtitle: str
    rows: tuple[CountRow, ...]
    note: str
    empty: str
    legend: tuple[str, ...]  # red, yellow, green, done

    @property
    def height(self) -> int:
        """The picture's height in px."""
        return HEAD + FOOT + (SECTION_ROW * len(self.rows) if self.rows else EMPTY)


Chart = ProgressChart | CountChart


def dump(charts: list[Chart]) -> str:
    """The charts as JSON, for the renderer."""
    return json.dumps([{"kind": type(c).__name__, **asdict(c)} for c in charts], ensure_ascii=False)


def load(data: str) -> list[Chart]:
    """The charts from `dump`'s JSON."""
    out: list[Chart] = []
    for item in json.loads(data):
        kind = item.pop("kind")
        if kind == "ProgressChart":
            bars = tuple(Bar(**b) for b in item.pop("bars"))
            out.append(ProgressChart(bars=bars, **_tuples(item)))
        elif kind == "CountChart":
            rows = tuple(CountRow(r["label"], tuple(r["counts"])) for r in item.pop("rows"))
            out.append(CountChart(rows=rows, **_tuples(item)))
        else:
            raise ValueError(f"unknown chart kind {kind!r}")
    return out


def _tuples(item: dict[str, Any]) -> dict[str, Any]:
    return {k: tuple(v) if isinstance(v, list) else v for k, v in item.items()}
