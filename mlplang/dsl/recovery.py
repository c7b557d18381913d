"""The slow path of the parser: Lark, reporting every syntax error and resuming.

`mlplang.dsl.parser` comes here only when the fast path (`mlplang.dsl.lalr`)
met a syntax error (through `mlplang.dsl.handover`, which lets Lark read only
the members with errors). The LALR parser is built once (and its tables cached on disk by Lark). On an
error, recovery first tries to insert one token the parser expects (so a
missing `=` or `}` costs one diagnostic, not a cascade) - two when a line
starting with a keyword shows the previous item is incomplete - and otherwise
deletes the offending token. Errors that are just the tail of a deletion, and
any second error on the same line, are not reported: one mistake, one
diagnostic.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from mlplang.diagnostics import codes
from mlplang.diagnostics.model import Diagnostic, Label, Severity
from mlplang.dsl import ast
from mlplang.dsl.syntax_errors import (
    EXAMPLES,
    MISSING_LABELS,
    VALUE_STARTS,
    describe_expected,
    describe_found,
)
from mlplang.dsl.tokens import ITEM_KEYWORDS, NOT_AFTER_KEYWORD, item_keyword
from mlplang.dsl.transformer import Context, SyntaxTreeBuilder
from mlplang.source import SourceFile

GRAMMAR = Path(__file__).resolve().parent.parent / "grammar" / "mlp.lark"
MAX_ERRORS = 50
# Error callbacks of any kind (most are silent skips of a cascade) before the
# parse gives up: bounds the time spent on a file that is mostly junk.
MAX_RECOVERIES = 5000

_builder = SyntaxTreeBuilder()

# Tokens recovery may insert, most plausible first, with the text they stand for.
_INSERTABLE = {
    "RBRACE": "}", "RPAR": ")", "RSQB": "]", "EQUAL": "=", "COLON": ":",
    "NAME": "__missing__", "STRING": '""', "NUMBER": "0", "LBRACE": "{",
}
_TOKEN_TEXT = {**_INSERTABLE, "COMMA": ","}  # `,` is inserted only between list items

_ITEM_KEYWORD_TYPES = frozenset(ITEM_KEYWORDS.values())


def _on_name(token: Token) -> Token:
    keyword = item_keyword(_builder.context.source.text, token.start_pos, token.end_pos)
    if keyword is not None:
        token.type = keyword
    return token


_CLOSER = {"LBRACE": "RBRACE", "LSQB": "RSQB", "LPAR": "RPAR"}
_CLOSER_TEXT = {"RBRACE": "}", "RSQB": "]", "RPAR": ")"}


def _unclosed(value_stack: list) -> Token | None:
    """The innermost `{`, `[` or `(` of the parser's stack still waiting for its closer."""
    openers: list[Token] = []
    for item in value_stack:
        if isinstance(item, Token):
            if item.type in _CLOSER:
                openers.append(item)
            elif item.type in _CLOSER_TEXT and openers:
                openers.pop()
    return openers[-1] if openers else None


def _end_offset(item) -> int | None:
    """Where an item of the parser's value stack ends in the text, if known."""
    if isinstance(item, Token):
        return item.end_pos
    if isinstance(item, Tree):
        return _end_offset(item.children[-1]) if item.children else None
    if isinstance(item, tuple) and len(item) == 2 and hasattr(item[1], "end"):
        return item[1].end  # (attributes, span) of a block
    span = getattr(item, "span", None)
    return span.end if span is not None else None


def _on_comment(token: Token) -> Token:
    _builder.context.comments.append(
        ast.Comment(str(token), _builder._tok_span(token))
    )
    return token


class _WholeWords:
    """Words are read whole, in every parser state.

    Where no name is expected, Lark's contextual lexer matches keywords as
    plain strings, so `pipelineisimages {` read as `pipeline isimages {`.
    With NAME in every state's lexer, a keyword must be the whole word (Lark
    then tells a keyword from a name by its text), as in the fast path."""

    always_accept = ("NAME",)

    def process(self, stream):
        return stream


@functools.cache
def lark_parser() -> Lark:
    return Lark(
        GRAMMAR.read_text(encoding="utf-8"),
        parser="lalr",
        lexer="contextual",
        postlex=_WholeWords(),
        transformer=_builder,
        lexer_callbacks={"COMMENT": _on_comment, "NAME": _on_name},
        maybe_placeholders=False,
        cache=True,
    )


@functools.cache
def _literal_of() -> dict[str, str]:
    """Terminal name -> its literal text, for terminals that are fixed strings."""
    result = {}
    for terminal in lark_parser().terminals:
        pattern = terminal.pattern
        if pattern.type == "str":
            result[terminal.name] = pattern.value
    return result


@functools.cache
def _keyword_types() -> frozenset[str]:
    """Terminals that are words the NAME pattern also matches (`out`, `step`, `not`, ...)."""
    return frozenset(name for name, text in _literal_of().items() if text.isidentifier())


def _terminal_of(literal: str) -> str | None:
    """The terminal name Lark gave a fixed string (`==` is anonymous)."""
    return next((name for name, text in _literal_of().items() if text == literal), None)


def _dry_copy(parser):
    """A copy of an interactive parser for trying tokens: reductions build no
    syntax tree (so they report nothing twice) and the values already on the
    stack are shared, not deep-copied (Lark's deep copy of a Token drops its
    end position, and copying the whole stack per trial is slow)."""
    trial = parser.copy(deepcopy_values=False)
    conf = copy.copy(trial.parser_state.parse_conf)
    conf.callbacks = {}
    trial.parser_state.parse_conf = conf
    return trial


class Recovery:
    """The `on_error` callback: report, then insert or delete a token."""

    def __init__(self, context: Context, parser: Lark) -> None:
        self.context = context
        self.parser = parser
        self.text = context.source.text
        self.deleted_end = -1
        self.skipped_char_end = -1
        self.count = 0
        self.eof_reported = False
        self.error_line = -1
        self.recoveries = 0

    def __call__(self, error: UnexpectedInput) -> bool:
        if isinstance(error, UnexpectedToken):
            at_end = error.token.type == "$END"
            self.context.error_offsets.append(len(self.text) if at_end else error.token.start_pos)
        else:
            self.context.error_offsets.append(getattr(error, "pos_in_stream", 0) or 0)
        if self.count >= MAX_ERRORS:
            return False
        self.recoveries += 1
        if self.recoveries > MAX_RECOVERIES:
            self._give_up(error)
            return False
        if isinstance(error, UnexpectedCharacters):
            return self._bad_character(error)
        if isinstance(error, UnexpectedToken):
            return self._bad_token(error)
        return False

    def _give_up(self, error: UnexpectedInput) -> None:
        """Stop after too many silent skips: a 10 MB run of `}` or of bad bytes
        would otherwise be skipped one token at a time (tens of microseconds each)."""
        if isinstance(error, UnexpectedToken):
            at_end = error.token.type == "$END"
            start = len(self.text) if at_end else error.token.start_pos
        else:
            start = error.pos_in_stream
        self._report(
            codes.SYNTAX_ERROR, "too many syntax errors: the rest of the file is not checked", start, start,
            label="parsing stopped here", help="fix the errors above and check again",
        )

    # ---- lexer errors --------------------------------------------------------

    def _report(self, code, message: str, start: int, end: int, label: str = "", help: str | None = None,
                labels: tuple[Label, ...] = ()):
        self.count += 1
        self.context.diagnostics.append(
            Diagnostic(
                code=code.code,
                severity=Severity.ERROR,
                message=message,
                span=self.context.source.span(start, end),
                label=label,
                labels=labels,
                help=help,
            )
        )

    def _bad_character(self, error: UnexpectedCharacters) -> bool:
        position = error.pos_in_stream
        char = self.text[position]
        state = error.interactive_parser.lexer_thread.state
        if char == '"':
            if self.text[max(0, position - 2):position + 1] == '"""' or self.text.startswith('"""', position):
                start = position - 2 if self.text[max(0, position - 2):position] == '""' else position
                self._report(
                    codes.UNTERMINATED_STRING, "triple-quoted string is never closed", start, start + 3,
                    label='this `"""` has no closing `"""`',
                )
                state.line_ctr.feed(self.text[position:])  # the rest of the file is inside it
                self.eof_reported = True
                return True
            line_end = self.text.find("\n", position)
            line_end = len(self.text) if line_end == -1 else line_end
            self._report(
                codes.UNTERMINATED_STRING, "string is not closed on this line", position, line_end,
                label="missing closing `\"`",
                help='close the string with `"`; for text over several lines use `"""..."""`',
            )
            state.line_ctr.feed(self.text[position:line_end])
            self._insert_value(error, position)
            # The rest of the line (often a closing `}` or `]`) was read as part of
            # the string: an error at the next token is a consequence, not a mistake.
            self.deleted_end = line_end
            return True
        line = self.context.source.position(position)[0]
        if position != self.skipped_char_end and line != self.error_line:
            self.error_line = line
            shown = repr(char)[1:-1] if not char.isprintable() or char.isspace() else char
            self._report(
                codes.INVALID_CHARACTER, f"unexpected character `{shown}`", position, position + 1,
                label="not valid here",
                help="outside strings, MLP uses names, numbers, `{ } [ ] ( ) = : , ; . < >` "
                "and `#` comments",
            )
        self.skipped_char_end = position + 1
        return True

    def _insert_value(self, error: UnexpectedCharacters, position: int) -> None:
        parser = error.interactive_parser
        if "STRING" in parser.accepts():
            line, column = self.context.source.position(position)
            parser.feed_token(
                Token("STRING", '""', start_pos=position, line=line, column=column,
                      end_line=line, end_column=column, end_pos=position)
            )

    # ---- parser errors ---------------------------------------------------------

    def _bad_token(self, error: UnexpectedToken) -> bool:
        token = error.token
        parser = error.interactive_parser
        if self._keyword_as_name(token, parser):
            return True
        at_end = token.type == "$END"
        cascade = self.deleted_end >= 0 and not self.text[self.deleted_end:token.start_pos if not at_end else None].strip()
        # At most one syntax error per line: a second one is nearly always a
        # consequence of the recovery from the first.
        cascade = cascade or (not at_end and token.line == self.error_line)
        inserted = self._try_insert(error)
        if at_end:
            if not self.eof_reported and not cascade:
                self._report_token(error, codes.UNEXPECTED_EOF, inserted)
            self.eof_reported = True
        elif not cascade:
            self._report_token(error, codes.SYNTAX_ERROR, inserted)
            self.error_line = token.line
        if inserted:
            for candidate in inserted:
                parser.feed_token(candidate)
            if not at_end:
                parser.feed_token(token)
            self.deleted_end = -1
            return True
        if at_end:
            return False
        self.deleted_end = token.end_pos
        return True

    def _keyword_as_name(self, token: Token, parser) -> bool:
        """Read a keyword as the name it is used as (`{ a = 1, out = 2 }`).

        LALR merges the states after a value or a separator across every rule,
        so the contextual lexer there also expects item keywords and reads
        `out` as one; a keyword followed by what follows a name (`=`, `.`, ...)
        where the parser takes a name is that name, not a mistake."""
        if token.type not in _keyword_types() or "NAME" not in parser.accepts():
            return False
        rest = self.text[token.end_pos:token.end_pos + 64].lstrip()
        if rest[:1] not in NOT_AFTER_KEYWORD:
            return False
        parser.feed_token(Token.new_borrow_pos("NAME", token.value, token))
        return True

    def _try_insert(self, error: UnexpectedToken) -> list[Token] | None:
        """One token (or, failing that, two) that lets the parser accept the
        unexpected token, most plausible first; None if there is none."""
        parser = error.interactive_parser
        at_end = error.token.type == "$END"
        order = list(_INSERTABLE)
        opener = _unclosed(parser.parser_state.value_stack)
        if opener is not None and opener.type == "LSQB" and not at_end:
            stack = parser.parser_state.value_stack
            if self._list_mistake(error.token, stack, parser.accepts()).startswith("missing `,`"):
                order.insert(0, "COMMA")  # `["a" "b"]`: the comma is what is missing

        def fits(trial) -> bool:
            if at_end:
                return "$END" in trial.accepts()
            return error.token.type in trial.accepts()

        def extend(base, prefix: list[Token]):
            accepts = base.accepts()
            for terminal in order:
                if terminal not in accepts:
                    continue
                if terminal == "LBRACE" and error.token.type not in _ITEM_KEYWORD_TYPES:
                    continue  # only `pipeline p` + newline + `step ...` needs a `{`; elsewhere it misleads
                candidate = Token.new_borrow_pos(terminal, _TOKEN_TEXT[terminal], error.token)
                trial = _dry_copy(base)
                try:
                    trial.feed_token(candidate)
                except UnexpectedInput:
                    continue
                yield prefix + [candidate], trial

        for tokens, trial in extend(parser, []):
            if fits(trial) or (at_end and tokens[0].type == "RBRACE"):
                return tokens
        if (error.token.type not in _ITEM_KEYWORD_TYPES and error.token.type != "RBRACE") or \
                not self._starts_line(error.token.start_pos):
            return None
        # The item on the previous line lacks two tokens (`param x` then a new
        # line `param y: int` lacks `: TYPE`; a half-typed `r` before the block's
        # closing `}` lacks `= VALUE`): complete it, rather than delete the `}`.
        for first, trial in extend(parser, []):
            for tokens, deeper in extend(trial, first):
                if fits(deeper):
                    return tokens
        return None

    def _starts_line(self, offset: int) -> bool:
        return not self.text[self.text.rfind("\n", 0, offset) + 1:offset].strip()

    def _report_token(self, error: UnexpectedToken, code, inserted: list[Token] | None) -> None:
        token = error.token
        at_end = token.type == "$END"
        accepts = set(error.accepts or error.expected)
        stack = error.interactive_parser.parser_state.value_stack
        opener = _unclosed(stack)
        if at_end and opener is not None and _CLOSER[opener.type] in accepts:
            self._report_unclosed_at_end(opener, code)
            return
        if not at_end and self._report_missing_value(token, stack, code):
            return
        found = describe_found(token.type, str(token))
        expected = describe_expected(accepts, _literal_of())
        label = self._match_example(error)
        if label is None and opener is not None and opener.type == "LSQB" and "RSQB" in accepts and not at_end:
            label = self._list_mistake(token, stack, accepts)
        if label is None and token.type == "EQUAL" and _terminal_of("==") in accepts:
            self._report(code, "`=` is not a comparison: use `==`", token.start_pos, token.end_pos,
                         label="expected a comparison operator",
                         help="conditions compare with `==`, `!=`, `<`, `<=`, `>` or `>=`")
            return
        if (label is None and not at_end and opener is not None and inserted
                and inserted[0].type == _CLOSER[opener.type]):
            # Recovery closes the innermost open block here: it was not closed.
            closer = _CLOSER_TEXT[inserted[0].type]
            self._report(
                code, f"missing `{closer}`: `{opener}` on line {opener.line} is not closed before {found}",
                token.start_pos, token.end_pos, label=f"unexpected {found}",
                labels=(Label(span=self.context.source.span(opener.start_pos, opener.end_pos),
                              message=f"this `{opener}` is not closed"),),
            )
            return
        if label:
            message = label
        elif at_end:
            message = "unexpected end of file"
        else:
            message = f"unexpected {found}"
        previous_end = _end_offset(stack[-1]) if stack else None
        labels: tuple[Label, ...] = ()
        if label and label in MISSING_LABELS and previous_end is not None and (
            at_end or self.context.source.position(previous_end)[0] < token.line
        ):
            # Something is missing at the end of a line: point there, not at
            # whatever the next line starts with.
            start = end = previous_end
            caret = f"expected {expected} here" if expected else ""
            if label.startswith("a list") and opener is not None:
                labels = (Label(span=self.context.source.span(opener.start_pos, opener.end_pos),
                                message="the list starts here"),)
            self._report(code, message, start, end, label=caret, labels=labels)
            return
        if at_end:
            start = end = len(self.text.rstrip())
        else:
            start, end = token.start_pos, token.end_pos
        self._report(
            code, message, start, end,
            label=f"unexpected {found}" if label else "",
            help=f"expected {expected}" if expected else None,
        )

    def _report_unclosed_at_end(self, opener: Token, code) -> None:
        closer = _CLOSER_TEXT[_CLOSER[opener.type]]
        end = len(self.text.rstrip())
        self._report(
            code, f"missing `{closer}`: the file ends before `{opener}` on line {opener.line} is closed",
            end, end, label=f"expected `{closer}`",
            labels=(Label(span=self.context.source.span(opener.start_pos, opener.end_pos),
                          message=f"this `{opener}` is not closed"),),
        )

    def _report_missing_value(self, token: Token, stack: list, code) -> bool:
        """`image =` at the end of a line: the parser took the next line's
        attribute name as the value and stops at its `=`. Say what happened."""
        if token.type != "EQUAL" or len(stack) < 3:
            return False
        value, equal, name = stack[-1], stack[-2], stack[-3]
        if not (isinstance(value, ast.Name) and isinstance(equal, Token) and equal.type == "EQUAL"
                and isinstance(name, ast.Name) and value.span.line > equal.line):
            return False
        self._report(
            code, "missing value after `=`", equal.start_pos, equal.end_pos,
            label=f"`{name.value}` has no value",
            help=f"without a value, `{value.value}` on line {value.span.line} was read as the value of "
            f"`{name.value}`; write the value after `=`",
        )
        return True

    def _list_mistake(self, token: Token, stack: list, accepts: set[str]) -> str:
        previous_end = _end_offset(stack[-1]) if stack else None
        same_line = previous_end is not None and self.context.source.position(previous_end)[0] == token.line
        if "COMMA" in accepts and token.type in VALUE_STARTS and (token.type != "NAME" or same_line):
            return "missing `,` between list items"
        return "a list is not closed: missing `]`"

    def _match_example(self, error: UnexpectedToken) -> str | None:
        position = getattr(error.state, "position", None)
        table = _example_table()
        return table.get((position, error.token.type)) or table.get((position, None))


@functools.cache
def _example_table() -> dict[tuple[int, str | None], str]:
    """Parser state of each known-bad example -> its label.

    This is Lark's `match_examples` technique, keyed by the LALR state alone:
    Lark's own version also compares stack depth, so an example would only
    match a mistake made at the same nesting depth."""
    parser = lark_parser()
    table: dict[tuple[int, str | None], str] = {}
    by_state: dict[int, set[str]] = {}
    saved = _builder.context
    try:
        for label, snippets in EXAMPLES.items():
            for snippet in snippets:
                _builder.context = Context(SourceFile.from_text(snippet, "<example>"))
                try:
                    parser.parse(snippet)
                except UnexpectedToken as error:
                    position = error.state.position
                    table.setdefault((position, error.token.type), label)
                    by_state.setdefault(position, set()).add(label)
                except UnexpectedInput:
                    continue
    finally:
        _builder.context = saved
    # A label stands for any unexpected token in its state only when no other
    # label shares that state: LALR merges states, so the state right after a
    # name is the same for `owner "x"` and `pipeline p [`.
    for position, labels in by_state.items():
        if len(labels) == 1:
            table[(position, None)] = next(iter(labels))
    return table


def parse_with_recovery(source: SourceFile, context: Context) -> list:
    """The items of one file; every syntax error becomes a diagnostic in `context`.

    Callers hold `mlplang.dsl.parser`'s lock: the builder is shared."""
    parser = lark_parser()
    with building_into(context):
        try:
            return parser.parse(source.text, on_error=Recovery(context, parser)) or []
        except UnexpectedInput as error:
            cannot_parse(source, context, error)
            return []


@contextmanager
def building_into(context: Context) -> Iterator[SyntaxTreeBuilder]:
    """The syntax-tree builder Lark's parser calls, recording comments and diagnostics
    into `context` meanwhile (callers hold `mlplang.dsl.parser`'s lock)."""
    saved = _builder.context
    _builder.context = context
    try:
        yield _builder
    finally:
        _builder.context = saved


def cannot_parse(source: SourceFile, context: Context, error: UnexpectedInput) -> None:
    """The one diagnostic of a parse that gave up without reporting anything."""
    if not context.diagnostics:
        position = getattr(error, "pos_in_stream", 0) or 0
        context.diagnostics.append(
            Diagnostic(
                code=codes.SYNTAX_ERROR.code,
                severity=Severity.ERROR,
                message="cannot parse this file",
                span=source.span(position, position + 1),
            )
        )
