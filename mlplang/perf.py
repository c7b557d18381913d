"""Small helpers for the hot paths."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector.

    Parsing and lowering allocate hundreds of thousands of small objects that
    never form reference cycles; with the collector running, each full
    collection rescans all of them and a 10,000-step file takes twice as long.
    Reference counting still frees everything as usual."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
