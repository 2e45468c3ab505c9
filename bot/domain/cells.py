"""The one rule for text written into a spreadsheet (the .xlsx ledger) or a CSV file.

- Characters XML 1.0 does not allow (C0 controls but tab, line feed and carriage return;
  U+FFFE, U+FFFF; lone surrogates) are removed: one of them made every export fail, or gave a
  file Excel and openpyxl could not open. Word's soft line break (U+000B) becomes a line break.
- Text that a spreadsheet would run as a formula (starting with = + - @, or a tab or carriage
  return before one) stays text: in .xlsx the cell is typed as a string (the text is shown as
  written); in a CSV, which has no types, it gets a leading apostrophe.
- A cell holds at most 32,767 characters (Excel's limit): longer text is split into parts, the
  first in the cell with a note where the rest is; nothing is cut silently.
"""

from __future__ import annotations

import re

CELL_LIMIT = 32_767  # Excel's maximum characters in a cell
_ILLEGAL = re.compile("[\x00-\x08\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def clean(text: str) -> str:
    """`text` without the characters a spreadsheet file cannot hold."""
    return _ILLEGAL.sub("", text.replace("\x0b", "\n"))


def formula_like(text: str) -> bool:
    """True if a spreadsheet would read `text` as a formula."""
    return text.startswith(_FORMULA_START)


def csv_field(text: str) -> str:
    """A CSV field: cleaned, and never a formula (a leading apostrophe keeps it text)."""
    text = clean(text)
    return "'" + text if formula_like(text) else text


def split_cell(text: str, note: str, limit: int = CELL_LIMIT) -> list[str]:
    """`text` in parts that each fit a cell; every part but the last ends with `note` (where
    the rest is continued), so the first part can stand in the cell and the others elsewhere."""
    if len(text) <= limit:
        return [text]
    room = limit - len(note)
    if room <= 0:
        raise ValueError("the note leaves no room in the cell")
    parts = [text[i : i + room] for i in range(0, len(text), room)]
    return [part + note for part in parts[:-1]] + parts[-1:]
