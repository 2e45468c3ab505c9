"""Texts of 考评 (issue 22): the ranking under /units and the ledger's 考评 sheet."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from bot.domain.assessment import Ranked
from bot.domain.units import CATEGORIES
from bot.texts.common import esc

__all__ = [
    "ASSESSMENT_HEADERS",
    "ASSESSMENT_SHEET",
    "RANKING_BUTTON",
    "assessment_rows",
    "ranking_text",
]

ASSESSMENT_SHEET = "考评"
RANKING_BUTTON = "考评排名"
ASSESSMENT_HEADERS: tuple[str, ...] = (
    "类别",
    "单位",
    "本月排名",
    "本月得分",
    "年度排名",
    "年度得分",
    "本月应报",
    "按时",
    "逾期补报",
    "缺报",
    "逾期工作日",
    "落后序时进度（百分点）",
    "退回",
    "催办",
)
_LABELS = {c.key: c.label for c in CATEGORIES}


def _score(r: Ranked | None) -> str:
    if r is None or r.score.points is None:
        return "—"
    return f"{r.score.points:.1f}"


def ranking_text(
    month: date,
    today: date,
    monthly: Mapping[str, Sequence[Ranked]],
    yearly: Mapping[str, Sequence[Ranked]],
) -> str:
    """Below /units: each kind of unit ranked by the month's score, with the year's."""
    lines = [
        f"<b>考评排名</b>　{month.year}年{month.month}月 · 年度截至{today.month}月{today.day}日",
        "（得分规则见 README「考评规则」；本月无应报事项的单位不排名）",
    ]
    for key, ranked in monthly.items():
        if not ranked:
            continue
        year_of = {r.score.unit_id: r for r in yearly.get(key, ())}
        lines += ["", f"<b>{_LABELS.get(key, key)}</b>"]
        unranked = []
        for r in ranked:
            y = year_of.get(r.score.unit_id)
            if r.rank is None:
                if y is not None and y.rank is not None:
                    unranked.append(f"{esc(r.score.name)}（年度{_score(y)}）")
                continue
            lines.append(f"{r.rank}. {esc(r.score.name)}　本月{_score(r)}｜年度{_score(y)}")
        if unranked:
            lines.append("本月未排名：" + "、".join(unranked))
    return "\n".join(lines)


Row = tuple[str | int | float | None, ...]


def assessment_rows(
    monthly: Mapping[str, Sequence[Ranked]], yearly: Mapping[str, Sequence[Ranked]]
) -> list[Row]:
    """The ledger's 考评 sheet: one row per unit, by kind and the month's rank."""
    out: list[Row] = []
    for key, ranked in monthly.items():
        year_of = {r.score.unit_id: r for r in yearly.get(key, ())}
        for r in ranked:
            y = year_of.get(r.score.unit_id)
            t = r.score.tally
            if r.rank is None and (y is None or y.rank is None):
                continue  # owed nothing this year
            behind = t.behind_average
            out.append(
                (
                    _LABELS.get(key, key),
                    r.score.name,
                    r.rank,
                    r.score.points,
                    y.rank if y else None,
                    y.score.points if y else None,
                    t.owed,
                    t.on_time,
                    t.late,
                    t.missed,
                    t.overdue_workdays,
                    round(behind, 1) if behind is not None else None,
                    t.returned,
                    t.nudged,
                )
            )
    return out
