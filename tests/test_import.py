"""Importing a register: idempotent, corrections update in place, bad sheets change nothing."""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import json
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain import model
from bot.domain.model import TaskInfo
from bot.domain.register import (
    COLUMNS,
    MAX_ROWS,
    AliasData,
    GroupData,
    Register,
    RegisterError,
    TaskData,
    UnitData,
    load_json,
    load_sheet,
    split_names,
)
from db import views
from db.models import (
    Base,
    Leader,
    Report,
    Target,
    Task,
    TaskLeader,
    TaskUnit,
    Unit,
    UnitAlias,
    UnitGroupMember,
)
from db.register import import_register
from db.register_cache import RegisterCache
from tests.harness import SEED

NOW = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)
LATER = datetime(2026, 2, 5, 1, 0, tzinfo=UTC)


def small_register(text2: str = "新建公共充电桩230个") -> Register:
    return Register(
        year=2026,
        tasks=(
            TaskData(
                no=1,
                section="一、2026年主要预期目标",
                subsection=None,
                text="地区生产总值增长5%",
                lead_units=("发改局",),
                responsible_units=("各乡镇（街道）", "开发区"),
                leaders=("吴振强",),
                targets=(model.Target("地区生产总值", "growth", 5, "%", "at_least", "增长5%"),),
            ),
            TaskData(
                no=2,
                section="二、2026年重点工作任务",
                subsection="（一）全力激发经济动能",
                text=text2,
                lead_units=("发改局", "工信局"),
                responsible_units=("霞美镇政府",),
                leaders=("吴振强", "易辉泉"),
            ),
        ),
        units=(
            UnitData("发改局", "department"),
            UnitData("工信局", "department"),
            UnitData("霞美镇", "town"),
            UnitData("溪美街道", "town"),
            UnitData("雪峰开发区", "other"),
        ),
        groups=(GroupData("各乡镇（街道）", ("霞美镇", "溪美街道"), "public divisions"),),
        aliases=(
            AliasData("霞美镇政府", "霞美镇", "town government"),
            AliasData("开发区", "雪峰开发区", "the notice addresses 雪峰开发区管委会"),
        ),
        leaders=("吴振强", "易辉泉"),
    )


async def snapshot(sm: async_sessionmaker[AsyncSession]) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every register table, for before/after comparisons."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    async with sm() as s:
        for table in Base.metadata.sorted_tables:
            rows = (await s.execute(select(table))).all()
            out[table.name] = sorted((tuple(r) for r in rows), key=repr)
    return out


async def run_import(
    sm: async_sessionmaker[AsyncSession], reg: Register, now: datetime = NOW
) -> Any:
    async with sm() as s, s.begin():
        return await import_register(s, reg, now=now)


async def test_import_creates_everything(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    result = await run_import(sessionmaker, small_register())
    assert result.tasks_created == [1, 2]
    async with sessionmaker() as s:
        task1 = await s.scalar(select(Task).where(Task.no == 1))
        assert task1 is not None
        labels = (
            await s.execute(
                select(TaskUnit.role, TaskUnit.label, Unit.name)
                .join(Unit, Unit.id == TaskUnit.unit_id)
                .where(TaskUnit.task_id == task1.id)
                .order_by(TaskUnit.role, TaskUnit.position)
            )
        ).all()
        assert [tuple(r) for r in labels] == [
            ("lead", "发改局", "发改局"),
            ("responsible", "各乡镇（街道）", "各乡镇（街道）"),
            ("responsible", "开发区", "雪峰开发区"),
        ]
        group = await s.scalar(select(Unit).where(Unit.name == "各乡镇（街道）"))
        assert group is not None
        assert group.kind == "group"
        members = (
            await s.scalars(
                select(Unit.name)
                .join(UnitGroupMember, UnitGroupMember.member_id == Unit.id)
                .where(UnitGroupMember.group_id == group.id)
            )
        ).all()
        assert sorted(members) == ["溪美街道", "霞美镇"]
        target = await s.scalar(select(Target))
        assert target is not None
        assert (target.metric, target.value, target.unit) == ("地区生产总值", 5.0, "%")
        leaders = (
            await s.scalars(
                select(Leader.name)
                .join(TaskLeader, TaskLeader.leader_id == Leader.id)
                .join(Task, Task.id == TaskLeader.task_id)
                .where(Task.no == 2)
                .order_by(TaskLeader.position)
            )
        ).all()
        assert list(leaders) == ["吴振强", "易辉泉"]
        alias = await s.scalar(select(UnitAlias).where(UnitAlias.alias == "霞美镇政府"))
        assert alias is not None


async def test_second_import_changes_nothing(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await run_import(sessionmaker, small_register())
    before = await snapshot(sessionmaker)
    result = await run_import(sessionmaker, small_register(), now=LATER)
    assert not result.changed
    assert result.tasks_unchanged == 2
    assert await snapshot(sessionmaker) == before


async def test_corrected_register_updates_task_and_keeps_reports(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await run_import(sessionmaker, small_register())
    async with sessionmaker() as s, s.begin():
        task = await s.scalar(select(Task).where(Task.no == 2))
        unit = await s.scalar(select(Unit).where(Unit.name == "发改局"))
        assert task is not None
        assert unit is not None
        s.add(
            Report(
                task_id=task.id,
                unit_id=unit.id,
                cycle_key="2026-01",
                text="已建成充电桩50个",
                source_key="test:1",
                created_at=NOW,
            )
        )
    result = await run_import(sessionmaker, small_register("新建公共充电桩250个"), now=LATER)
    assert result.tasks_updated == [2]
    async with sessionmaker() as s:
        task = await s.scalar(select(Task).where(Task.no == 2))
        assert task is not None
        assert task.text == "新建公共充电桩250个"
        assert task.updated_at == LATER
        reports = (await s.scalars(select(Report))).all()
        assert len(reports) == 1
        assert reports[0].task_id == task.id


@pytest.mark.parametrize(
    ("cell", "names"),
    [
        ("发改局\n财政局", ("发改局", "财政局")),
        ("各乡镇（街道、开发区）", ("各乡镇（街道、开发区）",)),
        ("各相关单位\n\n各乡镇（街道、开发区）", ("各相关单位", "各乡镇（街道、开发区）")),
        ("周  全\n易辉泉", ("周全", "易辉泉")),
        ("各乡镇(街道、开发区)、发改局", ("各乡镇(街道、开发区)", "发改局")),
        ("", ()),
        ("  ", ()),
        ("住建局 ", ("住建局",)),
    ],
)
def test_split_names(cell: str, names: tuple[str, ...]) -> None:
    assert split_names(cell) == names


def write_xlsx(path: Path, rows: list[list[Any]]) -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    for row in rows:
        ws.append(row)
    wb.save(path)


GOOD_ROWS: list[list[Any]] = [
    ["2026年《政府工作报告》重点工作目标责任分解表"],
    list(COLUMNS),
    ["", "一、2026年主要预期目标", "", "", ""],
    [1, "地区生产总值增长5%", "发改局", "各乡镇（街道）、开发区", "吴振强"],
    ["", "二、2026年重点工作任务", "", "", ""],
    ["", "（一）全力激发经济动能", "", "", ""],
    [2, "新建公共充电桩230个", "发改局\n工信局", "霞美镇政府", "吴振强\n易辉泉"],
]


def test_sheet_reads_sections_and_cells(tmp_path: Path) -> None:
    path = tmp_path / "tasks-2026.xlsx"
    write_xlsx(path, GOOD_ROWS)
    reg = load_sheet(path, year=2026)
    assert [t.no for t in reg.tasks] == [1, 2]
    assert reg.tasks[1].section == "二、2026年重点工作任务"
    assert reg.tasks[1].subsection == "（一）全力激发经济动能"
    assert reg.tasks[1].lead_units == ("发改局", "工信局")
    assert reg.tasks[0].responsible_units == ("各乡镇（街道）", "开发区")


def test_csv_sheet_in_gb18030(tmp_path: Path) -> None:
    path = tmp_path / "tasks.csv"
    with path.open("w", encoding="gb18030", newline="") as f:
        csv.writer(f).writerows(GOOD_ROWS)
    reg = load_sheet(path, year=2026)
    assert reg.tasks[1].leaders == ("吴振强", "易辉泉")


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (["x1", "文本", "发改局", "", "吴振强"], "第8行「序号」列: 「x1」不是有效序号"),
        ([3, "", "发改局", "", "吴振强"], "第8行「具体目标任务」列: 内容为空"),
        ([3, "文本", "", "", "吴振强"], "第8行「牵头单位」列: 牵头单位为空"),
        ([2, "文本", "发改局", "", "吴振强"], "第8行「序号」列: 序号2与第7行重复"),
        ([3, "文" * 2001, "发改局", "", "吴振强"], "第8行「具体目标任务」列: 超过2000字"),
        ([3, "文本", "局" * 101, "", "吴振强"], "第8行「牵头单位」列: 名称过长"),
    ],
)
async def test_bad_row_refuses_the_whole_file(
    tmp_path: Path,
    sessionmaker: async_sessionmaker[AsyncSession],
    row: list[Any],
    message: str,
) -> None:
    await run_import(sessionmaker, small_register())
    before = await snapshot(sessionmaker)
    path = tmp_path / "tasks-2026.xlsx"
    write_xlsx(path, [*GOOD_ROWS, row])
    with pytest.raises(RegisterError) as info:
        load_sheet(path, year=2026)
    assert str(info.value) == f"{path.name}: {message}"  # the file, the row, the column
    assert await snapshot(sessionmaker) == before


def test_missing_header_column(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("序号,具体目标任务,牵头单位,责任单位\n1,文本,发改局,\n", encoding="utf-8")
    with pytest.raises(RegisterError, match="表头缺少列「市政府分管（挂钩）领导」"):
        load_sheet(path, year=2026)


def test_damaged_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    path.write_bytes(b"not a zip file")
    with pytest.raises(RegisterError, match="无法读取 Excel 文件"):
        load_sheet(path, year=2026)


async def test_register_cache_sees_each_import(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    clock = [0.0]
    cache = RegisterCache(max_age=60.0, monotonic=lambda: clock[0])

    async def task_two_text() -> str:
        async with sessionmaker() as session:
            await cache.validate(session)
            unit = await session.scalar(select(Unit.id).where(Unit.name == "工信局"))
            assert unit is not None
            mine = await cache.unit_tasks(session, unit, 2026, False)
            view = await cache.task(session, mine[0].id, False)
            assert view is mine[0] and view.no == 2
            assert await cache.unit_name(session, unit) == "工信局"
            # The views' tasks: kept as read, equal to a reading without the cache.
            scope = views.Scope(2026, leader_ids=())
            kept = await views.load_tasks(session, scope, responsible_report=False, register=cache)
            fresh = await views.load_tasks(session, scope, responsible_report=False)
            assert kept == fresh and [t.no for t in kept] == [t.no for t in fresh]
            again = await views.load_tasks(session, scope, responsible_report=False, register=cache)
            assert all(a is b for a, b in zip(again, kept, strict=True))
            infos.append(kept[1])
            assert kept[1].text == view.text
            return view.text

    infos: list[TaskInfo] = []
    await run_import(sessionmaker, small_register())
    assert await task_two_text() == "新建公共充电桩230个"
    assert await task_two_text() == "新建公共充电桩230个"
    assert cache.loads == 1  # kept while the register is unchanged
    assert infos[0] is infos[1]
    await run_import(sessionmaker, small_register(), now=LATER)
    assert await task_two_text() == "新建公共充电桩230个"
    assert cache.loads == 1  # an import that changes nothing keeps it
    await run_import(sessionmaker, small_register("新建公共充电桩300个"), now=LATER)
    assert await task_two_text() == "新建公共充电桩300个"
    assert cache.loads == 2
    assert infos[-1].text == "新建公共充电桩300个"  # the views' tasks were read again
    clock[0] = 61.0
    await task_two_text()
    assert cache.loads == 3  # never kept past max_age


async def test_register_cache_keeps_nothing_read_against_a_version_dropped_meanwhile(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """Two people's updates at once (the pump's lanes): one validated before an import, the
    other after it. What the first reads after that is answered to it but not kept."""
    cache = RegisterCache()
    await run_import(sessionmaker, small_register())
    async with sessionmaker() as session:
        task_id = await session.scalar(select(Task.id).where(Task.no == 2))
    assert task_id is not None
    old_validated, new_validated, old_read = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def old_reader() -> TaskInfo:
        async with sessionmaker() as session:
            await cache.validate(session)  # the register before the import
            old_validated.set()
            await new_validated.wait()  # another update validated the new version meanwhile
            view = await cache.task(session, task_id, False)
            assert view is not None
            old_read.set()
            return view

    async def new_reader() -> TaskInfo:
        await old_validated.wait()
        await run_import(sessionmaker, small_register("新建公共充电桩300个"), now=LATER)
        async with sessionmaker() as session:
            await cache.validate(session)
            new_validated.set()
            await old_read.wait()
            view = await cache.task(session, task_id, False)
            assert view is not None
            return view

    old_view, new_view = await asyncio.gather(old_reader(), new_reader())
    assert cache.loads == 2
    assert new_view.text == "新建公共充电桩300个"
    assert new_view is not old_view  # the old reader's read was not kept for the new version
    async with sessionmaker() as session:
        await cache.validate(session)
        assert await cache.task(session, task_id, False) is new_view  # this one was


# --- Malformed files: one readable line naming the file (issue 19, finding 10) -----------------


def _seed() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SEED.read_text(encoding="utf-8"))
    return data


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        (
            lambda d: d["tasks"][0].__setitem__("targets", ["完成投资"]),
            "tasks[1].targets[1]: 应为对象",
        ),
        (lambda d: d.__setitem__("units", "发改局"), "units: 应为列表"),
        (lambda d: d["units"].__setitem__(0, 7), "units: 应为对象"),
        (
            lambda d: d["tasks"][0].__setitem__("subsection", {"a": 1}),
            "tasks[1].subsection: 应为文字",
        ),
        (lambda d: d["tasks"][0].__setitem__("no", 10**20), "序号应为1至9999的整数"),
    ],
)
def test_malformed_json_is_one_line(
    tmp_path: Path, change: Callable[[dict[str, Any]], None], needle: str
) -> None:
    data = _seed()
    change(data)
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(RegisterError) as info:
        load_json(path)
    message = str(info.value)
    assert message.startswith("seed.json: ") and needle in message and "\n" not in message


def test_gbk_json_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "seed.json"
    path.write_bytes(json.dumps(_seed(), ensure_ascii=False).encode("gbk", errors="replace"))
    with pytest.raises(RegisterError, match=r"^seed\.json: 文件编码应为 UTF-8$"):
        load_json(path)


def test_a_huge_csv_field_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    header = ",".join(COLUMNS)
    path.write_text(
        f'{header}\n,一、目标,,,\n1,"{"长" * 140_000}",发改局,,吴振强\n', encoding="utf-8"
    )
    with pytest.raises(RegisterError, match=r"^t\.csv: 第3行: CSV 格式错误"):
        load_sheet(path, year=2026)


def test_broken_sheet_xml_is_one_line(tmp_path: Path) -> None:
    good = tmp_path / "good.xlsx"
    write_xlsx(good, GOOD_ROWS)
    broken = tmp_path / "broken.xlsx"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(broken, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename.startswith("xl/worksheets/"):
                data = data[: len(data) // 2]  # cut in the middle of the XML
            dst.writestr(item, data)
    with pytest.raises(RegisterError, match=r"^broken\.xlsx: "):
        load_sheet(broken, year=2026)


def test_a_sheet_without_a_header_is_refused_before_reading_it_all(tmp_path: Path) -> None:
    """Rows without the header: refused once the first rows are read (a file made to be huge
    is not read to its end), and a sheet past MAX_ROWS is refused."""
    path = tmp_path / "big.csv"
    path.write_text("\n".join(f"{n},x,y,z,w" for n in range(100_000)), encoding="utf-8")
    with pytest.raises(RegisterError, match="未找到表头"):
        load_sheet(path, year=2026)
    many = tmp_path / "many.csv"
    rows = [",".join(COLUMNS), ",一、目标,,,"] + [
        f"{n},任务{n},发改局,,吴振强" for n in range(1, MAX_ROWS + 5)
    ]
    many.write_text("\n".join(rows), encoding="utf-8")
    with pytest.raises(RegisterError, match=f"超过{MAX_ROWS}行"):
        load_sheet(many, year=2026)


async def test_a_unit_named_directly_and_through_a_group_has_one_part(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """霞美镇 is one of 各乡镇（街道） and also named itself: one part, as named directly; a lead
    unit that a group names again as responsible stays lead."""
    base = small_register()
    extra = TaskData(
        no=3,
        section="二、2026年重点工作任务",
        subsection=None,
        text="推进镇村污水管网建设",
        lead_units=("溪美街道",),
        responsible_units=("各乡镇（街道）", "霞美镇政府"),
        leaders=("吴振强",),
    )
    await run_import(sessionmaker, dataclasses.replace(base, tasks=(*base.tasks, extra)))
    cache = RegisterCache()
    async with sessionmaker() as session:
        await cache.validate(session)
        ids = dict((await session.execute(select(Unit.name, Unit.id))).all())
        task = next(
            t for t in await cache.unit_tasks(session, ids["霞美镇"], 2026, False) if t.no == 3
        )
        xiamei, ximei = task.part(ids["霞美镇"]), task.part(ids["溪美街道"])
        assert xiamei is not None and ximei is not None
        assert (xiamei.role, xiamei.via_group, xiamei.owes) == ("responsible", None, False)
        assert (ximei.role, ximei.via_group, ximei.owes) == ("lead", None, True)
        assert [u.name for u in task.units].count("霞美镇") == 1
        assert task.part(ids["发改局"]) is None
        assert [t.no for t in await cache.unit_tasks(session, ids["溪美街道"], 2026, True)] == [
            1,
            3,
        ]
