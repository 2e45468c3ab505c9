"""Admin: invites (/invite with buttons), contacts (/contacts: list, revoke, replace), groups."""

from __future__ import annotations

from collections.abc import Callable

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatMemberStatus, ChatType

from bot import texts as tx
from bot.domain.roles import (
    ROLE_LABELS,
    ContactView,
    LeaderRef,
    Principal,
    Role,
    UnitRef,
    invite_link,
)
from bot.domain.units import CATEGORIES
from bot.services import access
from db import people
from handlers.base import answer, clean_text, edit_or_reply, encode, int_arg, page_buttons, reply
from handlers.context import BotContext
from handlers.menu import set_menu_for

PAGE = 10
UNIT_PAGE = 16  # units per page of an invite's kind of unit, two a row
SEARCH_LIMIT = 30  # characters of a name search

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
    """Step 1: which role the invite is for; `/invite 工信` finds units and leaders by name."""
    query = clean_text(" ".join(context.args or []))[:SEARCH_LIMIT]
    if query:
        await invite_search(update, context, query)
        return
    await reply(update, tx.INVITE_CHOOSE_ROLE, _roles_keyboard())


def _roles_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("联络员", callback_data=encode("iv", "l", 0)),
                InlineKeyboardButton("分管领导", callback_data=encode("iv", "g", 0)),
            ],
            [
                InlineKeyboardButton("督导办", callback_data=encode("iv", "o", 0)),
                InlineKeyboardButton("管理员", callback_data=encode("iv", "a", 0)),
            ],
        ]
    )


def _nav_row(page: int, pages: int, data: Callable[[int], str]) -> list[list[InlineKeyboardButton]]:
    """The page buttons as a keyboard row, or no row."""
    row = page_buttons(page, pages, data)
    return [row] if row else []


def _back(data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(tx.BACK, callback_data=data)


async def btn_invite(
    update: Update, context: BotContext, principal: Principal, args: tuple[str, ...]
) -> None:
    """Step 2: the kinds of unit (liaisons), the leaders (paged), or the office/admin invite;
    "b" goes back to step 1."""
    query = update.callback_query
    assert query is not None
    kind = args[0] if args else ""
    page = int_arg(args, 1, high=1000)
    if kind == "b":
        await answer(query)
        await edit_or_reply(update, tx.INVITE_CHOOSE_ROLE, _roles_keyboard())
        return
    if kind not in KINDS or page is None:
        await answer(query, tx.STALE, alert=True)
        return
    role, deputy = KINDS[kind]
    await answer(query)
    if role in (Role.OFFICE, Role.ADMIN):
        await _create_and_show(update, context, principal, role, None, None, deputy)
        return
    if role == Role.LIAISON:
        choices = await access.unit_choices(await context.desk())
        counts = {c.key: sum(1 for u in choices if u.category == c.key) for c in CATEGORIES}
        buttons = [
            InlineKeyboardButton(
                tx.invite_kind_button(c.label, counts[c.key]),
                callback_data=encode("ivk", kind, i, 0),
            )
            for i, c in enumerate(CATEGORIES)
            if counts[c.key]
        ]
        rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
        rows.append([_back(encode("iv", "b", 0))])
        await edit_or_reply(update, tx.invite_choose_kind(deputy), InlineKeyboardMarkup(rows))
        return
    leaders = [(x.id, x.name) for x in await people.all_leaders(context.session)]
    pages = max(1, (len(leaders) + PAGE - 1) // PAGE)
    page = min(page, pages - 1)
    rows = [
        [InlineKeyboardButton(name, callback_data=encode("ivc", kind, oid))]
        for oid, name in leaders[page * PAGE : (page + 1) * PAGE]
    ]
    rows += _nav_row(page, pages, lambda p: encode("iv", kind, p))
    rows.append([_back(encode("iv", "b", 0))])
    await edit_or_reply(
        update, tx.invite_choose_target(role, deputy, page + 1, pages), InlineKeyboardMarkup(rows)
    )


async def btn_invite_kind(
    update: Update, context: BotContext, principal: Principal, args: tuple[str, ...]
) -> None:
    """Step 2b: the units of one kind, in the notice's order, two a row (✓: has a liaison)."""
    query = update.callback_query
    assert query is not None
    kind = args[0] if args else ""
    index = int_arg(args, 1, high=len(CATEGORIES) - 1)
    page = int_arg(args, 2, high=1000)
    if kind not in ("l", "d") or index is None or page is None:
        await answer(query, tx.STALE, alert=True)
        return
    category = CATEGORIES[index]
    choices = [
        c for c in await access.unit_choices(await context.desk()) if c.category == category.key
    ]
    pages = max(1, (len(choices) + UNIT_PAGE - 1) // UNIT_PAGE)
    page = min(page, pages - 1)
    buttons = [
        InlineKeyboardButton(
            tx.invite_unit_button(c.unit.name, bool(c.liaisons)),
            callback_data=encode("ivc", kind, c.unit.id),
        )
        for c in choices[page * UNIT_PAGE : (page + 1) * UNIT_PAGE]
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows += _nav_row(page, pages, lambda p: encode("ivk", kind, index, p))
    rows.append([_back(encode("iv", kind, 0))])
    await answer(query)
    text = tx.invite_choose_unit(category.label, KINDS[kind][1], page + 1, pages)
    await edit_or_reply(update, text, InlineKeyboardMarkup(rows))


async def invite_search(
    update: Update, context: BotContext, text: str, *, typed: bool = False
) -> bool:
    """Units and leaders whose name contains `text`, as invite buttons. Typed as plain text
    (`typed`), nothing found is left to the caller (it was likely not a name): False."""
    units, leaders = await access.find_invite_targets(await context.desk(), text)
    if not units and not leaders:
        if typed:
            return False
        await reply(update, tx.invite_search_none(text))
        return True
    rows = [
        [InlineKeyboardButton(tx.invite_search_button(u.name, Role.LIAISON),
                              callback_data=encode("ivc", "l", u.id))]
        for u in units
    ] + [
        [InlineKeyboardButton(tx.invite_search_button(x.name, Role.LEADER),
                              callback_data=encode("ivc", "g", x.id))]
        for x in leaders
    ]  # fmt: skip
    rows.append([_back(encode("iv", "b", 0))])
    await reply(update, tx.invite_search_found(text), InlineKeyboardMarkup(rows))
    return True


async def btn_invite_create(
    update: Update, context: BotContext, principal: Principal, args: tuple[str, ...]
) -> None:
    """Step 3: create the invite for the chosen unit or leader; for a unit that has a liaison
    already, first ask whether the new person replaces them or is a deputy."""
    query = update.callback_query
    assert query is not None
    kind = args[0] if args else ""
    target_id = int_arg(args, 1)
    if kind not in KINDS or target_id is None or KINDS[kind][0] not in (Role.LIAISON, Role.LEADER):
        await answer(query, tx.STALE, alert=True)
        return
    role, deputy = KINDS[kind]
    unit = leader = None
    if role == Role.LIAISON:
        choices = await access.unit_choices(await context.desk())
        choice = next((c for c in choices if c.unit.id == target_id), None)
        if choice is not None:
            unit = choice.unit
            main = [v for v in choice.liaisons if not v.deputy]
            if main and not deputy:
                await answer(query)
                await _ask_replace_or_deputy(update, choice, main[0])
                return
    else:
        leader = next(
            (x for x in await people.all_leaders(context.session) if x.id == target_id), None
        )
    if unit is None and leader is None:
        await answer(query, tx.STALE, alert=True)
        return
    await answer(query)
    await _create_and_show(update, context, principal, role, unit, leader, deputy)


async def _ask_replace_or_deputy(
    update: Update, choice: access.UnitChoice, main: ContactView
) -> None:
    index = next(i for i, c in enumerate(CATEGORIES) if c.key == choice.category)
    rows = [
        [
            InlineKeyboardButton(tx.REPLACE_LIAISON, callback_data=encode("cx", main.id)),
            InlineKeyboardButton(tx.ADD_DEPUTY, callback_data=encode("ivc", "d", choice.unit.id)),
        ],
        [_back(encode("ivk", "l", index, 0))],
    ]
    text = tx.invite_second_liaison(choice.unit.name, choice.liaisons)
    await edit_or_reply(update, text, InlineKeyboardMarkup(rows))


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
    if not needle:
        rows += _nav_row(page, pages, lambda p: encode("cl", p))
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
