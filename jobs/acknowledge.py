"""签收 reminders (issue 21): a liaison whose unit has left lead tasks unacknowledged
`ack_remind_after_workdays` workdays after they were bound — or after the register was
imported, for tasks imported later — is reminded, once per task, with a 签收 button.

Planned once a workday at the reminder time (an AppState mark per day), into the outbox under
(task, unit, "ack", "ack", contact) items, so a task is never reminded twice to one person.
"""

from __future__ import annotations

from datetime import datetime, time

from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts
from bot.config import Settings
from bot.domain.roles import Role, UnitRef
from bot.domain.workcal import WorkCalendar
from bot.services import acknowledge
from bot.services.desk import Desk
from db import outbox, people, progress, years
from db.models import AppState
from db.outbox import ItemKey
from db.register_cache import RegisterCache
from jobs.reminders import REMINDER

ACK = outbox.ACK_CYCLE  # the kind of message, and the cycle and step of its items


async def plan_ack_reminders(
    *,
    now: datetime,
    session: AsyncSession,
    settings: Settings,
    calendar: WorkCalendar,
    register: RegisterCache | None = None,
) -> int:
    """Write today's 签收 reminders to the outbox (once a workday); return messages added."""
    after = settings.ack_remind_after_workdays
    local = now.astimezone(settings.tz)
    today = local.date()
    if after <= 0 or not calendar.is_workday(today) or local.time() < settings.reminder_time:
        return 0
    mark = f"ack_planned:{today.isoformat()}"
    if await session.get(AppState, mark) is not None:
        return 0
    session.add(AppState(key=mark, value={"at": now.isoformat()}, updated_at=now))
    year = await years.working_year(session, today.year)
    imported = await progress.tracking_since(session, year)
    if imported is None:
        await session.flush()
        return 0
    cache = register or RegisterCache()
    await cache.validate(session)
    desk = Desk(session, cache, settings, calendar, now)
    added = 0
    for contact in await people.contacts_with_role(session, Role.LIAISON):
        if not contact.reachable or contact.unit_id is None:
            continue
        since = max(contact.created_at, imported).astimezone(settings.tz).date()
        if calendar.workdays_between(since, today) < after:
            continue
        unit = UnitRef(contact.unit_id, await cache.unit_name(session, contact.unit_id))
        found = await acknowledge.pending(desk, [unit], year)
        if not found:
            continue
        tasks = found[0].tasks
        told = await outbox.sent_steps(session, [t.id for t in tasks], cycle_keys=[ACK])
        new = [t for t in tasks if (t.id, unit.id, ACK, contact.id) not in told]
        if not new:
            continue
        button = {"text": texts.ack_all_button(len(tasks)), "callback_data": "ak:a"}
        markup = {"inline_keyboard": [[button]]}
        items = [ItemKey(t.id, unit.id, ACK, ACK, contact.id) for t in new]
        day_start = datetime.combine(today, time(0), tzinfo=settings.tz)
        if await outbox.add_to_pending(
            session,
            chat_id=contact.chat_id,
            kind=REMINDER,
            since=day_start,
            text=texts.ack_appendix([t.no for t in tasks]),
            reply_markup=markup,
            items=items,
        ):
            continue
        message = await outbox.enqueue(
            session,
            kind=ACK,
            chat_id=contact.chat_id,
            contact_id=contact.id,
            text=texts.ack_reminder(unit.name, [(t.no, t.text) for t in tasks]),
            now=now,
            items=items,
            reply_markup=markup,
        )
        if message is not None:
            added += 1
    await session.flush()
    return added
