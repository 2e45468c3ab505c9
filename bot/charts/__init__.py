"""The digest's charts (a leader's tasks against the time-elapsed schedule; the city's lights
by section) as PNGs: built from the domain's values in the texts' words (`leader_chart`,
`city_chart`), drawn with matplotlib in a renderer process of its own (`render`).

Nothing here imports matplotlib: only the renderer (`python -m bot.charts`) does.
"""

from bot.charts._build import city_chart, leader_chart
from bot.charts._render import ChartError, render
from bot.charts._spec import (
    MAX_BARS,
    MAX_SECTIONS,
    WIDTH,
    Bar,
    Chart,
    CountChart,
    CountRow,
    ProgressChart,
)

__all__ = [
    "MAX_BARS",
    "MAX_SECTIONS",
    "WIDTH",
    "Bar",
    "Chart",
    "ChartError",
    "CountChart",
    "CountRow",
    "ProgressChart",
    "city_chart",
    "leader_chart",
    "render",
]
