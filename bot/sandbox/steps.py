"""Simulated-time arithmetic for the sandbox: where a clock button leads, and where jobs run.

Pure functions of aware datetimes, the zone and the work calendar; no runtime, no database.
"""

from __future__ import annotations

import calendar as month_days
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta, tzinfo
from enum import StrEnum

from bot.domain.workcal import WorkCalendar

WEEKDAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
# A jump longer than this is a bot that was down: it comes back this long before the jump's end
# (one catch-up run at that day's midnight) and runs day by day from there.
MAX_STEPPED_SPAN = timedelta(days=62)
MIDNIGHT = time(0, 0)


class Step(StrEnum):
    """The clock panel's buttons."""

    HOUR = "hour"
    NEXT_WORKDAY = "next_workday"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    TODAY = "today"


def add_month(moment: datetime) -> datetime:
    """The same wall-clock time one calendar month later (the 31st becomes the month's last)."""
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    day = min(moment.day, month_days.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def _at(day: date, clock_time: time, tz: tzinfo) -> datetime:
    return datetime.combine(day, clock_time, tzinfo=tz)


def target_for(
    step: Step,
    now: datetime,
    *,
    tz: tzinfo,
    calendar: WorkCalendar,
    reminder_time: time,
    real_now: datetime,
) -> datetime | None:
    """Where `step` moves the clock from `now`; None if it would not move forward."""
    local = now.astimezone(tz)
    if step == Step.HOUR:
        target = local + timedelta(hours=1)
    elif step == Step.NEXT_WORKDAY:
        target = _at(calendar.add_workdays(local.date(), 1), reminder_time, tz)
    elif step == Step.DAY:
        target = _at(local.date() + timedelta(days=1), local.time(), tz)
    elif step == Step.WEEK:
        target = _at(local.date() + timedelta(days=7), local.time(), tz)
    elif step == Step.MONTH:
        target = add_month(local)
    else:
        target = real_now.astimezone(tz).replace(second=0, microsecond=0)
    return target if target > local else None


def checkpoints(
    start: datetime, end: datetime, *, tz: tzinfo, job_times: Iterable[time]
) -> list[datetime]:
    """The moments in (start, end] at which jobs run: each day's job times, then `end` itself.

    Stepping day by day is what makes a fast-forward show every reminder and summary of the
    month, each sent (and shown) at its own time. A span longer than MAX_STEPPED_SPAN is a bot
    that was down: it comes back at midnight MAX_STEPPED_SPAN before `end` (one catch-up run
    there, for everything missed) and runs day by day from then on.
    """
    if end <= start:
        return []
    out: list[datetime] = []
    if end - start > MAX_STEPPED_SPAN:
        resume = _at((end - MAX_STEPPED_SPAN).astimezone(tz).date(), MIDNIGHT, tz)
        if resume > start:
            out.append(resume)
            start = resume
    times = sorted(set(job_times))
    day = start.astimezone(tz).date()
    last = end.astimezone(tz).date()
    while day <= last:
        for clock_time in times:
            moment = _at(day, clock_time, tz)
            if start < moment <= end:
                out.append(moment)
        day += timedelta(days=1)
    if not out or out[-1] != end:
        out.append(end.astimezone(tz))
    return out


def describe(moment: datetime, *, tz: tzinfo, calendar: WorkCalendar) -> dict[str, object]:
    """The clock panel's facts about `moment`: date, weekday, time, workday, holiday."""
    local = moment.astimezone(tz)
    day = local.date()
    workday = calendar.is_workday(day)
    holiday = calendar.holiday_name(day)
    if workday:
        kind = f"工作日（{holiday}调休上班）" if holiday and day.weekday() >= 5 else "工作日"
    else:
        kind = f"休息日（{holiday}）" if holiday else "休息日"
    return {
        "iso": local.isoformat(),
        "date": f"{day.year}年{day.month}月{day.day}日",
        "weekday": WEEKDAYS[day.weekday()],
        "time": local.strftime("%H:%M"),
        "workday": workday,
        "day_kind": kind,
        "label": f"{day.year}年{day.month}月{day.day}日 {WEEKDAYS[day.weekday()]} "
        f"{local.strftime('%H:%M')}",
    }
