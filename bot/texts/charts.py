"""Texts of the digest's charts: the words drawn in the picture (plain text, not HTML) and the
photo's caption (HTML)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date

from bot.domain.status import Light
from bot.texts.common import day, esc, short
from bot.texts.office import pct

__all__ = [
    "CHART_EMPTY_CITY",
    "CHART_EMPTY_LEADER",
    "CHART_OTHER_SECTIONS",
    "CHART_SCHEDULE_LEGEND",
    "chart_bar_label",
    "chart_bar_value",
    "chart_caption",
    "chart_city_title",
    "chart_counts_line",
    "chart_leader_title",
    "chart_more",
    "chart_section_label",
]

CHART_EMPTY_LEADER = "暂无分管任务"
CHART_EMPTY_CITY = "暂无任务"
CHART_SCHEDULE_LEGEND = "序时进度"
CHART_OTHER_SECTIONS = "其他"


def chart_leader_title(leader: str, d: date) -> str:
    """The title of a leader's chart."""
    return f"{short(leader, 12)} 分管任务进展（{d.month}月{d.day}日）"


def chart_city_title(d: date) -> str:
    """The title of the city-wide chart."""
    return f"全市重点任务红黄绿灯（{d.month}月{d.day}日）"


def chart_counts_line(total: int, counts: Mapping[Light, int]) -> str:
    """共12项：红灯2　黄灯3　绿灯6　已完成1."""
    parts = "　".join(
        f"{light.label}{counts.get(light, 0)}"
        for light in (Light.RED, Light.YELLOW, Light.GREEN, Light.DONE)
    )
    return f"共{total}项：{parts}"


def chart_bar_label(no: int, text: str) -> str:
    """第6项 滚动实施512个重点…: a task in a leader's chart (the text cut to fit a phone)."""
    return f"第{no}项 {short(text, 8)}"


def chart_bar_value(percent: float | None) -> str:
    """The percentage written beside a bar."""
    return "未报进度" if percent is None else f"{pct(round(percent, 1))}%"


def chart_section_label(section: str) -> str:
    """A section of the register in the city's chart, without its numbering, cut to fit."""
    name = section.lstrip("（(一二三四五六七八九十）)、. ") or section
    name = re.sub(r"^\d{4}年", "", name)  # 2026年主要预期目标 → 主要预期目标
    return short(name or CHART_OTHER_SECTIONS, 8)


def chart_more(shown: int, total: int) -> str:
    """The note under a chart that shows the worst `shown` of `total` tasks."""
    return f"仅列出最需关注的{shown}项（红灯、黄灯在前），另有{total - shown}项未列出"


def chart_caption(leader: str | None, d: date) -> str:
    """The photo's caption (HTML), after the digest's text."""
    if leader is None:
        return f"全市任务红黄绿灯图（{day(d)}）"
    return f"分管任务进展图（{esc(leader)}，{day(d)}）"
