"""When the jobs run. The job bodies are plain functions taking `now`; this only decides when.

Nothing is pickled: the schedule is rebuilt at every start from code, and what must survive a
restart (what was sent, what is due) lives in our own tables. Each job coalesces missed runs
into one and tolerates late starts (misfire grace), so downtime leads to one catch-up run.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from handlers.context import BotApp, BotContext, Services
from jobs.acknowledge import plan_ack_reminders
from jobs.drafts import expire_drafts
from jobs.reminders import OverrideSync, plan_reminders
from jobs.retention import Purged, purge_old
from jobs.sender import OutboxSender
from jobs.summaries import send_daily_summaries

log = logging.getLogger(__name__)

JOB_KWARGS = {"misfire_grace_time": 3600, "coalesce": True, "max_instances": 1}
PLAN_EVERY = timedelta(minutes=1)


async def run_planning(
    services: Services, sender: OutboxSender | None, overrides: OverrideSync | None = None
) -> int:
    """Plan reminders (of reports and of 签收) and expire drafts at the services' current time;
    wake the sender.

    With `overrides`, calendar overrides an admin stored since the last run apply first.
    """
    now = services.clock.now()
    async with services.sessionmaker() as session, session.begin():
        if overrides is not None:
            await overrides.apply(session, services.calendar)
        added = await plan_reminders(
            now=now, session=session, settings=services.settings, calendar=services.calendar
        )
        added += await plan_ack_reminders(
            now=now,
            session=session,
            settings=services.settings,
            calendar=services.calendar,
            register=services.register,
        )
        added += await expire_drafts(now=now, session=session)
    if sender is not None and added:
        sender.wake.set()
    return added


async def run_summaries(services: Services, sender: OutboxSender | None) -> int:
    """Write today's summaries (workdays only; the body decides) and wake the sender."""
    now = services.clock.now()
    async with services.sessionmaker() as session, session.begin():
        added = await send_daily_summaries(
            now=now,
            session=session,
            settings=services.settings,
            calendar=services.calendar,
            register=services.register,
        )
    if sender is not None and added:
        sender.wake.set()
    return added


async def run_retention(services: Services) -> Purged:
    """Delete what is past its retention period (jobs.retention)."""
    async with services.sessionmaker() as session, session.begin():
        purged = await purge_old(
            now=services.clock.now(), session=session, settings=services.settings
        )
    log.info("retention: deleted %s", purged)
    return purged


def schedule_jobs(application: BotApp, sender: OutboxSender | None) -> None:
    """Register the repeating jobs on python-telegram-bot's JobQueue (APScheduler)."""
    queue = application.job_queue
    assert queue is not None, "python-telegram-bot[job-queue] is required"

    overrides = OverrideSync()

    async def planning(context: BotContext) -> None:
        await run_planning(context.services, sender, overrides)

    queue.run_repeating(
        planning, interval=PLAN_EVERY, first=1.0, name="plan-reminders", job_kwargs=JOB_KWARGS
    )

    async def summaries(context: BotContext) -> None:
        await run_summaries(context.services, sender)

    settings = application.bot_data["services"].settings
    # Every day: the body skips non-workdays by the statutory calendar (调休 included), which a
    # weekday list could not express. One more run at start catches up a summary missed while
    # the bot was down (the body sends only until summary_latest, and never twice a day).
    queue.run_daily(
        summaries,
        time=settings.summary_time.replace(tzinfo=settings.tz),
        days=tuple(range(7)),
        name="daily-summaries",
        job_kwargs=JOB_KWARGS,
    )
    queue.run_once(summaries, when=5.0, name="daily-summaries-catch-up", job_kwargs=JOB_KWARGS)

    async def retention(context: BotContext) -> None:
        await run_retention(context.services)

    queue.run_daily(
        retention,
        time=settings.retention_time.replace(tzinfo=settings.tz),
        days=tuple(range(7)),
        name="retention",
        job_kwargs=JOB_KWARGS,
    )
    queue.run_once(retention, when=60.0, name="retention-at-start", job_kwargs=JOB_KWARGS)
