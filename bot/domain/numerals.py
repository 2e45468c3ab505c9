"""Chinese and Arabic numerals: 三百二十 → 320, 二〇二六 → 2026, 1.27万 → 12700, 1,200 → 1200.

Glossary: 〇/零 zero; 两 two (before a measure word); 十/百/千 ten/hundred/thousand;
万 ten thousand (10^4); 亿 hundred million (10^8); 百分之N N percent; N成 N tenths (四成 = 40%).
"""

from __future__ import annotations

import re

DIGITS: dict[str, int] = {
    "〇": 0,
    "零": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
SMALL_UNITS: dict[str, int] = {"十": 10, "百": 100, "千": 1000}
BIG_UNITS: dict[str, int] = {"万": 10_000, "亿": 100_000_000}

CN_DIGIT_CHARS = "〇零一二两三四五六七八九"
CN_NUMERAL_CHARS = CN_DIGIT_CHARS + "十百千万亿"

_ARABIC_RE = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?")
_ARABIC_WITH_SCALE_RE = re.compile(
    r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?P<scale>[十百千万亿]*)"
)
# Runs worth converting inside free text: at least one digit character, or a leading 十 (十二).
_CN_RUN_RE = re.compile(r"[〇零一二两三四五六七八九十百千]+")


def cn_to_int(text: str) -> int | None:
    """Value of a pure Chinese numeral (三百二十, 二〇二六, 十二, 一万二千), or None."""
    if not text or any(
        ch not in DIGITS and ch not in SMALL_UNITS and ch not in BIG_UNITS for ch in text
    ):
        return None
    if all(ch in DIGITS for ch in text):
        if len(text) == 1:
            return DIGITS[text]
        # Digit-by-digit reading, as in years: 二〇二六 → 2026.
        return int("".join(str(DIGITS[ch]) for ch in text))
    total = 0  # completed 亿/万 sections
    section = 0  # value below the current big unit
    digit: int | None = None
    for ch in text:
        if ch in DIGITS:
            if digit is not None and DIGITS[ch] != 0:
                return None  # two non-zero digits in a row inside a positional numeral
            digit = DIGITS[ch] if DIGITS[ch] != 0 else None
        elif ch in SMALL_UNITS:
            section += (1 if digit is None else digit) * SMALL_UNITS[ch]
            digit = None
        else:
            section += digit or 0
            if section == 0 and total == 0:
                section = 1  # bare 万 → 10000
            big = BIG_UNITS[ch]
            if big == BIG_UNITS["亿"]:
                total = (total + section) * big
            else:
                total += section * big
            section = 0
            digit = None
    return total + section + (digit or 0)


def parse_number(text: str) -> float | None:
    """Value of a number written in Arabic, Chinese or mixed form (3.2, 1,200, 1.27万, 三千万)."""
    text = text.strip()
    if not text:
        return None
    match = _ARABIC_WITH_SCALE_RE.fullmatch(text)
    if match:
        value = float(match.group("num").replace(",", ""))
        for ch in match.group("scale"):
            value *= SMALL_UNITS.get(ch) or BIG_UNITS[ch]
        return value
    value_int = cn_to_int(text)
    return None if value_int is None else float(value_int)


def has_cn_digit(text: str) -> bool:
    """True if `text` contains a Chinese digit, or starts with 十 (so 十二 counts but 千万 not)."""
    return text.startswith("十") or any(ch in CN_DIGIT_CHARS for ch in text)


def _replace_run(match: re.Match[str]) -> str:
    run = match.group(0)
    if not has_cn_digit(run):
        return run
    value = cn_to_int(run)
    return run if value is None else str(value)


def replace_cn_numerals(text: str) -> str:
    """Rewrite Chinese numerals below 万 as Arabic digits (六月三十日 → 6月30日); 万/亿 stay."""
    return _CN_RUN_RE.sub(_replace_run, text)


def is_arabic_number(text: str) -> bool:
    """True if `text` is an Arabic number, optionally with thousands separators."""
    return _ARABIC_RE.fullmatch(text) is not None
