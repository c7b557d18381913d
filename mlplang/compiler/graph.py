"""`PipelineGraph`: the pipeline's DAG and its artifact lineage, owned in one class.

Two graphs, both built once from the IR and never mutated after:
- the *task graph*: sources, steps, gates and monitors, with typed edges
  (data, after, gate, watch, condition) - what runs after what;
- the *artifact graph*: every artifact (a source or `step.output`) with an
  edge from each input of a step to each of its outputs - what derives from what.
All listings come out in a fixed order - sources, steps, gates, monitors, each
in declaration order - so every consumer is deterministic.

Both are plain adjacency dicts and every algorithm here is linear in the size
of the graph: `mlp check` needs cycles, order and reachability, and importing
networkx alone would cost more than checking a small file. `task_graph` builds
a networkx copy on first use, for callers that want its other algorithms.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from enum import Enum
from typing import TYPE_CHECKING

from mlplang.compiler.ir import ArtifactRef, MetricRef, Monitor, Pipeline, Step, Task, condition_operands

if TYPE_CHECKING:
    import networkx as nx


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


_EDGE_KIND_RANK = {kind: i for i, kind in enumerate(EdgeKind)}


def _reach(adjacency: dict[str, dict[str, object]], start: str) -> set[str]:
    """Every node reachable from `start` (itself excluded unless on a cycle)."""
    found: set[str] = set()
    stack = [start]
    while stack:
        for neighbour in adjacency[stack.pop()]:
            if neighbour not in found:
                found.add(neighbour)
                stack.append(neighbour)
    return found


class PipelineGraph:
    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        self._order: dict[str, int] = {}
        """Task name -> declaration rank; also the task graph's node set."""
        self._kinds: dict[str, NodeKind] = {}
        self._succ: dict[str, dict[str, set[EdgeKind]]] = {}
        self._pred: dict[str, dict[str, set[EdgeKind]]] = {}
        self._artifact_succ: dict[str, dict[str, None]] = {}
        self._artifact_pred: dict[str, dict[str, None]] = {}
        self._nx: nx.DiGraph | None = None
        self._build()

    # ---- construction -------------------------------------------------------

    def _add_nodes(self, names: Iterable[str], kind: NodeKind) -> None:
        order, kinds, succ, pred = self._order, self._kinds, self._succ, self._pred
        for name in names:
            if name not in order:
                order[name] = len(order)
                succ[name] = {}
                pred[name] = {}
            kinds[name] = kind

    def _add_edge(self, source: str, target: str, kind: EdgeKind) -> None:
        succ = self._succ.get(source)
        if succ is None or target not in self._succ:
            return  # a dangling reference was reported by the resolver
        kinds = succ.get(target)
        if kinds is None:
            kinds = succ[target] = set()
            self._pred[target][source] = kinds  # one set per edge, shared by both directions
        kinds.add(kind)

    def _add_artifact(self, artifact_id: str) -> None:
        if artifact_id not in self._artifact_succ:
            self._artifact_succ[artifact_id] = {}
            self._artifact_pred[artifact_id] = {}

    def _add_derivation(self, parent: str, child: str) -> None:
        self._add_artifact(parent)
        self._add_artifact(child)
        self._artifact_succ[parent][child] = None
        self._artifact_pred[child][parent] = None

    def _add_task_inputs(self, task: Task) -> None:
        """Data edges into `task`, and each of its outputs derived from each input
        (`_add_edge` and `_add_derivation` inlined: this runs once per step)."""
        name = task.name
        outputs = [f"{name}.{output.name}" for output in task.outputs]
        all_succ, own_pred = self._succ, self._pred[name]  # `task` is a node: added first
        artifact_succ, artifact_pred = self._artifact_succ, self._artifact_pred
        data = EdgeKind.DATA
        for item in task.inputs:
            ref = item.ref
            succ = all_succ.get(ref.producer)
            if succ is not None:  # else a dangling reference, reported by the resolver
                kinds = succ.get(name)
                if kinds is None:
                    kinds = succ[name] = own_pred[ref.producer] = set()  # one set, shared by both directions
                kinds.add(data)
            if not outputs:
                continue
            parent = ref.producer if ref.output is None else f"{ref.producer}.{ref.output}"  # ref.artifact_id
            if parent not in artifact_succ:
                artifact_succ[parent] = {}
                artifact_pred[parent] = {}
            children = artifact_succ[parent]
            for output in outputs:
                if output not in artifact_succ:
                    artifact_succ[output] = {}
                    artifact_pred[output] = {}
                children[output] = None
                artifact_pred[output][parent] = None
        for output in outputs:
            if output not in artifact_succ:
                artifact_succ[output] = {}
                artifact_pred[output] = {}

    def _build(self) -> None:
        p = self.pipeline
        for source in p.sources:
            self._add_nodes((source.name,), NodeKind.SOURCE)
            self._add_artifact(source.name)
        self._add_nodes([step.name for step in p.steps], NodeKind.STEP)
        self._add_nodes([gate.name for gate in p.gates], NodeKind.GATE)
        self._add_nodes([monitor.name for monitor in p.monitors], NodeKind.MONITOR)
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
                    self._add_derivation(monitor.watch.artifact_id, f"{monitor.name}.{output.name}")

    # ---- the task graph --------------------------------------------------------

    def _sorted(self, names: Iterable[str]) -> list[str]:
        return sorted(names, key=self._order.__getitem__)

    def nodes(self, kind: NodeKind | None = None) -> list[str]:
        # `_kinds` is filled in declaration order
        return [n for n, k in self._kinds.items() if kind is None or k == kind]

    def kind(self, name: str) -> NodeKind:
        return self._kinds[name]

    def edges(self) -> list[tuple[str, str, EdgeKind]]:
        """Every (source, target, kind), in a stable order."""
        order, rank = self._order, _EDGE_KIND_RANK
        result = [
            (source, target, kind)
            for source, targets in self._succ.items()
            for target, kinds in targets.items()
            for kind in kinds
        ]
        return sorted(result, key=lambda e: (order[e[1]], order[e[0]], rank[e[2]]))

    def edge_kinds(self, source: str, target: str) -> frozenset[EdgeKind]:
        kinds = self._succ.get(source, {}).get(target)
        return frozenset(kinds) if kinds is not None else frozenset()

    def predecessors(self, name: str) -> list[str]:
        return self._sorted(self._pred[name])

    def successors(self, name: str) -> list[str]:
        return self._sorted(self._succ[name])

    def dependencies(self, name: str) -> list[str]:
        """Direct upstream tasks that must finish first (sources excluded: they are data at rest)."""
        return [n for n in self.predecessors(name) if self._kinds[n] is not NodeKind.SOURCE]

    def upstream(self, name: str) -> list[str]:
        return self._sorted(_reach(self._pred, name) - {name})

    def downstream(self, name: str) -> list[str]:
        return self._sorted(_reach(self._succ, name) - {name})

    def find_cycle(self) -> list[str] | None:
        """One cycle as a closed path [a, b, ..., a], or None for a DAG.

        A depth-first search from each node in declaration order, following
        edges in the order they were added: the first edge back to a node on
        the current path closes the cycle (the one `networkx.find_cycle` finds)."""
        if self._is_acyclic():
            return None
        succ = self._succ
        done: set[str] = set()
        for start in succ:
            if start in done:
                continue
            path = [start]
            on_path = {start: 0}
            iterators = [iter(succ[start])]
            while iterators:
                for target in iterators[-1]:
                    if target in on_path:
                        cycle = path[on_path[target]:]
                        first = min(range(len(cycle)), key=lambda i: self._order[cycle[i]])
                        cycle = cycle[first:] + cycle[:first]
                        return cycle + [cycle[0]]
                    if target not in done:
                        on_path[target] = len(path)
                        path.append(target)
                        iterators.append(iter(succ[target]))
                        break
                else:
                    iterators.pop()
                    name = path.pop()
                    del on_path[name]
                    done.add(name)
        return None

    def _is_acyclic(self) -> bool:
        """Whether every node can be ordered (Kahn's algorithm): the common
        answer, found with less work per node than the search for a cycle."""
        succ = self._succ
        indegree = {name: len(preds) for name, preds in self._pred.items()}
        ready = [name for name, degree in indegree.items() if not degree]
        for name in ready:  # grows while it is read
            for target in succ[name]:
                indegree[target] -= 1
                if not indegree[target]:
                    ready.append(target)
        return len(ready) == len(indegree)

    def topological_order(self) -> list[str]:
        """Nodes in dependency order, ties broken by declaration order.
        Raises `networkx.NetworkXUnfeasible` on a cycle."""
        order = self._order
        indegree = {name: len(preds) for name, preds in self._pred.items()}
        ready = [order[name] for name, degree in indegree.items() if degree == 0]
        heapq.heapify(ready)
        names = list(order)  # rank -> name
        result: list[str] = []
        while ready:
            name = names[heapq.heappop(ready)]
            result.append(name)
            for target in self._succ[name]:
                indegree[target] -= 1
                if indegree[target] == 0:
                    heapq.heappush(ready, order[target])
        if len(result) != len(order):
            import networkx as nx  # only on this error path

            raise nx.NetworkXUnfeasible("the task graph has a cycle; see `find_cycle`")
        return result

    def reaches(self, source: str, target: str) -> bool:
        if source not in self._succ or target not in self._succ:
            import networkx as nx  # only on this error path

            missing = source if source not in self._succ else target
            raise nx.NodeNotFound(f"`{missing}` is not in the task graph")
        return source == target or target in _reach(self._succ, source)

    @property
    def task_graph(self) -> nx.DiGraph:
        """A read-only networkx view, for algorithms this class does not wrap
        (networkx is imported on first use)."""
        if self._nx is None:
            import networkx as nx

            graph = nx.DiGraph()
            for name, kind in self._kinds.items():
                graph.add_node(name, kind=kind)
            for source, targets in self._succ.items():
                for target, kinds in targets.items():
                    graph.add_edge(source, target, kinds=set(kinds))
            self._nx = graph
        return self._nx.copy(as_view=True)

    # ---- artifact lineage ----------------------------------------------------------

    def artifact_ids(self) -> list[str]:
        return sorted(self._artifact_succ, key=lambda a: (self._order.get(a.split(".")[0], 0), a))

    def artifact_order(self) -> list[str]:
        """Every artifact, each after all it derives from."""
        indegree = {a: len(parents) for a, parents in self._artifact_pred.items()}
        result = [a for a, degree in indegree.items() if degree == 0]
        for artifact in result:  # grows while it is read
            for child in self._artifact_succ[artifact]:
                indegree[child] -= 1
                if indegree[child] == 0:
                    result.append(child)
        if len(result) != len(indegree):
            import networkx as nx  # only on this error path

            raise nx.NetworkXUnfeasible("the artifact graph has a cycle")
        return result

    def artifact_parents(self, artifact_id: str) -> list[str]:
        return sorted(self._artifact_pred.get(artifact_id, ()))

    def derived_from(self, artifact_id: str) -> list[str]:
        """Every artifact derived (transitively) from `artifact_id`."""
        if artifact_id not in self._artifact_succ:
            return []
        return sorted(_reach(self._artifact_succ, artifact_id) - {artifact_id})

    def lineage(self, artifact_id: str) -> list[str]:
        """Every artifact `artifact_id` derives from (transitively)."""
        if artifact_id not in self._artifact_pred:
            return []
        return sorted(_reach(self._artifact_pred, artifact_id) - {artifact_id})

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
