"""The Python-source helpers every value of a generated Dag file goes through."""

from __future__ import annotations

import ast
import math
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlplang.backends.airflow.pysource import (
    LINE_WIDTH,
    Call,
    Name,
    call,
    comment,
    dotted_name,
    identifier,
    inline,
    lines,
    number,
    render,
    string,
)

HOSTILE = [
    "",
    '"',
    "'",
    '"""',
    "'''",
    "\\",
    "\\\\\"",
    'a"b\'c',
    "{{ dag_run.conf }} {% raw %} {# c #} ${{ github.sha }}",
    '"); import os; os.system("id"); ("',
    "'''); __import__('os').system('id'); ('''",
    "\\N{BULLET} \\x41 \\u0041 \\0",
    "line\nbreak\r\ncarriage\rreturn",
    "tab\tvertical\x0bform\x0cfeed",
    "nul\x00bell\x07escape\x1bdel\x7f",
    "\x85next line\u2028line sep\u2029para sep",
    "bidi \u202eevil\u202c \u2066isolate\u2069 zero\u200bwidth",
    "lone \ud800 surrogate \udfff",
    "ünïcødé ✓ 🚀 中文 𝄞",
    "# not a comment",
    "x" * 500,
]


def _evaluate(text: str):
    """A rendered value's value: literals, plus `float("inf")` and `float("nan")`."""
    tree = ast.parse(text, mode="eval")
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            assert isinstance(node.func, ast.Name) and node.func.id == "float", text
        elif isinstance(node, ast.Name | ast.Attribute | ast.Lambda | ast.NamedExpr):
            assert isinstance(node, ast.Name) and node.id == "float", text
    return eval(compile(tree, "<value>", "eval"), {"__builtins__": {}, "float": float})  # noqa: S307


@pytest.mark.parametrize("text", HOSTILE)
def test_string_is_a_literal_of_exactly_the_text(text):
    literal = string(text)
    assert "\n" not in literal and "\r" not in literal
    assert _evaluate(literal) == text
    # one token: nothing after the literal closes it early
    tokens = list(ast.walk(ast.parse(literal, mode="eval")))
    assert isinstance(tokens[1], ast.Constant)


@pytest.mark.parametrize("text", HOSTILE)
@pytest.mark.parametrize("name", ["v", "a_long_keyword_argument_name_that_leaves_little_room_for_the_value"])
def test_string_layouts_evaluate_to_the_text(text, name):
    """On one line, in parentheses, or one literal per line of the text."""
    source = "f(\n" + render(text, indent=1, prefix=f"{name}=", suffix=",") + "\n)\n"
    [keyword] = ast.parse(source).body[0].value.keywords
    assert ast.literal_eval(keyword.value) == text


def test_quotes_follow_black():
    assert string("plain") == '"plain"'
    assert string('say "hi"') == "'say \"hi\"'"
    assert string("it's") == '"it\'s"'
    assert string('a"b\'c') == '"a\\"b\'c"'  # as many of each: double quotes
    assert string('""\'') == "'\"\"\\''"


def test_control_and_invisible_characters_are_escaped():
    assert string("a\x00b") == '"a\\x00b"'
    assert string("\u202e") == '"\\u202e"'
    assert string("\U000e0001") == '"\\U000e0001"'
    assert string("\ud800") == '"\\ud800"'
    assert string("é✓🚀") == '"é✓🚀"'  # printable text stays readable
    # the file stays valid UTF-8 whatever the value
    string("\ud800\udfff").encode("utf-8")


def test_numbers():
    assert number(3) == "3"
    assert number(-0.05) == "-0.05"
    assert number(3.0e-4) == "0.0003"
    assert number(10**30) == str(10**30)
    assert number(float("inf")) == 'float("inf")'
    assert number(float("-inf")) == '-float("inf")'
    assert number(float("nan")) == 'float("nan")'
    assert eval(number(float("inf"))) == math.inf  # noqa: S307 - a literal we produced
    assert math.isnan(eval(number(float("nan"))))  # noqa: S307
    with pytest.raises(TypeError):
        number(True)
    with pytest.raises(TypeError):
        number("1")


def test_identifiers():
    assert identifier("train_model") == "train_model"
    for bad in ("class", "None", "1x", "a-b", "a.b", "é", "", "x y", "print()", 1):
        with pytest.raises(ValueError):
            identifier(bad)
    assert dotted_name("k8s.V1EnvVar") == "k8s.V1EnvVar"
    for bad in ("k8s..x", ".x", "x.", "os.system('id')", "a.class"):
        with pytest.raises(ValueError):
            dotted_name(bad)


def test_code_names_are_validated():
    with pytest.raises(ValueError):
        Name("__import__('os')")
    with pytest.raises(ValueError):
        Call("f(x)")
    with pytest.raises(ValueError):
        call("f", **{"not valid": 1})
    assert inline(Name("None")) == "None"
    assert inline(call("Param", 0.5, type="number", description=None)) == 'Param(0.5, type="number")'


def test_comments_stay_on_their_line():
    assert comment("a\nb\r\x00c\u2028") == "a\\nb\\r\\x00c\\u2028"
    assert comment("path\\with\\backslashes") == "path\\with\\backslashes"


def test_values_of_every_kind_round_trip():
    value = {"s": "x\"y", "i": 1, "f": 0.5, "b": True, "n": None, "l": [1, "two", [3]], "d": {"k": {"v": False}}}
    assert _evaluate(inline(value)) == value
    assert _evaluate(render(value, indent=2, prefix="").strip()) == value
    with pytest.raises(TypeError):
        inline(object())
    with pytest.raises(TypeError):
        inline({("tuple", "key"): 1})


def test_layout_fits_or_explodes_with_trailing_commas():
    short = {"a": 1}
    assert lines(short, indent=1, prefix="x=", suffix=",") == ["    x={\"a\": 1},"]
    long = {f"key{i}": "v" * 10 for i in range(8)}
    out = lines(long, indent=1, prefix="x=", suffix=",")
    assert out[0] == "    x={" and out[-1] == "    },"
    assert all(line.endswith(",") for line in out[1:-1])
    assert all(len(line) <= LINE_WIDTH for line in out)
    text = "echo one\n" * 20
    out = lines(text, indent=2, prefix="bash_command=", suffix=",")
    assert out[0] == "        bash_command=(" and out[-1] == "        ),"
    assert len(out) == 22
    assert ast.literal_eval("(" + "".join(out[1:-1]) + ")") == text


# ---- property: any value renders to formatted Python that evaluates to it --------------------

SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=60),
)
VALUES = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.dictionaries(st.text(max_size=12), children, max_size=5),
    ),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=VALUES, indent=st.integers(0, 3), prefix=st.sampled_from(["", "value=", "x" * 40 + "="]))
def test_rendered_values_evaluate_to_themselves(value, indent, prefix):
    source = render(value, indent=0)
    assert _evaluate(source) == value
    laid_out = render(value, indent=indent, prefix=prefix, suffix=",")
    assert laid_out.startswith("    " * indent + prefix)


def test_rendered_values_are_ruff_formatted(tmp_path):
    """A batch of values with wide, nested, multi-line and hostile content,
    laid out as keyword arguments: `ruff format` changes nothing."""
    pytest.importorskip("ruff")
    values = [
        *HOSTILE,
        "echo a\necho b\n",
        "x" * 40 + "\n" + "y" * 40 + "\n",
        "short\nlines\n" * 30,
        {"KEY": "a" * 100, "OTHER": "b\nc\n" * 10, "n": [1, 2, 3]},
        [{"id": f"team-{i}", "name": f"team-{i}"} for i in range(5)],
        call("Asset", name="p.step.output", uri="file:///tmp/mlp-artifacts/p/latest/step/output"),
        call("k8s.V1ResourceRequirements", requests={"cpu": "8", "memory": "32Gi"},
             limits={"cpu": "8", "memory": "32Gi", "nvidia.com/gpu": "1"}),
        {"unicode ✓": "中文" * 30},
        [0.1, 1e100, -1e-100, float("inf"), 10**40],
    ]
    body = "\n".join(render(v, indent=1, prefix=f"v{i}=", suffix=",") for i, v in enumerate(values))
    source = "f(\n" + body + "\n)\n"
    path = tmp_path / "values.py"
    path.write_text(source, encoding="utf-8")
    check = subprocess.run([sys.executable, "-m", "ruff", "format", "--check", "--diff", "--no-cache",
                            "--isolated", str(path)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    call_node = ast.parse(source).body[0].value
    for keyword, value in zip(call_node.keywords, values):
        if isinstance(value, str):
            assert ast.literal_eval(keyword.value) == value
