"""The same pipeline as a `.mlp` file, written the way a team without mlp
would write it for Airflow: bench_airflow.py times Airflow loading these
against the Dag file `mlp compile --target airflow` writes.

From the IR of a pipeline, `tasks_of(pipeline, graph)` lists one plain task
per step and per gate (the gate's `require`s as one bash check), with the
step's command (inputs and outputs as paths under the run's folder, params
as Jinja `{{ params.X }}`), its environment (secrets as
`{{ var.value.X }}`), retries, timeout and the same dependencies (data
edges and `after`). Two writers turn that list into

- `handwritten_source(...)`: an idiomatic Airflow 3 Dag file, one
  `BashOperator` per task and one `a >> b` line per dependency;
- `dagfactory_yaml(...)`: a dag-factory YAML config of the same Dag (tasks
  as a mapping with `operator`, `bash_command`, `dependencies`), loaded by
  the two-line file `DAGFACTORY_LOADER`.

Neither carries what the mlp file adds on top (the approval task, the
`record-latest` task, assets for lineage, the output checks, the monitor's
Dag), so they are the lower bound of what an equivalent hand-maintained Dag
costs to parse. The writers run untimed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mlplang.compiler import ir
from mlplang.compiler.graph import PipelineGraph

ARTIFACTS = "/tmp/artifacts/{{ dag.dag_id }}/{{ run_id }}"
START_DATE = "2024-01-01"
BASH_OPERATOR = "airflow.providers.standard.operators.bash.BashOperator"


@dataclass
class Task:
    task_id: str
    bash_command: str
    upstream: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    retries: int = 0
    timeout_s: int | None = None


@dataclass
class Dag:
    dag_id: str
    description: str
    schedule: str | None
    owner: str
    tags: list[str]
    params: dict[str, object]
    tasks: list[Task]

    @property
    def dependencies(self) -> int:
        return sum(len(task.upstream) for task in self.tasks)


def _path(pipeline: ir.Pipeline, ref: ir.ArtifactRef) -> str:
    if ref.output is None:
        source = pipeline.source(ref.producer)
        if source is not None and source.uri:
            return source.uri
        return f"{ARTIFACTS}/sources/{ref.producer}"
    return f"{ARTIFACTS}/{ref.producer}/{ref.output}"


def _value(value: ir.LiteralValue | ir.ParamRef | ir.SecretRef) -> str:
    if isinstance(value, ir.ParamRef):
        return f"{{{{ params.{value.name} }}}}"
    if isinstance(value, ir.SecretRef):
        return f"{{{{ var.value.{value.name} }}}}"
    return str(value.value)


def _command(step: ir.Step, pipeline: ir.Pipeline) -> str:
    inputs = {item.name: item.ref for item in step.inputs}
    parameters = {item.name: item.value for item in step.parameters}
    parts = [f"mkdir -p {' '.join(f'{ARTIFACTS}/{step.name}/{o.name}' for o in step.outputs)}\n"
             if step.outputs else ""]
    for segment in step.command.segments:
        if isinstance(segment, ir.Text):
            parts.append(segment.text)
        elif isinstance(segment, ir.InputPath):
            parts.append(_path(pipeline, inputs[segment.name]))
        elif isinstance(segment, ir.OutputPath):
            parts.append(f"{ARTIFACTS}/{step.name}/{segment.name}")
        else:
            parts.append(_value(parameters[segment.name]))
    return "".join(parts).strip()


def _gate_command(gate: ir.Gate, graph: PipelineGraph) -> str:
    """A person would call a small check script on the metrics file(s)."""
    metrics = []
    for name in graph.dependencies(gate.name):
        metrics.append(f"{ARTIFACTS}/{name}/metrics/metrics.json")
    return f"python -m worker.check_gate --gate {gate.name} " + " ".join(f"--metrics {m}" for m in metrics)


def tasks_of(pipeline: ir.Pipeline, graph: PipelineGraph) -> Dag:
    tasks = []
    for name in graph.topological_order():
        step, gate = pipeline.step(name), pipeline.gate(name)
        if step is None and gate is None:
            continue  # sources are data at rest; monitors are a Dag of their own
        upstream = [d for d in graph.dependencies(name) if pipeline.step(d) or pipeline.gate(d)]
        if step is not None:
            tasks.append(Task(
                name, _command(step, pipeline), upstream,
                env={variable.name: _value(variable.value) for variable in step.env},
                retries=step.retries or 0, timeout_s=step.timeout,
            ))
        else:
            tasks.append(Task(name, _gate_command(gate, graph), upstream))
    return Dag(
        dag_id=pipeline.name,
        description=pipeline.description or "",
        schedule=pipeline.schedule.expression if pipeline.schedule is not None else None,
        owner=pipeline.owner or "airflow",
        tags=list(pipeline.tags),
        params={p.name: p.default for p in pipeline.params},
        tasks=tasks,
    )


# ---- a hand-written Dag file ----------------------------------------------------------


def handwritten_source(dag: Dag) -> str:
    lines = [
        f'"""{dag.description}"""',
        "",
        "from datetime import datetime, timedelta",
        "",
        "from airflow.providers.standard.operators.bash import BashOperator",
        "from airflow.sdk import DAG",
        "",
        "with DAG(",
        f"    dag_id={dag.dag_id!r},",
        f"    description={dag.description!r},",
        f"    schedule={dag.schedule!r},",
        f"    start_date=datetime({', '.join(str(int(x)) for x in START_DATE.split('-'))}),",
        "    catchup=False,",
        f"    tags={dag.tags!r},",
        f"    default_args={{'owner': {dag.owner!r}}},",
        f"    params={dag.params!r},",
        ") as dag:",
    ]
    for task in dag.tasks:
        lines.append(f"    {task.task_id} = BashOperator(")
        lines.append(f"        task_id={task.task_id!r},")
        lines.append(f"        bash_command={task.bash_command!r},")
        if task.env:
            lines.append(f"        env={task.env!r},")
            lines.append("        append_env=True,")
        if task.retries:
            lines.append(f"        retries={task.retries},")
        if task.timeout_s:
            lines.append(f"        execution_timeout=timedelta(seconds={task.timeout_s}),")
        lines.append("    )")
    lines.append("")
    for task in dag.tasks:
        for upstream in task.upstream:
            lines.append(f"    {upstream} >> {task.task_id}")
    return "\n".join(lines) + "\n"


# ---- dag-factory ------------------------------------------------------------------------

# The file Airflow parses: dag-factory builds every Dag of the YAML next to it.
DAGFACTORY_LOADER = '''"""Airflow Dags built by dag-factory from pipeline.yaml (the words airflow and dag
must appear in a file for the DagBag's safe mode to open it)."""
from pathlib import Path

from dagfactory import load_yaml_dags

load_yaml_dags(globals_dict=globals(), config_filepath=str(Path(__file__).with_name("pipeline.yaml")))
'''


def dagfactory_config(dag: Dag) -> dict:
    tasks = {}
    for task in dag.tasks:
        conf: dict[str, object] = {"operator": BASH_OPERATOR, "bash_command": task.bash_command}
        if task.env:
            conf["env"] = dict(task.env)
            conf["append_env"] = True
        if task.retries:
            conf["retries"] = task.retries
        if task.timeout_s:
            conf["execution_timeout"] = {"__type__": "datetime.timedelta", "seconds": task.timeout_s}
        if task.upstream:
            conf["dependencies"] = list(task.upstream)
        tasks[task.task_id] = conf
    return {
        dag.dag_id: {
            "default_args": {"owner": dag.owner, "start_date": START_DATE},
            "description": dag.description,
            "schedule": dag.schedule,
            "catchup": False,
            "tags": dag.tags,
            "params": dag.params,
            "tasks": tasks,
        }
    }


def dagfactory_yaml(dag: Dag) -> str:
    import yaml

    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return yaml.dump(dagfactory_config(dag), Dumper=dumper, sort_keys=False, width=1000)
