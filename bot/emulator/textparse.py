"""Telegram's text formatting: HTML, MarkdownV2 and Markdown parsed into plain text + entities.

The parsers follow tdlib's (``td/telegram/MessageEntity.cpp``) so that malformed markup is refused
with the same ``can't parse entities`` descriptions the real Bot API gives. Entity offsets and
lengths are counted in UTF-16 code units, as in the Bot API.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024

_HTML_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "span",
        "pre",
        "code",
        "blockquote",
    }
)
_HTML_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "a": "text_link",
    "tg-emoji": "custom_emoji",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_BOT_COMMAND_RE = re.compile(r"(?<![\w/<>@])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w/])")
# tdlib's fix_formatted_text trims these from both ends of a message text.
_TRIM_CHARS = " \t\n\r\x0b\x0c"


class ParseError(ValueError):
    """The text could not be parsed in the given parse_mode (Telegram's "can't parse entities")."""


@dataclass(frozen=True)
class Entity:
    """One MessageEntity with UTF-16 offset and length."""

    type: str
    offset: int
    length: int
    url: str | None = None
    language: str | None = None
    custom_emoji_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Render as a Bot API MessageEntity object."""
        data: dict[str, Any] = {"offset": self.offset, "length": self.length, "type": self.type}
        if self.url is not None:
            data["url"] = self.url
        if self.language is not None:
            data["language"] = self.language
        if self.custom_emoji_id is not None:
            data["custom_emoji_id"] = self.custom_emoji_id
        return data


@dataclass(frozen=True)
class FormattedText:
    """Plain text plus its entities, the result of parsing a text in some parse_mode."""

    text: str
    entities: tuple[Entity, ...]


def utf16_len(text: str) -> int:
    """Length of a string in UTF-16 code units (the unit of Bot API entity offsets)."""
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def _decode_html_entity(text: str, pos: int) -> tuple[str, int] | None:
    """Decode an HTML entity starting at ``text[pos] == '&'``; return (char, next position)."""
    end = text.find(";", pos + 1, pos + 12)
    if end == -1:
        return None
    body = text[pos + 1 : end]
    if body in _NAMED_ENTITIES:
        return _NAMED_ENTITIES[body], end + 1
    code: int | None = None
    if re.fullmatch(r"#[0-9]{1,7}", body):
        code = int(body[1:])
    elif re.fullmatch(r"#[xX][0-9a-fA-F]{1,6}", body):
        code = int(body[2:], 16)
    if code is None or code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code), end + 1


def parse_html(text: str, *, strict_ampersand: bool = True) -> FormattedText:
    """Parse Telegram-flavoured HTML; raise ParseError with tdlib's description when malformed.

    With ``strict_ampersand`` (the emulator's default) a bare ``&`` that does not start a valid
    entity is refused. Real Telegram keeps such an ``&`` literally; the stricter check catches user
    data that was not passed through ``html.escape`` before the ``<`` case bites in production.
    """
    out: list[str] = []
    utf16_offset = 0
    # Each open tag: (tag name, argument, utf16 start offset).
    stack: list[tuple[str, str, int]] = []
    entities: list[Entity] = []
    n = len(text)
    i = 0
    while i < n:
        c = text[i]
        if c == "&":
            decoded = _decode_html_entity(text, i)
            if decoded is not None:
                char, i = decoded
                out.append(char)
                utf16_offset += utf16_len(char)
                continue
            if strict_ampersand:
                raise ParseError(
                    f'Unescaped "&" at byte offset {_byte_offset(text, i)}; use "&amp;" instead'
                )
        if c != "<":
            out.append(c)
            utf16_offset += 2 if ord(c) > 0xFFFF else 1
            i += 1
            continue
        begin = i
        i += 1
        if i < n and text[i] == "/":
            if not stack:
                raise ParseError(f"Unexpected end tag at byte offset {_byte_offset(text, begin)}")
            i += 1
            name_start = i
            while i < n and not text[i].isspace() and text[i] != ">":
                i += 1
            end_name = text[name_start:i]
            while i < n and text[i].isspace():
                i += 1
            if i >= n or text[i] != ">":
                raise ParseError(f"Unclosed end tag at byte offset {_byte_offset(text, begin)}")
            i += 1
            tag, argument, start = stack.pop()
            if end_name and end_name.lower() != tag:
                raise ParseError(
                    f"Unmatched end tag at byte offset {_byte_offset(text, begin)}, "
                    f'expected "</{tag}>", found "</{end_name}>"'
                )
            entity = _html_entity(tag, argument, start, utf16_offset - start, entities)
            if entity is not None:
                entities.append(entity)
            continue
        name_start = i
        while i < n and not text[i].isspace() and text[i] != ">":
            i += 1
        if i >= n:
            raise ParseError(f"Unclosed start tag at byte offset {_byte_offset(text, begin)}")
        tag = text[name_start:i].lower()
        if tag not in _HTML_TAGS:
            raise ParseError(
                f'Unsupported start tag "{tag}" at byte offset {_byte_offset(text, begin)}'
            )
        argument, i = _parse_html_attributes(text, i, tag, begin)
        if tag == "span" and argument != "spoiler":
            offset = _byte_offset(text, begin)
            raise ParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {offset}')
        stack.append((tag, argument, utf16_offset))
    if stack:
        raise ParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    return _finish("".join(out), entities)


def _parse_html_attributes(text: str, i: int, tag: str, begin: int) -> tuple[str, int]:
    """Parse the attributes of a start tag from ``i``; return (tag argument, index after '>')."""
    n = len(text)
    argument = ""
    while i < n and text[i] != ">":
        while i < n and text[i].isspace():
            i += 1
        if i < n and text[i] == ">":
            break
        attr_start = i
        while i < n and not text[i].isspace() and text[i] not in "=>":
            i += 1
        attr_name = text[attr_start:i].lower()
        if not attr_name:
            offset = _byte_offset(text, begin)
            raise ParseError(f'Empty attribute name in the tag "{tag}" at byte offset {offset}')
        while i < n and text[i].isspace():
            i += 1
        if i >= n or text[i] != "=":
            if tag == "blockquote" and attr_name == "expandable":
                argument = "1"
                continue
            raise ParseError(
                f'Expected equal sign in declaration of an attribute of the tag "{tag}" '
                f"at byte offset {_byte_offset(text, begin)}"
            )
        i += 1
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            raise ParseError(
                f'Unclosed start tag "{tag}" at byte offset {_byte_offset(text, begin)}'
            )
        if text[i] not in "'\"":
            token_start = i
            while i < n and (text[i].isalnum() or text[i] in ".-"):
                i += 1
            value = text[token_start:i].lower()
            if i < n and not text[i].isspace() and text[i] != ">":
                raise ParseError(
                    f"Unexpected end of name token at byte offset {_byte_offset(text, token_start)}"
                )
        else:
            quote = text[i]
            i += 1
            chars: list[str] = []
            while i < n and text[i] != quote:
                if text[i] == "&":
                    decoded = _decode_html_entity(text, i)
                    if decoded is not None:
                        chars.append(decoded[0])
                        i = decoded[1]
                        continue
                chars.append(text[i])
                i += 1
            if i < n:
                i += 1
            value = "".join(chars)
        if i >= n:
            raise ParseError(f"Unclosed start tag at byte offset {_byte_offset(text, begin)}")
        if (
            (tag == "a" and attr_name == "href")
            or (tag == "tg-emoji" and attr_name == "emoji-id")
            or (tag == "blockquote" and attr_name == "expandable")
        ):
            argument = value if tag != "blockquote" else "1"
        elif tag == "code" and attr_name == "class" and value.startswith("language-"):
            argument = value[len("language-") :]
        elif tag == "span" and attr_name == "class" and value.startswith("tg-"):
            argument = value[len("tg-") :]
    return argument, i + 1


def _html_entity(
    tag: str, argument: str, offset: int, length: int, done: list[Entity]
) -> Entity | None:
    """Build the entity for a closed tag (None for tags that yield no entity)."""
    if length <= 0:
        return None
    kind = _HTML_ENTITY_TYPES[tag]
    if tag == "a":
        return Entity("text_link", offset, length, url=argument) if argument else None
    if tag == "tg-emoji":
        return Entity(kind, offset, length, custom_emoji_id=argument) if argument else None
    if tag == "blockquote" and argument:
        return Entity("expandable_blockquote", offset, length)
    if tag == "pre":
        # <pre><code class="language-x">…</code></pre> becomes one pre entity with a language.
        for index, inner in enumerate(done):
            if (
                inner.type == "code"
                and inner.offset == offset
                and inner.length == length
                and inner.language is not None
            ):
                del done[index]
                return Entity("pre", offset, length, language=inner.language)
        return Entity("pre", offset, length)
    if tag == "code" and argument:
        return Entity("code", offset, length, language=argument)
    return Entity(kind, offset, length)


_MDV2_RESERVED = "_*[]()~`>#+-=|{}.!"


def parse_markdown_v2(text: str) -> FormattedText:
    """Parse MarkdownV2; raise ParseError with tdlib's description when malformed."""
    out: list[str] = []
    utf16_offset = 0
    # Each open entity: (type, utf16 start, byte offset of its start, language/argument).
    stack: list[tuple[str, int, int, str]] = []
    entities: list[Entity] = []
    quote_start: int | None = None
    n = len(text)
    i = 0

    def emit(chunk: str) -> None:
        nonlocal utf16_offset
        out.append(chunk)
        utf16_offset += utf16_len(chunk)

    while i < n:
        c = text[i]
        in_code = bool(stack) and stack[-1][0] in ("code", "pre")
        if c == "\\" and i + 1 < n and 0 < ord(text[i + 1]) <= 126:
            emit(text[i + 1])
            i += 2
            continue
        at_line_start = i == 0 or text[i - 1] == "\n"
        if c == ">" and at_line_start and not stack:
            if quote_start is None:
                quote_start = utf16_offset
            i += 1
            continue
        if c == "\n" and quote_start is not None and (i + 1 >= n or text[i + 1] != ">"):
            if utf16_offset > quote_start:
                entities.append(Entity("blockquote", quote_start, utf16_offset - quote_start))
            quote_start = None
        reserved = "`" if in_code else _MDV2_RESERVED
        if c not in reserved:
            emit(c)
            i += 1
            continue
        top = stack[-1][0] if stack else None
        nxt = text[i + 1] if i + 1 < n else ""
        is_end = (
            (top == "bold" and c == "*")
            or (top == "italic" and c == "_" and nxt != "_")
            or (top == "code" and c == "`")
            or (top == "pre" and text.startswith("```", i))
            or (top in ("text_link", "custom_emoji") and c == "]")
            or (top == "underline" and text.startswith("__", i))
            or (top == "strikethrough" and c == "~")
            or (top == "spoiler" and text.startswith("||", i))
        )
        begin_byte = _byte_offset(text, i)
        if not is_end:
            language = ""
            if c == "_" and nxt == "_":
                kind, i = "underline", i + 2
            elif c == "_":
                kind, i = "italic", i + 1
            elif c == "*":
                kind, i = "bold", i + 1
            elif c == "~":
                kind, i = "strikethrough", i + 1
            elif c == "|" and nxt == "|":
                kind, i = "spoiler", i + 2
            elif c == "[":
                kind, i = "text_link", i + 1
            elif c == "!" and nxt == "[":
                kind, i = "custom_emoji", i + 2
            elif c == "`" and text.startswith("```", i):
                kind, i = "pre", i + 3
                line_end = text.find("\n", i)
                if line_end != -1:
                    first_line = text[i:line_end]
                    if first_line and not re.search(r"[\s`]", first_line):
                        language = first_line
                        i = line_end + 1
                    elif not first_line:
                        i = line_end + 1
            elif c == "`":
                kind, i = "code", i + 1
            else:
                raise ParseError(
                    f"Character '{c}' is reserved and must be escaped with the preceding '\\'"
                )
            stack.append((kind, utf16_offset, begin_byte, language))
            continue
        kind, start, _, language = stack.pop()
        i += 3 if kind == "pre" else 2 if kind in ("underline", "spoiler") else 1
        url = ""
        if kind in ("text_link", "custom_emoji"):
            if i < n and text[i] == "(":
                i += 1
                chars: list[str] = []
                while i < n and text[i] != ")":
                    if text[i] == "\\" and i + 1 < n and text[i + 1] in ")\\":
                        i += 1
                    chars.append(text[i])
                    i += 1
                if i >= n:
                    raise ParseError(
                        f"Can't find end of a url at byte offset {_byte_offset(text, i - 1)}"
                    )
                i += 1
                url = "".join(chars)
            if kind == "custom_emoji" and not url.startswith("tg://emoji?id="):
                raise ParseError("Custom emoji entity must contain a tg://emoji URL")
        length = utf16_offset - start
        if length > 0:
            if kind == "text_link":
                if url:
                    entities.append(Entity("text_link", start, length, url=url))
            elif kind == "custom_emoji":
                emoji_id = url.removeprefix("tg://emoji?id=")
                entities.append(Entity(kind, start, length, custom_emoji_id=emoji_id))
            elif kind == "pre":
                entities.append(Entity("pre", start, length, language=language or None))
            else:
                entities.append(Entity(kind, start, length))
    if stack:
        kind, _, byte_start, _ = stack[-1]
        raise ParseError(
            f"Can't find end of {_MDV2_NAMES[kind]} entity at byte offset {byte_start}"
        )
    if quote_start is not None and utf16_offset > quote_start:
        entities.append(Entity("blockquote", quote_start, utf16_offset - quote_start))
    return _finish("".join(out), entities)


_MDV2_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
    "text_link": "TextUrl",
    "custom_emoji": "CustomEmoji",
}


def parse_markdown(text: str) -> FormattedText:
    """Parse legacy Markdown (``parse_mode="Markdown"``); raise ParseError when malformed."""
    out: list[str] = []
    utf16_offset = 0
    entities: list[Entity] = []
    n = len(text)
    i = 0
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n and text[i + 1] in "_*`[":
            out.append(text[i + 1])
            utf16_offset += 1
            i += 2
            continue
        if c not in "_*`[":
            out.append(c)
            utf16_offset += utf16_len(c)
            i += 1
            continue
        begin = i
        start = utf16_offset
        if c == "`" and text.startswith("```", i):
            end = text.find("```", i + 3)
            if end == -1:
                raise _md_unclosed(text, begin)
            body = text[i + 3 : end]
            language = None
            first, sep, rest = body.partition("\n")
            if sep and first and " " not in first:
                language, body = first, rest
            out.append(body)
            utf16_offset += utf16_len(body)
            if body:
                entities.append(Entity("pre", start, utf16_len(body), language=language))
            i = end + 3
            continue
        closer = "]" if c == "[" else c
        end = text.find(closer, i + 1)
        if end == -1:
            raise _md_unclosed(text, begin)
        body = text[i + 1 : end]
        i = end + 1
        url = None
        if c == "[" and i < n and text[i] == "(":
            url_end = text.find(")", i + 1)
            if url_end == -1:
                raise _md_unclosed(text, begin)
            url = text[i + 1 : url_end]
            i = url_end + 1
        out.append(body)
        utf16_offset += utf16_len(body)
        if not body:
            continue
        if c == "[":
            if url:
                entities.append(Entity("text_link", start, utf16_len(body), url=url))
        else:
            kind = {"*": "bold", "_": "italic", "`": "code"}[c]
            entities.append(Entity(kind, start, utf16_len(body)))
    return _finish("".join(out), entities)


def _md_unclosed(text: str, index: int) -> ParseError:
    return ParseError(
        f"Can't find end of the entity starting at byte offset {_byte_offset(text, index)}"
    )


def _finish(text: str, entities: list[Entity]) -> FormattedText:
    """Trim surrounding whitespace like Telegram does, shifting and clipping entities."""
    stripped_left = text.lstrip(_TRIM_CHARS)
    shift = utf16_len(text) - utf16_len(stripped_left)
    trimmed = stripped_left.rstrip(_TRIM_CHARS)
    total = utf16_len(trimmed)
    result: list[Entity] = []
    for entity in entities:
        start = max(entity.offset - shift, 0)
        end = min(entity.offset + entity.length - shift, total)
        if end > start:
            result.append(
                Entity(
                    entity.type,
                    start,
                    end - start,
                    url=entity.url,
                    language=entity.language,
                    custom_emoji_id=entity.custom_emoji_id,
                )
            )
    result.sort(key=lambda e: (e.offset, -e.length))
    return FormattedText(trimmed, tuple(result))


def format_text(
    text: str, parse_mode: str | None, *, strict_ampersand: bool = True
) -> FormattedText:
    """Parse ``text`` according to the Bot API ``parse_mode`` (None/"" for plain text)."""
    mode = (parse_mode or "").lower()
    if mode == "html":
        return parse_html(text, strict_ampersand=strict_ampersand)
    if mode == "markdownv2":
        return parse_markdown_v2(text)
    if mode == "markdown":
        return parse_markdown(text)
    if mode:
        raise ValueError(f"Unsupported parse_mode {parse_mode!r}")
    return _finish(text, [])


def detect_bot_commands(text: str, existing: tuple[Entity, ...] = ()) -> tuple[Entity, ...]:
    """Add bot_command entities (like Telegram's auto-detection) that overlap no existing one."""
    found: list[Entity] = list(existing)
    spans = [(e.offset, e.offset + e.length) for e in existing]
    for match in _BOT_COMMAND_RE.finditer(text):
        start = utf16_len(text[: match.start()])
        length = utf16_len(match.group(0))
        if any(s < start + length and start < e for s, e in spans):
            continue
        found.append(Entity("bot_command", start, length))
    found.sort(key=lambda e: (e.offset, -e.length))
    return tuple(found)
