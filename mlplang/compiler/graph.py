"""`PipelineGraph`: the pipeline's DAG and its artifact lineage, owned in one class.

Two networkx graphs, both built once from the IR and never mutated after:
- the *task graph*: sources, steps, gates and monitors, with typed edges
  (data, after, gate, watch, condition) - what runs after what;
- the *artifact graph*: every artifact (a source or `step.output`) with an
  edge from each input of a step to each of its outputs - what derives from what.
All listings come out in a fixed order - sources, steps, gates, monitors, each
in declaration order - so every consumer is deterministic.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum

import networkx as nx

from mlplang.compiler.ir import ArtifactRef, Monitor, Pipeline, Step, Task, condition_operands, MetricRef


class NodeKind(str, Enum):
    SOURCE = "source"
    STEP = "step"
    GATE = "gate"
    MONITOR = "monitor"


class EdgeKind(str, Enum):
    DATA = "data"
    """The target consumes an artifact the source produces."""
    AFTER = "after"
    """`after X`: ordering without data."""
    GATE = "gate"
    """A gate reads metrics the source produces (its `require`s)."""
    CONDITION = "condition"
    """A `when` reads metrics the source produces."""
    WATCH = "watch"
    """A monitor watches an artifact (an endpoint) the source produces."""


class PipelineGraph:
    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        self._tasks = nx.DiGraph()
        self._artifacts = nx.DiGraph()
        self._order: dict[str, int] = {}
        self._build()

    # ---- construction -------------------------------------------------------

    def _add_node(self, name: str, kind: NodeKind) -> None:
        self._order.setdefault(name, len(self._order))
        self._tasks.add_node(name, kind=kind)

    def _add_edge(self, source: str, target: str, kind: EdgeKind) -> None:
        if source not in self._tasks or target not in self._tasks:
            return  # a dangling reference was reported by the resolver
        if self._tasks.has_edge(source, target):
            self._tasks.edges[source, target]["kinds"].add(kind)
        else:
            self._tasks.add_edge(source, target, kinds={kind})

    def _add_task_inputs(self, task: Task) -> None:
        for item in task.inputs:
            self._add_edge(item.ref.producer, task.name, EdgeKind.DATA)
            for output in task.outputs:
                self._artifacts.add_edge(item.ref.artifact_id, f"{task.name}.{output.name}")
        for output in task.outputs:
            self._artifacts.add_node(f"{task.name}.{output.name}")

    def _build(self) -> None:
        p = self.pipeline
        for source in p.sources:
            self._add_node(source.name, NodeKind.SOURCE)
            self._artifacts.add_node(source.name)
        for step in p.steps:
            self._add_node(step.name, NodeKind.STEP)
        for gate in p.gates:
            self._add_node(gate.name, NodeKind.GATE)
        for monitor in p.monitors:
            self._add_node(monitor.name, NodeKind.MONITOR)
        for step in p.steps:
            self._add_task_inputs(step)
            for name in step.after:
                self._add_edge(name, step.name, EdgeKind.AFTER)
            if step.when is not None:
                for operand in condition_operands(step.when):
                    if isinstance(operand, MetricRef):
                        self._add_edge(operand.step, step.name, EdgeKind.CONDITION)
        for gate in p.gates:
            for requirement in gate.requires:
                for operand in condition_operands(requirement.condition):
                    if isinstance(operand, MetricRef):
                        self._add_edge(operand.step, gate.name, EdgeKind.GATE)
            for name in gate.after:
                self._add_edge(name, gate.name, EdgeKind.AFTER)
        for monitor in p.monitors:
            self._add_task_inputs(monitor)
            if monitor.watch is not None:
                self._add_edge(monitor.watch.producer, monitor.name, EdgeKind.WATCH)
                for output in monitor.outputs:
                    self._artifacts.add_edge(monitor.watch.artifact_id, f"{monitor.name}.{output.name}")

    # ---- the task graph --------------------------------------------------------

    def _sorted(self, names: Iterable[str]) -> list[str]:
        return sorted(names, key=self._order.__getitem__)

    def nodes(self, kind: NodeKind | None = None) -> list[str]:
        return self._sorted(n for n, k in self._tasks.nodes(data="kind") if kind is None or k == kind)

    def kind(self, name: str) -> NodeKind:
        return self._tasks.nodes[name]["kind"]

    def edges(self) -> list[tuple[str, str, EdgeKind]]:
        """Every (source, target, kind), in a stable order."""
        result = []
        for source, target, kinds in self._tasks.edges(data="kinds"):
            for kind in kinds:
                result.append((source, target, kind))
        kind_order = list(EdgeKind)
        return sorted(result, key=lambda e: (self._order[e[1]], self._order[e[0]], kind_order.index(e[2])))

    def edge_kinds(self, source: str, target: str) -> frozenset[EdgeKind]:
        if not self._tasks.has_edge(source, target):
            return frozenset()
        return frozenset(self._tasks.edges[source, target]["kinds"])

    def predecessors(self, name: str) -> list[str]:
        return self._sorted(self._tasks.predecessors(name))

    def successors(self, name: str) -> list[str]:
        return self._sorted(self._tasks.successors(name))

    def dependencies(self, name: str) -> list[str]:
        """Direct upstream tasks that must finish first (sources excluded: they are data at rest)."""
        return [n for n in self.predecessors(name) if self.kind(n) is not NodeKind.SOURCE]

    def upstream(self, name: str) -> list[str]:
        return self._sorted(nx.ancestors(self._tasks, name))

    def downstream(self, name: str) -> list[str]:
        return self._sorted(nx.descendants(self._tasks, name))

    def find_cycle(self) -> list[str] | None:
        """One cycle as a closed path [a, b, ..., a], or None for a DAG."""
        try:
            cycle_edges = nx.find_cycle(self._tasks)
        except nx.NetworkXNoCycle:
            return None
        path = [edge[0] for edge in cycle_edges]
        start = min(range(len(path)), key=lambda i: self._order[path[i]])
        path = path[start:] + path[:start]
        return path + [path[0]]

    def topological_order(self) -> list[str]:
        """Nodes in dependency order, ties broken by declaration order."""
        return list(nx.lexicographical_topological_sort(self._tasks, key=self._order.__getitem__))

    def reaches(self, source: str, target: str) -> bool:
        return nx.has_path(self._tasks, source, target)

    @property
    def task_graph(self) -> nx.DiGraph:
        """A read-only view, for algorithms this class does not wrap."""
        return self._tasks.copy(as_view=True)

    # ---- artifact lineage ----------------------------------------------------------

    def artifact_ids(self) -> list[str]:
        return sorted(self._artifacts.nodes, key=lambda a: (self._order.get(a.split(".")[0], 0), a))

    def artifact_order(self) -> list[str]:
        """Every artifact, each after all it derives from."""
        return list(nx.topological_sort(self._artifacts))

    def artifact_parents(self, artifact_id: str) -> list[str]:
        if artifact_id not in self._artifacts:
            return []
        return sorted(self._artifacts.predecessors(artifact_id))

    def derived_from(self, artifact_id: str) -> list[str]:
        """Every artifact derived (transitively) from `artifact_id`."""
        if artifact_id not in self._artifacts:
            return []
        return sorted(nx.descendants(self._artifacts, artifact_id))

    def lineage(self, artifact_id: str) -> list[str]:
        """Every artifact `artifact_id` derives from (transitively)."""
        if artifact_id not in self._artifacts:
            return []
        return sorted(nx.ancestors(self._artifacts, artifact_id))

    def upstream_sources(self, artifact_id: str) -> list[str]:
        sources = {s.name for s in self.pipeline.sources}
        found = [a for a in self.lineage(artifact_id) if a in sources]
        if artifact_id in sources:
            found.append(artifact_id)
        return sorted(found)

    def producer(self, ref: ArtifactRef) -> Step | Monitor | None:
        return next(
            (t for t in (*self.pipeline.steps, *self.pipeline.monitors) if t.name == ref.producer), None
        )
