"""Position conversion for `mlp lsp`: our spans count code points from 1, LSP
counts UTF-16 code units from 0 (a non-BMP character is two units)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from mlplang.api import load_text
from mlplang.lsp.positions import (
    LineIndex,
    column_to_utf16,
    encoded_length,
    utf16_length,
)

TEXT = 'a😀b\n  é"𝄞x"\nlast'


def test_utf16_length_counts_surrogate_pairs():
    assert utf16_length("abc") == 3
    assert utf16_length("😀") == 2
    assert utf16_length("é𝄞") == 3
    assert encoded_length("é😀", "utf-8") == 6
    assert encoded_length("é😀", "utf-32") == 2


def test_offsets_to_lsp_positions():
    index = LineIndex(TEXT)
    assert index.position(0) == (0, 0)
    assert index.position(1) == (0, 1)  # before the emoji
    assert index.position(2) == (0, 3)  # after it: two code units
    assert index.position(3) == (0, 4)
    assert index.position(TEXT.index("x")) == (1, 6)  # "  é\"" is 4 units, the clef 2
    assert index.position(len(TEXT)) == (2, 4)


def test_lsp_positions_to_offsets():
    index = LineIndex(TEXT)
    assert index.offset(0, 3) == 2
    assert index.offset(1, 6) == TEXT.index("x")
    assert index.offset(1, 999) == TEXT.index("\nlast")  # clamped to the end of the line
    assert index.offset(99, 0) == len(TEXT)
    assert index.offset(-1, 0) == 0


def test_other_negotiated_encodings():
    assert LineIndex(TEXT, "utf-32").position(2) == (0, 2)
    assert LineIndex(TEXT, "utf-8").position(2) == (0, 5)
    assert LineIndex(TEXT, "utf-8").offset(0, 5) == 2


def test_column_to_utf16():
    assert column_to_utf16("😀x", 2) == 2
    assert column_to_utf16("😀x", 1) == 0


def test_diagnostic_after_an_emoji_lands_on_the_right_utf16_column():
    text = 'pipeline p {\n  description = "😀 fraud" owner = = "x"\n}\n'
    diagnostic = next(d for d in load_text(text, "lsp_positions_emoji.mlp").diagnostics if d.code == "MLP001")
    line, character = LineIndex(text).position(diagnostic.span.start)
    assert line == diagnostic.span.line - 1
    assert character == column_to_utf16(text.splitlines()[line], diagnostic.span.column)
    assert text.splitlines()[line].encode("utf-16-le")[2 * character:].decode("utf-16-le").startswith("=")


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40), st.data())
def test_round_trip(text, data):
    index = LineIndex(text)
    offset = data.draw(st.integers(0, len(text)))
    if text[offset - 1:offset + 1] == "\r\n" and offset > 0:
        return  # between the two characters of one line break: no LSP position stands for it
    assert index.offset(*index.position(offset)) == offset


def test_lines_end_where_editors_end_them():
    """LSP counts "\r\n", a lone "\r" and "\n" as line breaks (an old Mac file, a stray CR)."""
    text = "a\rbb\r\nc\nd"
    index = LineIndex(text)
    assert [index.line_text(n) for n in range(4)] == ["a", "bb", "c", "d"]
    assert index.position(text.index("bb") + 1) == (1, 1)
    assert index.position(text.index("c")) == (2, 0)
    assert index.offset(1, 99) == text.index("\r\n")  # clamped to the end of the line, before its break
    assert index.offset(3, 0) == text.index("d")
