"""Compilation targets. Each backend is one module that reads only the IR;
it is registered here by name and imported lazily, when a compile asks for it."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the registry is read at CLI start-up: keep it free of heavy imports
    from mlplang.backends.base import Backend

# target name -> "module:class" of the backend
BACKENDS: dict[str, str] = {
    "github": "mlplang.backends.github:GitHubBackend",
    "airflow": "mlplang.backends.airflow:AirflowBackend",
    "kubeflow": "mlplang.backends.kubeflow:KubeflowBackend",
}


def available() -> list[str]:
    return sorted(BACKENDS)


def backend_class(name: str) -> type[Backend]:
    module, _, attribute = BACKENDS[name].partition(":")
    return getattr(import_module(module), attribute)
