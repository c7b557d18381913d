"""Our diagnostics and spans as LSP types: ranges in the client's position encoding,
related locations in imported files, links to each code's documentation."""

from __future__ import annotations

import functools
from pathlib import Path

from lsprotocol import types

from mlplang.diagnostics import codes
from mlplang.diagnostics.model import Diagnostic, Severity
from mlplang.lsp.analysis import Analysis, display_to_path
from mlplang.lsp.positions import LineIndex
from mlplang.source import Span

SEVERITIES = {
    Severity.ERROR: types.DiagnosticSeverity.Error,
    Severity.WARNING: types.DiagnosticSeverity.Warning,
    Severity.INFO: types.DiagnosticSeverity.Information,
}
DOCS = Path(__file__).resolve().parent.parent.parent / "docs"


def lsp_diagnostics(analysis: Analysis, text: str, encoding: str) -> list[types.Diagnostic]:
    if not analysis.diagnostics:
        return []
    index = LineIndex(text, encoding)
    return [to_lsp_diagnostic(d, analysis, index) for d in analysis.diagnostics]


def to_range(span: Span, index: LineIndex) -> types.Range:
    start = types.Position(*index.position(span.start))
    end = types.Position(*index.position(span.end))
    return types.Range(start=start, end=end)


def location(span: Span, analysis: Analysis, index: LineIndex) -> types.Location | None:
    if span.file == analysis.path:
        return types.Location(uri=_uri(analysis), range=to_range(span, index))
    text = analysis.source_text(span.file)
    path = display_to_path(span.file, analysis.real_path)
    if text is None or path is None:
        return None
    return types.Location(uri=path.as_uri(), range=to_range(span, LineIndex(text, index.encoding)))


def _uri(analysis: Analysis) -> str:
    return analysis.real_path.as_uri() if analysis.real_path else analysis.path


@functools.cache
def _code_description(code: str) -> types.CodeDescription | None:
    entry = codes.REGISTRY.get(code)
    if entry is None:
        return None
    page = "rules.md" if entry.kind == "rule" else "language.md"
    anchor = f"#{entry.code}-{entry.name}".lower() if entry.kind == "rule" else ""
    return types.CodeDescription(href=(DOCS / page).as_uri() + anchor)


def to_lsp_diagnostic(diagnostic: Diagnostic, analysis: Analysis, index: LineIndex) -> types.Diagnostic:
    message = diagnostic.message
    if diagnostic.span.file == analysis.path:
        range_ = to_range(diagnostic.span, index)
    else:  # a mistake inside an imported module: shown at the top, with its place
        range_ = types.Range(start=types.Position(0, 0), end=types.Position(0, 0))
        message = f"{diagnostic.span}: {message}"
    if diagnostic.label:
        message += f" ({diagnostic.label})"
    if diagnostic.help:
        message += f"\nhelp: {diagnostic.help}"
    related = []
    for label in diagnostic.labels:
        found = location(label.span, analysis, index)
        if found is not None:
            related.append(types.DiagnosticRelatedInformation(location=found, message=label.message or "here"))
    return types.Diagnostic(
        range=range_,
        severity=SEVERITIES[diagnostic.severity],
        code=diagnostic.code,
        code_description=_code_description(diagnostic.code),
        source="mlp",
        message=message,
        related_information=related or None,
        data={"help": diagnostic.help or "", "label": diagnostic.label},
    )
