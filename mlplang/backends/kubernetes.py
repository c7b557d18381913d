"""Kubernetes vocabulary shared by the backends that run pods (Airflow's
kubernetes operator, Kubeflow): resource quantities and name validation."""

from __future__ import annotations

import functools
import re

GPU_RESOURCE = "nvidia.com/gpu"
BINARY_UNITS = (("Ei", 2**60), ("Pi", 2**50), ("Ti", 2**40), ("Gi", 2**30), ("Mi", 2**20), ("Ki", 2**10))
DECIMAL_UNITS = (("E", 10**18), ("P", 10**15), ("T", 10**12), ("G", 10**9), ("M", 10**6), ("k", 10**3))
LABEL_KEY = re.compile(r"([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
                       r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?")
"""A label key (and, with the same syntax, an extended resource name)."""


# Steps mostly ask for a few sizes: each is spelled once.

@functools.lru_cache(maxsize=1024)
def cpu_quantity(cpu: float) -> str:
    """Cores as a Kubernetes quantity: `8`, `500m`."""
    millis = max(1, round(cpu * 1000))
    return str(millis // 1000) if millis % 1000 == 0 else f"{millis}m"


@functools.lru_cache(maxsize=1024)
def memory_quantity(size: int) -> str:
    """Bytes as a Kubernetes quantity in the exact unit giving the smallest
    number: `32Gi`, `4G` (not `3906250Ki`, though 4G is a multiple of 1024)."""
    candidates = [(size // factor, suffix) for suffix, factor in (*BINARY_UNITS, *DECIMAL_UNITS)
                  if size >= factor and size % factor == 0]
    if not candidates:
        return str(size)
    number, suffix = min(candidates, key=lambda c: c[0])
    return f"{number}{suffix}"


def is_label_key(value: str) -> bool:
    return bool(LABEL_KEY.fullmatch(value)) and len(value.rpartition("/")[2]) <= 63
