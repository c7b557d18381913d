"""`mlp check` and `mlp graph` end to end: output, and the exit codes the
brief promises (0 clean, 1 findings, 2 usage or unreadable input)."""

from __future__ import annotations

import gc
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from mlplang import __version__
from mlplang.cli import main

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
EXAMPLE_FILES = sorted(EXAMPLES.glob("*.mlp"))
PINNED = "img@sha256:" + "0" * 64

ERROR_FILE = 'pipeline p {\n  owner = "x"\n  step s {\n    retries = \n  }\n}\n'
WARNING_FILE = (
    'pipeline p {\n  owner = "x"\n'
    f'  step s {{ image = "{PINNED}" run = "echo ${{inp.x}}" }}\n'
    "}\n"
)
CYCLE_FILE = f"""pipeline p {{
  step a {{ image = "{PINNED}" run = "x" after b }}
  step b {{ image = "{PINNED}" run = "x" after a }}
}}
"""


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def run(runner: CliRunner, *args: str):
    return runner.invoke(main, list(args), catch_exceptions=False)


# ---- mlp check ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.name)
def test_check_examples_is_clean(runner: CliRunner, path: Path) -> None:
    result = run(runner, "check", str(path))
    assert result.exit_code == 0, result.output
    assert result.stdout == "0 errors, 0 warnings in 1 file\n"


def test_check_several_files(runner: CliRunner) -> None:
    result = run(runner, "check", *map(str, EXAMPLE_FILES))
    assert result.exit_code == 0
    assert result.stdout.strip() == f"0 errors, 0 warnings in {len(EXAMPLE_FILES)} files"


def test_check_errors_exit_1_with_position_and_code(runner: CliRunner, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "broken.mlp", ERROR_FILE)
    result = run(runner, "check", "broken.mlp")
    assert result.exit_code == 1
    out = result.stdout
    assert "broken.mlp:4:14: MLP001 [syntax-error] error: missing value after `=`" in out
    assert "4 |     retries = " in out  # the source line
    assert re.search(r"^\s+\|\s+\^", out, re.M)  # a caret line
    assert out.rstrip().endswith("1 error, 0 warnings in 1 file")


def test_check_reports_every_file_and_counts(runner: CliRunner, tmp_path: Path) -> None:
    bad = write(tmp_path, "bad.mlp", ERROR_FILE)
    cycle = write(tmp_path, "cycle.mlp", CYCLE_FILE)
    good = EXAMPLES / "gpu_training.mlp"
    result = run(runner, "check", str(bad), str(good), str(cycle))
    assert result.exit_code == 1
    assert f"{bad}:4:14: MLP001" in result.stdout
    assert f"{cycle}:2:8: MLP105 [dependency-cycle] error: dependency cycle: \"a\" -> \"b\" -> \"a\"" in result.stdout
    assert result.stdout.rstrip().endswith("2 errors, 0 warnings in 3 files")


def test_check_quiet_prints_only_the_summary(runner: CliRunner, tmp_path: Path) -> None:
    bad = write(tmp_path, "bad.mlp", ERROR_FILE)
    result = run(runner, "check", "--quiet", str(bad))
    assert result.exit_code == 1
    assert result.stdout == "1 error, 0 warnings in 1 file\n"


def test_warnings_do_not_fail(runner: CliRunner, tmp_path: Path) -> None:
    path = write(tmp_path, "warn.mlp", WARNING_FILE)
    result = run(runner, "check", str(path))
    assert result.exit_code == 0, result.output
    assert f"{path}:3:" in result.stdout and "MLP107 [interpolation-typo] warning:" in result.stdout
    assert "did you mean `${in.x}`?" in result.stdout
    assert result.stdout.rstrip().endswith("0 errors, 1 warning in 1 file")


def test_missing_file_exits_2(runner: CliRunner, tmp_path: Path) -> None:
    missing = tmp_path / "nope.mlp"
    result = run(runner, "check", str(missing))
    assert result.exit_code == 2
    assert f"cannot read {missing}" in result.stderr
    assert "No such file" in result.stderr


def test_missing_file_among_good_ones_still_exits_2(runner: CliRunner, tmp_path: Path) -> None:
    result = run(runner, "check", str(EXAMPLE_FILES[0]), str(tmp_path / "nope.mlp"))
    assert result.exit_code == 2
    assert "in 1 file" in result.stdout


def test_no_arguments_is_a_usage_error(runner: CliRunner) -> None:
    result = run(runner, "check")
    assert result.exit_code == 2
    assert "Missing argument" in result.stderr
    assert run(runner).exit_code == 2  # bare `mlp`: help, and a usage exit code
    unknown = run(runner, "frobnicate")
    assert unknown.exit_code == 2 and "No such command" in unknown.stderr


def test_version(runner: CliRunner) -> None:
    result = run(runner, "--version")
    assert result.exit_code == 0
    assert result.stdout == f"mlp {__version__}\n"


def test_directory_argument_expands_to_mlp_files(runner: CliRunner, tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    for path in EXAMPLE_FILES:
        shutil.copy(path, project / path.name)
    shutil.copytree(EXAMPLES / "shared", project / "shared")  # imported by two examples
    write(project, "notes.txt", "not a pipeline")
    write(project, "nested/deeper/warn.mlp", WARNING_FILE)
    result = run(runner, "check", str(project))
    # the examples, shared/steps.mlp and nested/deeper/warn.mlp
    expected_files = len(EXAMPLE_FILES) + 2
    assert result.exit_code == 0, result.output
    assert result.stdout.rstrip().endswith(f"0 errors, 1 warning in {expected_files} files")
    write(project, "nested/bad.mlp", ERROR_FILE)
    result = run(runner, "check", str(project))
    assert result.exit_code == 1
    assert f"{project / 'nested' / 'bad.mlp'}:4:14: MLP001" in result.stdout


def test_invalid_utf8_is_a_finding_not_a_crash(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "latin1.mlp"
    path.write_bytes(b'pipeline p { owner = "caf\xe9" }\n')
    result = run(runner, "check", str(path))
    assert result.exit_code == 1
    assert f"{path}:1:" in result.stdout and "MLP007" in result.stdout


# ---- mlp graph ----------------------------------------------------------------------------------------


def test_graph_json(runner: CliRunner) -> None:
    result = run(runner, "graph", str(EXAMPLES / "fraud_detection.mlp"), "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    (pipeline,) = data["pipelines"]
    assert pipeline["name"] == "fraud_detection"
    kinds = {n["id"]: n["kind"] for n in pipeline["nodes"]}
    assert set(kinds.values()) == {"source", "step", "gate", "monitor"}
    assert kinds["transactions"] == "source" and kinds["release"] == "gate" and kinds["drift"] == "monitor"
    edge_kinds = {e["kind"] for e in pipeline["edges"]}
    assert edge_kinds == {"data", "after", "gate", "watch"}
    assert {"source": "evaluate", "target": "release", "kind": "gate"} in pipeline["edges"]
    for edge in pipeline["edges"]:
        assert edge["source"] in kinds and edge["target"] in kinds


def test_graph_dot(runner: CliRunner) -> None:
    result = run(runner, "graph", str(EXAMPLES / "fraud_detection.mlp"), "--format", "dot")
    assert result.exit_code == 0
    out = result.stdout
    assert out.startswith('digraph "fraud_detection" {\n') and out.endswith("}\n")
    assert '"transactions" [shape=cylinder];' in out
    assert '"extract" [shape=box];' in out
    assert '"release" [shape=diamond];' in out
    assert '"drift" [shape=ellipse];' in out
    assert '"transactions" -> "extract";' in out
    assert '"evaluate" -> "release" [style=dashed, label="gate"];' in out
    assert '"release" -> "deploy" [style=dashed, label="after"];' in out
    assert '"deploy" -> "drift" [style=dashed, label="watch"];' in out
    assert out.count("{") == out.count("}")


def test_graph_mermaid_is_the_default(runner: CliRunner) -> None:
    result = run(runner, "graph", str(EXAMPLES / "fraud_detection.mlp"))
    assert result.exit_code == 0
    out = result.stdout
    assert out.startswith("flowchart TD\n")
    assert '    transactions[("transactions")]' in out
    assert '    extract["extract"]' in out
    assert '    release{"release"}' in out
    assert '    drift(["drift"])' in out
    assert "    transactions --> extract" in out
    assert "    evaluate ==>|gate| release" in out
    assert "    release -.->|after| deploy" in out
    assert "    deploy -.->|watch| drift" in out
    assert out == run(runner, "graph", str(EXAMPLES / "fraud_detection.mlp"), "--format", "mermaid").stdout


def test_graph_condition_edge(runner: CliRunner, tmp_path: Path) -> None:
    path = write(tmp_path, "when.mlp", f"""pipeline p {{
  step a {{ image = "{PINNED}" run = "x ${{out.m}}" out m: Metrics }}
  step b {{ image = "{PINNED}" run = "x" when a.m.loss < 1 }}
}}
""")
    data = json.loads(run(runner, "graph", str(path), "--format", "json").stdout)
    assert data["pipelines"][0]["edges"] == [{"source": "a", "target": "b", "kind": "condition"}]
    assert "    a -.->|condition| b" in run(runner, "graph", str(path)).stdout


def test_graph_is_deterministic(runner: CliRunner) -> None:
    for fmt in ("json", "dot", "mermaid"):
        outputs = {run(runner, "graph", str(p), "--format", fmt).stdout for p in EXAMPLE_FILES for _ in range(2)}
        assert len(outputs) == len(EXAMPLE_FILES)


def test_graph_of_a_file_with_errors_exits_1_with_the_diagnostic_on_stderr(runner: CliRunner, tmp_path: Path) -> None:
    path = write(tmp_path, "cycle.mlp", CYCLE_FILE)
    result = run(runner, "graph", str(path), "--format", "json")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert f"{path}:2:8: MLP105 [dependency-cycle] error:" in result.stderr
    path = write(tmp_path, "syntax.mlp", ERROR_FILE)
    result = run(runner, "graph", str(path))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert f"{path}:4:14: MLP001" in result.stderr


def test_graph_warnings_do_not_block_the_graph(runner: CliRunner, tmp_path: Path) -> None:
    path = write(tmp_path, "warn.mlp", WARNING_FILE)
    result = run(runner, "graph", str(path), "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["pipelines"][0]["nodes"] == [{"id": "s", "kind": "step"}]


def test_graph_usage_errors(runner: CliRunner, tmp_path: Path) -> None:
    assert run(runner, "graph").exit_code == 2
    assert run(runner, "graph", str(tmp_path / "nope.mlp")).exit_code == 2
    bad_format = run(runner, "graph", str(EXAMPLE_FILES[0]), "--format", "png")
    assert bad_format.exit_code == 2 and "png" in bad_format.stderr
    assert run(runner, "graph", str(tmp_path)).exit_code == 2  # a directory
    wrong = run(runner, "graph", str(EXAMPLES / "fraud_detection.mlp"), "--pipeline", "nope")
    assert wrong.exit_code == 2
    assert "no pipeline `nope`" in wrong.stderr and "fraud_detection" in wrong.stderr


def test_graph_selects_one_pipeline(runner: CliRunner, tmp_path: Path) -> None:
    path = write(tmp_path, "two.mlp", f"""pipeline first {{ step a {{ image = "{PINNED}" run = "x" }} }}
pipeline second {{ step b {{ image = "{PINNED}" run = "x" }} }}
""")
    both = json.loads(run(runner, "graph", str(path), "--format", "json").stdout)
    assert [p["name"] for p in both["pipelines"]] == ["first", "second"]
    one = json.loads(run(runner, "graph", str(path), "--format", "json", "--pipeline", "second").stdout)
    assert [p["name"] for p in one["pipelines"]] == ["second"]
    mermaid = run(runner, "graph", str(path)).stdout
    assert mermaid.count("flowchart TD") == 2
    assert "first__a" in mermaid and "second__b" in mermaid  # ids stay unique across pipelines


# ---- a real process ------------------------------------------------------------------------------------------


def test_python_m_mlplang_check_in_a_subprocess(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    env.pop("MLP_DEBUG", None)
    ok = subprocess.run(
        [sys.executable, "-m", "mlplang", "check", "examples/fraud_detection.mlp", "examples/gpu_training.mlp"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout == "0 errors, 0 warnings in 2 files\n"
    assert ok.stderr == ""
    bad = write(tmp_path, "bad.mlp", ERROR_FILE)
    failed = subprocess.run(
        [sys.executable, "-m", "mlplang", "check", str(bad)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert failed.returncode == 1
    assert f"{bad}:4:14: MLP001" in failed.stdout
    missing = subprocess.run(
        [sys.executable, "-m", "mlplang", "check", str(tmp_path / "nope.mlp")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert missing.returncode == 2
    assert "cannot read" in missing.stderr and "Traceback" not in missing.stderr


# ---- the cyclic garbage collector in a real process (cli._short_lived_process) ----------------------


def collector_at_exit(*args: str, before_main: str = "") -> subprocess.CompletedProcess:
    """Run `mlp ARGS` as a process, printing at its exit whether the collector
    was enabled and whether everything had been frozen."""
    # Registered before `main` registers its own exit handler, the probe runs after it.
    script = (
        "import atexit, gc, sys\n"
        "from mlplang.cli import main\n"
        f"{before_main}\n"
        "atexit.register(lambda: print('collector enabled:', gc.isenabled(), '- frozen:', gc.get_freeze_count() > 0))\n"
        "main()\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run([sys.executable, "-c", script, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)


def test_a_mlp_check_process_runs_without_the_cyclic_collector_and_freezes_at_exit() -> None:
    done = collector_at_exit("check", "examples/fraud_detection.mlp")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "0 errors, 0 warnings in 1 file\ncollector enabled: False - frozen: True\n"


def test_mlp_lsp_turns_the_collector_back_on() -> None:
    pytest.importorskip("mlplang.lsp.server")
    stub = "import mlplang.lsp.server as server; server.main = lambda: print('serving with the collector:', gc.isenabled())"
    done = collector_at_exit("lsp", before_main=stub)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "serving with the collector: True\ncollector enabled: True - frozen: True\n"


def test_in_process_invocations_leave_the_collector_alone(runner: CliRunner, monkeypatch) -> None:
    assert gc.isenabled()
    assert run(runner, "check", str(EXAMPLES / "fraud_detection.mlp")).exit_code == 0
    assert gc.isenabled()
    server = pytest.importorskip("mlplang.lsp.server")
    monkeypatch.setattr(server, "main", lambda: None)
    gc.disable()  # a caller's choice, which `mlp lsp` run in-process keeps
    try:
        assert run(runner, "lsp").exit_code == 0 and not gc.isenabled()
    finally:
        gc.enable()


@pytest.mark.parametrize("code, status, stderr", [(None, 0, ""), (3, 3, ""), ("bye", 1, "bye\n")])
def test_a_short_lived_process_exits_without_freeing_but_as_sys_exit_would(code, status, stderr):
    """`_exit_now` skips freeing what the command loaded, never the exit handlers or buffered output."""
    script = ("import atexit, sys\nfrom mlplang.cli import _exit_now\n"
              "atexit.register(lambda: print('handler'))\n"
              f"sys.stdout.write('buffered '); _exit_now({code!r})\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert (result.returncode, result.stdout, result.stderr) == (status, "buffered handler\n", stderr)


def test_mlp_as_a_process_prints_all_and_keeps_its_exit_codes(tmp_path):
    bad = tmp_path / "bad.mlp"
    bad.write_text("pipeline p {\n  step s { in x: Dataset = nowhere }\n}\n", encoding="utf-8")
    for path, status in ((ROOT / "examples" / "fraud_detection.mlp", 0), (bad, 1), (tmp_path / "missing.mlp", 2)):
        process = subprocess.run([sys.executable, "-m", "mlplang", "check", str(path)], capture_output=True, text=True)
        in_process = CliRunner().invoke(main, ["check", str(path)])
        assert process.returncode == in_process.exit_code == status
        assert process.stdout == in_process.stdout and process.stderr == in_process.stderr
