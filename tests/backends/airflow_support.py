"""Helpers for the Airflow backend tests: compiling programs, and running
Airflow itself (in .venv-airflow, through airflow_harness.py) under a hard
timeout.

Airflow is not a dependency of mlplang: `scripts/setup` installs it in its
own environment. Without it the Airflow tests are skipped locally and fail
on CI (where the environment variable CI is set), with the reason.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
from pathlib import Path

import pytest

from mlplang.api import LoadResult, load_text
from mlplang.backends.base import EmittedFile
from mlplang.backends.writer import write_files
from mlplang.compile import compile_result
from mlplang.compiler.graph import NodeKind
from mlplang.config import LintConfig

ROOT = Path(__file__).resolve().parents[2]
AIRFLOW_PYTHON = ROOT / ".venv-airflow" / "bin" / "python"
HARNESS = Path(__file__).resolve().parent / "airflow_harness.py"
RESULT_MARK = "MLP-HARNESS-RESULT "
SUFFIXES = ("-when", "-approval", "-check", "-retrain")
LATEST = "record-latest"


def example_files() -> list[Path]:
    return sorted((ROOT / "examples").glob("*.mlp"))


def program_files() -> list[Path]:
    """Every backend test program (tests/programs/*.mlp), shared by all targets."""
    return sorted((ROOT / "tests" / "programs").glob("*.mlp"))


def load_program(path: Path) -> LoadResult:
    """Loaded with its path relative to the repository, as the header shows it."""
    return load_text(path.read_text(encoding="utf-8"), path.relative_to(ROOT).as_posix(), real_path=path)


def compile_program(path: Path, **options) -> tuple[LoadResult, list[EmittedFile]]:
    result = load_program(path)
    outcome = compile_result(result, "airflow", LintConfig(), overrides=options)
    errors = [f"{d.code} {d.message} ({d.span.file}:{d.span.line})" for d in outcome.diagnostics if d.is_error]
    assert outcome.ok, f"{path.name} does not compile for Airflow: {errors}"
    return result, outcome.files


def compile_into(paths: list[Path], folder: Path, **options) -> dict[str, LoadResult]:
    """Compiles every program into `folder`; returns the loaded programs by pipeline name."""
    loaded = {}
    for path in paths:
        result, files = compile_program(path, **options)
        write_files(folder, files)
        for pipeline in result.pipelines:
            loaded[pipeline.name] = result
    return loaded


def airflow_python() -> Path:
    if AIRFLOW_PYTHON.exists():
        return AIRFLOW_PYTHON
    reason = f"{AIRFLOW_PYTHON.relative_to(ROOT)} is missing: run scripts/setup (it installs apache-airflow==3.3.2)"
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def run_harness(command: str, argument: Path, home: Path, timeout: float, env: dict | None = None) -> dict:
    """Runs airflow_harness.py in its own process group, killed (SIGKILL,
    children included) when `timeout` seconds pass: a task waiting for an
    approval nobody gives would otherwise wait forever."""
    python = airflow_python()
    home.mkdir(parents=True, exist_ok=True)
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "PYTHONUNBUFFERED": "1",
        **(env or {}),
    }
    process = subprocess.Popen(
        [str(python), str(HARNESS), command, str(argument)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environment, cwd=str(home), start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
        tail = (stdout + stderr).decode("utf-8", "replace")[-4000:]
        pytest.fail(f"airflow_harness.py {command} did not finish within {timeout}s (killed):\n{tail}")
    text = stdout.decode("utf-8", "replace")
    marker = text.rfind(RESULT_MARK)
    if process.returncode != 0 or marker < 0:
        tail = (text + stderr.decode("utf-8", "replace"))[-6000:]
        pytest.fail(f"airflow_harness.py {command} failed (exit {process.returncode}):\n{tail}")
    return json.loads(text[marker + len(RESULT_MARK):].splitlines()[0])


# ---- the IR's graph, and the Dag's graph read back from Airflow ---------------------------


def ir_edges(result: LoadResult, pipeline_name: str) -> set[tuple[str, str]]:
    """Edges between the steps and gates of a pipeline: what its Dag must order."""
    graph = result.graph(pipeline_name)
    kept = {NodeKind.STEP, NodeKind.GATE}
    return {(u, v) for u, v, _ in graph.edges() if graph.kind(u) in kept and graph.kind(v) in kept}


def ir_node(task_id: str) -> str | None:
    """The IR node a task stands for: its id without a helper suffix
    (`train-when` -> `train`); None for the run's final `record-latest`."""
    if task_id == LATEST:
        return None
    for suffix in SUFFIXES:
        if task_id.endswith(suffix):
            return task_id[: -len(suffix)]
    return task_id


def dag_edges(tasks: dict) -> set[tuple[str, str]]:
    """The Dag's dependencies between IR nodes (helper tasks mapped onto their node)."""
    edges = set()
    for task_id, info in tasks.items():
        for downstream in info["downstream"]:
            u, v = ir_node(task_id), ir_node(downstream)
            if u is not None and v is not None and u != v:
                edges.add((u, v))
    return edges


def heredoc_and_printf_expectations(command: str) -> dict[str, tuple[str, str]]:
    """What a step's command writes to each output, for the two idioms the
    hostile programs use: `printf '%s' "REF" > "${out.X}"` and a quoted
    heredoc `cat > "${out.X}" <<'END'`. Output -> (kind, what): kind is
    `param`, `input`, `env` (REF names it) or `text` (the heredoc body)."""
    found: dict[str, tuple[str, str]] = {}
    printf = re.compile(r"""^printf '%s' "(?:\$\{param\.(\w+)\}|\$\{in\.(\w+)\}|\$(\w+))" > "\$\{out\.(\w+)\}"$""")
    lines = command.split("\n")
    index = 0
    while index < len(lines):
        line = lines[index]
        match = printf.match(line)
        if match:
            param, item, env, output = match.groups()
            found[output] = ("param", param) if param else ("input", item) if item else ("env", env)
        heredoc = re.match(r"""^cat > "\$\{out\.(\w+)\}" <<'(\w+)'$""", line)
        if heredoc:
            output, end = heredoc.groups()
            body = []
            index += 1
            while lines[index] != end:
                body.append(lines[index])
                index += 1
            found[output] = ("text", "\n".join(body) + "\n")
        index += 1
    return found
