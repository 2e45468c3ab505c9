"""Texts of 佐证材料 (evidence): what a liaison is told about a file, the card's line and
button, and the captions of the files the card sends back."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from bot.texts.common import esc, moment, short

__all__ = [
    "EVIDENCE_CHOOSE_FIRST",
    "EVIDENCE_NONE",
    "EVIDENCE_WHICH_TASK",
    "evidence_bad_type",
    "evidence_button",
    "evidence_caption",
    "evidence_card_line",
    "evidence_duplicate",
    "evidence_more",
    "evidence_stored",
    "evidence_too_big",
]

EVIDENCE_WHICH_TASK = (
    "请说明这份佐证材料属于哪项任务：发送 /report 选择任务后再发送照片或文件，"
    "或直接回复该任务的提醒消息发送。"
)
EVIDENCE_CHOOSE_FIRST = "请先在上方选择要报送的任务，再发送佐证材料。"
EVIDENCE_NONE = "该任务暂无佐证材料。"


def evidence_stored(no: int, unit: str, name: str, count: int) -> str:
    """A file was kept."""
    return (
        f"已收到「{esc(short(name, 40))}」，作为{esc(unit)}第{no}项任务的佐证材料保存"
        f"（本单位该任务共{count}份），将随下次进展报送一并存档。"
    )


def evidence_duplicate(no: int) -> str:
    """The same file again."""
    return f"该文件已是第{no}项任务的佐证材料，无需重复发送。"


def evidence_bad_type(types: Iterable[str]) -> str:
    """A file type not on the list."""
    listed = "、".join(sorted(types))
    return f"未保存：暂不支持该文件类型。佐证材料请发送照片或以下格式的文件：{listed}。"


def evidence_too_big(max_mb: int) -> str:
    """A file over the size limit."""
    return f"未保存：文件超过{max_mb}MB。请压缩或拆分后重新发送。"


def evidence_card_line(count: int) -> str:
    """The task card's line (none when there is nothing)."""
    return f"\n佐证材料{count}份" if count else ""


def evidence_button(count: int) -> str:
    """The card's button that sends the files."""
    return f"查看佐证材料（{count}）"


def evidence_caption(no: int, unit: str, at: datetime, name: str) -> str:
    """The caption of a file sent back from the card."""
    return f"第{no}项 · {esc(unit)} · {moment(at)}\n{esc(short(name, 60))}"


def evidence_more(shown: int, total: int) -> str:
    """After the files sent back, when there are more."""
    return f"以上为最新的{shown}份佐证材料，该任务共{total}份。"
