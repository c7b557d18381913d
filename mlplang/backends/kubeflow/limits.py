"""What Kubeflow Pipelines cannot express, or does not use: diagnostics with
the IR's spans. Each check is a small function over the IR; `check_limits`
runs them in order. An error (MLP501 unsupported-on-target) stops the
compile; a warning (MLP502 ignored-on-target) says what the spec runs without.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

from mlplang.backends.base import CompileUnit
from mlplang.backends.base import ignored as _ignored
from mlplang.backends.base import unsupported as _unsupported
from mlplang.backends.kubeflow.options import KubeflowOptions
from mlplang.backends.kubeflow.spec import MAX_EXACT_INT, image_problem, label_value_problem
from mlplang.compiler import ir
from mlplang.diagnostics.model import Diagnostic

DOC = "docs/backends/kubeflow.md"


def approvals(unit: CompileUnit, options: KubeflowOptions) -> Iterator[Diagnostic]:
    """Kubeflow has no approval step: never drop one without being told to."""
    for gate in unit.pipeline.gates:
        approval = gate.approval
        if approval is None or options.approval == "suspend":
            continue
        if options.approval == "waive":
            yield _ignored(
                f"the approval of gate `{gate.name}` is dropped: `approval = \"waive\"` is set for Kubeflow",
                approval.span, "nobody approves this gate on Kubeflow",
                help="use `approval = \"suspend\"` to make the run wait for a reviewer",
            )
        else:
            yield _unsupported(
                f"gate `{gate.name}` asks for a human approval, which Kubeflow Pipelines has no step for",
                approval.span, "no native approval on Kubeflow",
                help="choose in [tool.mlp.kubeflow] or with `--option approval=...`: `\"suspend\"` (the run "
                     "waits until a reviewer creates an approval ConfigMap) or `\"waive\"` (drop it, "
                     "with a warning)",
                notes=(f"see {DOC}#approvals",),
            )


def param_defaults(unit: CompileUnit, options: KubeflowOptions) -> Iterator[Diagnostic]:
    """Kubeflow keeps defaults as protobuf values: numbers are doubles."""
    for param in unit.pipeline.params:
        default = param.default
        if isinstance(default, int) and not isinstance(default, bool) and abs(default) > MAX_EXACT_INT:
            yield _unsupported(
                f"the default of param `{param.name}` is too large for Kubeflow", param.span,
                "Kubeflow keeps numbers as doubles: this integer would lose digits",
                help=f"use an integer of at most {MAX_EXACT_INT}, or a `str` param",
            )
        elif isinstance(default, float) and not math.isfinite(default):
            yield _unsupported(
                f"the default of param `{param.name}` is {default}", param.span,
                "a pipeline spec keeps defaults as JSON numbers, which have no infinity",
                help="use a large finite number",
            )


def constants(unit: CompileUnit, options: KubeflowOptions) -> Iterator[Diagnostic]:
    """Template arguments become runtime constants: the same number limits."""
    for task in _tasks(unit.pipeline):
        for parameter in task.parameters:
            value = parameter.value
            if not isinstance(value, ir.LiteralValue) or isinstance(value.value, (bool, str)):
                continue
            if isinstance(value.value, int) and abs(value.value) > MAX_EXACT_INT:
                yield _unsupported(f"`{parameter.name}` = {value.value} is too large for Kubeflow", value.span,
                                   "Kubeflow keeps numbers as doubles: this integer would lose digits",
                                   help="pass it as a string")
            elif isinstance(value.value, float) and not math.isfinite(value.value):
                yield _unsupported(f"`{parameter.name}` is {value.value}", value.span,
                                   "a pipeline spec keeps constants as JSON numbers, which have no infinity")


def images(unit: CompileUnit, options: KubeflowOptions) -> Iterator[Diagnostic]:
    """Every Kubeflow task runs in a container image, which the driver reads
    as a possible parameter reference: only well-formed references pass."""
    for task in _tasks(unit.pipeline):
        if task.image is None:
            yield _unsupported(f"`{task.name}` has no `image`", task.name_span,
                               "every Kubeflow task runs in a container image",
                               help='add `image = "registry/name:tag@sha256:..."`')
            continue
        problem = image_problem(task.image.reference)
        if problem is not None:
            yield _unsupported(f"the image of `{task.name}` is not a valid reference: {problem}",
                               task.image.span, "Kubeflow cannot pull this")


def gpu_types(unit: CompileUnit, options: KubeflowOptions) -> Iterator[Diagnostic]:
    for task in _tasks(unit.pipeline):
        resources = task.resources
        if resources is None or resources.gpu_type is None:
            continue
        problem = label_value_problem(resources.gpu_type)
        if problem is not None:
            yield _unsupported(
                f"`gpu_type` of `{task.name}` cannot be a node label value: {problem}", resources.span,
                f"it selects nodes by the label `{options.gpu_node_label}`",
                help="use the accelerator's label value, e.g. `nvidia-tesla-a100`",
            )
        if not resources.gpu:
            yield _ignored(f"`gpu_type` of `{task.name}` is set without a `gpu` count", resources.span,
                           "the step is placed on a GPU node but gets no GPU",
                           help="add `gpu = 1` (or more) to `resources`")


def retrain(unit: CompileUnit, options: KubeflowOptions) -> Iterator[Diagnostic]:
    """A Kubeflow run cannot start another pipeline from its spec."""
    for monitor in unit.pipeline.monitors:
        if monitor.on_breach == "retrain" and monitor.requires:
            yield _ignored(
                f"monitor `{monitor.name}` cannot start `{unit.pipeline.name}` on Kubeflow: "
                "its run fails on a breach instead",
                monitor.name_span, "`on_breach = retrain` has no Kubeflow equivalent",
                help="start the pipeline from an alert on the monitor's failed runs",
                notes=(f"see {DOC}#schedules-and-monitors",),
            )


CHECKS: tuple[Callable[[CompileUnit, KubeflowOptions], Iterator[Diagnostic]], ...] = (
    approvals, param_defaults, constants, images, gpu_types, retrain,
)


def check_limits(unit: CompileUnit, options: KubeflowOptions) -> list[Diagnostic]:
    return [d for check in CHECKS for d in check(unit, options)]


def _tasks(pipeline: ir.Pipeline) -> list[ir.Task]:
    return [*pipeline.steps, *pipeline.monitors]
