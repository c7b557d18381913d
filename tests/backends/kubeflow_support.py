"""Helpers for the Kubeflow backend tests: compiling programs, kfp's own
checks (in .venv-kfp, through kubeflow_kfp.py), and `LocalRun`, which runs a
compiled spec on this machine the way Kubeflow's launcher would.

kfp is not a dependency of mlplang and cannot share an environment with
Airflow: `scripts/setup` installs it in .venv-kfp. Without it the kfp tests
are skipped locally and fail on CI (where the environment variable CI is set).

`LocalRun` exists because kfp.local cannot run container components here (no
Docker engine): it walks the DAG in dependency order, evaluates each
`triggerPolicy` condition, substitutes the launcher's placeholders in the
executor's command and arguments (artifact paths, parameter values, output
parameter files) and runs them with this machine's bash and python3,
ignoring the image. A task whose dependency did not succeed is skipped, as
Kubeflow's engine omits it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pytest
from http_stub import JsonStub
import yaml

from mlplang.api import LoadResult, load_text
from mlplang.backends.base import EmittedFile
from mlplang.backends.writer import write_files
from mlplang.compile import compile_result
from mlplang.compiler.graph import NodeKind
from mlplang.config import LintConfig

ROOT = Path(__file__).resolve().parents[2]
KFP_PYTHON = ROOT / ".venv-kfp" / "bin" / "python"
KFP_SCRIPT = Path(__file__).resolve().parent / "kubeflow_kfp.py"
DSL_FOLDER = Path(__file__).resolve().parent / "kubeflow_dsl"
SUFFIXES = ("-when", "-approval", "-check")
RUN_ID = "0a1b2c3d-4e5f-6789-abcd-ef0123456789"
TIMEOUT = 300


def example_files() -> list[Path]:
    return sorted((ROOT / "examples").glob("*.mlp"))


def program_files() -> list[Path]:
    """Every backend test program (tests/programs/*.mlp), shared by all targets."""
    return sorted((ROOT / "tests" / "programs").glob("*.mlp"))


def load_program(path: Path) -> LoadResult:
    """Loaded with its path relative to the repository, as the header shows it."""
    return load_text(path.read_text(encoding="utf-8"), path.relative_to(ROOT).as_posix(), real_path=path)


def compile_program(path: Path, **options) -> tuple[LoadResult, list[EmittedFile]]:
    """Compiled for Kubeflow; approvals suspend the run unless told otherwise."""
    options.setdefault("approval", "suspend")
    result = load_program(path)
    outcome = compile_result(result, "kubeflow", LintConfig(), overrides=options)
    errors = [f"{d.code} {d.message} ({d.span.file}:{d.span.line})" for d in outcome.diagnostics if d.is_error]
    assert outcome.ok, f"{path.name} does not compile for Kubeflow: {errors}"
    return result, outcome.files


def compile_into(paths: list[Path], folder: Path, **options) -> dict[str, LoadResult]:
    """Compiles every program into `folder`; returns the loaded programs by pipeline name."""
    loaded = {}
    for path in paths:
        result, files = compile_program(path, **options)
        write_files(folder, files)
        for pipeline in result.pipelines:
            loaded[pipeline.name] = result
    return loaded


def documents(text: str) -> list[dict]:
    return list(yaml.safe_load_all(text))


# ---- kfp, in its own environment ---------------------------------------------------------


def kfp_python() -> Path:
    if KFP_PYTHON.exists():
        return KFP_PYTHON
    reason = f"{KFP_PYTHON.relative_to(ROOT)} is missing: run scripts/setup (it installs kfp==2.17.*)"
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def run_kfp(*arguments: str) -> subprocess.CompletedProcess:
    completed = subprocess.run([str(kfp_python()), str(KFP_SCRIPT), *arguments], capture_output=True,
                               text=True, timeout=TIMEOUT, cwd=ROOT)
    assert completed.returncode == 0, f"kubeflow_kfp.py {arguments[0]} failed:\n{completed.stderr[-6000:]}"
    return completed


def kfp_check(paths: list[Path]) -> dict[str, dict]:
    """File name -> {"errors": [...], "tasks": {key: {display, dependencies, condition, component}}}."""
    report = json.loads(run_kfp("check", *(str(p) for p in paths)).stdout)
    return {Path(path).name: value for path, value in report.items()}


# ---- the IR's graph, and the spec's graph read back ----------------------------------------


def ir_edges(result: LoadResult, pipeline_name: str) -> set[tuple[str, str]]:
    """Edges between the steps and gates of a pipeline: what its spec must order."""
    graph = result.graph(pipeline_name)
    kept = {NodeKind.STEP, NodeKind.GATE}
    return {(u, v) for u, v, _ in graph.edges() if graph.kind(u) in kept and graph.kind(v) in kept}


def ir_node(display: str) -> str:
    """The IR node a task stands for: its displayed name without a helper
    suffix (`train-when` -> `train`, `release-approval` -> `release`)."""
    for suffix in SUFFIXES:
        if display.endswith(suffix):
            return display[: -len(suffix)]
    return display


def spec_edges(tasks: dict) -> set[tuple[str, str]]:
    """Dependencies between IR nodes, from the tasks kubeflow_kfp.py read back."""
    edges = set()
    for info in tasks.values():
        for dependency in info["dependencies"]:
            u, v = ir_node(tasks[dependency]["display"]), ir_node(info["display"])
            if u != v:
                edges.add((u, v))
    return edges


# ---- running a spec here -------------------------------------------------------------------


CONDITION = re.compile(r"inputs\.parameter_values\['([^']+)'\] == 'true'")


def launcher_text(value) -> str:
    """A parameter value as the launcher writes it into an argument: strings
    as they are, numbers with Go's FormatFloat(v, 'f', -1), booleans in lower case."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        text = format(Decimal(repr(float(value))), "f")
        return text.removesuffix(".0")
    return value


@dataclass
class LocalRun:
    spec: dict
    folder: Path
    params: dict = field(default_factory=dict)
    """Values given to the run (the others take their defaults)."""
    env: dict = field(default_factory=dict)
    platform: dict | None = None
    """The platform spec: its `secretAsEnv` entries read `secrets`."""
    secrets: dict = field(default_factory=dict)
    """Secret key -> value, for every Kubernetes Secret."""
    states: dict[str, str] = field(default_factory=dict)
    """Task -> succeeded | failed | skipped | not-triggered."""
    outputs: dict[tuple[str, str], Path] = field(default_factory=dict)
    output_parameters: dict[tuple[str, str], str] = field(default_factory=dict)
    logs: dict[str, subprocess.CompletedProcess] = field(default_factory=dict)

    def pipeline_value(self, name: str):
        if name in self.params:
            return self.params[name]
        definition = self.spec["root"].get("inputDefinitions", {}).get("parameters", {})[name]
        assert "defaultValue" in definition, f"param {name} needs a value"
        return definition["defaultValue"]

    def order(self) -> list[str]:
        tasks = self.spec["root"]["dag"]["tasks"]
        done: list[str] = []

        def visit(key: str) -> None:
            if key in done:
                return
            for dependency in tasks[key].get("dependentTasks", []):
                visit(dependency)
            done.append(key)

        for key in sorted(tasks):
            visit(key)
        return done

    def run(self) -> LocalRun:
        tasks = self.spec["root"]["dag"]["tasks"]
        for key in self.order():
            task = tasks[key]
            if any(self.states[d] != "succeeded" for d in task.get("dependentTasks", [])):
                self.states[key] = "skipped"
                continue
            values = {name: self.parameter(binding) for name, binding in
                      task.get("inputs", {}).get("parameters", {}).items()}
            condition = task.get("triggerPolicy", {}).get("condition")
            if condition:
                assert CONDITION.sub("", condition).replace(" && ", "") == "", condition
                if not all(values[name] == "true" for name in CONDITION.findall(condition)):
                    self.states[key] = "not-triggered"
                    continue
            self.states[key] = self.execute(key, task, values)
        return self

    def parameter(self, binding: dict):
        if "componentInputParameter" in binding:
            return self.pipeline_value(binding["componentInputParameter"])
        if "runtimeValue" in binding:
            constant = binding["runtimeValue"]["constant"]
            return RUN_ID if constant == "{{$.pipeline_job_uuid}}" else constant
        source = binding["taskOutputParameter"]
        return self.output_parameters[(source["producerTask"], source["outputParameterKey"])]

    def execute(self, key: str, task: dict, values: dict) -> str:
        component = self.spec["components"][task["componentRef"]["name"]]
        executor = self.spec["deploymentSpec"]["executors"][component["executorLabel"]]
        if "importer" in executor:
            self.outputs[(key, "artifact")] = Path(values["uri"])
            return "succeeded"
        container = executor["container"]
        replacements = {}
        for name, binding in task.get("inputs", {}).get("artifacts", {}).items():
            source = binding["taskOutputArtifact"]
            replacements[f"{{{{$.inputs.artifacts['{name}'].path}}}}"] = str(
                self.outputs[(source["producerTask"], source["outputArtifactKey"])])
        for name in component.get("outputDefinitions", {}).get("artifacts", {}):
            path = self.folder / key / name
            path.parent.mkdir(parents=True, exist_ok=True)  # as the launcher prepares output folders
            self.outputs[(key, name)] = path
            replacements[f"{{{{$.outputs.artifacts['{name}'].path}}}}"] = str(path)
        parameter_files = {}
        for name in component.get("outputDefinitions", {}).get("parameters", {}):
            parameter_files[name] = self.folder / key / "parameters" / name
            parameter_files[name].parent.mkdir(parents=True, exist_ok=True)
            replacements[f"{{{{$.outputs.parameters['{name}'].output_file}}}}"] = str(parameter_files[name])
        for name, value in values.items():
            replacements[f"{{{{$.inputs.parameters['{name}']}}}}"] = launcher_text(value)
        argv = []
        for argument in [*container["command"], *container.get("args", [])]:
            for placeholder, replacement in replacements.items():
                argument = argument.replace(placeholder, replacement)
            argv.append(argument)
        environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(self.folder),
                       "LANG": "C.UTF-8", **self.env}
        settings = (self.platform or {}).get("platforms", {}).get("kubernetes", {}).get("deploymentSpec", {})
        for secret in settings.get("executors", {}).get(component["executorLabel"], {}).get("secretAsEnv", []):
            for entry in secret["keyToEnv"]:
                environment[entry["envVar"]] = self.secrets[entry["secretKey"]]
        (self.folder / key).mkdir(parents=True, exist_ok=True)
        completed = subprocess.run(argv, capture_output=True, env=environment, cwd=self.folder / key, timeout=120)
        self.logs[key] = completed
        if completed.returncode != 0:
            return "failed"
        for name, path in parameter_files.items():
            self.output_parameters[(key, name)] = path.read_text(encoding="utf-8")
        return "succeeded"


# ---- a Kubernetes API that answers approvals ------------------------------------------------


class ApprovalServer(JsonStub):
    """Serves `GET /api/v1/namespaces/<ns>/configmaps/<name>` from `config_maps`
    (404 for others), for wait_for_approval.py's MLP_K8S_API; `paths` lists the requests."""

    def __init__(self) -> None:
        super().__init__()
        self.config_maps: dict[str, dict] = {}

    def answer(self, path: str) -> tuple[int, object]:
        name = path.rsplit("/", 1)[-1]
        found = self.config_maps.get(name)
        if found is None:
            return 404, {"kind": "Status", "code": 404}
        return 200, {"metadata": {"name": name}, "data": found}

    @property
    def paths(self) -> list[str]:
        return [path for path, _ in self.requests]


# ---- structure, for comparing a spec with kfp's own compile of the same pipeline ------------


CHANNEL = "pipelinechannel--"


def structure(spec: dict, platform: dict | None = None) -> dict:
    """What a pipeline means, whatever the spec's layout: per task (kfp's
    `dsl.If` sub-DAGs flattened into the tasks they hold) its dependencies,
    typed inputs and outputs, the conditions it runs under as (producer task,
    output parameter, required value), caching, retries, resources and
    Kubernetes settings; plus the root parameters. A channel input
    (`pipelinechannel--...`) is followed to the task producing it."""
    components = spec["components"]
    executors = spec["deploymentSpec"]["executors"]
    kubernetes = (platform or {}).get("platforms", {}).get("kubernetes", {}).get("deploymentSpec", {}).get(
        "executors", {})
    tasks: dict[str, dict] = {}

    def walk(dag: dict, channels: dict[str, tuple], inherited: frozenset) -> None:
        for key, task in dag["tasks"].items():
            component = components[task["componentRef"]["name"]]
            bindings = task.get("inputs", {})
            local: dict[str, tuple] = {}
            dependencies = set(task.get("dependentTasks", []))
            for kind in ("artifacts", "parameters"):
                for name, binding in bindings.get(kind, {}).items():
                    source = binding.get("taskOutputArtifact") or binding.get("taskOutputParameter")
                    if source is not None:
                        local[name] = (source["producerTask"],
                                       source.get("outputArtifactKey") or source.get("outputParameterKey"))
                    elif binding.get("componentInputArtifact") or binding.get("componentInputParameter"):
                        outer = binding.get("componentInputArtifact") or binding.get("componentInputParameter")
                        if outer in channels:
                            local[name] = channels[outer]
            conditions = set(inherited)
            for name in CONDITION_VALUE.findall(task.get("triggerPolicy", {}).get("condition", "")):
                channel, value = name
                conditions.add((*local[channel], value))
            if "dag" in component:
                walk(component["dag"], local, frozenset(conditions))
                continue
            inputs = component.get("inputDefinitions", {})
            outputs = component.get("outputDefinitions", {})
            tasks[key] = {
                "dependencies": dependencies | {p for p, _ in local.values()}
                                | {p for p, _, _ in conditions},
                "input_artifacts": {n: d["artifactType"]["schemaTitle"] for n, d in inputs.get("artifacts", {}).items()},
                "input_parameters": {n: d["parameterType"] for n, d in inputs.get("parameters", {}).items()
                                     if not n.startswith(CHANNEL)},
                "output_artifacts": {n: d["artifactType"]["schemaTitle"]
                                     for n, d in outputs.get("artifacts", {}).items()},
                "output_parameters": {n: d["parameterType"] for n, d in outputs.get("parameters", {}).items()},
                "conditions": conditions,
                "cache": task.get("cachingOptions", {}).get("enableCache", False),
                "retries": task.get("retryPolicy", {}).get("maxRetryCount", 0),
                "resources": executors[component["executorLabel"]]["container"].get("resources"),
                "kubernetes": kubernetes.get(component["executorLabel"]),
            }

    walk(spec["root"]["dag"], {}, frozenset())
    parameters = {n: d["parameterType"] for n, d in spec["root"].get("inputDefinitions", {}).get("parameters", {}).items()}
    return {"tasks": tasks, "parameters": parameters}


CONDITION_VALUE = re.compile(r"inputs\.parameter_values\['([^']+)'\] == '([^']*)'")
