"""Artifact subtyping: `Features` is a `Dataset`; `Artifact` accepts every artifact."""

from __future__ import annotations

from mlplang.compiler.ir import ArtifactType

# kind -> its parent kind (Artifact is the top)
PARENT = {
    "Dataset": "Artifact",
    "Features": "Dataset",
    "Model": "Artifact",
    "Metrics": "Artifact",
    "Prompt": "Artifact",
    "Index": "Artifact",
    "Endpoint": "Artifact",
}


def is_subkind(kind: str, expected: str) -> bool:
    while True:
        if kind == expected:
            return True
        if kind not in PARENT:
            return False
        kind = PARENT[kind]


def subkinds(expected: str) -> list[str]:
    """`expected` and every kind below it, in declaration order."""
    return [expected] + [kind for kind in PARENT if kind != expected and is_subkind(kind, expected)]


def kind_accepts(expected: ArtifactType, actual: ArtifactType) -> bool:
    """Whether an input declared `expected` accepts `actual` (kinds only)."""
    return is_subkind(actual.kind, expected.kind)


def flavor_accepts(expected: ArtifactType, actual: ArtifactType) -> bool:
    """An unflavored input accepts any flavor; a flavored one needs the same."""
    return expected.flavor is None or expected.flavor == actual.flavor
