"""/tasks, /report, /history, /cancel and the report conversation (drafts live in the DB)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update

from bot import texts
from bot.domain.replies import Understood, understand
from bot.domain.roles import Principal, UnitRef
from bot.services import duties
from db import outbox, people, progress, tasks
from db.models import Report
from db.progress import Draft
from handlers.base import MAX_TEXT, answer, edit_or_reply, encode, int_arg, reply
from handlers.context import BotContext

PAGE = 8

# Draft states.
CHOOSE = "choose_task"
AWAIT_TEXT = "await_text"
CONFIRM = "confirm"


@dataclass(frozen=True)
class TaskState:
    """One task of a unit with this cycle's state, for /tasks and the task picker."""

    task: tasks.UnitTask
    unit: UnitRef
    state: str  # reported | unreported | overdue | support
    deadline: date | None


async def _tracking(context: BotContext, year: int) -> duties.Tracking:
    """The rule's inputs for `year` at the update's moment."""
    since = await (await context.register()).tracking_since(context.session, year)
    services = context.services
    return duties.Tracking(context.now(), services.settings, services.calendar, since)


def _ref(task: tasks.UnitTask | tasks.TaskView, year: int) -> duties.TaskRef:
    task_id = task.task_id if isinstance(task, tasks.UnitTask) else task.id
    return duties.TaskRef(task_id, year, task.cycle_kind, task.cycle_dates, task.completed_on)


async def _unit_states(context: BotContext, principal: Principal) -> list[TaskState]:
    """Every task of the caller's units with its state now (bot.domain.obligations)."""
    year = await context.year()
    tracking = await _tracking(context, year)
    register = await context.register()
    out: list[TaskState] = []
    for unit in principal.units:
        mine = await register.unit_tasks(context.session, unit.id, year)
        found = await duties.duties(
            context.session, unit.id, [(_ref(t, year), t.role) for t in mine], tracking
        )
        for t, d in zip(mine, found, strict=True):
            if d.done:
                state, deadline = "done", None
            elif not tracking.owes(t.role):
                state, deadline = "support", None
            elif d.missed is not None:
                state, deadline = "overdue", d.missed.deadline
            elif d.current is not None and d.reported_current:
                state, deadline = "reported", d.current.deadline
            elif d.current is not None:
                state, deadline = "unreported", d.current.deadline
            else:
                state, deadline = "reported", None  # past the year's last deadline, all in
            out.append(TaskState(t, unit, state, deadline))
    return out


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
    states = await _unit_states(context, principal)
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
    await edit_or_reply(
        update, texts.tasks_page(unit_names, lines, page + 1, pages, counts), markup
    )


def _pager(prefix: str, page: int, pages: int, *extra: object) -> InlineKeyboardMarkup | None:
    nav = []
    if page > 0:
        nav.append(InlineKeyboardButton("‹ 上一页", callback_data=encode(prefix, *extra, page - 1)))
    if page + 1 < pages:
        nav.append(InlineKeyboardButton("下一页 ›", callback_data=encode(prefix, *extra, page + 1)))
    return InlineKeyboardMarkup([nav]) if nav else None


# --- /report: choose a task ---------------------------------------------------------------------


async def cmd_report(update: Update, context: BotContext) -> None:
    """Start a report: pick one of the unit's tasks (lead first, overdue first)."""
    user = update.effective_user
    chat = update.effective_chat
    assert user is not None and chat is not None
    principal = await context.principal(user.id)
    states = [s for s in await _unit_states(context, principal) if not s.task.completed]
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
    now = context.now()
    contact_id = (await context.account(user_id)).liaison_contact_id(principal.unit_ids())
    return await progress.open_draft(
        context.session,
        user_id=user_id,
        chat_id=chat_id,
        contact_id=contact_id,
        now=now,
        expires_at=now + timedelta(minutes=context.services.settings.draft_timeout_minutes),
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
                callback_data=encode("rt", s.task.task_id),
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
    states = [s for s in await _unit_states(context, principal) if not s.task.completed]
    await _show_picker(update, context, states, page, texts.CHOOSE_TASK)


async def _own_task(
    context: BotContext, principal: Principal, task_id: int
) -> tuple[tasks.UnitTask, UnitRef] | None:
    """The task if one of the caller's units has it (lead first) — never trust the button."""
    register = await context.register()
    found: tuple[tasks.UnitTask, UnitRef] | None = None
    for unit in principal.units:
        for t in await register.unit_tasks(context.session, unit.id, await context.year()):
            if t.task_id == task_id and (found is None or t.role == tasks.LEAD):
                found = (t, unit)
    return found


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
    if task.completed:
        await answer(query, texts.TASK_DONE, alert=True)
        return
    if draft is None or draft.state != CHOOSE or _expired(context, draft):
        # A stale picker: start afresh with this task.
        chat = update.effective_chat
        assert chat is not None
        draft = await _open(
            context, user.id, chat.id, principal, AWAIT_TEXT, task_id=task.task_id, unit_id=unit.id
        )
    options = (draft.parsed or {}).get("options")
    if options is not None and task.task_id not in options:
        await context_deny_task(update, context)
        return
    await answer(query)
    draft.task_id = task.task_id
    draft.unit_id = unit.id
    _touch(context, draft)
    if draft.text:
        await _to_card(update, context, draft)
        return
    draft.state = AWAIT_TEXT
    await progress.save_draft(context.session, draft)
    await edit_or_reply(
        update, texts.ask_progress(task.no, task.text, draft.supersedes_id is not None)
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


def _touch(context: BotContext, draft: Draft) -> None:
    now = context.now()
    draft.updated_at = now
    draft.expires_at = now + timedelta(minutes=context.services.settings.draft_timeout_minutes)


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
        options = await _reminder_tasks(context, principal, message.chat_id, replied)
        if options:
            if not await _text_ok(update, text):
                return True
            chat = update.effective_chat
            assert chat is not None
            if len(options) == 1:
                task, unit = options[0]
                draft = await _open(
                    context, user.id, chat.id, principal, CONFIRM,
                    task_id=task.task_id, unit_id=unit.id, text=text,
                )  # fmt: skip
                await _to_card(update, context, draft)
                return True
            draft = await _open(
                context, user.id, chat.id, principal, CHOOSE, text=text,
                options=[t.task_id for t, _ in options],
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


async def _text_ok(update: Update, text: str) -> bool:
    if not text:
        await reply(update, texts.EMPTY_REPORT)
        return False
    if len(text) > MAX_TEXT:
        await reply(update, texts.REPORT_TOO_LONG.format(limit=MAX_TEXT))
        return False
    return True


async def _reminder_tasks(
    context: BotContext, principal: Principal, chat_id: int, replied: Message
) -> list[tuple[tasks.UnitTask, UnitRef]]:
    """The caller's tasks a replied-to reminder was about (none if it was not a reminder)."""
    task_ids = await outbox.tasks_of_message(
        context.session, chat_id=chat_id, message_id=replied.message_id
    )
    out = []
    for task_id in task_ids:
        owned = await _own_task(context, principal, task_id)
        if owned is not None and not owned[0].completed:
            out.append(owned)
    return out


async def _to_card(update: Update, context: BotContext, draft: Draft) -> None:
    """Parse the text against the task's targets and show what was understood."""
    assert draft.task_id is not None and draft.unit_id is not None and draft.text is not None
    register = await context.register()
    view = (await register.task_views(context.session, [draft.task_id]))[draft.task_id]
    cycle_key = await _cycle_key(context, draft, view)
    targets = list(view.targets)
    understood = understand(draft.text, targets, context.now().date(), context.services.calendar)
    draft.parsed = understood.to_json()
    draft.state = CONFIRM
    _touch(context, draft)
    draft.cycle_key = cycle_key
    await progress.save_draft(context.session, draft)
    unit_name = next(
        (name for uid, name in (*view.lead_units, *view.responsible_units) if uid == draft.unit_id),
        "",
    ) or await _unit_name(context, draft.unit_id)
    card = texts.report_card(
        view.no, view.text, unit_name, texts.cycle_label(cycle_key), understood,
        draft.supersedes_id is not None,
    )  # fmt: skip
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("确认提交", callback_data=encode("rc", draft.token)),
                InlineKeyboardButton("修改", callback_data=encode("re", draft.token)),
                InlineKeyboardButton("取消", callback_data=encode("rx", draft.token)),
            ]
        ]
    )
    if update.callback_query is not None:
        await edit_or_reply(update, card, markup)
    else:
        await reply(update, card, markup)


async def _unit_name(context: BotContext, unit_id: int) -> str:
    return await (await context.register()).unit_name(context.session, unit_id)


async def _cycle_key(context: BotContext, draft: Draft, view: tasks.TaskView) -> str:
    """The cycle this report is credited to (a correction keeps the corrected one's cycle)."""
    assert draft.task_id is not None and draft.unit_id is not None
    if draft.supersedes_id is not None:
        old = await context.session.get(Report, draft.supersedes_id)
        if old is not None:
            return old.cycle_key
    tracking = await _tracking(context, view.year)
    return await duties.credited_cycle(
        context.session, _ref(view, view.year), draft.unit_id, tracking
    )


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
    understood = Understood.from_json(draft.parsed)
    now = context.now()
    report = await progress.store_report(
        context.session,
        draft=draft,
        cycle_key=draft.cycle_key,
        now=now,
        percent=understood.percent,
        quantities=understood.to_json()["quantities"],
        expected=understood.expected,
        difficulties=list(understood.difficulties),
        tg_user_id=user.id,
    )
    await people.audit(
        context.session,
        at=now,
        actor=user.id,
        action="report",
        target=f"task:{draft.task_id}:unit:{draft.unit_id}",
        detail={"report_id": report.id, "cycle": report.cycle_key, "version": report.version},
    )
    task_no = await (await context.register()).task_no(context.session, report.task_id)
    unit_name = await _unit_name(context, report.unit_id)
    await progress.drop_draft(context.session, draft)
    await answer(query, "已提交")
    await edit_or_reply(
        update,
        texts.report_stored(
            task_no or 0, unit_name, texts.cycle_label(report.cycle_key), report.version, now
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
    await answer(query)
    draft.state = AWAIT_TEXT
    draft.text = None
    draft.parsed = None
    _touch(context, draft)
    await progress.save_draft(context.session, draft)
    register = await context.register()
    view = (await register.task_views(context.session, [draft.task_id]))[draft.task_id]
    await edit_or_reply(
        update, texts.ask_progress(view.no, view.text, draft.supersedes_id is not None)
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
    draft = await progress.get_draft(context.session, user.id)
    if draft is None:
        await reply(update, texts.NOTHING_TO_CANCEL)
        return
    await progress.drop_draft(context.session, draft)
    await reply(update, texts.CANCELLED)


# --- /history and corrections -------------------------------------------------------------------


async def cmd_history(update: Update, context: BotContext) -> None:
    """The unit's recent reports (`/history 6`: one task); this cycle's latest can be corrected."""
    user = update.effective_user
    assert user is not None
    principal = await context.principal(user.id)
    now = context.now()
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
    reports = await progress.history(context.session, list(principal.unit_ids()), task_id=task_id)
    register = await context.register()
    views = await register.task_views(context.session, sorted({r.task_id for r in reports}))
    entries = [
        (
            views[r.task_id].no,
            r.cycle_key,
            r.text,
            r.version,
            r.created_at.astimezone(now.tzinfo),
            r.percent,
        )
        for r in reports
    ]
    buttons = []
    seen: set[tuple[int, int]] = set()
    for r in reports:
        if (r.task_id, r.unit_id) in seen:
            continue
        seen.add((r.task_id, r.unit_id))
        if await _correctable(context, r):
            buttons.append(
                [
                    InlineKeyboardButton(
                        f"更正第{views[r.task_id].no}项{texts.cycle_label(r.cycle_key)}报送",
                        callback_data=encode("rv", r.id),
                    )
                ]
            )
    await reply(
        update, texts.history_lines(entries), InlineKeyboardMarkup(buttons) if buttons else None
    )


async def _correctable(context: BotContext, report: Report) -> bool:
    """Only the newest version of the cycle that is current for the unit can be corrected."""
    latest = await progress.latest_version(
        context.session, report.task_id, report.unit_id, report.cycle_key
    )
    if latest is None or latest.id != report.id:
        return False
    register = await context.register()
    view = (await register.task_views(context.session, [report.task_id]))[report.task_id]
    tracking = await _tracking(context, view.year)
    return await duties.may_correct(
        context.session, _ref(view, view.year), report.unit_id, report.cycle_key, tracking
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
    if not await _correctable(context, report):
        await answer(query, texts.CANNOT_CORRECT, alert=True)
        return
    await answer(query)
    await _open(
        context, user.id, chat.id, principal, AWAIT_TEXT,
        task_id=report.task_id, unit_id=report.unit_id, supersedes_id=report.id,
    )  # fmt: skip
    register = await context.register()
    view = (await register.task_views(context.session, [report.task_id]))[report.task_id]
    await reply(update, texts.ask_progress(view.no, view.text, True))
