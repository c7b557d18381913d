"""The syntax tree: what the user wrote, with a span on every node and value.

Nodes are frozen dataclasses (cheap to build: the parser makes one per
construct). They keep the surface form - names as written, strings split into
text and interpolations - and no meaning; `mlplang.compiler` gives meaning.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from mlplang.source import Span


@dataclass(frozen=True, slots=True)
class Name:
    value: str
    span: Span


# ---- strings -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TextPart:
    """Literal text, escapes already decoded."""

    text: str
    span: Span


@dataclass(frozen=True, slots=True)
class Interpolation:
    """`${namespace.name}` inside a string; namespace is in/out/param/secret."""

    namespace: str
    name: str
    span: Span
    name_span: Span


StringPart = Union[TextPart, Interpolation]


@dataclass(frozen=True, slots=True)
class StringLit:
    parts: tuple[StringPart, ...]
    triple: bool
    span: Span

    @property
    def text(self) -> str:
        """The string with interpolations written back as `${ns.name}`."""
        return "".join(
            p.text if isinstance(p, TextPart) else f"${{{p.namespace}.{p.name}}}" for p in self.parts
        )

    @property
    def has_interpolation(self) -> bool:
        return any(isinstance(p, Interpolation) for p in self.parts)


# ---- other values ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NumberLit:
    value: int | float
    text: str
    span: Span


@dataclass(frozen=True, slots=True)
class DurationLit:
    seconds: int | float
    text: str
    span: Span


@dataclass(frozen=True, slots=True)
class SizeLit:
    bytes: int
    text: str
    span: Span


@dataclass(frozen=True, slots=True)
class BoolLit:
    value: bool
    span: Span


@dataclass(frozen=True, slots=True)
class ListLit:
    items: tuple[Value, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class MapEntry:
    key: Name
    value: Value
    span: Span


@dataclass(frozen=True, slots=True)
class MapLit:
    entries: tuple[MapEntry, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class CronLit:
    expression: StringLit
    span: Span


@dataclass(frozen=True, slots=True)
class Ref:
    """A dotted reference: `transactions`, `train.model`, `param.epochs`,
    `evaluate.report.auc`."""

    parts: tuple[Name, ...]
    span: Span

    @property
    def dotted(self) -> str:
        return ".".join(p.value for p in self.parts)


@dataclass(frozen=True, slots=True)
class ErrorValue:
    """Stands for a value the parser could not read (its error is reported)."""

    span: Span


# ---- conditions --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Compare:
    left: Expr
    op: str
    right: Expr
    span: Span


@dataclass(frozen=True, slots=True)
class BoolOp:
    op: str  # "and" | "or"
    operands: tuple[Expr, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class Not:
    operand: Expr
    span: Span


Value = Union[
    StringLit, NumberLit, DurationLit, SizeLit, BoolLit, ListLit, MapLit, CronLit, Ref, ErrorValue
]
Expr = Union[Value, Compare, BoolOp, Not]


# ---- declarations ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TypeRef:
    name: Name
    flavor: Name | None
    span: Span

    def __str__(self) -> str:
        return f"{self.name.value}<{self.flavor.value}>" if self.flavor else self.name.value


@dataclass(frozen=True, slots=True)
class Attribute:
    name: Name
    value: Value
    span: Span


@dataclass(frozen=True, slots=True)
class Block:
    """`name { attr = value ... }`, e.g. `resources {}` or `approval {}`."""

    name: Name
    attributes: tuple[Attribute, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class InputDecl:
    name: Name
    type: TypeRef
    binding: Value | None
    span: Span


@dataclass(frozen=True, slots=True)
class OutputDecl:
    name: Name
    type: TypeRef
    attributes: tuple[Attribute, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class AfterDecl:
    names: tuple[Name, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class WhenDecl:
    condition: Expr
    span: Span


@dataclass(frozen=True, slots=True)
class RequireDecl:
    condition: Expr
    span: Span


BodyItem = Union[Attribute, Block, InputDecl, OutputDecl, AfterDecl, WhenDecl, RequireDecl]


@dataclass(frozen=True, slots=True)
class ParamDecl:
    name: Name
    type: Name
    default: Value | None
    span: Span


@dataclass(frozen=True, slots=True)
class SecretDecl:
    name: Name
    span: Span


@dataclass(frozen=True, slots=True)
class SourceDecl:
    name: Name
    type: TypeRef
    attributes: tuple[Attribute, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class StepDecl:
    name: Name
    body: tuple[BodyItem, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class Argument:
    name: Name
    value: Value
    span: Span


@dataclass(frozen=True, slots=True)
class TemplateStepDecl:
    """`step NAME = module.template(arg = value, ...) { extra body }`."""

    name: Name
    template: Ref
    arguments: tuple[Argument, ...]
    body: tuple[BodyItem, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class GateDecl:
    name: Name
    body: tuple[BodyItem, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class MonitorDecl:
    name: Name
    body: tuple[BodyItem, ...]
    span: Span


Member = Union[
    Attribute, ParamDecl, SecretDecl, SourceDecl, StepDecl, TemplateStepDecl, GateDecl, MonitorDecl
]


@dataclass(frozen=True, slots=True)
class PipelineDecl:
    name: Name
    members: tuple[Member, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class TemplateParam:
    name: Name
    type: TypeRef
    default: Value | None
    span: Span


@dataclass(frozen=True, slots=True)
class TemplateDecl:
    name: Name
    params: tuple[TemplateParam, ...]
    body: tuple[BodyItem, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class ImportDecl:
    path: StringLit
    alias: Name | None
    span: Span


@dataclass(frozen=True, slots=True)
class Comment:
    text: str
    span: Span


TopLevel = Union[ImportDecl, PipelineDecl, TemplateDecl]


@dataclass(frozen=True, slots=True)
class Module:
    """One parsed file: its top-level items and its comments (kept for the
    formatter and for `# mlp: ignore[...]` suppressions)."""

    path: str
    items: tuple[TopLevel, ...]
    comments: tuple[Comment, ...]
    span: Span

    @property
    def imports(self) -> tuple[ImportDecl, ...]:
        return tuple(i for i in self.items if isinstance(i, ImportDecl))

    @property
    def pipelines(self) -> tuple[PipelineDecl, ...]:
        return tuple(i for i in self.items if isinstance(i, PipelineDecl))

    @property
    def templates(self) -> tuple[TemplateDecl, ...]:
        return tuple(i for i in self.items if isinstance(i, TemplateDecl))
