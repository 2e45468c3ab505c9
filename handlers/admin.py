"""Admin: invites (/invite with buttons), contacts (/contacts: list, revoke, replace), groups."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatMemberStatus, ChatType

from bot import texts as tx
from bot.domain.roles import ROLE_LABELS, LeaderRef, Principal, Role, UnitRef, invite_link
from bot.services import access
from db import people
from handlers.base import answer, edit_or_reply, encode, int_arg, reply
from handlers.context import BotContext
from handlers.menu import set_menu_for

PAGE = 10

# What an invite is for, as one letter in button data.
KINDS: dict[str, tuple[Role, bool]] = {
    "l": (Role.LIAISON, False),
    "d": (Role.LIAISON, True),
    "o": (Role.OFFICE, False),
    "g": (Role.LEADER, False),
    "a": (Role.ADMIN, False),
}


INVITES_SHOWN = 20  # buttons on the /invites list


async def cmd_invite(update: Update, context: BotContext) -> None:
    """Step 1: which role the invite is for."""
    rows = [
        [
            InlineKeyboardButton("联络员", callback_data=encode("iv", "l", 0)),
            InlineKeyboardButton("副联络员", callback_data=encode("iv", "d", 0)),
        ],
        [
            InlineKeyboardButton("督导办", callback_data=encode("iv", "o", 0)),
            InlineKeyboardButton("分管领导", callback_data=encode("iv", "g", 0)),
            InlineKeyboardButton("管理员", callback_data=encode("iv", "a", 0)),
        ],
    ]
    await reply(update, tx.INVITE_CHOOSE_ROLE, InlineKeyboardMarkup(rows))


async def btn_invite(
    update: Update, context: BotContext, principal: Principal, args: tuple[str, ...]
) -> None:
    """Step 2: choose the unit or leader (paged), or create the office/admin invite."""
    query = update.callback_query
    assert query is not None
    kind = args[0] if args else ""
    page = int_arg(args, 1, high=1000)
    if kind not in KINDS or page is None:
        await answer(query, tx.STALE, alert=True)
        return
    role, deputy = KINDS[kind]
    if role in (Role.OFFICE, Role.ADMIN):
        await answer(query)
        await _create_and_show(update, context, principal, role, None, None, deputy)
        return
    session = context.session
    if role == Role.LIAISON:
        options = [(u.id, u.name) for u in await people.reportable_units(session)]
    else:
        options = [(x.id, x.name) for x in await people.all_leaders(session)]
    pages = max(1, (len(options) + PAGE - 1) // PAGE)
    page = min(page, pages - 1)
    chunk = options[page * PAGE : (page + 1) * PAGE]
    rows = [
        [InlineKeyboardButton(name, callback_data=encode("ivc", kind, oid))] for oid, name in chunk
    ]
    nav = []
    if page > 0:
        nav.append(InlineKeyboardButton("‹ 上一页", callback_data=encode("iv", kind, page - 1)))
    if page + 1 < pages:
        nav.append(InlineKeyboardButton("下一页 ›", callback_data=encode("iv", kind, page + 1)))
    if nav:
        rows.append(nav)
    await answer(query)
    await edit_or_reply(
        update, tx.invite_choose_target(role, deputy, page + 1, pages), InlineKeyboardMarkup(rows)
    )


async def btn_invite_create(
    update: Update, context: BotContext, principal: Principal, args: tuple[str, ...]
) -> None:
    """Step 3: create the invite for the chosen unit or leader."""
    query = update.callback_query
    assert query is not None
    kind = args[0] if args else ""
    target_id = int_arg(args, 1)
    if kind not in KINDS or target_id is None or KINDS[kind][0] not in (Role.LIAISON, Role.LEADER):
        await answer(query, tx.STALE, alert=True)
        return
    role, deputy = KINDS[kind]
    session = context.session
    unit = leader = None
    if role == Role.LIAISON:
        unit = next((u for u in await people.reportable_units(session) if u.id == target_id), None)
    else:
        leader = next((x for x in await people.all_leaders(session) if x.id == target_id), None)
    if unit is None and leader is None:
        await answer(query, tx.STALE, alert=True)
        return
    await answer(query)
    await _create_and_show(update, context, principal, role, unit, leader, deputy)


async def _create_and_show(
    update: Update,
    context: BotContext,
    principal: Principal,
    role: Role,
    unit: UnitRef | None,
    leader: LeaderRef | None,
    deputy: bool,
) -> None:
    invite = await access.new_invite(
        await context.desk(), role, unit=unit, leader=leader, deputy=deputy, by=principal.user_id
    )
    link = invite_link(context.services.bot_username, invite.code)
    await edit_or_reply(update, tx.invite_created(invite, link))


# --- Contacts -----------------------------------------------------------------------------------


async def cmd_invites(update: Update, context: BotContext) -> None:
    """/invites: the open links, each with a revoke button, and one to revoke them all."""
    await _show_invites(update, context)


async def _show_invites(update: Update, context: BotContext) -> None:
    found = await people.open_invites(context.session, context.now())
    if not found:
        await edit_or_reply(update, tx.NO_OPEN_INVITES)
        return
    tz = context.services.settings.tz
    shown = found[:INVITES_SHOWN]
    text = tx.open_invites_page(
        [
            (i.id, ROLE_LABELS[i.role], i.target, i.deputy, i.expires_at.astimezone(tz))
            for i in shown
        ],
        len(found),
    )
    rows = [
        [InlineKeyboardButton(f"撤销 #{i.id}", callback_data=encode("ivr", i.id))] for i in shown
    ]
    rows.append([InlineKeyboardButton(tx.INVITES_REVOKE_ALL, callback_data=encode("ivr", "all"))])
    await edit_or_reply(update, text, InlineKeyboardMarkup(rows))


async def btn_revoke_invite(
    update: Update, context: BotContext, principal: Principal, args: tuple[str, ...]
) -> None:
    """撤销 one open link (or all of them); the list is shown again."""
    query = update.callback_query
    assert query is not None
    every = args[:1] == ("all",)
    invite_id = None if every else int_arg(args, 0)
    if not every and invite_id is None:
        await answer(query, tx.STALE, alert=True)
        return
    count = await people.revoke_invites(
        context.session,
        now=context.now(),
        by=principal.user_id,
        ids=None if every else [invite_id] if invite_id is not None else [],
    )
    await answer(query, tx.invites_revoked(count))
    await _show_invites(update, context)


async def cmd_contacts(update: Update, context: BotContext) -> None:
    """List active contacts (optionally filtered by a unit or person), with revoke/replace."""
    words = context.args or []
    await _show_contacts(update, context, " ".join(words).strip(), 0)


async def _show_contacts(update: Update, context: BotContext, needle: str, page: int) -> None:
    contacts = await people.list_contacts(context.session)
    if needle:
        contacts = [
            c
            for c in contacts
            if needle in (c.unit or "") or needle in (c.leader or "") or needle in c.name
        ]
    if not contacts:
        await edit_or_reply(update, tx.NO_CONTACTS)
        return
    pages = max(1, (len(contacts) + PAGE - 1) // PAGE)
    page = min(page, pages - 1)
    chunk = contacts[page * PAGE : (page + 1) * PAGE]
    rows = []
    for c in chunk:
        buttons = [InlineKeyboardButton(f"撤销 #{c.id}", callback_data=encode("cr", c.id))]
        if c.role == Role.LIAISON:
            buttons.append(InlineKeyboardButton(f"更换 #{c.id}", callback_data=encode("cx", c.id)))
        rows.append(buttons)
    nav = []
    if page > 0 and not needle:
        nav.append(InlineKeyboardButton("‹ 上一页", callback_data=encode("cl", page - 1)))
    if page + 1 < pages and not needle:
        nav.append(InlineKeyboardButton("下一页 ›", callback_data=encode("cl", page + 1)))
    if nav:
        rows.append(nav)
    await edit_or_reply(
        update, tx.contacts_page(chunk, page + 1, pages, len(contacts)), InlineKeyboardMarkup(rows)
    )


async def btn_contacts_page(
    update: Update, context: BotContext, principal: Principal, args: tuple[str, ...]
) -> None:
    """Another page of the contact list."""
    query = update.callback_query
    assert query is not None
    page = int_arg(args, 0, high=1000)
    if page is None:
        await answer(query, tx.STALE, alert=True)
        return
    await answer(query)
    await _show_contacts(update, context, "", page)


async def btn_revoke(
    update: Update, context: BotContext, principal: Principal, args: tuple[str, ...]
) -> None:
    """Ask to confirm a revocation."""
    query = update.callback_query
    assert query is not None
    contact_id = int_arg(args, 0)
    view = await people.get_contact(context.session, contact_id) if contact_id else None
    if view is None:
        await answer(query, tx.STALE, alert=True)
        return
    await answer(query)
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("确认撤销", callback_data=encode("crc", view.id)),
                InlineKeyboardButton("取消", callback_data=encode("cl", 0)),
            ]
        ]
    )
    await edit_or_reply(update, tx.confirm_revoke(view), markup)


async def btn_revoke_confirm(
    update: Update, context: BotContext, principal: Principal, args: tuple[str, ...]
) -> None:
    """Revoke: the account loses the role at once."""
    query = update.callback_query
    assert query is not None
    contact_id = int_arg(args, 0)
    view = await people.get_contact(context.session, contact_id) if contact_id else None
    if view is None:
        await answer(query, tx.STALE, alert=True)
        return
    contact = await access.revoke(await context.desk(), view, by=principal.user_id)
    await answer(query)
    await edit_or_reply(update, tx.revoked(view))
    if contact is not None:
        await _reset_menu(context, contact.tg_user_id, contact.chat_id)


async def btn_replace(
    update: Update, context: BotContext, principal: Principal, args: tuple[str, ...]
) -> None:
    """Replace a liaison: revoke the binding and issue a new invite for the same unit."""
    query = update.callback_query
    assert query is not None
    contact_id = int_arg(args, 0)
    view = await people.get_contact(context.session, contact_id) if contact_id else None
    replaced = None
    if view is not None:
        replaced = await access.replace_liaison(await context.desk(), view, by=principal.user_id)
    if replaced is None:
        await answer(query, tx.STALE, alert=True)
        return
    invite, contact = replaced
    await answer(query)
    link = invite_link(context.services.bot_username, invite.code)
    await edit_or_reply(update, tx.invite_created(invite, link))
    if contact is not None:
        await _reset_menu(context, contact.tg_user_id, contact.chat_id)


async def _reset_menu(context: BotContext, user_id: int, chat_id: int) -> None:
    """A revoked or replaced account's menu shrinks to what it still holds."""
    await set_menu_for(context.bot, chat_id, await people.principal(context.session, user_id))


# --- Groups -------------------------------------------------------------------------------------


async def on_my_chat_member(update: Update, context: BotContext) -> None:
    """The bot was added to or removed from a group: keep it only where an admin or the office
    put it. A promotion or demotion of the bot (any group admin may make one) is no join."""
    change = update.my_chat_member
    if change is None:
        return
    chat = change.chat
    if chat.type not in (ChatType.GROUP, ChatType.SUPERGROUP):
        return
    status = change.new_chat_member.status
    desk = await context.desk()
    if status in (ChatMemberStatus.LEFT, ChatMemberStatus.BANNED):
        await access.group_left(desk, chat.id)
        return
    inside = (ChatMemberStatus.MEMBER, ChatMemberStatus.ADMINISTRATOR)
    if status not in inside or change.old_chat_member.status in inside:
        return
    adder = change.from_user
    principal = await context.principal(adder.id)
    allowed = principal.admin or principal.office
    if await access.group_joined(
        desk, chat_id=chat.id, title=chat.title or "", by=adder.id, allowed=allowed
    ):
        await context.bot.send_message(chat.id, tx.GROUP_REGISTERED)
    else:
        await context.bot.leave_chat(chat.id)
