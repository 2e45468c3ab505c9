"""Every text a person reads, as small functions. User data is always HTML-escaped here.

The register is that of a government office: short, polite, exact. Messages are sent with
parse_mode=HTML, so anything that came from a person or the database goes through `esc`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from html import escape

from bot.domain.model import Target
from bot.domain.replies import Understood
from bot.domain.roles import ROLE_LABELS, ContactView, NewInvite, Principal, Role

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
    """A text cut to `limit` characters for lists, without a closing 。；， (a note in brackets
    may follow it: "166套（12月…）", not "166套。（12月…）")."""
    text = " ".join(text.split()).rstrip("。；;，,、 ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


# An HTML text as Telegram parses it: tags, character references, runs of plain text.
_HTML_TOKEN = re.compile(r"<[^<>]*>|&(?:#\d+|#x[0-9a-fA-F]+|[A-Za-z]+);|[^<&]+|[<&]")
_TAG_NAME = re.compile(r"</?\s*([A-Za-z-]+)")


def visible_length(html: str) -> int:
    """Characters Telegram counts once the HTML is parsed: tags count 0, `&amp;` counts 1."""
    n = 0
    for token in _HTML_TOKEN.findall(html):
        if token[0] == "<" and len(token) > 1:
            continue
        n += 1 if token[0] == "&" else len(token)
    return n


def split_message(text: str, limit: int = LIMIT) -> list[str]:
    """Split a long HTML text on line breaks into messages of at most `limit` characters.

    Telegram counts characters after parsing, so tags do not count and `&lt;` counts one; a
    line longer than `limit` is cut between tokens, never inside a tag or a character
    reference, its open tags closed at the cut and reopened after it.
    """
    if visible_length(text) <= limit:
        return [text]
    parts: list[str] = []
    current: str | None = None
    size = 0
    for line in text.split("\n"):
        for piece in _cut_line(line, limit):
            n = visible_length(piece)
            if current is not None and size + 1 + n <= limit:
                current, size = f"{current}\n{piece}", size + 1 + n
                continue
            if current:
                parts.append(current)
            current, size = piece, n
    if current:
        parts.append(current)
    return parts


def _cut_line(line: str, limit: int) -> list[str]:
    """A line as pieces of at most `limit` visible characters, each with balanced tags."""
    if visible_length(line) <= limit:
        return [line]
    pieces: list[str] = []
    opened: list[tuple[str, str]] = []  # (name, opening tag) of the tags open at this point
    out: list[str] = []
    size = 0

    def flush() -> None:
        nonlocal out, size
        closing = "".join(f"</{name}>" for name, _ in reversed(opened))
        pieces.append("".join(out) + closing)
        out, size = [tag for _, tag in opened], 0

    for token in _HTML_TOKEN.findall(line):
        if token[0] == "<" and len(token) > 1:
            match = _TAG_NAME.match(token)
            name = match.group(1).lower() if match else ""
            if token.startswith("</"):
                if opened and opened[-1][0] == name:
                    opened.pop()
            elif not token.endswith("/>"):
                opened.append((name, token))
            out.append(token)
            continue
        chars = [token] if token[0] == "&" else list(token)
        for ch in chars:
            if size >= limit:
                flush()
            out.append(ch)
            size += 1
    if out:
        pieces.append("".join(out))
    return pieces


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

ONLY_TEXT = (
    "目前仅支持文字消息，以及作为佐证材料的照片和文件。报送进展请发送 /report 后直接输入文字。"
)

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

HELP_ROLE_TITLES: dict[Role, str] = {
    Role.LIAISON: "联络员",
    Role.LEADER: "分管领导",
    Role.OFFICE: "督导办",
    Role.ADMIN: "管理员",
}
GROUP_HELP = "将本助手拉入工作群即可登记该群，用于发布通报"
SEARCH_HELP = "直接发送单位或领导名称（可只输入部分）即可查找并生成邀请链接"


def help_text(principal: Principal, sections: Sequence[tuple[Role, Sequence[str]]]) -> str:
    """Help for the roles the account holds (`sections`: handlers.menu.help_sections), or how
    to bind."""
    if not principal.bound:
        return UNBOUND
    parts = [f"<b>{HELP_HEADER}</b>", f"您的身份：{who(principal)}"]
    for role, lines in sections:
        extra = [SEARCH_HELP, GROUP_HELP] if role is Role.ADMIN else []
        parts.append("\n".join([f"<b>{HELP_ROLE_TITLES[role]}</b>", *lines, *extra]))
    return "\n\n".join(parts)


def text_hint(principal: Principal, sections: Sequence[tuple[Role, Sequence[str]]]) -> str:
    """The answer to free text the bot did not take: what this person can do instead."""
    if Role.LIAISON in principal.roles:
        return TEXT_HINT
    names = dict.fromkeys(line.split(" ", 1)[0] for _, lines in sections for line in lines)
    names.pop("/cancel", None)
    search = f"{SEARCH_HELP}；" if Role.ADMIN in principal.roles else ""
    return f"本助手不处理文字留言。您可使用：{'、'.join(names)}；{search}发送 /help 查看说明。"


# --- Admin --------------------------------------------------------------------------------------

STALE = STALE_BUTTON

INVITE_CHOOSE_ROLE = "请选择邀请对象的身份："

NO_CONTACTS = "没有符合条件的已绑定联络人。"
NO_OPEN_INVITES = "目前没有未使用的有效邀请链接。"
INVITES_REVOKE_ALL = "全部撤销"


def open_invites_page(invites: Sequence[tuple[int, str, str, bool, datetime]], total: int) -> str:
    """/invites: the links that can still bind someone: (id, role label, target, deputy, expiry)."""
    lines = [f"<b>未使用的有效邀请链接</b>（共{total}个）"]
    for invite_id, role, target, deputy, expires in invites:
        who = f"{esc(target)}{role}" if target else role
        lines.append(f"#{invite_id} {who}{'（副）' if deputy else ''}，{moment(expires)}前有效")
    if total > len(invites):
        lines.append(f"（另有{total - len(invites)}个，可用命令行 python -m bot invites 查看）")
    lines.append("新生成的同一单位、同一身份的链接会自动作废旧链接。")
    return "\n".join(lines)


def invites_revoked(count: int) -> str:
    """After a revoke button."""
    return f"已撤销{count}个邀请链接。"


GROUP_REGISTERED = (
    "本群已由管理员登记为工作群。督办助手将在工作日于此发布逾期事项通报。\n报送进展请与本助手私聊。"
)


BACK = "‹ 返回"
REPLACE_LIAISON = "更换联络员"
ADD_DEPUTY = "增加副联络员"


def invite_choose_kind(deputy: bool) -> str:
    """Step 2 of a liaison invite: the kind of unit, or a name typed."""
    who = "副联络员" if deputy else "联络员"
    return f"请选择{who}所在单位的类别，或直接发送单位名称（可只输入部分名称）查找："


def invite_kind_button(label: str, units: int) -> str:
    """A kind of unit with how many units it has."""
    return f"{label}（{units}）"


def invite_choose_unit(label: str, deputy: bool, page: int, pages: int) -> str:
    """Step 3 of a liaison invite: the units of one kind."""
    who = "副联络员" if deputy else "联络员"
    part = f"（第{page}/{pages}页）" if pages > 1 else ""
    return f"请选择{who}所在单位 · {label}{part}，✓ 表示已有联络员："


def invite_unit_button(name: str, has_liaison: bool) -> str:
    """A unit on the invite's list (✓: it has a liaison)."""
    return f"{name} ✓" if has_liaison else name


def invite_search_found(text: str) -> str:
    """Units and leaders found by a typed name."""
    return f"名称含「{esc(text)}」的单位和领导如下，请点选生成邀请链接："


def invite_search_none(text: str) -> str:
    """Nothing found by a typed name."""
    return (
        f"未找到名称含「{esc(short(text, 20))}」的单位或领导。"
        "请换个字词再试，或发送 /invite 按类别选择。"
    )


def invite_search_button(name: str, role: Role) -> str:
    """A unit's liaison or a leader found by name."""
    return f"{name}联络员" if role == Role.LIAISON else f"{name}（分管领导）"


def invite_second_liaison(unit: str, liaisons: Sequence[ContactView]) -> str:
    """A unit that has a liaison: replace them, or add a deputy?"""
    names = "、".join(f"{esc(v.name)}（{'副联络员' if v.deputy else '联络员'}）" for v in liaisons)
    return (
        f"{esc(unit)}已绑定：{names}。新邀请用于：\n"
        f"· {REPLACE_LIAISON}：原联络员的绑定立即解除，新联络员凭链接绑定；\n"
        f"· {ADD_DEPUTY}：原联络员不变，新绑定的人为副联络员，同样收到提醒、可以报送。"
    )


def invite_choose_target(role: Role, deputy: bool, page: int, pages: int) -> str:
    """Step 2 of /invite."""
    what = (
        "分管领导" if role == Role.LEADER else ("副联络员所在单位" if deputy else "联络员所在单位")
    )
    return f"请选择{what}（第{page}/{pages}页）："


def invite_created(invite: NewInvite, link: str) -> str:
    """The new invite link, shown once."""
    if invite.unit is not None:
        who_for = f"{esc(invite.unit.name)}{'副' if invite.deputy else ''}联络员"
    elif invite.leader is not None:
        who_for = f"分管领导（{esc(invite.leader.name)}）"
    else:
        who_for = ROLE_LABELS[invite.role]
    return (
        f"已生成{who_for}邀请链接（仅可使用一次，{moment(invite.expires_at)}前有效）：\n"
        f"{esc(link)}\n\n"
        "请通过安全渠道发送给本人。链接仅显示这一次，系统不保存明文。"
    )


def contacts_page(contacts: Sequence[ContactView], page: int, pages: int, total: int) -> str:
    """A page of the contact list."""
    lines = [f"<b>已绑定联络人</b>（共{total}人，第{page}/{pages}页）"]
    for c in contacts:
        if c.role == Role.LIAISON:
            what = f"{esc(c.unit)}{'副' if c.deputy else ''}联络员"
        elif c.role == Role.LEADER:
            what = f"分管领导（{esc(c.leader)}）"
        else:
            what = ROLE_LABELS[c.role]
        name = esc(c.name) + (f" @{esc(c.username)}" if c.username else "")
        flag = "" if c.reachable else "（无法送达）"
        lines.append(f"#{c.id} {name} — {what}{flag}")
    return "\n".join(lines)


def _contact_label(c: ContactView) -> str:
    target = c.unit or c.leader or ""
    return f"#{c.id} {esc(c.name)}（{esc(target)}{ROLE_LABELS[c.role]}）"


def confirm_revoke(c: ContactView) -> str:
    """Confirmation before revoking."""
    return f"确认撤销 {_contact_label(c)} 的绑定？撤销后该账号立即失去相应权限。"


def revoked(c: ContactView) -> str:
    """After revoking."""
    return f"已撤销 {_contact_label(c)} 的绑定。"


# --- Tasks and reports --------------------------------------------------------------------------

NO_TASKS = "本单位在本年度任务表中暂无任务。如有疑问请联系市大督导办。"

CHOOSE_TASK = "请选择要报送进展的任务（第{page}/{pages}页）："

CHOOSE_FIRST = "请先在上方选择要报送的任务，或发送 /cancel 取消。"

CHOOSE_TASK_FOR_REPLY = "该提醒涉及多项任务，请选择您这条回复对应的任务："

EMPTY_REPORT = "进展内容不能为空，请用一两句话说明进展，如：已完成投资320亿元，预计6月底前完工。"

NO_CONTENT = (
    "未能从回复中看到工作进展。请用一两句话说明本期实际进展，"
    "如：已完成投资320亿元，预计6月底前完工。"
)

REPORT_TOO_LONG = "进展内容过长（超过{limit}字），请精简后重新发送。"

NOTHING_TO_CANCEL = "当前没有进行中的报送。"

CANCELLED = "已取消本次报送，未保存任何内容。"

DRAFT_TIMEOUT = "您的报送因长时间未操作已自动取消，未保存任何内容。如需报送请重新发送 /report。"

ALREADY_SUBMITTED = "该进展已提交，无需重复提交。"

NOT_YOUR_TASK = "该任务不属于本单位，无法报送。"

CANNOT_CORRECT = "只能更正本单位本期最近一次报送的进展。"

BAD_TASK_NO = "任务序号应为数字，例如：/history 6。"

TASK_DONE = "该任务已标记为完成，无需继续报送。"

STATE_LABELS = {
    "reported": "已报",
    "unreported": "未报",
    "overdue": "逾期",
    "done": "已完成",
    "support": "配合",
}
STATE_ORDER = {"overdue": 0, "unreported": 1, "reported": 2, "done": 3, "support": 4}


def ask_progress(no: int, text: str, correcting: bool, targets: Sequence[Target] = ()) -> str:
    """After a task was chosen; the example is drawn from the task's own first amount target."""
    verb = "更正" if correcting else "报送"
    return (
        f"您正在{verb}<b>第{no}项</b>任务进展：\n{esc(short(text, 80))}\n\n"
        "请直接输入进展情况，一两句话即可，例如：\n"
        f"「{esc(progress_example(targets))}」\n"
        "发送 /cancel 可取消。"
    )


def progress_example(targets: Sequence[Target]) -> str:
    """An example reply for a task: about 40% of its first amount target, else its first
    growth or level target, else a general one."""
    amount = next((t for t in targets if t.kind == "amount"), None)
    if amount is not None:
        part = amount.value * 0.4
        scaled = amount.unit[:1] in ("万", "亿")  # 0.5万个 reads; 1.2座 does not
        value = _num(round(part, 1) if scaled and part < 10 else max(1, round(part)))
        return f"{amount.metric}{value}{amount.unit}，预计年底前完成，暂无困难"
    rate = next((t for t in targets if t.kind in ("growth", "level")), None)
    if rate is not None:
        word = "同比增长" if rate.kind == "growth" else "达到"
        return f"一季度{rate.metric}{word}{_num(rate.value)}{rate.unit}，符合序时进度"
    return "已完成年度任务的40%，预计年底前完成，需市里协调用地指标"


def _num(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def report_card(
    no: int,
    task_text: str,
    unit: str,
    cycle_label: str,
    understood: Understood,
    correcting: bool,
    unread: Sequence[str] = (),
) -> str:
    """What the bot understood, shown before the liaison confirms; `unread`: numbers of the
    reply that could be put against a target but were not (the liaison may assign them)."""
    u = understood
    title = "进展更正确认" if correcting else "进展报送确认"
    lines = [
        f"<b>{title}</b>",
        f"任务：第{no}项 {esc(short(task_text, 40))}",
        f"单位：{esc(unit)}　报送期：{esc(cycle_label)}",
        "",
        "<b>系统识别结果</b>",
    ]
    if u.percent is not None:
        how = "（按目标测算）" if u.percent_from == "targets" else ""
        lines.append(f"完成进度：{_num(u.percent)}%{how}")
    else:
        lines.append("完成进度：未识别")
    measured = [q for q in u.quantities if q.target_metric is not None]
    for q in measured:
        pct = f"，为目标的{_num(q.percent_of_target)}%" if q.percent_of_target is not None else ""
        lines.append(
            f"　{esc(q.target_metric)}：{_num(q.value)}{esc(q.unit)}"
            f"（目标{_num(q.target_value or 0)}{esc(q.target_unit or '')}）{pct}"
        )
    if unread:
        lines.append(f"　未计入指标：{esc('、'.join(unread))}（如应计入，请用下方按钮指定）")
    if u.expected is not None:
        lines.append(f"预计完成时间：{day_with_year(u.expected)}")
    elif u.impossible_date:
        lines.append(f"预计完成时间：「{esc(u.impossible_date)}」不是有效日期，未采用，请核对")
    else:
        lines.append("预计完成时间：未识别")
    if u.difficulties:
        lines.append(f"困难或需协调事项：有（{esc('、'.join(u.difficulties))}）")
    else:
        lines.append("困难或需协调事项：未提及")
    lines += [
        "",
        "<b>报送原文</b>",
        esc(u.text),
        "",
        "请核对后点击「确认提交」；识别有误可用下方按钮更正。",
    ]
    return "\n".join(lines)


READING_NO_DATE = "✕ 不采用预计完成时间"
READING_CHANGED = "已更正识别结果"


def reading_drop(source: str, metric: str) -> str:
    """Button: this number does not count against that target."""
    return f"✕ {source}不计入「{short(metric, 10)}」"


def reading_assign(source: str, metric: str) -> str:
    """Button: count this unread number against that target."""
    return f"{source}计入「{short(metric, 10)}」"


def report_stored(no: int, unit: str, cycle_label: str, version: int, at: datetime) -> str:
    """After confirmation."""
    what = f"（第{version}版，原报送已保留）" if version > 1 else ""
    return (
        f"已提交。{esc(unit)}第{no}项任务{esc(cycle_label)}进展已于{moment(at)}入库{what}。"
        "感谢配合！"
    )


def cycle_label(key: str) -> str:
    """「3月」 for 2026-03, 「第一季度」 for 2026-Q1, 「5月20日节点」 for a fixed date."""
    if len(key) == 7 and key[4] == "-" and key[5:].isdigit():
        return f"{int(key[5:])}月"
    if "-Q" in key:
        return f"第{'一二三四'[int(key[-1]) - 1]}季度"
    try:
        d = date.fromisoformat(key)
    except ValueError:
        return key
    return f"{d.month}月{d.day}日节点"


def task_line(no: int, text: str, state: str, deadline: date | None) -> str:
    """One line of /tasks."""
    label = STATE_LABELS[state]
    tail = ""
    if deadline is not None and state in ("unreported", "overdue"):
        tail = f"，截止{deadline.month}月{deadline.day}日"
    mark = {"reported": "☑️", "unreported": "⬜", "overdue": "🔴", "done": "✅", "support": "▫️"}[
        state
    ]
    return f"{mark} 第{no}项 {esc(short(text, 28))}（{label}{tail}）"


def tasks_page(
    unit: str, lines: Sequence[str], page: int, pages: int, counts: dict[str, int]
) -> str:
    """A page of /tasks."""
    head = (
        f"<b>{esc(unit)}任务</b>（第{page}/{pages}页）\n"
        f"牵头：已报{counts.get('reported', 0)}项，未报{counts.get('unreported', 0)}项，"
        f"逾期{counts.get('overdue', 0)}项"
        + (f"，已完成{counts['done']}项" if counts.get("done") else "")
        + f"；配合{counts.get('support', 0)}项"
    )
    return head + "\n\n" + "\n".join(lines) + "\n\n报送请发送 /report。"


def tasks_page_ack(text: str, pending: int) -> str:
    """/tasks with the request to acknowledge, when tasks are pending."""
    return f"{text}\n{ack_request(pending)}" if pending else text


def history_lines(entries: Sequence[tuple[int, str, str, int, datetime, float | None]]) -> str:
    """Recent reports: (task no, cycle key, text, version, at, percent)."""
    if not entries:
        return "本单位暂无报送记录。"
    lines = ["<b>近期报送记录</b>"]
    for no, key, text, version, at, percent in entries:
        pct = f" {_num(percent)}%" if percent is not None else ""
        ver = f"（第{version}版）" if version > 1 else ""
        lines.append(
            f"第{no}项 {cycle_label(key)}{ver}{pct} — {moment(at)}\n　{esc(short(text, 60))}"
        )
    return "\n".join(lines)


# --- 签收 ---------------------------------------------------------------------------------------

ACK_ONE_BUTTON = "签收本任务"
ACK_NOTHING = "本单位牵头任务均已签收，无需再次签收。"
ACK_NOT_PENDING = "该任务无需本单位签收，或已签收。"
ACK_MEANING = "签收即表示已知悉任务内容和报送要求"


def ack_all_button(count: int) -> str:
    """The button acknowledging every pending task."""
    return f"签收全部{count}项任务"


def ack_request(count: int) -> str:
    """A line asking a liaison to acknowledge (welcome, /tasks)."""
    return f"本单位尚有{count}项牵头任务未签收，请点击下方按钮签收（{ACK_MEANING}）。"


def acknowledged(nos: Sequence[int], at: datetime) -> str:
    """Added to the message whose button was pressed."""
    listed = "、".join(str(n) for n in sorted(nos))
    return f"✅ 已于{moment(at)}签收第{listed}项任务。"


def ack_answer(count: int) -> str:
    """The short answer to the press."""
    return f"已签收{count}项任务"


def ack_appendix(nos: Sequence[int]) -> str:
    """The 签收 request at the end of a day's report reminder."""
    listed = "、".join(str(n) for n in sorted(nos)[:12]) + ("等" if len(nos) > 12 else "")
    return (
        f"另：本单位尚有{len(nos)}项牵头任务未签收（第{listed}项），"
        f"请点击下方按钮签收（{ACK_MEANING}）。"
    )


def ack_reminder(unit: str, tasks: Sequence[tuple[int, str]]) -> str:
    """To a liaison whose unit left tasks unacknowledged for the configured workdays."""
    lines = [
        f"{esc(unit)}：您单位牵头的以下{len(tasks)}项任务尚未签收，请点击下方按钮签收"
        f"（{ACK_MEANING}）："
    ]
    lines += [f"· 第{no}项 {esc(short(text, 16))}" for no, text in tasks]
    return "\n".join(lines)


# --- Reminders ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReminderLine:
    """One obligation in a reminder or an escalation."""

    task_no: int
    task_text: str
    unit: str
    cycle_key: str
    deadline: datetime  # aware, local
    step: str  # before | day_before | due | overdue | escalate
    overdue: int = 0
    earlier: int = 0  # earlier cycles of the task the unit missed (bot.domain.obligations)


def line_json(line: ReminderLine) -> dict[str, object]:
    """A reminder line as stored with its outbox message."""
    return {
        "task_no": line.task_no,
        "task_text": line.task_text,
        "unit": line.unit,
        "cycle_key": line.cycle_key,
        "deadline": line.deadline.isoformat(),
        "step": line.step,
        "overdue": line.overdue,
        "earlier": line.earlier,
    }


def line_from_json(data: dict[str, object]) -> ReminderLine:
    """Back from the outbox."""
    return ReminderLine(
        task_no=int(str(data["task_no"])),
        task_text=str(data["task_text"]),
        unit=str(data["unit"]),
        cycle_key=str(data["cycle_key"]),
        deadline=datetime.fromisoformat(str(data["deadline"])),
        step=str(data["step"]),
        overdue=int(str(data.get("overdue", 0))),
        earlier=int(str(data.get("earlier", 0))),
    )


def _when(line: ReminderLine) -> str:
    if line.step in ("overdue", "escalate"):
        earlier = f"；此前另有{line.earlier}期未报送" if line.earlier else ""
        return f"截止{day(line.deadline.date())}，已逾期{line.overdue}个工作日{earlier}"
    tail = {"before": "请提前准备", "day_before": "下一工作日截止", "due": "今日截止"}[line.step]
    return f"截止时间{moment(line.deadline)}，{tail}"


def _chunks(
    head: Callable[[Sequence[int], str], str],
    entries: Sequence[str],
    foot: str,
    limit: int = LIMIT,
) -> list[tuple[str, list[int]]]:
    """Messages of head + entries + foot within `limit`, with the entry indices each holds.

    `head(indices, part)` titles one message; `part` is "（分3条发送，此为第1条）" when the
    entries take several messages, else empty.
    """
    everything = list(range(len(entries)))
    room = limit - len(head(everything, "（分99条发送，此为第99条）")) - len(foot) - 2
    groups: list[list[int]] = []
    current: list[int] = []
    size = 0
    for i, entry in enumerate(entries):
        if current and size + len(entry) + 1 > room:
            groups.append(current)
            current, size = [], 0
        current.append(i)
        size += len(entry) + 1
    if current:
        groups.append(current)
    out: list[tuple[str, list[int]]] = []
    for n, group in enumerate(groups, 1):
        part = f"（分{len(groups)}条发送，此为第{n}条）" if len(groups) > 1 else ""
        body = "\n".join(entries[j] for j in group)
        out.append((f"{head(group, part)}\n{body}\n{foot}", group))
    return out


REPLY_HINT = "请直接回复本消息报送进展，或发送 /report。"
REPLY_HINT_MANY = "直接回复本消息即可报送（将请您选择对应任务），或发送 /report。"


def reminder(lines: Sequence[ReminderLine]) -> list[tuple[str, list[int]]]:
    """A liaison's reminder: one header, then the tasks under the cycle and deadline they are
    owed for (a task owing two cycles is listed once, under the more urgent), short task lines,
    and the reply hint once. One message if it fits."""
    first = lines[0]
    if len(lines) == 1:
        text = (
            f"{esc(first.unit)}：您单位牵头的第{first.task_no}项任务"
            f"{cycle_label(first.cycle_key)}进展尚未报送，{_when(first)}。\n"
            f"任务内容：{esc(short(first.task_text, 60))}\n{REPLY_HINT}"
        )
        return [(text, [0])]
    return _grouped(
        lines,
        lambda units, count, part: f"{units}：您单位牵头的以下{count}项任务进展尚未报送{part}。",
        REPLY_HINT_MANY,
    )


def unit_nudge(lines: Sequence[ReminderLine]) -> list[tuple[str, list[int]]]:
    """催办本单位: everything a unit owes, in one message (grouped as a reminder is)."""
    return _grouped(
        lines,
        lambda units, count, part: (
            f"{units}：市大督导办催办，您单位以下{count}项任务进展逾期未报，请尽快报送{part}。"
        ),
        REPLY_HINT_MANY,
    )


def _grouped(
    lines: Sequence[ReminderLine], head: Callable[[str, int, str], str], foot: str
) -> list[tuple[str, list[int]]]:
    """Lines under one title per (unit, cycle, deadline words), urgent first; a task owing two
    cycles listed once, under the more urgent; short task lines; `foot` once."""
    # Groups: (unit, cycle, when) in the order of urgency (the lines come by deadline).
    groups: dict[tuple[str, str, str], list[int]] = {}
    placed: dict[tuple[str, int], tuple[str, str, str]] = {}
    also: dict[tuple[str, int], list[str]] = {}
    for i, line in enumerate(lines):
        task = (line.unit, line.task_no)
        if task in placed:  # owed for another cycle as well: one line, both cycles named
            groups[placed[task]].append(i)
            also.setdefault(task, []).append(cycle_label(line.cycle_key))
            continue
        key = (line.unit, line.cycle_key, _group_when(line))
        groups.setdefault(key, []).append(i)
        placed[task] = key
    blocks: list[tuple[str, list[tuple[str, list[int]]]]] = []
    for (unit, cycle_key, when), indices in groups.items():
        # The same earlier misses on every line of a group are said once, in its title.
        earliers = {lines[i].earlier for i in indices}
        shared_earlier = earliers.pop() if len(earliers) == 1 and len(indices) > 1 else 0
        by_task: dict[tuple[str, int], list[int]] = {}
        for i in indices:  # a task's first line, then those of its other cycles
            by_task.setdefault((lines[i].unit, lines[i].task_no), []).append(i)
        entries = []
        for task, related in by_task.items():
            line = lines[related[0]]
            more = also.get(task, [])
            notes = [f"{'、'.join(more)}也未报"] if more else []
            if line.earlier and not shared_earlier:
                notes.append(f"此前另有{line.earlier}期未报")
            note = f"（{'；'.join(notes)}）" if notes else ""
            entries.append(
                (f"· 第{line.task_no}项 {esc(short(line.task_text, 16))}{note}", related)
            )
        prefix = f"{esc(unit)}　" if len({x.unit for x in lines}) > 1 else ""
        earlier = f"（以下各项此前另有{shared_earlier}期未报送）" if shared_earlier else ""
        blocks.append((f"{prefix}{cycle_label(cycle_key)}，{when}{earlier}：", entries))
    units = "、".join(dict.fromkeys(esc(x.unit) for x in lines))
    count = len({(x.unit, x.task_no) for x in lines})
    return _block_chunks(lambda part: head(units, count, part), blocks, foot)


def _group_when(line: ReminderLine) -> str:
    """A group's deadline words: 截止时间…，今日截止 / 已逾期N个工作日."""
    if line.step in ("overdue", "escalate"):
        return f"截止{day(line.deadline.date())}，已逾期{line.overdue}个工作日"
    tail = {"before": "请提前准备", "day_before": "下一工作日截止", "due": "今日截止"}[line.step]
    return f"截止时间{moment(line.deadline)}，{tail}"


def _block_chunks(
    head: Callable[[str], str],
    blocks: Sequence[tuple[str, Sequence[tuple[str, list[int]]]]],
    foot: str,
    limit: int = LIMIT,
) -> list[tuple[str, list[int]]]:
    """Messages of a head, blocks (a title and its lines) and a foot within `limit`, with the
    line indices each holds; a block split over two messages repeats its title."""
    room = limit - len(head("（分99条发送，此为第99条）")) - len(foot) - 4
    messages: list[list[str]] = [[]]
    indices: list[list[int]] = [[]]
    size = 0
    for title, entries in blocks:
        for n, (entry, held) in enumerate(entries):
            need = len(entry) + 1 + (len(title) + 1 if n == 0 else 0)
            if messages[-1] and size + need > room:
                messages.append([])
                indices.append([])
                size = 0
            if n == 0 or not messages[-1]:
                messages[-1].append(title)
                size += len(title) + 1
            messages[-1].append(entry)
            indices[-1].extend(held)
            size += len(entry) + 1
    out = []
    for n, (body, held) in enumerate(zip(messages, indices, strict=True), 1):
        part = f"（分{len(messages)}条发送，此为第{n}条）" if len(messages) > 1 else ""
        out.append((f"{head(part)}\n" + "\n".join(body) + f"\n{foot}", held))
    return out


def escalation(lines: Sequence[ReminderLine]) -> list[tuple[str, list[int]]]:
    """To a supervising leader and the office: reports overdue past the escalation threshold."""

    def head(indices: Sequence[int], part: str) -> str:
        return f"<b>督办提示</b>：以下{len(indices)}个单位·任务逾期未报，已按规定提请关注{part}："

    entries = [
        f"· {esc(x.unit)} 第{x.task_no}项 {esc(short(x.task_text, 20))}"
        f"（{cycle_label(x.cycle_key)}，{_when(x)}）"
        for x in lines
    ]
    return _chunks(head, entries, "可发送 /overdue 查看全部逾期事项，或在任务卡片上催办。")


def unreachable(unit: str | None, name: str, role_label: str) -> str:
    """To the office: a contact blocked the bot."""
    what = f"{esc(unit)}{role_label}" if unit else role_label
    return (
        f"<b>送达失败</b>：{what}{esc(name)} 已停用或屏蔽本助手，消息无法送达。"
        "请联系该单位重新绑定联络员（管理员可发送 /contacts 更换）。"
    )


def calendar_unknown_year(year: int) -> str:
    """To the admins, once per year: the statutory calendar has no data for `year`."""
    return (
        f"<b>工作日历提示</b>：系统尚无{year}年法定节假日和调休安排，"
        "目前暂按周一至周五为工作日计算报送截止日和提醒。\n"
        f"国务院办公厅公布{year}年节假日安排后，请在服务器上逐日设置，例如：\n"
        f"<code>python -m bot calendar --set-off {year}-10-01 --note 国庆节</code>\n"
        f"<code>python -m bot calendar --set-work {year}-09-26</code>\n"
        f"设置后可用 <code>python -m bot calendar {year}-10</code> 核对当月日历。"
    )
