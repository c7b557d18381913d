"""The fast path of the parser: Lark's LALR tables driven by one tight loop.

Most files have no syntax error. For them this module lexes with one regular
expression and runs the shift/reduce loop over the tables that
`mlplang.dsl.tablegen` exported from Lark, calling the same syntax-tree
builder with the same children as Lark's inline transformer would. It does
not import Lark, and it is several times cheaper per token than Lark's
general-purpose lexer and parser.

It gives up (returns None) at the first character or token the grammar does
not accept; `mlplang.dsl.parser` then parses the file again with Lark and its
error recovery, which reports every mistake. Its tokens are Lark's: the
alternation tries terminals in Lark's order, and a word is a keyword where
the parser state accepts that keyword, else a name, which is what Lark's
contextual lexer does. A test checks that both paths build equal trees.
"""

from __future__ import annotations

import functools
import re
from bisect import bisect_right
from dataclasses import dataclass

from mlplang.dsl import ast
from mlplang.dsl.tokens import ITEM_KEYWORDS, Tok, item_keyword
from mlplang.dsl.transformer import SyntaxTreeBuilder
from mlplang.grammar import lalr_tables as tables
from mlplang.source import SourceFile, Span

_TOKENS = re.compile(tables.TOKEN_PATTERN)
_new_token = tuple.__new__
_KEYWORDS = tables.KEYWORDS
_ITEM_WORDS = frozenset(ITEM_KEYWORDS)


# How a reduction makes its value (see `_rules`).
_SAME = 0  # the single child is the value: `?value: string`, `_item: _sep`
_WRAP = 1  # a list of the single child, to splice into the parent: `_body_item: attribute`
_EXTEND = 2  # a list extended by the next item's list: `__body_star: __body_star _body_item`
_CALL = 3  # the builder called with the single child: `name: NAME`, `string: STRING`
_BUILD = 4  # anything else: filter, splice, call the builder


@functools.cache
def _rules(builder: SyntaxTreeBuilder) -> tuple:
    """RULES as (how, size, kept, expand_single, callback, origin), the builder's methods bound.

    Most reductions are unit rules that only pass a value on (`expr` ->
    `or_expr` -> ... -> `value` -> `string`); `how` lets the loop do those
    without a call."""
    result = []
    for origin, size, kept, expand_single, method in tables.RULES:
        callback = getattr(builder, method) if method else None
        how = _BUILD
        if size == 1 and callback is None:
            if expand_single and kept in (None, ((0, False),)):
                how = _SAME
            elif not expand_single and kept == ((0, True),):
                how = _SAME  # splicing one `_rule`'s list: that list
            elif not expand_single and kept in (None, ((0, False),)):
                how = _WRAP
        elif size == 1 and callback is not None and not expand_single and kept is None:
            how = _CALL
        elif size == 2 and callback is None and not expand_single and kept == ((0, True), (1, True)):
            how = _EXTEND
        result.append((how, size, kept, expand_single, callback, origin))
    return tuple(result)


@dataclass(frozen=True)
class Stopped:
    """Where the fast path met a syntax error: its stacks there (as `run` left them, the
    reductions the offending token caused done) and the offset of that token or character.
    The recovering parser resumes from the last member boundary on these stacks
    (`mlplang.dsl.handover`)."""

    state_stack: list[int]
    value_stack: list
    offset: int


def parse_items(source: SourceFile, builder: SyntaxTreeBuilder, comments: list[ast.Comment],
                start: int = 0) -> list | None:
    """The file's top-level items, or None at the first syntax error.

    Comments are appended to `comments`; the builder may record diagnostics
    in its context (bad escapes, unknown units), as with the Lark parser.
    With `start`, the text before that offset is skipped (positions stay
    those of the whole text): the language server parses one edited member
    that way (`mlplang.lsp.incremental`)."""
    outcome, value = run(source, builder, comments, start, [tables.START], [])
    return value if outcome == ACCEPTED else None


# What `run` stopped at.
ACCEPTED = 0  # the end of the text, the start rule complete: the value is the top-level items
REJECTED = 1  # a syntax error: the value is the offset of the token (or character) not accepted
PAUSED = 2  # the first token at or after `pause_at`, its reductions done, not shifted: value is its offset
FLOOR = 3  # a reduction that would pop the stacks below `floor`, not done: value is the lookahead's offset


def run(source: SourceFile, builder: SyntaxTreeBuilder, comments: list[ast.Comment], start: int,
        state_stack: list[int], value_stack: list, pause_at: int | None = None, floor: int = 1) -> tuple[int, object]:
    """Run the automaton over the text from offset `start` on the given stacks (changed in place).

    A whole parse starts from `[START]` and an empty value stack. Stopping at
    PAUSED or FLOOR leaves the stacks as they are, so that the run can go on
    from the returned offset; `mlplang.dsl.split_parse` runs the two halves of a
    large file that way, one of them on stacks that hold only their top. The
    start state is never popped (floor 1), so the check costs nothing in a
    whole parse; it is made only where more than the top is popped."""
    text = source.text
    line_starts = source._line_starts
    last_line = len(line_starts)
    actions = tables.ACTIONS
    rules = _rules(builder)
    keywords = _KEYWORDS
    item_words = _ITEM_WORDS
    accept = tables.ACCEPT
    if pause_at is None:
        pause_at = len(text) + 1

    state_actions = actions[state_stack[-1]]
    # The line of the current token, found by bisection only when a token
    # starts past the end of the previous token's line (most share a line).
    line = bisect_right(line_starts, start)
    line_start = line_starts[line - 1]
    next_line_start = line_starts[line] if line < last_line else len(text) + 1
    path = source.path
    for match in _TOKENS.finditer(text, start):
        kind = match.lastgroup
        start, end = match.span(kind)
        if start >= next_line_start:
            line = bisect_right(line_starts, start)
            line_start = line_starts[line - 1]
            next_line_start = line_starts[line] if line < last_line else len(text) + 1
        column = start - line_start + 1
        if kind == "COMMENT":
            comments.append(ast.Comment(text[start:end], Span(path, line, column, line, column + end - start,
                                                              start, end)))
            continue
        value = text[start:end]
        end_line, end_column = line, column + end - start
        if kind == "NAME":
            keyword = keywords.get(value)
            if keyword is not None:
                if keyword in state_actions:
                    kind = keyword
                elif value in item_words:
                    kind = item_keyword(text, start, end) or kind
        elif kind == "LONG_STRING":
            end_line = bisect_right(line_starts, end)
            end_column = end - line_starts[end_line - 1] + 1
        elif kind == "__END":
            break
        elif kind == "__INVALID":
            return REJECTED, start
        token = _new_token(Tok, (kind, value, start, end, line, column, end_line, end_column))
        while True:
            action = state_actions.get(kind)
            if action is None:
                return REJECTED, start
            if action >= 0:
                if start >= pause_at:
                    return PAUSED, start
                state_stack.append(action)
                value_stack.append(token)
                state_actions = actions[action]
                break
            how, size, kept, expand_single, callback, origin = rules[-action - 1]
            if how == _SAME:
                state = state_stack[-1] = actions[state_stack[-2]][origin]
            elif how == _WRAP:
                value_stack[-1] = [value_stack[-1]]
                state = state_stack[-1] = actions[state_stack[-2]][origin]
            elif how == _CALL:
                value_stack[-1] = callback([value_stack[-1]])
                state = state_stack[-1] = actions[state_stack[-2]][origin]
            elif how == _EXTEND:
                if len(state_stack) - 2 < floor:
                    return FLOOR, start
                tail = value_stack.pop()
                value_stack[-1] += tail
                del state_stack[-1]
                state = state_stack[-1] = actions[state_stack[-2]][origin]
            else:
                if len(state_stack) - size < floor:
                    return FLOOR, start
                _reduce(value_stack, state_stack, size, kept, expand_single, callback)
                state = actions[state_stack[-1]][origin]
                state_stack.append(state)
            state_actions = actions[state]

    end_of_text = len(text)
    while True:  # end of input: reduce until the start rule is complete
        action = state_actions.get("$END")
        if action is None or action >= 0:
            return REJECTED, end_of_text
        _, size, kept, expand_single, callback, origin = rules[-action - 1]
        if len(state_stack) - size < floor:
            return FLOOR, end_of_text
        _reduce(value_stack, state_stack, size, kept, expand_single, callback)
        goto = actions[state_stack[-1]][origin]
        state_stack.append(goto)
        if goto == accept:
            return ACCEPTED, value_stack[-1]
        state_actions = actions[goto]


def _reduce(value_stack: list, state_stack: list, size: int, kept, expand_single: bool, callback) -> None:
    """Pop a rule's children and push its value, as Lark's tree builder makes it
    (the caller pushes the state the parser goes to)."""
    if size:
        children = value_stack[-size:]
        del value_stack[-size:]
        del state_stack[-size:]
    else:
        children = []
    if kept is not None:
        filtered: list = []
        for index, splice in kept:
            if splice:
                if filtered:
                    filtered += children[index]
                else:  # a left-recursive list: extend the child's list in place
                    filtered = children[index]
            else:
                filtered.append(children[index])
        children = filtered
    if callback is None:
        # A `_rule` is its children, spliced into the parent; a `?rule` with
        # one child is that child.
        value_stack.append(children[0] if expand_single else children)
    elif expand_single and len(children) == 1:
        value_stack.append(children[0])
    else:
        value_stack.append(callback(children))
