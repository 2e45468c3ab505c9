"""Texts for the office and the leaders: /overdue, task cards, /units, summaries, nudges, ledger.

Functions named `*_plain` return plain text (for the Excel ledger and callback answers); every
other function returns HTML with user and database data escaped by `esc`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from bot.domain.boards import Standing
from bot.domain.cards import Card
from bot.domain.model import CardNote, ReportInfo, Target
from bot.domain.overdue import FilterProblem, OverdueGroup, OverdueRow
from bot.domain.status import (
    AllReported100,
    Behind,
    CycleDue,
    Difficulty,
    DueSoonUnreported,
    EndDatePassed,
    ExpectedDatePassed,
    FarBehind,
    Light,
    MarkedComplete,
    OnTrack,
    Overdue,
    Reason,
    ScheduleCheck,
    Status,
)
from bot.domain.summaries import Flagged, Summary
from bot.domain.units import UnitLine
from bot.texts.common import cycle_label, day, day_with_year, esc, moment, short

__all__ = [
    "CARD_RESTRICTED",
    "CLOSE_YEAR_BUTTON",
    "CLOSE_YEAR_USAGE",
    "EXPORT_EMPTY",
    "HISTORY_BUTTON",
    "INSTRUCT_BUTTON",
    "INSTRUCT_EMPTY",
    "INSTRUCT_NOT_YOURS",
    "LEDGER_CONTINUATION_HEADERS",
    "LEDGER_CONTINUATION_SHEET",
    "LEDGER_HEADERS",
    "LIGHT_MARKS",
    "NEXT_PAGE",
    "OVERDUE_PAGE_ROWS",
    "PREV_PAGE",
    "REQUEST_BUTTON",
    "REQUEST_EMPTY",
    "REQUEST_NOT_YOURS",
    "SUMMARY_NONE",
    "SUMMARY_NONE_OFFICE",
    "TASK_CARD_BUTTON",
    "TASK_NOT_VISIBLE",
    "TASK_NO_USAGE",
    "YEAR_ARG_USAGE",
    "answer_instructions",
    "circular",
    "close_year_confirm",
    "export_caption",
    "filter_problem",
    "instruct_prompt",
    "instructed",
    "instruction_lines",
    "instruction_message",
    "kind_filter_button",
    "ledger_ack_plain",
    "ledger_close_plain",
    "ledger_continued",
    "ledger_filename",
    "ledger_latest_plain",
    "ledger_status_plain",
    "ledger_subtitle",
    "ledger_title",
    "nudge_answer_plain",
    "nudge_button",
    "nudge_message",
    "overdue_none",
    "overdue_page",
    "overdue_units_page",
    "pct",
    "reason_line",
    "reason_plain",
    "request_message",
    "request_prompt",
    "requested",
    "status_filter_button",
    "summary_text",
    "target_plain",
    "task_card",
    "task_history",
    "task_not_found",
    "typed_too_long",
    "unit_detail_button",
    "unit_nudge_answer",
    "unit_nudge_button",
    "units_overview",
    "year_closed",
    "year_not_closable",
    "year_not_closed",
    "year_note",
    "year_reopened",
]

LIGHT_MARKS: Mapping[Light, str] = {
    Light.RED: "🔴",
    Light.YELLOW: "🟡",
    Light.GREEN: "🟢",
    Light.DONE: "✅",
}

PREV_PAGE = "‹ 上一页"
NEXT_PAGE = "下一页 ›"
OVERDUE_PAGE_ROWS = 15
HISTORY_BUTTON = "报送记录（{n}条）"
TASK_CARD_BUTTON = "返回任务卡片"
TASK_NO_USAGE = "请在 /task 后输入任务序号，例如：/task 6。"
TASK_NOT_VISIBLE = "该任务不属于本单位，无法查看。"
CARD_RESTRICTED = "（其他单位的报送内容仅牵头单位、督导办和分管领导可见。）"
SUMMARY_NONE = "您分管（挂钩）的任务在本年度任务表中暂无记录。如有疑问请联系市大督导办。"
SUMMARY_NONE_OFFICE = "本年度任务表尚未导入，暂无进展摘要。请管理员导入任务表。"
EXPORT_EMPTY = "本年度任务表尚未导入，暂无可导出的台账。"
CLOSE_YEAR_USAGE = "请在 /closeyear 后输入年度，例如：/closeyear 2026。"
CLOSE_YEAR_BUTTON = "确认结束{year}年度督办"
YEAR_ARG_USAGE = "年度应为四位数字，例如：/export 2026。"


def close_year_confirm(year: int) -> str:
    """Asked before a year is closed."""
    return (
        f"确认结束{year}年度督办？\n结束后该年度任务不再提醒、催办和通报，"
        f"报送记录和台账仍可查阅（如 /export {year}、/task {year}-6）。"
    )


def year_closed(year: int, working: int) -> str:
    """A year was closed."""
    return f"{year}年度督办已结束。各项查询和提醒现按{working}年度任务表进行。"


def year_reopened(year: int) -> str:
    """A closed year was opened again."""
    return f"{year}年度督办已重新开启。"


def year_not_closed(year: int) -> str:
    """--reopen for a year that is open."""
    return f"{year}年度督办尚未结束，无需重新开启。"


def year_not_closable(year: int) -> str:
    """A year without a register, or closed already."""
    return f"{year}年度没有可结束的督办：任务表未导入，或该年度已结束。"


def year_note(year: int, today: date) -> str:
    """Said beside a view that shows a year other than the calendar year."""
    return f"（{year}年度）" if year != today.year else ""


_KIND_LABELS = {"monthly": "月报", "quarterly": "季报", "dates": "节点报送"}
_COMPARATORS = {"at_least": "不低于", "at_most": "不高于", "exact": ""}


def pct(value: float) -> str:
    """45 / 45.5 / 45.25 as a reader expects it (no trailing zeros)."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _md(d: date) -> str:
    return f"{d.month}月{d.day}日"


# --- Reasons ------------------------------------------------------------------------------------


def reason_plain(reason: Reason, *, brief: bool = False) -> str:
    """One status reason as a short Chinese sentence (plain text); `brief` drops the deadline."""
    match reason:
        case MarkedComplete(completed_on=on):
            return f"已标记完成（{_md(on)}）" if on else "已标记完成"
        case AllReported100(units=units):
            return f"牵头单位均已报送完成（{'、'.join(units)}）"
        case Overdue():
            what = f"{reason.unit}{cycle_label(reason.cycle_key)}进展"
            deadline = "" if brief else f"（截止{day(reason.deadline)}）"
            if reason.workdays_overdue > 0:
                return f"{what}逾期{reason.workdays_overdue}个工作日未报{deadline}"
            return f"{what}已过截止时间未报{deadline}"
        case EndDatePassed():
            return f"任务期限{_md(reason.end)}已过{reason.days_passed}天，尚未完成"
        case ExpectedDatePassed():
            tail = f"，当前进度{pct(reason.percent)}%" if reason.percent is not None else ""
            return (
                f"{reason.unit}预计完成时间{_md(reason.expected)}已过{reason.days_passed}天{tail}"
            )
        case FarBehind() | Behind():
            how = "，严重滞后" if isinstance(reason, FarBehind) else ""
            return (
                f"{reason.unit}进度{pct(reason.percent)}%，落后序时进度（{pct(reason.elapsed_pct)}%）"
                f"{pct(reason.gap)}个百分点{how}"
            )
        case Difficulty():
            return f"{reason.unit}反映困难或需协调：{short('；'.join(reason.phrases), 60)}"
        case DueSoonUnreported():
            what = f"{reason.unit}{cycle_label(reason.cycle_key)}进展尚未报送"
            if reason.workdays_left <= 0:
                return f"{what}，今日截止"
            return f"{what}，{reason.workdays_left}个工作日后截止（{day(reason.deadline)}）"
        case OnTrack():
            return _on_track(reason)
    return ""


def _on_track(reason: OnTrack) -> str:
    if reason.schedule is ScheduleCheck.CHECKED and reason.percent is not None:
        head = (
            f"进度正常（{reason.unit}{pct(reason.percent)}%，"
            f"序时进度{pct(reason.elapsed_pct or 0)}%）"
        )
    elif reason.schedule is ScheduleCheck.NOT_APPLICABLE:
        head = "按期推进（增长率类目标，不按序时进度比较）"
    else:
        head = "按期推进（暂无进度数据）"
    parts = [head]
    if reason.reported:
        parts.append(f"本期已报：{'、'.join(reason.reported)}")
    if reason.awaiting and reason.next_deadline is not None:
        parts.append(f"下次截止{day(reason.next_deadline)}")
    return "；".join(parts)


def reason_line(reason: Reason) -> str:
    """A reason as an HTML list line."""
    return f"· {esc(reason_plain(reason))}"


# --- /overdue -----------------------------------------------------------------------------------


def nudge_button(no: int, unit: str) -> str:
    """The label of a nudge button on an /overdue row."""
    return f"催办 第{no}项 {unit}"


def unit_nudge_button(unit: str, tasks: int) -> str:
    """The label of 催办本单位 on /overdue."""
    return f"催办{unit}（{tasks}项）"


def kind_filter_button(label: str, chosen: bool) -> str:
    """A kind-of-unit filter under /overdue (a chosen one is ticked; pressed again: all)."""
    return f"✓{label}" if chosen else label


def status_filter_button(workdays: int, chosen: bool) -> str:
    """The 提请关注 filter under /overdue: only rows overdue `workdays` or more, or all rows."""
    return "显示全部逾期" if chosen else f"只看逾期{workdays}个工作日以上"


def unit_detail_button(unit: str) -> str:
    """The label of the drill-down to a unit's overdue tasks."""
    return f"{unit}明细"


def unit_nudge_answer(outcome: str, unit: str, tasks: int, recipients: int) -> str:
    """The short answer to 催办本单位 (plain text, shown as a toast or alert)."""
    if outcome == "sent":
        return f"已向{unit}联络员发出催办，共{tasks}项任务（{recipients}人）。"
    if outcome == "already":
        return f"今日已催办{unit}全部{tasks}项逾期任务，请勿重复催办。"
    if outcome == "nobody":
        return f"{unit}尚无可送达的联络员，无法通过本助手催办，请电话联系。"
    return "该单位目前没有逾期未报事项，无需催办。"


def overdue_units_page(
    groups: Sequence[OverdueGroup],
    *,
    label: str,
    own: bool,
    total: int,
    units: int,
    page: int,
    pages: int,
    first: int,
    as_of: datetime,
    nudged: Mapping[int, int],
    year: int,
    can_nudge: bool,
) -> str:
    """/overdue by unit: one line per unit — its count, its longest overdue task, that task's
    leaders — longest overdue first. `nudged`: unit id → tasks nudged today."""
    title = f"{year}年度" + ("分管任务逾期未报事项" if own else "逾期未报事项")
    where = f"（筛选：{esc(label)}）" if label else ""
    lines = [
        f"<b>{title}</b>{where}",
        f"截至{moment(as_of)}，{units}个单位共{total}个单位·任务逾期未报。第{page}/{pages}页",
        "",
    ]
    for n, group in enumerate(groups, first):
        worst = group.rows[0]
        late = f"已逾期{worst.workdays}个工作日" if worst.workdays > 0 else "已过截止时间"
        leaders = esc("、".join(worst.leaders) or "—")
        done = nudged.get(group.unit_id, 0)
        mark = f"（今日已催办{done}项）" if done else ""
        lines.append(
            f"{n}. <b>{esc(group.unit)}</b>　{len(group.rows)}项{mark}\n"
            f"　最久：第{worst.task_no}项 {esc(short(worst.task_text, 14))}，"
            f"{cycle_label(worst.cycle_key)}{late}｜分管：{leaders}"
        )
    if can_nudge:
        lines += [
            "",
            "点「催办」向该单位联络员发一条消息列明全部逾期任务；点「明细」逐项查看、催办。",
        ]
    else:
        lines += ["", "点「明细」逐项查看。"]
    return "\n".join(lines)


def overdue_none(label: str, own: bool, year: int) -> str:
    """Nothing overdue now (for the filter, if any). Never "all reported": earlier missed
    cycles stay on the record (/units)."""
    scope = "您分管的" if own else ""
    where = f"「{esc(label)}」" if label else ""
    return f"{year}年度{scope}任务{where}目前没有待报送的逾期事项。往期缺报情况请发送 /units 查看。"


def filter_problem(problem: FilterProblem) -> str:
    """A filter that names nothing, or several units."""
    if problem.candidates:
        names = "、".join(esc(c) for c in problem.candidates[:12])
        more = f"等{len(problem.candidates)}个" if len(problem.candidates) > 12 else ""
        return f"「{esc(problem.arg)}」对应多个单位：{names}{more}。请输入完整单位名称。"
    return (
        f"未找到与「{esc(short(problem.arg, 20))}」对应的单位、领导、板块或报送期。\n"
        "示例：/overdue 发改局、/overdue 吴振强、/overdue 乡镇街道、/overdue 经济、"
        "/overdue 2026-03、/overdue 提请关注。"
    )


def _row_when(row: OverdueRow) -> str:
    when = f"{cycle_label(row.cycle_key)}进展，截止{day(row.deadline)}"
    if row.workdays > 0:
        return f"{when}，逾期{row.workdays}个工作日"
    return f"{when}，已过截止时间"


def _group_head(group: OverdueGroup, continued: bool) -> tuple[str, bool]:
    """A unit's heading; True if every row shares one cycle, so rows need not repeat it."""
    cont = "（续）" if continued else ""
    first = group.rows[0]
    same = all(
        (r.cycle_key, r.deadline, r.workdays) == (first.cycle_key, first.deadline, first.workdays)
        for r in group.rows
    )
    if same:
        late = f"逾期{first.workdays}个工作日" if first.workdays > 0 else "已过截止时间"
        when = f"{cycle_label(first.cycle_key)}进展{late}（截止{day(first.deadline)}）"
        return f"<b>{esc(group.unit)}</b>{cont}　{len(group.rows)}项，{when}", True
    head = f"<b>{esc(group.unit)}</b>{cont}　{len(group.rows)}项，最长逾期{group.worst}个工作日"
    return head, False


def overdue_page(
    rows: Sequence[OverdueRow],
    groups: Mapping[int, OverdueGroup],
    *,
    label: str,
    own: bool,
    total: int,
    units: int,
    page: int,
    pages: int,
    as_of: datetime,
    continued: bool,
    nudged: Mapping[tuple[int, int], datetime],
    year: int,
) -> str:
    """One page of /overdue, grouped by unit, worst first."""
    title = f"{year}年度" + ("分管任务逾期未报事项" if own else "逾期未报事项")
    where = f"（筛选：{esc(label)}）" if label else ""
    lines = [
        f"<b>{title}</b>{where}",
        f"截至{moment(as_of)}，共{total}项，涉及{units}个单位。第{page}/{pages}页",
    ]
    current: int | None = None
    shared = False
    for i, row in enumerate(rows):
        if row.unit_id != current:
            current = row.unit_id
            head, shared = _group_head(groups[row.unit_id], i == 0 and continued)
            lines += ["", head]
        role = "" if row.lead else "（配合）"
        done = nudged.get((row.task_id, row.unit_id))
        mark = f"（今日{done:%H:%M}已催办）" if done is not None else ""
        leaders = esc("、".join(row.leaders) or "—")
        earlier = f"（此前另有{row.earlier}期未报）" if row.earlier else ""
        line = (
            f"· 第{row.task_no}项{role} {esc(short(row.task_text, 20))}{earlier}"
            f"｜分管：{leaders}{mark}"
        )
        lines.append(line if shared else f"{line}\n　{_row_when(row)}")
    return "\n".join(lines)


# --- Nudges -------------------------------------------------------------------------------------


def nudge_message(
    unit: str,
    task_no: int,
    task_text: str,
    lead: bool,
    cycle: CycleDue,
    workdays_overdue: int | None,
) -> str:
    """The nudge a unit's liaisons receive."""
    role = "牵头" if lead else "配合（责任）"
    what = (
        f"{esc(unit)}：市大督导办催办，您单位{role}的第{task_no}项任务{cycle_label(cycle.key)}进展"
    )
    if workdays_overdue is not None and workdays_overdue > 0:
        late = f"已逾期{workdays_overdue}个工作日未报送"
        body = f"{what}{late}（截止{day(cycle.deadline)}），请尽快报送。"
    elif workdays_overdue is not None:
        body = f"{what}已过截止时间（{day(cycle.deadline)}）尚未报送，请尽快报送。"
    else:
        due = moment(cycle.due) if cycle.due is not None else day(cycle.deadline)
        body = f"{what}尚未报送，截止时间{due}，请按时报送。"
    return (
        f"{body}\n任务内容：{esc(short(task_text, 60))}\n请直接回复本消息报送进展，或发送 /report。"
    )


def nudge_answer_plain(outcome: str, unit: str, recipients: int, at: datetime | None) -> str:
    """The short answer to a 催办 button (plain text, shown as a toast or alert)."""
    if outcome == "sent":
        return f"已向{unit}联络员发出催办（{recipients}人）。"
    if outcome == "already":
        when = f"（{at:%H:%M}）" if at is not None else ""
        return f"今日已催办{unit}{when}，请勿重复催办。"
    if outcome == "nobody":
        return f"{unit}尚无可送达的联络员，无法通过本助手催办，请电话联系。"
    if outcome == "reported":
        return f"{unit}本期进展已报送，无需催办。"
    if outcome == "done":
        return "该任务已完成，无需催办。"
    return "该单位不承担本任务进展报送，无需催办。"


# --- Task card ----------------------------------------------------------------------------------


def task_not_found(no: int, year: int) -> str:
    """No task with that number."""
    return f"{year}年任务表中没有第{no}项任务。"


def target_plain(target: Target) -> str:
    """A target as the notice would say it (完成投资不低于800亿元)."""
    cmp = _COMPARATORS.get(target.comparator, "")
    verb = "增长" if target.kind == "growth" else ""
    return f"{target.metric}{verb}{cmp}{pct(target.value)}{target.unit}"


def _duty_flag(s: Standing) -> str:
    """What the unit owes now, and the earlier cycles it missed."""
    earlier = f"（此前另有{s.earlier_missed}期未报）" if s.earlier_missed else ""
    if s.done:
        return f"✅本单位已完成{earlier}"
    if s.missed is not None:
        return f"⚠️{cycle_label(s.missed.key)}逾期未报{earlier}"
    if s.current is not None and not s.reported_current:
        return f"{cycle_label(s.current.key)}待报{earlier}"
    return f"往期{s.earlier_missed}期未报" if s.earlier_missed else ""


def _latest_line(s: Standing, tz: tzinfo) -> str:
    role = "牵头" if s.unit.lead else "责任"
    name = f"{esc(s.unit.name)}（{role}）"
    if s.latest is None:
        flag = _duty_flag(s)
        return f"· {name}：暂无报送{'，' + flag if flag else ''}"
    r = s.latest.report
    bits = [moment(r.created_at.astimezone(tz)), f"{cycle_label(r.cycle_key)}报送"]
    if r.percent is not None:
        bits.append(f"{pct(r.percent)}%")
    if r.version > 1:
        bits.append(f"第{r.version}版")
    flag = _duty_flag(s)
    flag = f"　{flag}" if flag else ""
    return f"· {name} {' · '.join(bits)}{flag}\n　{esc(short(r.text, 70))}"


def task_card(
    card: Card,
    tz: tzinfo,
    instructions: Sequence[CardNote] = (),
    requests: Sequence[CardNote] = (),
    loop: Sequence[str] = (),
) -> str:
    """The task card: register data, status with reasons, targets, each unit's latest report;
    `loop`: the close-out and return lines (bot.texts.closeout)."""
    task = card.board.task
    status = card.status
    lines = [
        f"<b>第{task.no}项任务</b>　{LIGHT_MARKS[status.light]}{status.label}",
        esc(task.text),
        f"{esc(task.section)}{esc(task.subsection) if task.subsection else ''}",
        f"牵头单位：{esc('、'.join(task.lead_labels) or '—')}",
        f"责任单位：{esc('、'.join(task.responsible_labels) or '—')}",
        f"分管领导：{esc('、'.join(task.leader_names) or '—')}",
    ]
    kind = _KIND_LABELS.get(task.cycle_kind, task.cycle_kind)
    if card.board.completed:
        lines.append(f"报送方式：{kind}（任务已完成）")
    elif card.current is not None:
        due = (
            moment(card.current.due.astimezone(tz))
            if card.current.due
            else day(card.current.deadline)
        )
        lines.append(f"报送方式：{kind}，本期{cycle_label(card.current.key)}截止{due}")
    else:
        lines.append(f"报送方式：{kind}（本年度报送期已结束）")
    lines += ["", f"<b>状态：{status.label}</b>"]
    lines += [reason_line(r) for r in status.reasons[:8]]
    if len(status.reasons) > 8:
        lines.append(f"（另有{len(status.reasons) - 8}条原因未列出）")
    if card.targets:
        lines += ["", "<b>目标进展</b>"]
        for t in card.targets:
            goal = esc(target_plain(t.target))
            if t.value is None:
                lines.append(f"· {goal}：暂无报送")
                continue
            share = f"（{pct(t.percent)}%）" if t.percent is not None else ""
            when = f"，{esc(t.by or '')} {_md(t.at.astimezone(tz).date())}" if t.at else ""
            lines.append(f"· {goal}：最新{pct(t.value)}{esc(t.unit or '')}{share}{when}")
    lines += ["", "<b>各单位最新报送</b>"]
    silent = 0
    for s in card.board.units:
        owing_now = s.missed is not None or (s.current is not None and not s.reported_current)
        if not s.unit.lead and s.latest is None and not owing_now:
            silent += 1
            continue
        lines.append(_latest_line(s, tz))
    if silent:
        lines.append(f"其余{silent}个责任单位暂无报送。")
    if card.restricted:
        lines.append(CARD_RESTRICTED)
    lines += instruction_lines(instructions, tz)
    lines += instruction_lines(requests, tz, "提请协调")
    lines += loop
    if card.nudged_today:
        names = [s.unit.name for s in card.board.units if s.unit.unit_id in card.nudged_today]
        lines.append(f"\n今日已催办：{esc('、'.join(names))}")
    return "\n".join(lines)


def task_history(
    no: int,
    reports: Sequence[ReportInfo],
    page: int,
    pages: int,
    total: int,
    tz: tzinfo,
    returned: Mapping[int, str] | None = None,
) -> str:
    """A page of a task's report history, newest first; `returned`: the returned reports'
    ids with the office's comment (they stay in the history, marked)."""
    if not reports:
        return f"第{no}项任务暂无报送记录。"
    lines = [f"<b>第{no}项任务报送记录</b>（共{total}条，第{page}/{pages}页）"]
    for r in reports:
        bits = [moment(r.created_at.astimezone(tz)), esc(r.unit), f"{cycle_label(r.cycle_key)}报送"]
        if r.percent is not None:
            bits.append(f"{pct(r.percent)}%")
        if r.version > 1:
            bits.append(f"第{r.version}版")
        line = f"· {' · '.join(bits)}\n　{esc(short(r.text, 90))}"
        if returned and r.id in returned:
            line += f"\n　<i>已退回：{esc(short(returned[r.id], 60))}</i>"
        lines.append(line)
    return "\n".join(lines)


# --- 领导批示 -----------------------------------------------------------------------------------

INSTRUCT_BUTTON = "批示"
INSTRUCT_EMPTY = "批示内容为空，请直接发送批示文字，或发送 /cancel 取消。"
INSTRUCT_NOT_YOURS = "只有该任务的分管（挂钩）领导可以批示。"


def instruct_prompt(no: int, text: str, limit: int) -> str:
    """After 批示 was pressed."""
    return (
        f"请输入对<b>第{no}项</b>任务的批示（{limit}字以内），直接发送文字即可：\n"
        f"{esc(short(text, 60))}\n发送 /cancel 可取消。"
    )


def typed_too_long(limit: int, length: int) -> str:
    """A 批示 or 提请协调 over the limit (nothing is sent)."""
    return f"内容共{length}字，超过{limit}字，未发送。请精简后重新发送，或发送 /cancel 取消。"


def instruction_message(no: int, task_text: str, leader: str, text: str, *, to_unit: bool) -> str:
    """The instruction as its units and the office receive it."""
    lines = [
        f"<b>领导批示</b>　第{no}项 {esc(short(task_text, 30))}",
        f"{esc(leader)}：{esc(text)}",
    ]
    if to_unit:
        lines.append("请认真落实，并在下次报送进展时一并反馈落实情况；直接回复本消息即可报送。")
    else:
        lines.append("已发送至该任务各牵头、责任单位联络员。")
    return "\n".join(lines)


def instructed(no: int, recipients: int) -> str:
    """To the leader, once sent."""
    return (
        f"第{no}项任务的批示已记入任务卡片，并发送至{recipients}位联络人"
        "（该任务各牵头、责任单位联络员及督导办）。"
    )


def answer_instructions(found: Sequence[CardNote]) -> str:
    """Added to the report prompt: the instructions since the unit's last report, to answer."""
    if not found:
        return ""
    said = "\n".join(f"· {esc(i.who)}：{esc(short(i.text, 80))}" for i in found)
    return f"\n\n本任务有领导批示，请在本次报送中一并反馈落实情况：\n{said}"


REQUEST_BUTTON = "提请协调"
REQUEST_EMPTY = "协调事项为空，请直接发送需要协调解决的问题，或发送 /cancel 取消。"
REQUEST_NOT_YOURS = "只有该任务牵头或责任单位的联络员可以提请协调。"


def request_prompt(no: int, text: str, limit: int) -> str:
    """After 提请协调 was pressed."""
    return (
        f"请说明<b>第{no}项</b>任务需要分管领导协调解决的问题（{limit}字以内），"
        f"直接发送文字即可：\n{esc(short(text, 60))}\n发送 /cancel 可取消。"
    )


def request_message(no: int, task_text: str, unit: str, text: str) -> str:
    """The 提请协调 as the task's leaders and the office receive it."""
    return (
        f"<b>提请协调</b>　第{no}项 {esc(short(task_text, 30))}\n"
        f"{esc(unit)}：{esc(text)}\n"
        "分管领导可点击下方「批示」回复，批示将发送至该任务各单位并记入任务卡片。"
    )


def requested(no: int, recipients: int) -> str:
    """To the liaison, once sent."""
    return (
        f"第{no}项任务的协调请求已记入任务卡片，并发送至{recipients}位（该任务分管领导及督导办）。"
    )


def instruction_lines(found: Sequence[CardNote], tz: tzinfo, title: str = "领导批示") -> list[str]:
    """A card section of instructions or 提请协调 (newest first)."""
    if not found:
        return []
    lines = ["", f"<b>{title}</b>"]
    lines += [
        f"· {esc(i.who)}（{moment(i.at.astimezone(tz))}）：{esc(short(i.text, 120))}" for i in found
    ]
    return lines


# --- /units -------------------------------------------------------------------------------------


def _unit_line(u: UnitLine) -> str:
    if u.liaisons.active == 0:
        who = "未绑定联络员"
    elif u.liaisons.reachable == 0:
        who = f"联络员无法送达（{u.liaisons.active}人）"
    else:
        who = f"联络员{u.liaisons.reachable}人"
    parts = [who]
    parts.append(f"当期已报{u.reported}/{u.owed}" if u.owed else "当期无报送任务")
    if u.overdue:
        parts.append(f"逾期未报{u.overdue}项")
    if u.unacknowledged:
        parts.append(f"未签收{u.unacknowledged}项")
    record = u.record
    if record.owed:
        rate = record.rate or 0.0
        missed = f"，缺报{record.missed}项次" if record.missed else ""
        parts.append(f"全年报送率{round(100 * rate)}%{missed}")
    return f"· {esc(u.name)}：{'｜'.join(parts)}"


def units_overview(
    lines: Sequence[UnitLine], as_of: datetime, *, year: int, open_key: str | None
) -> str:
    """/units: which units can be reminded, the open cycle's reporting, the year's record."""
    cannot = [u for u in lines if not u.reachable]
    can = [u for u in lines if u.reachable]
    owed = sum(u.owed for u in lines)
    reported = sum(u.reported for u in lines)
    overall = f"{reported}/{owed}（{round(100 * reported / owed)}%）" if owed else "—"
    missed = sum(u.record.missed for u in lines)
    period = f"（{cycle_label(open_key)}）" if open_key else ""
    waiting = [u for u in lines if u.unacknowledged]
    unsigned = (
        f"已绑定单位中{len(waiting)}个单位共{sum(u.unacknowledged for u in waiting)}项牵头任务"
        "未签收。"
        if waiting
        else ""
    )
    out = [
        f"<b>{year}年度各单位联络员绑定及报送情况</b>",
        f"截至{moment(as_of)}。可提醒{len(can)}个单位，无法提醒{len(cannot)}个单位；"
        f"全市当期{period}已报{overall}，全年累计缺报{missed}项次。{unsigned}",
        "（当期：各任务正在报送的一期；逾期未报：上一期截止已过仍未报送；"
        "报送率与缺报按各期应报的单位·任务计。）",
    ]
    if cannot:
        out += ["", f"<b>无法提醒（未绑定或无法送达，{len(cannot)}个）</b>"]
        out += [_unit_line(u) for u in cannot]
    if can:
        out += ["", f"<b>已绑定可提醒（{len(can)}个）</b>"]
        out += [_unit_line(u) for u in can]
    return "\n".join(out)


# --- Summaries ----------------------------------------------------------------------------------


def _counts(summary: Summary) -> str:
    parts = [
        f"{LIGHT_MARKS[light]}{light.label}{summary.counts.get(light, 0)}项"
        for light in (Light.RED, Light.YELLOW, Light.GREEN, Light.DONE)
    ]
    return "　".join(parts)


@dataclass
class _Section:
    """A digest section: its header, its lines, and the line saying how many were left out."""

    header: str
    lines: list[str]
    rest: Callable[[int], str]  # lines left out → the line saying so


def _fit(sections: Sequence[_Section], room: int, limit: int) -> list[str]:
    """The sections in order, each cut to `limit` lines and all of them to `room` lines
    (headers and "另有…" lines included); an earlier section gets its lines first."""
    room -= len(sections)  # every section keeps its header
    out: list[str] = []
    for section in sections:
        out.append(section.header)
        shown = min(len(section.lines), limit)
        cost = shown if shown == len(section.lines) else shown + 1
        while cost > room and shown > 0:
            shown -= 1
            cost = shown + 1
        if cost > room:
            continue  # no room for even the "另有" line: the header's count says it
        out += section.lines[:shown]
        if shown < len(section.lines):
            out.append(section.rest(len(section.lines) - shown))
        room -= cost
    return out


def _nos(nos: Sequence[int], most: int = 8) -> str:
    """第1、2、3项 (with 等N项 past `most`)."""
    shown = "、".join(str(n) for n in nos[:most])
    return f"第{shown}等{len(nos)}项" if len(nos) > most else f"第{shown}项"


def _others(nos: Sequence[int]) -> Callable[[int], str]:
    """The line for the last n of `nos` left out: 另有第5、9项."""
    return lambda n: f"· 另有{_nos(nos[-n:])}"


def _light(light: Light) -> str:
    return f"{LIGHT_MARKS[light]}{light.label}"


def _flagged(items: Sequence[Flagged]) -> list[str]:
    return [
        f"· 第{i.task_no}项 {esc(short(i.task_text, 12))}："
        f"{esc(short(reason_plain(i.reason, brief=True), 40))}"
        for i in items
    ]


def summary_text(
    summary: Summary,
    tz: tzinfo,
    *,
    limit: int = 5,
    year: int | None = None,
    escalated: Sequence[OverdueGroup] = (),
    escalate_after: int = 3,
    max_lines: int = 25,
) -> str:
    """The daily digest, at most `max_lines` lines: counts by light; what changed since the last
    digest (lights, newly overdue, new reports) first; what is escalated (by unit); red and
    yellow tasks with one reason each; the week's deadlines. Each list shows at most `limit`
    lines and names what it leaves out.

    `year`: the register's year, named in the title when it is not the calendar year (January
    of the next year, before the office closes the year). `escalated`: the units with reports
    overdue `escalate_after` workdays or more, worst first (folded in instead of messages).
    """
    note = year_note(year, summary.day) if year is not None else ""
    if summary.leader is not None:
        title = f"<b>分管任务进展摘要</b>{note}（{esc(summary.leader)}，{day(summary.day)}）"
        scope = f"分管任务{summary.total}项"
    else:
        title = f"<b>全市重点任务进展摘要</b>{note}（{day(summary.day)}）"
        scope = f"全市任务{summary.total}项"
    head = [title, f"{scope}：{_counts(summary)}"]
    if summary.overdue_rows:
        head.append(
            f"逾期未报：{summary.overdue_units}个单位，共{summary.overdue_rows}个单位·任务。"
        )
    since = moment(summary.since.astimezone(tz))
    sections: list[_Section] = []

    changed = [
        f"· {_nos(c.task_nos)}：{_light(c.before)}→{_light(c.after)}" for c in summary.changes or ()
    ]
    if summary.became_overdue:
        total = sum(n for _, n in summary.became_overdue)
        units = "、".join(f"{esc(u)}{n}项" for u, n in summary.became_overdue[:3])
        more = f"等{len(summary.became_overdue)}个单位" if len(summary.became_overdue) > 3 else ""
        changed.append(f"· 新增逾期未报{total}个单位·任务：{units}{more}")
    if summary.changes is not None or changed:
        if not changed:
            changed.append("· 各任务灯色无变化，无新增逾期")
        sections.append(_Section("<b>较上次摘要变化</b>", changed, lambda n: f"（另有{n}类变化）"))

    reports = [
        f"· 第{no}项 {esc(r.unit)}"
        f"{f' {pct(r.percent)}%' if r.percent is not None else ''}：{esc(short(r.text, 24))}"
        for no, r in summary.reports
    ]
    if reports:
        nos = [no for no, _ in summary.reports]
        sections.append(
            _Section(
                f"<b>新报送</b>（{since}以来{len(reports)}条）",
                reports,
                lambda n: f"· 另有{n}条，涉及{_nos(sorted(set(nos[-n:])))}",
            )
        )
    else:
        sections.append(_Section(f"<b>新报送</b>（{since}以来）", ["· 暂无"], str))

    if escalated:
        pairs = sum(len(g.rows) for g in escalated)
        lines = []
        for group in escalated:
            worst = group.rows[0]
            lines.append(
                f"· {esc(group.unit)} {len(group.rows)}项，最久第{worst.task_no}项"
                f"{cycle_label(worst.cycle_key)}逾期{worst.workdays}个工作日"
            )
        sections.append(
            _Section(
                f"<b>提请关注</b>（逾期{escalate_after}个工作日以上，"
                f"{len(escalated)}个单位·{pairs}项）",
                lines,
                lambda n: f"（另有{n}个单位，发送 /overdue 查看全部）",
            )
        )
    for light, items in ((Light.RED, summary.red), (Light.YELLOW, summary.yellow)):
        if items:
            sections.append(
                _Section(
                    f"<b>{_light(light)}</b>（{len(items)}项）",
                    _flagged(items),
                    _others([i.task_no for i in items]),
                )
            )

    if summary.due:
        due = []
        for d in summary.due:
            rest = f"，待报{_nos(d.unreported_nos, 10)}" if d.unreported_nos else "，已全部报送"
            due.append(f"· {day(d.deadline)}：应报{d.owed}个单位·任务，已报{d.reported}个{rest}")
    else:
        nxt = f"；下一截止{day(summary.next_deadline)}" if summary.next_deadline else ""
        due = [f"· 本周无报送截止{nxt}"]
    sections.append(_Section("<b>本周截止</b>", due, lambda n: f"（另有{n}个截止日）"))

    footer = "发送 /task 序号 查看任务详情。"
    body = _fit(sections, max_lines - len(head) - 2, limit)
    return "\n".join([*head, "", *body, footer])


def circular(groups: Sequence[OverdueGroup], as_of: datetime) -> str:
    """The day's 通报 to the work group: units with overdue reports, worst first."""
    total = sum(len(g.rows) for g in groups)
    lines = [
        "<b>重点任务进展逾期未报通报</b>",
        f"截至{moment(as_of)}，以下{len(groups)}个单位共{total}个单位·任务进展逾期未报送：",
    ]
    for i, group in enumerate(groups, 1):
        parts: dict[tuple[str, int], list[int]] = {}
        for row in group.rows:
            parts.setdefault((row.cycle_key, row.workdays), []).append(row.task_no)
        items = [
            f"第{'、'.join(str(n) for n in sorted(nos))}项（{cycle_label(key)}，逾期{w}个工作日）"
            for (key, w), nos in parts.items()
        ]
        lines.append(f"{i}. {esc(group.unit)}：{'；'.join(items)}")
    lines.append("请以上单位抓紧报送。市大督导办")
    return "\n".join(lines)


# --- Ledger -------------------------------------------------------------------------------------

LEDGER_CONTINUATION_SHEET = "续表"
LEDGER_CONTINUATION_HEADERS: tuple[str, ...] = ("序号", "栏目", "续段", "内容")


def ledger_continued(no: int) -> str:
    """Ends a ledger cell whose text goes on in the continuation sheet."""
    return f"（未完，续见「{LEDGER_CONTINUATION_SHEET}」第{no}项）"


LEDGER_HEADERS: tuple[str, ...] = (
    "序号",
    "具体目标任务",
    "牵头单位",
    "责任单位",
    "市政府分管（挂钩）领导",
    "最新进展",
    "完成进度",
    "预计完成时间",
    "状态",
    "逾期工作日",
    "催办次数",
    "签收",
    "佐证材料",
    "延期",
    "退回次数",
    "销号",
)


def ledger_title(year: int) -> str:
    """The title row of the ledger."""
    return f"{year}年《政府工作报告》重点工作目标任务督查台账"


def ledger_subtitle(as_of: date) -> str:
    """The line under the title."""
    return f"市大督导办　截至{day_with_year(as_of)}"


def ledger_filename(as_of: date) -> str:
    """督查台账-2026-03-16.xlsx."""
    return f"督查台账-{as_of.isoformat()}.xlsx"


def ledger_latest_plain(latest: Sequence[tuple[str, ReportInfo]], tz: tzinfo) -> str:
    """The 最新进展 cell: each unit's newest report with its date and cycle."""
    return "\n".join(
        f"{unit}（{_md(r.created_at.astimezone(tz).date())}，{cycle_label(r.cycle_key)}）：{r.text}"
        for unit, r in latest
    )


def ledger_ack_plain(unacknowledged: Sequence[str], completed: bool) -> str:
    """The 签收 cell: every lead unit acknowledged, or which have not."""
    if completed:
        return "—"
    return f"未签收：{'、'.join(unacknowledged)}" if unacknowledged else "已签收"


def ledger_close_plain(closures: Sequence[tuple[str, str]], closed: bool) -> str:
    """The 销号 cell: 已销号 when every lead unit is closed, else each applicant's state."""
    if closed:
        return "已销号"
    labels = {
        "applied": "待审核",
        "closed": "已销号",
        "refused": "未通过",
        "reopened": "已重新打开",
    }
    return "；".join(f"{unit}{labels.get(state, state)}" for unit, state in closures)


def ledger_status_plain(status: Status) -> str:
    """The 状态 cell: the light and its first reason."""
    if not status.reasons:
        return status.label
    return f"{status.label}：{reason_plain(status.reasons[0])}"


def export_caption(year: int, count: int, as_of: date) -> str:
    """The caption of the exported ledger."""
    return f"{year}年重点工作督查台账，截至{day_with_year(as_of)}，共{count}项任务。"
