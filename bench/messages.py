"""Issue 20's acceptance check: the messages each person receives per workday in a month.

`python -m bench.messages [--month 2026-04] [--seed N] [--db sqlite|postgresql] [--no-nudges]
[--set NAME=VALUE ...]`

A simulated month of the 2026 register (`bench.month`): every unit's liaison, the office's staff,
each supervising leader and the work group bound; the scheduler's jobs (daily summaries and the
group's 通报, the reminder planner) run at their times; liaisons report through the reporting
service with a seeded, realistic mix (most some days before the deadline, some on the day, some
late after the overdue reminders and the office's 催办, a few never); the outbox sender delivers
to an in-process emulator, dropping what no longer applies. The month before the measured one
is simulated too (from the register's import on its first day), so the measured month starts
with last month's stragglers; January starts at the import.

Counted: every message delivered to each person (and the group) per local day: the outbox's
pushes. Replies to a person's own message (the report card, the receipt) are not counted, nor
is a digest's chart apart from its digest (one text and its picture, sent together).

Targets (issue 20, "Done when"): a liaison ≤ 1 message on most workdays, the office ≤ 2 on
every workday, a leader exactly 1 per workday, the group ≤ 1 a week plus deadline days (the
monthly deadline and the first workday after it). Exit status 1 on any FAIL.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

from bench.common import Verdicts, database, print_table
from bench.month import (
    EARLY,
    LATE,
    MIX,
    NEVER,
    ON_DEADLINE,
    ROLES,
    SHANGHAI,
    Month,
    Person,
    Received,
    Simulated,
    mixed_plan,
)
from bot.config import ConfigError, Settings, load_settings
from bot.domain.workcal import WorkCalendar

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
BOUND = {"liaison": 1, "office": 2, "leader": 1, "group": 1}  # per person and workday
DEFAULT_MONTH = "2026-04"
DEFAULT_SEED = 20260401
LINE_WIDTH = 96


@dataclass(frozen=True)
class DayFigures:
    """One role's messages per person on one day."""

    day: date
    people: int
    low: int
    median: float
    high: int
    over: int  # people above the role's bound that day
    total: int


# A digest's chart (DIGEST_CHARTS) is the picture that goes with the digest, sent right after
# its text: part of that one digest, not a message about something else.
PART_OF_DIGEST = "chart"


def counts(sim: Simulated) -> dict[tuple[int, date], list[Received]]:
    """The messages of each (chat, local day), a digest's chart counted with the digest."""
    out: dict[tuple[int, date], list[Received]] = defaultdict(list)
    for r in sim.received:
        if r.kind != PART_OF_DIGEST:
            out[(r.chat_id, r.day)].append(r)
    return out


def members(sim: Simulated, role: str) -> list[Person]:
    """The people of a role whose counts are checked: for liaisons, those whose unit owes
    reports (the others are reminded of nothing)."""
    return [
        p for p in sim.roster.people.values() if p.role == role and (role != "liaison" or p.owes)
    ]


def day_figures(
    sim: Simulated, role: str, days: Iterable[date], bound: int | None = None
) -> list[DayFigures]:
    """Min, median and max messages per person of `role` on each of `days`."""
    per = counts(sim)
    people = members(sim, role)
    limit = BOUND[role] if bound is None else bound
    out = []
    for day in days:
        n = [len(per.get((p.chat_id, day), ())) for p in people]
        out.append(
            DayFigures(
                day,
                len(n),
                min(n, default=0),
                statistics.median(n) if n else 0.0,
                max(n, default=0),
                sum(1 for x in n if x > limit),
                sum(n),
            )
        )
    return out


def workdays_of(first: date, last: date, calendar: WorkCalendar) -> list[date]:
    """The workdays from `first` to `last` (the statutory calendar with its 调休)."""
    out = []
    day = first
    while day <= last:
        if calendar.is_workday(day):
            out.append(day)
        day += timedelta(days=1)
    return out


def deadline_days(deadlines: Iterable[date], calendar: WorkCalendar) -> set[date]:
    """Each monthly deadline and the first workday after it."""
    out: set[date] = set()
    for d in deadlines:
        out.add(d)
        out.add(calendar.next_workday(d + timedelta(days=1)))
    return out


def label(day: date) -> str:
    """`04-24 Fri`."""
    return f"{day:%m-%d} {WEEKDAYS[day.weekday()]}"


def first_line(text: str) -> str:
    """A message's first non-empty line, shortened for the terminal."""
    line = next((x.strip() for x in text.splitlines() if x.strip()), "")
    width = 0
    for n, ch in enumerate(line):
        width += 2 if ord(ch) > 0x2E80 else 1
        if width > LINE_WIDTH:
            return line[:n] + "…"
    return line


@dataclass(frozen=True)
class Checked:
    """The four targets' measurements."""

    liaison_share: float  # person-days with ≤ 1 message, of all (owing liaisons)
    liaison_worst: float  # the lowest such share of one liaison
    liaison_person_days: int
    office_max: int
    leader_off: int  # leader person-workdays with other than exactly one message
    leader_days: int
    group_weeks_over: list[str]  # weeks above 1 + deadline days
    group_messages: int
    group_weeks: int


def check(sim: Simulated, workdays: Sequence[date], calendar: WorkCalendar) -> Checked:
    """Measure the month's workdays against the targets."""
    per = counts(sim)
    liaisons = members(sim, "liaison")
    shares = []
    ok_days = 0
    for p in liaisons:
        fine = sum(1 for d in workdays if len(per.get((p.chat_id, d), ())) <= 1)
        ok_days += fine
        shares.append(fine / len(workdays) if workdays else 1.0)
    office = [len(per.get((p.chat_id, d), ())) for p in members(sim, "office") for d in workdays]
    leaders = [len(per.get((p.chat_id, d), ())) for p in members(sim, "leader") for d in workdays]
    special = deadline_days(sim.roster.deadlines, calendar)
    over: list[str] = []
    weeks: dict[date, list[date]] = defaultdict(list)
    for d in workdays:
        weeks[d - timedelta(days=d.weekday())].append(d)
    group = members(sim, "group")
    for g in group:
        for monday, days in sorted(weeks.items()):
            plain = sum(len(per.get((g.chat_id, d), ())) for d in days if d not in special)
            on_deadline = [len(per.get((g.chat_id, d), ())) for d in days if d in special]
            if plain > 1 or any(n > 1 for n in on_deadline):
                over.append(f"week of {monday:%m-%d}: {plain} + {sum(on_deadline)}")
    person_days = len(liaisons) * len(workdays)
    return Checked(
        ok_days / person_days if person_days else 1.0,
        min(shares, default=1.0),
        person_days,
        max(office, default=0),
        sum(1 for n in leaders if n != 1),
        len(leaders),
        over,
        sum(len(per.get((g.chat_id, d), ())) for g in group for d in workdays),
        len(weeks),
    )


def verdicts(c: Checked) -> Verdicts:
    """One PASS/FAIL line per target."""
    v = Verdicts()
    v.check(
        "liaison",
        c.liaison_worst > 0.5,
        f"≤1 message on {c.liaison_share:.1%} of {c.liaison_person_days:,} person-days "
        f"(target: most days, for every liaison; the worst liaison: {c.liaison_worst:.0%} "
        "of the workdays)",
    )
    v.check(
        "office",
        c.office_max <= 2,
        f"≤2 on every workday (target); at most {c.office_max} a person on a workday",
    )
    v.check(
        "leader",
        c.leader_off == 0,
        f"exactly 1 per workday (target); {c.leader_days - c.leader_off} of "
        f"{c.leader_days} leader-workdays had exactly 1",
    )
    sent = f"{c.group_messages} message{'' if c.group_messages == 1 else 's'}"
    v.check(
        "group",
        not c.group_weeks_over,
        f"≤1 per week plus deadline days (target); {sent} in {c.group_weeks} weeks, "
        + (
            "every week within"
            if not c.group_weeks_over
            else "over: " + "; ".join(c.group_weeks_over)
        ),
    )
    return v


def busiest(
    sim: Simulated, role: str, days: Sequence[date]
) -> tuple[Person, date, list[Received]] | None:
    """The person-day of `role` with the most messages (the earliest of equals)."""
    per = counts(sim)
    best: tuple[int, date, int, Person] | None = None
    for p in members(sim, role):
        for d in days:
            n = len(per.get((p.chat_id, d), ()))
            if n and (best is None or (n, -d.toordinal()) > (best[0], -best[1].toordinal())):
                best = (n, d, p.chat_id, p)
    if best is None:
        return None
    _, day, chat, person = best
    return person, day, per[(chat, day)]


# --- The command ------------------------------------------------------------------------------


def month_bounds(month: str) -> tuple[date, date]:
    """The first and last day of `YYYY-MM`."""
    first = datetime.strptime(month, "%Y-%m").replace(tzinfo=SHANGHAI).date()
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first, following - timedelta(days=1)


def simulation_start(first: date) -> datetime:
    """The register's import: the first day of the month before (January: its own first)."""
    begin = first if first.month == 1 else first.replace(month=first.month - 1)
    return datetime.combine(begin, time(8, 0), tzinfo=SHANGHAI)


async def measure(
    month: str,
    *,
    seed: int,
    backend: str,
    nudges: bool,
    workdir: Path,
    overrides: Mapping[str, str] | None = None,
) -> tuple[Simulated, Settings]:
    """Simulate from the import to the end of `month` (with these settings changed)."""
    first, last = month_bounds(month)
    start = simulation_start(first)
    async with database(backend, workdir, "messages") as url:
        settings = load_settings(
            **{**(overrides or {}), "_env_file": None, "bot_token": "123456:BENCH"},
            database_url=url,
        )
        world = Month(url, settings, start=start)
        try:
            roster = await world.setup(seed)
            sittings, never = mixed_plan(seed)(roster, world.calendar, settings, start.date(), last)
            sim = await world.run(start.date(), last, sittings, nudges=nudges)
            sim.never = never
        finally:
            await world.close()
    return sim, settings


def report(sim: Simulated, month: str, calendar: WorkCalendar, *, note: str = "") -> int:
    """Print the tables, the busiest person-days and the verdicts; return the exit status."""
    first, last = month_bounds(month)
    workdays = workdays_of(first, last, calendar)
    in_month = [r for r in sim.received if first <= r.day <= last]
    people = sim.roster.people.values()
    owing = sum(1 for p in people if p.role == "liaison" and p.owes)
    liaisons = sum(1 for p in people if p.role == "liaison")
    print(
        f"Messages per person per workday, {month}: {len(workdays)} workdays; simulated "
        f"{sim.first} → {sim.last} (the register imported on the first day){note}"
    )
    print(
        f"Bound: {liaisons} liaisons (one per unit; {owing} of units that lead tasks and owe "
        f"reports), {len(members(sim, 'office'))} office staff, "
        f"{len(members(sim, 'leader'))} leaders, {len(members(sim, 'group'))} work group"
    )
    mix = ", ".join(f"{k} {v:.0%}" for k, v in MIX.items())
    print(
        f"Reporting ({mix} per unit and cycle): sittings early {sim.sittings[EARLY]}, on the "
        f"deadline day {sim.sittings[ON_DEADLINE]}, late {sim.sittings[LATE]}, "
        f"{NEVER} {sim.never}; {sum(sim.reports.values())} reports stored; "
        f"the office's 催办本单位 on {sim.nudged_units} unit-days"
    )
    kinds: dict[str, int] = defaultdict(int)
    for r in in_month:
        kinds[r.kind] += 1
    print(
        f"Delivered in {month}: "
        + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))
        + "; dropped by the sender's check over the run: "
        + (", ".join(f"{k} {n}" for k, n in sorted(sim.cancelled.items())) or "none")
    )
    others = [
        r
        for r in in_month
        if sim.roster.people[r.chat_id].role == "liaison" and not sim.roster.people[r.chat_id].owes
    ]
    off = [r for r in in_month if r.day not in set(workdays)]
    print(
        f"Liaisons of units that owe nothing got {len(others)} messages; "
        f"messages on days off: {len(off)}"
    )
    special = deadline_days(sim.roster.deadlines, calendar)
    headers = ["day", "people", "min", "median", "max", "over bound", "messages"]
    for role in ROLES:
        rows = [
            [
                label(f.day) + (" *" if f.day in special else ""),
                f.people,
                f.low,
                f"{f.median:g}",
                f.high,
                f.over,
                f.total,
            ]
            for f in day_figures(sim, role, workdays)
        ]
        scope = " of units that owe reports" if role == "liaison" else ""
        print_table(
            f"{role} ({len(members(sim, role))}{scope}; bound {BOUND[role]} a person a day; "
            "* a deadline day or the workday after)",
            headers,
            rows,
        )
    print("\nBusiest person-day per role")
    for role in ROLES:
        found = busiest(sim, role, workdays)
        if found is None:
            print(f"  {role}: no messages")
            continue
        person, day, got = found
        print(f"  {role} {person.name}, {label(day)}: {len(got)} message(s)")
        for r in got:
            print(f"    [{r.kind} {r.at:%H:%M}] {first_line(r.text)}")
    return verdicts(check(sim, workdays, calendar)).print()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the simulated month and print the figures."""
    parser = argparse.ArgumentParser(prog="python -m bench.messages", description=__doc__)
    parser.add_argument("--month", default=DEFAULT_MONTH, help="YYYY-MM of the 2026 register")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument(
        "--no-nudges", action="store_true", help="the office never presses 催办本单位"
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="change a setting of bot.config.Settings, e.g. escalation_messages=true",
    )
    args = parser.parse_args(argv)
    try:
        month_bounds(args.month)
    except ValueError:
        parser.error("--month: YYYY-MM, e.g. 2026-04")
    overrides: dict[str, str] = {}
    for item in args.set:
        name, _, value = item.partition("=")
        if name not in Settings.model_fields or not value:
            parser.error(f"--set {item}: not NAME=VALUE of a setting in bot.config.Settings")
        overrides[name] = value
    try:
        load_settings(_env_file=None, bot_token="123456:BENCH", **overrides)
    except ConfigError as exc:
        parser.error(str(exc))
    with tempfile.TemporaryDirectory(prefix="bench-messages-") as tmp:
        sim, _ = asyncio.run(
            measure(
                args.month,
                seed=args.seed,
                backend=args.db,
                nudges=not args.no_nudges,
                workdir=Path(tmp),
                overrides=overrides,
            )
        )
    note = f"; seed {args.seed}, {args.db}" + ("" if not args.no_nudges else ", no 催办")
    note += "".join(f", {name}={value}" for name, value in overrides.items())
    return report(sim, args.month, WorkCalendar(), note=note)


if __name__ == "__main__":
    sys.exit(main())
