"""Options of the Kubeflow target: `[tool.mlp.kubeflow]` or `mlp compile --option KEY=VALUE`."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator

from mlplang.backends.base import BackendOptions
from mlplang.backends.kubernetes import is_label_key
from mlplang.backends.kubeflow.spec import image_problem

CHECKER_IMAGE = "python:3.12-slim@sha256:cb4ce0eca1043b8d528dc75e658ef840ebfdc3fa73db28d5172fdbaa2969de8d"
"""The image of the tasks mlp adds (condition checks, approvals): they need
only `bash` and `python3`. The same pinned image as `std/data`."""

_RESOURCE_NAME = re.compile(r"([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
                            r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?")
_PIPELINE_ROOT = re.compile(r"[a-z][a-z0-9+.-]*://[^\s{}]+")


class KubeflowOptions(BackendOptions):
    approval: Literal["waive", "suspend"] | None = None
    """Kubeflow Pipelines has no approval step. Unset: a gate's `approval` is
    an error. `waive`: the approval is dropped (a warning says so at each
    gate). `suspend`: the run waits in a `<gate>-approval` task until a
    reviewer creates the approval ConfigMap (docs/backends/kubeflow.md)."""
    checker_image: str = Field(CHECKER_IMAGE, alias="checker-image")
    """Image of the condition-check and approval tasks (needs bash and python3)."""
    gpu_resource: str = Field("nvidia.com/gpu", alias="gpu-resource")
    """The accelerator resource a step's `gpu` count asks for."""
    gpu_node_label: str = Field("cloud.google.com/gke-accelerator", alias="gpu-node-label")
    """The node label a step's `gpu_type` selects (a node selector)."""
    pipeline_root: str | None = Field(None, alias="pipeline-root")
    """`defaultPipelineRoot`: where runs store artifacts (`s3://bucket/path`);
    unset: the Kubeflow installation's default."""

    @field_validator("checker_image")
    @classmethod
    def _image(cls, value: str) -> str:
        problem = image_problem(value)
        if problem is not None:
            raise ValueError(f"{value!r} is not an image reference: {problem}")
        return value

    @field_validator("gpu_node_label")
    @classmethod
    def _label(cls, value: str) -> str:
        if not is_label_key(value):
            raise ValueError(f"{value!r} is not a Kubernetes label key")
        return value

    @field_validator("gpu_resource")
    @classmethod
    def _resource(cls, value: str) -> str:
        if not _RESOURCE_NAME.fullmatch(value):
            raise ValueError(f"{value!r} is not a Kubernetes resource name")
        return value

    @field_validator("pipeline_root")
    @classmethod
    def _root(cls, value: str | None) -> str | None:
        if value is not None and not _PIPELINE_ROOT.fullmatch(value):
            raise ValueError(f"{value!r} is not a URI such as s3://bucket/path (no spaces or braces)")
        return value
