"""Collects diagnostics during resolution, with each code's default severity."""

from __future__ import annotations

from collections.abc import Iterable

from mlplang.diagnostics.codes import Code
from mlplang.diagnostics.model import Diagnostic, Label
from mlplang.source import Span


class Reporter:
    def __init__(self) -> None:
        self._diagnostics: dict[tuple, Diagnostic] = {}

    def add(
        self,
        code: Code,
        message: str,
        span: Span,
        *,
        label: str = "",
        help: str | None = None,
        labels: Iterable[Label] = (),
        notes: Iterable[str] = (),
    ) -> None:
        diagnostic = Diagnostic(
            code=code.code,
            severity=code.severity,
            message=message,
            span=span,
            label=label,
            labels=tuple(labels),
            help=help,
            notes=tuple(notes),
        )
        # A template body is lowered once per instance: report each mistake once.
        self._diagnostics.setdefault((code.code, span, message), diagnostic)

    def extend(self, diagnostics: Iterable[Diagnostic]) -> None:
        for d in diagnostics:
            self._diagnostics.setdefault((d.code, d.span, d.message), d)

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return sorted(self._diagnostics.values(), key=Diagnostic.sort_key)
