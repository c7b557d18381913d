"""examples/bad/unsafe_deploy.mlp is valid MLP that the rules reject: each
mistake it makes on purpose must be reported, and nothing else.

A code whose rule does not exist yet is an expected failure (computed when the
test runs, from `all_rules()`), so the example can be written before its rules.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mlplang.api import load
from mlplang.compiler.rules import all_rules
from mlplang.config import LintConfig
from mlplang.lint import lint

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = Path("examples/bad/unsafe_deploy.mlp")

# Each is named, with its reason, in the example's header comment.
EXPECTED = {
    "MLP201": "deploy-without-gate",
    "MLP205": "pii-in-model",
    "MLP206": "pii-reaches-endpoint",  # the model carries the PII on to the endpoint
    "MLP207": "unversioned-training-data",
    "MLP208": "image-not-pinned",
    "MLP211": "missing-owner",
}


def _existing() -> dict[str, str]:
    return {rule.code: rule.name for rule in all_rules()}


def _reported() -> list[str]:
    result = load(EXAMPLE)
    assert result.ok, "the bad example must be valid MLP (`mlp check` passes)"
    return [d.code for d in lint(result, LintConfig())]


@pytest.fixture(autouse=True)
def _run_from_root(monkeypatch):
    monkeypatch.chdir(ROOT)


def test_the_example_is_valid_mlp():
    result = load(EXAMPLE)
    assert not result.diagnostics, [f"{d.code} {d.message}" for d in result.diagnostics]


def test_the_example_names_its_mistakes():
    header = EXAMPLE.read_text(encoding="utf-8").split("pipeline ", 1)[0]
    for code, name in EXPECTED.items():
        assert f"{code} {name}" in header, f"the header comment should explain {code} {name}"


@pytest.mark.parametrize("code", sorted(EXPECTED))
def test_the_rule_reports_its_mistake(code, request):
    existing = _existing()
    if code not in existing:
        request.applymarker(pytest.mark.xfail(reason=f"rule {code} {EXPECTED[code]} does not exist yet",
                                              strict=False))
    else:
        assert existing[code] == EXPECTED[code], f"{code} is now `{existing[code]}`: update the example"
    assert code in _reported()


def test_nothing_else_is_reported():
    unexpected = sorted(set(_reported()) - set(EXPECTED))
    assert not unexpected, (
        f"{EXAMPLE} also reports {unexpected}: make the example avoid it, or add it to EXPECTED "
        "and to the example's header"
    )


def test_each_mistake_is_reported_once():
    reported = _reported()
    assert sorted(reported) == sorted(set(reported))


@pytest.mark.parametrize("example", sorted((ROOT / "examples").glob("*.mlp")), ids=lambda p: p.name)
def test_the_other_examples_lint_clean(example):
    """`scripts/examples` lints examples/*.mlp and expects no finding there."""
    result = load(example.relative_to(ROOT))
    found = lint(result, LintConfig())
    assert not found, [f"{d.span}: {d.code} {d.message}" for d in found]
