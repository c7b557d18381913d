"""Kubernetes values for steps run by the KubernetesPodOperator."""

from __future__ import annotations

import re

from mlplang.backends.airflow.pysource import Call, call
from mlplang.compiler import ir

GPU_RESOURCE = "nvidia.com/gpu"
_BINARY = (("Ei", 2**60), ("Pi", 2**50), ("Ti", 2**40), ("Gi", 2**30), ("Mi", 2**20), ("Ki", 2**10))
_DECIMAL = (("E", 10**18), ("P", 10**15), ("T", 10**12), ("G", 10**9), ("M", 10**6), ("k", 10**3))


def cpu_quantity(cpu: float) -> str:
    """Cores as a Kubernetes quantity: `8`, `500m`."""
    millis = max(1, round(cpu * 1000))
    return str(millis // 1000) if millis % 1000 == 0 else f"{millis}m"


def memory_quantity(size: int) -> str:
    """Bytes as a Kubernetes quantity, with the largest exact unit: `32Gi`, `4G`."""
    for units in (_BINARY, _DECIMAL):
        for suffix, factor in units:
            if size >= factor and size % factor == 0:
                return f"{size // factor}{suffix}"
    return str(size)


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
