"""The fast paths added for large pipelines give exactly what the simple
definitions they replace gave (kept here as the reference)."""

from __future__ import annotations

import ast
import re
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from mlplang.backends import yaml_writer
from mlplang.backends.airflow import pysource
from mlplang.backends.airflow.backend import DagBuilder
from mlplang.backends.github import CHECKOUT, DOWNLOAD, UPLOAD, _annotate_pins
from mlplang.backends.kubeflow import transport
from mlplang.backends.shell import command_text

MARK = transport.MARK
awkward = st.text(alphabet=st.sampled_from(list("ab {}$\"'\\\n\r\t\x00\x7f\x85\u2028\u200e\u3000é漢\ufeff")
                                           + ["\U0001F600", "\ud800", MARK, "\u0301"]), max_size=20)


def reference_string(text: str) -> str:
    quote = "'" if text.count('"') > text.count("'") else '"'
    return quote + "".join("\\" + c if c == quote else pysource._escape(c) for c in text) + quote


def reference_width(text: str) -> int:
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in ("W", "F") else 1
               for c in text)


@settings(max_examples=500)
@given(awkward | st.text())
def test_python_string_literal_and_width(text):
    assert pysource.string(text) == reference_string(text)
    assert pysource.width(text) == reference_width(text)


def reference_escape(text: str, argument: bool) -> str:
    lead = len(text) - len(text.lstrip()) if argument else -1
    out = []
    for index, char in enumerate(text):
        out.append(char)
        if char == "{" and (index == lead or text[index + 1:index + 2] in ("{", MARK)):
            out.append(MARK)
    return "".join(out)


@settings(max_examples=500)
@given(awkward, st.booleans())
def test_kubeflow_escape(text, argument):
    assert transport.escape(text, argument=argument) == reference_escape(text, argument)
    assert transport.unescape(transport.escape(text, argument=argument)) == text


def reference_pins(text: str) -> str:
    for action, version in (CHECKOUT, UPLOAD, DOWNLOAD):
        text = re.sub(rf"^(      uses: {re.escape(action)})$", rf"\1 # {version}", text, flags=re.MULTILINE)
    return text


LINES = [f"      uses: {CHECKOUT[0]}", f"      uses: {UPLOAD[0]}", f"      uses: {DOWNLOAD[0]}",
         f"     uses: {DOWNLOAD[0]}", f"        uses: {UPLOAD[0]}", f"      uses: {DOWNLOAD[0]}x",
         f"x      uses: {UPLOAD[0]}", "      uses: ", "run: |", "", "\r"]


@settings(max_examples=500)
@given(st.lists(st.sampled_from(LINES), max_size=8), st.sampled_from(["\n", ""]))
def test_pin_comments(lines, separator):
    text = separator.join(lines)
    assert _annotate_pins(text) == reference_pins(text)


def test_dag_edges_keep_first_order_without_duplicates():
    dag = DagBuilder("d")
    for upstream, downstream in [("a", "b"), ("a", "c"), ("a", "b"), ("b", "c"), ("a", "c")]:
        dag.edge(upstream, downstream)
    assert dag.edges == [("a", "b"), ("a", "c"), ("b", "c")]


def test_exploded_values_read_back_as_the_value():
    value = {"args": ["x" * 30, {"k" * 40: ["v" * 50, 1, None]}], "env": {"A": "a\nb\n" * 30, "B": 2.5}}
    text = pysource.render(value, indent=1)
    assert text.splitlines()[0] == "    {"
    assert all(len(line) <= 88 or '"' in line for line in text.splitlines())
    assert ast.literal_eval(text.strip()) == value


# ---- pysource layout: the memoised renderer against the plain recursive definition ----------------


def reference_inline(value) -> str:
    if isinstance(value, str):
        return pysource.string(value)
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, int | float):
        return pysource.number(value)
    if isinstance(value, pysource.Name):
        return value.name
    if isinstance(value, pysource.Call):
        parts = [reference_inline(a) for a in value.args] + [f"{k}={reference_inline(v)}" for k, v in value.kwargs]
        return f"{value.function}({', '.join(parts)})"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{reference_inline(k)}: {reference_inline(v)}" for k, v in value.items()) + "}"
    return "[" + ", ".join(reference_inline(v) for v in value) + "]"


def reference_lines(value, indent: int, prefix: str, suffix: str) -> list[str]:
    pad = pysource.INDENT * indent
    one_line = reference_inline(value)
    if len(pysource.INDENT) * indent + reference_width(prefix + one_line + suffix) <= pysource.LINE_WIDTH:
        return [pad + prefix + one_line + suffix]
    if isinstance(value, str):
        literal = pysource.string(value)
        if "\n" not in value:
            return [pad + prefix + literal + suffix]
        if len(pysource.INDENT) * (indent + 1) + reference_width(literal) <= pysource.LINE_WIDTH:
            return [pad + prefix + "(", pad + pysource.INDENT + literal, pad + ")" + suffix]
        parts = [p for p in re.split(r"(?<=\n)", value) if p]
        return [pad + prefix + "(", *(pad + pysource.INDENT + pysource.string(p) for p in parts), pad + ")" + suffix]
    if isinstance(value, pysource.Call):
        opening, closing = f"{value.function}(", ")"
        items = [reference_lines(a, indent + 1, "", ",") for a in value.args]
        items += [reference_lines(v, indent + 1, f"{k}=", ",") for k, v in value.kwargs]
    elif isinstance(value, dict):
        opening, closing = "{", "}"
        items = [reference_lines(v, indent + 1, f"{reference_inline(k)}: ", ",") for k, v in value.items()]
    elif isinstance(value, list | tuple):
        opening, closing = "[", "]"
        items = [reference_lines(v, indent + 1, "", ",") for v in value]
    else:
        return [pad + prefix + one_line + suffix]
    if not items:
        return [pad + prefix + one_line + suffix]
    return [pad + prefix + opening, *(line for item in items for line in item), pad + closing + suffix]


words = st.sampled_from(["", "x", "step_0001", "MLP_PARAM_epochs", "s3://acme/data/", "a\nb\n", "é漢" * 5,
                         "x" * 40, "line one\nline two\n" * 4, 'say "hi"', "back\\slash", "k" * 90])
leaves = words | st.integers(-10**20, 10**20) | st.floats(allow_nan=False) | st.none() | st.booleans() \
    | st.just(pysource.Name("timezone.utc"))
values = st.recursive(leaves, lambda children: (
    st.lists(children, max_size=4)
    | st.dictionaries(words | st.integers(0, 3), children, max_size=4)
    | st.builds(lambda args, kwargs: pysource.call("k8s.V1Thing", *args, **kwargs),
                st.lists(children, max_size=2), st.dictionaries(st.sampled_from(["name", "uri", "image"]), children))
), max_leaves=25)


@settings(max_examples=400, deadline=None)
@given(values, st.integers(0, 3), st.sampled_from(["", "task = ", "with "]), st.sampled_from(["", ",", " as dag:"]))
def test_layout_matches_the_plain_definition(value, indent, prefix, suffix):
    assert pysource.lines(value, indent, prefix, suffix) == reference_lines(value, indent, prefix, suffix)


@settings(max_examples=200, deadline=None)
@given(values)
def test_shared_parts_render_the_same_everywhere(value):
    """A part met twice (same object, or equal strings) is remembered, not mixed up."""
    shared = {"a": value, "b": [value, value], "c": pysource.call("f", value, x=value)}
    assert pysource.lines(shared, 1) == reference_lines(shared, 1, "", "")


def test_names_are_checked_each_time():
    for bad in ("not a name", "class", "a..b", "1x", ""):
        for _ in range(2):  # the second time too (only valid names are remembered)
            try:
                pysource.call(bad)
            except ValueError:
                pass
            else:
                raise AssertionError(bad)
            try:
                pysource.call("f", **{bad: 1})
            except ValueError:
                pass
            else:
                raise AssertionError(bad)


# ---- YAML writer helpers ------------------------------------------------------------------------------

block_text = st.text(alphabet=st.sampled_from(list("ab \n\t#:-")), min_size=1, max_size=30)


def reference_block_lines(value: str, indent: str) -> str:
    parts = value.split("\n")
    if value.endswith("\n"):
        parts.pop()
    return "".join(f"{indent}{part}\n" if part else "\n" for part in parts)


@settings(max_examples=500)
@given(block_text, st.sampled_from(["", "  ", "      "]))
def test_block_lines(value, indent):
    assert yaml_writer.block_lines(value, indent) == reference_block_lines(value, indent)


any_text = st.text(alphabet=st.sampled_from(list("aZ_/$ :#-'\"\t\n\r\x7f\x85é\u2028\u2029\ufeff\ud800~y0")
                                            + ["\U0001F600"]), max_size=8) | st.text(max_size=8)


@settings(max_examples=1000)
@given(any_text)
def test_string_classes(text):
    assert yaml_writer._is_simple(text) == bool(yaml_writer._SIMPLE.fullmatch(text))
    others = any(c in text for c in yaml_writer._OTHER_LINE_BREAKS)
    assert (yaml_writer._NOT_IN_BLOCK.search(text) is None) == (not others and yaml_writer._SPECIAL.search(text) is None)


def test_dump_all_is_the_documents_joined():
    shared = {"k": 1}
    documents = [{"b": "x\n\n", "a": [1, "on"]}, {"x": shared, "y": shared}, {}, {"z": "y\n"}]
    for sort_keys in (False, True):
        expected = "---\n".join([yaml_writer.dump(documents[0], ["head"], sort_keys=sort_keys),
                                 *(yaml_writer.dump(d, sort_keys=sort_keys) for d in documents[1:])])
        assert yaml_writer.dump_all(documents, ["head"], sort_keys=sort_keys) == expected


# ---- shell and units ------------------------------------------------------------------------------------


def test_command_text_matches_the_plain_definition():
    from mlplang.api import load_text
    from mlplang.backends.shell import input_var, output_var, param_var
    from mlplang.compiler import ir

    program = ('pipeline p { owner = "a@b.c"\n  param n: int = 1\n'
               '  step s { run = "cp ${in.a} ${out.b} --n ${param.n} $HOME {x}"\n'
               '    in a: Dataset = t.o\n    out b: Dataset\n    n = param.n }\n'
               '  step t { run = "echo > ${out.o}"\n    out o: Dataset } }\n')
    pipeline = load_text(program).pipelines[0]
    for step in pipeline.steps:
        expected = "".join(
            s.text if isinstance(s, ir.Text) else "${" + input_var(s.name) + "}" if isinstance(s, ir.InputPath)
            else "${" + output_var(s.name) + "}" if isinstance(s, ir.OutputPath) else "${" + param_var(s.name) + "}"
            for s in step.command.segments)
        assert command_text(step.command) == expected


def test_unit_order_and_dependencies_are_the_graphs():
    from mlplang.api import load_text
    from mlplang.backends.base import CompileUnit
    from mlplang.compiler.lineage import Lineage

    program = ('pipeline p { owner = "a@b.c"\n'
               '  step a { run = "echo > ${out.o}"\n    out o: Dataset }\n'
               '  step b { run = "cat ${in.i} > ${out.o}"\n    in i: Dataset = a.o\n    out o: Dataset }\n'
               '  step c { run = "cat ${in.i} ${in.j}"\n    in i: Dataset = a.o\n    in j: Dataset = b.o } }\n')
    result = load_text(program)
    pipeline = result.pipelines[0]
    graph = result.graph(pipeline)
    unit = CompileUnit(pipeline, graph, Lineage(pipeline, graph), "p.mlp")
    assert list(unit.order) == graph.topological_order()
    for name in graph.topological_order():
        assert list(unit.dependencies(name)) == graph.dependencies(name)
        assert unit.dependencies(name) is unit.dependencies(name)
