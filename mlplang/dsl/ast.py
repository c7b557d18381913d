"""The syntax tree: what the user wrote, with a span on every node and value.

Nodes keep the surface form - names as written, strings split into text and
interpolations - and no meaning; `mlplang.compiler` gives meaning.

Each node class derives from `Node` and lists its fields as annotations. It
behaves like a `@dataclass(frozen=True, slots=True)`: construction by position
or keyword, assignment raises `FrozenInstanceError`, equality and hash by type
and fields, a repr with the fields, and `__match_args__` (the field names, in
order) for `match` and for code that walks the tree. It is not built by `@dataclass`, which costs ~0.5 ms a
class (it compiles six methods per class and, for slots, creates every class
twice): the 39 node classes were ~20 ms of every `mlp` start. Here each class
is created once, the shared methods live on `Node`, and only `__init__` is
generated per class; it fills the slots through their descriptors, which also
makes a node about a third cheaper to build than a frozen dataclass (whose `__init__`
calls `object.__setattr__` per field) - and the parser builds one node per
construct, 400,000 for a 10,000-step file.
"""

from __future__ import annotations

import dataclasses
from operator import attrgetter
from typing import TYPE_CHECKING, Any, Union

from mlplang.source import Span

if TYPE_CHECKING:  # lets type checkers and editors see the generated __init__
    from typing_extensions import dataclass_transform
else:
    def dataclass_transform(**_options):
        return lambda cls: cls


@dataclass_transform(frozen_default=True)
class _NodeClass(type):
    """The metaclass of the nodes: turns a class's annotated fields into its
    `__slots__` and `__match_args__` and generates its `__init__`."""

    def __new__(mcls, name: str, bases: tuple[type, ...], namespace: dict[str, Any]) -> _NodeClass:
        annotations = namespace.get("__annotations__", {})
        fields = tuple(annotations)
        if any(getattr(base, "__match_args__", ()) for base in bases):
            raise TypeError(f"{name}: derive node classes from Node, not from a class with fields")
        namespace["__slots__"] = namespace["__match_args__"] = fields
        if fields:
            # An attrgetter is not a descriptor: `node._field_values` is the getter
            # itself, and gives (a, b, ...) for several fields, the value for one.
            namespace["_field_values"] = attrgetter(*fields)
        cls = super().__new__(mcls, name, bases, namespace)
        if fields:
            cls.__init__ = _make_init(cls, fields)  # needs the slots' descriptors, made with the class
        return cls


def _make_init(cls: type, fields: tuple[str, ...]):
    """`def __init__(self, a, b): set_a(self, a); set_b(self, b)`, where `set_a`
    is the `__set__` of slot `a`'s descriptor: it bypasses the frozen
    `__setattr__` at the cost of one C call per field."""
    namespace = {f"set_{f}": cls.__dict__[f].__set__ for f in fields}
    body = "".join(f"\n    set_{f}(self, {f})" for f in fields)
    exec(f"def __init__(self, {', '.join(fields)}):{body}", namespace)
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    return init


class Node(metaclass=_NodeClass):
    """Base of the syntax-tree nodes: immutable, compared and hashed by type
    and fields (nodes of two classes are never equal)."""

    def __setattr__(self, name: str, value: object) -> None:
        raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")

    def __eq__(self, other: object) -> bool:
        if type(other) is type(self):
            return self._field_values(self) == other._field_values(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash((type(self), self._field_values(self)))

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__match_args__)
        return f"{type(self).__qualname__}({fields})"

    def __reduce__(self) -> tuple[type, tuple]:
        """For copy and pickle, whose default would restore slots through the
        frozen `__setattr__`."""
        return type(self), tuple(getattr(self, name) for name in self.__match_args__)


class Name(Node):
    value: str
    span: Span


# ---- strings -------------------------------------------------------------


class TextPart(Node):
    """Literal text, escapes already decoded."""

    text: str
    span: Span


class Interpolation(Node):
    """`${namespace.name}` inside a string; namespace is in/out/param/secret."""

    namespace: str
    name: str
    span: Span
    name_span: Span


StringPart = Union[TextPart, Interpolation]


class StringLit(Node):
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


class NumberLit(Node):
    value: int | float
    text: str
    span: Span


class DurationLit(Node):
    seconds: int | float
    text: str
    span: Span


class SizeLit(Node):
    bytes: int
    text: str
    span: Span


class BoolLit(Node):
    value: bool
    span: Span


class ListLit(Node):
    items: tuple[Value, ...]
    span: Span


class MapEntry(Node):
    key: Name
    value: Value
    span: Span


class MapLit(Node):
    entries: tuple[MapEntry, ...]
    span: Span


class CronLit(Node):
    expression: StringLit
    span: Span


class Ref(Node):
    """A dotted reference: `transactions`, `train.model`, `param.epochs`,
    `evaluate.report.auc`."""

    parts: tuple[Name, ...]
    span: Span

    @property
    def dotted(self) -> str:
        return ".".join(p.value for p in self.parts)


class ErrorValue(Node):
    """Stands for a value the parser could not read (its error is reported)."""

    span: Span


# ---- conditions --------------------------------------------------------------


class Compare(Node):
    left: Expr
    op: str
    right: Expr
    span: Span


class BoolOp(Node):
    op: str  # "and" | "or"
    operands: tuple[Expr, ...]
    span: Span


class Not(Node):
    operand: Expr
    span: Span


Value = Union[
    StringLit, NumberLit, DurationLit, SizeLit, BoolLit, ListLit, MapLit, CronLit, Ref, ErrorValue
]
Expr = Union[Value, Compare, BoolOp, Not]


# ---- declarations ------------------------------------------------------------


class TypeRef(Node):
    name: Name
    flavor: Name | None
    span: Span

    def __str__(self) -> str:
        return f"{self.name.value}<{self.flavor.value}>" if self.flavor else self.name.value


class Attribute(Node):
    name: Name
    value: Value
    span: Span


class Block(Node):
    """`name { attr = value ... }`, e.g. `resources {}` or `approval {}`."""

    name: Name
    attributes: tuple[Attribute, ...]
    span: Span


class InputDecl(Node):
    name: Name
    type: TypeRef
    binding: Value | None
    span: Span


class OutputDecl(Node):
    name: Name
    type: TypeRef
    attributes: tuple[Attribute, ...]
    span: Span


class AfterDecl(Node):
    names: tuple[Name, ...]
    span: Span


class WhenDecl(Node):
    condition: Expr
    span: Span


class RequireDecl(Node):
    condition: Expr
    span: Span


BodyItem = Union[Attribute, Block, InputDecl, OutputDecl, AfterDecl, WhenDecl, RequireDecl]


class ParamDecl(Node):
    name: Name
    type: Name
    default: Value | None
    span: Span


class SecretDecl(Node):
    name: Name
    span: Span


class SourceDecl(Node):
    name: Name
    type: TypeRef
    attributes: tuple[Attribute, ...]
    span: Span


class StepDecl(Node):
    name: Name
    body: tuple[BodyItem, ...]
    span: Span


class Argument(Node):
    name: Name
    value: Value
    span: Span


class TemplateStepDecl(Node):
    """`step NAME = module.template(arg = value, ...) { extra body }`."""

    name: Name
    template: Ref
    arguments: tuple[Argument, ...]
    body: tuple[BodyItem, ...]
    span: Span


class GateDecl(Node):
    name: Name
    body: tuple[BodyItem, ...]
    span: Span


class MonitorDecl(Node):
    name: Name
    body: tuple[BodyItem, ...]
    span: Span


Member = Union[
    Attribute, ParamDecl, SecretDecl, SourceDecl, StepDecl, TemplateStepDecl, GateDecl, MonitorDecl
]


class PipelineDecl(Node):
    name: Name
    members: tuple[Member, ...]
    span: Span


class TemplateParam(Node):
    name: Name
    type: TypeRef
    default: Value | None
    span: Span


class TemplateDecl(Node):
    name: Name
    params: tuple[TemplateParam, ...]
    body: tuple[BodyItem, ...]
    span: Span


class ImportDecl(Node):
    path: StringLit
    alias: Name | None
    span: Span


class Comment(Node):
    text: str
    span: Span


TopLevel = Union[ImportDecl, PipelineDecl, TemplateDecl]


class Module(Node):
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
