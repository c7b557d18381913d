"""Faults during `mlp compile` / `mlp fmt` writes, through the CLI.

Already covered elsewhere (not repeated here): a refused `mkstemp` via the CLI
(tests/backends/test_compile_cli.py), a failed rename restoring the folder and
a failed write leaving no temporary file at the `write_files` level
(tests/backends/test_backend_helpers.py). Added here: a refused rename seen
through the CLI, a disk that fills up part way through a file, a Ctrl-C in
the write phase (while staging and while renaming), and `fmt` refused its
in-place write. We run as root, so faults are simulated with monkeypatch.
"""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from mlplang.backends import writer
from mlplang.cli import main

ROOT = Path(__file__).resolve().parents[2]
GOOD = ROOT / "examples" / "continuous_training.mlp"  # compiles for every target
TARGETS = ("github", "airflow", "kubeflow")


def compile_(target: str, out: Path):
    return CliRunner().invoke(main, ["compile", str(GOOD), "--target", target, "-o", str(out)])


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(params=TARGETS)
def previous(request, tmp_path):
    """An output folder holding a previous, successful (and then edited) compile."""
    out = tmp_path / "out"
    assert compile_(request.param, out).exit_code == 0
    for file in out.rglob("*"):
        if file.is_file():
            file.write_bytes(file.read_bytes() + b"\n# previous run\n")
    return request.param, out, snapshot(out)


def no_temporaries(folder: Path) -> bool:
    return not [p for p in folder.rglob("*") if p.name.endswith((".tmp", ".bak"))]


def test_a_refused_rename_exits_2_and_keeps_the_previous_files(previous, monkeypatch):
    target, out, before = previous
    calls = []
    real_replace = os.replace

    def refuse_second(src, dst):
        calls.append(dst)
        if len(calls) == 2 or len(before) == 1:
            raise PermissionError(13, "Permission denied")
        return real_replace(src, dst)

    monkeypatch.setattr(writer.os, "replace", refuse_second)
    result = compile_(target, out)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == f"mlp: error: cannot write to {out}: Permission denied"
    assert snapshot(out) == before
    assert no_temporaries(out)


class _FillsUp:
    """A text stream whose disk is full after half of what it is given."""

    def __init__(self, stream):
        self.stream = stream

    def write(self, text):
        self.stream.write(text[: len(text) // 2])
        self.stream.flush()
        raise OSError(errno.ENOSPC, "No space left on device")

    def __getattr__(self, name):
        return getattr(self.stream, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stream.close()


@pytest.mark.parametrize("fail_at", [1, 2])
def test_a_full_disk_part_way_leaves_the_previous_files(previous, monkeypatch, fail_at):
    target, out, before = previous
    opened = []
    real_fdopen = os.fdopen

    def fdopen(*args, **kwargs):
        stream = real_fdopen(*args, **kwargs)
        opened.append(stream)
        return _FillsUp(stream) if len(opened) == min(fail_at, len(before)) else stream

    monkeypatch.setattr(writer.os, "fdopen", fdopen)
    result = compile_(target, out)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == f"mlp: error: cannot write to {out}: No space left on device"
    assert snapshot(out) == before
    assert no_temporaries(out)


def test_a_full_disk_in_a_new_folder_writes_nothing(tmp_path, monkeypatch):
    out = tmp_path / "fresh"
    real_fdopen = os.fdopen
    monkeypatch.setattr(writer.os, "fdopen", lambda *a, **k: _FillsUp(real_fdopen(*a, **k)))
    result = compile_("github", out)
    assert result.exit_code == 2
    assert "No space left on device" in result.stderr
    assert not [p for p in out.rglob("*") if p.is_file()]


@pytest.mark.parametrize("phase", ["staging", "renaming"])
def test_ctrl_c_in_the_write_phase_leaves_no_partial_files(previous, monkeypatch, phase):
    target, out, before = previous
    calls = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        calls.append(fd)
        if phase == "staging" and len(calls) == 1:
            raise KeyboardInterrupt
        return real_fsync(fd)

    def replace(src, dst):
        calls.append(dst)
        if phase == "renaming" and len([c for c in calls if isinstance(c, Path)]) == min(2, len(before)):
            raise KeyboardInterrupt
        return real_replace(src, dst)

    monkeypatch.setattr(writer.os, "fsync", fsync)
    monkeypatch.setattr(writer.os, "replace", replace)
    result = compile_(target, out)
    assert result.exit_code == 2
    assert "mlp: interrupted" in result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot(out) == before
    assert no_temporaries(out)


def test_fmt_refused_its_write_exits_2_and_keeps_the_file(tmp_path, monkeypatch):
    file = tmp_path / "ugly.mlp"
    shutil.copy(GOOD, file)
    file.write_text(file.read_text(encoding="utf-8").replace("\n", "\n\n\n"), encoding="utf-8")
    before = file.read_bytes()

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "replace", refuse)
    result = CliRunner().invoke(main, ["fmt", str(file)])
    assert result.exit_code == 2, result.output
    assert f"mlp: error: cannot write {file}: Permission denied" in result.stderr
    assert file.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["ugly.mlp"]


def test_without_hard_links_the_previous_files_are_copied_and_restored(previous, monkeypatch):
    """Backups are second names for the previous files; a file system without hard links gets copies."""
    target, out, before = previous
    real_replace = os.replace
    calls = []

    def no_links(*args, **kwargs):
        raise OSError(errno.EPERM, "Operation not permitted")

    def refuse_last(src, dst):
        calls.append(dst)
        if len(calls) == len(before):
            raise PermissionError(13, "Permission denied")
        return real_replace(src, dst)

    monkeypatch.setattr(writer.os, "link", no_links)
    monkeypatch.setattr(writer.os, "replace", refuse_last)
    assert compile_(target, out).exit_code == 2
    assert snapshot(out) == before
    assert no_temporaries(out)
