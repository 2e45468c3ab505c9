"""Nan'an-specific knowledge the notice parser needs: divisions, unit kinds, aliases, groups.

Everything here is judgement about Nan'an (南安市) and its 2026 notice 南政办〔2025〕47号; the
parser in `bot.domain.notice` holds only the grammar of such notices. Next year's notice reuses the
parser with this file updated (new units, renamed towns after 撤镇设街, new exclusions).

Glossary: 乡镇（街道） = the towns, townships and streets (the city's divisions);
牵头单位 = lead unit; 责任单位 = responsible unit; 开发区 / 园区 = development zone / park.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

# The kinds a unit can have; `bot.domain.notice` writes one of them for every unit.
KINDS = ("department", "town", "enterprise", "other")


@dataclass(frozen=True)
class UnitGroup:
    """A collective name in a cell (各乡镇（街道）) and the units it stands for."""

    name: str
    members: tuple[str, ...]
    comment: str


@dataclass(frozen=True)
class Alias:
    """Another spelling of a unit, mapped to its canonical name, with the reason."""

    unit: str
    comment: str


@dataclass(frozen=True)
class AliasRule:
    """A spelling pattern (regex with a `unit` group) that names a division another way."""

    pattern: str
    comment: str


@dataclass(frozen=True)
class Exclusion:
    """A number in a task text that is not a target (regex matching it), with the reason."""

    pattern: str
    reason: str


@dataclass(frozen=True)
class NoticeData:
    """All local knowledge the parser consults; one instance per city and year."""

    divisions: tuple[str, ...]
    unit_kinds: Mapping[str, str]
    kind_suffixes: tuple[tuple[str, str], ...]
    aliases: Mapping[str, Alias]
    alias_rules: tuple[AliasRule, ...]
    groups: tuple[UnitGroup, ...]
    exclusions: tuple[Exclusion, ...] = field(default=())


# Public division list (reference: nanan-divisions.md; Baidu Baike 2022): 3 streets, 21 towns,
# 2 townships, in the published order. Task 34 (撤镇设街) may change it during the year.
STREETS = ("溪美街道", "柳城街道", "美林街道")
TOWNS = (
    "省新镇",
    "仑苍镇",
    "东田镇",
    "英都镇",
    "翔云镇",
    "金淘镇",
    "诗山镇",
    "蓬华镇",
    "码头镇",
    "九都镇",
    "乐峰镇",
    "罗东镇",
    "梅山镇",
    "洪濑镇",
    "洪梅镇",
    "康美镇",
    "丰州镇",
    "霞美镇",
    "官桥镇",
    "石井镇",
    "水头镇",
)
TOWNSHIPS = ("眉山乡", "向阳乡")
DIVISIONS = STREETS + TOWNS + TOWNSHIPS

# The development zone the notice addresses beside the divisions (雪峰开发区管委会).
XUEFENG_ZONE = "雪峰开发区"

# Kinds decided by name where the suffix would mislead or is missing.
UNIT_KINDS: Mapping[str, str] = MappingProxyType(
    {
        # Communist Youth League city committee: a mass organisation, not a government organ,
        # although its name ends in 委.
        "团市委": "other",
        # Federation of returned overseas Chinese: a mass organisation.
        "侨联": "other",
        # State Grid's Nan'an power supply company: a state enterprise, not a city department.
        "供电公司": "enterprise",
    }
)

# Kinds by the end of the canonical name, first match wins. Zones and parks are "other": they
# are run by a management committee, are neither a bureau nor a division, and a liaison there
# reports like any unit.
KIND_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("集团", "enterprise"),
    ("公司", "enterprise"),
    ("开发区", "other"),
    ("园区", "other"),
    ("街道", "town"),
    ("镇", "town"),
    ("乡", "town"),
    ("局", "department"),
    ("部", "department"),
    ("办", "department"),
    ("委", "department"),
    ("中心", "department"),
    ("大队", "department"),
)

_OFFICE_IN_PARENT = (
    "the bracket names the office inside {parent} that does the work; {parent} is the "
    "accountable unit, so liaison, reminders and reports go to it"
)

ALIASES: Mapping[str, Alias] = MappingProxyType(
    {
        "开发区": Alias(
            XUEFENG_ZONE,
            "「各乡镇（街道）、开发区」 repeats the notice's addressees "
            "「各乡镇（街道）人民政府（办事处），雪峰开发区管委会」: the zone beside the towns "
            "is 雪峰开发区 (the town-level overseas Chinese economic development zone), not the "
            "city's 经济开发区 park office",
        ),
        "经济开发区（园区办）": Alias(
            "经济开发区",
            "园区办 is the park office through which the economic development zone's management "
            "committee runs the industrial parks (tasks 26, 27); task 32 names the same body "
            "as 经济开发区",
        ),
        "泉州芯谷南安分园区办": Alias(
            "泉州芯谷南安分园区",
            "the office (办) is the park's own administration; tasks 25, 28 and 30 name the park "
            "itself, so both spellings are one unit with one liaison",
        ),
        "组织部（人才办）": Alias(
            "组织部",
            "the talent office (人才办) sits inside the Party organisation department; "
            + _OFFICE_IN_PARENT.format(parent="组织部"),
        ),
        "发改局（低空办）": Alias(
            "发改局",
            "the low-altitude economy office is housed in the development and reform bureau; "
            + _OFFICE_IN_PARENT.format(parent="发改局"),
        ),
        "住建局（城建办）": Alias(
            "住建局",
            "the urban-construction office is housed in the housing and construction bureau; "
            + _OFFICE_IN_PARENT.format(parent="住建局"),
        ),
        "水利局（河长办）": Alias(
            "水利局",
            "the river-chief office is housed in the water resources bureau; "
            + _OFFICE_IN_PARENT.format(parent="水利局"),
        ),
        "石井镇（港口办）": Alias(
            "石井镇",
            "the port office serves 石井港 in 石井镇 (task 40: 石井码头泊位群); read like the "
            "other 「unit（office）」 spellings, " + _OFFICE_IN_PARENT.format(parent="石井镇"),
        ),
    }
)

# Towns appear as 「X镇政府」 in the responsible column and as divisions 「X镇」 in the reference
# and the group lists; a rule covers all 26 divisions instead of 26 table rows.
ALIAS_RULES: tuple[AliasRule, ...] = (
    AliasRule(
        r"^(?P<unit>.+[镇乡])政府$",
        "「{alias}」 is the people's government of the division {unit}, which acts for it; "
        "divisions are named 「{unit}」 in the public division list and in group members",
    ),
    AliasRule(
        r"^(?P<unit>.+街道)办事处$",
        "「{alias}」 is the sub-district office of the street {unit}, which acts for it",
    ),
)

_OPEN_GROUP = "an admin fills it"

GROUPS: tuple[UnitGroup, ...] = (
    UnitGroup(
        "各乡镇（街道）",
        DIVISIONS,
        "all 26 divisions of Nan'an by the public division list (3 streets, 21 towns, "
        "2 townships), the notice's addressees 各乡镇（街道）人民政府（办事处）; edit it when "
        "撤镇设街 (task 34) changes the list",
    ),
    UnitGroup(
        "各乡镇（街道、开发区）",
        (*DIVISIONS, XUEFENG_ZONE),
        "the 26 divisions plus 雪峰开发区, the development zone the notice addresses beside "
        "them (雪峰开发区管委会)",
    ),
    UnitGroup(
        "各相关单位",
        (),
        "which units are concerned differs per task and is not fixed by public facts; "
        + _OPEN_GROUP,
    ),
    UnitGroup(
        "各相关乡镇（街道）",
        (),
        "the towns and streets concerned differ per task (tasks 27, 35, 71) and are not listed "
        "in the notice; " + _OPEN_GROUP,
    ),
    UnitGroup(
        "各相关乡镇",
        (),
        "task 44 names 罗东、洪濑、丰州、官桥、水头 followed by 等 (and the city centre), so the "
        "list is open; " + _OPEN_GROUP,
    ),
    UnitGroup(
        "各行业主管部门",
        (),
        "the competent department of each industry that has intermediaries (task 18); the "
        "notice does not list them; " + _OPEN_GROUP,
    ),
    UnitGroup(
        "各流域河长挂钩单位",
        (),
        "the units linked (挂钩) to each river basin's river chief under the river-chief system; "
        "the assignments are not in the notice; " + _OPEN_GROUP,
    ),
)

# Numbers in task texts that are not targets. Each pattern must match exactly one Arabic number;
# the parser refuses a number that is neither a target with a known unit nor matched here.
EXCLUSIONS: tuple[Exclusion, ...] = (
    Exclusion(r"[A-Za-z]+\d+[A-Za-z]*线", "name of a rail line (城际铁路R1线), not a quantity"),
    Exclusion(
        r"\d+G(?:-[A-Za-z]+)?",
        "name of a network technology (5G, 10G-PON), not a quantity",
    ),
    Exclusion(r"\d+国道", "number of a national highway (新324国道), a road's name"),
    Exclusion(
        r"\d+千伏",
        "voltage class of a substation, an equipment specification; the number of "
        "substation projects is the target",
    ),
    Exclusion(
        r"\d+小时免签",
        "name of the national 240-hour visa-free transit policy, a chance to seize, not a goal",
    ),
    Exclusion(
        r"(?<=延长)\d+年",
        "term of the second-round land-contract extension, fixed by national policy, not a goal",
    ),
    Exclusion(
        r"(?<=滚动实施)\d+个重点项目",
        "size of the rolling key-project list: the scope that 完成投资800亿元以上 applies to, "
        "not a count of projects to finish this year",
    ),
    Exclusion(
        r"(?<=推进)\d+个(?=总投资)",
        "size of the 抓城建提品质 project list being advanced (推进): portfolio scope, not a count "
        "to finish this year",
    ),
    Exclusion(
        r"总投资\d+亿元(?=的)",
        "total multi-year investment of the 抓城建提品质 project list: it describes the projects, "
        "it is not this year's investment",
    ),
    Exclusion(
        r"\d+个交通项目",
        "size of the transport project list being advanced (推进…等59个交通项目): portfolio "
        "scope, not a count to finish this year",
    ),
)

NANAN = NoticeData(
    divisions=DIVISIONS,
    unit_kinds=UNIT_KINDS,
    kind_suffixes=KIND_SUFFIXES,
    aliases=ALIASES,
    alias_rules=ALIAS_RULES,
    groups=GROUPS,
    exclusions=EXCLUSIONS,
)
