"""Waiting for the threads other tests left behind, before a test that forks.

`mlplang.parallel` forks only in a single-threaded process, so a test of forked
work that runs with another thread alive would silently test the one-process
path. Threads other tests start end on their own, but not always before the
next test: asyncio's child watcher (`asyncio-waitpid-N`) lives until the
language server process a test stopped has exited.
"""

from __future__ import annotations

import threading
import time


def wait_until_single_threaded(timeout: float = 30.0) -> None:
    """Join every other thread (up to `timeout` in all), then assert none is left."""
    deadline = time.monotonic() + timeout
    for thread in threading.enumerate():
        if thread is not threading.main_thread():
            thread.join(max(0.0, deadline - time.monotonic()))
    assert threading.active_count() == 1, [t.name for t in threading.enumerate()]
