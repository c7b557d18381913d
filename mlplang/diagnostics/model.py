"""The diagnostic: how every user mistake leaves the compiler.

Exceptions are for bugs; a mistake in a `.mlp` file is always a `Diagnostic`
with a code from the registry and a span inside the file.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict

from mlplang.source import Span


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 2, "warning": 1, "info": 0}[self.value]


_set_attribute = object.__setattr__


def _fill(model: BaseModel, values: dict[str, Any]) -> None:
    """Give `model` its field `values` (all of them, in field order) as
    validation would, without validating.

    The constructors of `Label` and `Diagnostic` use this: diagnostics are
    made by the compiler from values of the declared types, and validating
    one first builds pydantic's validators for Diagnostic, Label and Span,
    ~20 ms - more than checking the file took. They stay models:
    `model_copy`, `model_dump` and `model_validate` work (the last two build
    the validators when first used); `tests/test_diagnostics_model.py`
    checks that validation gives the same models. Every field counts as set."""
    _set_attribute(model, "__dict__", values)
    _set_attribute(model, "__pydantic_fields_set__", set(values))
    _set_attribute(model, "__pydantic_extra__", None)
    _set_attribute(model, "__pydantic_private__", None)


def _unvalidated_init(init):
    """Mark a model's `__init__` as if it were pydantic's own, so validation
    (`model_validate`, a label given as a dict) builds the model itself
    instead of calling this `__init__` with unvalidated input."""
    init.__pydantic_base_init__ = True
    return init


class Label(BaseModel):
    """A secondary span with a short message ("first defined here")."""

    model_config = ConfigDict(frozen=True, defer_build=True)  # validators built on first use, not at import

    span: Span
    message: str = ""

    @_unvalidated_init
    def __init__(self, *, span: Span, message: str = "") -> None:
        _fill(self, {"span": span, "message": message})


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

    @_unvalidated_init
    def __init__(
        self, *, code: str, severity: Severity, message: str, span: Span, label: str = "",
        labels: Iterable[Label] = (), help: str | None = None, notes: Iterable[str] = (),
    ) -> None:
        # As validation would: a severity may be given by value, sequences become tuples.
        _fill(self, {"code": code, "severity": Severity(severity), "message": message, "span": span,
                     "label": label, "labels": tuple(labels), "help": help, "notes": tuple(notes)})

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def sort_key(self) -> tuple:
        return (self.span.file, self.span.start, self.span.end, self.code, self.message)


def has_errors(diagnostics: list[Diagnostic] | tuple[Diagnostic, ...]) -> bool:
    return any(d.severity is Severity.ERROR for d in diagnostics)
