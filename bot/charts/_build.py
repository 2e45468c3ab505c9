"""The charts of a digest from the domain's values, in the texts' words."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from bot import texts
from bot.charts._spec import MAX_BARS, Bar, CountChart, CountRow, ProgressChart
from bot.domain.charts import SectionCounts, TaskBar
from bot.domain.status import Light

_LIGHTS = (Light.RED, Light.YELLOW, Light.GREEN, Light.DONE)


def _legend() -> tuple[str, ...]:
    return tuple(light.label for light in _LIGHTS)


def leader_chart(
    leader: str, day: date, bars: Sequence[TaskBar], total: int, counts: Mapping[Light, int]
) -> ProgressChart:
    """A leader's chart: the worst `MAX_BARS` of their `total` tasks (`bars`, worst first)."""
    shown = tuple(bars[:MAX_BARS])
    return ProgressChart(
        title=texts.chart_leader_title(leader, day),
        subtitle=texts.chart_counts_line(total, counts),
        bars=tuple(
            Bar(
                label=texts.chart_bar_label(b.no, b.text),
                light=int(b.light),
                percent=b.percent,
                schedule=b.schedule,
                value=texts.chart_bar_value(b.percent),
            )
            for b in shown
        ),
        note=texts.chart_more(len(shown), total) if total > len(shown) else "",
        empty=texts.CHART_EMPTY_LEADER,
        legend=(*_legend(), texts.CHART_SCHEDULE_LEGEND),
    )


def city_chart(
    day: date, total: int, counts: Mapping[Light, int], sections: Sequence[SectionCounts]
) -> CountChart:
    """The city's chart: the lights' shares city-wide, then by section."""

    def row(label: str, by_light: Mapping[Light, int]) -> CountRow:
        red, yellow, green, done = (by_light.get(light, 0) for light in _LIGHTS)
        return CountRow(label, (red, yellow, green, done))

    rows = [row(f"全市（{total}项）", counts)] if total else []
    rows.extend(
        row(
            f"{texts.chart_section_label(s.section or texts.CHART_OTHER_SECTIONS)}（{s.total}）",
            s.counts,
        )
        for s in sections
        if s.total
    )
    return CountChart(
        title=texts.chart_city_title(day),
        subtitle=texts.chart_counts_line(total, counts),
        rows=tuple(rows),
        note="",
        empty=texts.CHART_EMPTY_CITY,
        legend=_legend(),
    )
