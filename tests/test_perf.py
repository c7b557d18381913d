"""mlplang.perf.paused_gc: the collector paused, and what it leaves behind."""

from __future__ import annotations

import gc
import weakref

import pytest

from mlplang import perf
from mlplang.perf import paused_gc


class Node:
    pass


def test_what_was_allocated_leaves_the_youngest_generation_without_a_collection():
    gc.collect()
    keep = []
    with paused_gc():
        assert not gc.isenabled()
        keep.extend([Node()] for _ in range(50_000))
    assert gc.isenabled()
    # In the oldest generation, not waiting in the youngest for a collection
    # that would scan all 100,000 objects (and then the middle one's).
    oldest = {id(o) for o in gc.get_objects(generation=2)}
    assert id(keep[0]) in oldest and id(keep[-1]) in oldest
    assert gc.get_freeze_count() == 0


def test_cyclic_garbage_made_while_paused_is_still_collected():
    with paused_gc():
        node = Node()
        node.self = node
        ref = weakref.ref(node)
        del node
    gc.collect()
    assert ref() is None


def test_what_a_process_that_freezes_itself_froze_stays_frozen(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(perf, "_freezes_itself", False)
    perf.freezes_itself()
    gc.collect()
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with paused_gc():
            [Node() for _ in range(100)]
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()


def test_without_the_declaration_the_hand_off_unfreezes():
    """The documented cost of not declaring `freezes_itself`: a sign the
    declaration is what keeps the language server's analyses frozen."""
    assert not perf._freezes_itself
    gc.collect()
    gc.freeze()
    try:
        with paused_gc():
            pass
        assert gc.get_freeze_count() == 0
    finally:
        gc.unfreeze()


def test_a_nested_pause_leaves_the_collector_paused():
    with paused_gc():
        with paused_gc():
            pass
        assert not gc.isenabled()
    assert gc.isenabled()


def test_the_language_server_declares_that_it_freezes_itself(monkeypatch: pytest.MonkeyPatch):
    """`mlp lsp` freezes each analysis it keeps; without the declaration every
    `paused_gc` exit would thaw them (and count them: 10-30 ms an edit)."""
    from mlplang.lsp import server

    monkeypatch.setattr(perf, "_freezes_itself", False)
    monkeypatch.setattr(server.server, "start_io", lambda: None)
    server.main()
    assert perf._freezes_itself
