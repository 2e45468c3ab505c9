"""佐证材料: a liaison's photo or document for a task, and the card's 查看佐证材料 button.

Which task a file is for: the task of the report conversation open when it comes (once the
report is confirmed, the file is part of it), else the one task of the bot message it replies
to (a reminder, by the outbox; a card, receipt or prompt, by the 序号 it names). Otherwise the
liaison is told how to say which task; nothing is kept.
"""

from __future__ import annotations

from functools import partial

from telegram import Message, Update
from telegram.error import BadRequest

from bot import texts
from bot.domain.evidence import DOCUMENT, PHOTO, Incoming, task_no_in
from bot.domain.model import TaskInfo
from bot.domain.roles import Principal, UnitRef
from bot.domain.visibility import readable_units
from bot.services import evidence, reporting
from bot.services.evidence import Attached, Outcome
from bot.services.reporting import CHOOSE
from bot.transport import api
from db import progress, tasks
from handlers.base import answer, deny, int_arg, private_chat, reply, tell_unbound
from handlers.context import BotContext
from handlers.office import _may_see, _refuse_task


def incoming(message: Message) -> Incoming | None:
    """The photo (its largest size) or document a message carries."""
    if message.photo:
        best = max(message.photo, key=lambda p: (p.width * p.height, p.file_size or 0))
        return Incoming(
            PHOTO, best.file_id, best.file_unique_id, None, "image/jpeg", best.file_size
        )
    doc = message.document
    if doc is not None:
        return Incoming(
            DOCUMENT, doc.file_id, doc.file_unique_id, doc.file_name, doc.mime_type, doc.file_size
        )
    return None


async def on_file(update: Update, context: BotContext) -> None:
    """A photo or document in a private chat: 佐证材料 from a liaison."""
    user = update.effective_user
    message = update.effective_message
    if user is None or message is None or not private_chat(update):
        return
    principal = await context.principal(user.id)
    if not principal.bound:
        await tell_unbound(update, context)
        return
    if not principal.units:
        await deny(update, context, principal, "evidence")
        return
    found = incoming(message)
    target = await _target(update, context, principal, message) if found else None
    if found is None or target is None:
        return
    task, unit = target
    settings = context.services.settings
    result = await evidence.attach(
        await context.desk(),
        task=task,
        unit=unit,
        by=user.id,
        incoming=found,
        fetch=partial(api.download, message.get_bot()),
    )
    await reply(
        update, _told(result, found, settings.evidence_extensions, settings.evidence_max_mb)
    )


def _told(result: Attached, found: Incoming, types: frozenset[str], max_mb: int) -> str:
    if result.outcome is Outcome.STORED:
        return texts.evidence_stored(
            result.task_no, result.unit_name, found.shown_name, result.count
        )
    if result.outcome is Outcome.DUPLICATE:
        return texts.evidence_duplicate(result.task_no)
    if result.outcome is Outcome.TYPE:
        return texts.evidence_bad_type(types)
    return texts.evidence_too_big(max_mb)


async def _target(
    update: Update, context: BotContext, principal: Principal, message: Message
) -> tuple[TaskInfo, UnitRef] | None:
    """The task and unit a file is for (answered and None when it cannot be told)."""
    desk = await context.desk()
    year = await context.year()
    draft = await progress.get_draft(context.session, principal.user_id)
    if draft is not None and draft.expires_at <= context.acted_at():
        await progress.drop_draft(context.session, draft)
        draft = None
    if draft is not None and draft.task_id is not None and draft.unit_id is not None:
        unit = next((u for u in principal.units if u.id == draft.unit_id), None)
        task = await reporting.task(desk, draft.task_id) if unit is not None else None
        if unit is not None and task is not None:
            reporting.touch(desk, draft)  # sending material is acting in the conversation
            await progress.save_draft(context.session, draft)
            return task, unit
    replied = message.reply_to_message
    if replied is not None:
        options = await reporting.replied_tasks(
            desk, principal.units, year, chat_id=message.chat_id, message_id=replied.message_id
        )
        if not options and replied.from_user is not None and replied.from_user.is_bot:
            no = task_no_in(replied.text or replied.caption or "")
            task_id = await tasks.task_id_by_no(context.session, year, no) if no else None
            owned = (
                await reporting.own_task(desk, principal.units, year, task_id) if task_id else None
            )
            options = [owned] if owned is not None else []
        if len(options) == 1:
            return options[0]
    if draft is not None and draft.state == CHOOSE:
        await reply(update, texts.EVIDENCE_CHOOSE_FIRST)
    else:
        await reply(update, texts.EVIDENCE_WHICH_TASK)
    return None


async def btn_evidence(
    update: Update, context: BotContext, principal: Principal, args: tuple[str, ...]
) -> None:
    """查看佐证材料 on a task card: the files the caller may read, newest first, by file id."""
    query = update.callback_query
    message = update.effective_message
    assert query is not None
    task_id = int_arg(args, 0)
    desk = await context.desk()
    task = await reporting.task(desk, task_id) if task_id is not None else None
    if task is None or message is None:
        await answer(query, texts.STALE_BUTTON, alert=True)
        return
    if not await _may_see(context, principal, task.id):
        await _refuse_task(update, context, task.id)
        return
    files, total = await evidence.to_send(desk, task.id, readable_units(principal, task.units))
    await answer(query)
    if not files:
        await reply(update, texts.EVIDENCE_NONE)
        return
    tz = context.services.settings.tz
    bot = message.get_bot()
    for f in files:
        caption = texts.evidence_caption(task.no, f.unit, f.at.astimezone(tz), f.name)
        try:
            await api.send_file(bot, message.chat_id, f.kind, f.file_id, caption)
        except BadRequest:
            # Telegram no longer knows the file id: send the local copy.
            path = await evidence.local_copy(desk, f)
            if path is None:
                continue  # neither Telegram nor this server has it any more
            await api.upload_file(bot, message.chat_id, f.kind, path, f.name, caption)
    if total > len(files):
        await reply(update, texts.evidence_more(len(files), total))
