"""Kubernetes values for steps run by the KubernetesPodOperator."""

from __future__ import annotations

import re

from mlplang.backends.airflow.pysource import Call, call
from mlplang.backends.kubernetes import GPU_RESOURCE, cpu_quantity, memory_quantity  # noqa: F401 - re-exported
from mlplang.compiler import ir

def resources(spec: ir.Resources) -> Call | None:
    """Requests equal to limits (the Guaranteed QoS class): a step gets what it
    declares, no more, and is not evicted first under node pressure."""
    amounts: dict[str, str] = {}
    if spec.cpu is not None:
        amounts["cpu"] = cpu_quantity(spec.cpu)
    if spec.memory is not None:
        amounts["memory"] = memory_quantity(spec.memory)
    limits = dict(amounts)
    if spec.gpu:
        limits[GPU_RESOURCE] = str(spec.gpu)
    if not limits:
        return None
    return call("k8s.V1ResourceRequirements", requests=amounts or None, limits=limits)


def secret_name(pipeline: str) -> str:
    """The Kubernetes Secret holding a pipeline's secrets, one key per secret."""
    name = re.sub(r"-+", "-", pipeline.lower().replace("_", "-")).strip("-")
    return f"mlp-{name}" if name else "mlp"


def secret(env_name: str, pipeline: str, key: str) -> Call:
    return call("Secret", "env", env_name, secret_name(pipeline), key)
