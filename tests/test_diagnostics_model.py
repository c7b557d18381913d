"""`Diagnostic` and `Label` are built without pydantic validation (see
`mlplang.diagnostics.model._fill`): these tests keep that honest - what the
constructors build is what validation would - and check that they stay
ordinary frozen pydantic models."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pydantic
import pytest

import mlplang
from mlplang.config import find_config
from mlplang.diagnostics.model import Diagnostic, Label, Severity
from mlplang.lint import lint
from mlplang.source import Span

ROOT = Path(__file__).resolve().parents[1]
SPAN = Span("a.mlp", 1, 1, 1, 4, 0, 3)
OTHER = Span("a.mlp", 2, 1, 2, 4, 10, 13)


def validated(diagnostic: Diagnostic) -> Diagnostic:
    """The same diagnostic, built by pydantic validation from plain data."""
    data = {
        "code": diagnostic.code, "severity": diagnostic.severity.value, "message": diagnostic.message,
        "span": list(diagnostic.span), "label": diagnostic.label,
        "labels": [{"span": list(label.span), "message": label.message} for label in diagnostic.labels],
        "help": diagnostic.help, "notes": list(diagnostic.notes),
    }
    return Diagnostic.model_validate(data)


def assert_same_as_validated(diagnostic: Diagnostic) -> None:
    expected = validated(diagnostic)
    assert diagnostic == expected and hash(diagnostic) == hash(expected)
    assert list(diagnostic.__dict__) == list(Diagnostic.model_fields), "fields out of order"
    for name, value in expected.__dict__.items():
        assert type(getattr(diagnostic, name)) is type(value), name
    for label, expected_label in zip(diagnostic.labels, expected.labels, strict=True):
        assert type(label) is Label and type(label.span) is Span and label == expected_label


def test_defaults_and_the_coercions_validation_would_make():
    diagnostic = Diagnostic(code="MLP101", severity="warning", message="m", span=SPAN,
                            labels=[Label(span=OTHER, message="here")], notes=["a", "b"])
    assert diagnostic.severity is Severity.WARNING
    assert diagnostic.labels == (Label(span=OTHER, message="here"),) and diagnostic.notes == ("a", "b")
    assert (diagnostic.label, diagnostic.help) == ("", None)
    assert Label(span=SPAN).message == ""
    assert_same_as_validated(diagnostic)
    with pytest.raises(ValueError):
        Diagnostic(code="MLP101", severity="fatal", message="m", span=SPAN)
    with pytest.raises(TypeError):
        Diagnostic(code="MLP101", severity=Severity.ERROR, message="m")  # no span


def test_still_a_frozen_pydantic_model():
    diagnostic = Diagnostic(code="MLP101", severity=Severity.ERROR, message="m", span=SPAN, help="h")
    with pytest.raises(pydantic.ValidationError):
        diagnostic.message = "other"
    changed = diagnostic.model_copy(update={"severity": Severity.WARNING})
    assert changed.severity is Severity.WARNING and diagnostic.severity is Severity.ERROR
    assert changed != diagnostic and changed.model_copy(update={"severity": Severity.ERROR}) == diagnostic
    assert diagnostic.model_dump()["help"] == "h"
    assert Diagnostic.model_validate(diagnostic.model_dump()) == diagnostic
    assert repr(diagnostic).startswith("Diagnostic(code='MLP101', severity=<Severity.ERROR: 'error'>, message='m'")


@pytest.mark.parametrize("path", sorted(ROOT.glob("tests/golden/diagnostics/*.mlp")) + sorted(ROOT.glob("examples/**/*.mlp")),
                         ids=lambda p: p.name)
def test_every_diagnostic_of_the_test_programs_is_what_validation_builds(path: Path, monkeypatch):
    monkeypatch.chdir(ROOT)
    result = mlplang.load(path.relative_to(ROOT))
    diagnostics = [*result.diagnostics, *lint(result, find_config(path))]
    for diagnostic in diagnostics:
        assert_same_as_validated(diagnostic)


def test_building_a_diagnostic_does_not_build_the_validators():
    """The point of the validation-free constructors: ~20 ms at the first
    diagnostic of every `mlp` run (in a fresh process: this one may have
    validated already)."""
    script = (
        "from mlplang.diagnostics.model import Diagnostic, Label, Severity\n"
        "from mlplang.source import Span\n"
        "span = Span('a.mlp', 1, 1, 1, 2, 0, 1)\n"
        "Diagnostic(code='MLP101', severity=Severity.ERROR, message='m', span=span, labels=[Label(span=span)])\n"
        "print(Diagnostic.__pydantic_complete__, Label.__pydantic_complete__)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.stdout == "False False\n", done.stderr
