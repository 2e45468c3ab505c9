"""Long replies are split by what Telegram counts (parsed text), never inside a tag or an entity.

Found by the fuzz suite: a report text of 456 × "<b>" (1,368 characters, within the 2,000 a
report may have) is escaped to 4,104 characters of HTML; the card was split at 4,096 of those,
cutting "&lt;" in two, and Telegram refused it ("unescaped &"), so the report failed.
"""

from __future__ import annotations

import pytest

from bot import texts
from bot.emulator.textparse import format_text


def parsed(html: str) -> str:
    """The text a person sees (raises if Telegram would refuse the HTML)."""
    return format_text(html, "HTML").text


@pytest.mark.parametrize(
    ("html", "visible"),
    [
        ("abc", 3),
        ("<b>abc</b>", 3),
        ("&lt;b&gt; &amp; &#39; &#x4e2d;", 9),
        ('<a href="https://t.me/x?start=a&amp;b">链接</a>', 2),
        ("第6项 <i>完成</i>", 6),
    ],
)
def test_visible_length_counts_what_telegram_counts(html: str, visible: int) -> None:
    assert texts.visible_length(html) == visible == len(parsed(html))


def test_an_escaped_report_that_fits_is_one_message() -> None:
    card = "<b>进展报送确认</b>\n" + texts.esc("<b>" * 456)
    assert len(card) > texts.LIMIT
    assert texts.split_message(card) == [card]


@pytest.mark.parametrize(
    "line",
    [
        texts.esc("&<>" * 5000),
        "<b>" + "汉" * 9000 + "</b>",
        "前言<i>" + texts.esc("a&b" * 3000) + "</i><code>x</code>" + "尾" * 5000,
    ],
)
def test_long_lines_are_cut_between_tokens_with_balanced_tags(line: str) -> None:
    text = "标题\n" + line + "\n结尾"
    parts = texts.split_message(text)
    assert len(parts) > 1
    seen = ""
    for part in parts:
        assert 0 < texts.visible_length(part) <= texts.LIMIT
        seen += parsed(part) + "\n"
    assert seen.rstrip("\n").replace("\n", "") == parsed(text).replace("\n", "")


def test_lines_are_kept_whole_when_they_fit() -> None:
    lines = [f"· 第{n}项 " + "甲" * 90 for n in range(200)]
    parts = texts.split_message("\n".join(lines))
    assert all(texts.visible_length(p) <= texts.LIMIT for p in parts)
    assert [line for p in parts for line in p.split("\n")] == lines
