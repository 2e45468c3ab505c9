"""退回重报 and 办结销号 on the task card (issue 21): buttons, and the comment or application
text the person is then asked for. The rules are bot.services.closeout's; every button's
arguments are checked again against the database (a forged or stale press changes nothing)."""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot import texts
from bot.domain.model import TaskInfo
from bot.domain.roles import Principal
from bot.services import closeout, extension, instructions, reporting
from bot.services.desk import Desk
from db.loop import APPLIED, CLOSED, REQUESTED
from db.models import Closure, Extension
from handlers import report
from handlers.base import answer, deny, encode, int_arg, reply
from handlers.context import BotContext


async def card_buttons(
    desk: Desk, principal: Principal, task: TaskInfo, year: int
) -> list[list[InlineKeyboardButton]]:
    """The card's 退回 / 销号 buttons for this person."""
    rows: list[list[InlineKeyboardButton]] = []
    if principal.office and task.completed_on is None and await closeout.returnable(desk, task):
        rows.append(
            [InlineKeyboardButton(texts.RETURN_BUTTON, callback_data=encode("rtl", task.id))]
        )
    if principal.office:
        for part in await closeout.parts(desk, task):
            actions = {APPLIED: ("clo", "clr"), CLOSED: ("clx",)}.get(part.state or "", ())
            rows.append(
                [
                    InlineKeyboardButton(
                        texts.closure_button(a, part.name), callback_data=encode(a, part.closure_id)
                    )
                    for a in actions
                ]
            )
    if extension.may_decide(desk, principal, task):
        for n in await extension.pending(desk, task.id):
            rows.append(
                [
                    InlineKeyboardButton(
                        texts.extension_button(approve, n.unit),
                        callback_data=encode("exa" if approve else "exr", n.id),
                    )
                    for approve in (True, False)
                ]
            )
    if principal.units and task.completed_on is None:
        owned = await reporting.own_task(desk, principal.units, year, task.id)
        if owned is not None and not isinstance(await extension.options(desk, *owned), str):
            rows.append(
                [InlineKeyboardButton(texts.EXTEND_BUTTON, callback_data=encode("exq", task.id))]
            )
    if principal.units and task.completed_on is None:
        allowed = await closeout.may_apply(desk, principal.units, task.id, year)
        if not isinstance(allowed, str):
            rows.append(
                [
                    InlineKeyboardButton(
                        texts.CLOSE_APPLY_BUTTON, callback_data=encode("cla", task.id)
                    )
                ]
            )
    return [r for r in rows if r]


async def card_lines(desk: Desk, task: TaskInfo) -> list[str]:
    """The card's 办结销号 and 退回记录 lines."""
    parts = await closeout.parts(desk, task)
    returns = await closeout.returns_of_task(desk, task.id)
    asked = await extension.on_card(desk, task.id)
    return (
        texts.extension_lines(asked)
        + texts.close_lines(parts)
        + texts.returned_lines(returns, desk.settings.tz)
    )


async def returned(desk: Desk, report_ids: list[int]) -> dict[int, str]:
    """Which of a history page's reports were returned, with the comment."""
    return await closeout.returned(desk, report_ids)


async def btn_return(
    update: Update, context: BotContext, principal: Principal, args: tuple[str, ...]
) -> None:
    """退回重报 on a card: the units' reports the office may return, as buttons."""
    task_id = int_arg(args, 0)
    desk = await context.desk()
    task = await reporting.task(desk, task_id) if task_id is not None else None
    if task is None:
        await _answer(update, texts.STALE_BUTTON, alert=True)
        return
    found = await closeout.returnable(desk, task)
    if not found:
        await _answer(update, texts.RETURN_NONE, alert=True)
        return
    names = {u.unit_id: u.name for u in task.units}
    choices = [
        (
            texts.return_choice(names.get(r.unit_id, ""), r.cycle_key, r.percent),
            encode("rtr", r.id),
        )
        for r in found
    ]
    await _choose(update, texts.return_choose(task.no), choices)


async def btn_return_pick(
    update: Update, context: BotContext, principal: Principal, args: tuple[str, ...]
) -> None:
    """A report to return was chosen: the next text is the office's comment."""
    user = update.effective_user
    assert user is not None
    report_id = int_arg(args, 0)
    desk = await context.desk()
    picked = await closeout.returnable_report(desk, report_id) if report_id is not None else None
    if picked is None:
        await _answer(update, texts.RETURN_STALE, alert=True)
        return
    task, found = picked
    unit = task.part(found.unit_id)
    prompt = texts.return_prompt(
        task.no, unit.name if unit else "", found.cycle_key, found.text, closeout.MAX_LENGTH
    )
    await _ask(update, context, desk, closeout.RETURN, {"report_id": found.id}, prompt)


async def btn_apply(
    update: Update, context: BotContext, principal: Principal, args: tuple[str, ...]
) -> None:
    """申请销号 on a card: the next text is the application."""
    user = update.effective_user
    assert user is not None
    task_id = int_arg(args, 0)
    desk = await context.desk()
    if task_id is None or await reporting.task(desk, task_id) is None:
        await _answer(update, texts.STALE_BUTTON, alert=True)
        return
    allowed = await closeout.may_apply(desk, principal.units, task_id, await context.year())
    if isinstance(allowed, str):
        if allowed == texts.CLOSE_NOT_YOURS:
            await deny(update, context, principal, "close_apply")
        else:
            await _answer(update, allowed, alert=True)
        return
    task, unit = allowed
    prompt = texts.close_apply_prompt(task.no, task.text, closeout.MAX_LENGTH)
    data = {"task_id": task.id, "unit_id": unit.id}
    await _ask(update, context, desk, closeout.APPLY, data, prompt)


async def btn_close(
    update: Update, context: BotContext, principal: Principal, args: tuple[str, ...]
) -> None:
    """同意销号: decided at once."""
    user = update.effective_user
    assert user is not None
    picked = await _closure(update, context, args, closeout.CLOSE)
    if picked is None:
        return
    desk, task, row = picked
    done = await closeout.decide(desk, task, row, closeout.CLOSE, by=user.id, comment=None)
    await _answer(update)
    await reply(update, _decided(done, CLOSED))


async def btn_refuse(
    update: Update, context: BotContext, principal: Principal, args: tuple[str, ...]
) -> None:
    """不予销号: the next text is the office's comment."""
    await _ask_comment(update, context, args, closeout.REFUSE)


async def btn_reopen(
    update: Update, context: BotContext, principal: Principal, args: tuple[str, ...]
) -> None:
    """重新打开 a closed part: the next text is the office's comment."""
    await _ask_comment(update, context, args, closeout.REOPEN)


async def _ask_comment(
    update: Update, context: BotContext, args: tuple[str, ...], action: str
) -> None:
    user = update.effective_user
    assert user is not None
    picked = await _closure(update, context, args, action)
    if picked is None:
        return
    desk, task, row = picked
    unit = task.part(row.unit_id)
    prompt = texts.decision_prompt(
        task.no, unit.name if unit else "", action == closeout.REOPEN, closeout.MAX_LENGTH
    )
    await _ask(update, context, desk, action, {"closure_id": row.id}, prompt)


async def _closure(
    update: Update, context: BotContext, args: tuple[str, ...], action: str
) -> tuple[Desk, TaskInfo, Closure] | None:
    """The closure a button names, if the decision still applies to it (else answered)."""
    closure_id = int_arg(args, 0)
    desk = await context.desk()
    found = await closeout.closure(desk, closure_id) if closure_id is not None else None
    if found is None or not closeout.may_decide(found[1], action):
        await _answer(update, texts.CLOSE_STALE, alert=True)
        return None
    return desk, found[0], found[1]


async def awaited_text(
    update: Update, context: BotContext, principal: Principal, text: str
) -> bool:
    """The return comment, 销号 application or decision comment the person was asked for:
    checked, stored and sent; False if none is awaited."""
    user = update.effective_user
    assert user is not None
    desk = await context.desk()
    awaited = await instructions.awaited(desk, user.id)
    action = awaited.get("action") if awaited is not None else None
    if awaited is not None and action in extension.ACTIONS:
        return await _extension_text(update, context, principal, desk, awaited, text)
    if awaited is None or action not in closeout.ACTIONS:
        return False
    if not text:
        await reply(update, texts.CLOSE_EMPTY if action == closeout.APPLY else texts.COMMENT_EMPTY)
        return True
    if len(text) > closeout.MAX_LENGTH:
        await reply(update, texts.typed_too_long(closeout.MAX_LENGTH, len(text)))
        return True
    await instructions.stop(desk, user.id)
    # Everything is checked again: the state may have changed since the button was pressed.
    if action == closeout.RETURN:
        picked = await closeout.returnable_report(desk, int(awaited["report_id"]))
        if picked is None or not principal.office:
            await reply(update, texts.RETURN_STALE)
            return True
        task, found = picked
        sent = await closeout.return_report(desk, task, found, by=user.id, text=text)
        unit = task.part(found.unit_id)
        await reply(
            update, texts.returned(task.no, unit.name if unit else "", found.cycle_key, sent)
        )
        return True
    if action == closeout.APPLY:
        allowed = await closeout.may_apply(
            desk, principal.units, int(awaited["task_id"]), await context.year()
        )
        if isinstance(allowed, str) or allowed[1].id != int(awaited["unit_id"]):
            await reply(update, allowed if isinstance(allowed, str) else texts.CLOSE_NOT_YOURS)
            return True
        sent = await closeout.apply(desk, allowed[0], allowed[1], by=user.id, text=text)
        await reply(update, texts.close_applied(allowed[0].no, sent))
        return True
    found_closure = await closeout.closure(desk, int(awaited["closure_id"]))
    if (
        found_closure is None
        or not principal.office
        or not closeout.may_decide(found_closure[1], action)
    ):
        await reply(update, texts.CLOSE_STALE)
        return True
    task, row = found_closure
    done = await closeout.decide(desk, task, row, action, by=user.id, comment=text)
    await reply(update, _decided(done, row.state))
    return True


def _decided(done: closeout.Decided, state: str) -> str:
    return texts.close_decided(
        done.task_no,
        done.unit,
        state,
        task_closed=done.task_closed,
        task_reopened=done.task_reopened,
    )


async def _choose(update: Update, header: str, choices: list[tuple[str, str]]) -> None:
    """Answer the press and offer the choices (label, callback data), one a row."""
    rows = [[InlineKeyboardButton(label, callback_data=data)] for label, data in choices]
    await _answer(update)
    await reply(update, header, InlineKeyboardMarkup(rows))


async def _ask(
    update: Update,
    context: BotContext,
    desk: Desk,
    action: str,
    data: dict[str, Any],
    prompt: str,
) -> None:
    """After a button: the person's next text is for `action` (a report conversation that
    would take it ends); answer the press and show the prompt."""
    user = update.effective_user
    assert user is not None
    await report.end_text_draft(context, user.id)
    await closeout.ask(desk, user.id, action, data)
    await _answer(update)
    await reply(update, prompt)


async def _answer(update: Update, text: str | None = None, *, alert: bool = False) -> None:
    if update.callback_query is not None:
        await answer(update.callback_query, text, alert=alert)


# --- 延期申请 -------------------------------------------------------------------------------------


async def btn_extend(
    update: Update, context: BotContext, principal: Principal, args: tuple[str, ...]
) -> None:
    """申请延期 on a card: which deadline (the cycle owed now, the task's own)."""
    task_id = int_arg(args, 0)
    desk = await context.desk()
    if task_id is None or await reporting.task(desk, task_id) is None:
        await _answer(update, texts.STALE_BUTTON, alert=True)
        return
    owned = await reporting.own_task(desk, principal.units, await context.year(), task_id)
    if owned is None:
        await deny(update, context, principal, "extension_request")
        return
    found = await extension.options(desk, *owned)
    if isinstance(found, str):
        await _answer(update, found, alert=True)
        return
    task = owned[0]
    choices = [
        (
            texts.extension_option(o.cycle_key, o.deadline),
            encode("exk", task.id, o.cycle_key or extension.TASK),
        )
        for o in found
    ]
    await _choose(update, texts.extend_choose(task.no), choices)


async def btn_extend_pick(
    update: Update, context: BotContext, principal: Principal, args: tuple[str, ...]
) -> None:
    """A deadline to move was chosen: the next text is the date and the reason."""
    user = update.effective_user
    assert user is not None
    task_id = int_arg(args, 0)
    key = args[1] if len(args) > 1 else ""
    desk = await context.desk()
    owned = (
        await reporting.own_task(desk, principal.units, await context.year(), task_id)
        if task_id is not None
        else None
    )
    found = await extension.option(desk, *owned, key) if owned is not None else None
    if owned is None or found is None:
        await _answer(update, texts.EXTEND_STALE, alert=True)
        return
    task, unit = owned
    prompt = texts.extend_prompt(
        task.no, found.cycle_key, found.deadline, found.limit, extension.MAX_LENGTH
    )
    data = {"task_id": task.id, "unit_id": unit.id, "key": key}
    await _ask(update, context, desk, extension.EXTEND, data, prompt)


async def btn_extend_approve(
    update: Update, context: BotContext, principal: Principal, args: tuple[str, ...]
) -> None:
    """同意延期: decided at once."""
    user = update.effective_user
    assert user is not None
    picked = await _extension(update, context, principal, args)
    if picked is None:
        return
    desk, task, row = picked
    await extension.decide(desk, task, row, approved=True, by=user.id, comment=None)
    await _answer(update)
    await reply(update, texts.extension_decided(task.no, await extension.note(desk, row)))


async def btn_extend_refuse(
    update: Update, context: BotContext, principal: Principal, args: tuple[str, ...]
) -> None:
    """不予延期: the next text is the comment."""
    user = update.effective_user
    assert user is not None
    picked = await _extension(update, context, principal, args)
    if picked is None:
        return
    desk, task, row = picked
    name = (await extension.note(desk, row)).unit
    prompt = texts.extension_refuse_prompt(task.no, name, extension.MAX_LENGTH)
    await _ask(update, context, desk, extension.REFUSE, {"extension_id": row.id}, prompt)


async def _extension(
    update: Update, context: BotContext, principal: Principal, args: tuple[str, ...]
) -> tuple[Desk, TaskInfo, Extension] | None:
    """The undecided request a button names, if this person decides it (else answered)."""
    extension_id = int_arg(args, 0)
    desk = await context.desk()
    found = await extension.extension(desk, extension_id) if extension_id is not None else None
    if found is None or found[1].state != REQUESTED:
        await _answer(update, texts.EXTEND_STALE, alert=True)
        return None
    if not extension.may_decide(desk, principal, found[0]):
        await deny(update, context, principal, "extension_decide")
        return None
    return desk, found[0], found[1]


async def _extension_text(
    update: Update,
    context: BotContext,
    principal: Principal,
    desk: Desk,
    awaited: dict[str, Any],
    text: str,
) -> bool:
    """A request's date and reason, or a refusal's comment."""
    user = update.effective_user
    assert user is not None
    if not text:
        await reply(update, texts.COMMENT_EMPTY)
        return True
    if len(text) > extension.MAX_LENGTH:
        await reply(update, texts.typed_too_long(extension.MAX_LENGTH, len(text)))
        return True
    if awaited["action"] == extension.REFUSE:
        await instructions.stop(desk, user.id)
        found = await extension.extension(desk, int(awaited["extension_id"]))
        if (
            found is None
            or found[1].state != REQUESTED
            or not extension.may_decide(desk, principal, found[0])
        ):
            await reply(update, texts.EXTEND_STALE)
            return True
        task, row = found
        await extension.decide(desk, task, row, approved=False, by=user.id, comment=text)
        await reply(update, texts.extension_decided(task.no, await extension.note(desk, row)))
        return True
    # Checked again: the unit may have reported, or asked, since the button was pressed.
    owned = await reporting.own_task(
        desk, principal.units, await context.year(), int(awaited["task_id"])
    )
    if owned is None or owned[1].id != int(awaited["unit_id"]):
        await instructions.stop(desk, user.id)
        await reply(update, texts.EXTEND_STALE)
        return True
    found_option = await extension.option(desk, *owned, str(awaited["key"]))
    if found_option is None:
        await instructions.stop(desk, user.id)
        await reply(update, texts.EXTEND_STALE)
        return True
    new_date = extension.read_date(desk, found_option, text)
    if new_date is None:
        # Still waiting: the person sends the date again.
        await reply(update, texts.extend_bad_date(found_option.deadline, found_option.limit))
        return True
    await instructions.stop(desk, user.id)
    task, unit = owned
    sent = await extension.request(desk, task, unit, found_option, new_date, by=user.id, text=text)
    await reply(update, texts.extension_requested(task.no, sent))
    return True
