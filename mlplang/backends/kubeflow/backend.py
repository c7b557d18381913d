"""Kubeflow Pipelines v2: one pipeline spec (IR YAML) per pipeline, one per monitor.

Mapping (docs/backends/kubeflow.md has the reasoning):
- step -> a task with its own component (typed `inputDefinitions` /
  `outputDefinitions`) and container executor: the step's image running
  `bash -c PRELUDE` with the command and `NAME=VALUE` arguments
  (`transport`); `dependentTasks` from the graph, `cachingOptions`,
  `retryPolicy`, resources and accelerator; `timeout`, secrets and
  `gpu_type` in the Kubernetes platform spec (kfp-kubernetes);
- artifacts -> typed artifact I/O (`taskOutputArtifact`); a source is its
  `uri`, passed as a value; params -> root parameters (`componentInputParameter`),
  template arguments -> runtime constants;
- gate `require` / `when` -> a check task writing the output parameter
  `holds`; each task after it runs under a `triggerPolicy` condition on it,
  spelled as kfp's `dsl.If` spells it; tasks further down are skipped with it
  (Kubeflow starts a task only after its dependencies succeeded);
- gate `approval` -> an error, unless the `approval` option says `waive` or
  `suspend` (a task that waits for a reviewer's ConfigMap);
- monitor -> its own spec: importers for the pipeline's artifacts, the
  monitor task and a check that fails the run on a breach.

The spec is data, dumped with sorted keys like kfp's own; kfp is not imported.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import mlplang
from mlplang.backends.base import Backend, BackendResult, CompileUnit, EmittedFile, header_lines
from mlplang.backends.conditions import check_spec, condition_text, metric_artifacts, params_read, task_params
from mlplang.backends.kubeflow import spec, transport
from mlplang.backends.kubeflow.builder import Importer, SpecBuilder, Task
from mlplang.backends.kubeflow.limits import check_limits
from mlplang.backends.kubeflow.names import Names, channel, k8s_name, unique
from mlplang.backends.kubeflow.options import KubeflowOptions
from mlplang.backends.runtime import program_source
from mlplang.backends.shell import command_text, input_location, input_var, output_var, param_var
from mlplang.backends.yaml_writer import dump_all
from mlplang.compiler import ir
from mlplang.diagnostics.model import has_errors

HOLDS = "holds"
CHECK_RUN = 'python3 -c "$MLP_CHECK_RUNNER"'
APPROVAL_RUN = 'python3 -c "$MLP_APPROVAL_PROGRAM"'
SECRET_PREFIX = "mlp-"


@dataclass
class Export:
    """What a node hands to the tasks after it: the tasks to depend on and
    the conditions (check tasks whose `holds` must be true) to run under."""

    anchors: set[str] = field(default_factory=set)
    conditions: list[str] = field(default_factory=list)


class KubeflowBackend(Backend):
    name = "kubeflow"
    description = "Kubeflow Pipelines v2 pipeline specs"
    options_type = KubeflowOptions

    options: KubeflowOptions

    def compile(self, unit: CompileUnit) -> BackendResult:
        result = BackendResult(diagnostics=check_limits(unit, self.options))
        if has_errors(result.diagnostics):
            return result
        pipeline = unit.pipeline
        result.files.append(EmittedFile(f"{pipeline.name}.yaml",
                                        render(PipelineSpec(unit, self.options).documents(), unit, pipeline.schedule)))
        for monitor in pipeline.monitors:
            documents = PipelineSpec(unit, self.options).monitor_documents(monitor)
            result.files.append(EmittedFile(f"{pipeline.name}-{monitor.name}.yaml",
                                            render(documents, unit, monitor.schedule)))
        return result


class PipelineSpec:
    """Builds the spec of one pipeline (or of one of its monitors)."""

    def __init__(self, unit: CompileUnit, options: KubeflowOptions) -> None:
        self.unit = unit
        self.pipeline = unit.pipeline
        self.options = options
        self.names = Names()
        self.builder = SpecBuilder()
        self.exports: dict[str, Export] = {}

    # ---- the pipeline ---------------------------------------------------------------------

    def documents(self) -> list[dict]:
        pipeline = self.pipeline
        order = [n for n in self.unit.order if self.unit.step(n) or self.unit.gate(n)]
        for name in order:  # MLP names first: helper tasks never push a step's name aside
            step, gate = self.unit.step(name), self.unit.gate(name)
            if step is not None or gate.requires:
                self.names.claim(name)
        for name in order:
            step, gate = self.unit.step(name), self.unit.gate(name)
            if step is not None:
                self.step_task(step)
            else:
                self.gate_tasks(gate)
        parameters = {p.name: parameter_definition(p) for p in pipeline.params}
        return self.builder.documents(self.info(pipeline.name, pipeline.description, self.pipeline_notes()),
                                      parameters, sdk_version(), self.options.pipeline_root)

    def info(self, name: str, description: str | None, notes: list[str]) -> dict:
        text = "\n\n".join(part for part in (description, "\n".join(notes)) if part)
        info = {"displayName": name, "name": k8s_name(name)}
        if text:
            # Escaped like every other text from the file (transport.py): whether Argo or the
            # driver ever read pipelineInfo is not documented, and a `{{` costs one U+FDD0 mark.
            info["description"] = transport.escape(text)
        return info

    def pipeline_notes(self) -> list[str]:
        pipeline = self.pipeline
        notes = []
        if pipeline.owner:
            notes.append(f"owner: {pipeline.owner}")
        if pipeline.risk:
            notes.append(f"risk: {pipeline.risk}")
        if pipeline.tags:
            notes.append("tags: " + ", ".join(pipeline.tags))
        if pipeline.schedule is not None:
            notes.append(schedule_note(pipeline.schedule))
        for monitor in pipeline.monitors:
            notes.append(f"monitor {monitor.name}: a separate pipeline, {pipeline.name}-{monitor.name}.yaml")
        return notes

    def upstream(self, name: str) -> Export:
        """The tasks and conditions a node inherits from its dependencies."""
        result = Export()
        for dependency in self.unit.dependencies(name):
            exported = self.exports.get(dependency)
            if exported is None:
                continue
            result.anchors |= exported.anchors
            result.conditions += [c for c in exported.conditions if c not in result.conditions]
        return result

    def run_under(self, task: Task, inherited: Export) -> None:
        task.dependencies |= inherited.anchors
        for check in inherited.conditions:
            name = channel(check, HOLDS)
            task.parameter_from_task(name, check, HOLDS)
            task.conditions.append(name)

    # ---- steps -------------------------------------------------------------------------------

    def step_task(self, step: ir.Step) -> None:
        task = self.container_task(step, self.names[step.name], lambda ref: (self.names[ref.producer], ref.output))
        task.cache = step.cache
        inherited = self.upstream(step.name)
        if step.when is not None:
            when = self.check_task(self.names.claim(f"{step.name}-when"), f"{step.name}-when", "decide",
                                   [step.when], Export())
            inherited.conditions.append(when)
        self.run_under(task, inherited)
        self.builder.add(task)
        self.exports[step.name] = Export({task.key})

    def container_task(self, source: ir.Task, key: str, producer) -> Task:
        """The task running a step's or a monitor's command in its image;
        `producer(ref)` names the task and output an input artifact comes from."""
        task = Task(key, source.name, source.image.reference,
                    command_text(source.command) if source.command else "true", retries=source.retries)
        for item in source.inputs:
            variable = input_var(item.name)
            if item.ref.output is None:  # a source: the step reads its uri, as on every target
                task.arguments.append(transport.value(variable, input_location(self.pipeline, item.ref)))
            else:
                task.artifact_from(item.name, item.type.kind, *producer(item.ref))
                task.arguments.append(transport.binding(variable, spec.input_path(item.name)))
        for output in source.outputs:
            task.output_artifacts[output.name] = output.type.kind
            task.arguments.append(transport.binding(output_var(output.name), spec.output_path(output.name)))
        for parameter in source.parameters:
            placeholder = spec.input_parameter(parameter.name)
            value = parameter.value
            if isinstance(value, ir.ParamRef):
                declared = self.unit.param(value.name)
                task.parameter_from_pipeline(parameter.name, spec.PARAM_TYPES[declared.type], value.name)
                task.arguments.append(transport.binding(param_var(parameter.name), placeholder))
            else:
                constant = transport.escape(value.value) if isinstance(value.value, str) else value.value
                task.parameter_constant(parameter.name, spec.param_type(value.value), constant)
                task.arguments.append(transport.binding(param_var(parameter.name), placeholder))
        secrets = []
        for variable in source.env:
            value = variable.value
            if isinstance(value, ir.SecretRef):
                secrets.append({"envVar": variable.name, "secretKey": value.name})
            elif isinstance(value, ir.ParamRef):
                name = self.env_parameter(task, value.name)
                task.arguments.append(transport.binding(variable.name, spec.input_parameter(name)))
            else:
                task.arguments.append(transport.value(variable.name, scalar_text(value.value)))
        if secrets:
            secret = secret_name(self.pipeline)
            task.kubernetes["secretAsEnv"] = [{
                "keyToEnv": secrets, "optional": False, "secretName": secret,
                "secretNameParameter": {"runtimeValue": {"constant": secret}},
            }]
        if source.timeout:
            task.kubernetes["activeDeadlineSeconds"] = str(source.timeout)
        if source.resources is not None:
            task.resources = spec.resources(source.resources, self.options.gpu_resource)
            if source.resources.gpu_type:
                task.kubernetes["nodeSelector"] = {"labels": {self.options.gpu_node_label: source.resources.gpu_type}}
        return task

    def env_parameter(self, task: Task, param: str) -> str:
        """The task's input parameter carrying pipeline param `param` (shared
        with a step parameter bound to it; renamed if its name is taken)."""
        for name, (_, bound) in task.input_parameters.items():
            if bound.get("componentInputParameter") == param:
                return name
        name = unique(param, task.input_parameters)
        task.parameter_from_pipeline(name, spec.PARAM_TYPES[self.unit.param(param).type], param)
        return name

    # ---- gates and conditions --------------------------------------------------------------------

    def gate_tasks(self, gate: ir.Gate) -> None:
        exported = self.upstream(gate.name)
        if gate.requires:
            check = self.check_task(self.names[gate.name], gate.name, "decide",
                                    [r.condition for r in gate.requires], exported)
            exported = Export({check}, [check])
        if gate.approval is not None and self.options.approval == "suspend":
            approval = self.approval_task(gate, exported)
            exported = Export({approval})
        self.exports[gate.name] = exported

    def check_task(self, key: str, display: str, mode: str, conditions: list[ir.Condition],
                   inherited: Export, producer=None, cache: bool = True) -> str:
        """A task evaluating conditions with the shipped checker. "decide":
        writes `holds` (true/false) for `triggerPolicy` conditions; "require":
        fails when a condition does not hold."""
        producer = producer or (lambda step, output: (self.names[step], output))
        task = Task(key, display, self.options.checker_image, CHECK_RUN, cache=cache)
        variables = {}
        for artifact in metric_artifacts(conditions):
            step, output = artifact.split(".", 1)
            name = unique(f"{step}_{output}", task.input_artifacts)
            task.artifact_from(name, "Metrics", *producer(step, output))
            variables[artifact] = input_var(name)
            task.arguments.append(transport.binding(input_var(name), spec.input_path(name)))
        for param in params_read(conditions):
            task.parameter_from_pipeline(param, spec.PARAM_TYPES[self.unit.param(param).type], param)
            task.arguments.append(transport.binding(param_var(param), spec.input_parameter(param)))
        document = check_spec(mode, conditions, [condition_text(c) for c in conditions], variables, self.pipeline)
        task.arguments += [
            transport.value("MLP_CHECK", document),
            transport.value("MLP_CHECK_RUNNER", program_source("kubeflow_check")),
            transport.value("MLP_CHECK_PROGRAM", program_source("check_conditions")),
        ]
        if mode == "decide":
            task.output_parameters[HOLDS] = spec.PARAM_TYPES["str"]
            task.arguments.append(transport.binding(output_var(HOLDS), spec.output_parameter_file(HOLDS)))
        self.run_under(task, inherited)
        self.builder.add(task)
        return key

    def approval_task(self, gate: ir.Gate, inherited: Export) -> str:
        """`approval = "suspend"`: a task that waits until a reviewer answers
        (never cached: a cached approval would skip the reviewer)."""
        key = self.names.claim(f"{gate.name}-approval")
        task = Task(key, f"{gate.name}-approval", self.options.checker_image, APPROVAL_RUN, cache=False)
        approval = gate.approval
        document = {
            "gate": gate.name, "key": key, "pipeline": self.pipeline.name,
            "reviewers": list(approval.reviewers), "timeout": approval.timeout,
            "description": approval.description or gate.description,
        }
        task.parameter_constant("run_id", spec.PARAM_TYPES["str"], spec.RUN_ID)
        task.arguments += [
            transport.binding("MLP_RUN_ID", spec.input_parameter("run_id")),
            transport.value("MLP_APPROVAL", json.dumps(document, ensure_ascii=False, separators=(",", ":"))),
            transport.value("MLP_APPROVAL_PROGRAM", program_source("wait_for_approval")),
        ]
        self.run_under(task, inherited)
        self.builder.add(task)
        return key

    # ---- monitors ------------------------------------------------------------------------------------

    def monitor_documents(self, monitor: ir.Monitor) -> list[dict]:
        """The monitor's own pipeline: an importer per artifact of a pipeline
        run it reads (its URI a parameter of the run), the monitor task, and a
        check that fails the run when a `require` does not hold."""
        pipeline = self.pipeline
        key = self.names.claim(monitor.name)
        parameters = {name: parameter_definition(pipeline.param(name)) for name in monitor_params(monitor)}
        imported: dict[str, str] = {}
        for item in monitor.inputs:
            if item.ref.output is None:
                continue
            uri = unique(f"{item.name}_uri", parameters)
            parameters[uri] = {"description": f"URI of {item.ref.artifact_id} from a run of {pipeline.name}",
                               "parameterType": spec.PARAM_TYPES["str"]}
            importer = Importer(self.names.claim(f"import-{item.name}"), f"import {item.ref.artifact_id}",
                                item.type.kind, uri)
            self.builder.add_importer(importer)
            imported[item.name] = importer.key
        producers = {i.ref.artifact_id: imported[i.name] for i in monitor.inputs if i.name in imported}
        task = self.container_task(monitor, key, lambda ref: (producers[ref.artifact_id], "artifact"))
        task.cache = False  # a monitor measures anew on every run, whatever its inputs
        self.builder.add(task)
        conditions = [r.condition for r in monitor.requires]
        if conditions:
            self.check_task(self.names.claim(f"{monitor.name}-check"), f"{monitor.name}-check", "require",
                            conditions, Export({key}), producer=lambda step, output: (key, output), cache=False)
        name = f"{pipeline.name}-{monitor.name}"
        notes = [f"monitor of pipeline {pipeline.name}" + (f", watching {monitor.watch.artifact_id}"
                                                           if monitor.watch else "")]
        if monitor.schedule is not None:
            notes.append(schedule_note(monitor.schedule))
        if monitor.on_breach == "retrain" and conditions:
            notes.append(f"on breach: retrain {pipeline.name} - the run fails; start {pipeline.name} from an "
                         "alert on failed runs (Kubeflow cannot start a pipeline from a run)")
        elif monitor.on_breach == "alert" and conditions:
            notes.append("on breach: alert - the run fails")
        for uri in (p for p in parameters if p not in monitor_params(monitor)):
            notes.append(f"set {uri} when creating the run: {parameters[uri]['description']}")
        return self.builder.documents(self.info(name, monitor.description, notes), parameters, sdk_version(),
                                      self.options.pipeline_root)


# ---- values ------------------------------------------------------------------------------------------


def parameter_definition(param: ir.Param) -> dict:
    definition: dict = {"parameterType": spec.PARAM_TYPES[param.type]}
    if param.default is not None:
        # a default is text from the `.mlp` file like any other: escaped
        default = param.default
        definition["defaultValue"] = transport.escape(default) if isinstance(default, str) else default
        definition["isOptional"] = True
    return definition


def monitor_params(monitor: ir.Monitor) -> list[str]:
    """The pipeline params a monitor reads, in first-use order."""
    return task_params(monitor)


def scalar_text(value: ir.Scalar) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def secret_name(pipeline: ir.Pipeline) -> str:
    """The Kubernetes Secret holding a pipeline's secrets, one key per secret
    (the same Secret the Airflow target reads)."""
    return SECRET_PREFIX + k8s_name(pipeline.name)


def schedule_note(cron: ir.Cron) -> str:
    return (f'schedule: cron "{cron.expression}" - create a recurring run with the cron expression '
            f'"0 {cron.expression}" (Kubeflow\'s cron has a leading seconds field)')


def sdk_version() -> str:
    return f"mlp-{mlplang.__version__}"


def render(documents: list[dict], unit: CompileUnit, schedule: ir.Cron | None) -> str:
    lines = header_lines(unit.source_path)
    if schedule is not None:
        lines.append(f'recurring run: cron "0 {schedule.expression}"')
    header = [transport.comment_line(line) for line in lines]
    # keys in sorted order at every level, as kfp writes its specs
    return dump_all(documents, header, sort_keys=True)
