"""Syntax trees as nested tuples of plain values, for `marshal`, and back.

A large file is parsed in two processes (`mlplang.dsl.split_parse`); the
child's half of the tree comes back through a pipe. Pickling nodes would
cost as much as parsing them (a Python-level `__reduce__` per node and per
span); as plain tuples and lists they go through `marshal` at C speed, and
only the rebuilding of the nodes is Python code.

A node is `(class code, field, ...)`, a span the plain tuple of its fields,
a tuple of nodes a list; strings, numbers, booleans and None are themselves.
The encoder and decoder of each node class are generated from its field
annotations, like its `__init__` (`mlplang.dsl.ast`).
"""

from __future__ import annotations

import functools
import marshal
from collections.abc import Callable, Sequence

from mlplang.dsl import ast
from mlplang.source import Span

_SCALARS = frozenset({"str", "bool", "int", "int | float"})


def _node_classes() -> tuple[type[ast.Node], ...]:
    classes = [value for value in vars(ast).values()
               if isinstance(value, type) and issubclass(value, ast.Node) and value is not ast.Node]
    return tuple(sorted(classes, key=lambda cls: cls.__name__))


def _field_kind(annotation: str) -> str:
    optional = annotation.endswith(" | None")
    bare = annotation.removesuffix(" | None")
    if bare in _SCALARS:  # `str | None` too: None passes through as it is
        return "scalar"
    if bare == "Span":
        return "optional_span" if optional else "span"
    if bare.startswith("tuple["):
        if optional:
            raise TypeError(f"no codec for a field of type {annotation}")
        return "nodes"
    return "optional" if optional else "node"


# Each field's code, by kind: `E` maps a class to its encoder, `D` a code to its decoder.
# A span is a tuple subclass, which marshal refuses: `span[:]` is its plain copy.
_ENCODE = {"span": "{v}[:]", "optional_span": "None if {v} is None else {v}[:]", "scalar": "{v}",
           "nodes": "[E[type(x)](x) for x in {v}]",
           "optional": "None if {v} is None else E[type({v})]({v})", "node": "E[type({v})]({v})"}
_DECODE = {"span": "new(Span, {v})", "optional_span": "None if {v} is None else new(Span, {v})", "scalar": "{v}",
           "nodes": "tuple([D[x[0]](x) for x in {v}])",
           "optional": "None if {v} is None else D[{v}[0]]({v})", "node": "D[{v}[0]]({v})"}


@functools.cache
def _codecs() -> tuple[dict[type, Callable], list[Callable]]:
    """Per node class: an encoder (by class) and a decoder (by code).

    A decoder fills the new node's slots itself, as the class's `__init__`
    does (`mlplang.dsl.ast`), rather than calling the class: one Python call
    a node instead of two, ~8% of the decoding time."""
    encoders: dict[type, Callable] = {}
    decoders: list[Callable] = []
    namespace = {"E": encoders, "D": decoders, "new": tuple.__new__, "Span": Span, "alloc": object.__new__}
    for code, cls in enumerate(_node_classes()):
        names = cls.__match_args__
        kinds = [_field_kind(cls.__annotations__[name]) for name in names]
        fields = ", ".join(_ENCODE[kind].format(v=f"n.{name}") for name, kind in zip(names, kinds))
        filled = "".join(f"\n    set_{name}(n, {_DECODE[kind].format(v=f't[{i + 1}]')})"
                         for i, (name, kind) in enumerate(zip(names, kinds)))
        scope = {**namespace, "cls": cls, **{f"set_{name}": cls.__dict__[name].__set__ for name in names}}
        exec(f"def encode_one(n): return ({code}, {fields})\n"  # noqa: S102 - generated from annotations
             f"def decode_one(t):\n    n = alloc(cls){filled}\n    return n\n", scope)
        encoders[cls] = scope["encode_one"]
        decoders.append(scope["decode_one"])
    return encoders, decoders


def dumps(nodes: Sequence[ast.Node]) -> bytes:
    encoders, _ = _codecs()
    return marshal.dumps([encoders[type(node)](node) for node in nodes])


def loads(data: bytes) -> list[ast.Node]:
    _, decoders = _codecs()
    return [decoders[encoded[0]](encoded) for encoded in marshal.loads(data)]
