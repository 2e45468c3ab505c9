"""/start (binding with an invite code), /help, unknown commands, and plain text."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update

from bot import texts
from bot.domain.roles import Role
from bot.services import access, acknowledge
from db import people
from db.people import BindOutcome
from handlers import admin, closeout, office, report
from handlers.base import clean_text, private_chat, reply, tell_unbound
from handlers.context import BotContext
from handlers.menu import help_sections, set_menu_for


async def cmd_start(update: Update, context: BotContext) -> None:
    """Bind with `/start <code>`; without a code, explain how to get one."""
    user = update.effective_user
    chat = update.effective_chat
    if user is None or chat is None:
        return
    code = (context.args or [""])[0] if context.args else ""
    if not code:
        principal = await context.principal(user.id)
        if principal.bound:
            await reply(update, texts.START_NO_CODE_BOUND)
        else:
            await tell_unbound(update, context)
        return
    result = await access.bind(
        await context.desk(),
        code=code,
        user_id=user.id,
        chat_id=chat.id,
        name=user.full_name,
        username=user.username,
    )
    if result is None:
        minutes = int(access.FAIL_WINDOW.total_seconds() // 60)
        await reply(update, texts.too_many_attempts(minutes))
        return
    if result.outcome in access.BIND_FAILURES:
        await reply(update, texts.BIND_FAILED[result.outcome.value])
        return
    context.forget_principal(user.id)
    assert result.role is not None
    if result.outcome == BindOutcome.ALREADY:
        await reply(update, texts.already_bound(result.role))
        return
    # The menu first: by the time the person reads the welcome, it shows their commands.
    await refresh_menu(context, user.id, chat.id)
    text, markup = await welcome_text(context, result), None
    if result.role == Role.LIAISON and result.unit is not None:
        waiting = await acknowledge.pending(
            await context.desk(), [result.unit], await context.year()
        )
        if waiting:
            count = len(waiting[0].tasks)
            text += "\n" + texts.ack_request(count)
            markup = InlineKeyboardMarkup([[report.ack_all(count)]])
    await reply(update, text, markup)


async def welcome_text(context: BotContext, result: people.BindResult) -> str:
    """What a newly bound person is told about their role."""
    year = await context.year()
    if result.role == Role.LIAISON and result.unit is not None:
        w = await access.liaison_welcome(await context.desk(), result.unit, year, result.deputy)
        return texts.bound_liaison(w.unit, w.lead, w.responsible, w.due, w.deputy)
    if result.role == Role.LEADER and result.leader is not None:
        count = await access.leader_task_count(await context.desk(), result.leader, year)
        return texts.bound_role(Role.LEADER, result.leader.name, count)
    assert result.role is not None
    return texts.bound_role(result.role, None)


async def refresh_menu(context: BotContext, user_id: int, chat_id: int) -> None:
    """Show this person the commands of their roles in Telegram's menu."""
    principal = await context.principal(user_id)
    await set_menu_for(context.bot, chat_id, principal)


async def cmd_help(update: Update, context: BotContext) -> None:
    """What the caller can do, by role."""
    user = update.effective_user
    if user is None:
        return
    principal = await context.principal(user.id)
    if not principal.bound:
        await tell_unbound(update, context)
        return
    await reply(update, texts.help_text(principal, help_sections(principal)))


async def on_unknown_command(update: Update, context: BotContext) -> None:
    """A command we do not have."""
    user = update.effective_user
    if user is None or not private_chat(update):
        return
    principal = await context.principal(user.id)
    if principal.bound:
        await reply(update, texts.UNKNOWN_COMMAND)
    else:
        await tell_unbound(update, context)


async def on_text(update: Update, context: BotContext) -> None:
    """Free text in a private chat: a report in progress, a reply to a reminder, an admin
    looking for a unit to invite, or a hint."""
    user = update.effective_user
    message = update.effective_message
    if user is None or message is None or not private_chat(update):
        return
    account = await context.account(user.id)
    principal = account.principal
    if not principal.bound:
        await tell_unbound(update, context)
        return
    if account.unreachable:
        # The person wrote to the bot again: they can be reached.
        await people.mark_reachable(context.session, user_id=user.id)
    text = clean_text(message.text or "")
    if await report.handle_text(update, context, principal, text):
        return
    # After the report conversation (which 批示 and 提请协调 end when pressed): the common path,
    # a report, costs no extra query.
    if await office.awaited_text(update, context, principal, text):
        return  # a 批示 or 提请协调 the person was asked for
    if await closeout.awaited_text(update, context, principal, text):
        return  # a 退回 or 销号 comment, or a 销号 application
    # An admin may type the name of a unit or leader to invite.
    admin_search = Role.ADMIN in principal.roles and 0 < len(text) <= admin.SEARCH_LIMIT
    if admin_search and await admin.invite_search(update, context, text, typed=True):
        return
    # A hint, not a conversation: a few per window, so a stream of stray text is not answered
    # line by line (nor keeps the others waiting behind the replies).
    if context.services.hint_budget().allow(user.id, context.now()):
        await reply(update, texts.text_hint(principal, help_sections(principal)))


async def on_other_message(update: Update, context: BotContext) -> None:
    """Stickers, voice, video...: only text (and 佐证材料, photos and files) is taken."""
    user = update.effective_user
    if user is None or not private_chat(update):
        return
    principal = await context.principal(user.id)
    if principal.bound:
        await reply(update, texts.ONLY_TEXT)
    else:
        await tell_unbound(update, context)
