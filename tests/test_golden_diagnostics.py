"""Golden (snapshot) tests of rendered diagnostics, in the style of actionlint's
and mypy's test data.

Each case is a pair in tests/golden/diagnostics/:

- `<case>.mlp`, the input. Its first line states the expectation, mypy-style:
  `# expect: MLP001 MLP101` lists the code of every diagnostic the file must
  produce (one entry per diagnostic, any order); `# expect:` with nothing
  after it marks a clean case that must produce no diagnostic at all.
- `<case>.out`, the exact text `mlplang.diagnostics.render.render_all` prints
  for all diagnostics of `mlplang.load(Path("tests/golden/diagnostics/<case>.mlp"))`,
  loaded from the repository root so that paths in the output are the same on
  every machine (empty for a clean case).

Files under tests/golden/diagnostics/modules/ are helper modules imported by
cases (import cycles, templates), not cases themselves.

To update the `.out` files after an intended change of a message, run

    MLP_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_diagnostics.py

and then READ every changed `.out` file (`git diff tests/golden`): a golden
file is a reviewed statement of what users see, so check that each message,
span and help line is right and helpful before keeping it. Never regenerate
them blindly. The `# expect:` lines are never rewritten: they are the
independent check that a case reports exactly the mistakes it contains.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from pathlib import Path

import pytest

import mlplang
from mlplang.diagnostics.codes import REGISTRY
from mlplang.diagnostics.render import render_all

REPO_ROOT = Path(__file__).resolve().parents[1]
CASES_DIR = Path(__file__).resolve().parent / "golden" / "diagnostics"
CASES = sorted(CASES_DIR.glob("*.mlp"))
UPDATE = os.environ.get("MLP_UPDATE_GOLDEN") == "1"
_EXPECT = re.compile(r"# expect:((?:\s+MLP\d{3})*)\s*")


def _expected_codes(case: Path) -> list[str]:
    first_line = case.read_bytes().split(b"\n", 1)[0].decode("utf-8")
    match = _EXPECT.fullmatch(first_line)
    assert match, f"{case.name}: the first line must be `# expect: CODE ...` (or `# expect:` for a clean case)"
    codes = match.group(1).split()
    unknown = [code for code in codes if code not in REGISTRY]
    assert not unknown, f"{case.name}: unknown codes in `# expect:` line: {unknown}"
    return codes


def _render(case: Path) -> tuple[list[str], str]:
    relative = case.relative_to(REPO_ROOT).as_posix()
    result = mlplang.load(Path(relative))
    text = render_all(result.diagnostics, result.sources)
    return [d.code for d in result.diagnostics], text + "\n" if text else ""


def test_cases_exist() -> None:
    assert len(CASES) >= 40


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_golden(case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO_ROOT)
    expected_codes = _expected_codes(case)
    codes, rendered = _render(case)

    assert len(codes) == len(expected_codes), (
        f"{case.name}: expected {len(expected_codes)} diagnostic(s) {expected_codes}, got {len(codes)} {codes}:\n"
        f"{rendered}"
    )
    assert Counter(codes) == Counter(expected_codes), f"{case.name}: codes differ:\n{rendered}"

    out = case.with_suffix(".out")
    if UPDATE:
        out.write_bytes(rendered.encode("utf-8"))
        return
    assert out.exists(), f"{out.name} is missing: run with MLP_UPDATE_GOLDEN=1, then read and review it"
    assert rendered == out.read_bytes().decode("utf-8"), (
        f"rendered diagnostics of {case.name} differ from {out.name}; if the change is intended, "
        "run with MLP_UPDATE_GOLDEN=1 and review the diff"
    )


def test_no_orphan_outputs() -> None:
    """Every `.out` belongs to a case (a renamed case must not leave its old output behind)."""
    orphans = [out.name for out in CASES_DIR.glob("*.out") if not out.with_suffix(".mlp").exists()]
    assert not orphans
