"""Command line: `python -m bot <command>`. Each command is one small async function."""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

from bot.config import ConfigError, Settings, load_settings
from bot.register import TargetData

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
    from bot.clock import SystemClock
    from bot.register import RegisterError, load_json, load_sheet
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


def _sheet_targets(text: str) -> list[TargetData]:
    """The notice parser's target extraction, so a sheet's tasks get targets too."""
    from bot.notice import NoticeError, extract_targets

    try:
        found, _excluded = extract_targets(text)
    except NoticeError:
        # A number the rules cannot place: import the task without targets rather than refuse.
        return []
    return [
        TargetData(
            metric=t["metric"],
            kind=t["kind"],
            value=float(t["value"]),
            unit=t["unit"],
            comparator=t["comparator"],
            source=t["source"],
        )
        for t in found
    ]


COMMANDS: dict[str, tuple[Command, str]] = {
    "migrate": (cmd_migrate, "升级数据库结构 / bring the database schema up to date"),
    "import-tasks": (cmd_import_tasks, "导入年度任务表 / import the task register"),
}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with one sub-command per entry of COMMANDS."""
    parser = argparse.ArgumentParser(prog="python -m bot", description="督办助手 / duban bot")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (_, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        if name == "import-tasks":
            p.add_argument("file", nargs="?", help="seed_tasks.json (default) or .xlsx/.csv")
            p.add_argument("--year", type=int, help="year of a sheet's tasks")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `python -m bot`."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 0
    try:
        settings = load_settings()
        command, _ = COMMANDS[args.command]
        return asyncio.run(command(args, settings))
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return 2
