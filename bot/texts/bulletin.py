"""Texts of the monthly 通报 (issue 22): the Word document's title, number, paragraphs and
table headings, and the messages around it. Plain text (the document is not HTML)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

__all__ = [
    "BULLETIN_EMPTY",
    "BULLETIN_ISSUER",
    "BULLETIN_MISSED_HEADERS",
    "BULLETIN_RANKING_HEADERS",
    "BULLETIN_TASK_HEADERS",
    "BULLETIN_USAGE",
    "bulletin_caption",
    "bulletin_date",
    "bulletin_filename",
    "bulletin_lights",
    "bulletin_missed_none",
    "bulletin_number",
    "bulletin_opening",
    "bulletin_reports",
    "bulletin_section",
    "bulletin_tasks_none",
    "bulletin_title",
]

BULLETIN_ISSUER = "市大督导办"
BULLETIN_USAGE = "用法：/bulletin 或 /bulletin 2026-11（生成该月的月度通报 Word 文档）。"
BULLETIN_EMPTY = "该年度尚未导入任务，无法生成通报。"
BULLETIN_TASK_HEADERS = ("序号", "任务", "牵头单位", "主要问题")
BULLETIN_MISSED_HEADERS = ("单位", "本月缺报（项次）", "逾期补报（项次）")
BULLETIN_RANKING_HEADERS = ("类别", "名次", "单位", "本月得分", "年度得分")


def bulletin_title(year: int, month: int) -> str:
    """The document's title."""
    return f"关于{year}年{month}月份《政府工作报告》重点工作目标任务推进情况的通报"


def bulletin_number(year: int) -> str:
    """The 文号 line, the number left for the office to fill in."""
    return f"南政督通〔{year}〕　　号"


def bulletin_date(d: date) -> str:
    """2026年4月1日 (a document's date, no weekday)."""
    return f"{d.year}年{d.month}月{d.day}日"


def bulletin_opening(year: int, month: int, as_of: date) -> str:
    """The first paragraph."""
    return (
        f"根据《{year}年〈政府工作报告〉重点工作目标任务分解方案》督办安排，市大督导办对"
        f"{month}月份各项任务推进和进展报送情况进行了梳理。现将有关情况通报如下（数据截至"
        f"{bulletin_date(as_of)}）。"
    )


def bulletin_section(n: int, title: str) -> str:
    """A numbered heading: 一、… 二、…."""
    numbers = "一二三四五六七八九十"
    return f"{numbers[n - 1]}、{title}"


def bulletin_lights(total: int, done: int, green: int, yellow: int, red: int) -> str:
    """The paragraph on the lights."""
    return (
        f"全市{total}项重点工作目标任务中，已完成{done}项，进展正常（绿灯）{green}项，"
        f"进度滞后或存在困难（黄灯）{yellow}项，逾期未报或严重滞后（红灯）{red}项。"
    )


def bulletin_reports(month: int, owed: int, on_time: int, late: int, missed: int) -> str:
    """The paragraph on the month's reports."""
    if owed == 0:
        return f"{month}月份无应报送的进展。"
    rate = round(100 * (on_time + late) / owed)
    return (
        f"{month}月份各单位应报送进展{owed}项次，按时报送{on_time}项次，逾期补报{late}项次，"
        f"缺报{missed}项次，报送率{rate}%。"
    )


def bulletin_tasks_none(light: str) -> str:
    """Under a section of tasks, when there are none."""
    return f"本月无{light}任务。"


def bulletin_missed_none(month: int) -> str:
    """Under the section of units with missed reports, when there are none."""
    return f"{month}月份各单位均已按要求报送进展。"


def bulletin_filename(year: int, month: int) -> str:
    """月度通报-2026-11.docx."""
    return f"月度通报-{year}-{month:02d}.docx"


def bulletin_caption(year: int, month: int, counts: Sequence[int]) -> str:
    """The message the document comes with."""
    red, yellow = counts
    return (
        f"{year}年{month}月份重点工作目标任务推进情况通报（Word），红灯{red}项、黄灯{yellow}项。"
        "文号处留空，请核定后印发。"
    )
