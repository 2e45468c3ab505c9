"""`python -m bot calendar`: a month with workdays and deadlines; admin overrides with an audit."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.cli import COMMANDS, build_parser, main
from bot.config import ConfigError
from bot.domain.register import load_json
from bot.runtime.run import load_calendar
from db.models import AuditEntry, CalendarOverride
from db.register import import_register
from tests.harness import SEED, make_settings

ROOT = Path(__file__).resolve().parent.parent

# September 2026 by hand: Sun 20 Sep is a make-up workday for National Day, Fri 25 Sep is the
# Mid-Autumn Festival (off with the weekend after it), so the deadline of the 25th moves to
# Thursday the 24th.
SEPTEMBER_2026 = """\
2026年9月 工作日历
  周一    周二    周三    周四    周五    周六    周日
          1 班    2 班    3 班    4 班    5 休    6 休
  7 班    8 班    9 班   10 班   11 班   12 休   13 休
 14 班   15 班   16 班   17 班   18 班   19 休   20 补
 21 班   22 班   23 班  >24 班   25 假   26 假   27 假
 28 班   29 班   30 班

图例：班 工作日  补 调休上班  假 法定节假日  休 休息日
      * 管理员调整  > 报送截止日
本月工作日 22 天。
报送截止日：9月24日（周四）
特殊日期：
  9月20日（周日）  国庆节 调休上班
  9月25日（周五）至9月27日（周日）  中秋节 放假
"""


async def calendar(database_url: str, *argv: str) -> None:
    """Run `python -m bot calendar ...` in-process on `database_url`."""
    args = build_parser().parse_args(["calendar", *argv])
    await COMMANDS["calendar"].run(args, make_settings(database_url))


@pytest.fixture
async def imported(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """The 2026 register in the database."""
    async with sessionmaker() as session, session.begin():
        await import_register(session, load_json(SEED), now=datetime(2026, 1, 1, tzinfo=UTC))


def test_the_command_prints_a_month_with_its_deadlines(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    run = [sys.executable, "-m", "bot"]
    imported = subprocess.run(
        [*run, "import-tasks", str(SEED)], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert imported.returncode == 0, imported.stderr
    shown = subprocess.run(
        [*run, "calendar", "2026-09"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout == SEPTEMBER_2026


async def test_september_in_process(
    database_url: str, imported: None, capsys: pytest.CaptureFixture[str]
) -> None:
    await calendar(database_url, "2026-09")
    assert capsys.readouterr().out == SEPTEMBER_2026


async def test_october_2026_deadline_moves_off_a_sunday(
    database_url: str, imported: None, capsys: pytest.CaptureFixture[str]
) -> None:
    await calendar(database_url, "2026-10")
    out = capsys.readouterr().out
    assert "  5 假    6 假    7 假    8 班    9 班   10 补   11 休" in out
    assert " 19 班   20 班   21 班   22 班  >23 班   24 休   25 休" in out
    assert "报送截止日：10月23日（周五）" in out
    assert "10月1日（周四）至10月7日（周三）  国庆节 放假" in out


async def test_set_off_set_work_and_clear_are_stored_and_audited(
    database_url: str,
    engine: AsyncEngine,
    sessionmaker: async_sessionmaker[AsyncSession],
    capsys: pytest.CaptureFixture[str],
) -> None:
    await calendar(database_url, "--set-off", "2027-10-01", "--note", "国庆节")
    out = capsys.readouterr().out
    assert out.startswith("已将2027年10月1日（周五）设为休息日（国庆节）。")
    assert "                                  1 休*   2 休    3 休" in out
    assert "注意：缺少2027年法定节假日数据" in out
    await calendar(database_url, "--set-work", "2027-09-26")
    out = capsys.readouterr().out
    assert out.startswith("已将2027年9月26日（周日）设为工作日。")
    assert " 26 补*" in out and "9月26日（周日）  管理员设为工作日" in out
    # Setting a day again replaces the override.
    await calendar(database_url, "--set-work", "2027-10-01", "--note", "改为上班")
    await calendar(database_url, "--set-off", "2027-10-01", "--note", "国庆节")
    capsys.readouterr()

    async with sessionmaker() as session:
        rows = (
            await session.scalars(select(CalendarOverride).order_by(CalendarOverride.day))
        ).all()
        assert [(r.day, r.is_workday, r.note) for r in rows] == [
            (date(2027, 9, 26), True, None),
            (date(2027, 10, 1), False, "国庆节"),
        ]
    running = await load_calendar(engine)  # what a (re)starting bot loads
    assert running.is_workday(date(2027, 9, 26)) and not running.is_workday(date(2027, 10, 1))

    await calendar(database_url, "--clear", "2027-10-01")
    assert capsys.readouterr().out.startswith(
        "已清除2027年10月1日（周五）的管理员设置，恢复按法定日历计算。"
    )
    await calendar(database_url, "--clear", "2027-10-01")
    assert capsys.readouterr().out == "2027年10月1日（周五）没有管理员设置，未做修改。\n"
    async with sessionmaker() as session:
        assert await session.get(CalendarOverride, date(2027, 10, 1)) is None
        audits = (await session.scalars(select(AuditEntry).order_by(AuditEntry.id))).all()
    assert [(a.action, a.target, (a.detail or {}).get("is_workday")) for a in audits] == [
        ("calendar_override_set", "2027-10-01", False),
        ("calendar_override_set", "2027-09-26", True),
        ("calendar_override_set", "2027-10-01", True),
        ("calendar_override_set", "2027-10-01", False),
        ("calendar_override_cleared", "2027-10-01", None),
    ]
    assert audits[2].detail == {"is_workday": True, "note": "改为上班", "was_workday": False}
    assert audits[-1].detail == {"was_workday": False}
    assert all(a.actor_user_id is None for a in audits)


async def test_an_override_moves_the_deadline_shown(
    database_url: str, imported: None, capsys: pytest.CaptureFixture[str]
) -> None:
    await calendar(database_url, "--set-off", "2026-09-24", "--note", "全市停电检修")
    out = capsys.readouterr().out
    assert " 21 班   22 班  >23 班   24 休*  25 假   26 假   27 假" in out
    assert "报送截止日：9月23日（周三）" in out
    assert "9月24日（周四）  管理员设为休息日" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["2026-13"], "月份格式应为 YYYY-MM，例如 2026-09（收到：2026-13）"),
        (["九月"], "月份格式应为 YYYY-MM"),
        (
            ["--set-off", "2027-02-30"],
            "日期格式应为 YYYY-MM-DD，例如 2027-10-01（收到：2027-02-30）",
        ),
        (["--clear", "tomorrow"], "日期格式应为 YYYY-MM-DD"),
        (["2026-09", "--note", "国庆节"], "--note 只能与 --set-off 或 --set-work 一起使用"),
        (["--clear", "2027-10-01", "--note", "x"], "--note 只能与"),
    ],
)
async def test_bad_input_is_refused_before_anything_changes(
    database_url: str,
    sessionmaker: async_sessionmaker[AsyncSession],
    argv: list[str],
    message: str,
) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        await calendar(database_url, *argv)
    async with sessionmaker() as session:
        assert (await session.scalars(select(CalendarOverride))).all() == []
        assert (await session.scalars(select(AuditEntry))).all() == []


def test_main_turns_bad_input_into_exit_code_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    assert main(["calendar", "2026-13"]) == 2
    assert "月份格式应为 YYYY-MM" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["calendar", "--set-off", "2027-10-01", "--clear", "2027-10-01"])
    assert not (tmp_path / "x.db").exists()


def test_the_command_is_listed() -> None:
    assert "calendar" in COMMANDS
    assert "工作日历" in COMMANDS["calendar"].help
