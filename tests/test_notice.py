"""The notice parser and the committed register seed_tasks.json built from 南政办〔2025〕47号."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from bot.domain.notice import (
    NoticeError,
    base_quantity,
    extract_targets,
    main,
    parse_notice,
    render,
    resolve_unit,
    split_names,
    unit_kind,
)
from bot.domain.notice_data import NANAN

ROOT = Path(__file__).resolve().parent.parent
NOTICE = ROOT / "register" / "notice-2026.txt"
SEED = ROOT / "seed_tasks.json"
SAMPLE_2027 = Path(__file__).resolve().parent / "fixtures" / "notice_2027_sample.txt"

# Every Arabic number in a task text. In this notice each one carries a unit, a % or a Latin
# suffix (5G), so this finds every number-with-unit and more. Chinese numerals (八项措施,
# 三年行动) and the Roman II类 are words, not quantities, and are not looked for.
ARABIC_NUMBER = re.compile(r"\d+(?:\.\d+)?")

# The 26 divisions by the public reference (nanan-divisions.md): 3 streets, 21 towns, 2 townships.
DIVISIONS_REFERENCE = [
    "溪美街道",
    "柳城街道",
    "美林街道",
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
    "眉山乡",
    "向阳乡",
]

SECTION_1 = "一、2026年主要预期目标"
SECTION_2 = "二、2026年重点工作任务"
SECTION_3 = "三、加强政府自身建设"


@pytest.fixture(scope="module")
def register() -> dict[str, Any]:
    """The register parsed from the committed notice."""
    return parse_notice(NOTICE.read_text(encoding="utf-8"))


def task(register: dict[str, Any], no: int) -> dict[str, Any]:
    """Task `no` of the register."""
    found: dict[str, Any] = register["tasks"][no - 1]
    assert found["no"] == no
    return found


# --- the committed files -------------------------------------------------------------------


def test_notice_copy_is_the_published_text() -> None:
    digest = hashlib.sha256(NOTICE.read_bytes()).hexdigest()
    assert digest == "aaec870be4d9643f644f05418916812ecdbc848ea9acffe5499769eb9a1a09d8"


def test_committed_seed_is_up_to_date(register: dict[str, Any]) -> None:
    text = SEED.read_text(encoding="utf-8")
    assert json.loads(text) == register
    assert text == render(register)


def test_render_is_deterministic_utf8_with_final_newline(register: dict[str, Any]) -> None:
    first = render(register)
    assert first == render(parse_notice(NOTICE.read_text(encoding="utf-8")))
    assert first.endswith("}\n")
    assert "地区生产总值" in first
    assert "\\u" not in first


def test_cli_writes_and_checks(tmp_path: Path) -> None:
    out = tmp_path / "seed.json"
    assert main([str(NOTICE), "-o", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == SEED.read_text(encoding="utf-8")
    assert main([str(NOTICE), "-o", str(out), "--check"]) == 0
    out.write_text("{}\n", encoding="utf-8")
    assert main([str(NOTICE), "-o", str(out), "--check"]) == 1
    assert main([str(tmp_path / "missing.txt"), "-o", str(out)]) == 2


def test_schema_keys(register: dict[str, Any]) -> None:
    assert list(register) == [
        "document",
        "tasks",
        "units",
        "unit_groups",
        "unit_aliases",
        "leaders",
    ]
    for t in register["tasks"]:
        assert list(t) == [
            "no",
            "section",
            "subsection",
            "text",
            "lead_units",
            "responsible_units",
            "leaders",
            "targets",
            "excluded_numbers",
        ]
        for target in t["targets"]:
            assert list(target) == ["metric", "kind", "value", "unit", "comparator", "source"]
        for excluded in t["excluded_numbers"]:
            assert list(excluded) == ["text", "reason"]
            assert excluded["reason"]
    assert all(list(u) == ["name", "kind"] for u in register["units"])
    assert all(list(g) == ["name", "members", "comment"] for g in register["unit_groups"])
    assert all(list(a) == ["alias", "unit", "comment"] for a in register["unit_aliases"])
    assert all(list(leader) == ["name"] for leader in register["leaders"])


# --- document and table shape --------------------------------------------------------------


def test_document_metadata(register: dict[str, Any]) -> None:
    assert register["document"] == {
        "number": "南政办〔2025〕47号",
        "title": "南安市人民政府办公室关于2026年市政府重点工作目标任务责任分解的通知",
        "issuer": "南安市人民政府办公室",
        "issue_date": "2025-12-25",
        "year": 2026,
        "attachment": "2026年《政府工作报告》重点工作目标责任分解表",
    }


def test_88_tasks_numbered_in_order(register: dict[str, Any]) -> None:
    assert [t["no"] for t in register["tasks"]] == list(range(1, 89))
    assert all(t["text"] and t["lead_units"] and t["leaders"] for t in register["tasks"])


def test_sections_and_subsections(register: dict[str, Any]) -> None:
    spans = Counter((t["section"], t["subsection"]) for t in register["tasks"])
    assert spans == {
        (SECTION_1, None): 5,
        (SECTION_2, "（一）全力激发经济动能"): 14,
        (SECTION_2, "（二）全链驱动产业升级"): 14,
        (SECTION_2, "（三）全域塑优城市品质"): 23,
        (SECTION_2, "（四）全面推进乡村振兴"): 5,
        (SECTION_2, "（五）全心提升民生福祉"): 23,
        (SECTION_3, None): 4,
    }
    assert task(register, 5)["section"] == SECTION_1
    assert task(register, 6)["subsection"] == "（一）全力激发经济动能"
    assert task(register, 19)["subsection"] == "（一）全力激发经济动能"
    assert task(register, 20)["subsection"] == "（二）全链驱动产业升级"
    assert task(register, 34)["subsection"] == "（三）全域塑优城市品质"
    assert task(register, 57)["subsection"] == "（四）全面推进乡村振兴"
    assert task(register, 62)["subsection"] == "（五）全心提升民生福祉"
    assert task(register, 84)["subsection"] == "（五）全心提升民生福祉"
    assert task(register, 85)["section"] == SECTION_3


# Rows as read off the notice by hand: text, 牵头单位, 责任单位, 市政府分管（挂钩）领导.
ROWS: dict[int, tuple[str, list[str], list[str], list[str]]] = {
    1: ("地区生产总值增长5%", ["发改局"], ["各乡镇（街道）", "开发区"], ["吴振强"]),
    2: (
        "一般公共预算收入增长2.5%",
        ["财政局", "税务局"],
        ["各乡镇（街道）", "开发区"],
        ["侯强辉"],
    ),
    5: (
        "社会消费品零售总额增长5%，全体居民人均可支配收入增长5%",
        ["发改局", "商务局"],
        ["各乡镇（街道）", "开发区"],
        ["吴振强", "邱雪亮"],
    ),
    7: (
        "大力开展基金招商、场景招商、产业链招商、科创赛事招商，建设“成功投资”招商平台，"
        "招引一批整机型、链主型、科技型项目，支持民间资本投资新质生产力、新兴服务业、"
        "新型基础设施，签约招商项目总投资1100亿元。",
        ["商务局"],
        ["统战部", "发改局", "科技局", "工信局", "财政局", "各乡镇（街道）"],
        ["邱雪亮"],
    ),
    8: (
        "加快成功商业街区、北山·南轴记忆、霞美新能源汽贸城建设，启动霞美“无人”装备、"
        "洪濑婚庆用品、官桥滋补品、洪梅预制菜、东田圩日等特色市场建设，改造国有农贸市场，"
        "布局一批高端酒店、特色民宿，大力发展首发经济、国潮经济、夜间经济、情绪价值经济等"
        "新商态，打造区域性消费中心。",
        ["商务局"],
        [
            "文体旅局",
            "溪美街道",
            "霞美镇政府",
            "洪濑镇政府",
            "官桥镇政府",
            "洪梅镇政府",
            "东田镇政府",
            "能源工贸集团",
        ],
        ["邱雪亮"],
    ),
    13: (
        "深化政银企合作，制造业贷款增长5%以上，争取地方政府专项债和超长期特别国债等政策资金"
        "18亿元以上；用好“成功基金汇”平台，拓宽优质企业和重点项目融资渠道。",
        ["发改局", "财政局"],
        ["南安金融监管支局"],
        ["吴振强", "侯强辉"],
    ),
    21: (
        "探索设立“虚拟大学城”，深化与大院大所合作，完善研究生联合培养机制，开展重点产业"
        "关键技术攻关，鼓励收购国际先进技术落地南安生产，抢占国产替代市场。",
        ["科技局", "人社局"],
        [],
        ["陈志慧", "黄身桂"],
    ),
    32: (
        "投用泉厦空港产业园，加快中通快递闽台总部建设，规划兴泉铁路北部物流园、石井港后方"
        "物流园，构建公铁海空多式联运体系，新增船舶运力25万载重吨。",
        ["工信局", "交通运输局", "经济开发区"],
        ["商务局", "泉州芯谷南安分园区办", "石井镇政府", "官桥镇政府"],
        ["周全", "易辉泉"],
    ),
    36: (
        "推进280个总投资200亿元的“抓城建提品质”项目，实施人行过街、照明安全、城市绿化工程，"
        "集中整治背街小巷、农贸市场、桥下空间等公共区域，打通5条断头路。",
        ["住建局", "城管局"],
        [],
        ["周全"],
    ),
    40: (
        "开建城际铁路R1线、泉梅高速，推进新324国道、环城大道等59个交通项目，强化与泉州三湾"
        "环线衔接，争取昌厦高铁设站，加快石井码头泊位群建设。",
        ["发改局", "交通运输局", "石井镇（港口办）"],
        ["住建局"],
        ["吴振强", "周全"],
    ),
    51: (
        "做好大气精准治理减排工作，力争空气优良率保持在98%以上。",
        ["生态环境局"],
        ["各相关单位", "各乡镇（街道、开发区）"],
        ["廖徐伟"],
    ),
    73: ("新增保障性住房166套。", ["住建局"], [], ["周全"]),
    81: (
        "运行好市镇两级综治中心，纵深推进安全生产“治本攻坚”三年行动，加快省防汛抗旱区域"
        "应急救援中心、市消防救援指挥中心和消防救援站建设，深化道路交通、建筑施工、城镇燃气、"
        "电线老化等重点领域专项整治，重大事故隐患实现动态清零，安全生产事故数和亡人数"
        "“双下降”。",
        ["政法委", "应急局", "公安局", "住建局", "城管局", "供电公司", "消防救援大队", "道安办"],
        [],
        ["吴振强", "周全", "曾伟军", "易辉泉"],
    ),
    84: (
        "严密防范欠薪、金融、房地产市场等重点领域风险。",
        ["人社局", "财政局", "住建局"],
        ["南安金融监管支局"],
        ["周全", "陈志慧", "侯强辉"],
    ),
    88: (
        "深化审计、财会、统计监督与纪检监察协作配合机制，加强廉洁风险易发、高发、多发领域防控。",
        ["审计局", "财政局", "统计局"],
        [],
        ["吴振强", "侯强辉"],
    ),
}


@pytest.mark.parametrize("no", sorted(ROWS))
def test_row_cell_for_cell(register: dict[str, Any], no: int) -> None:
    text, lead, responsible, leaders = ROWS[no]
    t = task(register, no)
    assert t["text"] == text
    assert t["lead_units"] == lead
    assert t["responsible_units"] == responsible
    assert t["leaders"] == leaders


def test_leader_names_lose_inner_spaces(register: dict[str, Any]) -> None:
    assert "周  全" in NOTICE.read_text(encoding="utf-8")
    assert task(register, 9)["leaders"] == ["周全"]
    assert task(register, 16)["leaders"] == ["吴振强", "周全"]
    names = [n for t in register["tasks"] for n in (*t["leaders"], *t["lead_units"])]
    assert not [n for n in names if re.search(r"\s", n)]


def test_leaders_in_order_of_first_appearance(register: dict[str, Any]) -> None:
    assert [leader["name"] for leader in register["leaders"]] == [
        "吴振强",
        "侯强辉",
        "易辉泉",
        "邱雪亮",
        "周全",
        "廖徐伟",
        "陈志慧",
        "黄身桂",
        "曾伟军",
    ]


def test_empty_cells_give_empty_lists(register: dict[str, Any]) -> None:
    # Task 6's responsible cell is a bare tab; task 73's is a tab and a space.
    assert task(register, 6)["responsible_units"] == []
    assert task(register, 73)["responsible_units"] == []
    empty = [t["no"] for t in register["tasks"] if not t["responsible_units"]]
    assert len(empty) == 50
    assert {6, 20, 21, 73, 81, 88} <= set(empty)
    assert 9 not in empty


def test_trailing_space_in_a_cell_is_trimmed(register: dict[str, Any]) -> None:
    assert "\t住建局 \n" in NOTICE.read_text(encoding="utf-8")
    assert task(register, 36)["lead_units"][0] == "住建局"
    assert task(register, 40)["responsible_units"] == ["住建局"]


@pytest.mark.parametrize(
    ("cell", "names"),
    [
        ("各乡镇（街道、开发区）", ["各乡镇（街道、开发区）"]),
        ("各乡镇（街道）、开发区", ["各乡镇（街道）", "开发区"]),
        ("甲局(乙办、丙办)、丁局", ["甲局(乙办、丙办)", "丁局"]),
        ("各乡镇（街道、\n开发区）", ["各乡镇（街道、开发区）"]),
        ("发改局\n\n财政局", ["发改局", "财政局"]),
        ("周  全", ["周全"]),
        ("住建局 ", ["住建局"]),
        ("", []),
        (" ", []),
        ("、\n", []),
    ],
)
def test_split_names(cell: str, names: list[str]) -> None:
    assert split_names(cell) == names


def test_parenthesised_names_stay_whole(register: dict[str, Any]) -> None:
    assert task(register, 51)["responsible_units"][1] == "各乡镇（街道、开发区）"
    assert task(register, 14)["lead_units"] == ["组织部（人才办）", "人社局"]
    assert task(register, 35)["lead_units"] == ["住建局（城建办）", "资源局"]


# --- units, aliases and groups -------------------------------------------------------------


def test_every_named_unit_resolves(register: dict[str, Any]) -> None:
    units = {u["name"] for u in register["units"]}
    groups = {g["name"] for g in register["unit_groups"]}
    aliases = {a["alias"]: a["unit"] for a in register["unit_aliases"]}
    for t in register["tasks"]:
        for name in (*t["lead_units"], *t["responsible_units"]):
            assert name in units or name in groups or aliases.get(name) in units, name


def test_units_are_unique_and_not_groups_or_aliases(register: dict[str, Any]) -> None:
    names = [u["name"] for u in register["units"]]
    assert len(names) == len(set(names)) == 80
    groups = {g["name"] for g in register["unit_groups"]}
    aliases = {a["alias"] for a in register["unit_aliases"]}
    assert not (set(names) & groups)
    assert not (set(names) & aliases)
    assert all(a["comment"] for a in register["unit_aliases"])


def test_group_members_are_units(register: dict[str, Any]) -> None:
    units = {u["name"] for u in register["units"]}
    for group in register["unit_groups"]:
        assert set(group["members"]) <= units, group["name"]
        assert group["comment"]


def test_groups_are_the_collective_names_of_the_notice(register: dict[str, Any]) -> None:
    assert [g["name"] for g in register["unit_groups"]] == [
        "各乡镇（街道）",
        "各相关单位",
        "各行业主管部门",
        "各相关乡镇（街道）",
        "各流域河长挂钩单位",
        "各相关乡镇",
        "各乡镇（街道、开发区）",
    ]
    named = {n for t in register["tasks"] for n in (*t["lead_units"], *t["responsible_units"])}
    assert {n for n in named if n.startswith("各")} == {g["name"] for g in register["unit_groups"]}


def test_divisions_match_the_reference(register: dict[str, Any]) -> None:
    groups = {g["name"]: g["members"] for g in register["unit_groups"]}
    assert groups["各乡镇（街道）"] == DIVISIONS_REFERENCE
    assert groups["各乡镇（街道、开发区）"] == [*DIVISIONS_REFERENCE, "雪峰开发区"]
    for name in ("各相关单位", "各相关乡镇（街道）", "各相关乡镇", "各行业主管部门"):
        assert groups[name] == []
    kinds = {u["name"]: u["kind"] for u in register["units"]}
    assert [kinds[d] for d in DIVISIONS_REFERENCE] == ["town"] * 26


def test_aliases(register: dict[str, Any]) -> None:
    aliases = {a["alias"]: a["unit"] for a in register["unit_aliases"]}
    assert aliases == {
        "开发区": "雪峰开发区",
        "霞美镇政府": "霞美镇",
        "洪濑镇政府": "洪濑镇",
        "官桥镇政府": "官桥镇",
        "洪梅镇政府": "洪梅镇",
        "东田镇政府": "东田镇",
        "九都镇政府": "九都镇",
        "丰州镇政府": "丰州镇",
        "康美镇政府": "康美镇",
        "水头镇政府": "水头镇",
        "石井镇政府": "石井镇",
        "省新镇政府": "省新镇",
        "组织部（人才办）": "组织部",
        "经济开发区（园区办）": "经济开发区",
        "发改局（低空办）": "发改局",
        "泉州芯谷南安分园区办": "泉州芯谷南安分园区",
        "住建局（城建办）": "住建局",
        "石井镇（港口办）": "石井镇",
        "水利局（河长办）": "水利局",
    }


def test_alias_rule_only_maps_known_divisions() -> None:
    assert resolve_unit("霞美镇政府")[0] == "霞美镇"
    assert resolve_unit("美林街道办事处")[0] == "美林街道"
    assert resolve_unit("某某镇政府") == ("某某镇政府", None)
    assert resolve_unit("发改局") == ("发改局", None)


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("发改局", "department"),
        ("南安金融监管支局", "department"),
        ("医保南安分局", "department"),
        ("消防救援大队", "department"),
        ("政务服务中心", "department"),
        ("政法委", "department"),
        ("统战部", "department"),
        ("道安办", "department"),
        ("溪美街道", "town"),
        ("霞美镇", "town"),
        ("眉山乡", "town"),
        ("能源工贸集团", "enterprise"),
        ("水务集团", "enterprise"),
        ("供电公司", "enterprise"),
        ("团市委", "other"),
        ("侨联", "other"),
        ("雪峰开发区", "other"),
        ("经济开发区", "other"),
        ("泉州芯谷南安分园区", "other"),
    ],
)
def test_unit_kinds(register: dict[str, Any], name: str, kind: str) -> None:
    assert {u["name"]: u["kind"] for u in register["units"]}[name] == kind
    assert unit_kind(name) == kind


def test_unit_without_a_kind_is_refused() -> None:
    with pytest.raises(NoticeError, match="UNIT_KINDS"):
        unit_kind("某某协会")


# --- targets -------------------------------------------------------------------------------


def _locate(text: str, piece: str) -> int:
    """Where `piece` sits in `text`; it must occur exactly once."""
    assert text.count(piece) == 1, (piece, text)
    return text.index(piece)


def _number_text(value: float) -> str:
    """A target value as the notice writes it (5, 2.5, 1.27)."""
    return str(int(value)) if float(value).is_integer() else str(value)


@pytest.mark.parametrize("no", range(1, 89))
def test_every_number_is_a_target_or_excluded_exactly_once(
    register: dict[str, Any], no: int
) -> None:
    t = task(register, no)
    text = t["text"]
    covered: Counter[int] = Counter()
    for target in t["targets"]:
        start = _locate(text, target["source"])
        assert _number_text(target["value"]) + target["unit"] in target["source"]
        hits = [
            start + m.start()
            for m in ARABIC_NUMBER.finditer(target["source"])
            if float(m.group()) == target["value"]
        ]
        assert len(hits) == 1, target
        covered.update(hits)
    for excluded in t["excluded_numbers"]:
        start = _locate(text, excluded["text"])
        hits = [start + m.start() for m in ARABIC_NUMBER.finditer(excluded["text"])]
        assert len(hits) == 1, excluded
        covered.update(hits)
    assert covered == Counter(m.start() for m in ARABIC_NUMBER.finditer(text))


def test_target_and_exclusion_counts(register: dict[str, Any]) -> None:
    targets = [g for t in register["tasks"] for g in t["targets"]]
    excluded = [e for t in register["tasks"] for e in t["excluded_numbers"]]
    assert len(targets) == 67
    assert len(excluded) == 12
    assert {g["kind"] for g in targets} == {"amount", "growth", "level"}
    assert {g["comparator"] for g in targets} == {"at_least", "exact"}
    numbers = sum(len(ARABIC_NUMBER.findall(t["text"])) for t in register["tasks"])
    assert numbers == len(targets) + len(excluded)


def _targets(register: dict[str, Any], no: int) -> list[tuple[str, str, float, str, str]]:
    """Task `no`'s targets as (metric, kind, value, unit, comparator)."""
    return [
        (g["metric"], g["kind"], g["value"], g["unit"], g["comparator"])
        for g in task(register, no)["targets"]
    ]


TARGETS: dict[int, list[tuple[str, str, float, str, str]]] = {
    1: [("地区生产总值", "growth", 5, "%", "exact")],
    2: [("一般公共预算收入", "growth", 2.5, "%", "exact")],
    3: [("固定资产投资（不含农户）", "growth", 4, "%", "exact")],
    5: [
        ("社会消费品零售总额", "growth", 5, "%", "exact"),
        ("全体居民人均可支配收入", "growth", 5, "%", "exact"),
    ],
    6: [
        ("完成投资", "amount", 800, "亿元", "at_least"),
        ("竣工项目", "amount", 60, "个", "at_least"),
    ],
    11: [
        ("建好国际供应链集散中心", "amount", 2, "个", "exact"),
        ("建好行业选品中心", "amount", 4, "个", "exact"),
        ("外贸集聚区新入驻企业", "amount", 50, "家", "exact"),
        ("外贸进出口额", "amount", 210, "亿元", "at_least"),
    ],
    13: [
        ("制造业贷款", "growth", 5, "%", "at_least"),
        ("争取政策资金", "amount", 18, "亿元", "at_least"),
    ],
    17: [("资产规模", "level", 1100, "亿元", "at_least")],
    19: [("政务服务办件“数据最多采一次”", "level", 90, "%", "at_least")],
    23: [
        ("新增规上企业", "amount", 100, "家", "exact"),
        ("新增专精特新企业", "amount", 30, "家", "exact"),
    ],
    41: [
        ("新（扩）建污水处理厂", "amount", 3, "座", "exact"),
        ("铺设管网", "amount", 380, "公里", "exact"),
        ("城市生活污水集中收集率", "level", 85, "%", "at_least"),
        ("农村生活污水治理率", "level", 70, "%", "exact"),
    ],
    46: [
        ("建设220千伏输变电工程", "amount", 1, "个", "exact"),
        ("建设110千伏输变电工程", "amount", 5, "个", "exact"),
    ],
    48: [
        ("建设5G基站", "amount", 500, "个", "exact"),
        ("建设绿能基站", "amount", 20, "个", "exact"),
    ],
    50: [
        ("完成矿山生态修复", "amount", 6000, "亩", "at_least"),
        ("植树造林", "amount", 1, "万亩", "exact"),
        ("治理水土流失", "amount", 3, "万亩", "exact"),
    ],
    51: [("空气优良率", "level", 98, "%", "at_least")],
    57: [
        ("建设“连片整治·千亩良田”示范片", "amount", 10, "个", "exact"),
        ("新（改）建高标准农田", "amount", 7000, "亩", "exact"),
        ("粮食播种面积", "level", 38, "万亩", "at_least"),
    ],
    62: [
        ("新（改、扩）建学校", "amount", 15, "所", "exact"),
        ("新增学位", "amount", 1.27, "万个", "at_least"),
    ],
    70: [("落实为民办实事项目", "amount", 21, "个", "exact")],
    73: [("新增保障性住房", "amount", 166, "套", "exact")],
    9: [],
    81: [],
}


@pytest.mark.parametrize("no", sorted(TARGETS))
def test_targets_read_by_hand(register: dict[str, Any], no: int) -> None:
    assert _targets(register, no) == TARGETS[no]


EXCLUDED: dict[int, list[str]] = {
    6: ["512个重点项目"],
    10: ["240小时免签"],
    36: ["280个", "总投资200亿元"],
    40: ["R1线", "324国道", "59个交通项目"],
    46: ["220千伏", "110千伏"],
    48: ["5G", "10G-PON"],
    60: ["30年"],
}


def test_excluded_numbers(register: dict[str, Any]) -> None:
    found = {
        t["no"]: [e["text"] for e in t["excluded_numbers"]]
        for t in register["tasks"]
        if t["excluded_numbers"]
    }
    assert found == EXCLUDED


def test_sources_quote_the_text(register: dict[str, Any]) -> None:
    t5 = task(register, 5)["targets"]
    assert [g["source"] for g in t5] == ["社会消费品零售总额增长5%", "全体居民人均可支配收入增长5%"]
    t11 = task(register, 11)["targets"]
    assert t11[3]["source"] == "外贸进出口额超210亿元"


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        (1.27, "万个", (12700, "个")),
        (800, "亿元", (80_000_000_000, "元")),
        (1, "万亩", (10_000, "亩")),
        (5, "%", (5, "%")),
        (166, "套", (166, "套")),
    ],
)
def test_base_quantity(value: float, unit: str, expected: tuple[float, str]) -> None:
    got = base_quantity(value, unit)
    assert got[1] == expected[1]
    assert got[0] == pytest.approx(expected[0])


def test_number_without_unit_or_exclusion_is_refused() -> None:
    with pytest.raises(NoticeError, match="no known unit"):
        extract_targets("完成某某工作123。", no=7)


def test_exclusions_come_from_the_data_file() -> None:
    no_exclusions = dataclasses.replace(NANAN, exclusions=())
    with pytest.raises(NoticeError, match="task 10"):
        parse_notice(NOTICE.read_text(encoding="utf-8"), no_exclusions)


# --- a next-year notice --------------------------------------------------------------------


def test_next_year_notice_parses() -> None:
    got = parse_notice(SAMPLE_2027.read_text(encoding="utf-8"))
    assert got["document"] == {
        "number": "南政办〔2026〕9号",
        "title": "南安市人民政府办公室关于2027年市政府重点工作目标任务责任分解的通知",
        "issuer": "南安市人民政府办公室",
        "issue_date": "2026-12-30",
        "year": 2027,
        "attachment": "2027年《政府工作报告》重点工作目标责任分解表",
    }
    tasks = got["tasks"]
    assert [(t["no"], t["section"], t["subsection"]) for t in tasks] == [
        (1, "一、2027年主要预期目标", None),
        (2, "二、2027年重点工作任务", "（一）持续壮大实体经济"),
        (3, "二、2027年重点工作任务", "（一）持续壮大实体经济"),
        (4, "二、2027年重点工作任务", "（二）提升城乡品质"),
        (5, "三、加强政府自身建设", None),
    ]
    # A text cell broken over two lines is one text; a blank line splits no name.
    assert tasks[1]["text"] == "新增规上企业120家、专精特新企业40家，完成技改投资150亿元以上。"
    assert tasks[1]["lead_units"] == ["工信局", "数据局"]
    assert tasks[1]["responsible_units"] == []
    assert tasks[1]["leaders"] == ["易辉泉", "黄身桂"]
    assert [(g["metric"], g["value"], g["unit"], g["comparator"]) for g in tasks[1]["targets"]] == [
        ("新增规上企业", 120, "家", "exact"),
        ("新增专精特新企业", 40, "家", "exact"),
        ("完成技改投资", 150, "亿元", "at_least"),
    ]
    assert tasks[2]["excluded_numbers"][0]["text"] == "5G"
    assert tasks[4]["responsible_units"] == []
    assert tasks[4]["targets"] == []
    units = {u["name"]: u["kind"] for u in got["units"]}
    assert units["数据局"] == "department"
    assert units["向阳乡"] == "town"
    assert {a["alias"]: a["unit"] for a in got["unit_aliases"]} == {
        "开发区": "雪峰开发区",
        "向阳乡政府": "向阳乡",
        "住建局（城建办）": "住建局",
    }
    assert [g["name"] for g in got["unit_groups"]] == ["各乡镇（街道）", "各相关乡镇（街道）"]
    assert [leader["name"] for leader in got["leaders"]] == ["吴振强", "易辉泉", "黄身桂", "周全"]


def test_windows_line_endings_and_bom_parse_the_same() -> None:
    text = SAMPLE_2027.read_text(encoding="utf-8")
    assert parse_notice("\ufeff" + text.replace("\n", "\r\n")) == parse_notice(text)


def _mini_notice(rows: str) -> str:
    """A minimal notice around the given table rows."""
    return (
        "南政办〔2027〕1号\n\n南安市人民政府办公室关于2028年\n\n重点工作的通知\n\n"
        "附件：分解表\n\n南安市人民政府办公室\n\n2027年12月1日\n\n"
        "\t序号\n\t具体目标任务\n\t牵头单位\n\t责任单位\n\t市政府分管（挂钩）领导\n"
        "\t一、主要目标\n" + rows
    )


def test_mini_notice_parses() -> None:
    got = parse_notice(_mini_notice("\t1\n\t做好工作。\n\t发改局\n\t\n\t吴振强\n"))
    assert got["document"]["year"] == 2028
    assert got["document"]["issue_date"] == "2027-12-01"
    assert got["tasks"][0]["text"] == "做好工作。"


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ("\t2\n\t做好工作。\n\t发改局\n\t\n\t吴振强\n", "row 2 follows row 0"),
        ("\t1\n\t做好工作。\n\t发改局\n\t各某某单位\n\t吴振强\n", "GROUPS"),
        ("\t1\n\t做好工作。\n\t某某\n\t\n\t吴振强\n", "UNIT_KINDS"),
        ("\t1\n\t做好工作。\n\t发改局\n", "expected a row number"),
        ("", "no rows"),
    ],
)
def test_malformed_notice_is_refused(rows: str, message: str) -> None:
    with pytest.raises(NoticeError, match=message):
        parse_notice(_mini_notice(rows))


def test_notice_without_header_is_refused() -> None:
    with pytest.raises(NoticeError, match="序号"):
        parse_notice("南政办〔2027〕1号\n\n没有表格。\n")
