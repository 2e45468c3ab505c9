"""Command line: `python -m bot <command>`. Each command is one small async function."""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import logging
import os
import re
import signal
import sys
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from telegram.error import InvalidToken

from bot.config import ConfigError, Settings, load_settings
from bot.domain import redaction
from bot.domain.model import Target

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SEED = ROOT / "seed_tasks.json"

Command = Callable[[argparse.Namespace, Settings], Coroutine[Any, Any, int]]


async def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    """Bring the database schema up to date."""
    from db.engine import create_engine
    from db.migrate import current_revision, upgrade

    engine = create_engine(settings.database_url)
    try:
        await upgrade(engine)
        print(f"数据库已是最新结构（版本 {await current_revision(engine)}）。")
    finally:
        await engine.dispose()
    return 0


def _sheet_year(path: Path, explicit: int | None) -> int:
    if explicit is not None:
        return explicit
    match = re.search(r"(20\d\d)", path.stem)
    if match:
        return int(match.group(1))
    raise ConfigError(f"无法从文件名 {path.name} 判断年度，请加参数 --year 2026")


async def cmd_import_tasks(args: argparse.Namespace, settings: Settings) -> int:
    """Import the year's task register (seed_tasks.json, or the office's .xlsx/.csv sheet)."""
    from bot.domain.clock import SystemClock
    from bot.domain.register import RegisterError, load_json, load_sheet
    from db.engine import create_engine, make_sessionmaker
    from db.migrate import upgrade
    from db.register import import_register

    path = Path(args.file) if args.file else DEFAULT_SEED
    if not path.is_file():
        print(f"找不到文件：{path}", file=sys.stderr)
        return 2
    try:
        if path.suffix.lower() == ".json":
            register = load_json(path)
        else:
            register = load_sheet(
                path, year=_sheet_year(path, args.year), extract_targets=_sheet_targets
            )
    except RegisterError as exc:
        print(f"导入失败，未做任何修改：{exc}", file=sys.stderr)
        return 1
    engine = create_engine(settings.database_url)
    try:
        await upgrade(engine)
        async with make_sessionmaker(engine)() as session, session.begin():
            result = await import_register(session, register, now=SystemClock(settings.tz).now())
    finally:
        await engine.dispose()
    print(
        f"{register.year}年任务导入完成：新增{len(result.tasks_created)}项，"
        f"更新{len(result.tasks_updated)}项，未变{result.tasks_unchanged}项；"
        f"新增单位{len(result.units_created)}个，新增领导{len(result.leaders_created)}人。"
    )
    if result.tasks_updated:
        print("已更新的任务序号：" + "、".join(str(n) for n in result.tasks_updated))
    if result.tasks_not_in_file:
        print(
            "注意：以下任务在数据库中但不在本文件中（已保留，未删除）："
            + "、".join(str(n) for n in result.tasks_not_in_file)
        )
    return 0


def _sheet_targets(text: str) -> list[Target]:
    """The notice parser's target extraction, so a sheet's tasks get targets too."""
    from bot.domain.notice import NoticeError, extract_targets

    try:
        found, _excluded = extract_targets(text)
    except NoticeError:
        # A number the rules cannot place: import the task without targets rather than refuse.
        return []
    return [
        Target(
            metric=t["metric"],
            kind=t["kind"],
            value=float(t["value"]),
            unit=t["unit"],
            comparator=t["comparator"],
            source=t["source"],
        )
        for t in found
    ]


async def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    """Run the bot until interrupted; without a token, run the local sandbox."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    if settings.sandbox:
        from bot.sandbox import run_sandbox

        print("未配置 BOT_TOKEN：启动本地沙盒（不连接 Telegram）。")
        await run_sandbox(settings)
        return 0
    from bot.runtime.run import BotRuntime, tune_collector

    if await _import_seed_if_empty(settings):
        print(f"数据库中没有任务，已导入 {DEFAULT_SEED.name}。")
    runtime = BotRuntime(settings)
    await runtime.start()
    tune_collector()
    try:
        link = await runtime.first_admin_invite()
        if link:
            print("尚无管理员。请用管理员本人的 Telegram 打开以下链接完成绑定（仅可使用一次）：")
            print(link)
        print(f"督办助手已启动：@{runtime.services.bot_username if runtime.services else ''}")
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
    finally:
        await runtime.stop()
    return 0


async def _import_seed_if_empty(settings: Settings) -> bool:
    """A new installation starts with the register beside the code."""
    from bot.domain.clock import SystemClock
    from bot.domain.register import load_json
    from db.engine import create_engine, make_sessionmaker
    from db.migrate import upgrade
    from db.register import import_register
    from db.tasks import latest_year

    engine = create_engine(settings.database_url)
    try:
        await upgrade(engine)
        async with make_sessionmaker(engine)() as session, session.begin():
            if await latest_year(session) is not None or not DEFAULT_SEED.is_file():
                return False
            now = SystemClock(settings.tz).now()
            await import_register(session, load_json(DEFAULT_SEED), now=now)
    finally:
        await engine.dispose()
    return True


async def _bot_username(settings: Settings) -> str:
    """The bot's username for links: from settings, or asked from Telegram with the token."""
    if settings.bot_username:
        return settings.bot_username.lstrip("@")
    if settings.sandbox:
        raise ConfigError("生成邀请链接需要 BOT_TOKEN 或 BOT_USERNAME。")
    from telegram import Bot

    token = settings.bot_token.get_secret_value() if settings.bot_token else ""
    base = settings.telegram_base_url
    base_url = f"{base.rstrip('/')}/bot" if base else "https://api.telegram.org/bot"
    async with Bot(token, base_url=base_url) as bot:
        return bot.username


async def cmd_invite(args: argparse.Namespace, settings: Settings) -> int:
    """Create invite links (one, or one per unit into a CSV for bulk onboarding)."""
    from datetime import timedelta

    from bot.domain.cells import csv_field
    from bot.domain.clock import SystemClock
    from bot.domain.roles import LeaderRef, Role, UnitRef, invite_link
    from db import people
    from db.engine import create_engine, make_sessionmaker
    from db.migrate import upgrade

    username = await _bot_username(settings)
    ttl = timedelta(hours=settings.invite_ttl_hours)
    now = SystemClock(settings.tz).now()
    engine = create_engine(settings.database_url)
    try:
        await upgrade(engine)
        async with make_sessionmaker(engine)() as session, session.begin():
            if args.all_units:
                units = await people.reportable_units(session)
                if not units:
                    print(
                        "数据库中没有单位，请先导入任务表（python -m bot import-tasks）。",
                        file=sys.stderr,
                    )
                    return 1
                rows = []
                for each in units:
                    invite = await people.create_invite(
                        session, role=Role.LIAISON, now=now, ttl=ttl, unit=each,
                        keep_older=args.keep,
                    )  # fmt: skip
                    rows.append((each.name, invite_link(username, invite.code), invite.expires_at))
                out = io.StringIO()
                writer = csv.writer(out)
                writer.writerow(["单位", "邀请链接", "有效期至"])
                for name, link, expires in rows:
                    expiry = expires.astimezone(settings.tz).isoformat()
                    writer.writerow([csv_field(name), csv_field(link), expiry])
                # utf-8-sig so that Excel opens the Chinese names correctly.
                await asyncio.to_thread(
                    Path(args.output).write_text, out.getvalue(), encoding="utf-8-sig"
                )
                print(f"已为 {len(rows)} 个单位生成联络员邀请链接：{args.output}")
                return 0
            unit: UnitRef | None = None
            leader: LeaderRef | None = None
            role = Role.ADMIN if args.admin else Role.OFFICE if args.office else Role.LIAISON
            if args.unit:
                unit = await people.find_unit(session, args.unit)
                if unit is None:
                    print(f"找不到单位：{args.unit}", file=sys.stderr)
                    return 1
            if args.leader:
                role = Role.LEADER
                leader = await people.find_leader(session, args.leader)
                if leader is None:
                    print(f"找不到领导：{args.leader}", file=sys.stderr)
                    return 1
            invite = await people.create_invite(
                session,
                role=role,
                now=now,
                ttl=ttl,
                unit=unit,
                leader=leader,
                deputy=bool(args.deputy and unit),
                keep_older=args.keep,
            )
    finally:
        await engine.dispose()
    expires = invite.expires_at.astimezone(settings.tz)
    print(f"邀请链接（仅可使用一次，{expires:%Y-%m-%d %H:%M}前有效）：")
    print(invite_link(username, invite.code))
    return 0


async def cmd_invites(args: argparse.Namespace, settings: Settings) -> int:
    """List the invite links that can still bind someone, or revoke some (or all) of them."""
    from bot.domain.clock import SystemClock
    from bot.domain.roles import ROLE_LABELS
    from db import people
    from db.engine import create_engine, make_sessionmaker
    from db.migrate import upgrade

    now = SystemClock(settings.tz).now()
    engine = create_engine(settings.database_url)
    try:
        await upgrade(engine)
        async with make_sessionmaker(engine)() as session, session.begin():
            if args.revoke or args.revoke_all:
                ids = None if args.revoke_all else args.revoke
                count = await people.revoke_invites(session, now=now, by=None, ids=ids)
                print(f"已撤销 {count} 个邀请链接。")
                return 0 if count or args.revoke_all else 1
            found = await people.open_invites(session, now)
    finally:
        await engine.dispose()
    if not found:
        print("没有未使用的有效邀请链接。")
        return 0
    print("编号  身份      对象            有效期至")
    for each in found:
        who = ROLE_LABELS[each.role] + ("（副）" if each.deputy else "")
        expires = each.expires_at.astimezone(settings.tz)
        print(f"{each.id:<5} {who:<8} {each.target or '—':<14} {expires:%Y-%m-%d %H:%M}")
    return 0


async def cmd_build_seed(args: argparse.Namespace, settings: Settings) -> int:
    """Turn the notice's text into seed_tasks.json (python -m bot.domain.notice does the work)."""
    from bot.domain import notice

    argv = [args.notice] if args.notice else []
    if args.output:
        argv += ["-o", args.output]
    if args.check:
        argv.append("--check")
    return notice.main(argv)


async def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    """Write the ledger (督查台账) of the working year (or --year) to an .xlsx file."""
    from bot import texts
    from bot.domain.clock import SystemClock
    from bot.runtime.run import load_calendar
    from bot.services.export import export_ledger
    from db.engine import create_engine, make_sessionmaker
    from db.migrate import upgrade

    engine = create_engine(settings.database_url)
    try:
        await upgrade(engine)
        calendar = await load_calendar(engine)
        now = SystemClock(settings.tz).now()
        async with make_sessionmaker(engine)() as session:
            ledger = await export_ledger(
                session, now=now, settings=settings, calendar=calendar, year=args.year
            )
    finally:
        await engine.dispose()
    if ledger is None:
        print(texts.EXPORT_EMPTY, file=sys.stderr)
        return 1
    path = Path(args.output) if args.output else Path(texts.ledger_filename(ledger.as_of))
    path.write_bytes(ledger.data)
    print(f"已导出{ledger.year}年督查台账（{ledger.tasks}项任务）：{path}")
    return 0


async def cmd_bulletin(args: argparse.Namespace, settings: Settings) -> int:
    """Write the monthly 通报 (Word) of --month (default: the last month with a passed deadline)."""
    from bot import texts
    from bot.domain.clock import SystemClock
    from bot.runtime.run import load_calendar
    from bot.services.bulletin import monthly_bulletin
    from db.engine import create_engine, make_sessionmaker
    from db.migrate import upgrade

    now = SystemClock(settings.tz).now()
    month = None
    if args.month:
        year, number = _parse_month(args.month, now.date())
        month = date(year, number, 1)
    engine = create_engine(settings.database_url)
    try:
        await upgrade(engine)
        calendar = await load_calendar(engine)
        async with make_sessionmaker(engine)() as session:
            made = await monthly_bulletin(
                session, now=now, settings=settings, calendar=calendar, month=month
            )
    finally:
        await engine.dispose()
    if made is None:
        print(texts.BULLETIN_EMPTY, file=sys.stderr)
        return 1
    path = (
        Path(args.output)
        if args.output
        else Path(texts.bulletin_filename(made.year, made.month.month))
    )
    path.write_bytes(made.data)
    print(
        f"已生成{made.year}年{made.month.month}月份通报（红灯{made.red}项、黄灯{made.yellow}项）：{path}"
    )
    return 0


async def cmd_close_year(args: argparse.Namespace, settings: Settings) -> int:
    """Close a year (the office's /closeyear), or open it again with --reopen."""
    from bot import texts
    from bot.domain.clock import SystemClock
    from bot.services import years
    from db.engine import create_engine, make_sessionmaker
    from db.migrate import upgrade

    engine = create_engine(settings.database_url)
    try:
        await upgrade(engine)
        now = SystemClock(settings.tz).now()
        async with make_sessionmaker(engine)() as session, session.begin():
            if args.reopen:
                done = await years.reopen_year(session, args.year, now, actor=None)
                message = (
                    texts.year_reopened(args.year) if done else texts.year_not_closed(args.year)
                )
            else:
                working = await years.close_year(session, args.year, now, actor=None)
                done = working is not None
                message = (
                    texts.year_closed(args.year, working)
                    if working is not None
                    else texts.year_not_closable(args.year)
                )
    finally:
        await engine.dispose()
    print(message, file=sys.stdout if done else sys.stderr)
    return 0 if done else 1


def _parse_day(value: str) -> date:
    """An ISO date from the command line, or a one-line error."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"日期格式应为 YYYY-MM-DD，例如 2027-10-01（收到：{value}）") from None


def _parse_month(value: str | None, today: date) -> tuple[int, int]:
    """YYYY-MM (default: this month), or a one-line error."""
    if value is None:
        return today.year, today.month
    match = re.fullmatch(r"(\d{4})-(\d{1,2})", value.strip())
    if match is None or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1:
        raise ConfigError(f"月份格式应为 YYYY-MM，例如 2026-09（收到：{value}）")
    return int(match.group(1)), int(match.group(2))


async def cmd_calendar(args: argparse.Namespace, settings: Settings) -> int:
    """Show a month of the work calendar, or set or clear an admin's override of one day."""
    from sqlalchemy import select

    from bot import texts
    from bot.domain.calendar_view import render_month
    from bot.domain.clock import SystemClock
    from bot.domain.deadlines import rule_for, year_cycles
    from bot.runtime.run import load_calendar
    from bot.services.calendar import change_day
    from db.engine import create_engine, make_sessionmaker
    from db.migrate import upgrade
    from db.models import Task

    now = SystemClock(settings.tz).now()
    change = args.set_off or args.set_work or args.clear
    day = _parse_day(change) if change else None
    if args.note is not None and (day is None or args.clear):
        raise ConfigError("--note 只能与 --set-off 或 --set-work 一起使用")
    note = (args.note or "").strip()[:200] or None
    year, month = (day.year, day.month) if day else _parse_month(args.month, now.date())
    engine = create_engine(settings.database_url)
    try:
        await upgrade(engine)
        if day is not None:
            is_workday = None if args.clear else bool(args.set_work)
            async with make_sessionmaker(engine)() as session, session.begin():
                was = await change_day(session, day, is_workday=is_workday, note=note, now=now)
            if is_workday is None and was is None:
                print(f"{texts.day_with_year(day)}没有管理员设置，未做修改。")
                return 0
            if is_workday is None:
                print(f"已清除{texts.day_with_year(day)}的管理员设置，恢复按法定日历计算。")
            else:
                kind = "工作日" if is_workday else "休息日"
                print(
                    f"已将{texts.day_with_year(day)}设为{kind}"
                    + (f"（{note}）" if note else "")
                    + "。运行中的机器人将在下一次计划任务（约一分钟内）按新日历计算。"
                )
        calendar = await load_calendar(engine)
        async with make_sessionmaker(engine)() as session:
            tasks = (await session.scalars(select(Task).where(Task.year == year))).all()
            rules = {rule_for(t.cycle_kind, t.cycle_dates, settings) for t in tasks}
    finally:
        await engine.dispose()
    deadlines = {
        c.deadline
        for rule in rules
        for c in year_cycles(rule, year, settings, calendar)
        if c.deadline.month == month
    }
    print(render_month(year, month, calendar, deadlines=deadlines), end="")
    return 0


@dataclass(frozen=True)
class CliCommand:
    """One sub-command: what it runs, its help line, and its arguments."""

    run: Command
    help: str
    arguments: Callable[[argparse.ArgumentParser], None] | None = None
    needs_settings: bool = True


def _import_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", nargs="?", help="seed_tasks.json (default) or .xlsx/.csv")
    p.add_argument("--year", type=int, help="year of a sheet's tasks")


def _invite_args(p: argparse.ArgumentParser) -> None:
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--unit", help="a unit's liaison, e.g. 发改局")
    who.add_argument("--leader", help="a supervising leader, e.g. 吴振强")
    who.add_argument("--office", action="store_true", help="supervision office staff")
    who.add_argument("--admin", action="store_true", help="an administrator")
    who.add_argument("--all-units", action="store_true", help="one liaison link per unit (CSV)")
    p.add_argument("--deputy", action="store_true", help="a deputy liaison (with --unit)")
    p.add_argument("-o", "--output", default="invites.csv", help="CSV file for --all-units")
    p.add_argument(
        "--keep", action="store_true", help="keep the older open links of the same role and unit"
    )


def _invites_args(p: argparse.ArgumentParser) -> None:
    change = p.add_mutually_exclusive_group()
    change.add_argument("--revoke", type=int, nargs="+", metavar="ID", help="revoke these links")
    change.add_argument("--revoke-all", action="store_true", help="revoke every open link")


def _seed_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "notice", nargs="?", help="the notice as text (default: register/notice-2026.txt)"
    )
    p.add_argument("-o", "--output", help="output file (default: seed_tasks.json)")
    p.add_argument("--check", action="store_true", help="only check the file is up to date")


def _export_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("-o", "--output", help="output file (default: 督查台账-<date>.xlsx)")
    p.add_argument("--year", type=int, help="the register's year (default: the working year)")


def _bulletin_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--month", help="YYYY-MM (default: the last month with a passed deadline)")
    p.add_argument("-o", "--output", help="output file (default: 月度通报-<YYYY-MM>.docx)")


def _close_year_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("year", type=int, help="the year to close, e.g. 2026")
    p.add_argument("--reopen", action="store_true", help="open a closed year again")


def _calendar_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("month", nargs="?", help="YYYY-MM (default: this month)")
    change = p.add_mutually_exclusive_group()
    change.add_argument("--set-off", metavar="YYYY-MM-DD", help="make a day a day off")
    change.add_argument("--set-work", metavar="YYYY-MM-DD", help="make a day a workday (调休)")
    change.add_argument("--clear", metavar="YYYY-MM-DD", help="drop a day's override")
    p.add_argument("--note", help="why, e.g. 国庆节 (with --set-off or --set-work)")


COMMANDS: dict[str, CliCommand] = {
    "run": CliCommand(cmd_run, "启动机器人（未配置 BOT_TOKEN 时启动本地沙盒）/ run the bot"),
    "migrate": CliCommand(cmd_migrate, "升级数据库结构 / bring the database schema up to date"),
    "import-tasks": CliCommand(
        cmd_import_tasks, "导入年度任务表 / import the task register", _import_args
    ),
    "invite": CliCommand(cmd_invite, "生成邀请链接 / create invite links", _invite_args),
    "invites": CliCommand(
        cmd_invites, "查看或撤销未使用的邀请链接 / list or revoke open links", _invites_args
    ),
    "build-seed": CliCommand(
        cmd_build_seed, "由通知全文生成 seed_tasks.json / build the register", _seed_args, False
    ),
    "export": CliCommand(cmd_export, "导出督查台账（Excel）/ export the ledger", _export_args),
    "bulletin": CliCommand(
        cmd_bulletin, "生成月度通报（Word）/ write the monthly circular", _bulletin_args
    ),
    "close-year": CliCommand(
        cmd_close_year, "结束年度督办（或 --reopen 重新开启）/ close a year", _close_year_args
    ),
    "calendar": CliCommand(
        cmd_calendar, "工作日历：查看某月、设置调休 / the work calendar", _calendar_args
    ),
}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with one sub-command per entry of COMMANDS."""
    parser = argparse.ArgumentParser(prog="python -m bot", description="督办助手 / duban bot")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, command in COMMANDS.items():
        p = sub.add_parser(name, help=command.help, description=command.help)
        if command.arguments is not None:
            command.arguments(p)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `python -m bot`."""
    # Whatever the bot writes (the database, exported ledgers, invite links) is for its owner
    # only: invites.csv holds live links, the ledger every unit's reports.
    os.umask(0o077)
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 0
    command = COMMANDS[args.command]
    try:
        settings = load_settings() if command.needs_settings else Settings(_env_file=None)
        token = settings.bot_token.get_secret_value() if settings.bot_token else ""
        redaction.install([token])
        return asyncio.run(command.run(args, settings))
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except InvalidToken:
        # python-telegram-bot's message quotes the token; ours does not.
        print(
            "配置错误 / configuration error: BOT_TOKEN 被 Telegram 拒绝，请核对令牌。",
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception:
        # Through logging, so the traceback is redacted (bot.domain.redaction) like every line.
        logging.getLogger("bot").exception("python -m bot %s failed", args.command)
        return 1
