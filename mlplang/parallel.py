"""Independent work in forked processes, for the large inputs where it pays.

A 10,000-step compile to three targets is three emitters of ~1 s each that
read the same IR and share nothing: on two cores they need not run one after
the other. A forked child inherits the IR (copy on write, nothing to
serialise on the way in) and sends back only its result, pickled through a
pipe.

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
import sys
import threading
from collections.abc import Callable
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

    The child writes its pickled result to a pipe and exits with `os._exit`
    (no cleanup, and no flushing of the output the parent had buffered, which
    would then be written twice). If no child can be started (no process or
    file descriptor left), `result()` is FAILED at once. The parent may do other
    work meanwhile: a child with a large result blocks on the full pipe until
    `result()` reads it, which costs it nothing but waiting."""

    def __init__(self, function: Callable[[], T]) -> None:
        self._pid: int | None = None
        try:
            read_end, write_end = os.pipe()
        except OSError:  # out of file descriptors: no child, the caller does the work
            return
        try:
            pid = os.fork()
        except OSError:  # out of processes or memory: likewise
            os.close(read_end)
            os.close(write_end)
            return
        if pid == 0:
            os.close(read_end)
            _child(function, write_end)  # never returns
        os.close(write_end)
        self._pid = pid
        self._read_end = read_end

    def result(self) -> T | _Failed:
        """The child's return value, or FAILED (it raised, crashed or was killed)."""
        if self._pid is None:
            return FAILED
        chunks = []
        try:
            with os.fdopen(self._read_end, "rb") as pipe:
                while chunk := pipe.read(1 << 20):
                    chunks.append(chunk)
        finally:
            status = self._wait()
        if status != 0 or not chunks:
            return FAILED
        try:
            import pickle

            return pickle.loads(b"".join(chunks))
        except Exception:  # a truncated or unreadable result: do the work again
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
        os.close(self._read_end)
        self._wait()

    def _wait(self) -> int:
        pid, self._pid = self._pid, None
        try:
            _, status = os.waitpid(pid, 0)
        except ChildProcessError:  # reaped by someone else (a SIGCHLD handler of the embedding program)
            return -1
        return os.waitstatus_to_exitcode(status)


def _child(function: Callable[[], object], write_end: int) -> None:
    global _in_child
    _in_child = True
    code = 1
    try:
        import pickle

        payload = pickle.dumps(function(), protocol=pickle.HIGHEST_PROTOCOL)
        with os.fdopen(write_end, "wb") as pipe:
            pipe.write(payload)
        code = 0
    except BaseException:  # noqa: BLE001 - the parent does the work again and sees the error itself
        pass
    finally:
        os._exit(code)
