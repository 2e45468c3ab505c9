"""The one table of commands and buttons: handlers, roles and menu texts come from here.

`register(application)` adds every handler in order; `menu_for(principal)` builds the command
menu a person sees from the same table, so the menu cannot drift from what is registered.
"""

from __future__ import annotations

import logging

from telegram import Bot, BotCommand, BotCommandScopeChat
from telegram.error import TelegramError
from telegram.ext import (
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.roles import Principal
from handlers import admin, office, report, start
from handlers.base import (
    ADMIN,
    ANYONE,
    BOUND,
    LEADER,
    LIAISON,
    OFFICE,
    ButtonSpec,
    CommandSpec,
    guard_command,
    make_button_router,
)
from handlers.context import BotApp

log = logging.getLogger(__name__)

# Order matters only for the menu; each name is unique.
COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec("start", start.cmd_start, ANYONE, "开始 / 绑定身份", in_menu=False),
    CommandSpec("help", start.cmd_help, ANYONE, "使用说明"),
    # Liaison
    CommandSpec("tasks", report.cmd_tasks, LIAISON, "本单位任务及报送状态"),
    CommandSpec("report", report.cmd_report, LIAISON, "报送任务进展"),
    CommandSpec("history", report.cmd_history, LIAISON, "报送记录与更正"),
    CommandSpec("cancel", report.cmd_cancel, BOUND, "取消当前操作"),
    # Admin
    CommandSpec("invite", admin.cmd_invite, ADMIN, "生成邀请链接"),
    CommandSpec("contacts", admin.cmd_contacts, ADMIN, "联络人管理"),
    # Office and leaders (a liaison may open only their own unit's task cards)
    CommandSpec("overdue", office.cmd_overdue, OFFICE | LEADER, "逾期未报事项"),
    CommandSpec("task", office.cmd_task, BOUND, "任务详情（/task 序号）"),
    CommandSpec("units", office.cmd_units, OFFICE | ADMIN, "各单位绑定及报送率"),
    CommandSpec("summary", office.cmd_summary, OFFICE | LEADER, "任务进展摘要"),
    CommandSpec("export", office.cmd_export, OFFICE | ADMIN, "导出督查台账"),
)

BUTTONS: tuple[ButtonSpec, ...] = (
    ButtonSpec("tp", report.btn_tasks_page, LIAISON),
    ButtonSpec("rp", report.btn_picker_page, LIAISON),
    ButtonSpec("rt", report.btn_choose_task, LIAISON),
    ButtonSpec("rc", report.btn_confirm, LIAISON),
    ButtonSpec("re", report.btn_edit, LIAISON),
    ButtonSpec("rx", report.btn_cancel, LIAISON),
    ButtonSpec("rv", report.btn_correct, LIAISON),
    ButtonSpec("iv", admin.btn_invite, ADMIN),
    ButtonSpec("ivc", admin.btn_invite_create, ADMIN),
    ButtonSpec("cl", admin.btn_contacts_page, ADMIN),
    ButtonSpec("cr", admin.btn_revoke, ADMIN),
    ButtonSpec("crc", admin.btn_revoke_confirm, ADMIN),
    ButtonSpec("cx", admin.btn_replace, ADMIN),
    ButtonSpec("ovp", office.btn_overdue_page, OFFICE | LEADER),
    ButtonSpec("ovn", office.btn_nudge, OFFICE),
    ButtonSpec("tkh", office.btn_task_history, BOUND),
    ButtonSpec("tkc", office.btn_task_card, BOUND),
)


def _check_table() -> None:
    names = [c.name for c in COMMANDS]
    prefixes = [b.prefix for b in BUTTONS]
    if len(set(names)) != len(names) or len(set(prefixes)) != len(prefixes):
        raise RuntimeError("duplicate command name or button prefix in handlers/commands.py")


_check_table()


def register(application: BotApp) -> None:
    """Add every handler, in order: membership, commands, buttons, then the fallbacks."""
    application.add_handler(
        ChatMemberHandler(admin.on_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER)
    )
    for spec in COMMANDS:
        application.add_handler(CommandHandler(spec.name, guard_command(spec)))
    application.add_handler(CallbackQueryHandler(make_button_router(BUTTONS)))
    private = filters.ChatType.PRIVATE
    application.add_handler(MessageHandler(private & filters.COMMAND, start.on_unknown_command))
    application.add_handler(MessageHandler(private & filters.TEXT, start.on_text))
    application.add_handler(
        MessageHandler(private & ~filters.StatusUpdate.ALL, start.on_other_message)
    )


def menu_for(principal: Principal) -> list[BotCommand]:
    """The commands this person may use, for Telegram's menu."""
    return [
        BotCommand(c.name, c.menu)
        for c in COMMANDS
        if c.in_menu and c.roles and principal.may(c.roles)
    ] or [BotCommand("help", "使用说明")]


def default_menu() -> list[BotCommand]:
    """What an account with no role sees."""
    return [BotCommand(c.name, c.menu) for c in COMMANDS if c.in_menu and not c.roles]


async def set_menu_for(bot: Bot, chat_id: int, principal: Principal) -> None:
    """Set a person's menu with a per-chat scope (a failure here must not fail the update)."""
    try:
        await bot.set_my_commands(menu_for(principal), scope=BotCommandScopeChat(chat_id))
    except TelegramError:
        # The menu is a convenience; the role check on each message is what protects.
        log.warning("could not set the menu for chat %s", chat_id, exc_info=True)
