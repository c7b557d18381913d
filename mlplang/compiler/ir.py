"""The typed IR: what a pipeline means, after names are resolved and types checked.

Immutable pydantic models. Backends and rules read only these (and the
`PipelineGraph` built from them), never the syntax tree. Every model that
stands for something the user wrote carries its `span`.
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field

from mlplang.source import Span

ARTIFACT_KINDS = ("Artifact", "Dataset", "Features", "Model", "Metrics", "Prompt", "Index", "Endpoint")
PARAM_TYPES = ("int", "float", "str", "bool")
RISK_LEVELS = ("high", "limited", "minimal")
BREACH_ACTIONS = ("retrain", "alert")
COMPARISON_OPS = ("<", "<=", ">", ">=", "==", "!=")

ArtifactKind = Literal["Artifact", "Dataset", "Features", "Model", "Metrics", "Prompt", "Index", "Endpoint"]
ParamType = Literal["int", "float", "str", "bool"]
Scalar = Union[bool, int, float, str]


# The `__set__` of each slot `BaseModel` declares: setting a slot through its
# descriptor skips the attribute lookup `object.__setattr__` does by name, and
# bypasses the frozen model's `__setattr__` just the same (~40% faster `trusted`).
_set_dict, _set_fields_set, _set_extra, _set_private = (
    BaseModel.__dict__[slot].__set__
    for slot in ("__dict__", "__pydantic_fields_set__", "__pydantic_extra__", "__pydantic_private__")
)
_RESERVED = ("cls", "node", "new", "set_dict", "set_fields_set", "set_extra", "set_private", "fields_set")


def _trusted_constructor(cls: type[IRNode]):
    """`cls.trusted(**fields)`, generated for the class like a dataclass `__init__`:
    every field a required keyword, the `__dict__` built in field order."""
    names = tuple(cls.model_fields)
    for name in names:  # each becomes a parameter of the generated function
        if not name.isidentifier() or name.startswith("_") or name in _RESERVED:
            raise TypeError(f"{cls.__name__}.{name}: a field name `trusted` cannot take")
    arguments = "".join(f", {name}" for name in names)
    values = ", ".join(f"{name!r}: {name}" for name in names)
    source = (
        f"def trusted(cls{', *' if names else ''}{arguments}):\n"
        f"    node = new(cls)\n"
        f"    set_dict(node, {{{values}}})\n"
        f"    set_fields_set(node, fields_set)\n"
        f"    set_extra(node, None)\n"
        f"    set_private(node, None)\n"
        f"    return node\n"
    )
    # Every field is set; one set per class, never mutated (the models are
    # frozen, and `model_copy` gives each copy its own).
    namespace = {"new": cls.__new__, "set_dict": _set_dict, "set_fields_set": _set_fields_set,
                 "set_extra": _set_extra, "set_private": _set_private, "fields_set": set(names)}
    exec(source, namespace)  # noqa: S102 - the source is built from field names checked above
    function = namespace["trusted"]
    function.__qualname__ = f"{cls.__name__}.trusted"
    function.__doc__ = IRNode.trusted.__doc__
    return classmethod(function)


class IRNode(BaseModel):
    # `defer_build`: validators are built on first validation, not at import
    # (the lowerer builds nodes with `trusted`, which needs none).
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        type.__setattr__(cls, "trusted", _trusted_constructor(cls))

    @classmethod
    def trusted(cls, **fields):
        """Build a node without validation, for the lowerer's hot paths: every
        field must be given (a missing or unknown one is a TypeError), with a
        value of its declared type, as the lowerer has already checked. The
        result is the same frozen model that validation builds;
        tests/test_ir.py re-validates the IR of every example and test
        program, type for type, to keep this honest."""
        # Every subclass gets its own generated constructor at definition
        # (`__pydantic_init_subclass__`); this builds one for the class at hand.
        return _trusted_constructor(cls).__get__(None, cls)(**fields)


class ArtifactType(IRNode):
    kind: ArtifactKind
    flavor: str | None = None

    def __str__(self) -> str:
        return f"{self.kind}<{self.flavor}>" if self.flavor else self.kind


class Cron(IRNode):
    expression: str
    span: Span


# ---- values ---------------------------------------------------------------


class LiteralValue(IRNode):
    kind: Literal["literal"] = "literal"
    value: Scalar
    span: Span


class ParamRef(IRNode):
    """A pipeline param, read at run time."""

    kind: Literal["param"] = "param"
    name: str
    span: Span


class SecretRef(IRNode):
    kind: Literal["secret"] = "secret"
    name: str
    span: Span


class MetricRef(IRNode):
    """`step.output.key`: the value of `key` in the metrics JSON of an output."""

    kind: Literal["metric"] = "metric"
    step: str
    output: str
    key: str
    span: Span

    @property
    def artifact_id(self) -> str:
        return f"{self.step}.{self.output}"


Operand = Annotated[Union[LiteralValue, ParamRef, MetricRef], Field(discriminator="kind")]


# ---- conditions (`require`, `when`) ------------------------------------------


class Comparison(IRNode):
    kind: Literal["compare"] = "compare"
    left: Operand
    op: Literal["<", "<=", ">", ">=", "==", "!="]
    right: Operand
    span: Span


class BoolCondition(IRNode):
    kind: Literal["bool"] = "bool"
    op: Literal["and", "or"]
    operands: tuple[Condition, ...]
    span: Span


class NotCondition(IRNode):
    kind: Literal["not"] = "not"
    operand: Condition
    span: Span


class Truth(IRNode):
    """A bare boolean operand used as a condition: `when param.enabled`."""

    kind: Literal["truth"] = "truth"
    operand: Operand
    span: Span


Condition = Annotated[
    Union[Comparison, BoolCondition, NotCondition, Truth], Field(discriminator="kind")
]


def condition_operands(condition: Condition) -> list[LiteralValue | ParamRef | MetricRef]:
    """Every operand of a condition, left to right."""
    if isinstance(condition, Comparison):
        return [condition.left, condition.right]
    if isinstance(condition, Truth):
        return [condition.operand]
    if isinstance(condition, NotCondition):
        return condition_operands(condition.operand)
    return [o for sub in condition.operands for o in condition_operands(sub)]


# ---- commands ------------------------------------------------------------------


class Text(IRNode):
    kind: Literal["text"] = "text"
    text: str


class InputPath(IRNode):
    """`${in.X}`: the local path of input X, supplied by the backend at run time."""

    kind: Literal["input"] = "input"
    name: str
    span: Span


class OutputPath(IRNode):
    kind: Literal["output"] = "output"
    name: str
    span: Span


class ParamValue(IRNode):
    """`${param.X}`: the value bound to the step parameter X at run time."""

    kind: Literal["param"] = "param"
    name: str
    span: Span


Segment = Annotated[Union[Text, InputPath, OutputPath, ParamValue], Field(discriminator="kind")]


class Command(IRNode):
    segments: tuple[Segment, ...]
    span: Span

    @property
    def source_text(self) -> str:
        """The command with interpolations written back as `${ns.name}`."""
        return "".join([s.text if type(s) is Text else f"${{{_NAMESPACE_OF[s.kind]}.{s.name}}}"
                        for s in self.segments])


_NAMESPACE_OF = {"input": "in", "output": "out", "param": "param"}
"""A segment's kind -> the namespace the user wrote."""


# ---- declarations ----------------------------------------------------------------


class Param(IRNode):
    name: str
    type: ParamType
    default: Scalar | None = None
    span: Span


class Secret(IRNode):
    name: str
    span: Span


class Source(IRNode):
    name: str
    type: ArtifactType
    uri: str
    version: str | None = None
    pii: tuple[str, ...] = ()
    description: str | None = None
    span: Span

    @property
    def artifact_id(self) -> str:
        return self.name


class ArtifactRef(IRNode):
    """A bound artifact: a source (`output` is None) or `step.output`."""

    producer: str
    output: str | None = None
    span: Span

    @property
    def artifact_id(self) -> str:
        return self.producer if self.output is None else f"{self.producer}.{self.output}"


class Input(IRNode):
    name: str
    type: ArtifactType
    ref: ArtifactRef
    span: Span


class Output(IRNode):
    name: str
    type: ArtifactType
    pii: tuple[str, ...] | None = None
    """Columns of personal data the output still holds; None = inherited by lineage."""
    description: str | None = None
    span: Span


class StepParameter(IRNode):
    """A value the command reads as `${param.name}`: a pipeline param or, in a
    template instance, the argument's value."""

    name: str
    value: Annotated[Union[LiteralValue, ParamRef], Field(discriminator="kind")]


class EnvVar(IRNode):
    name: str
    value: Annotated[Union[LiteralValue, ParamRef, SecretRef], Field(discriminator="kind")]
    span: Span


class Resources(IRNode):
    cpu: float | None = None
    memory: int | None = None
    """Bytes."""
    gpu: int | None = None
    gpu_type: str | None = None
    span: Span


class Image(IRNode):
    reference: str
    span: Span

    @property
    def digest(self) -> str | None:
        return self.reference.split("@", 1)[1] if "@" in self.reference else None


class Task(IRNode):
    """What steps and monitors share: something that runs a command in an image."""

    name: str
    image: Image | None = None
    command: Command | None = None
    env: tuple[EnvVar, ...] = ()
    inputs: tuple[Input, ...] = ()
    outputs: tuple[Output, ...] = ()
    parameters: tuple[StepParameter, ...] = ()
    retries: int = 0
    timeout: int | None = None
    """Seconds."""
    resources: Resources | None = None
    description: str | None = None
    span: Span
    name_span: Span

    def output(self, name: str) -> Output | None:
        return next((o for o in self.outputs if o.name == name), None)

    def input(self, name: str) -> Input | None:
        return next((i for i in self.inputs if i.name == name), None)


class TemplateOrigin(IRNode):
    """Where a templated step came from, for hovers and go-to-definition."""

    module: str
    template: str
    span: Span
    arguments: tuple[StepParameter, ...] = ()
    """The scalar arguments, by template parameter name (defaults included), even
    those the template's command and env never read."""


class Step(Task):
    after: tuple[str, ...] = ()
    when: Condition | None = None
    cache: bool = True
    template: TemplateOrigin | None = None


class Approval(IRNode):
    reviewers: tuple[str, ...] = ()
    timeout: int | None = None
    description: str | None = None
    span: Span


class Requirement(IRNode):
    condition: Condition
    span: Span


class Gate(IRNode):
    name: str
    requires: tuple[Requirement, ...] = ()
    approval: Approval | None = None
    after: tuple[str, ...] = ()
    description: str | None = None
    span: Span
    name_span: Span


class Monitor(Task):
    watch: ArtifactRef | None = None
    schedule: Cron | None = None
    requires: tuple[Requirement, ...] = ()
    on_breach: Literal["retrain", "alert"] | None = None


class Pipeline(IRNode):
    name: str
    file: str
    description: str | None = None
    owner: str | None = None
    schedule: Cron | None = None
    risk: Literal["high", "limited", "minimal"] | None = None
    tags: tuple[str, ...] = ()
    params: tuple[Param, ...] = ()
    secrets: tuple[Secret, ...] = ()
    sources: tuple[Source, ...] = ()
    steps: tuple[Step, ...] = ()
    gates: tuple[Gate, ...] = ()
    monitors: tuple[Monitor, ...] = ()
    span: Span
    name_span: Span

    def step(self, name: str) -> Step | None:
        return next((s for s in self.steps if s.name == name), None)

    def source(self, name: str) -> Source | None:
        return next((s for s in self.sources if s.name == name), None)

    def gate(self, name: str) -> Gate | None:
        return next((g for g in self.gates if g.name == name), None)

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)


# `BoolCondition` and `NotCondition` refer to `Condition`, defined after them: with
# `defer_build`, their validators are completed on first use (no `model_rebuild()` at import).
