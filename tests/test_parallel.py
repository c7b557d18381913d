"""Forked work (`mlplang.parallel`) and the compile of several targets in several processes."""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from single_thread import wait_until_single_threaded

import mlplang
from mlplang import compile as compile_module
from mlplang import parallel
from mlplang.compile import compile_targets
from mlplang.config import LintConfig
from mlplang.parallel import FAILED, Forked, can_fork

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.mlp"))
TARGETS = ("github", "airflow", "kubeflow")
CONFIG = LintConfig(targets={"kubeflow": {"approval": "waive"}})

needs_fork = pytest.mark.skipif(not sys.platform.startswith("linux") or parallel.cores() < 2,
                                reason="forks only on Linux with two cores or more")


@pytest.fixture(autouse=True)
def _single_threaded():
    # Another test's leftover thread would (rightly) forbid forking.
    wait_until_single_threaded()


@needs_fork
def test_a_child_returns_its_value():
    child = Forked(lambda: {"pid": os.getpid(), "big": "x" * 3_000_000})
    value = child.result()
    assert value["pid"] != os.getpid() and len(value["big"]) == 3_000_000


@needs_fork
@pytest.mark.parametrize("work", [
    lambda: 1 / 0,  # raises
    lambda: os.kill(os.getpid(), signal.SIGKILL),  # dies
    lambda: threading.Lock(),  # a result that cannot be pickled
    lambda: os._exit(0),  # exits without a result
])
def test_a_child_that_does_not_deliver_is_failed(work):
    assert Forked(work).result() is FAILED


@needs_fork
def test_a_streaming_child_sends_pieces_in_order_then_its_value():
    def work(send):
        for piece in (b"first", b"", b"x" * 2_000_000):
            send(piece)
        return "done"

    child = Forked(work, stream=True)
    assert list(child.received()) == [b"first", b"", b"x" * 2_000_000]
    assert child.result() == "done"


@needs_fork
def test_a_streaming_child_that_fails_after_sending_is_failed():
    def work(send):
        send(b"piece")
        raise RuntimeError("half way")

    child = Forked(work, stream=True)
    assert list(child.received()) == [b"piece"]
    assert child.result() is FAILED


@needs_fork
def test_a_child_with_a_large_result_ends_before_it_is_read():
    """Its result waits in the shared file, not in a full pipe: the child is free at once."""
    child = Forked(lambda: b"x" * 30_000_000)
    deadline = time.monotonic() + 30
    while _process_state(child._pid) != "Z":  # exited, not yet waited for
        assert time.monotonic() < deadline, "the child is still running: it waits for its result to be read"
        time.sleep(0.01)
    assert child.result() == b"x" * 30_000_000


def _process_state(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


@needs_fork
def test_a_cancelled_child_is_gone():
    child = Forked(lambda: __import__("time").sleep(60))
    pid = child._pid
    child.cancel()
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
    assert child.result() is FAILED


def test_no_fork_with_other_threads_or_in_a_child(monkeypatch):
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert not can_fork()
    finally:
        stop.set()
        thread.join()
    monkeypatch.setattr(parallel, "_in_child", True)
    assert not can_fork()
    monkeypatch.setattr(parallel, "_in_child", False)
    monkeypatch.setenv("MLP_NO_FORK", "1")
    assert not can_fork()


@needs_fork
def test_a_child_reaped_by_someone_else_is_failed():
    """An embedding program's SIGCHLD handler may reap our child before we do."""
    child = Forked(lambda: 1)
    os.waitpid(child._pid, 0)
    assert child.result() is FAILED


@needs_fork
def test_the_parents_buffered_output_is_written_once(tmp_path):
    script = ("import sys; from mlplang.parallel import Forked\n"
              "sys.stdout.write('before '); assert Forked(lambda: 7).result() == 7; print('after')\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                            cwd=ROOT)
    assert result.stdout == "before after\n"


@needs_fork
def test_a_child_that_may_fork_forks_once_more():
    def nested():
        return can_fork(), Forked(can_fork).result()

    assert Forked(nested, may_fork=True).result() == (True, False)
    assert Forked(nested).result() == (False, False)


# ---- mlplang.check of a large file in a child --------------------------------------------

CHECKED = sorted(p for pattern in ("examples/**/*.mlp", "tests/golden/diagnostics/**/*.mlp") for p in ROOT.glob(pattern))


def _in_one_process(text_or_path, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setenv("MLP_NO_FORK", "1")
        return mlplang.check(text_or_path, path="t.mlp")


@needs_fork
@pytest.mark.parametrize("path", CHECKED, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_check_in_a_child_gives_the_diagnostics_of_one_process(path, monkeypatch):
    from mlplang import api

    monkeypatch.setattr(api, "CHECK_IN_CHILD_MIN_CHARS", 0)
    spy = _Spy(monkeypatch)
    for given in (path.read_text(encoding="utf-8", errors="replace"), path, path.read_bytes()):
        expected = _in_one_process(given, monkeypatch)
        assert mlplang.check(given, path="t.mlp") == expected
    assert spy.delivered == 3 and all(child._may_fork for child in spy.forked)


def _large_text_with_errors() -> str:
    spec = importlib.util.spec_from_file_location("bench_generate", ROOT / "bench" / "generate.py")
    generate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generate)
    text = generate.generate(600, "wide")
    return text.replace("in  data: Dataset = raw", "in  data: Dataset = rwa", 3)


@needs_fork
def test_check_of_a_large_file_runs_in_a_child(monkeypatch):
    from mlplang import api

    text = _large_text_with_errors()
    assert len(text) >= api.CHECK_IN_CHILD_MIN_CHARS
    expected = _in_one_process(text, monkeypatch)
    assert [d.code for d in expected] == ["MLP101"] * 3  # unknown reference, did you mean `raw`
    spy = _Spy(monkeypatch)
    assert mlplang.check(text, path="t.mlp") == expected
    assert len(spy.forked) == 1 and spy.delivered == 1
    spy.forked.clear()
    mlplang.check(text[:2000].rsplit("\n  step ", 1)[0] + "\n}\n", path="t.mlp")
    assert spy.forked == []  # a small file is checked here


@needs_fork
def test_check_is_done_here_when_its_child_fails(monkeypatch):
    from mlplang import api

    text = _large_text_with_errors()
    expected = _in_one_process(text, monkeypatch)
    parent = os.getpid()
    original = api._check_in_child

    def failing_in_children(*args):
        if os.getpid() != parent:
            raise RuntimeError("boom")
        return original(*args)

    monkeypatch.setattr(api, "_check_in_child", failing_in_children)
    spy = _Spy(monkeypatch)
    assert mlplang.check(text, path="t.mlp") == expected
    # the check's child delivered nothing; then the parse here was split with a child of its own
    assert [child._may_fork for child in spy.forked] == [True, False] and spy.delivered == 1


# ---- several targets in several processes ----------------------------------------------


class _Spy:
    """Counts the children forked and whether each delivered."""

    def __init__(self, monkeypatch):
        self.forked: list[Forked] = []
        self.delivered = 0
        original_init, original_result = Forked.__init__, Forked.result

        def init(child, function, *args, **kwargs):
            original_init(child, function, *args, **kwargs)
            self.forked.append(child)

        def result(child):
            value = original_result(child)
            self.delivered += value is not FAILED
            return value

        monkeypatch.setattr(Forked, "__init__", init)
        monkeypatch.setattr(Forked, "result", result)


def _files(outcome):
    return {target: [(f.path, f.content) for f in o.files] for target, o in outcome.targets.items()}


def _diagnostics(outcome):
    return [outcome.diagnostics, {t: o.diagnostics for t, o in outcome.targets.items()}]


@needs_fork
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_forked_targets_give_what_one_process_gives(path, monkeypatch):
    result = mlplang.load(str(path))
    serial = compile_targets(result, TARGETS, CONFIG, jobs=1)
    monkeypatch.setattr(compile_module, "FORK_MIN_STEPS", 0)
    spy = _Spy(monkeypatch)
    forked = compile_targets(result, TARGETS, CONFIG, jobs=0)
    assert len(spy.forked) == 2 and spy.delivered == 2
    assert _files(forked) == _files(serial) and any(_files(serial).values())
    assert _diagnostics(forked) == _diagnostics(serial)


@needs_fork
def test_jobs_bounds_the_processes(monkeypatch):
    result = mlplang.load(str(EXAMPLES[0]))
    monkeypatch.setattr(compile_module, "FORK_MIN_STEPS", 0)
    spy = _Spy(monkeypatch)
    compile_targets(result, TARGETS, CONFIG, jobs=2)
    assert len(spy.forked) == 1
    compile_targets(result, TARGETS, CONFIG, jobs=1)
    compile_targets(result, TARGETS[:1], CONFIG, jobs=0)
    assert len(spy.forked) == 1


@needs_fork
def test_small_pipelines_are_not_forked(monkeypatch):
    spy = _Spy(monkeypatch)
    compile_targets(mlplang.load(str(EXAMPLES[0])), TARGETS, CONFIG, jobs=0)
    assert spy.forked == []


@needs_fork
def test_a_failed_child_is_done_again_here(monkeypatch):
    result = mlplang.load(str(EXAMPLES[0]))
    serial = compile_targets(result, TARGETS, CONFIG, jobs=1)
    monkeypatch.setattr(compile_module, "FORK_MIN_STEPS", 0)
    original_emit = compile_module._emit
    parent = os.getpid()

    def emit_failing_in_children(units, target, config, overrides):
        if os.getpid() != parent:
            raise RuntimeError("boom")
        return original_emit(units, target, config, overrides)

    monkeypatch.setattr(compile_module, "_emit", emit_failing_in_children)
    spy = _Spy(monkeypatch)
    forked = compile_targets(result, TARGETS, CONFIG, jobs=0)
    assert len(spy.forked) == 2 and spy.delivered == 0
    assert _files(forked) == _files(serial)


@needs_fork
def test_lint_errors_cancel_the_children(monkeypatch):
    result = mlplang.load(str(ROOT / "examples" / "bad" / "unsafe_deploy.mlp"))
    monkeypatch.setattr(compile_module, "FORK_MIN_STEPS", 0)
    spy = _Spy(monkeypatch)
    outcome = compile_targets(result, TARGETS, CONFIG, jobs=0)
    assert not outcome.ok and outcome.targets == {}
    assert len(spy.forked) == 2 and spy.delivered == 0
    assert all(child._pid is None for child in spy.forked)  # waited for: no zombie left


@needs_fork
def test_compile_jobs_option_writes_the_same_files(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from mlplang.cli import main

    monkeypatch.setattr(compile_module, "FORK_MIN_STEPS", 0)
    spy = _Spy(monkeypatch)
    written = {}
    for jobs in ("1", "0"):
        out = tmp_path / jobs
        result = CliRunner().invoke(main, ["compile", str(EXAMPLES[0]), "-t", "github", "-t", "airflow",
                                           "-j", jobs, "-o", str(out)])
        assert result.exit_code == 0, result.output
        written[jobs] = {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert len(spy.forked) == spy.delivered == 1
    assert written["0"] == written["1"] and len(written["1"]) == 4


@needs_fork
def test_when_no_process_can_be_started_the_work_is_done_here(monkeypatch):
    def refuse():
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", refuse)
    child = Forked(lambda: 1)
    assert child.result() is FAILED
    child.cancel()
    result = mlplang.load(str(EXAMPLES[0]))
    monkeypatch.setattr(compile_module, "FORK_MIN_STEPS", 0)
    serial = compile_targets(result, TARGETS, CONFIG, jobs=1)
    assert _files(compile_targets(result, TARGETS, CONFIG, jobs=0)) == _files(serial)
