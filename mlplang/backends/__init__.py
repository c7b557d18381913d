"""Compilation targets. Each backend is one module that reads only the IR;
it is registered here by name and imported lazily, when a compile asks for it.
The GitHub Actions, Airflow and Kubeflow backends arrive in their own issues."""

from __future__ import annotations

# target name -> "package.module" that defines the backend
BACKENDS: dict[str, str] = {}


def available() -> list[str]:
    return sorted(BACKENDS)
