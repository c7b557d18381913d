"""A syntax error met by the fast path: Lark's recovering parser reads only the members with errors.

The fast path (`mlplang.dsl.lalr`, `mlplang.dsl.split_parse`) stops at the first
syntax error; `mlplang.dsl.recovery`'s Lark parser reports every mistake in a
file. Both run the same LALR tables with the same tokens and syntax-tree
builder, so at any point between two tokens their stacks would be the same,
up to Lark's numbering of states and its token and `_rule` value types, and
either parser can go on from the other's stacks. Here Lark takes over at the
start of the pipeline member the error is in, recovers, and hands back to the
fast path at the next member keyword after the error; at the fast path's next
error it takes over again, with the same `Recovery`, whose state no error-free
text changes. The outcome is that of one recovering pass over the whole file
(`recovery.parse_with_recovery`; tests/test_parser_paths.py compares them),
and a 10,000-step file with a mistake costs about what a valid one costs
instead of 2.5x.
"""

from __future__ import annotations

import functools

from lark import Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken
from lark.lexer import LexerState, LexerThread
from lark.utils import TextSlice

from mlplang.diagnostics import codes
from mlplang.dsl import split_parse
from mlplang.dsl.lalr import Stopped
from mlplang.dsl.recovery import (
    Recovery,
    building_into,
    cannot_parse,
    lark_parser,
    parse_with_recovery,
)
from mlplang.dsl.tokens import Tok
from mlplang.dsl.transformer import Context
from mlplang.source import SourceFile


def resume_with_recovery(source: SourceFile, context: Context, stopped: Stopped) -> tuple[list, Context]:
    """The items of a file the fast path stopped in at a syntax error, and the context
    holding their comments and diagnostics.

    The recovering parser takes over at the start of the pipeline member the error
    is in, on the stacks the fast path had there: Lark's own parse of the text before
    would have built the same ones (the same tables, tokens and builder), and met no
    error there to recover from, so the text before is not read again, and `_parse`
    hands back to the fast path after the error. The fast path's `context` is kept up
    to that point. Where the error is not inside a pipeline after its first member
    (an import, a template, a pipeline's header or first member), Lark starts over
    from the beginning of the file, with a new context, and still hands back after
    each error. Either way the result is that of `parse_with_recovery` (tests compare
    them)."""
    if _state_map()[0] is None:  # the fast path's tables are not this Lark's: Lark alone
        context = Context(source)
        return parse_with_recovery(source, context), context
    resume = _resume_point(stopped)
    if resume is not None and resume[1] < len(source.text):
        # (At the very end there is no token to resume on: Lark would place the end of the
        # text at line 1; the whole file is parsed again.)
        kept, offset = resume
        stacks = _lark_stacks(stopped, kept)
        if stacks is not None:
            _keep_before(context, offset)
            return _parse(source, context, offset, *stacks), context
    context = Context(source)
    return _parse(source, context, 0, None, None), context


def _resume_point(stopped: Stopped) -> tuple[int, int] | None:
    """Where the member the error is in starts: how many states of `stopped`'s stack
    hold there (up to the last member boundary on it) and the offset in the text; None
    if there is no boundary on the stack."""
    states, values = stopped.state_stack, stopped.value_stack
    if len(states) != len(values) + 1:
        return None
    boundaries = split_parse.member_boundaries()
    for top in range(len(states) - 1, 0, -1):
        if (states[top - 1], states[top]) in boundaries and type(values[top - 1]) is list:
            if top == len(values):  # nothing of the member read yet: it starts at the error
                return top + 1, stopped.offset
            above = values[top]
            return top + 1, above.start_pos if isinstance(above, Tok) else above.span.start
    return None


def _lark_stacks(stopped: Stopped, kept: int) -> tuple[list, list] | None:
    """The first `kept` states of the fast path's stack and their values, as Lark's parser
    holds them: its own state numbers, Lark `Token`s, and a `_rule`'s list of children as
    the `Tree` Lark's tree builder splices into the parent; None if a state has no match."""
    to_lark, symbols = _state_map()
    if to_lark is None:
        return None
    states: list = []
    for state in stopped.state_stack[:kept]:
        if state not in to_lark:
            return None
        states.append(to_lark[state])
    values = []
    for state, value in zip(stopped.state_stack[1:kept], stopped.value_stack):
        if isinstance(value, Tok):
            value = Token(value.type, value.value, value.start_pos, value.line, value.column,
                          value.end_line, value.end_column, value.end_pos)
        elif type(value) is list and symbols[state].startswith("_"):
            value = Tree(symbols[state], value)
        values.append(value)
    return states, values


@functools.cache
def _state_map() -> tuple[dict[int, int] | None, dict[int, str]]:
    """The fast path's state -> this module's Lark's state (None if their tables differ), and
    each state -> the symbol every transition into it reads."""
    from mlplang.dsl.tablegen import canonical_numbers
    from mlplang.grammar import lalr_tables as tables

    table = lark_parser().parser.parser.parser.parse_table
    to_lark = {number: state for state, number in canonical_numbers(table).items()}
    symbols: dict[int, str] = {}
    for number, actions in enumerate(tables.ACTIONS):
        live = table.states.get(to_lark.get(number))
        if live is None or set(live) != set(actions):
            return None, {}
        for symbol, target in actions.items():
            if target >= 0:
                symbols[target] = symbol
                if to_lark.get(target) != live[symbol][1]:
                    return None, {}
    return to_lark, symbols


def _keep_before(context: Context, offset: int) -> None:
    """Drop from the fast path's context what it found from `offset` on: the recovering
    parser reads that text again. Nesting depths are looked up only for the children of
    a value being built, all of them after `offset` from now on."""
    context.comments[:] = [comment for comment in context.comments if comment.span.start < offset]
    context.diagnostics[:] = [d for d in context.diagnostics if d.span.start < offset]
    context.depth.clear()
    context.too_deep_reported = any(d.code == codes.TOO_DEEP.code for d in context.diagnostics)


def _parse(source: SourceFile, context: Context, offset: int, state_stack: list | None,
           value_stack: list | None) -> list:
    """`parse_with_recovery` from `offset` on, with Lark's stacks as they are there (None: the
    start), handing over to the fast path between errors.

    Lark reads from `offset` and recovers from the error the fast path stopped at; at
    the next member keyword after it, the fast path takes over on Lark's stacks (it
    would build what Lark builds: the same tables, tokens and builder). If it reaches
    the end, that is the result; if it stops at another error, Lark takes over again,
    at the last member boundary before it (or where the fast path started), with the
    same `Recovery`, whose state no error-free text changes. So Lark reads only the
    members with errors, and the outcome is that of one recovering pass."""
    parser = lark_parser()
    frontend = parser.parser
    on_error = Recovery(context, parser)
    text = source.text
    switch_after = offset
    with building_into(context) as builder:
        try:
            while True:
                lexer = _HandingOver(frontend.lexer, LexerState(TextSlice(text, offset, None)))
                lexer.after, lexer.context = switch_after, context
                try:
                    try:
                        return frontend.parser.parser.parse(lexer, "start", value_stack=value_stack,
                                                            state_stack=state_stack) or []
                    except UnexpectedInput as error:
                        return _recover_from(error, on_error) or []
                except _HandOver as hand_over:
                    lark_states, lark_values = hand_over.parser_state.state_stack, hand_over.parser_state.value_stack
                    start = hand_over.token.start_pos
                fast_states, fast_values = _fast_stacks(lark_states, lark_values)
                parsed = split_parse.parse_from(source, builder, context, start, fast_states, fast_values)
                if type(parsed) is list:
                    return parsed
                resume = _resume_point(parsed)  # the fast path stopped at another error
                stacks = None
                if resume is not None and start <= resume[1] < len(text):
                    stacks = _lark_stacks(parsed, resume[0])
                if stacks is not None:
                    offset, (state_stack, value_stack) = resume[1], stacks
                else:  # Lark goes on from where it handed over, on the stacks it had
                    offset, state_stack, value_stack = start, lark_states, lark_values
                _keep_before(context, offset)
                switch_after = parsed.offset
        except UnexpectedInput as error:
            cannot_parse(source, context, error)
            return []


_MEMBER_KEYWORDS = frozenset({"STEP", "SOURCE", "PARAM", "SECRET", "GATE", "MONITOR"})


class _HandOver(Exception):
    """Raised by `_HandingOver` to stop Lark before it reads `token`."""

    def __init__(self, token: Token, parser_state) -> None:
        super().__init__()
        self.token, self.parser_state = token, parser_state


class _HandingOver(LexerThread):
    """Lark's tokens, until a member keyword after `after` and after the last error:
    there it raises `_HandOver` (the parser has not read that token)."""

    after = -1
    context: Context | None = None

    def lex(self, parser_state):
        for token in super().lex(parser_state):
            if token.type in _MEMBER_KEYWORDS and token.start_pos > self.after:
                offsets = self.context.error_offsets
                if offsets and token.start_pos > offsets[-1]:
                    raise _HandOver(token, parser_state)
            yield token

    def __copy__(self):
        copied = super().__copy__()
        copied.after, copied.context = self.after, self.context
        return copied


def _fast_stacks(state_stack: list, value_stack: list) -> tuple[list[int], list]:
    """Lark's stacks as the fast path holds them (`_lark_stacks` the other way): new lists,
    so that Lark's stay as they were if it has to go on from them."""
    from_lark = _from_lark()
    values = []
    for value in value_stack:
        if isinstance(value, Token):
            value = Tok(value.type, value.value, value.start_pos, value.end_pos, value.line, value.column,
                        value.end_line, value.end_column)
        elif isinstance(value, Tree):
            value = list(value.children)
        values.append(value)
    return [from_lark[state] for state in state_stack], values


@functools.cache
def _from_lark() -> dict[int, int]:
    to_lark, _ = _state_map()
    return {lark: number for number, lark in to_lark.items()}


def _recover_from(error: UnexpectedInput, on_error: Recovery):
    """What Lark's `LALR_Parser.parse` does once the parse raised, with `on_error`."""
    while True:
        if isinstance(error, UnexpectedCharacters):
            state = error.interactive_parser.lexer_thread.state
            position = state.line_ctr.char_pos
        if not on_error(error):
            raise error
        if isinstance(error, UnexpectedCharacters) and position == state.line_ctr.char_pos:
            state.line_ctr.feed(state.text.text[position:position + 1])  # skip the character
        try:
            return error.interactive_parser.resume_parse()
        except UnexpectedToken as again:
            if (isinstance(error, UnexpectedToken) and error.token.type == again.token.type == "$END"
                    and error.interactive_parser == again.interactive_parser):
                raise again from None  # no progress at the end of the text
            error = again
        except UnexpectedCharacters as again:
            error = again
