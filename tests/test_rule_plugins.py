"""Third-party rules: a class exposed under the entry-point group `mlplang.rules` by an
installed distribution runs with the built-in rules, obeys configuration and inline
suppressions, and is explained by `mlp explain`. The distribution here is a real
`.dist-info` on PYTHONPATH, found by importlib.metadata in a fresh `mlp` process."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "fraud_detection.mlp"

PLUGIN = '''
from mlplang.compiler.rules.base import Rule, Violation
from mlplang.diagnostics.model import Severity


class RequireCostCenter(Rule):
    """
    ## What it does
    Requires a `cost-center:NAME` tag on every pipeline.

    ## Why it matters
    Finance charges compute to a cost center.

    ## Example
    ```mlp
    pipeline p { tags = ["fraud"] }
    ```

    ## Use instead
    ```mlp
    pipeline p { tags = ["fraud", "cost-center:risk"] }
    ```
    """

    code = "ACME001"
    name = "require-cost-center"
    severity = Severity.ERROR
    summary = "A pipeline without a cost-center tag."

    def check(self, ctx):
        if not any(tag.startswith("cost-center:") for tag in ctx.pipeline.tags):
            yield Violation(span=ctx.pipeline.name_span,
                            message=f"pipeline `{ctx.pipeline.name}` has no cost-center tag",
                            label="no `cost-center:` tag")
'''


@pytest.fixture
def plugin_path(tmp_path: Path) -> Path:
    (tmp_path / "acme_rules.py").write_text(textwrap.dedent(PLUGIN), encoding="utf-8")
    info = tmp_path / "acme_rules-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-rules\nVersion: 1.0\n", encoding="utf-8")
    (info / "entry_points.txt").write_text("[mlplang.rules]\nrequire-cost-center = acme_rules:RequireCostCenter\n",
                                           encoding="utf-8")
    return tmp_path


def mlp(*args: str, path: Path | None, cwd: Path) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    if path is not None:
        env["PYTHONPATH"] = str(path)
    return subprocess.run([sys.executable, "-m", "mlplang", *args], capture_output=True, text=True, cwd=cwd, env=env,
                          timeout=120)


def test_an_installed_rule_runs_with_the_built_in_ones(plugin_path: Path, tmp_path: Path):
    work = tmp_path / "work"
    work.mkdir()
    target = work / "fraud.mlp"
    target.write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    without = mlp("lint", str(target), path=None, cwd=work)
    assert without.returncode == 0, without.stdout + without.stderr
    found = mlp("lint", str(target), path=plugin_path, cwd=work)
    assert found.returncode == 1
    assert "ACME001 [require-cost-center] error: pipeline `fraud_detection` has no cost-center tag" in found.stdout

    (work / "mlp.toml").write_text('ignore = ["require-cost-center"]\n', encoding="utf-8")
    assert mlp("lint", str(target), path=plugin_path, cwd=work).returncode == 0
    (work / "mlp.toml").unlink()

    text = target.read_text(encoding="utf-8")
    target.write_text(text.replace("pipeline fraud_detection {", "pipeline fraud_detection {  # mlp: ignore[ACME001]"),
                      encoding="utf-8")
    assert mlp("lint", str(target), path=plugin_path, cwd=work).returncode == 0


def test_mlp_explain_shows_an_installed_rule(plugin_path: Path, tmp_path: Path):
    explained = mlp("explain", "require-cost-center", path=plugin_path, cwd=tmp_path)
    assert explained.returncode == 0, explained.stderr
    assert explained.stdout.startswith("ACME001 require-cost-center (error)\n")
    assert "Finance charges compute to a cost center." in explained.stdout
