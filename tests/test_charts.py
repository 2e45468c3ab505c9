"""The digest's charts: which tasks a chart shows and in what order (pure), the pictures drawn
in this process (size, PNG, no glyph missing from the CJK font), and the renderer process."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
import warnings
from datetime import date
from pathlib import Path

import pytest
from PIL import Image

from bot import charts
from bot.charts._draw import FONT_NAME, draw, font_path
from bot.charts._spec import FOOT, HEAD, MAX_HEIGHT, ROW, dump, load
from bot.domain.charts import SectionCounts, TaskBar, bar_rank, section_counts, worst_bars
from bot.domain.status import Light

DAY = date(2026, 5, 29)
ROOT = Path(__file__).resolve().parent.parent
TEXTS = [t["text"] for t in json.loads((ROOT / "seed_tasks.json").read_text("utf-8"))["tasks"]]


def bars(n: int) -> list[TaskBar]:
    """`n` tasks of the register's texts with every light, some without a percentage."""
    lights = list(Light)
    return [
        TaskBar(
            no=i + 1,
            text=TEXTS[i % len(TEXTS)],
            light=lights[i % 4],
            percent=None if i % 7 == 3 else (i * 13) % 120,
            schedule=None if i % 11 == 5 else 41.1,
        )
        for i in range(n)
    ]


def counts(items: list[TaskBar]) -> dict[Light, int]:
    return {light: sum(1 for b in items if b.light is light) for light in Light}


def leader(n: int) -> charts.ProgressChart:
    items = bars(n)
    shown, total = worst_bars(items, charts.MAX_BARS)
    return charts.leader_chart("吴振强", DAY, shown, total, counts(items))


def city(sections: int) -> charts.CountChart:
    items = bars(88)
    names = [f"（{i}）第{i}部分重点工作" for i in range(sections)]
    counted = {n: {Light.RED: 1, Light.YELLOW: 2, Light.GREEN: 5, Light.DONE: 1} for n in names}
    rows = section_counts(counted, names, charts.MAX_SECTIONS)
    return charts.city_chart(DAY, 88 if sections else 0, counts(items), rows)


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        return image.size


def drawn(chart: charts.Chart, caplog: pytest.LogCaptureFixture) -> bytes:
    """The chart drawn here; no warning (matplotlib warns "Glyph … missing from font(s)")
    and no font-manager complaint ("findfont: Font family … not found") on the way."""
    with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.WARNING):
        warnings.simplefilter("always")
        data = draw(chart)
    assert [str(w.message) for w in caught] == []
    assert [r.getMessage() for r in caplog.records if r.name.startswith("matplotlib")] == []
    return data


# --- The bars -----------------------------------------------------------------------------------


def test_worst_first_red_unstated_and_furthest_behind() -> None:
    items = [
        TaskBar(1, "a", Light.GREEN, 50, 40),
        TaskBar(2, "b", Light.RED, 30, 40),
        TaskBar(3, "c", Light.RED, 10, 40),
        TaskBar(4, "d", Light.RED, None, 40),
        TaskBar(5, "e", Light.YELLOW, 35, 40),
        TaskBar(6, "f", Light.DONE, 100, 40),
    ]
    shown, total = worst_bars(items, 4)
    assert [b.no for b in shown] == [4, 3, 2, 5] and total == 6
    assert [b.no for b in sorted(items, key=bar_rank)] == [4, 3, 2, 5, 1, 6]


def test_worst_bars_keeps_a_charts_worth_of_thousands() -> None:
    items = bars(5000)
    shown, total = worst_bars(items, 15)
    assert total == 5000 and list(shown) == sorted(items, key=bar_rank)[:15]


def test_sections_past_the_limit_are_folded() -> None:
    names = [f"s{i}" for i in range(12)]
    counted = {n: {Light.RED: 1} for n in names}
    rows = section_counts(counted, names, 10)
    assert [r.section for r in rows] == [*names[:9], ""]
    assert rows[-1] == SectionCounts("", {Light.DONE: 0, Light.GREEN: 0, Light.YELLOW: 0,
                                          Light.RED: 3})  # fmt: skip
    assert [r.section for r in section_counts(counted, names[:10], 10)] == names[:10]


def test_a_leaders_chart_names_what_it_leaves_out() -> None:
    chart = leader(40)
    assert len(chart.bars) == charts.MAX_BARS == 15
    assert chart.note == "仅列出最需关注的15项（红灯、黄灯在前），另有25项未列出"
    assert chart.bars[0].label.startswith("第") and chart.bars[0].light == Light.RED
    assert {b.value for b in chart.bars if b.percent is None} <= {"未报进度"}
    assert leader(3).note == ""
    assert load(dump([chart, city(4)])) == [chart, city(4)]


# --- Drawing ------------------------------------------------------------------------------------


def test_the_font_is_the_packages_own() -> None:
    path = font_path()
    assert "site-packages" in path.parts and path.parent.parent.name == "mplfonts"
    assert FONT_NAME == "Noto Sans CJK SC"


@pytest.mark.parametrize("n", [0, 1, 15, 200])
def test_a_leaders_chart_is_a_png_of_the_expected_size(
    n: int, caplog: pytest.LogCaptureFixture
) -> None:
    chart = leader(n)
    shown = min(n, charts.MAX_BARS)
    data = drawn(chart, caplog)
    width, height = png_size(data)
    assert width == charts.WIDTH == 1080
    assert height == (HEAD + FOOT + ROW * shown if n else chart.height)
    # Telegram scales a photo to 1280 px on its longer side: the chart is never scaled down.
    assert height <= MAX_HEIGHT
    assert len(data) < 150_000  # it waits in the outbox until it is sent


@pytest.mark.parametrize("sections", [0, 3, 30])
def test_the_city_chart_is_a_png_of_the_expected_size(
    sections: int, caplog: pytest.LogCaptureFixture
) -> None:
    chart = city(sections)
    assert len(chart.rows) == (1 + min(sections, charts.MAX_SECTIONS) if sections else 0)
    width, height = png_size(drawn(chart, caplog))
    assert (width, height) == (1080, chart.height) and height <= MAX_HEIGHT


def test_cjk_text_is_drawn_not_boxes(caplog: pytest.LogCaptureFixture) -> None:
    """Drawn with a font that lacks CJK glyphs the labels would be tofu: the same chart with
    the title in another script differs where the Chinese is."""
    chart = leader(1)
    with_cjk = drawn(chart, caplog)
    other = drawn(
        charts.ProgressChart(
            **{**{f: getattr(chart, f) for f in chart.__dataclass_fields__}, "title": "x"}
        ),
        caplog,
    )
    assert with_cjk != other


# --- The renderer process -----------------------------------------------------------------------


async def test_the_renderer_process_draws_each_chart_in_order() -> None:
    pngs = await charts.render([leader(5), city(3), leader(0)])
    assert [png_size(p) for p in pngs] == [
        (1080, leader(5).height),
        (1080, city(3).height),
        (1080, leader(0).height),
    ]
    assert await charts.render([]) == []


async def test_a_renderer_failure_is_an_error_not_a_picture() -> None:
    bad = charts.ProgressChart("t", "s", (charts.Bar("x", 9, 10, 10, "10%"),), "", "", ())
    with pytest.raises(charts.ChartError, match="exited"):
        await charts.render([bad])


def test_the_bots_process_does_not_import_matplotlib() -> None:
    code = (
        "import sys, bot.runtime.run, bot.sandbox, bot.charts, jobs.summaries; "
        "print(sorted(m for m in ('matplotlib', 'numpy', 'PIL') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert out.stdout.strip() == "[]"
