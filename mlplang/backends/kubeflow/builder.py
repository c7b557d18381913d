"""The pipeline spec being built: one `Task` per Kubeflow task, turned into
the component, executor, DAG task and Kubernetes settings kfp would write.

A `Task` is plain data filled by the backend's per-construct methods; the
builder owns the spec's layout, so the mapping code never assembles nested
dictionaries by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mlplang.backends.kubeflow import spec, transport
from mlplang.backends.kubeflow.names import component_name, executor_label

RETRY_BACKOFF = {"backoffDuration": "0s", "backoffFactor": 2.0, "backoffMaxDuration": "3600s"}
"""kfp's defaults for `set_retry`, written out as kfp does."""


@dataclass
class Task:
    key: str
    """The task's name in the DAG (Kubernetes style, unique)."""
    display: str
    """`taskInfo.name`: what the Kubeflow UI shows (the MLP name)."""
    image: str
    run: str
    """The bash command: the user's `run`, or mlp's own for helper tasks."""
    arguments: list[str] = field(default_factory=list)
    """`[%]NAME=VALUE` arguments of the prelude (see `transport`)."""
    input_artifacts: dict[str, tuple[str, dict]] = field(default_factory=dict)
    """name -> (MLP artifact kind, binding)."""
    input_parameters: dict[str, tuple[str, dict]] = field(default_factory=dict)
    """name -> (parameter type, binding)."""
    output_artifacts: dict[str, str] = field(default_factory=dict)
    """name -> MLP artifact kind."""
    output_parameters: dict[str, str] = field(default_factory=dict)
    dependencies: set[str] = field(default_factory=set)
    conditions: list[str] = field(default_factory=list)
    """Input parameters (channels) that must be 'true' for the task to run."""
    cache: bool = True
    retries: int = 0
    resources: dict | None = None
    kubernetes: dict = field(default_factory=dict)
    """The task's `platforms.kubernetes` executor settings."""

    # ---- bindings ------------------------------------------------------------------

    def artifact_from(self, name: str, kind: str, producer: str, output: str) -> None:
        self.input_artifacts[name] = (kind, {"taskOutputArtifact": {"producerTask": producer,
                                                                   "outputArtifactKey": output}})
        self.dependencies.add(producer)

    def parameter_from_pipeline(self, name: str, type_: str, pipeline_param: str) -> None:
        self.input_parameters[name] = (type_, {"componentInputParameter": pipeline_param})

    def parameter_constant(self, name: str, type_: str, value) -> None:
        self.input_parameters[name] = (type_, {"runtimeValue": {"constant": value}})

    def parameter_from_task(self, name: str, producer: str, output: str) -> None:
        self.input_parameters[name] = (spec.PARAM_TYPES["str"], {
            "taskOutputParameter": {"producerTask": producer, "outputParameterKey": output}})
        self.dependencies.add(producer)


@dataclass
class Importer:
    """kfp's `dsl.importer` with a runtime URI: brings an existing artifact
    into a run as a typed output named `artifact`."""

    key: str
    display: str
    kind: str
    uri_parameter: str
    """The pipeline parameter holding the artifact's URI."""


class SpecBuilder:
    def __init__(self) -> None:
        self.components: dict[str, dict] = {}
        self.executors: dict[str, dict] = {}
        self.tasks: dict[str, dict] = {}
        self.kubernetes: dict[str, dict] = {}

    def add(self, task: Task) -> None:
        component, executor = component_name(task.key), executor_label(task.key)
        definition: dict = {"executorLabel": executor}
        inputs = _definitions(
            {n: spec.artifact_type(kind) for n, (kind, _) in task.input_artifacts.items()},
            {n: type_ for n, (type_, _) in task.input_parameters.items()},
        )
        outputs = _definitions({n: spec.artifact_type(k) for n, k in task.output_artifacts.items()},
                               task.output_parameters)
        if inputs:
            definition["inputDefinitions"] = inputs
        if outputs:
            definition["outputDefinitions"] = outputs
        self.components[component] = definition

        container: dict = {
            "image": task.image,
            "command": transport.command(task.key),
            "args": [transport.escape(task.run, argument=True), *task.arguments],
        }
        if task.resources:
            container["resources"] = task.resources
        self.executors[executor] = {"container": container}

        entry: dict = {
            "cachingOptions": {"enableCache": True} if task.cache else {},
            "componentRef": {"name": component},
            "taskInfo": {"name": task.display},
        }
        if task.dependencies:
            entry["dependentTasks"] = sorted(task.dependencies)
        bindings: dict = {}
        if task.input_artifacts:
            bindings["artifacts"] = {n: b for n, (_, b) in task.input_artifacts.items()}
        if task.input_parameters:
            bindings["parameters"] = {n: b for n, (_, b) in task.input_parameters.items()}
        if bindings:
            entry["inputs"] = bindings
        if task.retries:
            entry["retryPolicy"] = {**RETRY_BACKOFF, "maxRetryCount": task.retries}
        if task.conditions:
            entry["triggerPolicy"] = {"condition": " && ".join(
                f"inputs.parameter_values['{name}'] == 'true'" for name in task.conditions)}
        self.tasks[task.key] = entry
        if task.kubernetes:
            self.kubernetes[executor] = task.kubernetes

    def add_importer(self, importer: Importer) -> None:
        component, executor = component_name(importer.key), executor_label(importer.key)
        schema = spec.artifact_type(importer.kind)
        self.components[component] = {
            "executorLabel": executor,
            "inputDefinitions": {"parameters": {"uri": {"parameterType": spec.PARAM_TYPES["str"]}}},
            "outputDefinitions": {"artifacts": {"artifact": {"artifactType": schema}}},
        }
        self.executors[executor] = {"importer": {"artifactUri": {"runtimeParameter": "uri"}, "typeSchema": schema}}
        self.tasks[importer.key] = {
            "cachingOptions": {"enableCache": True},
            "componentRef": {"name": component},
            "inputs": {"parameters": {"uri": {"componentInputParameter": importer.uri_parameter}}},
            "taskInfo": {"name": importer.display},
        }

    def documents(self, info: dict, parameters: dict, sdk_version: str, pipeline_root: str | None) -> list[dict]:
        """The pipeline spec, and the platform spec when a task has Kubernetes settings."""
        root: dict = {"dag": {"tasks": self.tasks}}
        if parameters:
            root["inputDefinitions"] = {"parameters": parameters}
        document: dict = {
            "components": self.components,
            "deploymentSpec": {"executors": self.executors},
            "pipelineInfo": info,
            "root": root,
            "schemaVersion": spec.SCHEMA_VERSION,
            "sdkVersion": sdk_version,
        }
        if pipeline_root is not None:
            document["defaultPipelineRoot"] = pipeline_root
        documents = [document]
        if self.kubernetes:
            documents.append({"platforms": {"kubernetes": {"deploymentSpec": {"executors": self.kubernetes}}}})
        return documents


def _definitions(artifacts: dict, parameters: dict) -> dict:
    result: dict = {}
    if artifacts:
        result["artifacts"] = {n: {"artifactType": t} for n, t in artifacts.items()}
    if parameters:
        result["parameters"] = {n: {"parameterType": t} for n, t in parameters.items()}
    return result
