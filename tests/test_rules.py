"""Rule cases: `tests/rules/<CODE>/*.mlp`, one folder per rule.

Each case states its expectation on its first line, like mypy's inline
expectations: `# expect: MLP201 MLP201` or `# expect:` (nothing). The
comparison covers the folder's own code, the codes the line names, and every
language error; other rules are left to their own folders, so adding a rule
does not rewrite every other rule's cases. A case named `fires_*` must
expect its folder's code and has a reviewed snapshot `<case>.out` of the
rendered text; `ok_*` cases must not report the folder's code. An optional
`<case>.toml` holds `[tool.mlp]`-style settings for the case.

`MLP_UPDATE_GOLDEN=1` rewrites the `.out` snapshots; read every rewritten file
before committing it.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

from mlplang.api import load
from mlplang.compiler.rules import all_rules
from mlplang.config import LintConfig, parse_config
from mlplang.diagnostics.render import render_all
from mlplang.lint import lint

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
CASES_DIR = Path("tests/rules")
CASES = sorted((ROOT / CASES_DIR).glob("*/*.mlp"))
EXPECT = re.compile(r"#\s*expect:(.*)")


def _config(case: Path) -> LintConfig:
    settings = case.with_suffix(".toml")
    if settings.exists():
        return parse_config(tomllib.loads(settings.read_text()), str(settings))
    return LintConfig()


def _expected(case: Path) -> list[str]:
    first = case.read_text(encoding="utf-8").splitlines()[0]
    match = EXPECT.match(first)
    assert match, f"{case}: the first line must be `# expect: CODE ...`"
    return sorted(match.group(1).split())


@pytest.fixture(autouse=True)
def _run_from_root(monkeypatch):
    monkeypatch.chdir(ROOT)


@pytest.mark.parametrize("case", CASES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_rule_case(case: Path):
    relative = case.relative_to(ROOT)
    result = load(relative)
    code = case.parent.name
    watched = set(_expected(case)) | {code}
    diagnostics = [d for d in lint(result, _config(case)) if d.code in watched or d.code < "MLP200"]
    assert sorted(d.code for d in diagnostics) == _expected(case), render_all(diagnostics, result.sources)
    if case.stem.startswith("fires"):
        assert code in _expected(case), f"{case}: a fires_ case must expect {code}"
        snapshot = case.with_suffix(".out")
        rendered = render_all(diagnostics, result.sources) + "\n"
        if os.environ.get("MLP_UPDATE_GOLDEN") == "1":
            snapshot.write_text(rendered, encoding="utf-8")
        assert snapshot.exists(), f"{snapshot} is missing (MLP_UPDATE_GOLDEN=1 creates it; review it)"
        assert rendered == snapshot.read_text(encoding="utf-8")
    else:
        assert case.stem.startswith("ok"), f"{case}: case names start with fires_ or ok_"
        assert code not in _expected(case)


def test_every_rule_has_firing_and_clean_cases():
    for rule in all_rules():
        folder = ROOT / CASES_DIR / rule.code
        names = [p.stem for p in folder.glob("*.mlp")]
        assert any(n.startswith("fires") for n in names), f"{rule.code} has no fires_ case in {folder}"
        assert any(n.startswith("ok") for n in names), f"{rule.code} has no ok_ case in {folder}"


def test_case_folders_name_registered_rules():
    codes = {rule.code for rule in all_rules()}
    for folder in (ROOT / CASES_DIR).iterdir():
        if folder.is_dir():
            assert folder.name in codes, f"{folder} does not name a registered rule"
