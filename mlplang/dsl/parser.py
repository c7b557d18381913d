"""Text -> syntax tree, with every syntax error reported and the parse resumed.

The LALR parser is built once (and its tables cached on disk by Lark). On an
error, recovery first tries to insert one token the parser expects (so a
missing `=` or `}` costs one diagnostic, not a cascade), and otherwise deletes
the offending token; errors that are just the tail of a deletion are not
reported again.
"""

from __future__ import annotations

import functools
import gc
import threading
from pathlib import Path

from lark import Lark, Token
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from mlplang.diagnostics import codes
from mlplang.diagnostics.model import Diagnostic, Severity
from mlplang.dsl import ast
from mlplang.dsl.syntax_errors import EXAMPLES, describe_expected, describe_found
from mlplang.dsl.transformer import Context, SyntaxTreeBuilder
from mlplang.source import SourceFile

GRAMMAR = Path(__file__).resolve().parent.parent / "grammar" / "mlp.lark"
MAX_ERRORS = 50

_lock = threading.Lock()
_builder = SyntaxTreeBuilder()

# Tokens recovery may insert, most plausible first, with the text they stand for.
_INSERTABLE = {
    "RBRACE": "}", "RPAR": ")", "RSQB": "]", "EQUAL": "=", "COLON": ":",
    "NAME": "__missing__", "STRING": '""', "NUMBER": "0",
}


def _on_comment(token: Token) -> Token:
    _builder.context.comments.append(
        ast.Comment(str(token), _builder._tok_span(token))
    )
    return token


@functools.cache
def lark_parser() -> Lark:
    return Lark(
        GRAMMAR.read_text(encoding="utf-8"),
        parser="lalr",
        lexer="contextual",
        transformer=_builder,
        lexer_callbacks={"COMMENT": _on_comment},
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


class _Recovery:
    """The `on_error` callback: report, then insert or delete a token."""

    def __init__(self, context: Context, parser: Lark) -> None:
        self.context = context
        self.parser = parser
        self.text = context.source.text
        self.deleted_end = -1
        self.skipped_char_end = -1
        self.count = 0
        self.eof_reported = False

    def __call__(self, error: UnexpectedInput) -> bool:
        if self.count >= MAX_ERRORS:
            return False
        if isinstance(error, UnexpectedCharacters):
            return self._bad_character(error)
        if isinstance(error, UnexpectedToken):
            return self._bad_token(error)
        return False

    # ---- lexer errors --------------------------------------------------------

    def _report(self, code, message: str, start: int, end: int, label: str = "", help: str | None = None):
        self.count += 1
        self.context.diagnostics.append(
            Diagnostic(
                code=code.code,
                severity=Severity.ERROR,
                message=message,
                span=self.context.source.span(start, end),
                label=label,
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
                help='close the string with `"`; for text over several lines use `"""...""" `',
            )
            state.line_ctr.feed(self.text[position:line_end])
            self._insert_value(error, position)
            return True
        if position != self.skipped_char_end:
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
        at_end = token.type == "$END"
        cascade = self.deleted_end >= 0 and not self.text[self.deleted_end:token.start_pos if not at_end else None].strip()
        if at_end:
            if not self.eof_reported and not cascade:
                self._report_token(error, codes.UNEXPECTED_EOF)
            self.eof_reported = True
        elif not cascade:
            self._report_token(error, codes.SYNTAX_ERROR)
        inserted = self._try_insert(error)
        if inserted is not None:
            parser.feed_token(inserted)
            if not at_end:
                parser.feed_token(token)
            self.deleted_end = -1
            return True
        if at_end:
            return False
        self.deleted_end = token.end_pos
        return True

    def _try_insert(self, error: UnexpectedToken) -> Token | None:
        parser = error.interactive_parser
        accepts = parser.accepts()
        for terminal, text in _INSERTABLE.items():
            if terminal not in accepts:
                continue
            candidate = Token.new_borrow_pos(terminal, text, error.token)
            trial = parser.copy()
            try:
                trial.feed_token(candidate)
                if error.token.type == "$END":
                    return candidate if "$END" in trial.accepts() or terminal == "RBRACE" else None
                if error.token.type in trial.accepts():
                    return candidate
            except UnexpectedInput:
                continue
        return None

    def _report_token(self, error: UnexpectedToken, code) -> None:
        token = error.token
        label = self._match_example(error)
        found = describe_found(token.type, str(token))
        expected = describe_expected(error.accepts or error.expected, _literal_of())
        if label:
            message = label
        elif token.type == "$END":
            message = "unexpected end of file"
        else:
            message = f"unexpected {found}"
        if token.type == "$END":
            end = len(self.text)
            start = end
            stripped = self.text.rstrip()
            start = len(stripped)
            end = len(stripped)
        else:
            start, end = token.start_pos, token.end_pos
        self._report(
            code, message, start, end,
            label=f"unexpected {found}" if label else "",
            help=f"expected {expected}" if expected else None,
        )

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
                    table.setdefault((position, None), label)
                except UnexpectedInput:
                    continue
    finally:
        _builder.context = saved
    return table


def parse_source(source: SourceFile) -> tuple[ast.Module, list[Diagnostic]]:
    """Parse one file. Never raises for any text: every problem is a diagnostic."""
    parser = lark_parser()
    context = Context(source)
    items: list = []
    with _lock:
        _builder.context = context
        gc_was_enabled = gc.isenabled()
        gc.disable()  # the parse allocates many small objects that never form cycles
        try:
            items = parser.parse(source.text, on_error=_Recovery(context, parser))
        except UnexpectedInput as error:
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
        finally:
            if gc_was_enabled:
                gc.enable()
            _builder.context = Context(SourceFile.from_text("", "<idle>"))
    module = ast.Module(
        source.path,
        tuple(items or ()),
        tuple(context.comments),
        source.span(0, len(source.text)),
    )
    diagnostics = sorted(context.diagnostics, key=Diagnostic.sort_key)
    return module, diagnostics


def parse_text(text: str, path: str = "<string>") -> tuple[ast.Module, list[Diagnostic]]:
    return parse_source(SourceFile.from_text(text, path))
