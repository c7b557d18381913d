"""String literals: escapes, triple-quoted dedent, and `${...}` interpolations.

Only `${in.X}`, `${out.X}`, `${param.X}` (and `${secret.X}`, which a check
rejects) are interpolations. All other `$` text - `$HOME`, `${HOME}`,
`$(cmd)`, `${{ github.x }}` - is plain text that must reach the command
unchanged, so this module never touches it. `$${word.name}` writes a literal
`${word.name}` (so a warned `${inp.x}` can be kept on purpose).
"""

from __future__ import annotations

import re
from bisect import bisect_right

from mlplang.diagnostics import codes
from mlplang.diagnostics.model import Diagnostic, Severity
from mlplang.dsl.ast import Interpolation, StringLit, StringPart, TextPart
from mlplang.source import SourceFile, Span

_new_span = tuple.__new__

NAMESPACES = ("in", "out", "param", "secret")
_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t", "r": "\r"}
_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
_ESCAPED_TOKEN = re.compile(rf"\\(.)|(\$?)\$\{{({_IDENT})\.({_IDENT})\}}", re.DOTALL)
_LONG_FORMS = {
    "in": ("input", "inputs"),
    "out": ("output", "outputs"),
    "param": ("params", "parameter", "parameters"),
}
_RAW_TOKEN = re.compile(rf"(\$?)\$\{{({_IDENT})\.({_IDENT})\}}")
_LINES = re.compile(r"[^\n]*\n|[^\n]+")


def _edit_distance_at_most_one(a: str, b: str) -> bool:
    if abs(len(a) - len(b)) > 1 or a == b:
        return a == b
    if len(a) > len(b):
        a, b = b, a
    i = j = edits = 0
    while i < len(a) and j < len(b):
        if a[i] == b[j]:
            i += 1
            j += 1
            continue
        edits += 1
        if edits > 1:
            return False
        if len(a) == len(b):
            if i + 1 < len(a) and a[i] == b[j + 1] and a[i + 1] == b[j]:  # transposition
                i += 2
                j += 2
                continue
            i += 1
        j += 1
    return edits + (len(b) - j) + (len(a) - i) <= 1


def likely_namespace(word: str) -> str | None:
    """The interpolation namespace a mistyped `${word.` probably meant."""
    lowered = word.lower()
    for namespace in ("in", "out", "param"):
        if lowered == namespace or _edit_distance_at_most_one(lowered, namespace):
            return namespace
    for namespace, words in _LONG_FORMS.items():
        if lowered in words:
            return namespace
    return None


class _Builder:
    def __init__(self, source: SourceFile, line: int = 0) -> None:
        self.source = source
        # A one-line string (`"..."`) has every part on `line`: spans need no lookup.
        self.line = line
        self.line_start = source._line_starts[line - 1] - 1 if line else 0
        self.parts: list[StringPart] = []
        self.text: list[str] = []
        self.text_start: int | None = None
        self.text_end = 0
        self.diagnostics: list[Diagnostic] = []

    def span(self, start: int, end: int) -> Span:
        if self.line:
            return _new_span(Span, (self.source.path, self.line, start - self.line_start, self.line,
                                    end - self.line_start, start, end))
        return self.source.span(start, end)

    def add_text(self, text: str, start: int, end: int) -> None:
        if not text:
            return
        if self.text_start is None:
            self.text_start = start
        self.text.append(text)
        self.text_end = end

    def flush(self) -> None:
        if self.text_start is not None:
            self.parts.append(
                TextPart("".join(self.text), self.span(self.text_start, self.text_end))
            )
        self.text = []
        self.text_start = None

    def interpolation(self, match: re.Match, offset: int, dollar_group: int) -> None:
        start, end = offset + match.start(), offset + match.end()
        escaped, namespace, name = match.group(dollar_group, dollar_group + 1, dollar_group + 2)
        literal = match.group(0)
        if escaped:
            self.add_text(literal[1:], start, end)  # `$${in.x}` -> `${in.x}`
            return
        if namespace in NAMESPACES:
            self.flush()
            name_start = start + 3 + len(namespace)
            self.parts.append(
                Interpolation(
                    namespace, name, self.span(start, end), self.span(name_start, end - 1)
                )
            )
            return
        guess = likely_namespace(namespace)
        if guess is not None:
            self.diagnostics.append(
                Diagnostic(
                    code=codes.INTERPOLATION_TYPO.code,
                    severity=Severity.WARNING,
                    message=f"`${{{namespace}.{name}}}` is not an interpolation and is passed as text",
                    span=self.span(start, end),
                    label=f"did you mean `${{{guess}.{name}}}`?",
                    help=f"interpolations are `${{in.X}}`, `${{out.X}}` and `${{param.X}}`; "
                    f"write `$${{{namespace}.{name}}}` if the text is intended",
                )
            )
        self.add_text(literal, start, end)


def parse_string(raw: str, start: int, source: SourceFile) -> tuple[StringLit, list[Diagnostic]]:
    """Decode the token text `raw` (with its quotes) found at offset `start`."""
    if raw.startswith('"""'):
        return _parse_triple(raw, start, source.span(start, start + len(raw)), source)
    # A one-line string: every span is on the line of `start`.
    line = bisect_right(source._line_starts, start)
    column = start - source._line_starts[line - 1] + 1
    span = _new_span(Span, (source.path, line, column, line, column + len(raw), start, start + len(raw)))
    body = raw[1:-1]
    if "\\" not in body:
        if "$" not in body:  # the common case
            parts = (TextPart(body, _new_span(Span, (source.path, line, column + 1, line, column + 1 + len(body),
                                                      start + 1, start + 1 + len(body)))),) if body else ()
            return StringLit(parts, False, span), []
        parts = _interpolated_line(body, source.path, line, column + 1, start + 1)
        if parts is not None:
            return StringLit(parts, False, span), []
    parts, diagnostics = _line_parts(body, start + 1, line, source)
    return StringLit(parts, False, span), diagnostics


def _line_parts(body: str, offset: int, line: int, source: SourceFile) -> tuple[tuple, list[Diagnostic]]:
    """The parts of a one-line string body at `offset` on `line`: escapes decoded,
    `${...}` split off, a diagnostic for each unknown escape or likely typo."""
    builder = _Builder(source, line)
    position = 0
    for match in _ESCAPED_TOKEN.finditer(body):
        builder.add_text(body[position:match.start()], offset + position, offset + match.start())
        position = match.end()
        escape = match.group(1)
        if escape is None:
            builder.interpolation(match, offset, 2)
            continue
        escape_start = offset + match.start()
        if escape in _ESCAPES:
            builder.add_text(_ESCAPES[escape], escape_start, escape_start + 2)
        else:
            builder.diagnostics.append(
                Diagnostic(
                    code=codes.INVALID_ESCAPE.code,
                    severity=Severity.ERROR,
                    message=f"unknown escape `\\{escape}` in a string",
                    span=builder.span(escape_start, escape_start + 2),
                    label="not an escape",
                    help='escapes are \\" \\\\ \\n \\t \\r; write `\\\\` for a backslash, '
                    'or use a raw """...""" string for shell text',
                )
            )
            builder.add_text("\\" + escape, escape_start, escape_start + 2)
    builder.add_text(body[position:], offset + position, offset + len(body))
    builder.flush()
    return tuple(builder.parts), builder.diagnostics


def _interpolated_line(body: str, path: str, line: int, column: int, offset: int) -> tuple | None:
    """The parts of a one-line string body without escapes whose every `${w.x}`
    is an interpolation (a `run` command, typically), or None when one is
    escaped (`$${...}`) or not an interpolation: the general loop handles
    those, with their diagnostics. `column` and `offset` are the body's start.

    The same parts as the general loop, built without its bookkeeping: the
    parser meets thousands of such strings in a large pipeline."""
    parts: list[StringPart] = []
    position = 0
    shift = column - offset  # column of an offset on this line
    for match in _RAW_TOKEN.finditer(body):
        escaped, namespace, name = match.groups()
        if escaped or namespace not in NAMESPACES:
            return None
        match_start, match_end = match.span()
        if match_start > position:
            text_start, text_end = offset + position, offset + match_start
            parts.append(TextPart(body[position:match_start],
                                  _new_span(Span, (path, line, text_start + shift, line, text_end + shift,
                                                   text_start, text_end))))
        start, end = offset + match_start, offset + match_end
        name_start = start + 3 + len(namespace)
        parts.append(Interpolation(namespace, name,
                                   _new_span(Span, (path, line, start + shift, line, end + shift, start, end)),
                                   _new_span(Span, (path, line, name_start + shift, line, end - 1 + shift,
                                                    name_start, end - 1))))
        position = match_end
    if position < len(body):
        text_start, text_end = offset + position, offset + len(body)
        parts.append(TextPart(body[position:], _new_span(Span, (path, line, text_start + shift, line,
                                                                 text_end + shift, text_start, text_end))))
    return tuple(parts)


def _dedent_chunks(body: str, offset: int) -> list[tuple[str, int]]:
    """Split a raw triple-quoted body into (text, source offset) chunks after
    dropping its first newline and the indentation common to its lines."""
    if body.startswith("\r\n"):
        body, offset = body[2:], offset + 2
    elif body.startswith("\n"):
        body, offset = body[1:], offset + 1
    # Lines end at "\n" only, as in the lexer and `SourceFile`: `str.splitlines`
    # would also split at \f, \x1c or \u2028 and dedent or drop text after them.
    lines = _LINES.findall(body)
    indents = []
    for line in lines:
        stripped = line.lstrip(" \t")
        if stripped.rstrip("\r\n"):
            indents.append(line[: len(line) - len(stripped)])
    common = indents[0] if indents else ""
    for indent in indents[1:]:
        while not indent.startswith(common):
            common = common[:-1]
    chunks: list[tuple[str, int]] = []
    position = offset
    for line in lines:
        content = line.rstrip("\r\n")
        if content.strip(" \t"):
            chunks.append((line[len(common):], position + len(common)))
        else:
            newline = line[len(content):]
            if newline:
                chunks.append((newline, position + len(line) - len(newline)))
        position += len(line)
    return chunks


def _parse_triple(raw: str, start: int, span, source: SourceFile) -> tuple[StringLit, list[Diagnostic]]:
    builder = _Builder(source)
    for text, offset in _dedent_chunks(raw[3:-3], start + 3):
        position = 0
        if "$" in text:
            for match in _RAW_TOKEN.finditer(text):
                builder.add_text(text[position:match.start()], offset + position, offset + match.start())
                position = match.end()
                builder.interpolation(match, offset, 1)
        builder.add_text(text[position:], offset + position, offset + len(text))
    builder.flush()
    return StringLit(tuple(builder.parts), True, span), builder.diagnostics
