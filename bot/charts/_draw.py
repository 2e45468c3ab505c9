"""Drawing the charts with matplotlib (Agg, no pyplot: no global figures to close) in Noto
Sans CJK SC, the font the `mplfonts` package installs beside itself.

Imported only where charts are drawn (the renderer process, `python -m bot.charts`, and tests):
matplotlib and numpy cost the bot's process ~50 MB it does not need the rest of the day.
"""

from __future__ import annotations

import importlib.util
import io
from pathlib import Path
from typing import Any

from matplotlib import font_manager, rc_context
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from PIL import Image

from bot.charts._spec import (
    DPI,
    FOOT,
    HEAD,
    WIDTH,
    Chart,
    CountChart,
    ProgressChart,
)

FONT_FILE = "NotoSansCJKsc-Regular.otf"


def font_path() -> Path:
    """Noto Sans CJK SC as the `mplfonts` package installed it (found without importing it:
    its import configures matplotlib globally)."""
    spec = importlib.util.find_spec("mplfonts")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the mplfonts package (the charts' CJK font) is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "fonts" / FONT_FILE
    if not path.is_file():
        raise RuntimeError(f"the charts' CJK font is missing: {path}")
    return path


# Registered by path, once: no system font is looked for, nothing is fetched.
_FONT = font_path()
font_manager.fontManager.addfont(str(_FONT))
FONT_NAME = font_manager.FontProperties(fname=_FONT).get_name()

# Sizes in px, drawn in points at DPI.
TITLE_PX = 40
TEXT_PX = 28
INK = "#1f2d3d"
MUTED = "#6b7785"
TRACK = "#edf0f3"
# red, yellow, green, done (bot.domain.status.Light's values 3, 2, 1, 0)
LIGHT_COLORS = {3: "#d8343c", 2: "#eaa800", 1: "#2e9d5b", 0: "#7b91ab"}
LIGHT_ORDER = (3, 2, 1, 0)
RC: dict[Any, Any] = {
    "font.family": [FONT_NAME],
    "font.size": TEXT_PX * 72 / DPI,
    "axes.unicode_minus": False,
    "text.parse_math": False,  # a task's text may hold "$"
    "savefig.dpi": DPI,
}


def pt(px: float) -> float:
    """A size in px as points at DPI."""
    return px * 72 / DPI


def draw(chart: Chart) -> bytes:
    """The chart as a PNG, WIDTH px wide and `chart.height` px high."""
    with rc_context(RC):
        fig = Figure(figsize=(WIDTH / DPI, chart.height / DPI), dpi=DPI, facecolor="white")
        _heading(fig, chart)
        if isinstance(chart, ProgressChart):
            _progress(fig, chart)
        else:
            _counts(fig, chart)
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        image = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba())
    # A palette of 128 colours: flat colours and anti-aliased type look the same, and the PNG
    # is a fifth of the size (it is kept in the outbox until it is sent).
    out = io.BytesIO()
    image.convert("RGB").quantize(colors=128, method=Image.Quantize.FASTOCTREE).save(
        out, format="PNG", optimize=True
    )
    return out.getvalue()


def _heading(fig: Figure, chart: Chart) -> None:
    height = chart.height
    fig.text(
        40 / WIDTH, 1 - 30 / height, chart.title, fontsize=pt(TITLE_PX), color=INK,
        va="top", ha="left",
    )  # fmt: skip
    fig.text(
        40 / WIDTH, 1 - 100 / height, chart.subtitle, fontsize=pt(TEXT_PX), color=MUTED,
        va="top", ha="left",
    )  # fmt: skip


def _body(fig: Figure, chart: Chart, left_px: int) -> Axes:
    """The axes between the heading and the foot."""
    height = chart.height
    bottom = (FOOT - 10) / height
    top = 1 - (HEAD - 10) / height
    return fig.add_axes((left_px / WIDTH, bottom, 1 - (left_px + 50) / WIDTH, top - bottom))


def _legend(fig: Figure, chart: Chart, handles: list[Patch | Line2D]) -> None:
    fig.legend(
        handles=handles,
        loc="lower center",
        bbox_to_anchor=(0.5, 50 / chart.height),
        ncol=len(handles),
        frameon=False,
        fontsize=pt(TEXT_PX),
        handlelength=1.0,
        columnspacing=1.0,
        handletextpad=0.4,
    )
    if chart.note:
        fig.text(
            0.5, 14 / chart.height, chart.note, fontsize=pt(TEXT_PX), color=MUTED,
            ha="center", va="bottom",
        )  # fmt: skip


def _empty(fig: Figure, chart: Chart) -> None:
    fig.text(
        0.5, 1 - (HEAD + 70) / chart.height, chart.empty, fontsize=pt(TEXT_PX), color=MUTED,
        ha="center", va="center",
    )  # fmt: skip


def _light_handles(labels: tuple[str, ...]) -> list[Patch | Line2D]:
    return [
        Patch(color=LIGHT_COLORS[light], label=labels[i]) for i, light in enumerate(LIGHT_ORDER)
    ]


def _progress(fig: Figure, chart: ProgressChart) -> None:
    handles = _light_handles(chart.legend)
    handles.append(Line2D([], [], color=INK, linewidth=4, label=chart.legend[4]))
    _legend(fig, chart, handles)
    if not chart.bars:
        _empty(fig, chart)
        return
    ax = _body(fig, chart, left_px=420)
    n = len(chart.bars)
    ys = list(range(n))
    ax.set_ylim(n - 0.5, -0.5)  # the worst on top
    ax.set_xlim(0, 100)
    for y, bar in zip(ys, chart.bars, strict=True):
        color = LIGHT_COLORS[bar.light]
        ax.barh(y, 100, height=0.7, color=TRACK, zorder=1)
        if bar.percent is not None:
            ax.barh(y, min(bar.percent, 100.0), height=0.7, color=color, zorder=2)
        if bar.schedule is not None:
            ax.plot([bar.schedule] * 2, [y - 0.45, y + 0.45], color=INK, linewidth=4, zorder=3)
        width = min(bar.percent or 0.0, 100.0)
        inside = width >= 80
        # Over the schedule's line where they meet, on a patch of the bar's (or track's) colour.
        ax.text(
            width - 1.5 if inside else width + 1.5, y, bar.value, fontsize=pt(TEXT_PX),
            color="white" if inside else (INK if bar.percent is not None else color),
            ha="right" if inside else "left", va="center", zorder=4,
            bbox={"boxstyle": "square,pad=0.1", "facecolor": color if inside else TRACK,
                  "edgecolor": "none"},
        )  # fmt: skip
    ax.set_yticks(ys, [bar.label for bar in chart.bars], fontsize=pt(TEXT_PX))
    for tick, bar in zip(ax.get_yticklabels(), chart.bars, strict=True):
        tick.set_color(LIGHT_COLORS[bar.light] if bar.light == 3 else INK)
    ax.set_xticks([0, 25, 50, 75, 100], ["0", "25", "50", "75", "100%"], fontsize=pt(24))
    ax.tick_params(axis="y", length=0, pad=10)
    ax.tick_params(axis="x", colors=MUTED)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.spines["bottom"].set_color(MUTED)


def _counts(fig: Figure, chart: CountChart) -> None:
    _legend(fig, chart, _light_handles(chart.legend))
    if not chart.rows:
        _empty(fig, chart)
        return
    ax = _body(fig, chart, left_px=420)
    n = len(chart.rows)
    ax.set_ylim(n - 0.5, -0.5)
    ax.set_xlim(0, 100)
    for y, row in enumerate(chart.rows):
        total = sum(row.counts)
        left = 0.0
        for light, count in zip(LIGHT_ORDER, row.counts, strict=True):
            if not count:
                continue
            share = 100 * count / total
            ax.barh(y, share, left=left, height=0.66, color=LIGHT_COLORS[light])
            if share >= 7:
                ax.text(
                    left + share / 2, y, str(count), fontsize=pt(TEXT_PX), color="white",
                    ha="center", va="center",
                )  # fmt: skip
            left += share
    ax.set_yticks(range(n), [row.label for row in chart.rows], fontsize=pt(TEXT_PX))
    ax.tick_params(axis="y", length=0, pad=10)
    ax.set_xticks([])
    for side in ("top", "right", "left", "bottom"):
        ax.spines[side].set_visible(False)
