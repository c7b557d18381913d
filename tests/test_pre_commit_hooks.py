""".pre-commit-hooks.yaml offers `mlp lint` and `mlp check` to pre-commit users."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from click.testing import CliRunner

from mlplang.cli import main

HOOKS = Path(__file__).resolve().parents[1] / ".pre-commit-hooks.yaml"


def _hooks() -> dict[str, dict]:
    hooks = yaml.safe_load(HOOKS.read_text(encoding="utf-8"))
    assert isinstance(hooks, list)
    return {hook["id"]: hook for hook in hooks}


def test_the_hooks_and_their_entries():
    hooks = _hooks()
    assert set(hooks) == {"mlp-lint", "mlp-check"}
    assert hooks["mlp-lint"]["entry"] == "mlp lint"
    assert hooks["mlp-check"]["entry"] == "mlp check"
    for hook in hooks.values():
        assert hook["language"] == "python"
        assert hook["name"] and hook["description"]
        assert re.search(hook["files"], "pipelines/fraud.mlp")
        assert not re.search(hook["files"], "pipelines/fraud.mlp.bak")
        assert not re.search(hook["files"], "README.md")


def test_the_entries_are_commands_that_take_file_names():
    """pre-commit appends the staged file names to the entry."""
    example = str(Path(__file__).resolve().parents[1] / "examples" / "fraud_detection.mlp")
    for hook in _hooks().values():
        command = hook["entry"].split()
        assert command[0] == "mlp"
        result = CliRunner().invoke(main, [*command[1:], *hook.get("args", []), example])
        assert result.exit_code == 0, result.output
