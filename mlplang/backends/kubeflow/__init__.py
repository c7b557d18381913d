"""Kubeflow Pipelines v2: a pipeline spec (IR YAML) per pipeline and per monitor.

See `backend.py` for the mapping and docs/backends/kubeflow.md for the reasoning."""

from mlplang.backends.kubeflow.backend import KubeflowBackend
from mlplang.backends.kubeflow.options import KubeflowOptions

__all__ = ["KubeflowBackend", "KubeflowOptions"]
