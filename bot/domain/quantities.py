"""Quantities, progress percentages and difficulties in a liaison's short Chinese reply.

- `parse_percent` reads the overall progress (完成45%, 完成了百分之四十五, 已全面完成 → 100).
- `extract_quantities` finds every number with a unit (已完成投资320亿元 → 完成投资, 320, 亿元).
- `measure_against_targets` sets those quantities against a task's targets (800亿元 → 40%).
- `detect_difficulty` lists the clauses naming a difficulty or asking for help (用地指标需市里协调),
  skipping negated or settled ones (无困难, 暂无问题, 已协调解决).

Rules for the ambiguous cases:
- Progress: an explicit percentage tied to a progress word (完成, 进度, 完成率) wins; then a
  bare one (45%); a rate (增长5%, 收集率85%) or a planned figure (预计完成80%) is no progress.
  过半 / 一半 / 半数以上 → 50; 近半 / 接近一半 → 45 (near half means below it). A completion
  word (已完成, 全面完成, 已竣工, 完工, 建成, 办结) → 100, unless negated (未完成, 尚未完成),
  partial (部分完成, 基本完成, 完成了部分), planned (预计6月底前完成) or followed by an object
  that is not the whole task (已完成投资320亿元 is a quantity, 已完成前期工作 a milestone).
- Units: a unit is an optional scale (十 百 千 万 亿) and a base unit. Values compare through
  the base: 1亿元 = 10000万元, 1万亩 = 10000亩, 1公里 = 1千米 = 1000米. 亩 and 平方米 are
  kept apart (land area vs floor area), as are the count units (家, 座, 所 …), except that the
  generic classifier 个 fits any count unit. A bare scale (投资5亿, 学位1.27万) takes the unit
  of the target it is measured against.
- Matching: each quantity goes to the target whose metric shares the most characters with its
  own (share of the target's characters, at least 1/3), one quantity per target, best pairs
  first; a quantity with no such target still matches when exactly one target has a
  compatible unit. Percentages of growth (增长, 增速, 同比) go to growth targets only.
  Remaining (还差, 缺口) and planned (预计, 计划, 目标) quantities are kept, never measured.
- percent_of_target: amount → value / target × 100 (not capped: overachievement shows);
  growth → achieved rate / target rate × 100, clamped to 0..200, None for a target rate ≤ 0;
  level → value / target × 100 capped at 100 (at_most: 100 while within the limit, else
  limit / value × 100). Percentages are rounded half-up to two decimals.

Glossary: 完成 complete; 进度 progress; 完成率 completion rate; 竣工/完工 finished building;
建成 built; 办结 settled (a case); 过半 over half; 近半 nearly half; 成 tenth (四成 = 40%);
百分之 percent; 增长 growth; 同比 year on year; 亿元/万元 10^8 / 10^4 yuan; 亩 mu (1/15 ha);
家 (counter for firms); 困难 difficulty; 需协调 needs coordination; 滞后 lagging; 卡点/堵点
bottleneck; 资金缺口 funding gap; 无 / 暂无 / 没有 none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from bot.domain import attribution
from bot.domain.model import Target
from bot.domain.numerals import BIG_UNITS, DIGITS, SMALL_UNITS, has_cn_digit, parse_number


@dataclass(frozen=True)
class Quantity:
    """A number with its unit, as written (320 亿元), and the words before it (完成投资)."""

    metric: str | None
    value: float
    unit: str
    source: str
    span: tuple[int, int]


@dataclass(frozen=True)
class Measurement:
    """A reported quantity set against a target; target None when nothing matched."""

    target: Target | None
    value_in_target_unit: float | None
    percent_of_target: float | None
    quantity: Quantity


# ------------------------------------------------------------------------------------- units

# Base units: (family, factor to the family's base). Longer names first in the regex.
_BASE_UNITS: dict[str, tuple[str, float]] = {
    "元": ("money", 1),
    "块钱": ("money", 1),
    "美元": ("usd", 1),
    "平方公里": ("floor_area", 1_000_000),
    "平方米": ("floor_area", 1),
    "平米": ("floor_area", 1),
    "m²": ("floor_area", 1),
    "m2": ("floor_area", 1),
    "㎡": ("floor_area", 1),
    "亩": ("land", 1),
    "公顷": ("land", 15),
    "公里": ("length", 1000),
    "千米": ("length", 1000),
    "km": ("length", 1000),
    "米": ("length", 1),
    "吨": ("mass", 1000),
    "公斤": ("mass", 1),
    "千克": ("mass", 1),
    "千瓦时": ("energy", 1),
    "千瓦": ("power", 1),
    "兆瓦": ("power", 1000),
    "标箱": ("teu", 1),
    "载重吨": ("dwt", 1),
    "百分点": ("pp", 1),
    "%": ("percent", 1),
    "％": ("percent", 1),
}
_COUNT_UNITS = (
    "人次",
    "个",
    "家",
    "座",
    "所",
    "项",
    "台",
    "辆",
    "套",
    "户",
    "人",
    "名",
    "间",
    "张",
    "条",
    "处",
    "栋",
    "幢",
    "宗",
    "场",
    "次",
    "件",
    "株",
    "棵",
    "根",
    "盏",
    "艘",
    "架",
    "部",
    "床位",
    "床",
    "口",
    "眼",
    "批次",
    "片",
    "份",
    "支",
    "门",
    "班",
    "例",
)
for _unit in _COUNT_UNITS:
    _BASE_UNITS.setdefault(_unit, (_unit, 1))
_GENERIC_COUNT = "个"
_SCALE_CHARS = "十百千万亿"
_BARE_SCALE_FAMILY = "scalar"

_BASE_ALT = "|".join(re.escape(u) for u in sorted(_BASE_UNITS, key=len, reverse=True))
_ARABIC = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
_CN = r"[〇零一二两三四五六七八九十百千万亿]+"
# A quantity: number, optional 多/余 (approximately), optional scale, unit or a bare 万/亿.
# 个 before 月/工作日/小时 … is a duration, 个百分点 a rate change.
_RE_QUANTITY = re.compile(
    rf"(?<![\d.,A-Za-z第])(?P<num>{_ARABIC}[{_SCALE_CHARS}]*?|{_CN}?)(?P<approx>多|余)?"
    rf"(?P<scale>[{_SCALE_CHARS}]*?)(?:个(?=百分点))?"
    rf"(?P<base>(?:{_BASE_ALT})(?!月|工作日|小时|季度|星期|礼拜|周|年|半月|多月)"
    r"|(?<=[万亿])(?![\d.]))"
)
_RE_PERCENT_CN = re.compile(r"百分之(?P<num>\d+(?:\.\d+)?|[〇零一二两三四五六七八九十百点]+)")
_RE_TENTHS = re.compile(
    r"(?<![〇零一二两三四五六七八九十\d])(?P<n>[1-9一二三四五六七八九十])成"
    r"(?P<n2>[1-9一二三四五六七八九])?"
)


def parse_unit(unit: str) -> tuple[str, float] | None:
    """(family, factor to the family's base) of a unit like 亿元, 万亩, 公里; None if unknown."""
    scale = 1.0
    i = 0
    while i < len(unit) and unit[i] in _SCALE_CHARS and unit[i:] not in _BASE_UNITS:
        scale *= SMALL_UNITS.get(unit[i]) or BIG_UNITS[unit[i]]
        i += 1
    base = unit[i:]
    if not base:
        return (_BARE_SCALE_FAMILY, scale) if i else None
    known = _BASE_UNITS.get(base)
    if known is None:
        return None
    return known[0], known[1] * scale


def convert(value: float, unit: str, to_unit: str) -> float | None:
    """`value` in `unit` expressed in `to_unit`; None if the two do not measure the same thing."""
    if unit == to_unit:
        return value
    source, target = parse_unit(unit), parse_unit(to_unit)
    if source is None or target is None:
        return None
    (family, factor), (to_family, to_factor) = source, target
    compatible = (
        family == to_family
        or (family == _BARE_SCALE_FAMILY and to_family not in ("percent", "pp"))
        or (_GENERIC_COUNT in (family, to_family) and _is_count(family) and _is_count(to_family))
    )
    return _tidy(value * factor / to_factor) if compatible else None


def _is_count(family: str) -> bool:
    return family in _COUNT_UNITS


def _tidy(value: float) -> float:
    """Rounds away binary noise (0.32000000000000006 → 0.32)."""
    return round(value, 9)


# ---------------------------------------------------------------------------------- quantities

_CLAUSE_BREAK = "，,。；;！!？?\n、：:（）()"
_RE_LEAD_NOISE = re.compile(
    r"^(?:截至|截止到?|到)?(?:目前|当前|现在|今年|本年|年初|\d{1,2}(?:-\d{1,2})?月份?(?:底|末)?"
    r"(?:\d{1,2}[日号])?|本月|当月|上月)?(?:以来|为止|止)?"
    r"(?:已经|已|共计|合计|总计|共|累计|其中|另外|另|同时|并|现|均|实际)*"
)
_RE_TRAIL_NOISE = re.compile(r"(?:达到|达|为|约|近|超过|超|逾|突破|共|计|了|累计|合计|总计|是)+$")
_RE_CJK_OR_ALNUM = re.compile(r"[\u4e00-\u9fffA-Za-z0-9]")


def _number_value(num: str, scale: str) -> float | None:
    if not has_cn_digit(num) and not re.match(r"\d", num):
        return None  # 千万, 万亿 alone are words here, not numbers
    return parse_number(num + scale)


def _display(number_text: str, total: float, base: str) -> tuple[float, str]:
    """Value and unit as people write them: keep a final 万/亿 with the unit, fold the rest."""
    last = number_text[-1]
    if last in BIG_UNITS:
        return _tidy(total / BIG_UNITS[last]), last + base
    return _tidy(total), base


def _metric_before(text: str, start: int, floor: int) -> str | None:
    """The words naming what a number measures: its clause up to the number, trimmed."""
    i = start
    while i > floor and text[i - 1] not in _CLAUSE_BREAK:
        i -= 1
    words = text[i:start].strip()
    words = _RE_LEAD_NOISE.sub("", words, count=1)
    words = _RE_TRAIL_NOISE.sub("", words).strip()
    if len(words) > 16:
        words = words[-16:]
    return words if _RE_CJK_OR_ALNUM.search(words) else None


def extract_quantities(text: str) -> list[Quantity]:
    """Every number with a unit or a percentage in `text`, in order, spans into `text`."""
    found: list[tuple[int, int, float, str]] = []
    for match in _RE_QUANTITY.finditer(text):
        num, scale, base = match["num"], match["scale"], match["base"]
        total = _number_value(num, scale)
        if total is None or num == "一":
            continue  # 一个, 一户一策, 一次性: idiom far more often than a count of one
        if not base and (num + scale)[-1] not in BIG_UNITS:
            continue
        if base == "％":
            base = "%"
        value, unit = _display(num + scale, total, base)
        found.append((match.start(), match.end(), value, unit))
    for match in _RE_PERCENT_CN.finditer(text):
        value_pc = _cn_decimal(match["num"])
        if value_pc is not None:
            found.append((match.start(), match.end(), value_pc, "%"))
    for match in _RE_TENTHS.finditer(text):
        found.append((match.start(), match.end(), _tenths(match), "%"))
    found.sort()
    quantities: list[Quantity] = []
    floor = 0
    for start, end, value, unit in found:
        if quantities and start < quantities[-1].span[1]:
            continue  # overlapping finds: the first one wins
        metric = _metric_before(text, start, floor)
        quantities.append(Quantity(metric, value, unit, text[start:end], (start, end)))
        floor = end
    return quantities


def _cn_decimal(text: str) -> float | None:
    """百分之 numbers: 四十五, 四十五点五, 12.5."""
    whole, _, fraction = text.partition("点")
    value = parse_number(whole)
    if value is None or not fraction:
        return value
    digits = "".join(str(DIGITS[ch]) if ch in DIGITS else ch for ch in fraction)
    return float(f"{int(value)}.{digits}") if digits.isdigit() else None


def _tenths(match: re.Match[str]) -> float:
    first = parse_number(match["n"]) or 0
    second = parse_number(match["n2"]) if match["n2"] else 0
    return first * 10 + (second or 0)


# ---------------------------------------------------------------------------------- progress

_RE_CLAUSE = re.compile(r"[，,。；;！!？?\n]")
# The keyword nearest before a percentage decides what it is: progress or a rate.
_RE_PERCENT_KEYWORD = re.compile(
    r"(?P<progress>完成率|完成进度|形象进度|总进度|进度|完成|推进了?|实施了?"
    r"|占(?:年度|全年)?(?:计划|目标|任务))"
    r"|(?P<rate>增长|增速|增幅|下降|降低|减少|提高|提升|上涨|同比|环比|率|占比|比重|比例|覆盖"
    r"|稳定在|保持在)"
)
# 计划 as a verb (计划6月完成) plans; 年度计划的62.5% is a share of the annual plan.
_RE_PLANNED = re.compile(
    r"预计|(?<!年度)(?<!全年)计划(?![的数])|力争|争取|确保|拟|将|有望|可望|预期|要求|打算|准备|(?<![目当提])前完成"
)
_RE_HALF = re.compile(
    r"(?P<neg>未|没有|没|尚未|不到|不足)?"
    r"(?:(?P<near>近半|接近一半|将近一半|近一半)|(?P<most>大半)"
    r"|过半数|过半|超过一半|超过半数|半数以上|一半以上|一半)"
)
_RE_DONE = re.compile(
    r"全面完成|全部完成|圆满完成|顺利完成|提前完成|超额完成|已经完成|已完成|完成|"
    r"全面竣工|已竣工|竣工|已完工|完工|已建成|建成|已办结|办结|已结项|结项"
)
_RE_DONE_BLOCKED_BEFORE = re.compile(
    r"(?:未|尚未|没有|没|未能|还未|还没有?|暂未|仍未|不能|无法|难以|部分|基本|大部分|大体|初步|"
    r"待|正在|即将|能否|是否|前|底|末|内)[^，,。；;]{0,3}$"
)
# What may follow a completion word for it to mean the whole task is done.
_RE_DONE_TAIL = re.compile(
    r"^(?:了)?(?:全部|全年|年度|既定|各项|整体|所有|本项|该项)*"
    r"(?:目标任务|工作任务|建设任务|任务|目标|计划|建设|工程|项目|工作|整改)?"
    r"(?:的)?(?:并|且)?(?:验收|投用|投入使用|投产|交付|通车|运营|备案|销号)?(?:工作)?[。！!.\s]*$"
)
_RE_HAS_NUMBER = re.compile(r"[\d〇零一二两三四五六七八九十百千万亿]")


def _clause_around(text: str, start: int, end: int) -> tuple[str, str]:
    """The text of the clause before `start` and after `end`."""
    clause_start = 0
    for match in _RE_CLAUSE.finditer(text, 0, start):
        clause_start = match.end()
    stop = _RE_CLAUSE.search(text, end)
    return text[clause_start:start], text[end : stop.start() if stop else len(text)]


# What may stand before a progress word for the percentage to be the whole task's: nothing,
# time words, or words naming the task itself (项目整体进度, 工程形象进度). Anything else names
# a part of it (征迁完成72%, 二期完成60%, 设计完成80%), which is not the task's progress.
_RE_WHOLE_TASK_SUBJECT = re.compile(
    r"(?:截至|截止到?|到)?(?:目前|当前|现在|本月|本季度|今年|年初以来|\d{1,2}月(?:底|末)?)?(?:为止|止)?"
    r"(?:[，,]|该|本|此|项目|工程|任务|年度|全年|总体|整体|总|建设|工作|各项|本项|该项|目标|计划|的"
    r"|已经|已|累计|共|约|达到|达|为|实际|形象|顺利|稳步|有序|推进|落实|实施)*"
)


_RE_AS_A_WHOLE = re.compile(r"^.*?(?:总体|整体)")
# Words naming a part or a step of a task.
_RE_PART_WORDS = re.compile(
    r"征迁|拆迁|征地|设计|规划编制|土建|土方|主体|筹备|招标|选址|前期|初稿|一期|二期|三期|布展|"
    r"业态|方案|可研|立项|审批|报批|签约"
)
# Between a progress word and its percentage: words of the whole task only (完成年度任务的45%),
# not a part (完成征迁72%, 完成设计80%).
_RE_BETWEEN_WHOLE = re.compile(
    r"(?:了|年度|全年|总|计划|目标|任务|工作|建设|的|约|近|达到?|为|进度|率|量|总量|共|累计|全部)*"
)
_RE_CJK_PAIR = re.compile(r"(?=([\u4e00-\u9fff]{2}))")


def _whole_task(subject: str, task_text: str = "") -> bool:
    """True if the words before a progress word name the whole task: none, time words, X总体 /
    X整体, or words of the task's own text (督察反馈问题整改完成率 on a task about them)."""
    subject = subject.strip()
    if _RE_PART_WORDS.search(subject):
        return False
    if _RE_WHOLE_TASK_SUBJECT.fullmatch(subject) is not None:
        return True
    if _RE_WHOLE_TASK_SUBJECT.fullmatch(_RE_AS_A_WHOLE.sub("", subject)) is not None:
        return True
    pairs = _RE_CJK_PAIR.findall(subject)
    if len(pairs) < 2 or not task_text:
        return False
    return sum(p in task_text for p in pairs) >= 0.6 * len(pairs)


# 三分之一, 2/3 of the work: a fraction stated as progress.
_RE_FRACTION = re.compile(
    r"(?P<neg>未|没有|不到|不足)?(?:约|近|超过|超)?"
    r"(?P<den>[一二三四五六七八九十\d]+)分之(?P<num>[一二三四五六七八九十\d]+)"
)


def _explicit_progress(text: str, task_text: str) -> float | None:
    """The first progress percentage (tied to a progress word, else bare) that is not planned
    and is the whole task's, not a part's."""
    bare: float | None = None
    for quantity in extract_quantities(text):
        if quantity.unit != "%":
            continue
        before, _ = _clause_around(text, *quantity.span)
        if _RE_PLANNED.search(before):
            continue
        keywords = list(_RE_PERCENT_KEYWORD.finditer(before))
        if not keywords:
            if bare is None and _whole_task(before, task_text):
                bare = quantity.value
            continue
        last = keywords[-1]
        between = before[last.end() :]
        if (
            last["progress"]
            and _whole_task(before[: last.start()], task_text)
            and _RE_BETWEEN_WHOLE.fullmatch(between)
        ):
            return quantity.value
    return bare


def _fraction_progress(text: str, task_text: str) -> float | None:
    """完成约三分之一 → 33.3: a fraction tied to a progress word, of the whole task."""
    for match in _RE_FRACTION.finditer(text):
        if match["neg"]:
            continue
        num, den = parse_number(match["num"]), parse_number(match["den"])
        if not num or not den or num > den:
            continue
        before, _ = _clause_around(text, *match.span())
        if _RE_PLANNED.search(before):
            continue
        keywords = list(_RE_PERCENT_KEYWORD.finditer(before))
        subject = before[: keywords[-1].start()] if keywords else ""
        between = before[keywords[-1].end() :] if keywords else ""
        if (
            keywords
            and keywords[-1]["progress"]
            and _whole_task(subject, task_text)
            and _RE_BETWEEN_WHOLE.fullmatch(between)
        ):
            return round(num / den * 100, 1)
    return None


def _half_progress(text: str) -> float | None:
    for match in _RE_HALF.finditer(text):
        if match["neg"]:
            continue
        before, _ = _clause_around(text, *match.span())
        if _RE_PLANNED.search(before):
            continue
        return 45.0 if match["near"] else 60.0 if match["most"] else 50.0
    return None


def _is_done(text: str, task_text: str) -> bool:
    for match in _RE_DONE.finditer(text):
        before, after = _clause_around(text, *match.span())
        if _RE_PLANNED.search(before) or _RE_DONE_BLOCKED_BEFORE.search(before):
            continue
        if not _whole_task(before, task_text):
            continue  # 一期已完工: a part of the task
        if after.startswith(("率", "进度", "情况", "度")) or _RE_HAS_NUMBER.search(after):
            continue
        if _RE_DONE_TAIL.match(after):
            return True
    return False


def parse_percent(text: str, task_text: str = "") -> float | None:
    """Overall progress a reply states, in percent (完成45% → 45.0); None if it states none.

    `task_text`: the task's own words, which name the whole task rather than a part of it.
    """
    if not text:
        return None
    explicit = _explicit_progress(text, task_text)
    if explicit is not None:
        return explicit
    fraction = _fraction_progress(text, task_text)
    if fraction is not None:
        return fraction
    half = _half_progress(text)
    if half is not None:
        return half
    return 100.0 if _is_done(text, task_text) else None


# ------------------------------------------------------------------------------- difficulties

_DIFFICULTY_TERMS = (
    "资金缺口",
    "未达预期",
    "困难",
    "滞后",
    "缓慢",
    "较慢",
    "偏慢",
    "难度大",
    "难度较大",
    "受阻",
    "阻工",
    "卡点",
    "堵点",
    "难点",
    "瓶颈",
    "障碍",
    "延期",
    "推迟",
    "延误",
    "停工",
    "停滞",
    "暂停",
    "搁置",
    "制约",
    "短板",
    "风险",
    "隐患",
    "缺口",
    "不足",
    "未到位",
    "不到位",
    "尚未出台",
    "未出台",
    "尚未明确",
    "未明确",
    "不明确",
    "未批复",
    "未获批",
    "未批",
    "缺乏",
    "缺少",
    "欠缺",
    "受限",
    "限制",
    "招引难",
    "招工难",
    "用工难",
    "融资难",
    "征迁难",
    "拆迁难",
    "推进难",
    "落地难",
    "审批难",
    "难以",
    "矛盾",
    "纠纷",
)
# A call for help: 需市里协调, 请上级部门给予支持, 需供电公司配合, 亟需省里协调解决.
_REQUEST = (
    r"(?:亟|急|恳|还|仍)?(?:需要?|请求?|恳请|希望|建议)[^，,。；;！!？?\s]{0,10}?"
    r"(?:协调|支持|配合|帮助|帮扶|指导|研究|解决|加快|加大|加强|审批|办理|拨付|安排|统筹|出台|"
    r"落实|交地|批复|明确)(?:解决)?"
)
_RE_REQUEST = re.compile(_REQUEST)
# 问题 is a difficulty only as one (存在问题, 问题突出), not as the task's object (查处违规问题9个,
# 督察反馈问题整改); 受…影响 names a cause.
_PROBLEM = (
    r"(?:存在|遇到|面临|出现)[^，,。；;！!？?\s]{0,6}问题|问题(?:较多|突出|较大|严重|仍然?存在)"
    r"|受[^，,。；;！!？?\s]{1,8}影响"
)
_RE_DIFFICULTY = re.compile(
    _REQUEST + "|" + _PROBLEM + "|" + "|".join(sorted(_DIFFICULTY_TERMS, key=len, reverse=True))
)
_NEGATION = (
    r"(?:无(?![法力从])|没有|没(?!法)|暂无|暂未发现|尚无|并无|均无|未发现|未发生|未出现|未遇到|"
    r"没遇到|未有|不存在|无需|不需要|不需|无须|不用|已(?:经)?(?:协调)?(?:解决|化解|排除|消除))"
)
_RE_NEGATED_BEFORE = re.compile(_NEGATION + r"[^，,。；;！!？?\s]{0,4}$")
_RE_RESOLVED_AFTER = re.compile(
    r"^[^，,。；;]{0,6}?(?:已经?|均已|都已)(?:实现)?(?:动态)?(?:协调)?(?:解决|化解|排除|消除|落实|清零|整改到位)"
)
_RE_SENTENCE = re.compile(r"[^。；;！!？?\n]+")
_RE_CLAUSE_PART = re.compile(r"[^，,]+")
_RE_LEADING_WORDS = re.compile(
    r"^(?:但是?|不过|目前|当前|现阶段|现|主要|另外|同时|其中|此外|存在的?|遇到的?|面临的?|困难[:：]|"
    r"问题[:：]|困难和问题[:：]?)+"
)
_RE_HAS_AMOUNT = re.compile(r"\d|[一二三四五六七八九十百千万亿]+(?:个|家|亿|万|元|亩|公里)")


def _names_difficulty(clause: str) -> bool:
    """True if the clause names a difficulty or asks for help, not negated or resolved."""
    for match in _RE_DIFFICULTY.finditer(clause):
        before = clause[max(0, match.start() - 12) : match.start()]
        after = clause[match.end() :]
        if _RE_NEGATED_BEFORE.search(before) or _RE_RESOLVED_AFTER.match(after):
            continue
        if match.group(0).startswith("协调") and before.endswith("已"):
            continue  # 已协调解决: settled, not asked for
        if match.group(0).startswith(("需", "请", "希望")) and before.endswith(("不", "无", "毋")):
            continue  # 不需要市里协调
        return True
    return False


def detect_difficulty(text: str) -> list[str]:
    """The clauses of `text` that state a difficulty or ask for help, in order, each once.

    A clause is what lies between commas: "用地指标需市里协调", "因场地问题需民政局协调". A call
    for help keeps the clause before it when that one states the problem it is about
    ("低空经济政策尚未出台，请上级部门给予支持"; "杆线迁改难度大，需供电公司配合"); a clause that
    only reports progress (it has figures) is not taken along. Negated or settled ones
    (无困难, 暂无问题, 已协调解决) are none.
    """
    found: list[str] = []
    for sentence in _RE_SENTENCE.findall(text or ""):
        clauses = [c.strip() for c in _RE_CLAUSE_PART.findall(sentence) if c.strip()]
        kept: list[str] = []
        previous_problem: str | None = None
        for clause in clauses:
            if not _names_difficulty(clause):
                previous_problem = None
                continue
            trimmed = _RE_LEADING_WORDS.sub("", clause) or clause
            request = _RE_REQUEST.search(clause) is not None
            if request and previous_problem is not None and kept and kept[-1] == previous_problem:
                kept[-1] = f"{previous_problem}，{trimmed}"
                previous_problem = None
                continue
            if not request and _RE_HAS_AMOUNT.search(clause) is None:
                previous_problem = trimmed
            elif not request:
                previous_problem = None
            kept.append(trimmed)
        found.extend(c for c in kept if c not in found)
    return found


# ---------------------------------------------------------------------------------- measuring

_RE_GROWTH_WORD = re.compile(r"增长|增速|增幅|同比|环比|上涨|提高|提升|下降|降低|减少")
_RE_DECLINE_WORD = re.compile(r"下降|降低|减少")
_RE_NOT_ACHIEVED = re.compile(r"预计|计划|力争|目标|拟|还差|尚差|差|缺口|缺|剩余|尚需|还需|未完成")
_RE_PROGRESS_WORD = re.compile(r"完成率|进度|完成")
_FILLER_CHARS = set("已了的共累计达约为（）()、“”\"' ")
_MIN_SIMILARITY = 1 / 3
_GROWTH_CAP = 200.0


def _similarity(reported: str | None, target: str) -> float:
    """Share of the target metric's characters found in the reported metric."""
    if not reported:
        return 0.0
    wanted = set(target) - _FILLER_CHARS
    if not wanted:
        return 0.0
    return len(wanted & set(reported)) / len(wanted)


def _kind_of(quantity: Quantity) -> str | None:
    """What a quantity can be measured against: amount, growth, level, or None (never)."""
    metric = quantity.metric or ""
    if _RE_NOT_ACHIEVED.search(metric):
        return None
    if quantity.unit == "%":
        if _RE_GROWTH_WORD.search(metric):
            return "growth"
        if _RE_PROGRESS_WORD.search(metric):
            return None  # overall progress: parse_percent's business
        return "level"
    return "amount"


def _fits(quantity: Quantity, kind: str | None, target: Target) -> float | None:
    """The quantity in the target's unit if it can be measured against `target`, else None."""
    if kind is None:
        return None
    if kind == "growth" and target.kind != "growth":
        return None
    if target.kind == "growth" and kind != "growth":
        return None
    if kind == "level" and target.kind == "amount" and target.unit not in ("%", "％"):
        return None
    value = convert(quantity.value, quantity.unit, target.unit)
    if value is not None and kind == "growth" and _RE_DECLINE_WORD.search(quantity.metric or ""):
        value = -value
    return value


def _round2(value: float) -> float:
    """Two decimals, halves rounded up as people expect (10.625 → 10.63)."""
    return float(Decimal(repr(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def percent_of(target: Target, value: float) -> float | None:
    """How far `value` (in the target's unit) goes towards the target, in percent."""
    if target.kind == "growth":
        if target.value <= 0:
            return None
        return _round2(min(max(value / target.value * 100, 0.0), _GROWTH_CAP))
    if target.value == 0:
        return None
    if target.kind == "level":
        if target.comparator == "at_most":
            return 100.0 if value <= target.value else _round2(target.value / value * 100)
        return _round2(min(value / target.value * 100, 100.0))
    return _round2(value / target.value * 100)


def _same_unit_family(unit: str, to_unit: str) -> bool:
    """True if the two units measure the same thing without help from 个 or a bare scale."""
    if unit == to_unit:
        return True
    source, target = parse_unit(unit), parse_unit(to_unit)
    if source is None or target is None:
        return False
    return source[0] == target[0] or source[0] == _BARE_SCALE_FAMILY


_RE_CLAUSE_BOUNDARY = re.compile(r"[，,。；;！!？?\n（）()]")


_RE_SENTENCE_END = re.compile(r"[。；;！!？?\n]")
# Brackets without a figure are part of the words (新（改）建, 固定资产投资（不含农户））.
_RE_INSERTED = re.compile(r"[（(][^（）()\d]{1,12}[）)]")


def _contexts(text: str, quantities: list[Quantity]) -> list[tuple[attribution.Context, bool]]:
    """Per quantity: its words (bot.domain.attribution.Context) and whether it is a scope (a
    verb and another number follow in its clause: 512个重点项目已开工386个)."""
    masked = _RE_INSERTED.sub(lambda m: "_" * len(m.group(0)), text)
    bounds = [0] + [m.end() for m in _RE_CLAUSE_BOUNDARY.finditer(masked)]
    out = []
    for i, q in enumerate(quantities):
        start = max(b for b in bounds if b <= q.span[0])
        end_match = _RE_CLAUSE_BOUNDARY.search(masked, q.span[1])
        end = end_match.start() if end_match else len(text)
        before = text[start : q.span[0]]
        own_start = start
        if i > 0 and quantities[i - 1].span[1] > start:
            own_start = quantities[i - 1].span[1]
        own = text[own_start : q.span[0]]
        own = own[own.rfind("、") + 1 :]
        previous = ""
        if start > 0 and masked[start - 1] in "，,":
            sentence = max(
                (m.end() for m in _RE_SENTENCE_END.finditer(masked, 0, start)), default=0
            )
            previous = text[sentence : start - 1]
        following = quantities[i + 1] if i + 1 < len(quantities) else None
        stop = following.span[0] if following is not None and following.span[0] < end else end
        after = text[q.span[1] : stop].split("、")[0]
        # A list (完成投资341.2亿元、竣工项目12个) is no scope: only what precedes a 、 counts.
        scope = stop < end and bool(attribution.verbs_in(after))
        context = attribution.Context(before, own, after, previous)
        out.append((context, scope))
    return out


def _specific_unit(unit: str) -> bool:
    """A unit that says what is counted (所, 公里, 亩), unlike 个, a percentage or 万 alone."""
    found = parse_unit(unit)
    return found is not None and found[0] not in (
        _GENERIC_COUNT,
        _BARE_SCALE_FAMILY,
        "percent",
        "pp",
        "money",
    )


def measure_against_targets(text: str, targets: list[Target]) -> list[Measurement]:
    """Every quantity in `text`, each measured against the target it is progress toward, if
    one agrees in action and object (bot.domain.attribution); unread when unsure."""
    quantities = extract_quantities(text)
    contexts = _contexts(text, quantities)
    options: dict[int, list[tuple[float, int, float]]] = {}  # quantity → (score, target, value)
    for qi, quantity in enumerate(quantities):
        context, scope = contexts[qi]
        kind = _kind_of(quantity)
        if kind is None or scope:
            continue
        same_unit = [
            ti
            for ti, target in enumerate(targets)
            if _specific_unit(quantity.unit) and _same_unit_family(quantity.unit, target.unit)
        ]
        for ti, target in enumerate(targets):
            value = _fits(quantity, kind, target)
            if value is None:
                continue
            score = attribution.agreement(context, target, only_unit=same_unit == [ti])
            if score is not None:
                options.setdefault(qi, []).append((score, ti, value))
    # A quantity goes to its one best target (a tie: to none); a target takes one quantity,
    # the cumulative one (累计) if one is, else the best; a tie leaves it unread.
    best: dict[int, tuple[float, int, float]] = {}
    for qi, found in options.items():
        found.sort(reverse=True)
        if len(found) > 1 and found[0][0] - found[1][0] < 0.05:
            continue
        best[qi] = found[0]
    by_target: dict[int, list[int]] = {}
    for qi, (_, ti, _) in best.items():
        by_target.setdefault(ti, []).append(qi)
    chosen: dict[int, tuple[int, float]] = {}
    for ti, qis in by_target.items():
        if len(qis) > 1:
            cumulative = [qi for qi in qis if "累计" in contexts[qi][0].before[-8:]]
            if len(cumulative) != 1:
                continue
            qis = cumulative
        chosen[qis[0]] = (ti, best[qis[0]][2])
    result: list[Measurement] = []
    for qi, quantity in enumerate(quantities):
        if qi in chosen:
            ti, value = chosen[qi]
            target = targets[ti]
            result.append(Measurement(target, value, percent_of(target, value), quantity))
        else:
            result.append(Measurement(None, None, None, quantity))
    return result
