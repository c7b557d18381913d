"""Lineage facts the governance rules are stated in.

- PII: a source's `pii` columns flow to every artifact derived from it; an
  output that declares `pii = [...]` states the columns it still holds (often
  `[]`, after anonymisation) and stops the inheritance there.
- Provenance: the sources any artifact derives from.
- Metrics *about* model M: a Metrics output of the step that produced M, or of
  any step that consumes M or something derived from M.
All of it is computed once from the IR and the `PipelineGraph`: the rules of
one lint share one `Lineage`, so what several of them ask (the deploy steps,
the gates before a deploy, the outputs of a kind) is worked out on first use
and remembered - each answer is a pass over the whole pipeline, and a
10,000-step file would otherwise pay for it once per rule.
"""

from __future__ import annotations

from functools import cached_property

from mlplang.compiler import ir
from mlplang.compiler.graph import NodeKind, PipelineGraph


_NONE: frozenset[str] = frozenset()


class Lineage:
    def __init__(self, pipeline: ir.Pipeline, graph: PipelineGraph) -> None:
        self.pipeline = pipeline
        self.graph = graph
        self._tasks: dict[str, ir.Task] = {t.name: t for t in (*pipeline.steps, *pipeline.monitors)}
        self._sources = {s.name: s for s in pipeline.sources}
        self._upstream: dict[str, tuple[str, ...]] = {}
        self._gates_upstream: dict[str, tuple[ir.Gate, ...]] = {}

    # ---- artifacts ------------------------------------------------------------

    def producer(self, artifact_id: str) -> ir.Task | ir.Source | None:
        name = artifact_id.split(".", 1)[0]
        return self._tasks.get(name) or self._sources.get(name)

    @cached_property
    def _output_types(self) -> dict[str, ir.ArtifactType]:
        """`task.output` -> its type, the first output of that name (as `Task.output` finds it)."""
        result: dict[str, ir.ArtifactType] = {}
        for task in self._tasks.values():
            for output in task.outputs:
                result.setdefault(f"{task.name}.{output.name}", output.type)
        return result

    def artifact_type(self, artifact_id: str) -> ir.ArtifactType | None:
        found = self._output_types.get(artifact_id)
        if found is not None:  # the common case, without splitting the id and scanning outputs
            return found
        producer = self.producer(artifact_id)
        if isinstance(producer, ir.Source):
            return producer.type
        if producer is None or "." not in artifact_id:
            return None
        output = producer.output(artifact_id.split(".", 1)[1])
        return output.type if output else None

    def outputs_of_kind(self, kind: str) -> list[tuple[ir.Task, ir.Output]]:
        return list(self._outputs_by_kind.get(kind, ()))

    @cached_property
    def _outputs_by_kind(self) -> dict[str, list[tuple[ir.Task, ir.Output]]]:
        """Every (task, output), grouped by the output's kind, in task order."""
        result: dict[str, list[tuple[ir.Task, ir.Output]]] = {}
        for task in self._tasks.values():
            for output in task.outputs:
                result.setdefault(output.type.kind, []).append((task, output))
        return result

    # ---- PII ----------------------------------------------------------------------

    @cached_property
    def _pii(self) -> dict[str, frozenset[str]]:
        result: dict[str, frozenset[str]] = {s.name: frozenset(s.pii) for s in self.pipeline.sources}
        for name in self.graph.topological_order():
            task = self._tasks.get(name)
            if task is None:
                continue
            inherited: set[str] = set()
            for item in task.inputs:
                inherited |= result.get(item.ref.artifact_id, _NONE)
            if isinstance(task, ir.Monitor) and task.watch is not None:
                inherited |= result.get(task.watch.artifact_id, _NONE)
            held = frozenset(inherited)  # one set shared by the outputs that inherit it
            for output in task.outputs:
                declared = output.pii
                result[f"{task.name}.{output.name}"] = held if declared is None else frozenset(declared)
        return result

    def pii(self, artifact_id: str) -> frozenset[str]:
        """The personal-data columns an artifact holds, by lineage."""
        return self._pii.get(artifact_id, frozenset())

    def pii_sources(self, artifact_id: str) -> list[str]:
        """Sources whose PII columns reach `artifact_id`."""
        held = self.pii(artifact_id)
        upstream = sorted(self._upstream_sources.get(artifact_id, frozenset()))
        return [s for s in upstream if held & set(self._sources[s].pii)]

    # ---- provenance --------------------------------------------------------------

    @cached_property
    def _upstream_sources(self) -> dict[str, frozenset[str]]:
        """Artifact -> the sources it derives from, in one pass over the
        artifact graph (a traversal per artifact would be quadratic on chains)."""
        result: dict[str, frozenset[str]] = {}
        for artifact in self.graph.artifact_order():
            if artifact in self._sources:
                result[artifact] = frozenset((artifact,))
                continue
            found: set[str] = set()
            for parent in self.graph.artifact_parents(artifact):
                found |= result.get(parent, frozenset())
            result[artifact] = frozenset(found)
        return result

    def sources_of(self, artifact_id: str) -> list[ir.Source]:
        return [self._sources[s] for s in sorted(self._upstream_sources.get(artifact_id, frozenset()))]

    # ---- metrics about a model -------------------------------------------------------

    def metrics_about(self, model_id: str) -> set[str]:
        """Metrics artifacts computed from model `model_id` (see module doc)."""
        result = {a for a in self.graph.derived_from(model_id) if self._is_metrics(a)}
        producer = self.producer(model_id)
        if isinstance(producer, ir.Task):
            result |= {f"{producer.name}.{o.name}" for o in producer.outputs if o.type.kind == "Metrics"}
        return result

    def _is_metrics(self, artifact_id: str) -> bool:
        artifact_type = self.artifact_type(artifact_id)
        return artifact_type is not None and artifact_type.kind == "Metrics"

    # ---- gates and deploys -------------------------------------------------------------

    def deploy_steps(self) -> list[ir.Step]:
        """Steps that produce an Endpoint."""
        return list(self._deploy_steps)

    @cached_property
    def _deploy_steps(self) -> tuple[ir.Step, ...]:
        return tuple(s for s in self.pipeline.steps if any(o.type.kind == "Endpoint" for o in s.outputs))

    def upstream(self, name: str) -> list[str]:
        """`PipelineGraph.upstream`, remembered: the rules ask it of the same few
        tasks (deploys, gates) and each answer is a walk of everything upstream."""
        found = self._upstream.get(name)
        if found is None:
            found = self._upstream[name] = tuple(self.graph.upstream(name))
        return list(found)

    def gates_upstream(self, name: str) -> list[ir.Gate]:
        found = self._gates_upstream.get(name)
        if found is None:
            upstream = set(self.upstream(name))
            found = self._gates_upstream[name] = tuple(g for g in self.pipeline.gates if g.name in upstream)
        return list(found)

    def models_consumed(self, step: ir.Task) -> list[str]:
        """Model artifacts a step consumes directly, or else through its inputs' lineage."""
        direct = [i.ref.artifact_id for i in step.inputs if self._kind(i.ref.artifact_id) == "Model"]
        if direct:
            return direct
        found: list[str] = []
        for item in step.inputs:
            for ancestor in self.graph.lineage(item.ref.artifact_id):
                if self._kind(ancestor) == "Model" and ancestor not in found:
                    found.append(ancestor)
        return found

    def _kind(self, artifact_id: str) -> str | None:
        artifact_type = self.artifact_type(artifact_id)
        return artifact_type.kind if artifact_type else None

    def gate_metrics(self, gate: ir.Gate) -> list[ir.MetricRef]:
        return [
            operand
            for requirement in gate.requires
            for operand in ir.condition_operands(requirement.condition)
            if isinstance(operand, ir.MetricRef)
        ]

    def is_step(self, name: str) -> bool:
        return name in self._tasks and self.graph.kind(name) is NodeKind.STEP
