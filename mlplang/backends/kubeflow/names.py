"""Names in the pipeline spec.

Kubeflow names tasks, components and executors the way Kubernetes names
objects: kfp's compiler turns `smoke_test` into the task `smoke-test`, the
component `comp-smoke-test` and the executor `exec-smoke-test`, and the
Argo engine rejects other characters. MLP names are identifiers, so two of
them can meet after that conversion (`a_b`, `a__b`, `A_b`): `Names` hands out
each one once, adding `-2`, `-3`... to later claimants, in a fixed order.
Inputs, outputs and parameters keep their MLP names (identifiers, which the
spec accepts as they are).
"""

from __future__ import annotations

import re

MAX_NAME = 63
"""Kubernetes' limit for a label value, which task names end up in."""


def k8s_name(name: str) -> str:
    """kfp's `sanitize_k8s_name`: lower case, runs of other characters as one `-`."""
    text = _OTHER_CHARACTERS.sub("-", name.lower())
    text = _DASHES.sub("-", text).strip("-")
    return text[:MAX_NAME].rstrip("-") or "task"


_OTHER_CHARACTERS = re.compile(r"[^-0-9a-z]+")
_DASHES = re.compile(r"-+")


class Names:
    """Unique Kubernetes-style names, handed out in call order."""

    def __init__(self, reserved: tuple[str, ...] = ()) -> None:
        self._taken: set[str] = set(reserved)
        self._given: dict[str, str] = {}

    def claim(self, key: str, preferred: str | None = None) -> str:
        """The name for `key` (an MLP name or a helper-task key), allocated
        on first use from `preferred` (default: `key`)."""
        if key in self._given:
            return self._given[key]
        base = k8s_name(preferred if preferred is not None else key)
        name, n = base, 1
        while name in self._taken:
            n += 1
            suffix = f"-{n}"
            name = base[: MAX_NAME - len(suffix)].rstrip("-") + suffix
        self._taken.add(name)
        self._given[key] = name
        return name

    def __getitem__(self, key: str) -> str:
        return self._given[key]

    def __contains__(self, key: str) -> bool:
        return key in self._given


def component_name(task: str) -> str:
    return f"comp-{task}"


def executor_label(task: str) -> str:
    return f"exec-{task}"


def channel(producer: str, output: str) -> str:
    """The name kfp gives a task input that carries another task's output into
    a condition (`pipelinechannel--check-holds`)."""
    return f"pipelinechannel--{producer}-{output}"


def unique(base: str, taken) -> str:
    """`base`, or `base_2`, `base_3`... : the first not in `taken` (for
    input and parameter names, which are identifiers, not Kubernetes names)."""
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}_{n}"
    return name
