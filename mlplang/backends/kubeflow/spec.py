"""Values of the pipeline spec: types, placeholders, resource quantities.

Small tested helpers, so the builder never spells a placeholder or a unit
conversion twice."""

from __future__ import annotations

import re

from mlplang.backends.kubernetes import cpu_quantity, memory_quantity
from mlplang.compiler import ir
from mlplang.compiler.images import InvalidImage, parse_image

SCHEMA_VERSION = "2.1.0"
ARTIFACT_SCHEMA_VERSION = "0.0.1"
ARTIFACT_TYPES = {
    "Artifact": "system.Artifact",
    "Dataset": "system.Dataset",
    "Features": "system.Dataset",
    "Model": "system.Model",
    "Metrics": "system.Metrics",
    "Prompt": "system.Artifact",
    "Index": "system.Artifact",
    "Endpoint": "system.Artifact",
}
PARAM_TYPES = {"int": "NUMBER_INTEGER", "float": "NUMBER_DOUBLE", "str": "STRING", "bool": "BOOLEAN"}
MAX_EXACT_INT = 2**53
"""Kubeflow keeps numbers as protobuf doubles: larger integers lose digits."""

_DIGEST = re.compile(r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+")
_LABEL_VALUE = re.compile(r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?")


def artifact_type(kind: str) -> dict:
    return {"schemaTitle": ARTIFACT_TYPES[kind], "schemaVersion": ARTIFACT_SCHEMA_VERSION}


def param_type(value: ir.Scalar) -> str:
    """The parameter type of a literal (bool before int: `True` is an int)."""
    if isinstance(value, bool):
        return PARAM_TYPES["bool"]
    if isinstance(value, int):
        return PARAM_TYPES["int"]
    if isinstance(value, float):
        return PARAM_TYPES["float"]
    return PARAM_TYPES["str"]


# ---- placeholders the Kubeflow launcher substitutes --------------------------------


def input_path(name: str) -> str:
    return f"{{{{$.inputs.artifacts['{name}'].path}}}}"


def output_path(name: str) -> str:
    return f"{{{{$.outputs.artifacts['{name}'].path}}}}"


def input_parameter(name: str) -> str:
    return f"{{{{$.inputs.parameters['{name}']}}}}"


def output_parameter_file(name: str) -> str:
    return f"{{{{$.outputs.parameters['{name}'].output_file}}}}"


RUN_ID = "{{$.pipeline_job_uuid}}"
"""A runtime constant the Kubeflow driver replaces with the run's id."""

PLACEHOLDER = re.compile(
    r"\{\{\$\.(?:inputs\.artifacts\['[A-Za-z_][A-Za-z0-9_]*'\]\.path"
    r"|outputs\.artifacts\['[A-Za-z_][A-Za-z0-9_]*'\]\.path"
    r"|inputs\.parameters\['[A-Za-z0-9_-]+'\]"
    r"|outputs\.parameters\['[A-Za-z_][A-Za-z0-9_]*'\]\.output_file"
    r"|pipeline_job_uuid)\}\}"
)
"""Every `{{...}}` mlp writes into a spec: anything else would be user text
that Kubeflow or Argo could evaluate (the tests scan for it)."""


# ---- resources --------------------------------------------------------------------------


def resources(spec: ir.Resources, gpu_resource: str) -> dict | None:
    """The executor's resources as kfp writes them: the numeric fields
    (`cpuLimit` in cores, `memoryLimit` in GB) for older backends and the
    quantity strings (`resourceCpuLimit`, `resourceMemoryLimit`) newer ones
    read. Requests equal limits (the Guaranteed QoS class): a step gets what it
    declares and is not evicted first under node pressure."""
    result: dict = {}
    if spec.gpu:
        count = str(spec.gpu)
        # `type`/`count` are the deprecated spellings kfp still writes for old backends
        result["accelerator"] = {"count": count, "resourceCount": count,
                                 "resourceType": gpu_resource, "type": gpu_resource}
    if spec.cpu is not None:
        cores = cpu_quantity(spec.cpu)
        value = _cores(cores)
        result.update(cpuLimit=value, cpuRequest=value, resourceCpuLimit=cores, resourceCpuRequest=cores)
    if spec.memory is not None:
        gigabytes = spec.memory / 10**9
        quantity = memory_quantity(spec.memory)
        result.update(memoryLimit=gigabytes, memoryRequest=gigabytes,
                      resourceMemoryLimit=quantity, resourceMemoryRequest=quantity)
    return result or None


def _cores(quantity: str) -> float:
    return int(quantity[:-1]) / 1000 if quantity.endswith("m") else float(quantity)


# ---- what the spec cannot carry --------------------------------------------------------


def image_problem(reference: str) -> str | None:
    """Why a string cannot be an executor's image (the Kubeflow driver reads
    `$.inputs.parameters[...]` anywhere in it as a parameter), or None."""
    parsed = parse_image(reference)
    if isinstance(parsed, InvalidImage):
        return parsed.reason
    if parsed.digest is not None and not _DIGEST.fullmatch(parsed.digest):
        return f"`{parsed.digest}` is not a digest (`algorithm:hex`)"
    return None


def label_value_problem(value: str) -> str | None:
    if len(value) > 63:
        return "it is longer than 63 characters"
    if not _LABEL_VALUE.fullmatch(value):
        return "it has characters other than letters, digits, `-`, `_` and `.` (or does not start and end with one)"
    return None
