"""Reads the expected completion date (预计完成时间) out of a liaison's short Chinese reply.

`parse_due_date(text, today)` runs our own pre-compiled rules first and falls back to
dateparser (on the first 200 characters) only when none of them matched anything.
Rules for the ambiguous cases:

- A date without a year is the next such date on or after `today`, looking one year ahead at
  most (6月30日 on 2026-07-01 → 2027-06-30; 2月29日 on 2026-05-10 → None, 2027 has none).
  A date with a year (2026年…, 今年…, 明年…) is taken literally, even if already past.
- A period used as a deadline means its last day: 9月 / 9月份 / 9月前 / 9月底 → 09-30,
  三季度末 → 09-30, 上半年 / 年中 → 06-30, 下半年 / 年底 / 年内 → 12-31, 明年 → next 12-31.
  The ten-day thirds of a month likewise: 上旬 and 月初 → 10th, 中旬 and 上中旬 → 20th,
  下旬 and 中下旬 → last day; 月中 → 15th; 年初 → 01-31.
- Weeks start on Monday. 周五 alone → the next Friday on or after `today` (so on a Friday it
  is `today`); 本周五 / 这周五 → this week's Friday even if past; 下周三 → Wednesday of next
  week; 本周内 → this week's Sunday; 下周内 / 下周前 / 下周 → next week's Sunday.
- N天内 / N天后 → today + N; N周 → + 7N; N个月 → calendar months, clamped to the month's last
  day (一个月后 from 01-31 → 02-28); 半个月 → + 15 days; N个工作日内 → the N-th workday after
  `today` by the statutory calendar (`WorkCalendar.add_workdays`).
- Several dates: a date preceded by a past marker (已于, 截至, 自, 原定) or followed by one
  (以来, 起, 已) is an event or a superseded plan, not a deadline, and is skipped. Of the
  rest, a date tied to a completion word (followed by 前 / 完成 / 竣工 …, or preceded by
  预计 / 计划 / 力争 / 争取 / 确保 / 推迟到 …) outranks one tied to a start word (开工, 启动),
  which outranks an untied date; then a future date outranks a past one; remaining ties go to
  the date written last. If the winner is an impossible date (2月30日, 13月1日, 2026-02-29)
  the answer is None rather than a guess.
- Vague words (尽快, 近期, 适时, 抓紧) are no date: None.

Glossary: 月底/月末 end of month; 季度 quarter; 上半年/下半年 first/second half-year;
年中 mid-year; 年底/年末 year end; 年内 within the year; 旬 ten-day third of a month;
周/星期/礼拜 week; 工作日 workday; 预计 expected; 计划 planned; 力争/争取 strive to;
确保 ensure; 前 before; 左右 about; 已于 already on; 截至 as of.
"""

from __future__ import annotations

import calendar as _pycal
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from dateparser.search import search_dates

from bot.domain.numerals import replace_cn_numerals
from bot.domain.workcal import WorkCalendar

# ---------------------------------------------------------------------------- date arithmetic


def _last_day(year: int, month: int) -> int:
    return _pycal.monthrange(year, month)[1]


def _month_end(year: int, month: int) -> date:
    return date(year, month, _last_day(year, month))


def add_months(day: date, months: int) -> date:
    """`day` moved by whole calendar months, clamped to the target month's last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, _last_day(year, month)))


def _safe_date(year: int, month: int, day: int) -> date | None:
    if not (1 <= month <= 12) or not (1 <= day <= 31) or not (1 <= year <= 9999):
        return None
    if day > _last_day(year, month):
        return None
    return date(year, month, day)


def _next_on_or_after(today: date, build: Callable[[int], date | None]) -> date | None:
    """The first of build(this year), build(next year) that exists and is not before `today`."""
    for year in (today.year, today.year + 1):
        found = build(year)
        if found is not None and found >= today:
            return found
    return None


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


# -------------------------------------------------------------------------------- patterns

# The text is NFKC-normalised and Chinese numerals below 万 are rewritten as Arabic digits
# before matching, so 六月三十日 is seen as 6月30日 and 下周五 as 下周5.
_YEAR = (
    r"(?:(?P<y>(?<!\d)(?:[12]\d{3}|\d{2}(?=年(?:\d{1,2}月|底|末))))年度?"
    r"|(?P<ry>今年|本年度?|明年|次年|来年|后年|下一年|去年|前年))"
)
_DAY_SUFFIX = r"(?P<suf>底|末|上中旬|中下旬|上旬|中旬|下旬|初|中|内|以前|之前|前)?"
_NOT_A_DAY = r"(?![楼线院文令机位台车栋幢房室馆厂库码])"

_RE_YMD = re.compile(
    r"(?<![\d.])(?P<y>\d{4})(?P<sep>[-/.])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})(?![\d.])"
)
_RE_MD = re.compile(
    rf"(?:{_YEAR}|(?<![\d.]))(?P<m>\d{{1,2}})月份?(?P<d>\d{{1,2}})"
    rf"(?:(?:日|号){_NOT_A_DAY}|(?![\d.%万亿千百元个家项]))"
)
_RE_SHORT = re.compile(
    r"(?<![\d./\-:A-Za-z])(?P<m>\d{1,2})(?P<sep>[/.])(?P<d>\d{1,2})"
    r"(?![\d./%万亿千百元个家项座所公米亩吨倍人户台辆套])"
)
_RE_SHORT_NOT_DATE_BEFORE = re.compile(
    r"(?:完成|进度|率|达到?|为|约|近|超过?|增长|下降|提高|提升|占|比|了)$"
)
_RE_REL_MONTH_DAY = re.compile(
    r"(?P<rel>本|这个?|当|下下个?|下个?|次)月份?(?P<d>\d{1,2})(?:日|号)" + _NOT_A_DAY
)
_RE_WORKDAYS = re.compile(r"(?<![\d.])(?P<n>\d{1,3})个?工作日")
_RE_SPAN = re.compile(
    r"(?<![\d.上下多大第])(?P<n>\d{1,3}|半)(?P<ge>个)?(?P<half>半)?(?P<u>天|日|周|星期|礼拜|月|年)(?:时间)?"
    r"(?P<suf>之内|以内|之后|以后|内|后|左右)?(?!以?前|之前)"
)
_RE_TODAY_WORDS = re.compile(r"大后天|后天|明天|明日|今天|今日|当天")
_RE_QUARTER = re.compile(
    rf"(?:{_YEAR})?(?:第?(?<!\d)(?P<q>[1-4])季度?|[Qq](?P<q2>[1-4])(?!\d))"
    r"(?P<suf>末|底|内|前|结束前|结束)?"
)
_RE_REL_QUARTER = re.compile(r"(?P<rel>本|这个?|当|下个?|次)?(?:季度|季)(?P<suf>末|底|内|前)")
_RE_REL_QUARTER_BARE = re.compile(r"(?P<rel>本|这个?|当|下个?|次)(?:季度|季)")
_RE_MONTH = re.compile(rf"(?:{_YEAR}|(?<![\d.]))(?P<m>\d{{1,2}})月份?" + _DAY_SUFFIX)
_RE_MONTH_RANGE = re.compile(r"(?<![\d.])\d{1,2}[-~至到](?=\d{1,2}月)")
_RE_YEAR_LEVEL = re.compile(rf"{_YEAR}年?(?P<p>上半年|下半年|年中|中|底|末|内|初)?")
_RE_HALF_YEAR = re.compile(r"(?<![\d年])(?P<p>上半年|下半年|年中|年底|年末|年内|年初)(?:底|末)?")
_RE_REL_MONTH = re.compile(
    r"(?P<rel>本|这个?|当|下下个?|下个?|次|上个?)月份?"
    + _DAY_SUFFIX
    + r"|(?<![\d个])月(?P<suf2>底|末)"
)
_RE_WEEKDAY = re.compile(
    r"(?P<rel>下下个?|下个?|下一个?|本|这个?|这一|上个?)?(?:周|星期|礼拜)(?P<d>[1-7日天])(?!\d)"
)
_RE_WEEK = re.compile(
    r"(?P<rel>下下个?|下个?|下一个?|本|这个?|这一)(?:周|星期|礼拜)(?:内|前|末|底)?|周末"
)
_RE_DAY = re.compile(r"(?<![\d月/.\-])(?P<d>\d{1,2})(?:日|号)(?!\d)" + _NOT_A_DAY)

_RE_CLAUSE_END = re.compile(r"[，,。；;！!？?\n]")
_RE_PAST_BEFORE = re.compile(
    r"(?:已经?(?:于|在)?|截至(?:到|至)?|截止到|自|从|原定|原计划|原)(?:于|在)?$"
)
_RE_PAST_AFTER = re.compile(r"^(?:以来|起|开始|至今|已|累计|期间)")
_RE_TIE_BEFORE = re.compile(
    r"预计|计划|力争|争取|确保|拟|将|有望|可望|预期|目标|截止|限期|要求|务必|须|需|应|力求|打算|"
    r"准备|预定|定于|安排|期限|最迟|最晚|不晚于|保证|推迟|延期|延至|延后|调整为|调整到|改为|改到"
)
_RE_DONE_AFTER = re.compile(
    r"^[^，,。；;]{0,8}?(?:前|完成|竣工|完工|建成|投用|投产|到位|办结|左右|实现|交付|验收|结束|"
    r"截止|到期|上线|落地|签约|开业|运营|通车|达产|交房|供地|出让|报送|整改)"
)
_RE_START_AFTER = re.compile(r"^[^，,。；;]{0,4}?(?:开工|启动|动工|开建|开始|进场)")
_RE_VAGUE = re.compile(r"尽快|近期|适时|抓紧|尽早|择机|视情况|待定|另行|后续|下一步")
_RE_HINT = re.compile(r"[\d年月日号周天时点]")
_RE_DATE_WORD = re.compile(r"[年月日号周天时点分秒前后今明昨]|星期|礼拜")

_YEAR_OFFSETS = {
    "今年": 0,
    "本年": 0,
    "本年度": 0,
    "明年": 1,
    "次年": 1,
    "来年": 1,
    "下一年": 1,
    "后年": 2,
    "去年": -1,
    "前年": -2,
}
_MONTH_OFFSETS = {"本": 0, "这": 0, "这个": 0, "当": 0, "下": 1, "下个": 1, "次": 1}
_MONTH_OFFSETS |= {"下下": 2, "下下个": 2, "上": -1, "上个": -1}
_WEEK_OFFSETS = {"本": 0, "这": 0, "这个": 0, "这一": 0, "下": 1, "下个": 1, "下一": 1}
_WEEK_OFFSETS |= {"下一个": 1, "下下": 2, "下下个": 2, "上": -1, "上个": -1}
_DAYS_AHEAD = {"今天": 0, "今日": 0, "当天": 0, "明天": 1, "明日": 1, "后天": 2, "大后天": 3}

_FALLBACK_MAX_CHARS = 200
_DATEPARSER_SETTINGS_BASE = {"PREFER_DATES_FROM": "future", "RETURN_AS_TIMEZONE_AWARE": False}


@dataclass(frozen=True)
class _Candidate:
    """One date expression found in the text; `value` None means it names no real date."""

    start: int
    end: int
    value: date | None


class _Invalid:
    """Marker for an expression that names an impossible date."""


_INVALID = _Invalid()

# A rule turns a match into a date, _INVALID (an impossible date) or None (not a date here).
_Resolver = Callable[[re.Match[str], date, WorkCalendar], date | _Invalid | None]


def _explicit_year(match: re.Match[str], today: date) -> int | None:
    groups = match.groupdict()
    if groups.get("y"):
        year = int(groups["y"])
        return year + 2000 if year < 100 else year
    if groups.get("ry"):
        return today.year + _YEAR_OFFSETS[groups["ry"]]
    return None


def _in_month(year: int, month: int, suffix: str | None) -> date | None:
    """The deadline day a month suffix (底, 上旬, …) names; None for an impossible month."""
    if not 1 <= month <= 12:
        return None
    if suffix in ("上旬", "初"):
        return date(year, month, 10)
    if suffix in ("中旬", "上中旬"):
        return date(year, month, 20)
    if suffix == "中":
        return date(year, month, 15)
    return _month_end(year, month)


# ----------------------------------------------------------------------------------- rules


def _ymd(m: re.Match[str], today: date, cal: WorkCalendar) -> date | _Invalid:
    found = _safe_date(int(m["y"]), int(m["m"]), int(m["d"]))
    return _INVALID if found is None else found


def _md(m: re.Match[str], today: date, cal: WorkCalendar) -> date | _Invalid | None:
    month, day = int(m["m"]), int(m["d"])
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return _INVALID
    year = _explicit_year(m, today)
    if year is not None:
        found = _safe_date(year, month, day)
    else:
        found = _next_on_or_after(today, lambda y: _safe_date(y, month, day))
    return _INVALID if found is None else found


def _short(m: re.Match[str], today: date, cal: WorkCalendar) -> date | _Invalid | None:
    if _RE_SHORT_NOT_DATE_BEFORE.search(m.string, 0, m.start()):
        return None
    return _md(m, today, cal)


def _rel_month_day(m: re.Match[str], today: date, cal: WorkCalendar) -> date | _Invalid:
    base = add_months(today.replace(day=1), _MONTH_OFFSETS[m["rel"]])
    found = _safe_date(base.year, base.month, int(m["d"]))
    return _INVALID if found is None else found


def _workdays(m: re.Match[str], today: date, cal: WorkCalendar) -> date | None:
    n = int(m["n"])
    return cal.add_workdays(today, n) if n > 0 else None


def _span(m: re.Match[str], today: date, cal: WorkCalendar) -> date | None:
    unit, suffix, n_text = m["u"], m["suf"], m["n"]
    half = m["half"] is not None
    if n_text == "半":
        if half or unit not in ("月", "年"):
            return None
        return today + timedelta(days=15) if unit == "月" else add_months(today, 6)
    n = int(n_text)
    if unit == "日" and suffix is None:
        return None  # 30日 is a day of the month, not a span
    if unit == "月":
        if m["ge"] is None:
            return None  # 9月 is a month name
        return add_months(today, n) + timedelta(days=15 if half else 0)
    if unit == "年":
        if suffix is None and not half:
            return None  # 3年行动 is a name
        return add_months(today, 12 * n + (6 if half else 0))
    if unit in ("天", "日"):
        return today + timedelta(days=n)
    return today + timedelta(days=7 * n + (4 if half else 0))


def _today_word(m: re.Match[str], today: date, cal: WorkCalendar) -> date:
    return today + timedelta(days=_DAYS_AHEAD[m.group(0)])


def _quarter_end(year: int, quarter: int) -> date:
    return _month_end(year, quarter * 3)


def _quarter(m: re.Match[str], today: date, cal: WorkCalendar) -> date | None:
    quarter = int(m["q"] or m["q2"])
    year = _explicit_year(m, today)
    if year is not None:
        return _quarter_end(year, quarter)
    return _next_on_or_after(today, lambda y: _quarter_end(y, quarter))


def _rel_quarter(m: re.Match[str], today: date, cal: WorkCalendar) -> date:
    current = (today.month - 1) // 3 + 1
    offset = 1 if (m["rel"] or "").startswith(("下", "次")) else 0
    index = today.year * 4 + current - 1 + offset
    return _quarter_end(index // 4, index % 4 + 1)


def _month(m: re.Match[str], today: date, cal: WorkCalendar) -> date | _Invalid | None:
    month, suffix = int(m["m"]), m["suf"]
    if not 1 <= month <= 12:
        return _INVALID
    year = _explicit_year(m, today)
    if year is not None:
        return _in_month(year, month, suffix)
    return _next_on_or_after(today, lambda y: _in_month(y, month, suffix))


def _half_year_day(year: int, period: str | None) -> date:
    if period in ("上半年", "年中", "中"):
        return date(year, 6, 30)
    if period in ("年初", "初"):
        return date(year, 1, 31)
    return date(year, 12, 31)


def _year_level(m: re.Match[str], today: date, cal: WorkCalendar) -> date | None:
    year = _explicit_year(m, today)
    return None if year is None else _half_year_day(year, m["p"])


def _half_year(m: re.Match[str], today: date, cal: WorkCalendar) -> date | None:
    period = m["p"]
    return _next_on_or_after(today, lambda y: _half_year_day(y, period))


def _rel_month(m: re.Match[str], today: date, cal: WorkCalendar) -> date | None:
    offset = _MONTH_OFFSETS[m["rel"]] if m["rel"] else 0
    base = add_months(today.replace(day=1), offset)
    return _in_month(base.year, base.month, m["suf"] or m["suf2"])


def _weekday(m: re.Match[str], today: date, cal: WorkCalendar) -> date:
    target = 6 if m["d"] in ("日", "天") else int(m["d"]) - 1
    rel = m["rel"]
    if rel is None:
        return today + timedelta(days=(target - today.weekday()) % 7)
    return _monday(today) + timedelta(days=7 * _WEEK_OFFSETS[rel] + target)


def _week(m: re.Match[str], today: date, cal: WorkCalendar) -> date:
    offset = _WEEK_OFFSETS[m["rel"]] if m["rel"] else 0
    return _monday(today) + timedelta(days=7 * offset + 6)


def _day(m: re.Match[str], today: date, cal: WorkCalendar) -> date | _Invalid:
    day = int(m["d"])
    if not 1 <= day <= 31:
        return _INVALID
    month_start = today.replace(day=1)
    for offset in range(13):
        first = add_months(month_start, offset)
        found = _safe_date(first.year, first.month, day)
        if found is not None and found >= today:
            return found
    return _INVALID


# Order matters: a rule's match hides any later rule's match overlapping it.
_RULES: tuple[tuple[re.Pattern[str], _Resolver], ...] = (
    (_RE_YMD, _ymd),
    (_RE_MD, _md),
    (_RE_SHORT, _short),
    (_RE_REL_MONTH_DAY, _rel_month_day),
    (_RE_WORKDAYS, _workdays),
    (_RE_SPAN, _span),
    (_RE_TODAY_WORDS, _today_word),
    (_RE_QUARTER, _quarter),
    (_RE_REL_QUARTER, _rel_quarter),
    (_RE_REL_QUARTER_BARE, _rel_quarter),
    (_RE_MONTH, _month),
    (_RE_YEAR_LEVEL, _year_level),
    (_RE_HALF_YEAR, _half_year),
    (_RE_REL_MONTH, _rel_month),
    (_RE_WEEKDAY, _weekday),
    (_RE_WEEK, _week),
    (_RE_DAY, _day),
)

_RE_SPACE_NEAR_CJK = re.compile(r"\s+(?=[\u4e00-\u9fff])|(?<=[\u4e00-\u9fff])\s+")


def normalize(text: str) -> str:
    """NFKC, no spaces next to Chinese characters, Chinese numerals below 万 as digits."""
    text = unicodedata.normalize("NFKC", text)
    text = _RE_SPACE_NEAR_CJK.sub("", text)
    return replace_cn_numerals(text)


def _scan(
    text: str, today: date, calendar: WorkCalendar | None = None
) -> tuple[list[_Candidate], bool]:
    """Date expressions our rules see in normalised `text` (text order), and whether any rule
    matched at all — a match a rule then rejected (完成了1/3, 3年行动) still counts."""
    cal = calendar if calendar is not None else WorkCalendar()
    # A month range (1-5月) is one expression: hide its first month from the other rules.
    taken: list[tuple[int, int]] = [m.span() for m in _RE_MONTH_RANGE.finditer(text)]
    found: list[_Candidate] = []
    matched = False
    for pattern, resolve in _RULES:
        for match in pattern.finditer(text):
            start, end = match.span()
            if start == end or any(s < end and start < e for s, e in taken):
                continue
            matched = True
            value = resolve(match, today, cal)
            if value is None:
                continue  # the pattern matched but is not a date expression here
            taken.append((start, end))
            found.append(_Candidate(start, end, None if isinstance(value, _Invalid) else value))
    found.sort(key=lambda c: c.start)
    return found, matched


def _rank(candidate: _Candidate, text: str, today: date) -> tuple[int, int, int] | None:
    """Sort key for choosing the deadline among candidates; None for past events."""
    clause_start = 0
    for match in _RE_CLAUSE_END.finditer(text, 0, candidate.start):
        clause_start = match.end()
    end_match = _RE_CLAUSE_END.search(text, candidate.end)
    clause_end = end_match.start() if end_match else len(text)
    before = text[clause_start : candidate.start]
    after = text[candidate.end : clause_end]
    if _RE_PAST_BEFORE.search(before) or _RE_PAST_AFTER.search(after):
        return None
    if _RE_DONE_AFTER.search(after) or _RE_TIE_BEFORE.search(before[-12:]):
        tie = 2
    elif _RE_START_AFTER.search(after):
        tie = 1
    else:
        tie = 0
    future = 1 if candidate.value is not None and candidate.value >= today else 0
    return (tie, future, candidate.start)


def _dateparser_fallback(text: str, today: date) -> date | None:
    """The first date dateparser finds in `text` that was written with a date word."""
    settings = dict(_DATEPARSER_SETTINGS_BASE)
    # dateparser wants a naive base here: it compares it with the naive datetimes it builds.
    settings["RELATIVE_BASE"] = datetime(today.year, today.month, today.day)  # noqa: DTZ001
    for matched, when in search_dates(text, languages=["zh"], settings=settings) or ():
        # A bare number (12.5 in 完成投资12.5亿元) is not a date, whatever dateparser says.
        if _RE_DATE_WORD.search(matched):
            found: datetime = when
            return found.date()
    return None


def parse_due_date(text: str, today: date, calendar: WorkCalendar | None = None) -> date | None:
    """The expected completion date a reply names, relative to `today`; None if it names none."""
    if not text or not text.strip():
        return None
    normalized = normalize(text)
    candidates, matched = _scan(normalized, today, calendar)
    if not candidates:
        if matched or _RE_VAGUE.search(normalized) or not _RE_HINT.search(normalized):
            return None
        # dateparser's search is slow on long texts; a deadline it alone can read is short.
        head = normalized[:_FALLBACK_MAX_CHARS]
        # Its answer counts only if the words it matched (a part of `head`) hold a date word,
        # so without one in `head` it cannot count: skip the call (milliseconds per reply).
        if not _RE_DATE_WORD.search(head):
            return None
        return _dateparser_fallback(head, today)
    ranked = [(key, c) for c in candidates if (key := _rank(c, normalized, today)) is not None]
    if not ranked:
        return None
    return max(ranked, key=lambda pair: pair[0])[1].value


# -------------------------------------------------------------------- completion in a reply

# Festivals by their (lunar) day: facts, for the years the register can span.
_FESTIVAL_DAYS: dict[str, dict[int, date]] = {
    "春节": {
        2025: date(2025, 1, 29), 2026: date(2026, 2, 17), 2027: date(2027, 2, 6),
        2028: date(2028, 1, 26), 2029: date(2029, 2, 13), 2030: date(2030, 2, 3),
    },
    "清明": {
        2025: date(2025, 4, 4), 2026: date(2026, 4, 5), 2027: date(2027, 4, 5),
        2028: date(2028, 4, 4), 2029: date(2029, 4, 4), 2030: date(2030, 4, 5),
    },
    "端午": {
        2025: date(2025, 5, 31), 2026: date(2026, 6, 19), 2027: date(2027, 6, 9),
        2028: date(2028, 5, 28), 2029: date(2029, 6, 16), 2030: date(2030, 6, 5),
    },
    "中秋": {
        2025: date(2025, 10, 6), 2026: date(2026, 9, 25), 2027: date(2027, 9, 15),
        2028: date(2028, 10, 3), 2029: date(2029, 9, 22), 2030: date(2030, 9, 12),
    },
}  # fmt: skip
_FIXED_FESTIVALS = {"元旦": (1, 1), "五一": (5, 1), "劳动节": (5, 1), "国庆": (10, 1)}
_FESTIVAL_NAMES = {"国庆节": "国庆", "端午节": "端午", "中秋节": "中秋", "清明节": "清明"}
_RE_FESTIVAL = re.compile(
    r"(?P<name>春节|元旦|五一|劳动节|国庆节?|端午节?|中秋节?|清明节?)(?:假期|长假|小长假)?"
    r"(?P<when>前|之前|以前|(?:节?后|过后|之后)第1(?:周|个星期)|节?后|过后|之后)?"
)
# Words saying the task (or its work) will be completed.
_RE_COMPLETE_VERB = re.compile(
    r"完成|完工|竣工|投用|投入使用|投运|投入运营|交付|建成|办结|通车|验收|结项|销号|投产|落成|"
    r"上线|达产|交房|全面建成|收官"
)
_RE_FUTURE_WORD = re.compile(
    r"预计|计划|力争|争取|确保|拟|将|有望|可望|预期|预定|定于|安排|目标|务必|力求|保证|可"
)
_RE_ALREADY_DONE = re.compile(
    r"已(?:经)?(?:全面|全部|基本|顺利)?(?:完成|完工|竣工|投用|投入使用|投运|建成|办结|通车|验收|交付|投产)"
)
# After the completion word, a part or a figure of the task (完成主体, 完成设计方案审查, 再竣工
# 15个, 完成投资400亿元): a milestone, not the task's completion.
_RE_PART_AFTER_VERB = re.compile(
    r"\d|主体|设计|方案|审查|选址|招标|征迁|拆迁|前期|初稿|一期|二期|三期|部分|第\d|批|阶段|"
    r"土建|基础|封顶|立项|评审|论证|可研|规划设计|签约|投资"
)
_RE_DEADLINE_AFTER = re.compile(r"^(?:底|末)?(?:前|之前|以前)")
_RE_RANGE_BEFORE = re.compile(r"[-~至到]$")
_RE_NOT_COMPLETION_AFTER = re.compile(
    r"^[^，,。；;]{0,4}?(?:开工|启动|动工|开建|开始|进场|招标|挂网|再报|报送|上报|汇报|报|引进|签约|"
    r"批复|审批|申报|立项)"
)


def _last_verb_end(clause: str) -> int:
    """Where the clause's last completion word ends."""
    end = 0
    for match in _RE_COMPLETE_VERB.finditer(clause):
        end = match.end()
    return end


@dataclass(frozen=True)
class Completion:
    """The completion date a reply states (None: none), and the words of an impossible one."""

    day: date | None
    impossible: str | None = None


def _festival_day(name: str, year: int) -> date | None:
    name = _FESTIVAL_NAMES.get(name, name)
    if name in _FIXED_FESTIVALS:
        month, day = _FIXED_FESTIVALS[name]
        return date(year, month, day)
    return _FESTIVAL_DAYS.get(name, {}).get(year)


def _festival(m: re.Match[str], today: date, cal: WorkCalendar) -> date | None:
    """春节前 → the day before the next Spring Festival; 国庆节后第一周 → the Sunday of the week
    holding the first workday after the holiday. A festival alone or 节后 alone is no date."""
    when = m["when"] or ""
    if not when or when in ("节后", "后", "过后", "之后"):
        return None
    for year in (today.year, today.year + 1):
        day = _festival_day(m["name"], year)
        if day is None:
            continue
        if when in ("前", "之前", "以前"):
            if day - timedelta(days=1) >= today:
                return day - timedelta(days=1)
            continue
        first = day + timedelta(days=1)
        while not cal.is_workday(first):
            first += timedelta(days=1)
        sunday = _monday(first) + timedelta(days=6)
        if sunday >= today:
            return sunday
    return None


def completion_date(text: str, today: date, calendar: WorkCalendar | None = None) -> Completion:
    """The date by which a reply says the task will be completed.

    Only a clause with a completion word (完成, 竣工, 投用, 建成, 办结 …) that is not already done
    (已完成) counts, and in it only a date not tied to a start or a reporting step (9月开工,
    下月中旬再报) and not a past event (截至4月底). A time reference (本月新增…), a start, a
    plan to report again or to do a sub-step name no completion date. Several dates: the
    latest (the task is done when its last part is). Only our rules, never a guess: a
    completion date is a promise the status lights hold the unit to.
    """
    if not text or not text.strip():
        return Completion(None)
    cal = calendar if calendar is not None else WorkCalendar()
    normalized = normalize(text)
    found: list[date] = []
    impossible: str | None = None
    start = 0
    for end in [m.start() for m in _RE_CLAUSE_END.finditer(normalized)] + [len(normalized)]:
        clause = normalized[start:end]
        start = end + 1
        if not _RE_COMPLETE_VERB.search(clause):
            continue
        if _RE_ALREADY_DONE.search(clause) and not _RE_FUTURE_WORD.search(clause):
            continue
        festival = _RE_FESTIVAL.search(clause)
        if festival is not None:
            day = _festival(festival, today, cal)
            if day is not None:
                found.append(day)
            continue
        verb = _RE_COMPLETE_VERB.search(clause)
        assert verb is not None
        if _RE_PART_AFTER_VERB.search(clause[_last_verb_end(clause) :]):
            continue  # a part or a figure of the task: a milestone, not its completion
        promised = _RE_FUTURE_WORD.search(clause) is not None
        for candidate in _scan(clause, today, cal)[0]:
            if _rank(candidate, clause, today) is None:
                continue  # a past event
            after = clause[candidate.end :]
            if _RE_NOT_COMPLETION_AFTER.search(after):
                continue
            if _RE_RANGE_BEFORE.search(clause[: candidate.start]):
                continue  # 1-4月: a period reported on
            if not promised and not _RE_DEADLINE_AFTER.match(after):
                continue  # 本月新增投产企业21家, 一季度办结率98.6%: a time reference
            if candidate.value is None:
                impossible = impossible or clause[candidate.start : candidate.end]
            else:
                found.append(candidate.value)
    return Completion(max(found) if found else None, None if found else impossible)
