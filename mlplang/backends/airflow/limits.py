"""What Airflow cannot express, or does not use: diagnostics with the IR's spans.

Each check is a small function over the IR; `check_limits` runs them in order.
An error (MLP501 unsupported-on-target) stops the compile; a warning (MLP502
ignored-on-target) says what the Dag will run without.
"""

from __future__ import annotations

import math
import urllib.parse
from collections.abc import Callable, Iterator

from mlplang.backends.airflow.names import TASK_SUFFIXES, monitor_dag_id, monitor_params
from mlplang.backends.airflow.options import AirflowOptions
from mlplang.backends.base import CompileUnit
from mlplang.backends.base import ignored as _ignored
from mlplang.backends.base import unsupported as _unsupported
from mlplang.compiler import ir
from mlplang.diagnostics.model import Diagnostic

MAX_ID = 250
"""Airflow's limit for Dag and task ids."""
MAX_TAG = 100
MAX_ASSET_URI = 1500


def _tasks(pipeline: ir.Pipeline) -> list[ir.Task]:
    return [*pipeline.steps, *pipeline.monitors]


def required_params_on_schedule(unit: CompileUnit, options: AirflowOptions) -> Iterator[Diagnostic]:
    """Airflow refuses a scheduled Dag with a param that has no default: a
    scheduled run has nobody to ask for the value."""
    pipeline = unit.pipeline
    if pipeline.schedule is not None:
        for param in pipeline.params:
            if param.default is None:
                yield _unsupported(
                    f"param `{param.name}` has no default, but `{pipeline.name}` runs on a schedule",
                    param.span, "Airflow refuses a scheduled Dag with a required param",
                    help=f"give `{param.name}` a default, or remove the pipeline's `schedule`",
                )
    for monitor in pipeline.monitors:
        if monitor.schedule is None:
            continue
        for name in monitor_params(monitor):
            param = pipeline.param(name)
            if param is not None and param.default is None:
                yield _unsupported(
                    f"monitor `{monitor.name}` reads param `{name}`, which has no default, on a schedule",
                    monitor.name_span, "its Dag would have a required param and a schedule",
                    help=f"give `{name}` a default",
                    notes=(f"`{name}` is declared at line {param.span.line}",),
                )


def non_finite_defaults(unit: CompileUnit, options: AirflowOptions) -> Iterator[Diagnostic]:
    for param in unit.pipeline.params:
        if isinstance(param.default, float) and not math.isfinite(param.default):
            yield _unsupported(
                f"the default of param `{param.name}` is {param.default}",
                param.span, "Airflow keeps param defaults as JSON, which has no infinity",
                help="use a large finite number",
            )


def id_lengths(unit: CompileUnit, options: AirflowOptions) -> Iterator[Diagnostic]:
    pipeline = unit.pipeline
    longest_suffix = max(len(s) for s in TASK_SUFFIXES)
    if len(pipeline.name) > MAX_ID:
        yield _unsupported(f"the pipeline name is {len(pipeline.name)} characters long", pipeline.name_span,
                           f"Airflow Dag ids have at most {MAX_ID} characters")
    for monitor in pipeline.monitors:
        if len(monitor_dag_id(pipeline, monitor)) > MAX_ID:
            yield _unsupported(f"the monitor's Dag id `{monitor_dag_id(pipeline, monitor)}` is too long",
                               monitor.name_span, f"Airflow Dag ids have at most {MAX_ID} characters")
    for node in (*pipeline.steps, *pipeline.gates, *pipeline.monitors):
        if len(node.name) + longest_suffix > MAX_ID:
            yield _unsupported(f"the name `{node.name[:40]}...` is too long for Airflow task ids",
                               node.name_span, f"task ids have at most {MAX_ID} characters",
                               help=f"use a name of at most {MAX_ID - longest_suffix} characters")


def long_tags(unit: CompileUnit, options: AirflowOptions) -> Iterator[Diagnostic]:
    for tag in unit.pipeline.tags:
        if len(tag) > MAX_TAG:
            yield _unsupported(f"the tag `{tag[:40]}...` has {len(tag)} characters", unit.pipeline.name_span,
                               f"Airflow tags have at most {MAX_TAG} characters")


def source_uris(unit: CompileUnit, options: AirflowOptions) -> Iterator[Diagnostic]:
    """Sources become Airflow Assets (lineage): their uri must be one Airflow accepts."""
    for source in unit.pipeline.sources:
        uri = source.uri
        problem = None
        if not uri.strip():
            problem = "is empty"
        elif len(uri) > MAX_ASSET_URI:
            problem = f"has {len(uri)} characters (Airflow's limit: {MAX_ASSET_URI})"
        elif urllib.parse.urlsplit(uri).scheme.lower() == "airflow":
            problem = "uses the scheme `airflow`, which Airflow reserves"
        if problem:
            yield _unsupported(f"the uri of source `{source.name}` {problem}", source.span,
                               "sources are Airflow Assets, for lineage")


def pods_need_images(unit: CompileUnit, options: AirflowOptions) -> Iterator[Diagnostic]:
    if options.operator != "kubernetes":
        return
    for task in _tasks(unit.pipeline):
        if task.image is None:
            yield _unsupported(f"`{task.name}` has no image", task.name_span,
                               "the kubernetes operator runs each step in its image",
                               help='add `image = "registry/name:tag@sha256:<digest>"`, or use operator = "bash"')


def bash_ignores_containers(unit: CompileUnit, options: AirflowOptions) -> Iterator[Diagnostic]:
    if options.operator != "bash":
        return
    with_image = [t.name for t in _tasks(unit.pipeline) if t.image is not None]
    with_resources = [t.name for t in _tasks(unit.pipeline) if t.resources is not None]
    if not with_image and not with_resources:
        return
    notes = []
    if with_image:
        notes.append("images of: " + ", ".join(with_image))
    if with_resources:
        notes.append("resources of: " + ", ".join(with_resources))
    yield _ignored(
        "the `bash` operator runs every step on the Airflow worker: step images and resources are not used",
        unit.pipeline.name_span, "compiled with operator = \"bash\"",
        help='run steps in their images with `--option operator=kubernetes` (or `operator = "kubernetes"` '
             "in [tool.mlp.airflow])",
        notes=tuple(notes),
    )


def unshared_artifacts(unit: CompileUnit, options: AirflowOptions) -> Iterator[Diagnostic]:
    if options.operator != "kubernetes" or options.artifact_volume_claim is not None:
        return
    steps = {s.name for s in unit.pipeline.steps}
    if any(i.ref.producer in steps for t in _tasks(unit.pipeline) for i in t.inputs):
        yield _ignored(
            "pods do not share a volume: an artifact a step writes does not reach the steps that read it",
            unit.pipeline.name_span, "data edges need a shared artifact root",
            help="set `artifact-volume-claim` to a ReadWriteMany PersistentVolumeClaim mounted at `artifact-root`",
        )


CHECKS: tuple[Callable[[CompileUnit, AirflowOptions], Iterator[Diagnostic]], ...] = (
    required_params_on_schedule,
    non_finite_defaults,
    id_lengths,
    long_tags,
    source_uris,
    pods_need_images,
    bash_ignores_containers,
    unshared_artifacts,
)


def check_limits(unit: CompileUnit, options: AirflowOptions) -> list[Diagnostic]:
    return [d for check in CHECKS for d in check(unit, options)]
