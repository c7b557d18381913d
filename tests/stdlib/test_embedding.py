"""Each stdlib template runs the very program shipped beside it.

The templates embed their program (a quoted heredoc), so a step needs only a
stock Python image; the .py files are what the unit tests exercise. These
tests keep the two equal: after editing a program, run scripts/stdlib_sync.py.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from mlplang.api import load_text

ROOT = Path(__file__).resolve().parents[2]
STDLIB = ROOT / "mlplang" / "stdlib"
IMAGE = "python:3.12-slim@sha256:cb4ce0eca1043b8d528dc75e658ef840ebfdc3fa73db28d5172fdbaa2969de8d"


def _sync():
    spec = importlib.util.spec_from_file_location("stdlib_sync", ROOT / "scripts" / "stdlib_sync.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MODULES = sorted(STDLIB.glob("*.mlp"))


def test_every_program_is_embedded_once():
    embedded = [program for module in MODULES for program, _ in _sync().embedded(module)]
    shipped = sorted(f"programs/{p.name}" for p in (STDLIB / "programs").glob("*.py"))
    assert sorted(embedded) == shipped


@pytest.mark.parametrize("module", MODULES, ids=lambda p: p.name)
def test_embedded_text_equals_the_program_file(module):
    for program, text in _sync().embedded(module):
        assert text == (STDLIB / program).read_text(encoding="utf-8"), (
            f"{module.name} holds a stale copy of {program}: run scripts/stdlib_sync.py")


@pytest.mark.parametrize("module", MODULES, ids=lambda p: p.name)
def test_templates_run_the_program_as_the_language_sees_it(module):
    """The command a step gets (after the raw string's indentation is removed)
    holds the program verbatim, in the pinned stock image."""
    name = module.stem
    result = load_text(f'import "std/{name}" as m\n', "check.mlp")
    errors = [d for d in result.diagnostics if d.is_error]
    assert not errors, errors
    text = module.read_text(encoding="utf-8")
    assert text.count(f'image = "{IMAGE}"') == text.count("\ntemplate ")
    for program, body in _sync().embedded(module):
        assert "${" not in body and '"""' not in body, f"{program} would be read as an interpolation"


def test_a_step_made_from_a_template_runs_the_program_verbatim():
    example = ROOT / "examples" / "stdlib_pipeline.mlp"
    result = load_text(example.read_text(encoding="utf-8"), "examples/stdlib_pipeline.mlp", real_path=example)
    [pipeline] = result.pipelines
    programs = {"check": "check_data", "shift": "drift", "scores": "evaluate", "fair": "fairness",
                "register": "registry", "serve": "deploy"}
    for step in pipeline.steps:
        if step.name in programs:
            text = (STDLIB / "programs" / f"{programs[step.name]}.py").read_text(encoding="utf-8")
            command = step.command.source_text
            assert command.startswith("python3 - ") and f"<<'PY'\n{text}PY" in command, step.name


LLM_DEPLOY = """
import "std/llm" as llm
pipeline assistant {
  owner = "llm@example.com"
  source assistant: Model<llm> { uri = "s3://example/assistant", version = "1" }
  source golden_qa: Dataset { uri = "s3://example/qa.jsonl", version = "1" }
  step qa = llm.evaluate_prompts(model = assistant, questions = golden_qa, command = "assistant-cli")
  step attack = llm.red_team(model = assistant, command = "assistant-cli")
  gate release {
    require qa.report.exact_match >= 0.7
    require attack.report.red_team_refusal_rate >= 0.95
  }
  step serve {
    image = "python:3.12-slim@sha256:cb4ce0eca1043b8d528dc75e658ef840ebfdc3fa73db28d5172fdbaa2969de8d"
    run   = "cp \\"${in.assistant}\\" \\"${out.endpoint}\\""
    in  assistant: Model<llm> = assistant
    out endpoint: Endpoint
    after release
  }
  monitor watch {
    watch = serve.endpoint
    image = "python:3.12-slim@sha256:cb4ce0eca1043b8d528dc75e658ef840ebfdc3fa73db28d5172fdbaa2969de8d"
    run   = "cp \\"${in.qa}\\" \\"${out.report}\\""
    in  qa: Metrics = qa.report
    out report: Metrics
    require report.exact_match >= 0.7
    on_breach = retrain
  }
}
"""


def test_llm_templates_satisfy_the_llm_rules(tmp_path):
    """An LLM deploy gated on std/llm's evaluation and red-team steps lints
    clean: MLP216 and MLP217 both recognise them."""
    import subprocess
    import sys

    program = tmp_path / "assistant.mlp"
    program.write_text(LLM_DEPLOY, encoding="utf-8")
    mlp = Path(sys.executable).parent / "mlp"
    done = subprocess.run([str(mlp), "lint", str(program)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 errors, 0 warnings" in done.stdout + done.stderr
    # without the red-team step, MLP217 fires
    program.write_text(LLM_DEPLOY.replace("  step attack", "  # step attack").replace(
        "    require attack", "    # require attack"), encoding="utf-8")
    done = subprocess.run([str(mlp), "lint", str(program)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "MLP217" in done.stdout + done.stderr, done.stdout + done.stderr
