"""/overdue, /task, /units, /summary, /export and their buttons (催办, pages, report history).

Thin glue: queries in db/views/, assembly in bot/domain/ (overdue, cards, units, summaries),
texts in bot/texts/office.py, the nudge in bot/services/nudge.py. Every button re-checks what
its ids point to: the task must exist and
be visible to the caller, the unit must owe the task a report.
"""

from __future__ import annotations

import logging
import re
from datetime import date
from typing import Literal

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest

from bot import texts
from bot.domain.cards import build_card
from bot.domain.overdue import ALL, FilterProblem, OverdueFilter, decode_filter, parse_filter
from bot.domain.roles import Principal
from bot.domain.summaries import previous_summary
from bot.domain.units import CATEGORIES, UnitTally, unit_lines
from bot.domain.visibility import readable_units
from bot.services import acknowledge, assessment, bulletin, evidence, instructions, reporting, years
from bot.services.export import export_ledger
from bot.services.nudge import NudgeOutcome, nudge_unit, nudge_unit_all
from bot.services.summaries import build_summaries
from db import people, tasks, views
from handlers import closeout, report
from handlers.base import (
    answer,
    clean_text,
    deny,
    edit_or_reply,
    encode,
    int_arg,
    page_buttons,
    reply,
)
from handlers.context import BotContext

log = logging.getLogger(__name__)

PAGE = texts.OVERDUE_PAGE_ROWS
UNITS_PAGE = 8  # units per page of /overdue by unit
FILTER_KINDS = 4  # kind-of-unit buttons: 市直部门, 乡镇街道, 开发区, 企业 (其他单位 by typing)
HISTORY_PAGE = 8
OVERDUE_ORIGIN = "o"
CARD_ORIGIN = "c"


async def _answer(update: Update, text: str | None = None, *, alert: bool = False) -> None:
    """Answer the press this update carries, if any."""
    if update.callback_query is not None:
        await answer(update.callback_query, text, alert=alert)


async def _show(update: Update, text: str, markup: InlineKeyboardMarkup | None) -> None:
    """Edit the pressed message (or reply); an unchanged page is not an error."""
    try:
        await edit_or_reply(update, text, markup)
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():
            raise


# --- /overdue -----------------------------------------------------------------------------------


def _scope(principal: Principal, year: int) -> views.Scope:
    """The office sees every task; a leader only the tasks they supervise."""
    if principal.office:
        return views.Scope(year)
    return views.Scope(year, leader_ids=tuple(sorted(principal.leader_ids())))


async def cmd_overdue(update: Update, context: BotContext) -> None:
    """/overdue [unit | leader | section | cycle]: overdue (task, unit) pairs, worst first."""
    user = update.effective_user
    assert user is not None
    principal = await context.principal(user.id)
    arg = clean_text(" ".join(context.args or []))[:50]
    year = await context.year()
    escalate_after = context.services.settings.escalate_after_workdays
    catalogue = await views.catalogue(context.session, year)
    parsed = parse_filter(arg, catalogue, year, escalate_after)
    if isinstance(parsed, FilterProblem):
        await reply(update, texts.filter_problem(parsed))
        return
    await _show_overdue(update, context, principal, parsed, 0)


async def btn_overdue_page(
    update: Update, context: BotContext, principal: Principal, args: tuple[str, ...]
) -> None:
    """Another page of /overdue (the filter travels in the data, the scope is the caller's)."""
    page = int_arg(args, 0, high=10000)
    year = await context.year()
    flt = (
        decode_filter(args[1], await views.catalogue(context.session, year))
        if len(args) > 1
        else None
    )
    if page is None or flt is None:
        await _answer(update, texts.STALE_BUTTON, alert=True)
        return
    await _answer(update)
    await _show_overdue(update, context, principal, flt, page)


async def _show_overdue(
    update: Update, context: BotContext, principal: Principal, flt: OverdueFilter, page: int
) -> None:
    """One unit's overdue tasks row by row; any other view one line per unit."""
    if flt.kind == "unit":
        await _show_overdue_rows(update, context, principal, flt, page)
    else:
        await _show_overdue_units(update, context, principal, flt, page)


async def _show_overdue_units(
    update: Update, context: BotContext, principal: Principal, flt: OverdueFilter, page: int
) -> None:
    services = context.services
    now = context.now()
    year = await context.year()
    scope = _scope(principal, year)
    found = await views.overdue_units(
        context.session,
        scope=scope,
        flt=flt,
        page=page,
        per_page=UNITS_PAGE,
        now=now,
        settings=services.settings,
        calendar=services.calendar,
        register=await context.register(),
    )
    own = not principal.office
    if not found.total:
        await _show(
            update,
            texts.overdue_none(flt.title, own, year),
            InlineKeyboardMarkup(_filter_rows(flt, services.settings.escalate_after_workdays)),
        )
        return
    nudged_pairs = await views.nudged_since(
        context.session, scope, views.day_start(now, services.settings)
    )
    nudged: dict[int, int] = {}
    for _, unit_id in nudged_pairs:
        nudged[unit_id] = nudged.get(unit_id, 0) + 1
    text = texts.overdue_units_page(
        found.groups,
        label=flt.title,
        own=own,
        total=found.total,
        units=found.units,
        page=found.page + 1,
        pages=found.pages,
        first=found.page * UNITS_PAGE + 1,
        as_of=now.astimezone(services.settings.tz),
        nudged=nudged,
        year=year,
        can_nudge=principal.office,
    )
    code = flt.code()
    keyboard: list[list[InlineKeyboardButton]] = []
    for group in found.groups:
        row = []
        waiting = sum(1 for r in group.rows if (r.task_id, group.unit_id) not in nudged_pairs)
        if principal.office and waiting:
            data = encode("ovu", group.unit_id, found.page, code)
            row.append(
                InlineKeyboardButton(
                    texts.unit_nudge_button(group.unit, waiting), callback_data=data
                )
            )
        detail = encode("ovp", 0, f"u{group.unit_id}")
        row.append(InlineKeyboardButton(texts.unit_detail_button(group.unit), callback_data=detail))
        keyboard.append(row)
    nav = page_buttons(found.page, found.pages, lambda p: encode("ovp", p, code))
    if nav:
        keyboard.append(nav)
    keyboard += _filter_rows(flt, services.settings.escalate_after_workdays)
    await _show(update, text, InlineKeyboardMarkup(keyboard))


def _filter_rows(flt: OverdueFilter, escalate_after: int) -> list[list[InlineKeyboardButton]]:
    """The filter buttons under /overdue by unit: a kind of unit (pressed again: all kinds),
    and only what is overdue `escalate_after` workdays or more (提请关注), or everything."""
    kinds = []
    for i, category in enumerate(CATEGORIES[:FILTER_KINDS]):
        chosen = flt.kind == "kind" and flt.ids == (i,)
        target = ALL if chosen else OverdueFilter("kind", (i,))
        data = encode("ovp", 0, target.escalated(flt.min_workdays).code())
        label = texts.kind_filter_button(category.label, chosen)
        kinds.append(InlineKeyboardButton(label, callback_data=data))
    status = flt.escalated(0 if flt.min_workdays else escalate_after)
    label = texts.status_filter_button(escalate_after, bool(flt.min_workdays))
    return [kinds, [InlineKeyboardButton(label, callback_data=encode("ovp", 0, status.code()))]]


async def btn_unit_nudge(
    update: Update, context: BotContext, principal: Principal, args: tuple[str, ...]
) -> None:
    """催办本单位 from /overdue: one message listing everything the unit owes, then the view."""
    user = update.effective_user
    assert user is not None
    unit_id = int_arg(args, 0)
    page = int_arg(args, 1, high=10000)
    year = await context.year()
    code = args[2] if len(args) > 2 else ""
    flt = decode_filter(code, await views.catalogue(context.session, year))
    if unit_id is None or page is None or flt is None:
        await _answer(update, texts.STALE_BUTTON, alert=True)
        return
    services = context.services
    # The unit id is untrusted: the service reads what that unit owes in the caller's scope.
    result = await nudge_unit_all(
        session=context.session,
        scope=_scope(principal, year),
        unit_id=unit_id,
        by_user_id=user.id,
        now=context.now(),
        settings=services.settings,
        calendar=services.calendar,
    )
    sent = result.outcome is NudgeOutcome.SENT
    await _answer(update, result.answer(), alert=not sent)
    if sent:
        await _show_overdue(update, context, principal, flt, page)


async def _show_overdue_rows(
    update: Update, context: BotContext, principal: Principal, flt: OverdueFilter, page: int
) -> None:
    services = context.services
    now = context.now()
    year = await context.year()
    scope = _scope(principal, year)
    found = await views.overdue_page(
        context.session,
        scope=scope,
        flt=flt,
        page=page,
        per_page=PAGE,
        now=now,
        settings=services.settings,
        calendar=services.calendar,
        register=await context.register(),
    )
    own = not principal.office
    if not found.total:
        await _show(update, texts.overdue_none(flt.title, own, year), None)
        return
    items, page, pages = found.rows, found.page, found.pages
    nudged = await views.nudged_since(
        context.session, scope, views.day_start(now, services.settings)
    )
    text = texts.overdue_page(
        items,
        found.groups,
        label=flt.title,
        own=own,
        total=found.total,
        units=found.units,
        page=page + 1,
        pages=pages,
        as_of=now.astimezone(services.settings.tz),
        continued=found.continued,
        nudged={k: v.astimezone(services.settings.tz) for k, v in nudged.items()},
        year=year,
    )
    keyboard: list[list[InlineKeyboardButton]] = []
    code = flt.code()
    if principal.office:
        for row in items:
            if (row.task_id, row.unit_id) in nudged:
                continue
            data = encode("ovn", row.task_id, row.unit_id, OVERDUE_ORIGIN, page, code)
            keyboard.append(
                [
                    InlineKeyboardButton(
                        texts.nudge_button(row.task_no, row.unit), callback_data=data
                    )
                ]
            )
    nav = page_buttons(page, pages, lambda p: encode("ovp", p, code))
    if nav:
        keyboard.append(nav)
    await _show(update, text, InlineKeyboardMarkup(keyboard) if keyboard else None)


# --- 催办 ---------------------------------------------------------------------------------------


async def btn_nudge(
    update: Update, context: BotContext, principal: Principal, args: tuple[str, ...]
) -> None:
    """催办 from an /overdue row or a task card: nudge, confirm, and show the updated view."""
    user = update.effective_user
    assert user is not None
    task_id = int_arg(args, 0)
    unit_id = int_arg(args, 1)
    origin = args[2] if len(args) > 2 else ""
    if task_id is None or unit_id is None or origin not in (OVERDUE_ORIGIN, CARD_ORIGIN):
        await _answer(update, texts.STALE_BUTTON, alert=True)
        return
    flt: OverdueFilter | None = ALL
    page = 0
    if origin == OVERDUE_ORIGIN:
        page = int_arg(args, 3, high=10000) or 0
        year = await context.year()
        code = args[4] if len(args) > 4 else ""
        flt = decode_filter(code, await views.catalogue(context.session, year))
    if flt is None:
        await _answer(update, texts.STALE_BUTTON, alert=True)
        return
    services = context.services
    # The ids are untrusted: nudge_unit re-reads the task and checks that the unit owes it.
    result = await nudge_unit(
        session=context.session,
        task_id=task_id,
        unit_id=unit_id,
        by_user_id=user.id,
        now=context.now(),
        settings=services.settings,
        calendar=services.calendar,
    )
    if result.outcome is NudgeOutcome.NOT_OWING:
        await people.audit(
            context.session,
            at=context.now(),
            actor=user.id,
            action="denied",
            target="nudge:not_owing",
            detail={"task_id": task_id, "unit_id": unit_id},
        )
    sent = result.outcome is NudgeOutcome.SENT
    await _answer(update, result.answer(), alert=not sent)
    if not sent:
        return
    if origin == CARD_ORIGIN:
        await _show_card(update, context, principal, task_id)
    else:
        await _show_overdue(update, context, principal, flt, page)


# --- /task --------------------------------------------------------------------------------------


async def _may_see(context: BotContext, principal: Principal, task_id: int) -> bool:
    """Office, leaders and admins see every task; a liaison only their units' tasks."""
    if principal.office or principal.admin or principal.leaders:
        return True
    desk = await context.desk()
    return (
        await reporting.own_task(desk, principal.units, await context.year(), task_id) is not None
    )


async def cmd_task(update: Update, context: BotContext) -> None:
    """/task <序号>: the task card."""
    user = update.effective_user
    assert user is not None
    principal = await context.principal(user.id)
    arg = clean_text(" ".join(context.args or []))
    # 6, 第6项, or a year's task: 2026-6, 2026年第6项.
    match = re.fullmatch(r"(?:(20\d\d)(?:-|年))?第?(\d{1,4})项?", arg)
    if match is None:
        await reply(update, texts.TASK_NO_USAGE)
        return
    no = int(match.group(2))
    year = int(match.group(1)) if match.group(1) else await context.year()
    task_id = await tasks.task_id_by_no(context.session, year, no)
    if task_id is None:
        await reply(update, texts.task_not_found(no, year))
        return
    if not await _may_see(context, principal, task_id):
        await deny(update, context, principal, f"/task {no}")
        return
    await _show_card(update, context, principal, task_id)


async def _show_card(
    update: Update, context: BotContext, principal: Principal, task_id: int
) -> None:
    services = context.services
    now = context.now()
    year = await views.task_year(context.session, task_id)
    assert year is not None, "callers check that the task exists"
    scope = views.Scope(year, task_id=task_id)
    found = await views.boards(
        context.session,
        scope=scope,
        now=now,
        settings=services.settings,
        calendar=services.calendar,
        register=await context.register(),
        history=True,
    )
    board = found.boards[0]
    nudged = await views.nudged_since(
        context.session, scope, views.day_start(now, services.settings)
    )
    readable = readable_units(principal, board.task.units)
    card = build_card(
        board,
        found.statuses[task_id],
        found.book,
        await views.report_count(context.session, task_id, readable),
        (unit for _, unit in nudged),
        readable,
    )
    keyboard: list[list[InlineKeyboardButton]] = []
    if card.history_count:  # no button for an empty list
        history = texts.HISTORY_BUTTON.format(n=card.history_count)
        keyboard.append([InlineKeyboardButton(history, callback_data=encode("tkh", task_id, 0))])
    if principal.office and not board.completed:
        for s in card.nudgeable:
            data = encode("ovn", task_id, s.unit.unit_id, CARD_ORIGIN)
            keyboard.append(
                [
                    InlineKeyboardButton(
                        texts.nudge_button(board.task.no, s.unit.name), callback_data=data
                    )
                ]
            )
    desk = await context.desk()
    if principal.units and not board.completed:
        waiting = await acknowledge.pending(desk, principal.units, year)
        if any(t.id == task_id for p in waiting for t in p.tasks):
            keyboard.append([report.ack_one(task_id)])
    if instructions.leader_of(principal.leaders, board.task) is not None:
        data = encode("ins", task_id)
        keyboard.append([InlineKeyboardButton(texts.INSTRUCT_BUTTON, callback_data=data)])
    if principal.units and await reporting.own_task(desk, principal.units, year, task_id):
        data = encode("rqc", task_id)
        keyboard.append([InlineKeyboardButton(texts.REQUEST_BUTTON, callback_data=data)])
    files = await evidence.count(desk, task_id, readable)
    if files:
        data = encode("evl", task_id)
        keyboard.append([InlineKeyboardButton(texts.evidence_button(files), callback_data=data)])
    keyboard += await closeout.card_buttons(desk, principal, board.task, year)
    markup = InlineKeyboardMarkup(keyboard) if keyboard else None
    said, asked = await instructions.on_card(desk, task_id)
    loop_lines = await closeout.card_lines(desk, board.task)
    text = texts.task_card(card, services.settings.tz, said, asked, loop_lines)
    await _show(update, text + texts.evidence_card_line(files), markup)


# --- 领导批示 -----------------------------------------------------------------------------------


async def btn_instruct(
    update: Update, context: BotContext, principal: Principal, args: tuple[str, ...]
) -> None:
    """批示 on a task card: the next text the leader sends is the instruction."""
    query = update.callback_query
    user = update.effective_user
    assert query is not None and user is not None
    task_id = int_arg(args, 0)
    desk = await context.desk()
    task = await reporting.task(desk, task_id) if task_id is not None else None
    if task is None:
        await _answer(update, texts.STALE_BUTTON, alert=True)
        return
    leader = instructions.leader_of(principal.leaders, task)
    if leader is None:
        await deny(update, context, principal, "instruct")
        return
    await report.end_text_draft(context, user.id)
    await instructions.ask(desk, user.id, task, leader)
    await _answer(update)
    await reply(update, texts.instruct_prompt(task.no, task.text, instructions.MAX_LENGTH))


async def btn_request(
    update: Update, context: BotContext, principal: Principal, args: tuple[str, ...]
) -> None:
    """提请协调 on a task card: the next text the liaison sends is the request."""
    user = update.effective_user
    assert user is not None
    task_id = int_arg(args, 0)
    desk = await context.desk()
    year = await context.year()
    if task_id is None or await reporting.task(desk, task_id) is None:
        await _answer(update, texts.STALE_BUTTON, alert=True)
        return
    owned = await reporting.own_task(desk, principal.units, year, task_id)
    if owned is None:
        await deny(update, context, principal, "coordination_request")
        return
    task, unit = owned
    await report.end_text_draft(context, user.id)
    await instructions.ask_request(desk, user.id, task, unit.id)
    await _answer(update)
    await reply(update, texts.request_prompt(task.no, task.text, instructions.MAX_LENGTH))


async def awaited_text(
    update: Update, context: BotContext, principal: Principal, text: str
) -> bool:
    """The 批示 or 提请协调 text the person was asked for: checked, stored and sent; False if
    none is awaited."""
    user = update.effective_user
    assert user is not None
    desk = await context.desk()
    awaited = await instructions.awaited(desk, user.id)
    action = awaited.get("action") if awaited is not None else None
    if awaited is None or action not in (instructions.INSTRUCT, instructions.REQUEST):
        return False
    instruct = action == instructions.INSTRUCT
    if not text:
        await reply(update, texts.INSTRUCT_EMPTY if instruct else texts.REQUEST_EMPTY)
        return True
    if len(text) > instructions.MAX_LENGTH:
        await reply(update, texts.typed_too_long(instructions.MAX_LENGTH, len(text)))
        return True
    await instructions.stop(desk, user.id)
    task_id = int(awaited["task_id"])
    # The seat is checked again: it may have gone since the button was pressed.
    if instruct:
        task = await reporting.task(desk, task_id)
        leader = instructions.leader_of(principal.leaders, task) if task is not None else None
        if task is None or leader is None:
            await reply(update, texts.INSTRUCT_NOT_YOURS)
            return True
        sent = await instructions.instruct(desk, task=task, leader=leader, by=user.id, text=text)
        await reply(update, texts.instructed(task.no, sent))
        return True
    year = await context.year()
    owned = await reporting.own_task(desk, principal.units, year, task_id)
    if owned is None or owned[1].id != int(awaited["unit_id"]):
        await reply(update, texts.REQUEST_NOT_YOURS)
        return True
    task, unit = owned
    sent = await instructions.request(desk, task=task, unit=unit, by=user.id, text=text)
    await reply(update, texts.requested(task.no, sent))
    return True


async def btn_task_card(
    update: Update, context: BotContext, principal: Principal, args: tuple[str, ...]
) -> None:
    """Back from the history to the task card."""
    task_id = int_arg(args, 0)
    if task_id is None or await views.task_year(context.session, task_id) is None:
        await _answer(update, texts.STALE_BUTTON, alert=True)
        return
    if not await _may_see(context, principal, task_id):
        await _refuse_task(update, context, task_id)
        return
    await _answer(update)
    await _show_card(update, context, principal, task_id)


async def _refuse_task(update: Update, context: BotContext, task_id: int) -> None:
    """A button for a task the caller may not see: refuse and record it, change nothing."""
    user = update.effective_user
    await people.audit(
        context.session,
        at=context.now(),
        actor=user.id if user else None,
        action="denied",
        target="task:foreign",
        detail={"task_id": task_id},
    )
    await _answer(update, texts.TASK_NOT_VISIBLE, alert=True)


async def btn_task_history(
    update: Update, context: BotContext, principal: Principal, args: tuple[str, ...]
) -> None:
    """A page of the task's report history, newest first."""
    task_id = int_arg(args, 0)
    page = int_arg(args, 1, high=100000)
    year = await views.task_year(context.session, task_id) if task_id is not None else None
    if task_id is None or page is None or year is None:
        await _answer(update, texts.STALE_BUTTON, alert=True)
        return
    if not await _may_see(context, principal, task_id):
        await _refuse_task(update, context, task_id)
        return
    found = await views.load_tasks(
        context.session,
        views.Scope(year, task_id=task_id),
        responsible_report=context.services.settings.responsible_units_report,
        register=await context.register(),
    )
    readable = readable_units(principal, found[0].units)
    total = await views.report_count(context.session, task_id, readable)
    pages = max(1, (total + HISTORY_PAGE - 1) // HISTORY_PAGE)
    page = min(page, pages - 1)
    reports, total = await views.task_reports(
        context.session,
        task_id,
        offset=page * HISTORY_PAGE,
        limit=HISTORY_PAGE,
        unit_ids=readable,
    )
    await _answer(update)
    keyboard = []
    nav = page_buttons(page, pages, lambda p: encode("tkh", task_id, p))
    if nav:
        keyboard.append(nav)
    keyboard.append(
        [InlineKeyboardButton(texts.TASK_CARD_BUTTON, callback_data=encode("tkc", task_id))]
    )
    returned = await closeout.returned(await context.desk(), [r.id for r in reports])
    text = texts.task_history(
        found[0].no, reports, page + 1, pages, total, context.services.settings.tz, returned
    )
    await _show(update, text, InlineKeyboardMarkup(keyboard))


# --- /units -------------------------------------------------------------------------------------


async def cmd_units(update: Update, context: BotContext) -> None:
    """/units: who can be reminded, and each unit's reporting rate this cycle."""
    services = context.services
    now = context.now()
    tally = UnitTally()
    year = await context.year()
    async for found in views.board_chunks(
        context.session,
        scope=views.Scope(year),
        now=now,
        settings=services.settings,
        calendar=services.calendar,
        with_latest=False,
        register=await context.register(),
        history=True,
    ):
        tally.add(found.boards)
    units = await people.reportable_units(context.session)
    liaisons = await views.liaison_counts(context.session)
    bound = [u for u in units if liaisons.get(u.id) and liaisons[u.id].active]
    waiting = await acknowledge.pending_counts(await context.desk(), bound, year)
    lines = unit_lines([(u.id, u.name) for u in units], liaisons, tally, waiting)
    ranking = InlineKeyboardButton(texts.RANKING_BUTTON, callback_data=encode("asr", year))
    await reply(
        update,
        texts.units_overview(
            lines, now.astimezone(services.settings.tz), year=year, open_key=tally.open_key
        ),
        InlineKeyboardMarkup([[ranking]]),
    )


async def btn_ranking(
    update: Update, context: BotContext, principal: Principal, args: tuple[str, ...]
) -> None:
    """考评排名 under /units: each kind of unit ranked by the month's score (and the year's)."""
    year = int_arg(args, 0, low=2000, high=2100)
    if year is None:
        await _answer(update, texts.STALE_BUTTON, alert=True)
        return
    scored = await assessment.assess(await context.desk(), year)
    await _answer(update)
    await reply(
        update, texts.ranking_text(scored.month, scored.today, scored.monthly, scored.yearly)
    )


# --- /summary -----------------------------------------------------------------------------------


async def cmd_summary(update: Update, context: BotContext) -> None:
    """/summary: the office gets the city-wide summary, a leader the summary of their tasks."""
    user = update.effective_user
    assert user is not None
    principal = await context.principal(user.id)
    services = context.services
    settings = services.settings
    now = context.now()
    year = await context.year()
    since = previous_summary(now, settings, services.calendar)
    if principal.office:
        built = await build_summaries(
            context.session,
            scope=views.Scope(year),
            leaders=(),
            city=True,
            overdue=False,
            now=now,
            since=since,
            settings=settings,
            calendar=services.calendar,
            register=await context.register(),
            compare="latest",
        )
        found = [built.city]
        none = texts.SUMMARY_NONE_OFFICE
    else:
        mine = [(x.id, x.name) for x in principal.leaders]
        built = await build_summaries(
            context.session,
            scope=views.Scope(year, leader_ids=tuple(sorted(i for i, _ in mine))),
            leaders=mine,
            city=False,
            overdue=False,
            now=now,
            since=since,
            settings=settings,
            calendar=services.calendar,
            register=await context.register(),
            compare="latest",
        )
        found = [built.leaders.get(i) for i, _ in mine]
        none = texts.SUMMARY_NONE
    for summary in found:
        if summary is None:
            await reply(update, none)
            continue
        await reply(
            update,
            texts.summary_text(summary, settings.tz, limit=settings.summary_items, year=year),
        )


# --- /export ------------------------------------------------------------------------------------


async def cmd_export(update: Update, context: BotContext) -> None:
    """/export: the ledger (督查台账) as an .xlsx document."""
    user = update.effective_user
    message = update.effective_message
    assert user is not None and message is not None
    services = context.services
    now = context.now()
    year = _year_arg(context)
    if year is False:
        await reply(update, texts.YEAR_ARG_USAGE)
        return
    ledger = await export_ledger(
        context.session,
        now=now,
        settings=services.settings,
        calendar=services.calendar,
        register=await context.register(),
        year=year,
        actor=user.id,
    )
    if ledger is None:
        await reply(update, texts.EXPORT_EMPTY)
        return
    await message.reply_document(
        document=ledger.data,
        filename=texts.ledger_filename(ledger.as_of),
        caption=texts.export_caption(ledger.year, ledger.tasks, ledger.as_of),
    )


async def cmd_bulletin(update: Update, context: BotContext) -> None:
    """/bulletin [YYYY-MM]: the monthly 通报 as a Word document."""
    user = update.effective_user
    message = update.effective_message
    assert user is not None and message is not None
    arg = clean_text(" ".join(context.args or []))
    month = None
    if arg:
        found = re.fullmatch(r"(20\d\d)[-年./](\d{1,2})月?", arg)
        if found is None or not 1 <= int(found.group(2)) <= 12:
            await reply(update, texts.BULLETIN_USAGE)
            return
        month = date(int(found.group(1)), int(found.group(2)), 1)
    services = context.services
    made = await bulletin.monthly_bulletin(
        context.session,
        now=context.now(),
        settings=services.settings,
        calendar=services.calendar,
        register=await context.register(),
        month=month,
        actor=user.id,
    )
    if made is None:
        await reply(update, texts.BULLETIN_EMPTY)
        return
    await message.reply_document(
        document=made.data,
        filename=texts.bulletin_filename(made.year, made.month.month),
        caption=texts.bulletin_caption(made.year, made.month.month, (made.red, made.yellow)),
    )


def _year_arg(context: BotContext) -> int | Literal[False] | None:
    """The command's year argument: None when absent, False when it is not a year."""
    arg = clean_text(" ".join(context.args or [])).removesuffix("年度").removesuffix("年")
    if not arg:
        return None
    return int(arg) if re.fullmatch(r"20\d\d", arg) else False


# --- /closeyear ---------------------------------------------------------------------------------


async def cmd_close_year(update: Update, context: BotContext) -> None:
    """/closeyear 2026: ask the office to confirm closing the year."""
    year = _year_arg(context)
    if not year:
        await reply(update, texts.CLOSE_YEAR_USAGE)
        return
    button = InlineKeyboardButton(
        texts.CLOSE_YEAR_BUTTON.format(year=year), callback_data=encode("cy", year)
    )
    await reply(update, texts.close_year_confirm(year), InlineKeyboardMarkup([[button]]))


async def btn_close_year(
    update: Update, context: BotContext, principal: Principal, args: tuple[str, ...]
) -> None:
    """The office confirmed: close the year (refused if it has no register or is closed)."""
    year = int_arg(args, 0)
    now = context.now().astimezone(context.services.settings.tz)
    working = None
    if year is not None:
        working = await years.close_year(context.session, year, now, actor=principal.user_id)
    if year is None or working is None:
        await _answer(update, texts.year_not_closable(year or 0), alert=True)
        return
    await _answer(update)
    await edit_or_reply(update, texts.year_closed(year, working))
