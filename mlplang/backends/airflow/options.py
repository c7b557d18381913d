"""Options of the Airflow target: `[tool.mlp.airflow]` or `mlp compile --option KEY=VALUE`."""

from __future__ import annotations

import posixpath
import re
from typing import Literal

from pydantic import Field, field_validator

from mlplang.backends.base import BackendOptions
from mlplang.backends.kubernetes import is_label_key

_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")


class AirflowOptions(BackendOptions):
    operator: Literal["bash", "kubernetes"] = "bash"
    """`bash`: each step's `run` runs in bash on the Airflow worker (images and
    resources are not used); `kubernetes`: each step runs in its image in a pod."""
    artifact_root: str = Field("/tmp/mlp-artifacts", alias="artifact-root")
    """Absolute folder holding every run's artifacts, `<root>/<dag id>/<run id>/`.
    With `kubernetes`, a volume the pods and the workers share at this path."""
    namespace: str = "default"
    """Kubernetes namespace of the step pods (and of the pipeline's Secret)."""
    artifact_volume_claim: str | None = Field(None, alias="artifact-volume-claim")
    """A PersistentVolumeClaim mounted at `artifact-root` in every pod."""
    gpu_node_label: str = Field("cloud.google.com/gke-accelerator", alias="gpu-node-label")
    """The node label a step's `gpu_type` selects (a pod node selector)."""
    working_directory: str | None = Field(None, alias="working-directory")
    """Where `bash` steps run (e.g. a checkout of the repository); default: a
    new temporary folder for each task."""
    assign_reviewers: bool = Field(True, alias="assign-reviewers")
    """Approvals are assigned to the gate's reviewers, as Airflow user ids:
    only they may answer. False: reviewers are only named in the request."""

    @field_validator("artifact_root", "working_directory")
    @classmethod
    def _absolute(cls, value: str | None) -> str | None:
        if value is None:
            return value
        if not value.startswith("/") or posixpath.normpath(value) != value or "\x00" in value:
            raise ValueError(f"must be a normalized absolute path, not {value!r}")
        return value

    @field_validator("namespace")
    @classmethod
    def _namespace(cls, value: str) -> str:
        if not _DNS_LABEL.fullmatch(value) or len(value) > 63:
            raise ValueError(f"{value!r} is not a Kubernetes namespace name")
        return value

    @field_validator("artifact_volume_claim")
    @classmethod
    def _claim(cls, value: str | None) -> str | None:
        if value is not None and (not _DNS_SUBDOMAIN.fullmatch(value) or len(value) > 253):
            raise ValueError(f"{value!r} is not a Kubernetes object name")
        return value

    @field_validator("gpu_node_label")
    @classmethod
    def _label(cls, value: str) -> str:
        if not is_label_key(value):
            raise ValueError(f"{value!r} is not a Kubernetes label key")
        return value
