"""Small helpers for the hot paths."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


_freezes_itself = False


def freezes_itself() -> None:
    """Declare that this process freezes long-lived objects on purpose (the
    language server freezes each analysis): `paused_gc` then never unfreezes
    them. Asking the collector instead (`gc.get_freeze_count`) walks every
    frozen object: 30 ms per parse in a server holding a few analyses."""
    global _freezes_itself
    _freezes_itself = True


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
            # found by the next full collection. Not in a process that freezes
            # objects itself (`freezes_itself`): unfreezing would release those
            # too; it freezes what it keeps anyway.
            if not _freezes_itself:
                gc.freeze()
                gc.unfreeze()
            gc.enable()
