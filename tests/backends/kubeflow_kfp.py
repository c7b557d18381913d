"""Checks of Kubeflow pipeline specs with kfp's own libraries.

Runs under .venv-kfp/bin/python (kfp cannot share an environment with
Airflow); the tests call it in a subprocess and read its JSON on stdout.

    python kubeflow_kfp.py check FILE...   # strict protobuf parse, kfp's loader,
                                           # referential integrity, the tasks
    python kubeflow_kfp.py compile DSL_FILE OUTPUT.yaml   # kfp's compiler on a DSL file

`check` prints {FILE: {"errors": [...], "tasks": {key: {...}}}}: errors from
`json_format.ParseDict` into `PipelineSpec` (and `PlatformSpec`) with
unknown fields rejected, from `kfp.components.load_component_from_file`, and
from `integrity_problems` - which kfp itself does not check: its parser and
loader accept a `dependentTasks` entry naming no task, a missing component
or executor, a ghost producer, an undeclared input and a cycle.
"""

from __future__ import annotations

import json
import re
import runpy
import sys

import yaml
from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2

CONDITION_INPUT = re.compile(r"inputs\.parameter_values\['([^']+)'\]")


def integrity_problems(spec: pipeline_spec_pb2.PipelineSpec, platform: dict | None = None) -> list[str]:
    """Every reference in the spec names something that exists, and the DAGs have no cycle."""
    problems: list[str] = []
    components = spec.components
    executors = dict(spec.deployment_spec.fields["executors"].struct_value.fields) \
        if "executors" in spec.deployment_spec.fields else {}
    for name, component in components.items():
        if component.WhichOneof("implementation") == "executor_label" and component.executor_label not in executors:
            problems.append(f"{name}: executorLabel {component.executor_label!r} names no executor")
    for label in (platform or {}).get("platforms", {}).get("kubernetes", {}).get("deploymentSpec", {}).get(
            "executors", {}):
        if label not in executors:
            problems.append(f"platform spec: executor {label!r} does not exist")

    def check_dag(where: str, dag, inputs) -> None:
        tasks = dag.tasks
        for key, task in tasks.items():
            here = f"{where}/{key}"
            for dependency in task.dependent_tasks:
                if dependency not in tasks:
                    problems.append(f"{here}: dependentTasks names no task: {dependency!r}")
            component = components.get(task.component_ref.name)
            if component is None:
                problems.append(f"{here}: componentRef {task.component_ref.name!r} names no component")
                continue
            declared = component.input_definitions
            for kind, bindings, definitions, outputs in (
                ("artifact", task.inputs.artifacts, declared.artifacts, "artifacts"),
                ("parameter", task.inputs.parameters, declared.parameters, "parameters"),
            ):
                for name, binding in bindings.items():
                    if name not in definitions:
                        problems.append(f"{here}: input {kind} {name!r} is not declared by {task.component_ref.name}")
                    source = binding.WhichOneof("kind")
                    if source in ("task_output_artifact", "task_output_parameter"):
                        ref = getattr(binding, source)
                        key_name = "output_artifact_key" if kind == "artifact" else "output_parameter_key"
                        producer = tasks.get(ref.producer_task)
                        if producer is None:
                            problems.append(f"{here}: {name} comes from a missing task {ref.producer_task!r}")
                        elif ref.producer_task not in task.dependent_tasks:
                            problems.append(f"{here}: {name} comes from {ref.producer_task!r}, not a dependency")
                        if producer is not None:
                            made = components.get(producer.component_ref.name)
                            if made is None or getattr(ref, key_name) not in getattr(made.output_definitions, outputs):
                                problems.append(f"{here}: {ref.producer_task!r} has no output {getattr(ref, key_name)!r}")
                    elif source in ("component_input_artifact", "component_input_parameter"):
                        if getattr(binding, source) not in getattr(inputs, outputs):
                            problems.append(f"{here}: {name} reads {getattr(binding, source)!r}, "
                                            f"not an input of {where}")
                for name, definition in definitions.items():
                    optional = kind == "parameter" and (definition.is_optional or definition.HasField("default_value"))
                    if name not in bindings and not optional:
                        problems.append(f"{here}: required input {kind} {name!r} is not bound")
            for name in CONDITION_INPUT.findall(task.trigger_policy.condition):
                if name not in task.inputs.parameters:
                    problems.append(f"{here}: the condition reads {name!r}, which is not an input of the task")
            if component.WhichOneof("implementation") == "dag":
                check_dag(here, component.dag, component.input_definitions)
        state: dict[str, int] = {}

        def visit(key: str, path: list[str]) -> None:
            state[key] = 1
            for dependency in tasks[key].dependent_tasks:
                if dependency not in tasks:
                    continue
                if state.get(dependency) == 1:
                    problems.append(f"{where}: cycle {' -> '.join([*path, key, dependency])}")
                elif dependency not in state:
                    visit(dependency, [*path, key])
            state[key] = 2

        for key in sorted(tasks):
            if key not in state:
                visit(key, [])

    check_dag("root", spec.root.dag, spec.root.input_definitions)
    return problems


def task_summary(spec: pipeline_spec_pb2.PipelineSpec) -> dict:
    result = {}
    for key, task in spec.root.dag.tasks.items():
        result[key] = {
            "display": task.task_info.name,
            "dependencies": sorted(task.dependent_tasks),
            "condition": task.trigger_policy.condition,
            "component": task.component_ref.name,
        }
    return result


def check(path: str) -> dict:
    errors: list[str] = []
    tasks: dict = {}
    try:
        with open(path, encoding="utf-8") as handle:
            documents = list(yaml.safe_load_all(handle))
        spec = json_format.ParseDict(documents[0], pipeline_spec_pb2.PipelineSpec())
        platform = documents[1] if len(documents) > 1 else None
        if platform is not None:
            json_format.ParseDict(platform, pipeline_spec_pb2.PlatformSpec())
        if len(documents) > 2:
            errors.append(f"{len(documents)} YAML documents; expected the spec and at most a platform spec")
        errors += integrity_problems(spec, platform)
        tasks = task_summary(spec)
    except Exception as error:  # every failure is a finding to report, with its type
        errors.append(f"{type(error).__name__}: {error}")
        return {"errors": errors, "tasks": tasks}
    try:
        from kfp import components

        loaded = components.load_component_from_file(path)
        if loaded.name != documents[0]["pipelineInfo"]["name"]:
            errors.append(f"kfp loaded {loaded.name!r}, not {documents[0]['pipelineInfo']['name']!r}")
    except Exception as error:
        errors.append(f"load_component_from_file: {type(error).__name__}: {error}")
    return {"errors": errors, "tasks": tasks}


def main(argv: list[str]) -> int:
    if argv[:1] == ["check"]:
        print(json.dumps({path: check(path) for path in argv[1:]}, indent=1, sort_keys=True))
        return 0
    if argv[:1] == ["compile"] and len(argv) == 3:
        from kfp import compiler

        namespace = runpy.run_path(argv[1])
        compiler.Compiler().compile(namespace["pipeline"], argv[2])
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
