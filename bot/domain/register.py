"""The task register as plain data, read from seed_tasks.json or the office's own sheet.

A sheet (.xlsx or .csv) has the notice's columns — 序号, 具体目标任务, 牵头单位, 责任单位,
市政府分管（挂钩）领导 — one task per row; a row with no 序号 whose text starts like
"二、…" or "（一）…" opens a section or subsection, as in the notice. Any bad row makes the
whole file refused with a message naming the row, the column and what is wrong.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.domain.model import Target

COLUMNS = ("序号", "具体目标任务", "牵头单位", "责任单位", "市政府分管（挂钩）领导")
UNIT_KINDS = ("department", "town", "enterprise", "other")
TARGET_KINDS = ("amount", "growth", "level")
COMPARATORS = ("at_least", "exact", "at_most")
MAX_TEXT = 2000
MAX_NAME = 100
MAX_NO = 9999  # 序号: four digits, as a sheet's cell allows
MAX_FILE_BYTES = 20 * 1024 * 1024  # a register of thousands of tasks is well under 1 MB
MAX_ROWS = 20_000  # rows of a sheet read at most
MAX_COLUMNS = 40  # columns of a sheet read at most (the notice has 5)
HEADER_WITHIN = 20  # the header is among a sheet's first rows

_SECTION = re.compile(r"^[一二三四五六七八九十]+、")
_SUBSECTION = re.compile(r"^（[一二三四五六七八九十]+）")
_SPACE = re.compile(r"\s+")
_OPEN = "（("
_CLOSE = "）)"


TargetExtractor = Callable[[str], Iterable[Target]]


class RegisterError(ValueError):
    """A register file is malformed; the message names the row, the column and the problem."""


@dataclass(frozen=True)
class TaskData:
    """One task as in the notice; unit and leader names keep the notice's spelling."""

    no: int
    section: str
    subsection: str | None
    text: str
    lead_units: tuple[str, ...]
    responsible_units: tuple[str, ...]
    leaders: tuple[str, ...]
    targets: tuple[Target, ...] = ()


@dataclass(frozen=True)
class UnitData:
    """A unit with its kind."""

    name: str
    kind: str


@dataclass(frozen=True)
class GroupData:
    """A collective name (各乡镇（街道）…) and its members, if public facts fix them."""

    name: str
    members: tuple[str, ...]
    comment: str = ""


@dataclass(frozen=True)
class AliasData:
    """Another spelling of a unit, with the reason it is the same unit."""

    alias: str
    unit: str
    comment: str = ""


@dataclass(frozen=True)
class Register:
    """A year's register."""

    year: int
    tasks: tuple[TaskData, ...]
    units: tuple[UnitData, ...] = ()
    groups: tuple[GroupData, ...] = ()
    aliases: tuple[AliasData, ...] = ()
    leaders: tuple[str, ...] = ()
    document: dict[str, Any] = field(default_factory=dict)

    def unit_names(self) -> set[str]:
        """Every unit, group and alias name the register defines."""
        return (
            {u.name for u in self.units}
            | {g.name for g in self.groups}
            | {a.alias for a in self.aliases}
        )


def split_names(cell: str) -> tuple[str, ...]:
    """Split a cell on 、 and line breaks, never inside parentheses; drop white space in names."""
    names: list[str] = []
    depth = 0
    current: list[str] = []
    for ch in cell:
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth = max(0, depth - 1)
        if depth == 0 and ch in "、\n\r":
            names.append("".join(current))
            current = []
        else:
            current.append(ch)
    names.append("".join(current))
    cleaned = (_SPACE.sub("", n) for n in names)
    return tuple(n for n in cleaned if n)


# --- JSON ---------------------------------------------------------------------------------------


def _need(obj: Any, key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if not isinstance(obj, dict):
        raise RegisterError(f"{where}: 应为对象")
    if key not in obj:
        raise RegisterError(f"{where}: 缺少字段 {key}")
    value = obj[key]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise RegisterError(f"{where}: 字段 {key} 类型不正确")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise RegisterError(f"{where}: 应为列表")
    return value


def _optional_str(value: Any, where: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise RegisterError(f"{where}: 应为文字")
    return value


def _names(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise RegisterError(f"{where}: 应为名称列表")
    return tuple(_SPACE.sub("", v) for v in value)


def register_from_json(data: dict[str, Any]) -> Register:
    """Build and validate a Register from the seed_tasks.json structure."""
    doc = _need(data, "document", dict, "document")
    year = _need(doc, "year", int, "document")
    tasks: list[TaskData] = []
    for i, raw in enumerate(_need(data, "tasks", list, "tasks"), start=1):
        where = f"tasks[{i}]"
        if not isinstance(raw, dict):
            raise RegisterError(f"{where}: 应为对象")
        targets = []
        for j, t in enumerate(_list(raw.get("targets", []), f"{where}.targets"), start=1):
            twhere = f"{where}.targets[{j}]"
            targets.append(
                Target(
                    metric=_need(t, "metric", str, twhere),
                    kind=_need(t, "kind", str, twhere),
                    value=float(_need(t, "value", (int, float), twhere)),
                    unit=_need(t, "unit", str, twhere),
                    comparator=_need(t, "comparator", str, twhere),
                    source=_need(t, "source", str, twhere),
                )
            )
        tasks.append(
            TaskData(
                no=_need(raw, "no", int, where),
                section=_need(raw, "section", str, where),
                subsection=_optional_str(raw.get("subsection"), f"{where}.subsection"),
                text=_need(raw, "text", str, where),
                lead_units=_names(raw.get("lead_units"), f"{where}.lead_units"),
                responsible_units=_names(
                    raw.get("responsible_units"), f"{where}.responsible_units"
                ),
                leaders=_names(raw.get("leaders"), f"{where}.leaders"),
                targets=tuple(targets),
            )
        )
    units = tuple(
        UnitData(name=_need(u, "name", str, "units"), kind=_need(u, "kind", str, "units"))
        for u in _list(data.get("units", []), "units")
    )
    groups = tuple(
        GroupData(
            name=_need(g, "name", str, "unit_groups"),
            members=_names(g.get("members", []), f"unit_groups[{g['name']}]"),
            comment=str(g.get("comment", "")),
        )
        for g in _list(data.get("unit_groups", []), "unit_groups")
    )
    aliases = tuple(
        AliasData(
            alias=_need(a, "alias", str, "unit_aliases"),
            unit=_need(a, "unit", str, "unit_aliases"),
            comment=str(a.get("comment", "")),
        )
        for a in _list(data.get("unit_aliases", []), "unit_aliases")
    )
    leaders = tuple(
        _need(x, "name", str, "leaders") for x in _list(data.get("leaders", []), "leaders")
    )
    register = Register(
        year=year,
        tasks=tuple(tasks),
        units=units,
        groups=groups,
        aliases=aliases,
        leaders=leaders,
        document=doc,
    )
    validate(register)
    return register


def validate(register: Register) -> None:
    """Check the register's internal consistency; raise RegisterError on the first problem."""
    seen: set[int] = set()
    for t in register.tasks:
        where = f"第{t.no}项"
        if not 0 < t.no <= MAX_NO:
            raise RegisterError(f"{where}: 序号应为1至{MAX_NO}的整数")
        if t.no in seen:
            raise RegisterError(f"{where}: 序号重复")
        seen.add(t.no)
        if not t.text.strip():
            raise RegisterError(f"{where}: 具体目标任务为空")
        if len(t.text) > MAX_TEXT:
            raise RegisterError(f"{where}: 具体目标任务超过{MAX_TEXT}字")
        if not t.lead_units:
            raise RegisterError(f"{where}: 牵头单位为空")
        for name in (*t.lead_units, *t.responsible_units, *t.leaders):
            if len(name) > MAX_NAME:
                raise RegisterError(f"{where}: 名称过长：{name[:20]}…")
        for target in t.targets:
            if target.kind not in TARGET_KINDS or target.comparator not in COMPARATORS:
                raise RegisterError(f"{where}: 指标 {target.metric} 的类型或比较方式无效")
    kinds = {u.name: u.kind for u in register.units}
    for u in register.units:
        if u.kind not in UNIT_KINDS:
            raise RegisterError(f"单位 {u.name}: 类别 {u.kind} 无效")
    for g in register.groups:
        for m in g.members:
            if m not in kinds:
                raise RegisterError(f"单位组 {g.name}: 成员 {m} 不在单位列表中")
    for a in register.aliases:
        if a.unit not in kinds:
            raise RegisterError(f"别名 {a.alias}: 指向的单位 {a.unit} 不在单位列表中")


def _read(path: Path) -> bytes:
    """The file's bytes, refused past MAX_FILE_BYTES (a register is far smaller)."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise RegisterError(f"{path.name}: 文件过大（超过{MAX_FILE_BYTES // 1024 // 1024}MB）")
        return path.read_bytes()
    except OSError as exc:
        raise RegisterError(f"{path.name}: 无法读取（{exc.strerror or exc}）") from None


def load_json(path: Path) -> Register:
    """Read seed_tasks.json; every problem is one RegisterError naming the file."""
    raw = _read(path)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RegisterError(f"{path.name}: 文件编码应为 UTF-8") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RegisterError(
            f"{path.name}: 第{exc.lineno}行第{exc.colno}列: JSON 格式错误"
        ) from None
    except RecursionError:
        raise RegisterError(f"{path.name}: JSON 嵌套过深") from None
    if not isinstance(data, dict):
        raise RegisterError(f"{path.name}: 顶层应为对象")
    try:
        return register_from_json(data)
    except RegisterError as exc:
        raise RegisterError(f"{path.name}: {exc}") from None


# --- Sheets -------------------------------------------------------------------------------------


def _rows_from_csv(raw: bytes) -> list[list[str]]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            decoded = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        reader = csv.reader(io.StringIO(decoded))
        rows: list[list[str]] = []
        try:
            for row in reader:
                _check_size(rows, row)
                rows.append(row[:MAX_COLUMNS])
        except csv.Error as exc:
            # A field past the csv module's limit (131,072 characters), a NUL, a broken quote.
            raise RegisterError(f"第{reader.line_num}行: CSV 格式错误（{exc}）") from None
        return rows
    raise RegisterError("CSV 文件编码无法识别（应为 UTF-8 或 GB18030）")


def _check_size(rows: list[list[str]], row: Sequence[object]) -> None:
    """Refuse a sheet past MAX_ROWS, and one whose header is not among its first rows (before
    reading the rest: a file made to be huge is not read to its end)."""
    if len(rows) >= MAX_ROWS:
        raise RegisterError(f"第{MAX_ROWS + 1}行: 超过{MAX_ROWS}行，请检查文件")
    if len(rows) == HEADER_WITHIN:
        _find_header(rows)


def _rows_from_xlsx(path: Path) -> list[list[str]]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise RegisterError(f"{path.name}: 无法读取 Excel 文件（{type(exc).__name__}）") from None
    try:
        ws = wb.worksheets[0]
        rows: list[list[str]] = []
        # Streamed (read-only mode), at most MAX_COLUMNS cells a row and MAX_ROWS rows.
        for row in ws.iter_rows(values_only=True, max_col=MAX_COLUMNS):
            _check_size(rows, row)
            rows.append(["" if v is None else _cell_str(v) for v in row])
        return rows
    except RegisterError:
        raise
    except Exception as exc:  # noqa: BLE001 - any broken sheet XML: one readable line
        raise RegisterError(f"{path.name}: Excel 文件内容损坏（{type(exc).__name__}）") from None
    finally:
        wb.close()


def _cell_str(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _normalise_header(cell: str) -> str:
    return _SPACE.sub("", cell).replace("(", "（").replace(")", "）")


def _find_header(rows: Sequence[Sequence[str]]) -> tuple[int, list[int]]:
    wanted = [_normalise_header(c) for c in COLUMNS]
    for index, row in enumerate(rows[:20]):
        cells = [_normalise_header(c) for c in row]
        if wanted[0] in cells and wanted[1] in cells:
            positions = []
            for name in wanted:
                if name not in cells:
                    raise RegisterError(f"第{index + 1}行: 表头缺少列「{name}」")
                positions.append(cells.index(name))
            return index, positions
    raise RegisterError("未找到表头（应包含：" + "、".join(COLUMNS) + "）")


def register_from_rows(
    rows: Sequence[Sequence[str]],
    *,
    year: int,
    extract_targets: TargetExtractor | None = None,
) -> Register:
    """Build a Register from sheet rows (header row included)."""
    header_index, pos = _find_header(rows)
    section = ""
    subsection: str | None = None
    tasks: list[TaskData] = []
    seen: dict[int, int] = {}
    for index in range(header_index + 1, len(rows)):
        row = list(rows[index]) + [""] * 5
        line = index + 1
        cells = [str(row[p]).strip() for p in pos]
        no_cell, text_cell, lead_cell, resp_cell, leader_cell = cells
        if not any(cells):
            continue
        if not no_cell:
            heading = text_cell or next((c for c in cells if c), "")
            if _SECTION.match(heading):
                section, subsection = heading, None
                continue
            if _SUBSECTION.match(heading):
                subsection = heading
                continue
            raise RegisterError(f"第{line}行「{COLUMNS[0]}」列: 缺少序号")
        if not re.fullmatch(r"\d{1,4}", no_cell):
            raise RegisterError(f"第{line}行「{COLUMNS[0]}」列: 「{no_cell[:20]}」不是有效序号")
        no = int(no_cell)
        if no == 0:
            raise RegisterError(f"第{line}行「{COLUMNS[0]}」列: 序号应为正整数")
        if no in seen:
            raise RegisterError(f"第{line}行「{COLUMNS[0]}」列: 序号{no}与第{seen[no]}行重复")
        seen[no] = line
        if not text_cell:
            raise RegisterError(f"第{line}行「{COLUMNS[1]}」列: 内容为空")
        if len(text_cell) > MAX_TEXT:
            raise RegisterError(f"第{line}行「{COLUMNS[1]}」列: 超过{MAX_TEXT}字")
        lead = split_names(lead_cell)
        if not lead:
            raise RegisterError(f"第{line}行「{COLUMNS[2]}」列: 牵头单位为空")
        for col, names in ((2, lead), (3, split_names(resp_cell)), (4, split_names(leader_cell))):
            for name in names:
                if len(name) > MAX_NAME:
                    raise RegisterError(f"第{line}行「{COLUMNS[col]}」列: 名称过长")
                if any(ord(ch) < 32 for ch in name):
                    raise RegisterError(f"第{line}行「{COLUMNS[col]}」列: 含有控制字符")
        if not section:
            raise RegisterError(f"第{line}行: 任务之前缺少大类标题（如「一、…」）")
        targets: tuple[Target, ...] = ()
        if extract_targets is not None:
            targets = tuple(extract_targets(text_cell))
        tasks.append(
            TaskData(
                no=no,
                section=section,
                subsection=subsection,
                text=text_cell,
                lead_units=lead,
                responsible_units=split_names(resp_cell),
                leaders=split_names(leader_cell),
                targets=targets,
            )
        )
    if not tasks:
        raise RegisterError("文件中没有任务行")
    return Register(year=year, tasks=tuple(tasks))


def load_sheet(
    path: Path, *, year: int, extract_targets: TargetExtractor | None = None
) -> Register:
    """Read the office's .xlsx or .csv sheet."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            rows = _rows_from_csv(_read(path))
        elif suffix in {".xlsx", ".xlsm"}:
            _read_size_only(path)
            rows = _rows_from_xlsx(path)
        else:
            raise RegisterError("不支持的文件类型（应为 .json、.xlsx 或 .csv）")
        return register_from_rows(rows, year=year, extract_targets=extract_targets)
    except RegisterError as exc:
        message = str(exc)
        raise RegisterError(
            message if message.startswith(path.name) else f"{path.name}: {message}"
        ) from None


def _read_size_only(path: Path) -> None:
    """Refuse a file past MAX_FILE_BYTES without reading it."""
    try:
        too_big = path.stat().st_size > MAX_FILE_BYTES
    except OSError as exc:
        raise RegisterError(f"无法读取（{exc.strerror or exc}）") from None
    if too_big:
        raise RegisterError(f"文件过大（超过{MAX_FILE_BYTES // 1024 // 1024}MB）")


def all_names(tasks: Iterable[TaskData]) -> tuple[set[str], set[str]]:
    """Unit names and leader names used by the tasks."""
    units: set[str] = set()
    leaders: set[str] = set()
    for t in tasks:
        units.update(t.lead_units, t.responsible_units)
        leaders.update(t.leaders)
    return units, leaders


def guess_kind(name: str) -> str:
    """A unit kind from its name, for units a sheet introduces (an admin can correct it)."""
    if name.startswith("各"):
        return "group"
    if re.search(r"(镇|乡|街道)(政府|办事处)?$", name):
        return "town"
    if re.search(r"(集团|公司)$", name):
        return "enterprise"
    return "department"
