"""What each command is for and who may use it: the data of the one command table.

`handlers.commands` joins each entry to its handler; the menu Telegram shows, `/help` and the
fallback answer to free text are built from the same entries, so none of them can name a
command a person may not use or leave out one they may. Kept apart from the handlers so that
a handler can refresh a person's menu without importing the table of handlers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from telegram import Bot, BotCommand, BotCommandScopeChat
from telegram.error import TelegramError

from bot.domain.roles import Principal, Role
from handlers.base import ADMIN, ANYONE, BOUND, LEADER, LIAISON, OFFICE

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Entry:
    """One command: who may use it, its menu description, and its line in /help (Chinese)."""

    name: str
    roles: frozenset[Role]
    menu: str
    help: str = ""  # the /help line, when it says more than the menu
    in_menu: bool = True

    def help_line(self) -> str:
        """`/name what it does`."""
        return f"/{self.name} {self.help or self.menu}"


# Order: the menu's, and /help's within each role.
ENTRIES: tuple[Entry, ...] = (
    Entry("start", ANYONE, "开始 / 绑定身份", in_menu=False),
    Entry("help", ANYONE, "使用说明"),
    # Liaison
    Entry("tasks", LIAISON, "本单位任务及报送状态", "查看本单位任务及本期报送状态"),
    Entry("report", LIAISON, "报送任务进展", "报送任务进展（也可直接回复提醒消息）"),
    Entry("history", LIAISON, "报送记录与更正", "查看本单位近期报送记录，可更正本期报送"),
    Entry("cancel", BOUND, "取消当前操作"),
    # Admin
    Entry("invite", ADMIN, "生成邀请链接", "生成邀请链接（联络员、督导办、领导、管理员）"),
    Entry("contacts", ADMIN, "联络人管理", "查看联络人，撤销或更换绑定"),
    Entry("invites", ADMIN, "未使用的邀请链接", "查看和撤销未使用的邀请链接"),
    # Office and leaders (a liaison may open only their own unit's task cards)
    Entry(
        "overdue",
        OFFICE | LEADER,
        "逾期未报事项",
        "逾期未报事项（可按单位、领导、单位类别筛选，如 /overdue 乡镇街道）",
    ),
    Entry(
        "task", BOUND, "任务详情（/task 序号）", "序号：任务详情与报送记录（往年：/task 2026-6）"
    ),
    Entry("units", OFFICE | ADMIN, "各单位绑定及报送率", "各单位联络员绑定、当期报送及全年报送率"),
    Entry("summary", OFFICE | LEADER, "任务进展摘要"),
    Entry("export", OFFICE | ADMIN, "导出督查台账", "导出督查台账（Excel；往年：/export 2026）"),
    Entry("bulletin", OFFICE, "生成月度通报", "生成月度通报（Word；指定月份：/bulletin 2026-11）"),
    Entry("closeyear", OFFICE, "结束年度督办", "年度：结束该年度督办（如 /closeyear 2026）"),
)

_ROLE_ORDER = (Role.LIAISON, Role.LEADER, Role.OFFICE, Role.ADMIN)


def entry(name: str) -> Entry:
    """The entry of a command."""
    return next(e for e in ENTRIES if e.name == name)


def help_sections(principal: Principal) -> list[tuple[Role, list[str]]]:
    """Per role the account holds, the help lines of the commands that role may use."""
    out = []
    for role in _ROLE_ORDER:
        if role in principal.roles:
            lines = [e.help_line() for e in ENTRIES if e.roles and role in e.roles and e.in_menu]
            out.append((role, lines))
    return out


def menu_for(principal: Principal) -> list[BotCommand]:
    """The commands this person may use, for Telegram's menu."""
    return [
        BotCommand(e.name, e.menu)
        for e in ENTRIES
        if e.in_menu and e.roles and principal.may(e.roles)
    ] or [BotCommand("help", "使用说明")]


def default_menu() -> list[BotCommand]:
    """What an account with no role sees."""
    return [BotCommand(e.name, e.menu) for e in ENTRIES if e.in_menu and not e.roles]


async def set_menu_for(bot: Bot, chat_id: int, principal: Principal) -> None:
    """Set a person's menu with a per-chat scope (a failure here must not fail the update)."""
    try:
        await bot.set_my_commands(menu_for(principal), scope=BotCommandScopeChat(chat_id))
    except TelegramError:
        # The menu is a convenience; the role check on each message is what protects.
        log.warning("could not set the menu for chat %s", chat_id, exc_info=True)
