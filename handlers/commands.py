"""The one table of commands and buttons: handlers, roles and menu texts come from here.

`register(application)` adds every handler in order; `menu_for(principal)` builds the command
menu a person sees from the same table, so the menu cannot drift from what is registered.
"""

from __future__ import annotations

import logging

from telegram.ext import (
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from handlers import admin, closeout, evidence, office, report, start
from handlers.base import (
    ADMIN,
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
from handlers.menu import ENTRIES

log = logging.getLogger(__name__)

# Each command's handler; who may use it and its texts are in handlers.menu.
_HANDLERS = {
    "start": start.cmd_start,
    "help": start.cmd_help,
    "tasks": report.cmd_tasks,
    "report": report.cmd_report,
    "history": report.cmd_history,
    "cancel": report.cmd_cancel,
    "invite": admin.cmd_invite,
    "contacts": admin.cmd_contacts,
    "invites": admin.cmd_invites,
    "overdue": office.cmd_overdue,
    "task": office.cmd_task,
    "units": office.cmd_units,
    "summary": office.cmd_summary,
    "export": office.cmd_export,
    "bulletin": office.cmd_bulletin,
    "closeyear": office.cmd_close_year,
}
COMMANDS: tuple[CommandSpec, ...] = tuple(
    CommandSpec(e.name, _HANDLERS[e.name], e.roles, e.menu, e.in_menu) for e in ENTRIES
)

BUTTONS: tuple[ButtonSpec, ...] = (
    ButtonSpec("tp", report.btn_tasks_page, LIAISON),
    ButtonSpec("rp", report.btn_picker_page, LIAISON),
    ButtonSpec("rt", report.btn_choose_task, LIAISON),
    ButtonSpec("rc", report.btn_confirm, LIAISON),
    ButtonSpec("re", report.btn_edit, LIAISON),
    ButtonSpec("rq", report.btn_reading, LIAISON),
    ButtonSpec("rx", report.btn_cancel, LIAISON),
    ButtonSpec("rv", report.btn_correct, LIAISON),
    ButtonSpec("ak", report.btn_acknowledge, LIAISON),
    ButtonSpec("iv", admin.btn_invite, ADMIN),
    ButtonSpec("ivk", admin.btn_invite_kind, ADMIN),
    ButtonSpec("ivc", admin.btn_invite_create, ADMIN),
    ButtonSpec("cl", admin.btn_contacts_page, ADMIN),
    ButtonSpec("ivr", admin.btn_revoke_invite, ADMIN),
    ButtonSpec("cr", admin.btn_revoke, ADMIN),
    ButtonSpec("crc", admin.btn_revoke_confirm, ADMIN),
    ButtonSpec("cx", admin.btn_replace, ADMIN),
    ButtonSpec("ovp", office.btn_overdue_page, OFFICE | LEADER),
    ButtonSpec("ovu", office.btn_unit_nudge, OFFICE),
    ButtonSpec("ovn", office.btn_nudge, OFFICE),
    ButtonSpec("tkh", office.btn_task_history, BOUND),
    ButtonSpec("tkc", office.btn_task_card, BOUND),
    ButtonSpec("ins", office.btn_instruct, LEADER),
    ButtonSpec("rqc", office.btn_request, LIAISON),
    ButtonSpec("evl", evidence.btn_evidence, BOUND),
    ButtonSpec("rtl", closeout.btn_return, OFFICE),
    ButtonSpec("rtr", closeout.btn_return_pick, OFFICE),
    ButtonSpec("cla", closeout.btn_apply, LIAISON),
    ButtonSpec("clo", closeout.btn_close, OFFICE),
    ButtonSpec("clr", closeout.btn_refuse, OFFICE),
    ButtonSpec("clx", closeout.btn_reopen, OFFICE),
    ButtonSpec("exq", closeout.btn_extend, LIAISON),
    ButtonSpec("exk", closeout.btn_extend_pick, LIAISON),
    ButtonSpec("exa", closeout.btn_extend_approve, OFFICE | LEADER),
    ButtonSpec("exr", closeout.btn_extend_refuse, OFFICE | LEADER),
    ButtonSpec("asr", office.btn_ranking, OFFICE | ADMIN),
    ButtonSpec("cy", office.btn_close_year, OFFICE),
)


def _check_table() -> None:
    names = [c.name for c in COMMANDS]
    if set(_HANDLERS) != set(names):
        raise RuntimeError("handlers/commands.py and handlers/menu.py name different commands")
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
    files = filters.PHOTO | filters.Document.ALL
    application.add_handler(MessageHandler(private & files, evidence.on_file))  # 佐证材料
    application.add_handler(
        MessageHandler(private & ~filters.StatusUpdate.ALL, start.on_other_message)
    )
