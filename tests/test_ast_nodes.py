"""The syntax-tree node classes (`mlplang.dsl.ast.Node`) behave like frozen,
slotted dataclasses: the parser, the compiler, the formatter and the language
server rely on each of these properties."""

from __future__ import annotations

import copy
import dataclasses
import pickle

import pytest

from mlplang.dsl import ast
from mlplang.source import Span

SPAN = Span("a.mlp", 1, 1, 1, 4, 0, 3)
OTHER = Span("a.mlp", 2, 1, 2, 4, 10, 13)
NODE_CLASSES = [c for c in vars(ast).values() if isinstance(c, type) and issubclass(c, ast.Node) and c is not ast.Node]


def name(value: str = "abc", span: Span = SPAN) -> ast.Name:
    return ast.Name(value, span)


def test_every_node_class_of_the_module_is_a_node_with_its_annotations_as_slots():
    assert len(NODE_CLASSES) == 39
    for cls in NODE_CLASSES:
        fields = tuple(cls.__annotations__)
        assert cls.__slots__ == cls.__match_args__ == fields, cls
        assert cls.__init__.__qualname__ == f"{cls.__qualname__}.__init__"


def test_construction_by_position_and_by_keyword():
    by_position = ast.Interpolation("in", "data", SPAN, OTHER)
    by_keyword = ast.Interpolation(name_span=OTHER, span=SPAN, name="data", namespace="in")
    assert by_position == by_keyword
    assert (by_keyword.namespace, by_keyword.name, by_keyword.span, by_keyword.name_span) == ("in", "data", SPAN, OTHER)


@pytest.mark.parametrize("call", [
    lambda: ast.Name("abc"),
    lambda: ast.Name("abc", SPAN, SPAN),
    lambda: ast.Name("abc", SPAN, value="x"),
    lambda: ast.Name(value="abc", span=SPAN, extra=1),
])
def test_wrong_arguments_are_a_type_error(call):
    with pytest.raises(TypeError):
        call()


def test_nodes_are_frozen_and_have_no_instance_dict():
    node = name()
    with pytest.raises(dataclasses.FrozenInstanceError):
        node.value = "other"
    with pytest.raises(dataclasses.FrozenInstanceError):
        node.extra = 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        del node.value
    assert isinstance(dataclasses.FrozenInstanceError(), AttributeError)
    assert node.value == "abc" and not hasattr(node, "__dict__")


def test_equality_is_by_type_and_fields():
    assert name() == name() and not (name() != name())
    assert name() != name("abd") and name() != name(span=OTHER)
    # Same field names and values, different classes: never equal.
    assert ast.WhenDecl(name(), SPAN) != ast.RequireDecl(name(), SPAN)
    assert ast.StepDecl(name(), (), SPAN) != ast.GateDecl(name(), (), SPAN)
    assert name() != ("abc", SPAN) and name() != "abc"
    error = ast.ErrorValue(SPAN)  # a single field
    assert error == ast.ErrorValue(SPAN) and error != ast.ErrorValue(OTHER) and error != SPAN


def test_hash_follows_equality():
    assert hash(name()) == hash(name())
    assert len({name(), name(), name("x")}) == 2
    assert len({ast.WhenDecl(name(), SPAN), ast.RequireDecl(name(), SPAN)}) == 2
    assert hash(ast.WhenDecl(name(), SPAN)) != hash(ast.RequireDecl(name(), SPAN))  # the type is hashed too
    assert hash(ast.ErrorValue(SPAN)) == hash(ast.ErrorValue(SPAN))
    assert {ast.Ref((name(), name("b")), SPAN): 1}[ast.Ref((name(), name("b")), SPAN)] == 1


def test_repr_shows_the_class_and_fields_like_a_dataclass():
    assert repr(ast.BoolLit(True, SPAN)) == f"BoolLit(value=True, span={SPAN!r})"
    assert repr(ast.ErrorValue(SPAN)) == f"ErrorValue(span={SPAN!r})"
    assert repr(ast.Ref((name(),), SPAN)) == f"Ref(parts=({name()!r},), span={SPAN!r})"


def test_class_patterns_match_by_position_and_keyword():
    def describe(node: ast.Node) -> str:
        match node:
            case ast.Ref((ast.Name("param"), ast.Name(param)), _):
                return f"param {param}"
            case ast.Compare(left=ast.NumberLit(value=number), op=op):
                return f"{number} {op}"
            case ast.Name(value):
                return f"name {value}"
        return "other"

    assert describe(ast.Ref((name("param"), name("epochs")), SPAN)) == "param epochs"
    assert describe(ast.Compare(ast.NumberLit(1, "1", SPAN), "<", name(), SPAN)) == "1 <"
    assert describe(name("x")) == "name x"
    assert describe(ast.ErrorValue(SPAN)) == "other"


def test_match_args_name_the_fields_in_order_for_tree_walks():
    node = ast.TypeRef(name("Model"), name("sklearn"), SPAN)
    assert [getattr(node, f) for f in node.__match_args__] == [name("Model"), name("sklearn"), SPAN]
    assert ast.BoolLit.__match_args__ == ("value", "span")


def test_copy_and_pickle_round_trip():
    node = ast.StringLit((ast.TextPart("a", SPAN), ast.Interpolation("in", "x", SPAN, OTHER)), False, SPAN)
    for clone in (copy.copy(node), copy.deepcopy(node), pickle.loads(pickle.dumps(node))):
        assert clone == node and type(clone) is ast.StringLit
        assert clone.text == "a${in.x}"


def test_properties_and_methods_of_node_classes_are_kept():
    assert str(ast.TypeRef(name("Model"), name("sklearn"), SPAN)) == "Model<sklearn>"
    assert ast.Ref((name("train"), name("model")), SPAN).dotted == "train.model"
    module = ast.Module("a.mlp", (ast.ImportDecl(ast.StringLit((), False, SPAN), None, SPAN),), (), SPAN)
    assert len(module.imports) == 1 and module.pipelines == ()


def test_a_node_class_cannot_extend_another():
    with pytest.raises(TypeError, match="derive node classes from Node"):
        class Special(ast.Name):  # noqa: F841
            extra: int
