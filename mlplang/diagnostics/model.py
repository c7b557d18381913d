"""The diagnostic: how every user mistake leaves the compiler.

Exceptions are for bugs; a mistake in a `.mlp` file is always a `Diagnostic`
with a code from the registry and a span inside the file.
"""

from __future__ import annotations

from enum import Enum

from pydantic import BaseModel, ConfigDict

from mlplang.source import Span


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 2, "warning": 1, "info": 0}[self.value]


class Label(BaseModel):
    """A secondary span with a short message ("first defined here")."""

    model_config = ConfigDict(frozen=True, defer_build=True)  # validators built on first use, not at import

    span: Span
    message: str = ""


class Diagnostic(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)  # validators built on first use, not at import

    code: str
    severity: Severity
    message: str
    span: Span
    label: str = ""
    """Short text shown under the caret of the primary span."""
    labels: tuple[Label, ...] = ()
    help: str | None = None
    notes: tuple[str, ...] = ()

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def sort_key(self) -> tuple:
        return (self.span.file, self.span.start, self.span.end, self.code, self.message)


def has_errors(diagnostics: list[Diagnostic] | tuple[Diagnostic, ...]) -> bool:
    return any(d.severity is Severity.ERROR for d in diagnostics)
