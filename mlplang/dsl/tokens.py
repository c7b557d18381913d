"""Tokens, and the one lexical rule that is not in the grammar.

Both parsers hand the syntax-tree builder tokens with the same attributes:
the table-driven parser (`mlplang.dsl.lalr`) makes `Tok`s, the recovering
Lark parser makes Lark `Token`s (a `str` subclass). `TOKEN_TYPES` tells the
builder a token from a node without importing Lark.
"""

from __future__ import annotations

from typing import NamedTuple


class Tok(NamedTuple):
    """A token of the table-driven parser: Lark's `Token` attributes, none of its cost
    (a named tuple is built without a Python-level `__init__`)."""

    type: str
    value: str
    start_pos: int
    end_pos: int
    line: int
    column: int
    end_line: int
    end_column: int

    def __str__(self) -> str:
        return self.value


# Lark's Token is a str; no node of the syntax tree is either (nor a `Tok`).
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
