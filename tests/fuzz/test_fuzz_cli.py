"""Mutation fuzzing of the `mlp` command line, in process (click's CliRunner).

Mutated versions of every example, test program and golden diagnostics input
(see `mutate.py`) go through `check`, `lint`, `fmt --check` and `compile`
to every target. Whatever the input, the CLI must:

- never crash: no traceback, no "internal error", exit code 0, 1 or 2;
- print every diagnostic position `PATH:LINE:COL:` inside the file it names;
- write nothing when `compile` exits non-zero.

`MLP_FUZZ_COUNT` sets the number of mutated inputs (default 150, CI-sized);
`MLP_FUZZ_SEED` picks another deterministic set. Inputs that once crashed
live in `regressions/` and run every time.

A few subprocess runs (`python -m mlplang`) cover pathological files: empty,
10 MB, deep nesting, 10,000 steps, NUL bytes, invalid UTF-8, a directory.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from mlplang.cli import main

sys.path.insert(0, str(Path(__file__).resolve().parent))
import mutate

ROOT = mutate.ROOT
COUNT = int(os.environ.get("MLP_FUZZ_COUNT", "150"))
SEED = int(os.environ.get("MLP_FUZZ_SEED", "0"))
TARGETS = ("github", "airflow", "kubeflow")
POSITION = re.compile(r"^(?P<path>[^\s:][^:\n]*):(?P<line>\d+):(?P<col>\d+): ", re.MULTILINE)
REGRESSION_FILES = sorted(mutate.REGRESSIONS.glob("*.mlp"))
# A regression input listed here still crashes: name -> reason (xfail strict).
KNOWN_CRASHES: dict[str, str] = {}


def _lines(path: Path) -> list[str]:
    """The file's lines as `mlp` numbers them: ended by "\n" only (a lone "\r" is blank
    space inside a line, see mlplang.source.SourceFile)."""
    text = path.read_bytes().decode("utf-8", errors="replace").lstrip("\ufeff")
    return text.split("\n")


def assert_positions_inside(output: str, cwd: Path) -> None:
    for match in POSITION.finditer(output):
        path = Path(match["path"])
        path = path if path.is_absolute() else cwd / path
        if not path.is_file():
            continue  # a message that merely looks like a position
        lines = _lines(path)
        line, col = int(match["line"]), int(match["col"])
        assert 1 <= line <= len(lines), (match.group(0), len(lines))
        # columns count characters; allow one past the end (an "expected ..." caret)
        limit = max(len(lines[line - 1]), len(lines[line - 1].encode("utf-8", "replace"))) + 1
        assert 1 <= col <= limit, (match.group(0), lines[line - 1])


def assert_no_crash(result, what: str) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), (what, repr(result.exception))
    assert result.exit_code in (0, 1, 2), (what, result.exit_code, result.output)
    for marker in ("internal error", "Traceback"):
        assert marker not in result.stderr, (what, result.stderr)
        assert marker not in result.stdout, (what, result.stdout)


def run_all_commands(data: bytes, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    file = tmp_path / "input.mlp"
    file.write_bytes(data)
    runner = CliRunner()
    for args in (["check", "input.mlp"], ["lint", "input.mlp"], ["fmt", "--check", "input.mlp"]):
        result = runner.invoke(main, args)
        assert_no_crash(result, args[0])
        assert_positions_inside(result.stdout + result.stderr, tmp_path)
    assert file.read_bytes() == data  # fmt --check changes nothing
    for target in TARGETS:
        out = tmp_path / f"out-{target}"
        result = runner.invoke(main, ["compile", "input.mlp", "--target", target, "-o", str(out)])
        assert_no_crash(result, f"compile {target}")
        assert_positions_inside(result.stdout + result.stderr, tmp_path)
        if result.exit_code != 0:
            assert not out.exists() or not any(out.rglob("*")), f"compile {target} failed but wrote files"


@pytest.mark.parametrize("chunk", range(10))
def test_mutated_inputs_never_crash_the_cli(chunk, tmp_path, monkeypatch):
    for index, (name, seed) in enumerate(mutate.cases(COUNT, SEED)):
        if index % 10 != chunk:
            continue
        data = mutate.mutate((ROOT / name).read_bytes(), seed)
        case = tmp_path / f"case{index}"
        case.mkdir()
        try:
            run_all_commands(data, case, monkeypatch)
        except AssertionError as error:
            raise AssertionError(f"{name} mutated with seed {seed} "
                                 f"(save it with: mutate.mutate(open({name!r},'rb').read(), {seed})): {error}") from error


@pytest.mark.parametrize(
    "file",
    [pytest.param(f, marks=pytest.mark.xfail(strict=True, reason=KNOWN_CRASHES[f.name]))
     if f.name in KNOWN_CRASHES else f for f in REGRESSION_FILES],
    ids=lambda f: f.name,
)
def test_regression_inputs(file, tmp_path, monkeypatch):
    run_all_commands(file.read_bytes(), tmp_path, monkeypatch)


def test_the_mutator_is_deterministic():
    data = (ROOT / "examples" / "fraud_detection.mlp").read_bytes()
    assert [mutate.mutate(data, s) for s in range(20)] == [mutate.mutate(data, s) for s in range(20)]
    assert len({mutate.mutate(data, s) for s in range(20)}) > 10


# ---- pathological files, through a real process -----------------------------------


def mlp(*args: str, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "mlplang", *args], check=False, cwd=cwd, capture_output=True,
                            timeout=timeout, text=True, errors="replace")
    assert result.returncode in (0, 1, 2), (args, result.returncode, result.stderr)
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, result.stderr
    return result


def nested(depth: int) -> str:
    return ('pipeline p {\n  params { x: int = ' + "(" * depth + "1" + ")" * depth + ' }\n'
            '  step s { run = "echo" }\n}\n')


PATHOLOGICAL = {
    "empty.mlp": b"",
    "nul.mlp": b'pipeline p {\x00\n  step s { run = "ec\x00ho" }\n}\n\x00',
    "latin1.mlp": 'pipeline caf\xe9 {\n  step s { run = "\xe9" }\n}\n'.encode("latin-1"),
    "nested.mlp": nested(1000).encode(),
    "huge.mlp": (b"# " + b"x" * 78 + b"\n") * (10 * 1024 * 1024 // 81) + b"pipeline p {\n  step s { run = \"echo\" }\n}\n",
}


@pytest.mark.parametrize("name", sorted(PATHOLOGICAL))
def test_pathological_files_through_a_process(name, tmp_path):
    (tmp_path / name).write_bytes(PATHOLOGICAL[name])
    mlp("check", name, cwd=tmp_path)
    if name not in ("huge.mlp", "nested.mlp"):  # one run of the slow ones is enough time
        mlp("fmt", "--check", name, cwd=tmp_path)
        result = mlp("compile", name, "--target", "github", "-o", "out", cwd=tmp_path)
        if result.returncode != 0:
            assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("*"))
        assert_positions_inside(result.stderr, tmp_path)


def test_ten_thousand_steps_check_in_time(tmp_path):
    sys.path.insert(0, str(ROOT / "bench"))
    from generate import generate

    (tmp_path / "big.mlp").write_text(generate(10_000, "chain"), encoding="utf-8")
    result = mlp("check", "big.mlp", cwd=tmp_path, timeout=120)  # a clear limit: fails if slower
    assert result.returncode == 0, result.stdout[-2000:]


@pytest.mark.parametrize("command", [["compile", "--target", "github", "-o", "out"], ["fmt"], ["fmt", "--check"]])
def test_a_directory_passed_as_a_file(command, tmp_path):
    (tmp_path / "dir.mlp").mkdir()
    (tmp_path / "dir.mlp" / "notes.txt").write_text("not mlp")
    mlp(*command[:1], "dir.mlp", *command[1:], cwd=tmp_path)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("*"))
