"""Every text a person reads, as small functions. User data is always HTML-escaped here.

The register is that of a government office: short, polite, exact. Messages are sent with
parse_mode=HTML, so anything that came from a person or the database goes through `esc`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from html import escape

from bot.roles import ROLE_LABELS, Principal, Role

WEEKDAYS = "一二三四五六日"
LIMIT = 4096


def esc(value: object) -> str:
    """Escape user or database data for parse_mode=HTML."""
    return escape(str(value), quote=False)


def day(d: date) -> str:
    """3月25日（周三）."""
    return f"{d.month}月{d.day}日（周{WEEKDAYS[d.weekday()]}）"


def day_with_year(d: date) -> str:
    """2026年3月25日（周三）."""
    return f"{d.year}年{day(d)}"


def moment(dt: datetime) -> str:
    """3月25日（周三）17:00."""
    return f"{day(dt.date())}{dt:%H:%M}"


def short(text: str, limit: int = 40) -> str:
    """A task text cut to `limit` characters for lists."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def split_message(text: str, limit: int = LIMIT) -> list[str]:
    """Split a long text on line breaks into messages of at most `limit` characters."""
    if len(text) <= limit:
        return [text]
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                parts.append(current)
                current = ""
            parts.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            parts.append(current)
            current = line
        else:
            current = candidate
    if current:
        parts.append(current)
    return parts


# --- General ------------------------------------------------------------------------------------

UNBOUND = (
    "您好！这里是南安市政府重点工作督办助手。\n"
    "您的账号尚未绑定单位或身份。请向市大督导办管理员索取专用邀请链接，"
    "点击链接即可完成绑定。"
)

START_NO_CODE_BOUND = "您已绑定身份。发送 /help 查看可用功能。"

GROUP_ONLY_NOTICE = "本群已登记为工作群，督办助手将在此发布每日通报。报送进展请私聊本助手。"

NOT_IN_GROUPS = "请在与本助手的私聊中使用此功能。"

UNKNOWN_COMMAND = "未识别的指令。发送 /help 查看可用功能。"

DENIED = "您没有使用此功能的权限。"

STALE_BUTTON = "该按钮已失效，请重新发送指令。"

INTERNAL_ERROR = "系统处理时出现问题，已通知管理员，请稍后再试。"

TEXT_HINT = "如需报送任务进展，请发送 /report；查看本单位任务请发送 /tasks。"

TOO_MANY_ATTEMPTS = "验证失败次数过多，请{minutes}分钟后再试，或联系管理员重新获取邀请链接。"


def denied_for(principal: Principal) -> str:
    """A denial; an unbound account is told how to bind instead."""
    return DENIED if principal.bound else UNBOUND


def too_many_attempts(minutes: int) -> str:
    """Binding is slowed down after repeated failures."""
    return TOO_MANY_ATTEMPTS.format(minutes=minutes)


BIND_FAILED = {
    "unknown": "邀请链接无效，请核对后重试，或联系管理员重新获取。",
    "used": "该邀请链接已被使用，每个链接仅能使用一次。如需绑定，请联系管理员重新获取。",
    "expired": "该邀请链接已过期，请联系管理员重新获取。",
    "revoked": "该邀请链接已被管理员作废，请联系管理员重新获取。",
}


def who(principal: Principal) -> str:
    """One line per role held: 发改局联络员 / 督导办 / 分管领导（吴振强）."""
    lines = []
    for unit in principal.units:
        lines.append(f"{esc(unit.name)}联络员")
    for leader in principal.leaders:
        lines.append(f"分管领导（{esc(leader.name)}）")
    if principal.office:
        lines.append("市大督导办工作人员")
    if principal.admin:
        lines.append("管理员")
    return "、".join(lines)


def bound_liaison(
    unit: str,
    lead: Sequence[tuple[int, str]],
    responsible: Sequence[tuple[int, str]],
    next_due: datetime | None,
    deputy: bool,
) -> str:
    """Welcome text for a newly bound liaison: their tasks and the next deadline."""
    role = "副联络员" if deputy else "联络员"
    lines = [f"绑定成功。您已登记为 <b>{esc(unit)}</b>{role}。", ""]
    lines.append(f"本单位牵头任务 {len(lead)} 项：")
    if lead:
        lines.extend(f"  第{no}项 {esc(short(text, 36))}" for no, text in lead)
    else:
        lines.append("  （无）")
    lines.append(f"本单位配合（责任）任务 {len(responsible)} 项：")
    if responsible:
        lines.append("  " + "、".join(f"第{no}项" for no, _ in responsible))
    else:
        lines.append("  （无）")
    lines.append("")
    if next_due is not None and lead:
        lines.append(f"下次进展报送截止时间：{moment(next_due)}。截止前将提前提醒。")
    lines.append("报送进展请发送 /report，查看任务请发送 /tasks，帮助请发送 /help。")
    return "\n".join(lines)


def bound_role(role: Role, leader: str | None, task_count: int | None = None) -> str:
    """Welcome text for office, leader and admin accounts."""
    if role == Role.LEADER and leader is not None:
        tail = f"您分管（挂钩）的任务共 {task_count} 项。" if task_count is not None else ""
        return (
            f"绑定成功。您已登记为分管领导（{esc(leader)}）。{tail}\n"
            "工作日每天将向您推送分管任务进展摘要；发送 /summary 可随时查看，"
            "/overdue 查看逾期事项，/task 序号 查看任务详情。"
        )
    if role == Role.OFFICE:
        return (
            "绑定成功。您已登记为市大督导办工作人员。\n"
            "/overdue 查看逾期事项，/units 查看各单位绑定与报送情况，"
            "/task 序号 查看任务详情，/export 导出督查台账。"
        )
    return (
        "绑定成功。您已登记为管理员。\n"
        "/invite 生成邀请链接，/contacts 管理联络人，/help 查看全部功能。"
    )


def already_bound(role: Role) -> str:
    """The account already held the role the invite grants."""
    return f"您已绑定为{ROLE_LABELS[role]}，无需重复绑定。本邀请链接已失效。"


HELP_HEADER = "督办助手使用说明"

HELP_BY_ROLE: dict[Role, str] = {
    Role.LIAISON: (
        "<b>联络员</b>\n"
        "/tasks 查看本单位任务及本期报送状态\n"
        "/report 报送任务进展（也可直接回复提醒消息）\n"
        "/history 查看本单位近期报送记录，可更正本期报送\n"
        "/cancel 取消正在进行的报送"
    ),
    Role.OFFICE: (
        "<b>督导办</b>\n"
        "/overdue 逾期未报事项（可按单位、领导筛选，如 /overdue 发改局）\n"
        "/task 序号 任务详情与报送记录\n"
        "/units 各单位联络员绑定及本期报送率\n"
        "/summary 全市进展摘要\n"
        "/export 导出督查台账（Excel）"
    ),
    Role.LEADER: (
        "<b>分管领导</b>\n"
        "/summary 分管任务进展摘要（工作日每天自动推送）\n"
        "/overdue 分管任务逾期事项\n"
        "/task 序号 任务详情"
    ),
    Role.ADMIN: (
        "<b>管理员</b>\n"
        "/invite 生成邀请链接（联络员、督导办、领导、管理员）\n"
        "/contacts 查看联络人，撤销或更换绑定\n"
        "将本助手拉入工作群即可登记该群，用于发布每日通报"
    ),
}


def help_text(principal: Principal) -> str:
    """Help for the roles the account holds, or how to bind."""
    if not principal.bound:
        return UNBOUND
    parts = [f"<b>{HELP_HEADER}</b>", f"您的身份：{who(principal)}"]
    for role in (Role.LIAISON, Role.LEADER, Role.OFFICE, Role.ADMIN):
        if role in principal.roles:
            parts.append(HELP_BY_ROLE[role])
    return "\n\n".join(parts)
