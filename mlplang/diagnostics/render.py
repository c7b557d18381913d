"""Text rendering of diagnostics in the style of rustc/Elm: a header with the
position, the source lines, carets under the primary span, dashes under
secondary labels, then help and note lines."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from mlplang.diagnostics.codes import REGISTRY
from mlplang.diagnostics.model import Diagnostic
from mlplang.source import SourceFile, Span


def header(diagnostic: Diagnostic) -> str:
    span = diagnostic.span
    entry = REGISTRY.get(diagnostic.code)
    name = f" [{entry.name}]" if entry else ""
    return (
        f"{span.file}:{span.line}:{span.column}: {diagnostic.code}{name} "
        f"{diagnostic.severity.value}: {diagnostic.message}"
    )


def _underline(span: Span, line: int, text: str, char: str) -> tuple[int, int]:
    """Columns (1-based start, width) to mark on `line` for `span`."""
    start = span.column if span.line == line else 1
    if span.end_line == line:
        end = span.end_column
    else:
        end = len(text) + 1
    width = max(1, end - start)
    return start, width


# Control characters would move the cursor or vanish on a terminal; show each
# as its one-column Unicode "control picture" so carets stay aligned.
_CONTROL_PICTURES = {c: 0x2400 + c for c in range(0x20)} | {0x7F: 0x2421, ord("\t"): ord(" ")}


def _printable(text: str) -> str:
    return text.translate(_CONTROL_PICTURES)


def render(diagnostic: Diagnostic, source: SourceFile | None) -> str:
    lines = [header(diagnostic)]
    marks: list[tuple[Span, str, str]] = [(diagnostic.span, "^", diagnostic.label)]
    marks += [(label.span, "-", label.message) for label in diagnostic.labels
              if label.span.file == diagnostic.span.file]
    if source is not None:
        by_line: dict[int, list[tuple[Span, str, str]]] = {}
        for span, char, message in marks:
            by_line.setdefault(span.line, []).append((span, char, message))
        gutter = len(str(max(by_line)))
        pad = " " * gutter
        lines.append(f"{pad} |")
        previous = None
        for line_no in sorted(by_line):
            if previous is not None and line_no > previous + 1:
                lines.append(f"{pad} ...")
            text = _printable(source.line_text(line_no))
            lines.append(f"{line_no:>{gutter}} | {text}")
            for span, char, message in sorted(by_line[line_no], key=lambda m: m[0].column):
                start, width = _underline(span, line_no, text, char)
                marker = " " * (start - 1) + char * width
                lines.append(f"{pad} | {marker}{(' ' + message) if message else ''}".rstrip())
            previous = line_no
        lines.append(f"{pad} |")
        prefix = f"{pad} = "
    else:
        prefix = "  = "
    for label in diagnostic.labels:
        if label.span.file != diagnostic.span.file:
            lines.append(f"{prefix}note: {label.message} at {label.span}")
    if diagnostic.help:
        lines.append(f"{prefix}help: {diagnostic.help}")
    for note in diagnostic.notes:
        lines.append(f"{prefix}note: {note}")
    return "\n".join(lines)


def render_all(diagnostics: Iterable[Diagnostic], sources: Mapping[str, SourceFile]) -> str:
    return "\n\n".join(render(d, sources.get(d.span.file)) for d in diagnostics)
