"""The same pipeline as a `.mlp` file, written with kfp's Python DSL: what a
team without mlp would maintain by hand. bench_kubeflow.py times kfp building
and compiling it, against `mlp compile --target kubeflow`.

`dsl_source(pipeline)` returns a Python file that builds the pipeline with
`dsl.container_component`s (typed artifact inputs and outputs, parameters,
the command), wires the tasks, sets retries, resources, caching, timeouts
and secrets, puts each step behind a gate into `dsl.If` on the gate's check,
and compiles it: `python FILE OUTPUT.yaml`.

It covers what bench/generate.py writes (steps, params, secrets, sources, one
gate, `after`); `when` and monitors are out of its scope (the monitor is a
separate spec mlp also writes: a few tasks, not counted here).
"""

from __future__ import annotations

import keyword

from mlplang.backends.kubeflow.spec import cpu_quantity, memory_quantity
from mlplang.backends.shell import command_text, input_location
from mlplang.compiler import ir
from mlplang.compiler.graph import PipelineGraph

TYPES = {"Artifact": "Artifact", "Dataset": "Dataset", "Features": "Dataset", "Model": "Model",
         "Metrics": "Metrics", "Prompt": "Artifact", "Index": "Artifact", "Endpoint": "Artifact"}
PYTHON_TYPES = {"int": "int", "float": "float", "str": "str", "bool": "bool"}


def _identifier(name: str, taken: set[str]) -> str:
    base = f"{name}_" if keyword.iskeyword(name) else name
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}_{n}"
    taken.add(candidate)
    return candidate


def _component(step: ir.Step, pipeline: ir.Pipeline, outputs: dict) -> tuple[list[str], dict]:
    """The component's source, and how the pipeline calls it (argument -> kind,
    what); records in `outputs` the Python name of each output."""
    taken: set[str] = set()
    signature, arguments = [], []
    call: dict[str, tuple[str, object]] = {}
    for item in step.inputs:
        if item.ref.output is None:
            arguments.append(repr(input_location(pipeline, item.ref)))
            continue
        name = _identifier(item.name, taken)
        signature.append(f"{name}: Input[{TYPES[item.type.kind]}]")
        arguments.append(f"{name}.path")
        call[name] = ("artifact", item.ref)
    for output in step.outputs:
        name = _identifier(output.name if output.name not in taken else f"{output.name}_out", taken)
        signature.append(f"{name}: Output[{TYPES[output.type.kind]}]")
        arguments.append(f"{name}.path")
        outputs[(step.name, output.name)] = name
    for parameter in step.parameters:
        value = parameter.value
        declared = pipeline.param(value.name).type if isinstance(value, ir.ParamRef) else \
            {bool: "bool", int: "int", float: "float", str: "str"}[type(value.value)]
        name = _identifier(parameter.name, taken)
        signature.append(f"{name}: {PYTHON_TYPES[declared]}")
        arguments.append(name)
        call[name] = ("param", value)
    for variable in step.env:
        if isinstance(variable.value, ir.ParamRef):
            name = _identifier(variable.value.name, taken)
            signature.append(f"{name}: {PYTHON_TYPES[pipeline.param(variable.value.name).type]}")
            arguments.append(name)
            call[name] = ("param", variable.value)
    command = command_text(step.command) if step.command else "true"
    source = [
        "@dsl.container_component",
        f"def {step.name}({', '.join(signature)}):",
        f"    return dsl.ContainerSpec(image={step.image.reference!r}, command=['bash', '-c', {command!r}, "
        f"{step.name!r}], args=[{', '.join(arguments)}])",
        "",
    ]
    return source, call


def _check(gate: ir.Gate, pipeline: ir.Pipeline) -> tuple[list[str], dict]:
    taken: set[str] = set()
    signature, arguments = [], []
    call: dict[str, tuple[str, object]] = {}
    for requirement in gate.requires:
        for operand in ir.condition_operands(requirement.condition):
            if isinstance(operand, ir.MetricRef):
                name = f"{operand.step}_{operand.output}"
                if name not in taken:
                    taken.add(name)
                    signature.append(f"{name}: Input[Metrics]")
                    arguments.append(f"{name}.path")
                    call[name] = ("artifact", ir.ArtifactRef(producer=operand.step, output=operand.output,
                                                             span=operand.span))
            elif isinstance(operand, ir.ParamRef) and operand.name not in taken:
                taken.add(operand.name)
                signature.append(f"{operand.name}: {PYTHON_TYPES[pipeline.param(operand.name).type]}")
                arguments.append(operand.name)
                call[operand.name] = ("param", operand)
    signature.append("holds: OutputPath(str)")
    arguments.append("holds")
    source = [
        "@dsl.container_component",
        f"def {gate.name}({', '.join(signature)}):",
        "    return dsl.ContainerSpec(image='python:3.12-slim', command=['python3', '-c', 'import sys  # checks'], "
        f"args=[{', '.join(arguments)}])",
        "",
    ]
    return source, call


def dsl_source(pipeline: ir.Pipeline, graph: PipelineGraph) -> str:
    lines = [
        "import sys",
        "from kfp import compiler, dsl, kubernetes",
        "from kfp.dsl import Artifact, Dataset, Input, Metrics, Model, Output, OutputPath",
        "",
    ]
    calls, outputs = {}, {}
    for step in pipeline.steps:
        source, calls[step.name] = _component(step, pipeline, outputs)
        lines += source
    for gate in pipeline.gates:
        source, calls[gate.name] = _check(gate, pipeline)
        lines += source
    parameters = []
    for param in pipeline.params:
        default = "" if param.default is None else f" = {param.default!r}"
        parameters.append(f"{param.name}: {PYTHON_TYPES[param.type]}{default}")
    lines += [f"@dsl.pipeline(name={pipeline.name.replace('_', '-')!r})", f"def pipeline({', '.join(parameters)}):"]
    secret = "mlp-" + pipeline.name.lower().replace("_", "-")
    for name in graph.topological_order():
        step, gate = pipeline.step(name), pipeline.gate(name)
        if step is None and gate is None:
            continue
        if step is not None and step.when is not None:
            raise NotImplementedError("`when` is outside this generator's scope")
        bindings = []
        for argument, (kind, value) in calls[name].items():
            if kind == "artifact":
                output = outputs[(value.producer, value.output)]
                bindings.append(f"{argument}=t_{value.producer}.outputs[{output!r}]")
            elif isinstance(value, ir.ParamRef):
                bindings.append(f"{argument}={value.name}")
            else:
                bindings.append(f"{argument}={value.value!r}")
        indent = "    "
        gates = [d for d in graph.dependencies(name) if pipeline.gate(d) is not None] if step is not None else []
        for gated in gates:
            lines.append(f"{indent}with dsl.If(t_{gated}.outputs['holds'] == 'true'):")
            indent += "    "
        lines.append(f"{indent}t_{name} = {name}({', '.join(bindings)})")
        afters = [d for d in (step.after if step is not None else gate.after) if pipeline.gate(d) is None]
        if afters:
            lines.append(f"{indent}t_{name}.after({', '.join(f't_{a}' for a in afters)})")
        if step is None:
            continue
        if step.retries:
            lines.append(f"{indent}t_{name}.set_retry({step.retries})")
        if not step.cache:
            lines.append(f"{indent}t_{name}.set_caching_options(False)")
        if step.timeout:
            lines.append(f"{indent}kubernetes.set_timeout(t_{name}, {step.timeout})")
        resources = step.resources
        if resources is not None:
            if resources.cpu is not None:
                lines.append(f"{indent}t_{name}.set_cpu_limit({cpu_quantity(resources.cpu)!r})")
            if resources.memory is not None:
                lines.append(f"{indent}t_{name}.set_memory_limit({memory_quantity(resources.memory)!r})")
            if resources.gpu:
                lines.append(f"{indent}t_{name}.set_accelerator_type('nvidia.com/gpu')"
                             f".set_accelerator_limit({resources.gpu})")
            if resources.gpu_type:
                lines.append(f"{indent}kubernetes.add_node_selector(t_{name}, "
                             f"label_key='cloud.google.com/gke-accelerator', label_value={resources.gpu_type!r})")
        secrets = {v.value.name: v.name for v in step.env if isinstance(v.value, ir.SecretRef)}
        if secrets:
            lines.append(f"{indent}kubernetes.use_secret_as_env(t_{name}, secret_name={secret!r}, "
                         f"secret_key_to_env={secrets!r})")
        for variable in step.env:
            if isinstance(variable.value, ir.LiteralValue):
                lines.append(f"{indent}t_{name}.set_env_variable({variable.name!r}, {str(variable.value.value)!r})")
    lines += ["", "", "compiler.Compiler().compile(pipeline, sys.argv[1])", ""]
    return "\n".join(lines)
