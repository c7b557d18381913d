"""Tokens, and the one lexical rule that is not in the grammar.

Both parsers hand the syntax-tree builder tokens with the same attributes:
the table-driven parser (`mlplang.dsl.lalr`) makes `Tok`s, the recovering
Lark parser makes Lark `Token`s (a `str` subclass). `TOKEN_TYPES` tells the
builder a token from a node without importing Lark.
"""

from __future__ import annotations


class Tok:
    """A token of the table-driven parser: Lark's `Token` attributes, none of its cost."""

    __slots__ = ("type", "value", "start_pos", "end_pos", "line", "column", "end_line", "end_column")

    def __init__(self, type: str, value: str, start_pos: int, end_pos: int, line: int, column: int,
                 end_line: int, end_column: int) -> None:
        self.type = type
        self.value = value
        self.start_pos = start_pos
        self.end_pos = end_pos
        self.line = line
        self.column = column
        self.end_line = end_line
        self.end_column = end_column

    def __str__(self) -> str:
        return self.value

    def __repr__(self) -> str:
        return f"Tok({self.type!r}, {self.value!r})"


# Lark's Token is a str; no node of the syntax tree is.
TOKEN_TYPES = (str, Tok)

# Keywords that start an item. The contextual lexer reads a keyword as a plain
# name where the keyword cannot occur (so `param.x` and an argument named
# `source` work), but then `image =` followed by a line `out model: Model` would
# take `out` as the missing value. A keyword that starts a line and is followed
# by what follows a keyword (not `.`, `=`, `:`, a closer, ...) starts a new
# item: keep it a keyword, so the error is reported where the value is missing.
ITEM_KEYWORDS = {
    word: word.upper()
    for word in ("import", "pipeline", "template", "param", "secret", "source", "step", "gate", "monitor",
                 "in", "out", "after", "when", "require")
}
NOT_AFTER_KEYWORD = frozenset(".=:,;)]}<>!")


def item_keyword(text: str, start: int, end: int) -> str | None:
    """The keyword terminal a name lexed at text[start:end] stands for, if it starts an item."""
    keyword = ITEM_KEYWORDS.get(text[start:end])
    if keyword is None:
        return None
    line_start = text.rfind("\n", 0, start) + 1
    if text[line_start:start].strip():
        return None
    rest = text[end:end + 64].lstrip()
    if rest[:1] in NOT_AFTER_KEYWORD:
        return None  # `param.x`, `source = raw` (an argument), `source: Dataset` (a parameter), ...
    return keyword
