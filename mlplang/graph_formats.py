"""`mlp graph` output: the task graph as JSON, Mermaid or Graphviz dot.

All three list nodes by kind (sources, steps, gates, monitors), each kind in
declaration order, and edges in a stable order, so the output can be kept as
a golden file or diffed in review.
"""

from __future__ import annotations

import json

from mlplang.compiler.graph import NodeKind, PipelineGraph

MERMAID_SHAPES = {
    NodeKind.SOURCE: ('[("', '")]'),
    NodeKind.STEP: ('["', '"]'),
    NodeKind.GATE: ('{"', '"}'),
    NodeKind.MONITOR: ('(["', '"])'),
}
DOT_SHAPES = {
    NodeKind.SOURCE: "cylinder",
    NodeKind.STEP: "box",
    NodeKind.GATE: "diamond",
    NodeKind.MONITOR: "ellipse",
}
EDGE_STYLES = {"data": "-->", "after": "-.->", "gate": "==>", "condition": "-.->", "watch": "-.->"}


def to_data(graph: PipelineGraph) -> dict:
    return {
        "name": graph.pipeline.name,
        "nodes": [{"id": n, "kind": graph.kind(n).value} for n in graph.nodes()],
        "edges": [{"source": s, "target": t, "kind": k.value} for s, t, k in graph.edges()],
    }


def to_json(graphs: list[PipelineGraph]) -> str:
    return json.dumps({"pipelines": [to_data(g) for g in graphs]}, indent=2) + "\n"


def _quote_label(text: str) -> str:
    return text.replace('"', "#quot;")


def to_mermaid(graphs: list[PipelineGraph]) -> str:
    lines = []
    for graph in graphs:
        lines.append("flowchart TD")
        prefix = graph.pipeline.name if len(graphs) > 1 else ""
        node_id = {n: f"{prefix}__{n}" if prefix else n for n in graph.nodes()}
        for name in graph.nodes():
            left, right = MERMAID_SHAPES[graph.kind(name)]
            lines.append(f"    {node_id[name]}{left}{_quote_label(name)}{right}")
        for source, target, kind in graph.edges():
            arrow = EDGE_STYLES[kind.value]
            label = "" if kind.value == "data" else f"|{kind.value}|"
            lines.append(f"    {node_id[source]} {arrow}{label} {node_id[target]}")
    return "\n".join(lines) + "\n"


def _dot_id(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_dot(graphs: list[PipelineGraph]) -> str:
    lines = []
    for graph in graphs:
        lines.append(f"digraph {_dot_id(graph.pipeline.name)} {{")
        lines.append("    rankdir=TB;")
        for name in graph.nodes():
            lines.append(f"    {_dot_id(name)} [shape={DOT_SHAPES[graph.kind(name)]}];")
        for source, target, kind in graph.edges():
            style = "" if kind.value == "data" else f' [style=dashed, label="{kind.value}"]'
            lines.append(f"    {_dot_id(source)} -> {_dot_id(target)}{style};")
        lines.append("}")
    return "\n".join(lines) + "\n"


FORMATS = {"json": to_json, "mermaid": to_mermaid, "dot": to_dot}
