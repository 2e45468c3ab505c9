"""Whether a number in a reply is progress toward a target: same action, same object.

A target's metric names an action and an object (竣工 + 项目, 新增 + 规上企业, 获批 + 用地;
growth and level targets name only an object: 地区生产总值, 城市生活污水集中收集率). A number
in a reply is read against the target only if:

- its action agrees: the verbs nearest the number (before it in its clause, or right after
  its noun: 5个项目竣工) are of the target's kind, or — for a target whose action is a generic
  完成/实现, or none — no verb of another kind stands there. 开工 is not 竣工, 上报 not 获批,
  签约 not 入驻 or 投产, 诊断服务 not 上云, 选址规划 not 建设; a plan (计划, 预计, 力争) is no
  achievement;
- its object agrees: most of the target object's character pairs are in the number's words,
  or the number's words are the target's own words in the notice (专项债资金 for 争取地方政府
  专项债和超长期特别国债等政策资金); a qualifier that sets another population apart (农村 vs
  全体, 城市 vs 农村, 限额以上) disagrees;
- it is not a total, a scope or an aside: 另…, 其中…, 涉及…, …总数, 全市…, 余额, a number
  followed in its clause by a verb and another number (512个重点项目已开工386个: 512 is the
  scope), or a number under review (在评审, 正在申报).

When unsure the number stays unread: a wrong target is worse than none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.domain.model import Target

# Verb kinds. A target accepts the kinds listed for its verbs in _ACCEPTS.
_VERBS: dict[str, tuple[str, ...]] = {
    "start": ("开工", "动工", "开建", "在建", "启动", "进场", "施工中", "主体施工"),
    "built": (
        "竣工",
        "完工",
        "建成",
        "建好",
        "投运",
        "投用",
        "投入使用",
        "开通",
        "通水",
        "通车",
        "交付",
        "落成",
        "并网",
        "贯通",
    ),
    "build": ("新（改、扩）建", "新（改）建", "新（扩）建", "新建", "改建", "扩建", "建设"),
    "sign": ("签约", "签订", "签署", "意向"),
    "settle": ("入驻", "落户", "进驻"),
    "produce": ("投产", "达产"),
    "submit": ("上报", "申报", "报批", "报送", "提交", "评审", "待批", "储备"),
    "approve": ("获批", "批复", "批准", "下达"),
    "secure": ("争取", "获得", "到位"),
    "certify": ("认定", "通过认定", "入库", "纳入"),
    "add": ("新增", "新落地", "落地", "新培育", "培育", "引进", "净增", "新入驻"),
    "prepare": (
        "对接",
        "洽谈",
        "走访",
        "诊断",
        "摸排",
        "调研",
        "谋划",
        "选址",
        "规划",
        "设计",
        "组织",
        "参展",
        "举办",
        "部署",
        "分解",
        "梳理",
        "排查",
    ),
    "plan": ("计划", "预计", "力争", "目标", "拟", "还差", "尚差", "缺口", "剩余", "任务"),
    "lay": ("铺设", "敷设"),
    "open": ("打通",),
    "revitalize": ("盘活",),
    "sell": ("出让", "供地", "挂牌"),
    "treat": ("治理", "整治", "修复", "改造"),
    "plant": ("植树造林", "造林", "植树"),
    "develop": ("开发", "打造"),
    "attract": ("招商", "出租", "租赁"),
    "complete": ("完成", "实现", "达到", "累计", "落实"),
}
_KIND_OF: dict[str, str] = {w: kind for kind, words in _VERBS.items() for w in words}
_RE_VERB = re.compile("|".join(re.escape(w) for w in sorted(_KIND_OF, key=len, reverse=True)))

# What each kind of target verb accepts in a reply.
_ACCEPTS: dict[str, frozenset[str]] = {
    "build": frozenset({"build", "built"}),
    "built": frozenset({"built", "build"}),
    "lay": frozenset({"lay", "built", "build"}),
    "open": frozenset({"open", "built"}),
    "add": frozenset({"add", "certify"}),
    "settle": frozenset({"settle"}),
    "produce": frozenset({"produce"}),
    "approve": frozenset({"approve"}),
    "secure": frozenset({"secure", "approve"}),
    "certify": frozenset({"certify", "add"}),
    "sign": frozenset({"sign"}),
    "revitalize": frozenset({"revitalize"}),
    "sell": frozenset({"sell"}),
    "treat": frozenset({"treat", "built"}),
    "plant": frozenset({"plant"}),
    "develop": frozenset({"develop", "built"}),
    "attract": frozenset({"attract"}),
}
_GENERIC = frozenset({"complete"})  # 完成投资: the object decides

# Qualifiers that set one population apart from another.
_QUALIFIERS = (
    "农村",
    "城镇",
    "城市",
    "全体",
    "限额以上",
    "第二产业",
    "第三产业",
    "房地产",
    "工业投资",
)
_ALIASES = {
    "GDP": "地区生产总值",
    "gdp": "地区生产总值",
    "社零": "社会消费品零售总额",
    "固投": "固定资产投资",
    "资产总额": "资产规模",
}
_RE_ASIDE = re.compile(
    r"另|其中|涉及|总数|总量|总投资|总计划|余额|在评审|评审中|正在|待批|储备|拟|分解"
)
_RE_IGNORED = re.compile(r"[（）()“”\"'《》「」、·\s]|以上|以下|等")
_RE_PAIR = re.compile(r"(?=([\u4e00-\u9fffA-Za-z0-9&]{2}))")


@dataclass(frozen=True)
class Sense:
    """A target's action kinds and its object, as read from its metric."""

    kinds: frozenset[str]
    object: str
    source: str


def sense(target: Target) -> Sense:
    """The action kinds and object of a target's metric."""
    metric = target.metric
    kinds = frozenset(_KIND_OF[m.group(0)] for m in _RE_VERB.finditer(metric))
    obj = _RE_IGNORED.sub("", _RE_VERB.sub("", metric)) or _RE_IGNORED.sub("", metric)
    return Sense(kinds, obj, _RE_IGNORED.sub("", target.source))


def _pairs(text: str) -> list[str]:
    return _RE_PAIR.findall(text)


def _expand(words: str) -> str:
    for short, full in _ALIASES.items():
        words = words.replace(short, full)
    return words


def nearest_kinds(before: str, after: str) -> list[str]:
    """The kinds of the verbs deciding what a number counts: the last verb before it in its
    clause, and a verb right after its noun (5个项目竣工)."""
    kinds = []
    found = list(_RE_VERB.finditer(before))
    if found:
        kinds.append(_KIND_OF[found[-1].group(0)])
    following = _RE_VERB.match(after) or _RE_VERB.search(after[:8])
    if following is not None:
        kinds.append(_KIND_OF[following.group(0)])
    return kinds


@dataclass(frozen=True)
class Context:
    """A number's words: its clause up to it (`before`), the words that are its alone (from
    the previous number or 、: `own`), what follows it up to the next number, 、 or the clause's
    end (`after`), and the sentence's clauses before (`previous`, which may name what this one
    counts: 4个行业选品中心已全部开工，建成投用3个)."""

    before: str
    own: str
    after: str
    previous: str = ""


def verbs_in(text: str) -> set[str]:
    """The kinds of the verbs in `text`."""
    return {_KIND_OF[m.group(0)] for m in _RE_VERB.finditer(text)}


def _object_words(text: str) -> str:
    return _RE_NOISE.sub("", _RE_VERB.sub("", _RE_IGNORED.sub("", text)))


_RE_NOISE = re.compile(
    r"[\d.%％\-~]|[年月日季度末底初]|截至|目前|当前|今年|以来|本月|本周|已经?|实际|共|约|近|达|为|了|"
    r"均|全部|同比|增长|增速|其中"
)


def agreement(ctx: Context, target: Target, only_unit: bool = False) -> float | None:
    """How well a number agrees with the target (higher is better), or None if it does not.

    `only_unit`: the number's unit is the target's own (所, 公里 — not the generic 个) and no
    other target of the task has it, so a number whose clause names nothing else (已建成9所)
    counts once its action agrees.
    """
    s = sense(target)
    for match in _RE_ASIDE.finditer(ctx.before):
        if match.group(0) != "其中" and match.group(0) not in target.metric:
            return None  # 另…, 涉及…, …总数, 余额, 在评审: an aside or a total
    breakdown = "其中" in ctx.before
    if (
        breakdown
        and _object_agreement(s, _expand(_RE_IGNORED.sub("", ctx.previous)), "") is not None
    ):
        return None  # 完成投资320亿元，其中民间投资100亿元: a part of the figure before it
    nearest = nearest_kinds(ctx.before, ctx.after)
    if "plan" in nearest:
        return None
    first = next((k for k in nearest if k not in _GENERIC), None)
    # The words it counts: its own, else its clause's, else (when its clause names nothing)
    # the clause before; a breakdown (其中…) only by its own words.
    tail = ctx.after[:16]
    tiers = [ctx.own + "，" + tail]
    if not breakdown:
        tiers.append(ctx.before + "，" + tail)
        if len(_object_words(ctx.before)) < 2 and ctx.previous:
            tiers.append(ctx.previous + "，" + ctx.before + "，" + tail)
    specific = s.kinds - _GENERIC
    required = (specific - {"add"}) or specific
    accepted = frozenset().union(*(_ACCEPTS.get(k, frozenset({k})) for k in required))
    for depth, tier in enumerate(tiers):
        words = _expand(_RE_IGNORED.sub("", tier))
        if specific:
            seen = verbs_in(ctx.before + ctx.after) or verbs_in(tier)
            if first is not None and first not in accepted:
                return None  # 开工 is not 竣工, 上报 not 获批
            if not seen & accepted:
                continue
        elif first is not None and first != "add":
            return None  # a growth, level or generic target: another action disagrees
        if any(q in words and q not in target.metric for q in _QUALIFIERS):
            return None
        score = _object_agreement(s, words, ctx.own if depth == 0 else tier)
        if score is not None:
            return score + (0.2 if depth == 0 else 0.0)
        if only_unit and depth == 0 and not _object_words(ctx.before + ctx.after):
            return 0.3
    return None


def _object_agreement(s: Sense, words: str, own: str) -> float | None:
    """Whether the words name the target's object: most of its character pairs, or words of
    the target's own source in the notice, or its head noun alone (托位 for 婴幼儿托位)."""
    target_pairs = _pairs(s.object)
    if not target_pairs:
        return None
    covered = sum(p in words for p in target_pairs) / len(target_pairs)
    mine = _object_words(own)
    own_pairs = _pairs(mine)
    in_source = (
        sum(p in s.source for p in own_pairs) / len(own_pairs) if len(own_pairs) >= 2 else 0.0
    )
    if covered >= 0.5 or (in_source >= 0.75 and covered > 0):
        return covered + in_source / 10
    if len(mine) >= 2 and s.object.endswith(mine):
        return 0.5
    return None
