"""`find_config` without a settings file gives the defaults without building
LintConfig's validator (~20 ms of `mlp lint` and `mlp compile` start-up)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from mlplang.config import LintConfig, find_config

ROOT = Path(__file__).resolve().parents[1]


def test_no_settings_file_gives_exactly_the_validated_defaults(tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n", encoding="utf-8")  # no [tool.mlp]: passed over
    found = find_config(tmp_path / "a.mlp")
    expected = LintConfig()
    assert found == expected and found.__dict__ == expected.__dict__
    assert found.model_fields_set == expected.model_fields_set == set()
    assert (found.__pydantic_extra__, found.__pydantic_private__) == (expected.__pydantic_extra__, expected.__pydantic_private__)
    assert found.path is None and found.enabled("MLP201", "anything") and found.is_fairness_metric("parity_gap")


def test_the_validator_is_built_only_for_a_settings_table(tmp_path: Path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "configured").mkdir()
    (tmp_path / "configured" / "mlp.toml").write_text('ignore = ["MLP2"]\n', encoding="utf-8")
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from mlplang.config import LintConfig, find_config\n"
        "find_config(Path(sys.argv[1]))\n"
        "print(LintConfig.__pydantic_complete__)\n"
        "print(find_config(Path(sys.argv[2])).ignore, LintConfig.__pydantic_complete__)\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "empty" / "a.mlp"),
                           str(tmp_path / "configured" / "a.mlp")], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.stdout == "False\n('MLP2',) True\n", done.stderr
