"""Independent work in forked processes, for the large inputs where it pays.

A 10,000-step compile to three targets is three emitters of ~1 s each that
read the same IR and share nothing: on two cores they need not run one after
the other. A forked child inherits the IR (copy on write, nothing to
serialise on the way in) and sends back only its result, pickled.

Forking is used only where it is safe and cheap: on Linux (macOS and Windows
start processes by spawning, which would re-import and re-load everything), in
a process with a single thread (a lock held by another thread at the fork
would stay held in the child forever), with more than one core available, and
never inside a forked child. A child that fails for any reason - an
exception, a crash, a result that cannot be pickled - is reported as `FAILED`,
and the caller does that work itself, so the outcome (files, diagnostics, or
the exception) is the one a serial run gives.
"""

from __future__ import annotations

import os
import struct
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")
# pickle and signal are imported where used: `mlp compile` imports this module at start.

_in_child = False


class _Failed:
    def __repr__(self) -> str:
        return "FAILED"


FAILED = _Failed()
"""What `Forked.result` gives when the child did not deliver a result."""


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


def can_fork() -> bool:
    """Whether `Forked` may be used here and now (see the module's docstring);
    never with `MLP_NO_FORK=1` (profiling one process, debugging)."""
    return (sys.platform.startswith("linux") and hasattr(os, "fork") and not _in_child
            and threading.active_count() == 1 and cores() > 1 and os.environ.get("MLP_NO_FORK") != "1")


class Forked(Generic[T]):
    """`function()` running in a forked child process; `result()` waits for its value.

    With `stream=True` the child runs `function(send)`, and each `send(data)`
    (bytes) reaches this process, in order, through `received()` while the
    child goes on: the split parser decodes the first members of the child's
    part while the child still parses the last ones. With `may_fork=True` the
    child may fork children of its own, which may not: a check run in a
    child splits its parse with a grandchild.

    What the child sends and returns (pickled) goes to an anonymous shared
    file, and a 17-byte record of where it is to a pipe: the child never waits
    for this process to read (a pipe holds 64 KB, a result is up to tens of
    MB). It ends with `os._exit` (no cleanup, and no flushing of the output
    this process had buffered, which would then be written twice). If no
    child can be started (no process, file or descriptor left), `result()`
    is FAILED at once."""

    def __init__(self, function: Callable[..., T], stream: bool = False, may_fork: bool = False) -> None:
        self._pid: int | None = None
        self._result: bytes | None = None
        self._may_fork = may_fork
        try:
            data = _shared_file()
        except OSError:  # out of file descriptors or memory: no child, the caller does the work
            return
        try:
            read_end, write_end = os.pipe()
        except OSError:
            os.close(data)
            return
        try:
            pid = os.fork()
        except OSError:  # out of processes or memory: likewise
            for fd in (data, read_end, write_end):
                os.close(fd)
            return
        if pid == 0:
            os.close(read_end)
            _child(function, stream, data, write_end, may_fork)  # never returns
        os.close(write_end)
        self._pid, self._records, self._data = pid, read_end, data

    def received(self) -> Iterator[bytes]:
        """What the child sends, in order, each as soon as it is sent; ends when the
        child returns, fails or is gone."""
        while self._pid is not None and self._result is None:
            record = _read_exactly(self._records, _RECORD.size)
            if record is None:  # the child ended without a result
                return
            kind, offset, length = _RECORD.unpack(record)
            data = _read_at(self._data, offset, length)
            if kind == _RESULT:
                self._result = data
                return
            yield data

    def result(self) -> T | _Failed:
        """The child's return value, or FAILED (it raised, crashed or was killed).
        What it sent and `received()` did not read is dropped."""
        if self._pid is None:
            return FAILED
        try:
            for _ in self.received():
                pass
        finally:
            status = self._end()
        if status != 0 or self._result is None:
            return FAILED
        try:
            import pickle

            return pickle.loads(self._result)
        except Exception:  # an unreadable result: do the work again
            return FAILED

    def cancel(self) -> None:
        """Stop the child (its result is not wanted)."""
        if self._pid is None:
            return
        import signal

        try:
            os.kill(self._pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self._end()

    def _end(self) -> int:
        """Wait for the child, close what was shared with it; its exit status."""
        pid, self._pid = self._pid, None
        os.close(self._records)
        os.close(self._data)
        try:
            _, status = os.waitpid(pid, 0)
        except ChildProcessError:  # reaped by someone else (a SIGCHLD handler of the embedding program)
            return -1
        return os.waitstatus_to_exitcode(status)


_RECORD = struct.Struct("<Bqq")  # kind, offset and length of a piece of data in the shared file
_SENT, _RESULT = 1, 2


def _shared_file() -> int:
    """A file descriptor of an anonymous file, in memory where Linux allows."""
    try:
        return os.memfd_create("mlplang-forked")
    except (AttributeError, OSError):
        import tempfile

        with tempfile.TemporaryFile() as file:  # already unlinked: gone with its last descriptor
            return os.dup(file.fileno())


def _read_exactly(fd: int, size: int) -> bytes | None:
    """`size` bytes from a pipe, or None at its end."""
    data = b""
    while len(data) < size:
        chunk = os.read(fd, size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def _read_at(fd: int, offset: int, length: int) -> bytes:
    pieces = []
    while length > 0:
        piece = os.pread(fd, length, offset)
        if not piece:
            break
        pieces.append(piece)
        offset += len(piece)
        length -= len(piece)
    return b"".join(pieces)


def _child(function: Callable[..., object], stream: bool, data: int, records: int, may_fork: bool) -> None:
    global _in_child
    _in_child = not may_fork
    position = 0

    def put(kind: int, payload: bytes) -> None:
        nonlocal position
        view, written = memoryview(payload), 0
        while written < len(view):
            written += os.write(data, view[written:])
        os.write(records, _RECORD.pack(kind, position, len(payload)))  # under PIPE_BUF: one write
        position += len(payload)

    code = 1
    try:
        import pickle

        value = function(lambda piece: put(_SENT, piece)) if stream else function()
        put(_RESULT, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
        code = 0
    except BaseException:  # noqa: BLE001 - the parent does the work again and sees the error itself
        pass
    finally:
        os._exit(code)
