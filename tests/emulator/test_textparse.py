"""HTML, MarkdownV2 and Markdown parsing as Telegram does it (plain text, entities, errors)."""

from __future__ import annotations

import pytest

from bot.emulator.textparse import (
    Entity,
    ParseError,
    detect_bot_commands,
    format_text,
    parse_html,
    parse_markdown,
    parse_markdown_v2,
    utf16_len,
)


@pytest.mark.parametrize(
    ("html", "plain", "entities"),
    [
        ("<b>bold</b> text", "bold text", [Entity("bold", 0, 4)]),
        (
            "<strong>x</strong><em>y</em><ins>z</ins>",
            "xyz",
            [Entity("bold", 0, 1), Entity("italic", 1, 1), Entity("underline", 2, 1)],
        ),
        (
            "<s>a</s><strike>b</strike><del>c</del>",
            "abc",
            [
                Entity("strikethrough", 0, 1),
                Entity("strikethrough", 1, 1),
                Entity("strikethrough", 2, 1),
            ],
        ),
        (
            '<span class="tg-spoiler">s</span><tg-spoiler>t</tg-spoiler>',
            "st",
            [Entity("spoiler", 0, 1), Entity("spoiler", 1, 1)],
        ),
        (
            '<a href="https://example.org/?a=1&amp;b=2">link</a>',
            "link",
            [Entity("text_link", 0, 4, url="https://example.org/?a=1&b=2")],
        ),
        ("<code>x &lt; y</code>", "x < y", [Entity("code", 0, 5)]),
        (
            '<pre><code class="language-python">print()</code></pre>',
            "print()",
            [Entity("pre", 0, 7, language="python")],
        ),
        ("<blockquote>q</blockquote>", "q", [Entity("blockquote", 0, 1)]),
        ("<blockquote expandable>q</blockquote>", "q", [Entity("expandable_blockquote", 0, 1)]),
        (
            '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>',
            "👍",
            [Entity("custom_emoji", 0, 2, custom_emoji_id="5368324170671202286")],
        ),
        ("&lt;&gt;&amp;&quot;&#65;&#x42;", '<>&"AB', []),
        ("<b>督办 <i>任务</i></b>", "督办 任务", [Entity("bold", 0, 5), Entity("italic", 3, 2)]),
        ("😀<b>x</b>", "😀x", [Entity("bold", 2, 1)]),  # offsets in UTF-16 code units
        ("  <b>trim</b>\n ", "trim", [Entity("bold", 0, 4)]),
    ],
)
def test_html_parses_to_plain_text_and_entities(
    html: str, plain: str, entities: list[Entity]
) -> None:
    """Tags become entities with UTF-16 offsets; HTML entities are decoded; text is trimmed."""
    result = parse_html(html)
    assert result.text == plain
    assert list(result.entities) == entities


@pytest.mark.parametrize(
    ("html", "error"),
    [
        ("<b>open", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<div>x</div>", 'Unsupported start tag "div" at byte offset 0'),
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("<b", "Unclosed start tag at byte offset 0"),
        ('<span class="x">y</span>', 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ("督<b>x</c>", 'Unmatched end tag at byte offset 7, expected "</b>", found "</c>"'),
        ("Tom & Jerry", 'Unescaped "&" at byte offset 4; use "&amp;" instead'),
        ("&nbsp;", 'Unescaped "&" at byte offset 0; use "&amp;" instead'),
    ],
)
def test_malformed_html_is_refused_with_tdlib_descriptions(html: str, error: str) -> None:
    """Malformed markup raises ParseError with the description Telegram would give."""
    with pytest.raises(ParseError) as caught:
        parse_html(html)
    assert str(caught.value) == error


def test_bare_ampersand_is_kept_when_not_strict() -> None:
    """Real Telegram keeps a bare '&'; the emulator does too when strictness is off."""
    assert parse_html("Tom & Jerry", strict_ampersand=False).text == "Tom & Jerry"


@pytest.mark.parametrize(
    ("text", "plain", "entities"),
    [
        (
            "*bold* _it_ __u__ ~s~ ||sp||",
            "bold it u s sp",
            [
                Entity("bold", 0, 4),
                Entity("italic", 5, 2),
                Entity("underline", 8, 1),
                Entity("strikethrough", 10, 1),
                Entity("spoiler", 12, 2),
            ],
        ),
        (
            "[link](https://example.org)",
            "link",
            [Entity("text_link", 0, 4, url="https://example.org")],
        ),
        ("`a_b`", "a_b", [Entity("code", 0, 3)]),
        ("```python\nx = 1\n```", "x = 1", [Entity("pre", 0, 5, language="python")]),
        ("1\\.5 \\- ok\\!", "1.5 - ok!", []),
        (">quoted\nplain", "quoted\nplain", [Entity("blockquote", 0, 6)]),
    ],
)
def test_markdown_v2(text: str, plain: str, entities: list[Entity]) -> None:
    """MarkdownV2 markup becomes entities; escapes are removed."""
    result = parse_markdown_v2(text)
    assert result.text == plain
    assert list(result.entities) == entities


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("1.5", "Character '.' is reserved and must be escaped with the preceding '\\'"),
        ("a-b", "Character '-' is reserved and must be escaped with the preceding '\\'"),
        ("*open", "Can't find end of Bold entity at byte offset 0"),
        ("x _it", "Can't find end of Italic entity at byte offset 2"),
    ],
)
def test_markdown_v2_errors(text: str, error: str) -> None:
    """Unescaped reserved characters and unclosed entities are refused like Telegram."""
    with pytest.raises(ParseError) as caught:
        parse_markdown_v2(text)
    assert str(caught.value) == error


def test_legacy_markdown() -> None:
    """Legacy Markdown supports *bold*, _italic_, `code` and [text](url)."""
    result = parse_markdown("*b* _i_ `c` [t](http://x.org)")
    assert result.text == "b i c t"
    assert [e.type for e in result.entities] == ["bold", "italic", "code", "text_link"]
    with pytest.raises(ParseError, match="Can't find end of the entity starting at byte offset 0"):
        parse_markdown("*open")


def test_format_text_dispatches_on_parse_mode() -> None:
    """parse_mode is case-insensitive; None means plain text."""
    assert format_text("<b>x</b>", "HTML").text == "x"
    assert format_text("<b>x</b>", None).text == "<b>x</b>"
    assert format_text("*x*", "MarkdownV2").entities[0].type == "bold"
    with pytest.raises(ValueError, match="Unsupported parse_mode"):
        format_text("x", "BBCode")


@pytest.mark.parametrize(
    ("text", "commands"),
    [
        ("/start", [(0, 6)]),
        ("/start@duban_test_bot payload", [(0, 21)]),
        ("看看 /help 吧", [(3, 5)]),
        ("a/b not a command", []),
        ("😀 /go", [(3, 3)]),
    ],
)
def test_bot_command_entities(text: str, commands: list[tuple[int, int]]) -> None:
    """Commands are detected like Telegram does, with UTF-16 offsets."""
    found = detect_bot_commands(text)
    assert [(e.offset, e.length) for e in found if e.type == "bot_command"] == commands


def test_utf16_len_counts_surrogate_pairs() -> None:
    """Characters outside the BMP count twice."""
    assert utf16_len("a督😀") == 4
