"""Texts of 退回重报 and 办结销号 (issue 21): prompts, the messages units and the office receive,
and the task card's lines."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, tzinfo

from bot.domain.model import ExtensionNote, PartClosure, ReturnNote
from bot.texts.common import cycle_label, day, day_with_year, esc, moment, short

__all__ = [
    "CLOSE_ALREADY",
    "CLOSE_APPLY_BUTTON",
    "CLOSE_BUTTON",
    "CLOSE_EMPTY",
    "CLOSE_LEAD_ONLY",
    "CLOSE_NOT_YOURS",
    "CLOSE_PENDING",
    "CLOSE_REFUSE_BUTTON",
    "CLOSE_STALE",
    "CLOSE_TASK_DONE",
    "COMMENT_EMPTY",
    "EXTEND_APPROVE_BUTTON",
    "EXTEND_BUTTON",
    "EXTEND_NOTHING",
    "EXTEND_NOT_YOURS",
    "EXTEND_REFUSE_BUTTON",
    "EXTEND_STALE",
    "REPORT_AGAIN_BUTTON",
    "RETURN_BUTTON",
    "RETURN_NONE",
    "RETURN_STALE",
    "close_application",
    "close_applied",
    "close_apply_prompt",
    "close_decided",
    "close_decision",
    "close_lines",
    "closure_button",
    "decision_prompt",
    "extend_bad_date",
    "extend_choose",
    "extend_prompt",
    "extension_button",
    "extension_decided",
    "extension_decision",
    "extension_lines",
    "extension_option",
    "extension_refuse_prompt",
    "extension_request",
    "extension_requested",
    "ledger_extension_plain",
    "return_choice",
    "return_choose",
    "return_prompt",
    "returned",
    "returned_lines",
    "returned_message",
]

STATE_LABELS = {
    "applied": "已申请销号，待审核",
    "closed": "已销号",
    "refused": "销号申请未通过",
    "reopened": "已重新打开",
}

# --- 退回重报 -------------------------------------------------------------------------------------

RETURN_BUTTON = "退回重报"
RETURN_NONE = "该任务目前没有可退回的报送（只能退回仍可重新报送的当期或补报期报送）。"
RETURN_STALE = "该报送已不能退回（已被退回、已有新报送，或报送期已过）。"
REPORT_AGAIN_BUTTON = "重新报送"
COMMENT_EMPTY = "意见为空，请直接发送文字，或发送 /cancel 取消。"


def return_choose(no: int) -> str:
    """After 退回重报 on a card: which unit's report."""
    return f"请选择要退回的第{no}项任务报送："


def return_choice(unit: str, cycle_key: str, percent: float | None) -> str:
    """A button: one unit's report that may be returned."""
    share = f" {percent:g}%" if percent is not None else ""
    return f"{short(unit, 12)} · {cycle_label(cycle_key)}{share}"


def return_prompt(no: int, unit: str, cycle_key: str, text: str, limit: int) -> str:
    """After a report to return was chosen."""
    return (
        f"退回<b>第{no}项</b> {esc(unit)} {cycle_label(cycle_key)}报送：\n"
        f"{esc(short(text, 80))}\n"
        f"请输入退回意见（{limit}字以内），将发送给该单位联络员。发送 /cancel 可取消。"
    )


def returned_message(no: int, task_text: str, cycle_key: str, comment: str) -> str:
    """To the unit's liaisons: their report was returned."""
    return (
        f"<b>报送退回</b>　第{no}项 {esc(short(task_text, 30))}\n"
        f"贵单位{cycle_label(cycle_key)}报送已被督导办退回，该期按未报送计，请修改后重新报送。\n"
        f"退回意见：{esc(comment)}"
    )


def returned(no: int, unit: str, cycle_key: str, recipients: int) -> str:
    """To the office, once returned."""
    told = f"已通知{recipients}位联络员" if recipients else "该单位暂无可送达的联络员，请电话通知"
    return (
        f"已退回第{no}项 {esc(unit)} {cycle_label(cycle_key)}报送，{told}。"
        "该期在重新报送前按未报送计。"
    )


def returned_lines(found: Sequence[ReturnNote], tz: tzinfo) -> list[str]:
    """The card's 退回记录 section (newest first)."""
    if not found:
        return []
    lines = ["", "<b>退回记录</b>"]
    for r in found:
        when = moment(r.at.astimezone(tz))
        lines.append(
            f"· {esc(r.unit)} {cycle_label(r.cycle_key)}（{when}）：{esc(short(r.comment, 80))}"
        )
    return lines


# --- 办结销号 -------------------------------------------------------------------------------------

CLOSE_APPLY_BUTTON = "申请销号"
CLOSE_BUTTON = "同意销号"
CLOSE_REFUSE_BUTTON = "不予销号"
CLOSE_EMPTY = "办结情况为空，请直接发送文字，或发送 /cancel 取消。"
CLOSE_NOT_YOURS = "只有该任务牵头单位的联络员可以申请销号。"
CLOSE_LEAD_ONLY = "销号由牵头单位申请，责任单位无需申请。"
CLOSE_TASK_DONE = "该任务已办结销号。"
CLOSE_PENDING = "贵单位已申请销号，正在等待督导办审核。"
CLOSE_ALREADY = "贵单位承担的部分已销号。"
CLOSE_STALE = "该销号申请已处理，或状态已变化。"


def close_apply_prompt(no: int, text: str, limit: int) -> str:
    """After 申请销号 on a card."""
    return (
        f"申请<b>第{no}项</b>任务销号：\n{esc(short(text, 60))}\n"
        f"请简要说明办结情况（{limit}字以内），直接发送文字即可；佐证材料（照片或文件）"
        "可先回复任务卡片发送，将随申请一并提交。"
        "提交后视为报送完成进度100%，由督导办审核。发送 /cancel 可取消。"
    )


def close_application(no: int, task_text: str, unit: str, text: str, files: int = 0) -> str:
    """To the office: a unit applies to close its part (`files`: the 佐证材料 it sent with it)."""
    attached = f"\n附佐证材料{files}份，可在任务卡片「查看佐证材料」中查看。" if files else ""
    return (
        f"<b>销号申请</b>　第{no}项 {esc(short(task_text, 30))}\n"
        f"{esc(unit)}：{esc(text)}{attached}\n请审核后点击下方按钮。"
    )


def close_applied(no: int, recipients: int) -> str:
    """To the liaison, once applied."""
    return f"第{no}项任务的销号申请已提交督导办（{recipients}人）审核，审核前不再提醒报送。"


def decision_prompt(no: int, unit: str, reopen: bool, limit: int) -> str:
    """After 不予销号 or 重新打开: the comment."""
    what = "重新打开" if reopen else "不予销号"
    return (
        f"{what}<b>第{no}项</b> {esc(unit)}：请输入意见（{limit}字以内），将发送给该单位联络员。"
        "发送 /cancel 可取消。"
    )


def close_decision(no: int, task_text: str, state: str, comment: str | None) -> str:
    """To the unit's liaisons: the office's decision."""
    head = f"第{no}项 {esc(short(task_text, 30))}\n"
    if state == "closed":
        return f"<b>已销号</b>　{head}贵单位承担的部分已审核销号，不再提醒报送。"
    what = "销号申请未通过" if state == "refused" else "任务已重新打开"
    return f"<b>{what}</b>　{head}请继续推进并按期报送进展。\n意见：{esc(comment or '')}"


def close_decided(no: int, unit: str, state: str, *, task_closed: bool, task_reopened: bool) -> str:
    """To the office, once decided."""
    lines = [f"第{no}项 {esc(unit)}：{STATE_LABELS[state]}，已通知该单位。"]
    if task_closed:
        lines.append(f"第{no}项各牵头单位均已销号，任务办结，全部单位不再提醒报送。")
    if task_reopened:
        lines.append(f"第{no}项任务随之重新打开，各单位恢复报送提醒。")
    return "\n".join(lines)


def closure_button(action: str, unit: str) -> str:
    """A card button of the office's: decide on a unit's part."""
    label = {"clo": "同意销号", "clr": "不予销号", "clx": "重新打开"}[action]
    return f"{label}：{short(unit, 12)}"


def close_lines(parts: Sequence[PartClosure]) -> list[str]:
    """The card's 销号 line: each lead unit that applied, with its state."""
    shown = [p for p in parts if p.state is not None]
    if not shown:
        return []
    bits = [f"{esc(p.name)}{STATE_LABELS[p.state or '']}" for p in shown]
    return ["", f"<b>办结销号</b>：{'；'.join(bits)}"]


# --- 延期申请 -------------------------------------------------------------------------------------

EXTEND_BUTTON = "申请延期"
EXTEND_APPROVE_BUTTON = "同意延期"
EXTEND_REFUSE_BUTTON = "不予延期"
EXTEND_NOT_YOURS = "只有该任务牵头或责任单位的联络员可以申请延期。"
EXTEND_NOTHING = "目前没有可申请延期的事项（本期已报送，或已有延期申请待审核）。"
EXTEND_STALE = "该延期申请已处理，或已不能申请。"
EXTEND_STATES = {"requested": "待审核", "approved": "已同意", "refused": "未同意"}


def _what(cycle_key: str | None) -> str:
    return f"{cycle_label(cycle_key)}报送" if cycle_key else "任务完成时限"


def extension_option(cycle_key: str | None, deadline: date) -> str:
    """A button: a deadline that may be moved."""
    return f"{_what(cycle_key)}（现截止{day(deadline)}）"


def extend_choose(no: int) -> str:
    """After 申请延期 on a card."""
    return f"第{no}项任务，请选择申请延期的事项："


def extend_prompt(no: int, cycle_key: str | None, deadline: date, limit: date, max_len: int) -> str:
    """After an option was chosen."""
    return (
        f"申请<b>第{no}项</b>{_what(cycle_key)}延期（现截止{day(deadline)}，最晚可延至"
        f"{day_with_year(limit)}）。\n请在一条消息中写明延至的日期和理由（{max_len}字以内），"
        "例如：「延至4月3日，统计数据4月初发布」。发送 /cancel 可取消。"
    )


def extend_bad_date(deadline: date, limit: date) -> str:
    """The text named no date, or one outside what may be asked (nothing is stored)."""
    return (
        f"未识别到有效的延期日期：须晚于{day(deadline)}、不早于今天、"
        f"不晚于{day_with_year(limit)}。"
        "请重新发送日期和理由，或发送 /cancel 取消。"
    )


def extension_requested(no: int, recipients: int) -> str:
    """To the liaison, once sent."""
    return (
        f"第{no}项任务的延期申请已提交（{recipients}人），审核结果将另行通知；"
        "审核前仍按原截止时间提醒。"
    )


def _note_line(n: ExtensionNote) -> str:
    old = f"{n.old_date.month}月{n.old_date.day}日"
    return f"{_what(n.cycle_key)}由{old}延至{day_with_year(n.new_date)}"


def extension_request(no: int, task_text: str, unit: str, n: ExtensionNote) -> str:
    """To who approves (and the office): a request."""
    return (
        f"<b>延期申请</b>　第{no}项 {esc(short(task_text, 30))}\n"
        f"{esc(unit)}申请{_note_line(n)}。\n理由：{esc(n.reason)}"
    )


def extension_decision(no: int, task_text: str, n: ExtensionNote) -> str:
    """To the unit's liaisons: the decision."""
    head = f"第{no}项 {esc(short(task_text, 30))}\n"
    if n.state == "approved":
        extra = f"\n意见：{esc(n.comment)}" if n.comment else ""
        done = f"{esc(n.unit)}{_note_line(n)}，提醒和督办按新时间执行。"
        return f"<b>延期已同意</b>　{head}{done}{extra}"
    return (
        f"<b>延期未同意</b>　{head}{esc(n.unit)}申请{_note_line(n)}未获同意，仍按原时间执行。\n"
        f"意见：{esc(n.comment or '')}"
    )


def extension_button(approve: bool, unit: str) -> str:
    """A card button of who approves: decide a unit's request."""
    return f"{'同意延期' if approve else '不予延期'}：{short(unit, 12)}"


def extension_refuse_prompt(no: int, unit: str, limit: int) -> str:
    """After 不予延期: the comment."""
    return (
        f"不予延期<b>第{no}项</b> {esc(unit)}：请输入意见（{limit}字以内），将发送给该单位联络员。"
        "发送 /cancel 可取消。"
    )


def extension_decided(no: int, n: ExtensionNote) -> str:
    """To who decided."""
    return f"第{no}项 {esc(n.unit)}{_note_line(n)}：{EXTEND_STATES[n.state]}，已通知该单位。"


def extension_lines(found: Sequence[ExtensionNote]) -> list[str]:
    """The card's 延期 section (oldest first, the last five)."""
    if not found:
        return []
    lines = ["", "<b>延期申请</b>"]
    for n in found[-5:]:
        lines.append(f"· {esc(n.unit)} {_note_line(n)}（{EXTEND_STATES[n.state]}）")
    return lines


def ledger_extension_plain(found: Sequence[ExtensionNote]) -> str:
    """The ledger's 延期 cell: approved extensions, and requests awaiting a decision."""
    return "；".join(
        f"{n.unit}{_note_line(n)}" + ("" if n.state == "approved" else "（待审核）")
        for n in found
        if n.state != "refused"
    )
