"""Text -> syntax tree. Never raises: every problem is a diagnostic.

A file is parsed by the table-driven fast path (`mlplang.dsl.lalr`); only
when it meets a syntax error does Lark with error recovery
(`mlplang.dsl.recovery`) take over (`mlplang.dsl.handover`), which reports
every mistake in the file:
from the start of the pipeline member the error is in, on the fast path's
stacks (or from the beginning, for an error before any boundary between
members), handing back to the fast path at the next member after each error.
So a valid file costs one fast parse and never imports Lark, and Lark reads
only the members with mistakes; the result is that of one recovering pass
over the whole file. A large file's fast parse is shared with a forked
process (`mlplang.dsl.split_parse`), with the same result.
"""

from __future__ import annotations

import threading

from mlplang.diagnostics.model import Diagnostic
from mlplang.dsl import ast, lalr, split_parse
from mlplang.dsl.transformer import Context, SyntaxTreeBuilder
from mlplang.perf import paused_gc
from mlplang.source import SourceFile

_lock = threading.Lock()  # the builder carries the context of one parse at a time
_builder = SyntaxTreeBuilder()


def parse_source(source: SourceFile) -> tuple[ast.Module, list[Diagnostic]]:
    """Parse one file: its syntax tree and its diagnostics, sorted."""
    with _lock, paused_gc():
        context = Context(source)
        _builder.context = context
        try:
            items = split_parse.parse_items(source, _builder, context)
        finally:
            _builder.context = Context(SourceFile.from_text("", "<idle>"))
        if type(items) is not list:
            from mlplang.dsl.handover import resume_with_recovery

            items, context = resume_with_recovery(source, context, items)
    module = ast.Module(source.path, tuple(items), tuple(context.comments), source.span(0, len(source.text)))
    return module, sorted(context.diagnostics, key=Diagnostic.sort_key)


def parse_text(text: str, path: str = "<string>") -> tuple[ast.Module, list[Diagnostic]]:
    return parse_source(SourceFile.from_text(text, path))


def parse_fragment(source: SourceFile, start: int) -> tuple[list, list[ast.Comment]] | None:
    """The top-level items of `source.text[start:]` with their comments, positioned in the
    whole text; None if the fast path rejects it or the builder reports anything (no
    recovery: the caller, the language server's incremental path, then parses everything)."""
    with _lock, paused_gc():
        context = Context(source)
        _builder.context = context
        try:
            items = lalr.parse_items(source, _builder, context.comments, start)
        finally:
            _builder.context = Context(SourceFile.from_text("", "<idle>"))
    if items is None or context.diagnostics:
        return None
    return items, context.comments


def parse_recovering(source: SourceFile) -> tuple[list, Context]:
    """The top-level items of `source` by the recovering parser alone, with its context
    (comments, diagnostics, where recovery was called): for the language server, which
    parses an edited member with the rest of the file blanked out."""
    from mlplang.dsl.recovery import parse_with_recovery

    with _lock, paused_gc():
        context = Context(source)
        items = parse_with_recovery(source, context)
    return items, context
