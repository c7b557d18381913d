"""The fast paths added for large pipelines give exactly what the simple
definitions they replace gave (kept here as the reference)."""

from __future__ import annotations

import ast
import re
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from mlplang.backends.airflow import pysource
from mlplang.backends.airflow.backend import DagBuilder
from mlplang.backends.github import CHECKOUT, DOWNLOAD, UPLOAD, _annotate_pins
from mlplang.backends.kubeflow import transport

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
