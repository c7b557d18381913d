"""Every example in docs/language.md says what the implementation does.

Fenced ```mlp blocks that start with `import`, `pipeline` or `template`
(after leading blank and `#` comment lines) are complete files: each must
load with no error. Blocks fenced ```mlp-error are wrong on purpose: each must
produce at least one error, and every code `MLPnnn` named in the block (in its
comments) must be among the diagnostics. Other ```mlp blocks are fragments and
are not loaded.

Relative imports in a snippet resolve against `examples/`, so a snippet can
import `./shared/steps.mlp`.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mlplang.api import load_text

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "language.md"
SNIPPET_PATH = ROOT / "examples" / "docs_snippet.mlp"  # never written: only a base for relative imports

_FENCE = re.compile(r"^```(mlp|mlp-error)[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
_STARTS = ("import", "pipeline", "template")
_CODE = re.compile(r"\bMLP\d{3}\b")


def _is_complete(text: str) -> bool:
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        return stripped.split(None, 1)[0] in _STARTS
    return False


def _blocks(kind: str) -> list[pytest.param]:
    text = DOC.read_text(encoding="utf-8")
    result = []
    for match in _FENCE.finditer(text):
        if match.group(1) != kind or not _is_complete(match.group(2)):
            continue
        line = text.count("\n", 0, match.start()) + 1
        result.append(pytest.param(match.group(2), line, id=f"line{line}"))
    return result


def _load(snippet: str, line: int):
    return load_text(snippet, f"docs/language.md:{line}", real_path=SNIPPET_PATH)


def _show(diagnostics) -> str:
    return "\n".join(f"  {d.span.line}:{d.span.column} {d.code} {d.severity.value}: {d.message}" for d in diagnostics)


def test_the_doc_has_checked_examples():
    assert len(_blocks("mlp")) >= 15
    assert len(_blocks("mlp-error")) >= 5


@pytest.mark.parametrize(("snippet", "line"), _blocks("mlp"))
def test_example_loads_without_errors(snippet: str, line: int):
    result = _load(snippet, line)
    errors = [d for d in result.diagnostics if d.is_error]
    assert not errors, f"example at docs/language.md:{line} has errors:\n{_show(errors)}"


@pytest.mark.parametrize(("snippet", "line"), _blocks("mlp-error"))
def test_error_example_fails_with_the_codes_it_names(snippet: str, line: int):
    result = _load(snippet, line)
    errors = [d for d in result.diagnostics if d.is_error]
    assert errors, f"error example at docs/language.md:{line} loads without errors"
    reported = {d.code for d in result.diagnostics}
    named = set(_CODE.findall(snippet))
    missing = named - reported
    assert not missing, (
        f"error example at docs/language.md:{line} names {sorted(missing)} but reports:\n{_show(result.diagnostics)}"
    )
