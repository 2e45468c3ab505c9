"""The command line: help, import, invites, seed check — as an admin would type them."""

from __future__ import annotations

import csv
import json
import os
import sqlite3
import stat
from pathlib import Path

import pytest

from bot.cli import main
from db.engine import create_engine

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A fresh SQLite file and a bot username, no token, no .env."""
    monkeypatch.chdir(tmp_path)
    db = tmp_path / "cli.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{db}")
    monkeypatch.setenv("BOT_USERNAME", "nanan_duban_bot")
    monkeypatch.delenv("BOT_TOKEN", raising=False)
    return tmp_path


def test_help_lists_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for command in ("run", "import-tasks", "invite", "build-seed", "migrate"):
        assert command in out


def test_import_twice_then_invites(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import-tasks", str(ROOT / "seed_tasks.json")]) == 0
    first = capsys.readouterr().out
    assert "新增88项" in first
    assert main(["import-tasks", str(ROOT / "seed_tasks.json")]) == 0
    second = capsys.readouterr().out
    assert "新增0项，更新0项，未变88项" in second

    assert main(["invite", "--unit", "发改局"]) == 0
    out = capsys.readouterr().out
    assert "https://t.me/nanan_duban_bot?start=" in out

    assert main(["invite", "--unit", "霞美镇政府", "--deputy"]) == 0  # an alias resolves
    assert "start=" in capsys.readouterr().out

    assert main(["invite", "--leader", "吴振强"]) == 0
    assert main(["invite", "--office"]) == 0
    assert main(["invite", "--admin"]) == 0
    capsys.readouterr()

    assert main(["invite", "--unit", "不存在的局"]) == 1
    assert "找不到单位：不存在的局" in capsys.readouterr().err
    assert main(["invite", "--leader", "无名氏"]) == 1

    assert main(["invite", "--all-units", "-o", "links.csv"]) == 0
    with (env / "links.csv").open(encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["单位", "邀请链接", "有效期至"]
    names = [r[0] for r in rows[1:]]
    seed = json.loads((ROOT / "seed_tasks.json").read_text(encoding="utf-8"))
    assert sorted(names) == sorted(u["name"] for u in seed["units"])
    links = [r[1] for r in rows[1:]]
    assert len(set(links)) == len(links)


def test_malformed_sheet_refused_and_nothing_imported(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sheet = env / "tasks-2026.csv"
    sheet.write_text(
        "序号,具体目标任务,牵头单位,责任单位,市政府分管（挂钩）领导\n"
        ",一、2026年主要预期目标,,,\n"
        "1,地区生产总值增长5%,发改局,,吴振强\n"
        "二,文本,发改局,,吴振强\n",
        encoding="utf-8",
    )
    assert main(["import-tasks", str(sheet)]) == 1
    err = capsys.readouterr().err
    assert "导入失败，未做任何修改：tasks-2026.csv: 第4行「序号」列: 「二」不是有效序号" in err
    assert main(["invite", "--all-units", "-o", "x.csv"]) == 1  # still no units at all


def test_sheet_import_gets_targets(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sheet = env / "tasks-2026.csv"
    sheet.write_text(
        "序号,具体目标任务,牵头单位,责任单位,市政府分管（挂钩）领导\n"
        ",一、2026年主要预期目标,,,\n"
        "6,完成投资800亿元以上,发改局,,吴振强\n",
        encoding="utf-8",
    )
    assert main(["import-tasks", str(sheet)]) == 0
    assert "新增1项" in capsys.readouterr().out
    with sqlite3.connect(env / "cli.db") as conn:
        rows = conn.execute("SELECT metric, value, unit, comparator FROM targets").fetchall()
    assert rows == [("完成投资", 800.0, "亿元", "at_least")]


def test_seed_file_is_up_to_date(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["build-seed", "--check", "-o", str(ROOT / "seed_tasks.json")]) == 0


def test_bad_setting_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TIMEZONE", "Nowhere/City")
    assert main(["migrate"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "TIMEZONE" in err


def test_files_the_bot_writes_are_private(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The database (and its WAL), invite links and the exported ledger: 0600 (issue 19, #4)."""
    old = os.umask(0o022)  # the usual umask, under which they were 0644
    try:
        assert main(["import-tasks", str(ROOT / "seed_tasks.json")]) == 0
        assert main(["invite", "--all-units", "-o", "links.csv"]) == 0
        assert main(["export", "-o", "ledger.xlsx"]) == 0
        assert main(["bulletin", "--month", "2026-03", "-o", "bulletin.docx"]) == 0
    finally:
        os.umask(old)
    database = Path(os.environ["DATABASE_URL"].split("///", 1)[1])
    for path in (database, Path("links.csv"), Path("ledger.xlsx"), Path("bulletin.docx")):
        assert path.exists() and stat.S_IMODE(path.stat().st_mode) == 0o600, path
    wal = database.with_name(database.name + "-wal")
    if wal.exists():
        assert stat.S_IMODE(wal.stat().st_mode) == 0o600


def test_an_existing_world_readable_database_is_made_private(tmp_path: Path) -> None:
    database = tmp_path / "old.db"
    database.write_bytes(b"")
    database.chmod(0o644)
    create_engine(f"sqlite+aiosqlite:///{database}")
    assert stat.S_IMODE(database.stat().st_mode) == 0o600


def _open_links(capsys: pytest.CaptureFixture[str]) -> list[str]:
    assert main(["invites"]) == 0
    return [line for line in capsys.readouterr().out.splitlines()[1:] if line.strip()]


def test_new_links_replace_old_ones_and_can_be_revoked(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`invite --all-units` twice leaves one open link per unit, a second admin link replaces
    the first, --keep keeps the older, and links can be listed and revoked (issue 19, #3)."""
    assert main(["import-tasks", str(ROOT / "seed_tasks.json")]) == 0
    assert main(["invite", "--all-units", "-o", "a.csv"]) == 0
    assert main(["invite", "--all-units", "-o", "b.csv"]) == 0
    capsys.readouterr()
    assert len(_open_links(capsys)) == 80
    for _ in range(2):
        assert main(["invite", "--admin"]) == 0
    assert main(["invite", "--unit", "发改局", "--keep"]) == 0
    capsys.readouterr()
    links = _open_links(capsys)
    assert sum("管理员" in line for line in links) == 1
    assert sum("发改局" in line for line in links) == 2  # --keep kept the earlier one
    first = links[0].split()[0]
    assert main(["invites", "--revoke", first]) == 0
    assert "已撤销 1 个邀请链接" in capsys.readouterr().out
    assert len(_open_links(capsys)) == len(links) - 1
    assert main(["invites", "--revoke-all"]) == 0
    capsys.readouterr()
    assert main(["invites"]) == 0
    assert "没有未使用的有效邀请链接" in capsys.readouterr().out
