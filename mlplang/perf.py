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
            # Everything allocated meanwhile is still in the youngest generation:
            # the first collection after `enable` would scan all of it (0.5 s
            # after a 10,000-step load), then the next generation's again.
            # Freezing and unfreezing moves it straight to the oldest one, as
            # long-lived data, without a scan; cyclic garbage in it is still
            # found by the next full collection. Not when something is frozen
            # already: unfreezing would release it too (the language server
            # freezes each analysis on purpose).
            if gc.get_freeze_count() == 0:
                gc.freeze()
                gc.unfreeze()
            gc.enable()
