"""Parse a 目标任务责任分解 notice (its table flattened to text) into the task register JSON.

Usage: python -m bot.domain.notice [NOTICE.txt] [-o seed_tasks.json] [--check]

The table arrives as text where every cell starts on a line beginning with a tab and lines
without a tab continue the cell above. A row is 「序号 / 具体目标任务 / 牵头单位 / 责任单位 /
市政府分管（挂钩）领导」 (columns found by their header, not by position); section headings
(一、…) and subsection headings (（一）…) sit between rows. Local knowledge — divisions, unit
kinds, aliases, collective names, numbers that are not targets — comes from
`bot.domain.notice_data`.

Targets: every Arabic number in a task text is either a target or an excluded number with a
reason; the parser refuses a number it can classify as neither. A target's value and unit are
kept as written (1.27万个 → 1.27, "万个"), so its `source` reads back exactly; `base_quantity`
converts to plain units when two quantities must be compared. Chinese-numeral quantities
(八项措施, 三年行动) are words, not targets, and are ignored.

- metric: the phrase naming the indicator, as a person would say it — the words before the
  number (完成投资800亿元 → 完成投资), or the verb before and the noun after a number that comes
  first (新建230个公共充电桩 → 新建公共充电桩). Opening words that name no indicator (力争,
  实现, 推进 …) are dropped; a list item shares the first item's verb (新增规上企业100家、
  专精特新企业30家 → 新增专精特新企业); 「A、B等C」 keeps the category C.
- kind: growth (增长5%), level (a rate or stock to reach or hold: %, 保持在/稳定在/提升至,
  …率, …规模), otherwise amount (done or added during the year).
- comparator: at_least for 以上 after or 超/不低于 before the number, at_most for 以下/以内/
  不超过, otherwise exact (the notice states a plain figure).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from bot.domain.notice_data import KINDS, NANAN, NoticeData

DEFAULT_NOTICE = Path("register/notice-2026.txt")
DEFAULT_OUTPUT = Path("seed_tasks.json")


class NoticeError(ValueError):
    """The notice does not have the expected shape, or names something the data file lacks."""


# --- document header ---------------------------------------------------------------------

_DOC_NUMBER = re.compile(r"\S*〔\d{4}〕\d+号")
_DOC_DATE = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日")
_DOC_ATTACHMENT = re.compile(r"附件[：:]\s*(\S.*)")
_TITLE_YEAR = re.compile(r"(\d{4})年")


def _parse_document(preamble: Sequence[str]) -> dict[str, Any]:
    """Document number, title, issuer, date, year and attachment from the lines before the table."""
    lines = [line.strip() for line in preamble if line.strip()]
    number_at = next((i for i, s in enumerate(lines) if _DOC_NUMBER.fullmatch(s)), None)
    if number_at is None:
        raise NoticeError("no document number line (like 南政办〔2025〕47号) before the table")
    title_parts: list[str] = []
    for line in lines[number_at + 1 :]:
        title_parts.append(line)
        if line.endswith("通知"):
            break
    else:
        raise NoticeError("no title line ending in 通知 after the document number")
    title = "".join(title_parts)
    dates = [(i, m) for i, s in enumerate(lines) if (m := _DOC_DATE.fullmatch(s))]
    if not dates:
        raise NoticeError("no issue date line (like 2025年12月25日) before the table")
    date_at, date_match = dates[-1]
    year_match = _TITLE_YEAR.search(title)
    if year_match is None:
        raise NoticeError(f"no year in the title {title!r}")
    attachment = next((m[1] for s in lines if (m := _DOC_ATTACHMENT.fullmatch(s))), None)
    if attachment is None:
        raise NoticeError("no 附件： line naming the attached table")
    year, month, day = (int(g) for g in date_match.groups())
    return {
        "number": lines[number_at],
        "title": title,
        "issuer": lines[date_at - 1],
        "issue_date": date(year, month, day).isoformat(),
        "year": int(year_match[1]),
        "attachment": attachment.strip(),
    }


# --- cells and rows ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Cell:
    """One table cell: the line it starts on (1-based) and its non-blank lines."""

    line: int
    parts: tuple[str, ...]

    @property
    def text(self) -> str:
        """The cell's lines joined (a line break inside Chinese text adds no character)."""
        return "".join(self.parts)

    @property
    def raw(self) -> str:
        """The cell's lines joined by line breaks, for name cells that split on them."""
        return "\n".join(self.parts)


def _cells(lines: Sequence[str], first_line: int) -> list[_Cell]:
    """Group lines into cells: a tab starts a cell; other lines continue it; blanks are skipped."""
    cells: list[tuple[int, list[str]]] = []
    for offset, line in enumerate(lines):
        if line.startswith("\t"):
            cells.append((first_line + offset, []))
            line = line[1:]
        content = line.rstrip()
        if content.strip() and cells:
            cells[-1][1].append(content)
    return [_Cell(number, tuple(parts)) for number, parts in cells]


_SECTION = re.compile(r"[一二三四五六七八九十]+、\S.*")
_SUBSECTION = re.compile(r"（[一二三四五六七八九十]+）\S.*")
_ROW_NUMBER = re.compile(r"\d+")

# Register field → a word its header contains (序号 / 具体目标任务 / 牵头单位 / 责任单位 /
# 市政府分管（挂钩）领导).
_COLUMNS = (
    ("no", "序号"),
    ("text", "任务"),
    ("lead_units", "牵头"),
    ("responsible_units", "责任"),
    ("leaders", "领导"),
)


def _is_boundary(cell: _Cell) -> bool:
    """Whether a cell opens a row or is a (sub)section heading."""
    text = cell.text
    return bool(
        _ROW_NUMBER.fullmatch(text) or _SECTION.fullmatch(text) or _SUBSECTION.fullmatch(text)
    )


def _column_map(header: Sequence[_Cell]) -> dict[str, int]:
    """Map each register field to its column index by the header's wording."""
    found: dict[str, int] = {}
    for field, word in _COLUMNS:
        hits = [i for i, cell in enumerate(header) if word in cell.text]
        if len(hits) != 1:
            names = [cell.text for cell in header]
            raise NoticeError(f"header {names} has {len(hits)} columns with {word!r}, expected 1")
        found[field] = hits[0]
    return found


_NAME_OPEN = "（(“《"
_NAME_CLOSE = "）)”》"
_NAME_SEPARATORS = "、，,；;\n"


def split_names(cell: str) -> list[str]:
    """Split a unit or leader cell on 、 and line breaks outside brackets; drop inner spaces."""
    names: list[str] = []
    current: list[str] = []
    depth = 0

    def flush() -> None:
        name = re.sub(r"\s+", "", "".join(current))
        if name:
            names.append(name)
        current.clear()

    for char in cell:
        if char in _NAME_OPEN:
            depth += 1
        elif char in _NAME_CLOSE and depth:
            depth -= 1
        if depth == 0 and char in _NAME_SEPARATORS:
            flush()
        else:
            current.append(char)
    flush()
    return names


# --- targets -----------------------------------------------------------------------------

NUMBER = re.compile(r"\d+(?:\.\d+)?")

# Units of a counted or measured quantity, longest first so 万亩 wins over 亩.
QUANTITY_UNITS = tuple(
    sorted(
        (
            "%",
            "亿元",
            "万元",
            "元",
            "万平方米",
            "平方米",
            "万载重吨",
            "载重吨",
            "万吨",
            "吨",
            "万亩",
            "亩",
            "公里",
            "米",
            "万个",
            "个",
            "家",
            "条",
            "座",
            "所",
            "套",
            "万人次",
            "人次",
            "万人",
            "人",
            "户",
            "项",
            "台",
            "辆",
            "张",
            "处",
            "次",
        ),
        key=len,
        reverse=True,
    )
)

# Multipliers for `base_quantity`: a unit starting with one of these is that many base units.
_SCALE_PREFIXES = (("亿", 100_000_000), ("万", 10_000))

_CLAUSE_DELIMITERS = frozenset("，。；：！？,;:!?")
_ITEM_DELIMITER = "、"
_OPENERS = "（(“《"
_CLOSERS = "）)”》"
_CONNECTORS = ("以及", "和", "及", "与")
# Words that open a phrase without naming the indicator (力争空气优良率… → 空气优良率).
_DROP_WORDS = ("力争", "实现", "推进", "确保", "大力", "积极", "加快", "继续")
_GROWTH_WORDS = ("增长",)
_LEVEL_WORDS = ("保持在", "稳定在", "提升至", "提升到", "提高至", "提高到", "达到", "控制在")
_AT_LEAST_BEFORE = ("不低于", "不少于", "超过", "超")
_AT_MOST_BEFORE = ("不超过", "不高于")
_AT_LEAST_AFTER = ("以上",)
_AT_MOST_AFTER = ("以下", "以内")
# A metric ending like this is a rate or a stock to reach or hold, not a yearly amount.
_LEVEL_METRIC_ENDINGS = ("率", "规模")
# Verbs that say what is counted; a list item without one shares the first item's verb
# (新增规上企业100家、专精特新企业30家 → 新增专精特新企业).
_VERB = re.compile(
    r"新（[^）]*）建|新(?:增|建|认定|投用)|建设|建好|铺设|完成|打通|落实|获批|盘活|出让|治理"
    r"|争取|引进|培育|改造"
)
# 「A、B等C」: C names the category; 等级/等于 are not that 等.
_ETC = re.compile(r"等(?![级于同待])")


def base_quantity(value: float, unit: str) -> tuple[float, str]:
    """Convert 1.27万个 → (12700, "个") and 800亿元 → (8e10, "元"); other units unchanged."""
    for prefix, factor in _SCALE_PREFIXES:
        if unit.startswith(prefix) and len(unit) > len(prefix):
            return value * factor, unit[len(prefix) :]
    return value, unit


def _strip_prefixes(text: str, words: Sequence[str]) -> str:
    """Remove any of `words` from the start of `text`, repeatedly."""
    changed = True
    while changed:
        changed = False
        for word in words:
            if text.startswith(word):
                text = text[len(word) :]
                changed = True
    return text


def _strip_suffix(text: str, words: Sequence[str]) -> tuple[str, bool]:
    """Remove one of `words` from the end of `text`; say whether one was removed."""
    for word in words:
        if text.endswith(word):
            return text[: -len(word)], True
    return text, False


def _category(phrase: str) -> str:
    """「争取A和B等政策资金」 → 「争取政策资金」: keep the verb and the category after 等."""
    matches = list(_ETC.finditer(phrase))
    if not matches:
        return phrase
    verb = _VERB.match(phrase)
    return (verb.group() if verb else "") + phrase[matches[-1].end() :]


class _TaskText:
    """One task text with bracket depth, exclusions and the targets found so far."""

    def __init__(self, text: str, no: int, data: NoticeData) -> None:
        self.text = text
        self.no = no
        self.depth = self._depths(text)
        self.excluded: list[dict[str, str]] = []
        self.excluded_at: set[int] = set()
        self._exclude(data)

    @staticmethod
    def _depths(text: str) -> list[int]:
        """Bracket and quote depth before each character."""
        depths: list[int] = []
        depth = 0
        for char in text:
            if char in _CLOSERS and depth:
                depth -= 1
            depths.append(depth)
            if char in _OPENERS:
                depth += 1
        return depths

    def _exclude(self, data: NoticeData) -> None:
        """Apply the data file's exclusions; each match must hold exactly one number."""
        found: list[tuple[int, str, str]] = []
        for rule in data.exclusions:
            for match in re.finditer(rule.pattern, self.text):
                if any(match.start() <= pos < match.end() for pos in self.excluded_at):
                    continue
                numbers = NUMBER.findall(match.group())
                if len(numbers) != 1:
                    raise NoticeError(
                        f"task {self.no}: exclusion {rule.pattern!r} matched "
                        f"{match.group()!r}, which holds {len(numbers)} numbers, expected 1"
                    )
                self.excluded_at.update(range(match.start(), match.end()))
                found.append((match.start(), match.group(), rule.reason))
        self.excluded = [{"text": text, "reason": reason} for _, text, reason in sorted(found)]

    def is_delimiter(self, pos: int, item: bool = True) -> bool:
        """Whether `pos` ends a clause (or, with `item`, a list item) outside brackets."""
        char = self.text[pos]
        if self.depth[pos] != 0:
            return False
        return char in _CLAUSE_DELIMITERS or (item and char == _ITEM_DELIMITER)

    def clause_start(self, pos: int) -> int:
        """Start of the clause (between ，。； …) holding `pos`."""
        while pos > 0 and not self.is_delimiter(pos - 1, item=False):
            pos -= 1
        return pos

    def item_start(self, pos: int) -> int:
        """Start of the list item (between 、 or clause delimiters) holding `pos`."""
        while pos > 0 and not self.is_delimiter(pos - 1):
            pos -= 1
        return pos

    def unit_at(self, pos: int) -> str | None:
        """The quantity unit starting at `pos`, if any."""
        return next((u for u in QUANTITY_UNITS if self.text.startswith(u, pos)), None)

    def noun_end(self, pos: int) -> int:
        """End of a noun phrase after a number (number-first form: 新建230个公共充电桩)."""
        end = pos
        while end < len(self.text) and not self.is_delimiter(end):
            if self.depth[end] == 0 and any(
                self.text.startswith(c, end)
                and self.text[end + len(c) : end + len(c) + 1].isdigit()
                for c in _CONNECTORS
            ):
                break
            end += 1
        return end

    def quantity_end(self, token: re.Match[str]) -> tuple[int, str, str | None]:
        """After a number: end of unit and comparator word, the unit, and an after-comparator."""
        unit = self.unit_at(token.end())
        if unit is None:
            raise NoticeError(
                f"task {self.no}: {token.group()!r} at {token.start()} in {self.text!r} has no "
                "known unit; add the unit to QUANTITY_UNITS or an exclusion to notice_data"
            )
        end = token.end() + len(unit)
        for words, comparator in ((_AT_LEAST_AFTER, "at_least"), (_AT_MOST_AFTER, "at_most")):
            word = next((w for w in words if self.text.startswith(w, end)), None)
            if word:
                return end + len(word), unit, comparator
        return end, unit, None

    def head_noun(self, after: int, clause_end: int) -> str:
        """The noun a spec-only item shares with the next one (1个220千伏、5个110千伏输变电工程)."""
        for token in NUMBER.finditer(self.text, after, clause_end):
            if token.start() in self.excluded_at:
                continue
            end, _, _ = self.quantity_end(token)
            noun_end = self.noun_end(end)
            while end < noun_end and end in self.excluded_at:
                end += 1
            return self.text[end:noun_end]
        return ""

    def clause_end(self, pos: int) -> int:
        """End of the clause holding `pos`."""
        while pos < len(self.text) and not self.is_delimiter(pos, item=False):
            pos += 1
        return pos

    def targets(self) -> list[dict[str, Any]]:
        """Every number that is not excluded, read as a target."""
        found: list[dict[str, Any]] = []
        previous_end = 0
        for token in NUMBER.finditer(self.text):
            if token.start() in self.excluded_at:
                continue
            target, previous_end = self._target(token, previous_end)
            found.append(target)
        return found

    def _target(self, token: re.Match[str], previous_end: int) -> tuple[dict[str, Any], int]:
        """Read one target around `token`; return it and where its source ends."""
        text = self.text
        clause_start = self.clause_start(token.start())
        item_start = max(self.item_start(token.start()), previous_end)
        source_start = item_start
        for connector in _CONNECTORS:
            if text.startswith(connector, source_start):
                source_start += len(connector)
                break
        prefix = _strip_prefixes(text[source_start : token.start()], _DROP_WORDS)
        end, unit, comparator = self.quantity_end(token)
        prefix, at_least = _strip_suffix(prefix, _AT_LEAST_BEFORE)
        prefix, at_most = _strip_suffix(prefix, _AT_MOST_BEFORE)
        prefix, growth = _strip_suffix(prefix, _GROWTH_WORDS)
        prefix, level = _strip_suffix(prefix, _LEVEL_WORDS)
        comparator = comparator or ("at_least" if at_least else "at_most" if at_most else "exact")

        if end < len(text) and not self.is_delimiter(end):
            # Number first, noun after: 新建230个公共充电桩, 实现90%以上政务服务办件….
            noun_end = self.noun_end(end)
            noun = text[end:noun_end]
            if all(pos in self.excluded_at for pos in range(end, noun_end)):
                noun += self.head_noun(noun_end, self.clause_end(noun_end))
            metric = _category(prefix) + noun
            end = noun_end
        else:
            metric = _category(prefix)
        if item_start > clause_start and not _VERB.match(metric):
            clause_head = _strip_prefixes(text[clause_start:], _DROP_WORDS)
            verb = _VERB.match(clause_head)
            if verb:
                metric = verb.group() + metric
        if not metric:
            raise NoticeError(f"task {self.no}: no indicator name before or after {token[0]!r}")

        if growth and unit == "%":
            kind = "growth"
        elif level or unit == "%" or metric.endswith(_LEVEL_METRIC_ENDINGS):
            kind = "level"
        else:
            kind = "amount"
        value: int | float = float(token[0]) if "." in token[0] else int(token[0])
        target = {
            "metric": metric,
            "kind": kind,
            "value": value,
            "unit": unit,
            "comparator": comparator,
            "source": text[source_start:end],
        }
        return target, end


def extract_targets(
    text: str, data: NoticeData = NANAN, no: int = 0
) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """The targets and the excluded numbers of one task text."""
    task = _TaskText(text, no, data)
    return task.targets(), task.excluded


# --- units -------------------------------------------------------------------------------


def unit_kind(name: str, data: NoticeData = NANAN) -> str:
    """The kind of a canonical unit: explicit entry, division, then name suffix."""
    if name in data.unit_kinds:
        kind = data.unit_kinds[name]
    elif name in data.divisions:
        kind = "town"
    else:
        kind = next((k for suffix, k in data.kind_suffixes if name.endswith(suffix)), "")
    if kind not in KINDS:
        raise NoticeError(f"unit {name!r} has no kind; add it to UNIT_KINDS in notice_data")
    return kind


def resolve_unit(name: str, data: NoticeData = NANAN) -> tuple[str, str | None]:
    """The canonical unit for a spelling, and the alias comment when it is an alias."""
    if name in data.aliases:
        alias = data.aliases[name]
        return alias.unit, alias.comment
    for rule in data.alias_rules:
        match = re.fullmatch(rule.pattern, name)
        if match and match["unit"] in data.divisions:
            unit = match["unit"]
            return unit, rule.comment.format(alias=name, unit=unit)
    return name, None


class _UnitRegistry:
    """Collects units, aliases and groups in order of first appearance."""

    def __init__(self, data: NoticeData) -> None:
        self.data = data
        self.groups_by_name = {group.name: group for group in data.groups}
        self.units: dict[str, str] = {}
        self.aliases: dict[str, dict[str, str]] = {}
        self.groups: dict[str, dict[str, Any]] = {}

    def _add_unit(self, name: str) -> None:
        if name not in self.units:
            self.units[name] = unit_kind(name, self.data)

    def add(self, name: str) -> None:
        """Record one name from a lead or responsible cell."""
        group = self.groups_by_name.get(name)
        if group is not None:
            if name not in self.groups:
                self.groups[name] = {
                    "name": name,
                    "members": list(group.members),
                    "comment": group.comment,
                }
                for member in group.members:
                    self._add_unit(member)
            return
        if name.startswith("各"):
            raise NoticeError(f"collective name {name!r} is not in GROUPS in notice_data")
        unit, comment = resolve_unit(name, self.data)
        if comment is not None and name not in self.aliases:
            self.aliases[name] = {"alias": name, "unit": unit, "comment": comment}
        self._add_unit(unit)


# --- the register ------------------------------------------------------------------------


def _header_index(lines: Sequence[str]) -> int:
    """Index of the table's first header line (a tab, then 序号)."""
    for i, line in enumerate(lines):
        if line.startswith("\t") and line.strip() == "序号":
            return i
    raise NoticeError("no table header: expected a line with a tab followed by 序号")


def parse_notice(text: str, data: NoticeData = NANAN) -> dict[str, Any]:
    """Parse the notice text into the register: document, tasks, units, groups, aliases, leaders."""
    lines = text.removeprefix("\ufeff").splitlines()
    header_at = _header_index(lines)
    document = _parse_document(lines[:header_at])
    cells = _cells(lines[header_at:], header_at + 1)
    header_len = next((i for i, cell in enumerate(cells) if _is_boundary(cell)), len(cells))
    columns = _column_map(cells[:header_len])
    width = header_len

    tasks: list[dict[str, Any]] = []
    registry = _UnitRegistry(data)
    leaders: dict[str, None] = {}
    section: str | None = None
    subsection: str | None = None
    i = header_len
    while i < len(cells):
        cell = cells[i]
        heading = cell.text
        if _SECTION.fullmatch(heading):
            section, subsection = heading, None
            i += 1
            continue
        if _SUBSECTION.fullmatch(heading):
            subsection = heading
            i += 1
            continue
        row = cells[i : i + width]
        if len(row) < width or not _ROW_NUMBER.fullmatch(row[columns["no"]].text):
            raise NoticeError(f"line {cell.line}: expected a row number or a heading: {heading!r}")
        no = int(row[columns["no"]].text)
        if no != len(tasks) + 1:
            raise NoticeError(f"line {cell.line}: row {no} follows row {len(tasks)}")
        if section is None:
            raise NoticeError(f"line {cell.line}: row {no} comes before any section heading")
        task_text = row[columns["text"]].text
        targets, excluded = extract_targets(task_text, data, no)
        lead = split_names(row[columns["lead_units"]].raw)
        responsible = split_names(row[columns["responsible_units"]].raw)
        task_leaders = split_names(row[columns["leaders"]].raw)
        for name in (*lead, *responsible):
            registry.add(name)
        leaders.update(dict.fromkeys(task_leaders))
        tasks.append(
            {
                "no": no,
                "section": section,
                "subsection": subsection,
                "text": task_text,
                "lead_units": lead,
                "responsible_units": responsible,
                "leaders": task_leaders,
                "targets": targets,
                "excluded_numbers": excluded,
            }
        )
        i += width
    if not tasks:
        raise NoticeError("the table has no rows")

    return {
        "document": document,
        "tasks": tasks,
        "units": [{"name": name, "kind": kind} for name, kind in registry.units.items()],
        "unit_groups": list(registry.groups.values()),
        "unit_aliases": list(registry.aliases.values()),
        "leaders": [{"name": name} for name in leaders],
    }


def render(register: dict[str, Any]) -> str:
    """The register as the committed JSON text: UTF-8 characters, indent 2, final newline."""
    return json.dumps(register, ensure_ascii=False, indent=2) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: parse the notice and write (or with --check, verify) the register."""
    parser = argparse.ArgumentParser(
        prog="python -m bot.domain.notice",
        description="Build seed_tasks.json from the notice text.",
    )
    parser.add_argument("notice", nargs="?", type=Path, default=DEFAULT_NOTICE)
    parser.add_argument("-o", "--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if the output file is not up to date"
    )
    args = parser.parse_args(argv)
    try:
        rendered = render(parse_notice(args.notice.read_text(encoding="utf-8")))
    except (OSError, NoticeError) as error:
        print(f"{args.notice}: {error}", file=sys.stderr)
        return 2
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != rendered:
            print(f"{args.output} is out of date; run python -m bot.domain.notice", file=sys.stderr)
            return 1
        return 0
    args.output.write_text(rendered, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
