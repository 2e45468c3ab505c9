"""/tasks, /report, /history, /cancel and the report conversation (drafts live in the DB)."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update

from bot import texts
from bot.domain.model import TaskInfo
from bot.domain.replies import content_free
from bot.domain.roles import Principal, UnitRef
from bot.services import acknowledge, instructions, reporting
from bot.services.reporting import AWAIT_TEXT, CHOOSE, CONFIRM, TaskState
from db import people, progress, tasks
from db.models import Report
from db.progress import Draft
from handlers.base import MAX_TEXT, answer, edit_or_reply, encode, int_arg, page_buttons, reply
from handlers.context import BotContext

PAGE = 8


async def _states(context: BotContext, principal: Principal) -> list[TaskState]:
    return await reporting.states(await context.desk(), principal.units, await context.year())


# --- /tasks -------------------------------------------------------------------------------------


async def cmd_tasks(update: Update, context: BotContext) -> None:
    """The unit's tasks with this cycle's state, paged."""
    await _show_tasks(update, context, 0)


async def btn_tasks_page(
    update: Update, context: BotContext, principal: Principal, args: tuple[str, ...]
) -> None:
    """Another page of /tasks."""
    query = update.callback_query
    assert query is not None
    page = int_arg(args, 0, high=1000)
    if page is None:
        await answer(query, texts.STALE_BUTTON, alert=True)
        return
    await answer(query)
    await _show_tasks(update, context, page)


async def _show_tasks(update: Update, context: BotContext, page: int) -> None:
    user = update.effective_user
    assert user is not None
    principal = await context.principal(user.id)
    states = await _states(context, principal)
    if not states:
        await edit_or_reply(update, texts.NO_TASKS)
        return
    states.sort(key=lambda s: (texts.STATE_ORDER[s.state], s.task.no))
    counts: dict[str, int] = {}
    for s in states:
        counts[s.state] = counts.get(s.state, 0) + 1
    pages = (len(states) + PAGE * 2 - 1) // (PAGE * 2)
    page = min(page, pages - 1)
    chunk = states[page * PAGE * 2 : (page + 1) * PAGE * 2]
    lines = [texts.task_line(s.task.no, s.task.text, s.state, s.deadline) for s in chunk]
    unit_names = "、".join(u.name for u in principal.units)
    markup = _pager("tp", page, pages)
    waiting = sum(
        len(p.tasks)
        for p in await acknowledge.pending(
            await context.desk(), principal.units, await context.year()
        )
    )
    if waiting:
        rows = [[ack_all(waiting)], *(markup.inline_keyboard if markup else ())]
        markup = InlineKeyboardMarkup(rows)
    text = texts.tasks_page(unit_names, lines, page + 1, pages, counts)
    await edit_or_reply(update, texts.tasks_page_ack(text, waiting), markup)


def ack_all(count: int) -> InlineKeyboardButton:
    """The button acknowledging every task a liaison's units have still to acknowledge."""
    return InlineKeyboardButton(texts.ack_all_button(count), callback_data=encode("ak", "a"))


def ack_one(task_id: int) -> InlineKeyboardButton:
    """The button acknowledging one task (on its card)."""
    return InlineKeyboardButton(texts.ACK_ONE_BUTTON, callback_data=encode("ak", "t", task_id))


async def btn_acknowledge(
    update: Update, context: BotContext, principal: Principal, args: tuple[str, ...]
) -> None:
    """签收: every pending task ("a") or one ("t", id) of the caller's units; the message the
    button sits on keeps its text, with the acknowledgement added and the buttons gone."""
    query = update.callback_query
    assert query is not None
    kind = args[0] if args else ""
    task_id = int_arg(args, 1) if kind == "t" else None
    if kind not in ("a", "t") or (kind == "t" and task_id is None):
        await answer(query, texts.STALE_BUTTON, alert=True)
        return
    desk = await context.desk()
    chosen = await acknowledge.acknowledge(
        desk, principal.units, await context.year(), task_id=task_id, by=principal.user_id
    )
    if not chosen:
        await answer(query, texts.ACK_NOTHING if kind == "a" else texts.ACK_NOT_PENDING)
        return
    await answer(query, texts.ack_answer(len(chosen)))
    done = texts.acknowledged([t.no for _, t in chosen], desk.now.astimezone(desk.settings.tz))
    message = query.message
    before = message.text_html if isinstance(message, Message) and message.text else ""
    await edit_or_reply(update, f"{before}\n\n{done}" if before else done)


def _pager(prefix: str, page: int, pages: int, *extra: object) -> InlineKeyboardMarkup | None:
    nav = page_buttons(page, pages, lambda p: encode(prefix, *extra, p))
    return InlineKeyboardMarkup([nav]) if nav else None


# --- /report: choose a task ---------------------------------------------------------------------


async def cmd_report(update: Update, context: BotContext) -> None:
    """Start a report: pick one of the unit's tasks (lead first, overdue first)."""
    user = update.effective_user
    chat = update.effective_chat
    assert user is not None and chat is not None
    principal = await context.principal(user.id)
    states = [s for s in await _states(context, principal) if s.task.completed_on is None]
    if not states:
        await reply(update, texts.NO_TASKS)
        return
    await _open(context, user.id, chat.id, principal, CHOOSE)
    await _show_picker(update, context, states, 0, texts.CHOOSE_TASK)


async def _open(
    context: BotContext,
    user_id: int,
    chat_id: int,
    principal: Principal,
    state: str,
    *,
    task_id: int | None = None,
    unit_id: int | None = None,
    text: str | None = None,
    supersedes_id: int | None = None,
    options: list[int] | None = None,
) -> Draft:
    contact_id = (await context.account(user_id)).liaison_contact_id(principal.unit_ids())
    return await reporting.open_draft(
        await context.desk(),
        user_id=user_id,
        chat_id=chat_id,
        contact_id=contact_id,
        state=state,
        task_id=task_id,
        unit_id=unit_id,
        text=text,
        supersedes_id=supersedes_id,
        options=options,
    )


async def _show_picker(
    update: Update, context: BotContext, states: list[TaskState], page: int, header: str
) -> None:
    states = sorted(states, key=lambda s: (texts.STATE_ORDER[s.state], s.task.no))
    pages = max(1, (len(states) + PAGE - 1) // PAGE)
    page = min(page, pages - 1)
    rows = [
        [
            InlineKeyboardButton(
                f"第{s.task.no}项 {texts.STATE_LABELS[s.state]} · {texts.short(s.task.text, 14)}",
                callback_data=encode("rt", s.task.id),
            )
        ]
        for s in states[page * PAGE : (page + 1) * PAGE]
    ]
    pager = _pager("rp", page, pages)
    if pager is not None:
        rows.extend(list(row) for row in pager.inline_keyboard)
    rows.append([InlineKeyboardButton("取消", callback_data=encode("rx"))])
    await edit_or_reply(
        update, header.format(page=page + 1, pages=pages), InlineKeyboardMarkup(rows)
    )


async def btn_picker_page(
    update: Update, context: BotContext, principal: Principal, args: tuple[str, ...]
) -> None:
    """Another page of the task picker."""
    query = update.callback_query
    assert query is not None
    page = int_arg(args, 0, high=1000)
    if page is None:
        await answer(query, texts.STALE_BUTTON, alert=True)
        return
    await answer(query)
    states = [s for s in await _states(context, principal) if s.task.completed_on is None]
    await _show_picker(update, context, states, page, texts.CHOOSE_TASK)


async def _own_task(
    context: BotContext, principal: Principal, task_id: int
) -> tuple[TaskInfo, UnitRef] | None:
    return await reporting.own_task(
        await context.desk(), principal.units, await context.year(), task_id
    )


async def btn_choose_task(
    update: Update, context: BotContext, principal: Principal, args: tuple[str, ...]
) -> None:
    """A task was picked: ask for the text, or go to the card if a reply text is waiting."""
    query = update.callback_query
    user = update.effective_user
    assert query is not None and user is not None
    task_id = int_arg(args, 0)
    draft = await progress.get_draft(context.session, user.id)
    owned = await _own_task(context, principal, task_id) if task_id else None
    if owned is None:
        await context_deny_task(update, context)
        return
    task, unit = owned
    if task.completed_on is not None:
        await answer(query, texts.TASK_DONE, alert=True)
        return
    if draft is None or draft.state != CHOOSE or _expired(context, draft):
        # A stale picker: start afresh with this task.
        chat = update.effective_chat
        assert chat is not None
        draft = await _open(
            context, user.id, chat.id, principal, AWAIT_TEXT, task_id=task.id, unit_id=unit.id
        )
    options = (draft.parsed or {}).get("options")
    if options is not None and task.id not in options:
        await context_deny_task(update, context)
        return
    await answer(query)
    if draft.text:
        draft.task_id = task.id
        draft.unit_id = unit.id
        await _to_card(update, context, draft)
        return
    desk = await context.desk()
    await reporting.await_text(desk, draft, task, unit.id)
    answer_to = await instructions.to_answer(desk, task.id, unit.id)
    await edit_or_reply(
        update,
        texts.ask_progress(task.no, task.text, draft.supersedes_id is not None, task.targets)
        + texts.answer_instructions(answer_to),
    )


async def context_deny_task(update: Update, context: BotContext) -> None:
    """A button for a task that is not the caller's: refuse and record it."""
    query = update.callback_query
    user = update.effective_user
    await people.audit(
        context.session,
        at=context.now(),
        actor=user.id if user else None,
        action="denied",
        target="report:foreign_task",
        detail={"data": (query.data if query else "")},
    )
    if query is not None:
        await answer(query, texts.NOT_YOUR_TASK, alert=True)


def _expired(context: BotContext, draft: Draft) -> bool:
    """Whether the conversation had timed out when the person acted (not when handled)."""
    return draft.expires_at <= context.acted_at()


# --- Text -----------------------------------------------------------------------------------------


async def handle_text(update: Update, context: BotContext, principal: Principal, text: str) -> bool:
    """Take free text as a report if a conversation waits for it or it replies to a reminder."""
    user = update.effective_user
    message = update.effective_message
    assert user is not None and message is not None
    if not principal.units:
        return False
    draft = await progress.get_draft(context.session, user.id)
    if draft is not None and _expired(context, draft):
        await progress.drop_draft(context.session, draft)
        await reply(update, texts.DRAFT_TIMEOUT)
        return True
    replied = message.reply_to_message
    if replied is not None and (draft is None or draft.state != AWAIT_TEXT):
        options = await reporting.replied_tasks(
            await context.desk(),
            principal.units,
            await context.year(),
            chat_id=message.chat_id,
            message_id=replied.message_id,
        )
        if options:
            if not await _text_ok(update, text):
                return True
            chat = update.effective_chat
            assert chat is not None
            if len(options) == 1:
                task, unit = options[0]
                draft = await _open(
                    context, user.id, chat.id, principal, CONFIRM,
                    task_id=task.id, unit_id=unit.id, text=text,
                )  # fmt: skip
                await _to_card(update, context, draft)
                return True
            draft = await _open(
                context, user.id, chat.id, principal, CHOOSE, text=text,
                options=[t.id for t, _ in options],
            )  # fmt: skip
            states = [TaskState(t, u, "unreported", None) for t, u in options]
            await _show_picker(update, context, states, 0, texts.CHOOSE_TASK_FOR_REPLY)
            return True
    if draft is not None and draft.state == CHOOSE:
        await reply(update, texts.CHOOSE_FIRST)
        return True
    if draft is None or draft.state != AWAIT_TEXT:
        return False
    if not await _text_ok(update, text):
        return True
    draft.text = text
    await _to_card(update, context, draft)
    return True


async def end_text_draft(context: BotContext, user_id: int) -> None:
    """End a report conversation that would take the person's next text (they pressed 批示 or
    提请协调: that text is for it); a card waiting for 确认提交 is left as it is."""
    draft = await progress.get_draft(context.session, user_id)
    if draft is not None and draft.state in (AWAIT_TEXT, CHOOSE):
        await progress.drop_draft(context.session, draft)


async def _text_ok(update: Update, text: str) -> bool:
    if not text:
        await reply(update, texts.EMPTY_REPORT)
        return False
    if len(text) > MAX_TEXT:
        await reply(update, texts.REPORT_TOO_LONG.format(limit=MAX_TEXT))
        return False
    if content_free(text):
        await reply(update, texts.NO_CONTENT)
        return False
    return True


async def _to_card(update: Update, context: BotContext, draft: Draft) -> None:
    """Parse the text against the task's targets and show what was understood."""
    card = await reporting.read_reply(await context.desk(), draft)
    await _show_card(update, card, draft.token, edit=update.callback_query is not None)


MAX_READING_BUTTONS = 6


async def _show_card(update: Update, card: reporting.Card, token: str, *, edit: bool) -> None:
    """The card with its correction buttons (a number against another target or none, no
    date) above 确认提交 / 修改 / 取消."""
    quantities = card.understood.quantities
    unread = [q.source for i, q in enumerate(quantities) if not q.target_metric and card.options(i)]
    text = texts.report_card(
        card.task.no, card.task.text, card.unit_name, texts.cycle_label(card.cycle_key),
        card.understood, card.correction, unread,
    )  # fmt: skip
    rows: list[list[InlineKeyboardButton]] = []
    for i, q in enumerate(card.understood.quantities):
        if q.target_metric is not None:
            label = texts.reading_drop(q.source, q.target_metric)
            rows.append([InlineKeyboardButton(label, callback_data=encode("rq", token, i, "x"))])
            continue
        for ti in card.options(i)[:2]:
            label = texts.reading_assign(q.source, card.task.targets[ti].metric)
            rows.append([InlineKeyboardButton(label, callback_data=encode("rq", token, i, ti))])
    rows = rows[:MAX_READING_BUTTONS]
    if card.understood.expected is not None:
        rows.append(
            [InlineKeyboardButton(texts.READING_NO_DATE, callback_data=encode("rq", token, 0, "d"))]
        )
    rows.append(
        [
            InlineKeyboardButton("确认提交", callback_data=encode("rc", token)),
            InlineKeyboardButton("修改", callback_data=encode("re", token)),
            InlineKeyboardButton("取消", callback_data=encode("rx", token)),
        ]
    )
    if edit:
        await edit_or_reply(update, text, InlineKeyboardMarkup(rows))
    else:
        await reply(update, text, InlineKeyboardMarkup(rows))


async def btn_reading(
    update: Update, context: BotContext, principal: Principal, args: tuple[str, ...]
) -> None:
    """A correction on the card: a number against another target or none, or no date."""
    query = update.callback_query
    assert query is not None
    draft = await _draft_from_button(update, context, args)
    if draft is None:
        return
    index = int_arg(args, 1, high=100)
    choice = args[2] if len(args) > 2 else ""
    card = None
    if index is not None and draft.unit_id in principal.unit_ids():
        card = await reporting.correct_reading(await context.desk(), draft, index, choice)
    if card is None:
        await answer(query, texts.STALE_BUTTON, alert=True)
        return
    await answer(query, texts.READING_CHANGED)
    await _show_card(update, card, draft.token, edit=True)


# --- Card buttons ---------------------------------------------------------------------------------


async def _draft_from_button(
    update: Update, context: BotContext, args: tuple[str, ...]
) -> Draft | None:
    """The caller's own open draft named by the button, or None (answered as stale/done)."""
    query = update.callback_query
    user = update.effective_user
    assert query is not None and user is not None
    token = args[0] if args else ""
    draft = await progress.draft_by_token(context.session, token) if token else None
    if draft is None or draft.tg_user_id != user.id:
        done = await progress.report_by_source(context.session, f"draft:{token}") if token else None
        await answer(query, texts.ALREADY_SUBMITTED if done else texts.STALE_BUTTON, alert=True)
        return None
    if _expired(context, draft):
        await progress.drop_draft(context.session, draft)
        await answer(query)
        await edit_or_reply(update, texts.DRAFT_TIMEOUT)
        return None
    return draft


async def btn_confirm(
    update: Update, context: BotContext, principal: Principal, args: tuple[str, ...]
) -> None:
    """确认提交: store the report once, whatever happens to the button afterwards."""
    query = update.callback_query
    user = update.effective_user
    assert query is not None and user is not None
    draft = await _draft_from_button(update, context, args)
    if draft is None:
        return
    if draft.state != CONFIRM or draft.parsed is None or draft.cycle_key is None:
        await answer(query, texts.STALE_BUTTON, alert=True)
        return
    # Ownership is re-checked at the moment of storing: the binding may have changed.
    if draft.task_id is None or draft.unit_id not in principal.unit_ids():
        await context_deny_task(update, context)
        return
    stored = await reporting.submit(await context.desk(), draft, user.id)
    await answer(query, "已提交")
    await edit_or_reply(
        update,
        texts.report_stored(
            stored.task_no,
            stored.unit_name,
            texts.cycle_label(stored.cycle_key),
            stored.version,
            context.now(),
        ),
    )


async def btn_edit(
    update: Update, context: BotContext, principal: Principal, args: tuple[str, ...]
) -> None:
    """修改: write the text again."""
    query = update.callback_query
    assert query is not None
    draft = await _draft_from_button(update, context, args)
    if draft is None or draft.task_id is None:
        return
    desk = await context.desk()
    task = await reporting.task(desk, draft.task_id)
    if task is None or draft.unit_id is None:
        await answer(query, texts.STALE_BUTTON, alert=True)
        return
    await answer(query)
    await reporting.await_text(desk, draft, task, draft.unit_id)
    answer_to = await instructions.to_answer(desk, task.id, draft.unit_id)
    await edit_or_reply(
        update,
        texts.ask_progress(task.no, task.text, draft.supersedes_id is not None, task.targets)
        + texts.answer_instructions(answer_to),
    )


async def btn_cancel(
    update: Update, context: BotContext, principal: Principal, args: tuple[str, ...]
) -> None:
    """取消: drop the draft, store nothing."""
    query = update.callback_query
    user = update.effective_user
    assert query is not None and user is not None
    if args:
        draft = await _draft_from_button(update, context, args)
        if draft is None:
            return
    else:
        draft = await progress.get_draft(context.session, user.id)
    if draft is not None:
        await progress.drop_draft(context.session, draft)
    await answer(query)
    await edit_or_reply(update, texts.CANCELLED)


async def cmd_cancel(update: Update, context: BotContext) -> None:
    """/cancel at any step."""
    user = update.effective_user
    assert user is not None
    awaited = await instructions.stop(await context.desk(), user.id)  # a 批示 being written
    draft = await progress.get_draft(context.session, user.id)
    if draft is None:
        await reply(update, texts.CANCELLED if awaited else texts.NOTHING_TO_CANCEL)
        return
    await progress.drop_draft(context.session, draft)
    await reply(update, texts.CANCELLED)


# --- /history and corrections -------------------------------------------------------------------


async def cmd_history(update: Update, context: BotContext) -> None:
    """The unit's recent reports (`/history 6`: one task); this cycle's latest can be corrected."""
    user = update.effective_user
    assert user is not None
    principal = await context.principal(user.id)
    task_id = None
    if context.args:
        arg = context.args[0]
        if not arg.isdigit() or len(arg) > 4:
            await reply(update, texts.BAD_TASK_NO)
            return
        task_id = await tasks.task_id_by_no(context.session, await context.year(), int(arg))
        if task_id is None or await _own_task(context, principal, task_id) is None:
            await reply(update, texts.NOT_YOUR_TASK)
            return
    entries, correctable = await reporting.history(
        await context.desk(), list(principal.unit_ids()), task_id
    )
    buttons = [
        [
            InlineKeyboardButton(
                f"更正第{no}项{texts.cycle_label(r.cycle_key)}报送",
                callback_data=encode("rv", r.id),
            )
        ]
        for r, no in correctable
    ]
    await reply(
        update,
        texts.history_lines(
            [(e.task_no, e.cycle_key, e.text, e.version, e.at, e.percent) for e in entries]
        ),
        InlineKeyboardMarkup(buttons) if buttons else None,
    )


async def btn_correct(
    update: Update, context: BotContext, principal: Principal, args: tuple[str, ...]
) -> None:
    """更正: start a draft that will store a new version of the report."""
    query = update.callback_query
    user = update.effective_user
    chat = update.effective_chat
    assert query is not None and user is not None and chat is not None
    report_id = int_arg(args, 0)
    report = await context.session.get(Report, report_id) if report_id else None
    if report is None or report.unit_id not in principal.unit_ids():
        await context_deny_task(update, context)
        return
    desk = await context.desk()
    if not await reporting.may_correct(desk, report):
        await answer(query, texts.CANNOT_CORRECT, alert=True)
        return
    await answer(query)
    await _open(
        context, user.id, chat.id, principal, AWAIT_TEXT,
        task_id=report.task_id, unit_id=report.unit_id, supersedes_id=report.id,
    )  # fmt: skip
    task = await reporting.task(desk, report.task_id)
    assert task is not None  # a stored report's task
    await reply(update, texts.ask_progress(task.no, task.text, True, task.targets))
