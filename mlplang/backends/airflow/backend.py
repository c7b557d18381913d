"""Apache Airflow 3: one Dag file per pipeline, one per monitor.

Mapping (docs/backends/airflow.md has the reasoning):
- step -> task: `MlpBashTask` (a BashOperator running `run` on the worker) or
  `MlpPodTask` (a KubernetesPodOperator running it in the step's image);
  `retries`, `execution_timeout`, pod resources and Kubernetes secrets;
- artifacts -> paths under the run's folder, ARTIFACT_ROOT/<dag id>/<run id>/,
  passed as MLP_IN_X / MLP_OUT_X; data and `after` edges -> `>>`;
  sources and outputs -> `inlets` / `outlets` Assets (lineage);
- params -> Dag `params` (`Param`), read at run time from the run's params;
- `when` -> an `MlpWhen` short-circuit task before the step;
- gate -> an `MlpCheck` task failing when a `require` fails, then an
  `MlpApproval` (Airflow's ApprovalOperator) for `approval`;
- the last task, `record-latest`, links the run folder as `latest`;
- monitor -> a Dag on the monitor's schedule reading the pipeline's latest
  run, whose breach triggers the pipeline's Dag (`on_breach = retrain`).

Nothing from the `.mlp` file becomes code or a Jinja template: values are
Python literals (`pysource`), the operators have no template fields.
"""

from __future__ import annotations

import json
import urllib.parse
from dataclasses import dataclass, field

from mlplang.backends.airflow import kubernetes
from mlplang.backends.airflow.checker import checker_code, checker_imports
from mlplang.backends.airflow.limits import check_limits
from mlplang.backends.airflow.names import (
    APPROVAL, CHECK, LATEST_TASK, LATEST_VARIABLE, RETRAIN, WHEN, monitor_dag_id, monitor_params,
)
from mlplang.backends.airflow.options import AirflowOptions
from mlplang.backends.airflow.pysource import Call, Name, call, comment, render, string
from mlplang.backends.airflow.render import DagFile, render_dag_file
from mlplang.backends.base import Backend, BackendResult, CompileUnit, EmittedFile, header_lines
from mlplang.backends.conditions import check_spec, condition_text, metric_artifacts
from mlplang.backends.shell import command_text, input_var, output_var, param_var
from mlplang.compiler import ir
from mlplang.diagnostics.model import Diagnostic, has_errors

START_DATE = (2024, 1, 1)
"""Fixed, so the output is deterministic; with `catchup=False` a new Dag
starts from its next scheduled time whatever this date is."""
PARAM_TYPES = {"int": "integer", "float": "number", "str": "string", "bool": "boolean"}
PIPELINE_LINK = "pipeline"
"""In a monitor's run folder, the link to the pipeline run it reads."""


@dataclass
class Task:
    variable: str
    task_id: str
    call: Call


@dataclass
class DagBuilder:
    """The tasks, edges and runtime support of one Dag file being built."""

    dag_id: str
    pipeline_dag_id: str | None = None
    """In a monitor's Dag: the pipeline's Dag, whose latest run it reads."""
    monitor: str | None = None
    """In a monitor's Dag: the monitor, the one task whose outputs are local."""
    tasks: list[Task] = field(default_factory=list)
    edges: list[tuple[str, str]] = field(default_factory=list)
    needs: set[str] = field(default_factory=set)
    _edge_set: set[tuple[str, str]] = field(default_factory=set)
    """The edges again, for a constant-time duplicate test."""
    assets: dict[tuple[str, str, str], Call] = field(default_factory=dict)
    """Each output's Asset, by Dag id, producer and output: built once for
    its producer's `outlets` and the `inlets` of every task reading it."""

    def add(self, variable: str, task_id: str, operator: str, **kwargs) -> str:
        self.tasks.append(Task(variable, task_id, call(operator, task_id=task_id, **kwargs)))
        return variable

    def edge(self, upstream: str, downstream: str) -> None:
        if (upstream, downstream) not in self._edge_set:
            self._edge_set.add((upstream, downstream))
            self.edges.append((upstream, downstream))

    def sorted_edges(self) -> list[tuple[str, str]]:
        """By downstream task, then upstream task, in the order tasks were added
        (a topological order): each task's dependencies read together."""
        index = {t.variable: i for i, t in enumerate(self.tasks)}
        return sorted(self.edges, key=lambda e: (index[e[1]], index[e[0]]))

    def leaves(self) -> list[str]:
        upstream = {u for u, _ in self.edges}
        return [t.variable for t in self.tasks if t.variable not in upstream]


class AirflowBackend(Backend):
    name = "airflow"
    description = "Apache Airflow 3 Dag files"
    options_type = AirflowOptions

    options: AirflowOptions

    def compile(self, unit: CompileUnit) -> BackendResult:
        result = BackendResult(diagnostics=self.diagnostics(unit))
        if has_errors(result.diagnostics):
            return result  # nothing is written for a pipeline Airflow cannot run
        pipeline = unit.pipeline
        result.files.append(EmittedFile(f"{pipeline.name}.py", self.pipeline_file(unit)))
        for monitor in pipeline.monitors:
            result.files.append(
                EmittedFile(f"{monitor_dag_id(pipeline, monitor)}.py", self.monitor_file(unit, monitor))
            )
        return result

    # ---- the pipeline's Dag ------------------------------------------------------------

    def pipeline_file(self, unit: CompileUnit) -> str:
        pipeline = unit.pipeline
        dag = DagBuilder(pipeline.name)
        entry: dict[str, str] = {}
        exit_: dict[str, str] = {}
        for name in unit.order:
            step, gate = unit.step(name), unit.gate(name)
            if step is not None:
                entry[name], exit_[name] = self.step_tasks(unit, dag, step)
            elif gate is not None:
                entry[name], exit_[name] = self.gate_tasks(unit, dag, gate)
            else:
                continue
            for dependency in unit.dependencies(name):
                if dependency in exit_:
                    dag.edge(exit_[dependency], entry[name])
        self.latest_task(dag)
        return self.dag_file(
            unit, dag,
            dag_call=self.dag_call(dag, pipeline, pipeline.description, pipeline.schedule,
                                   list(pipeline.params), self.pipeline_doc(unit)),
        )

    def dag_call(self, dag: DagBuilder, pipeline: ir.Pipeline, description: str | None,
                 schedule: ir.Cron | None, params: list[ir.Param], doc: str) -> Call:
        if params:
            dag.needs.add("params")
        return call(
            "DAG",
            dag_id=dag.dag_id,
            description=description,
            # ends with a newline: Airflow reads a doc_md ending in ".md" as a file name
            doc_md=doc,
            schedule=schedule.expression if schedule is not None else Name("None"),
            start_date=call("datetime", *START_DATE, tzinfo=Name("timezone.utc")),
            catchup=False,
            tags=list(pipeline.tags) or None,
            default_args={"owner": pipeline.owner} if pipeline.owner else None,
            params={p.name: self.param(p) for p in params} or None,
        )

    def param(self, param: ir.Param) -> Call:
        if param.default is None:
            return call("Param", type=PARAM_TYPES[param.type])
        return call("Param", param.default, type=PARAM_TYPES[param.type])

    def pipeline_doc(self, unit: CompileUnit) -> str:
        pipeline = unit.pipeline
        lines = [pipeline.description or f"Pipeline `{pipeline.name}`.", ""]
        facts = [f"Compiled by mlp from `{unit.source_path}`."]
        if pipeline.owner:
            facts.append(f"Owner: {pipeline.owner}.")
        if pipeline.risk:
            facts.append(f"Risk: {pipeline.risk}.")
        lines.append(" ".join(facts))
        lines.append(f"Artifacts: `{self.options.artifact_root}/{pipeline.name}/<run id>/`.")
        return "\n".join(lines) + "\n"

    # ---- steps ---------------------------------------------------------------------------

    def step_tasks(self, unit: CompileUnit, dag: DagBuilder, step: ir.Step) -> tuple[str, str]:
        """Adds a step (and its `when`); returns its first and last task."""
        first = None
        if step.when is not None:
            dag.needs.update({"when", "conditions"})
            first = dag.add(
                f"when_{step.name}", step.name + WHEN, "MlpWhen",
                spec=self.condition_spec(unit, "decide", [step.when], dag),
            )
        variable = self.command_task(unit, dag, step, f"step_{step.name}", step.name)
        if first is not None:
            dag.edge(first, variable)
        return first or variable, variable

    def command_task(self, unit: CompileUnit, dag: DagBuilder, task: ir.Task, variable: str, task_id: str) -> str:
        """The task running a step's or a monitor's command."""
        values = self.task_values(unit, task, dag)
        common = dict(
            mlp_env=values.env or None,
            mlp_inputs=values.inputs or None,
            mlp_outputs=values.outputs or None,
            mlp_params=values.params or None,
        )
        command = command_text(task.command) if task.command is not None else "true"
        if self.options.operator == "kubernetes":
            dag.needs.add("pod")
            kwargs = dict(
                doc_md=task.description,
                image=task.image.reference if task.image is not None else None,
                namespace=self.options.namespace,
                command=command,
                **common,
                secrets=[kubernetes.secret(env, unit.pipeline.name, key) for env, key in values.secrets.items()]
                or None,
                **self.pod_settings(task),
            )
            if values.secrets:
                dag.needs.add("pod_secrets")
            operator = "MlpPodTask"
        else:
            dag.needs.add("bash")
            kwargs = dict(
                doc_md=task.description,
                bash_command=command,
                cwd=self.options.working_directory,
                **common,
                mlp_secrets=values.secrets or None,
            )
            operator = "MlpBashTask"
        if task.retries:
            kwargs["retries"] = task.retries
        if task.timeout:
            dag.needs.add("timedelta")
            kwargs["execution_timeout"] = timedelta(task.timeout)
        kwargs["inlets"] = self.inlets(unit, task, dag) or None
        kwargs["outlets"] = [self.output_asset(dag, dag.dag_id, task.name, o.name) for o in task.outputs] or None
        if kwargs["inlets"] or kwargs["outlets"]:
            dag.needs.add("assets")
        return dag.add(variable, task_id, operator, **kwargs)

    def pod_settings(self, task: ir.Task) -> dict:
        settings: dict = {}
        if task.resources is not None:
            settings["container_resources"] = kubernetes.resources(task.resources)
            if task.resources.gpu_type:
                settings["node_selector"] = {self.options.gpu_node_label: task.resources.gpu_type}
        return settings

    def task_values(self, unit: CompileUnit, task: ir.Task, dag: DagBuilder) -> TaskValues:
        values = TaskValues()
        for item in task.inputs:
            var = input_var(item.name)
            if item.ref.output is None:
                source = unit.source(item.ref.producer)
                values.env[var] = source.uri if source is not None else item.ref.producer
            else:
                values.inputs[var] = self.artifact_path(dag, item.ref.producer, item.ref.output)
        for output in task.outputs:
            values.outputs[output_var(output.name)] = f"{task.name}/{output.name}"
        for parameter in task.parameters:
            if isinstance(parameter.value, ir.ParamRef):
                values.params[param_var(parameter.name)] = parameter.value.name
            else:
                values.env[param_var(parameter.name)] = scalar_text(parameter.value.value)
        for variable in task.env:
            value = variable.value
            if isinstance(value, ir.SecretRef):
                values.secrets[variable.name] = value.name
            elif isinstance(value, ir.ParamRef):
                values.params[variable.name] = value.name
            else:
                values.env[variable.name] = scalar_text(value.value)
        return values

    def artifact_path(self, dag: DagBuilder, producer: str, output: str) -> str:
        """Where an artifact is, relative to the run folder; a monitor's Dag
        reads the pipeline's artifacts through the `pipeline` link."""
        path = f"{producer}/{output}"
        if dag.pipeline_dag_id is not None and producer != dag.monitor:
            return f"{PIPELINE_LINK}/{path}"
        return path

    # ---- lineage -------------------------------------------------------------------------------

    def source_asset(self, source: ir.Source) -> Call:
        return call("Asset", uri=ascii_uri(source.uri))

    def output_asset(self, dag: DagBuilder, dag_id: str, producer: str, output: str) -> Call:
        """A run's output, named by what it is; its uri is where the latest
        successful run keeps it."""
        asset = dag.assets.get((dag_id, producer, output))
        if asset is None:
            path = f"{self.options.artifact_root}/{dag_id}/latest/{producer}/{output}"
            asset = dag.assets[(dag_id, producer, output)] = call(
                "Asset", name=f"{dag_id}.{producer}.{output}", uri="file://" + urllib.parse.quote(path))
        return asset

    def inlets(self, unit: CompileUnit, task: ir.Task, dag: DagBuilder) -> list[Call]:
        refs = [item.ref for item in task.inputs]
        if isinstance(task, ir.Monitor) and task.watch is not None:
            refs.append(task.watch)
        assets, seen = [], set()
        for ref in refs:
            if ref.artifact_id in seen:
                continue
            seen.add(ref.artifact_id)
            if ref.output is None:
                source = unit.source(ref.producer)
                if source is not None:
                    assets.append(self.source_asset(source))
            else:  # a step's output (the language refuses binding a monitor's)
                assets.append(self.output_asset(dag, dag.pipeline_dag_id or dag.dag_id, ref.producer, ref.output))
        return assets

    # ---- conditions and gates -------------------------------------------------------------

    def condition_spec(self, unit: CompileUnit, mode: str, conditions: list[ir.Condition], dag: DagBuilder) -> dict:
        """The checker's document (as for every target), metric paths relative to the run folder."""
        paths = {a: self.artifact_path(dag, *a.split(".", 1)) for a in metric_artifacts(conditions)}
        document = check_spec(mode, conditions, [condition_text(c) for c in conditions], paths, unit.pipeline)
        return json.loads(document)

    def gate_tasks(self, unit: CompileUnit, dag: DagBuilder, gate: ir.Gate) -> tuple[str, str]:
        first = last = None
        conditions = [r.condition for r in gate.requires]
        if conditions:
            dag.needs.update({"check", "conditions"})
            first = last = dag.add(
                f"gate_{gate.name}", gate.name, "MlpCheck",
                doc_md=gate.description,
                spec=self.condition_spec(unit, "require", conditions, dag),
            )
        if gate.approval is not None:
            approval = self.approval_task(unit, dag, gate)
            if first is not None:
                dag.edge(first, approval)
            first, last = first or approval, approval
        return first, last

    def approval_task(self, unit: CompileUnit, dag: DagBuilder, gate: ir.Gate) -> str:
        dag.needs.add("approval")
        approval = gate.approval
        assigned = None
        if approval.timeout:
            dag.needs.add("timedelta")
        if self.options.assign_reviewers and approval.reviewers:
            assigned = [{"id": r, "name": r} for r in approval.reviewers]
        return dag.add(
            f"approval_{gate.name}", gate.name + APPROVAL, "MlpApproval",
            subject=f"{unit.pipeline.name}: approve the gate {gate.name}",
            body=self.approval_body(unit, gate),
            assigned_users=assigned,
            response_timeout=timedelta(approval.timeout) if approval.timeout else None,
            fail_on_reject=True,
        )

    def approval_body(self, unit: CompileUnit, gate: ir.Gate) -> str:
        approval = gate.approval
        lines = []
        for text in (approval.description, gate.description):
            if text:
                lines += [text, ""]
        if approval.reviewers:
            lines.append("Reviewers: " + ", ".join(approval.reviewers))
        else:
            lines.append("Reviewers: anyone allowed to answer for this Dag")
        if gate.requires:
            lines += ["", "Checked before this request:"]
            lines += [f"- `{condition_text(r.condition)}`" for r in gate.requires]
        lines += ["", f"Approve to continue the run; Reject fails it. Pipeline `{unit.pipeline.name}`, "
                      f"compiled by mlp from `{unit.source_path}`."]
        return "\n".join(lines) + "\n"

    def latest_task(self, dag: DagBuilder) -> None:
        leaves = dag.leaves()
        variable = dag.add(LATEST_VARIABLE, LATEST_TASK, "MlpRecordLatest", trigger_rule="none_failed")
        for leaf in leaves:
            dag.edge(leaf, variable)

    # ---- monitors ---------------------------------------------------------------------------

    def monitor_file(self, unit: CompileUnit, monitor: ir.Monitor) -> str:
        pipeline = unit.pipeline
        dag = DagBuilder(monitor_dag_id(pipeline, monitor), pipeline_dag_id=pipeline.name, monitor=monitor.name)
        run = self.command_task(unit, dag, monitor, f"monitor_{monitor.name}", monitor.name)
        conditions = [r.condition for r in monitor.requires]
        if conditions:
            dag.needs.add("conditions")
            if monitor.on_breach == "retrain":
                dag.needs.add("breach")
                check = dag.add(
                    f"check_{monitor.name}", monitor.name + CHECK, "MlpBreach",
                    spec=self.condition_spec(unit, "decide", conditions, dag),
                )
                dag.needs.add("trigger")
                retrain = dag.add(
                    f"retrain_{monitor.name}", monitor.name + RETRAIN, "TriggerDagRunOperator",
                    doc_md=f"A required condition of the monitor failed: run `{pipeline.name}` again.\n",
                    trigger_dag_id=pipeline.name,
                )
                dag.edge(run, check)
                dag.edge(check, retrain)
            else:
                dag.needs.add("check")
                check = dag.add(
                    f"check_{monitor.name}", monitor.name + CHECK, "MlpCheck",
                    spec=self.condition_spec(unit, "require", conditions, dag),
                )
                dag.edge(run, check)
        self.latest_task(dag)
        params = [pipeline.param(n) for n in monitor_params(monitor)]
        breach = (f"a breach triggers a run of `{pipeline.name}`" if monitor.on_breach == "retrain"
                  else "a breach fails the run")
        doc = (monitor.description or f"Monitor `{monitor.name}` of `{pipeline.name}`.") + "\n\n" + (
            f"Compiled by mlp from `{unit.source_path}`. Reads the artifacts of the latest successful run "
            f"of `{pipeline.name}`; {breach}.\n"
        )
        return self.dag_file(
            unit, dag,
            dag_call=self.dag_call(dag, pipeline, monitor.description, monitor.schedule, params, doc),
        )

    # ---- the file ------------------------------------------------------------------------------

    def dag_file(self, unit: CompileUnit, dag: DagBuilder, dag_call: Call) -> str:
        constants = [
            f"DAG_ID = {string(dag.dag_id)}",
            "# in a monitor's Dag: the pipeline's Dag, whose latest successful run it reads",
            f"PIPELINE_DAG_ID = {string(dag.pipeline_dag_id) if dag.pipeline_dag_id else 'None'}",
            "# every run keeps its artifacts in ARTIFACT_ROOT/<dag id>/<run id>/",
            f"ARTIFACT_ROOT = {string(self.options.artifact_root)}",
        ]
        if "pod" in dag.needs:
            claim = self.options.artifact_volume_claim
            constants += [
                "# the PersistentVolumeClaim mounted at ARTIFACT_ROOT in every pod",
                f"ARTIFACT_VOLUME_CLAIM = {string(claim) if claim else 'None'}",
            ]
        needs = {flag: flag in dag.needs for flag in NEED_FLAGS}
        return render_dag_file(DagFile(
            header=["# " + comment(line) for line in header_lines(unit.source_path)],
            imports=import_lines(dag.needs),
            constants=constants,
            needs=needs,
            checker=checker_code() if needs["conditions"] else "",
            dag_open=render(dag_call, prefix="with ", suffix=" as dag:"),
            tasks=[render(t.call, indent=1, prefix=f"{t.variable} = ") for t in dag.tasks],
            edges=[f"{u} >> {d}" for u, d in dag.sorted_edges()],
        ))

    # ---- what Airflow cannot express -------------------------------------------------------------

    def diagnostics(self, unit: CompileUnit) -> list[Diagnostic]:
        return check_limits(unit, self.options)


@dataclass
class TaskValues:
    """What a task's command reads, by environment variable name."""

    env: dict[str, str] = field(default_factory=dict)
    inputs: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)


NEED_FLAGS = ("bash", "pod", "conditions", "check", "when", "breach", "approval", "trigger",
              "assets", "params", "pod_secrets", "timedelta")


ASCII_PRINTABLE = "".join(chr(c) for c in range(0x20, 0x7F))


def ascii_uri(uri: str) -> str:
    """The uri with other characters than printable ASCII percent-encoded
    (UTF-8), as RFC 3987 maps an IRI to a URI: Airflow stores ASCII URIs only."""
    return urllib.parse.quote(uri, safe=ASCII_PRINTABLE)


def scalar_text(value) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def timedelta(seconds: int) -> Call:
    return call("timedelta", seconds=seconds)


def import_lines(needs: set[str]) -> list[str]:
    stdlib = ["os", "re"]
    if "conditions" in needs:
        stdlib += sorted(checker_imports())
    lines = [f"import {m}" for m in sorted(set(stdlib))]
    lines.append(from_import("datetime", ["datetime", *(["timedelta"] if "timedelta" in needs else []), "timezone"]))
    lines.append("")
    third = [("airflow.sdk", ["DAG", "BaseOperator"]), ("airflow.sdk.exceptions", ["AirflowFailException"])]
    if "assets" in needs:
        third[0][1].append("Asset")
    if "params" in needs:
        third[0][1].append("Param")
    if "bash" in needs:  # secrets are Airflow Variables
        third[0][1].append("Variable")
        third.append(("airflow.sdk.log", ["mask_secret"]))
    if "bash" in needs:
        third.append(("airflow.providers.standard.operators.bash", ["BashOperator"]))
    if "approval" in needs:
        third.append(("airflow.providers.standard.operators.hitl", ["ApprovalOperator"]))
    if "when" in needs or "breach" in needs:
        third.append(("airflow.providers.standard.operators.python", ["ShortCircuitOperator"]))
    if "trigger" in needs:
        third.append(("airflow.providers.standard.operators.trigger_dagrun", ["TriggerDagRunOperator"]))
    if "pod" in needs:
        third.append(("airflow.providers.cncf.kubernetes.operators.pod", ["KubernetesPodOperator"]))
        third.append(("kubernetes.client", ["models as k8s"]))
    if "pod_secrets" in needs:
        third.append(("airflow.providers.cncf.kubernetes.secret", ["Secret"]))
    for module, names in sorted(third, key=lambda item: item[0]):
        lines.append(from_import(module, sorted(names, key=_isort_key)))
    return lines


def _isort_key(name: str) -> tuple[int, str]:
    """isort's order by type: CONSTANTS, Classes, functions."""
    if name.isupper():
        return (0, name)
    return (1, name) if name[0].isupper() else (2, name)


def from_import(module: str, names: list[str]) -> str:
    line = f"from {module} import {', '.join(names)}"
    if len(line) <= 88:
        return line
    return "\n".join([f"from {module} import (", *(f"    {n}," for n in names), ")"])
