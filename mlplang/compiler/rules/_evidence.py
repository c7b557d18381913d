"""Evidence the rules show in their messages: quoted names, where the PII of
an artifact comes from, and the lineage path it took.

A rule's message should let the reader check the finding without running
anything (actionlint prints a cycle's path); these helpers compute that
evidence once so that every rule words it the same way.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from mlplang.compiler import ir
from mlplang.compiler.rules.base import RuleContext
from mlplang.diagnostics.model import Label
from mlplang.source import Span


def quoted(names: Iterable[str]) -> str:
    """`a`, `b`, `c`"""
    return ", ".join(f"`{name}`" for name in names)


def local_span(span: Span, fallback: Span) -> Span:
    """`span`, or `fallback` when `span` is in another file: the outputs of a
    templated step are declared in the template's module, but a finding must
    point into the pipeline's file (where it can be suppressed)."""
    return span if span.file == fallback.file else fallback


def output_span(task: ir.Task, output: ir.Output) -> Span:
    return local_span(output.span, task.name_span)


def lineage_path(ctx: RuleContext, start: str, end: str, keep: Callable[[str], bool] = lambda _: True) -> list[str]:
    """A shortest chain of artifacts from `start` to `end` in the artifact
    graph, through artifacts that satisfy `keep` (empty if there is none)."""
    came_from: dict[str, str | None] = {end: None}
    queue = deque([end])
    while queue:
        current = queue.popleft()
        if current == start:
            path = [current]
            while came_from[path[-1]] is not None:
                path.append(came_from[path[-1]])  # type: ignore[arg-type]
            return path
        for parent in ctx.graph.artifact_parents(current):
            if parent not in came_from and (parent == start or keep(parent)):
                came_from[parent] = current
                queue.append(parent)
    return []


def arrow_path(path: list[str]) -> str:
    return " -> ".join(f"`{a}`" for a in path)


@dataclass(frozen=True)
class PiiOrigin:
    """Where some PII columns of an artifact come from: a source's `pii`, or
    an output that declares (re-introduces) them with its own `pii = [...]`."""

    artifact_id: str
    columns: tuple[str, ...]
    span: Span
    is_source: bool

    @property
    def description(self) -> str:
        where = f"source `{self.artifact_id}`" if self.is_source else f"output `{self.artifact_id}`"
        return f"{quoted(self.columns)} from {where}"

    def label(self) -> Label:
        what = "source" if self.is_source else "output"
        return Label(span=self.span, message=f"{what} declaring PII {quoted(self.columns)}")


def pii_origins(ctx: RuleContext, artifact_id: str) -> list[PiiOrigin]:
    """The origins of every PII column `artifact_id` holds by lineage."""
    held = ctx.lineage.pii(artifact_id)
    origins: list[PiiOrigin] = []
    explained: set[str] = set()
    for name in ctx.lineage.pii_sources(artifact_id):
        source = ctx.pipeline.source(name)
        assert source is not None
        columns = tuple(sorted(held & set(source.pii)))
        origins.append(PiiOrigin(name, columns, source.span, is_source=True))
        explained |= set(columns)
    unexplained = held - explained
    if unexplained:
        # Columns no source names: an output declared them itself.
        for candidate in [*ctx.graph.lineage(artifact_id), artifact_id]:
            producer = ctx.lineage.producer(candidate)
            if not isinstance(producer, ir.Task) or "." not in candidate:
                continue
            output = producer.output(candidate.split(".", 1)[1])
            if output is None or not output.pii:
                continue
            columns = tuple(sorted(unexplained & set(output.pii)))
            if columns:
                origins.append(PiiOrigin(candidate, columns, output_span(producer, output), is_source=False))
    return origins


def describe_origins(origins: list[PiiOrigin]) -> str:
    return "; ".join(origin.description for origin in origins)


def pii_path_notes(ctx: RuleContext, origins: list[PiiOrigin], artifact_id: str) -> tuple[str, ...]:
    """For each origin, the chain of PII-carrying artifacts down to `artifact_id`,
    when there are artifacts between them."""
    notes = []
    for origin in origins:
        columns = set(origin.columns)
        path = lineage_path(ctx, origin.artifact_id, artifact_id, keep=lambda a: bool(ctx.lineage.pii(a) & columns))
        if len(path) > 2:  # a direct path is already shown by the labels
            notes.append(f"PII path: {arrow_path(path)}")
    return tuple(notes)


def gate_reads(ctx: RuleContext, gate: ir.Gate) -> str:
    """What a gate's `require`s read, e.g. "reads only `evaluate.report`"."""
    read = list(dict.fromkeys(ref.artifact_id for ref in ctx.lineage.gate_metrics(gate)))
    if not read:
        return "reads no metrics" + (" (only an approval)" if gate.approval else "")
    return f"reads only {quoted(read)}"
