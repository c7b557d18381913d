"""The front end never raises for any input, and every diagnostic points inside its file.

Exceptions are for bugs only (STYLE.md): whatever text or bytes a user, an editor
buffer or a fuzzer hands to `mlplang.load_text`, the answer is a `LoadResult`
whose diagnostics have spans that a renderer can show. These tests feed it
arbitrary text, arbitrary bytes, mutated versions of the shipped examples and a
few hand-picked pathological files (deep nesting, huge files, bad encodings).

`MLP_HYPOTHESIS_EXAMPLES` raises the number of generated cases for a long
fuzzing run; the default keeps the suite CI-sized.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mlplang
from mlplang.api import LoadResult
from mlplang.diagnostics import codes
from mlplang.diagnostics.model import Diagnostic
from mlplang.diagnostics.render import render
from mlplang.source import SourceFile, Span

EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "examples"
EXAMPLE_TEXTS = {p.name: p.read_text(encoding="utf-8") for p in sorted(EXAMPLES_DIR.glob("*.mlp"))}
MAX_EXAMPLES = int(os.environ.get("MLP_HYPOTHESIS_EXAMPLES", "250"))

FUZZ = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,  # the first parse builds the parser; timing is tested separately
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# ---- the invariants --------------------------------------------------------------


def assert_span_inside(span: Span, source: SourceFile) -> None:
    text = source.text
    assert 0 <= span.start <= span.end <= len(text), (span, len(text))
    assert (span.line, span.column) == source.position(span.start), span
    assert (span.end_line, span.end_column) == source.position(span.end), span


def assert_sound(result: LoadResult, text: str | None = None) -> None:
    """Every diagnostic (and every secondary label) lies inside the file it names,
    with line/column agreeing with the file's own line index, and renders."""
    assert isinstance(result, LoadResult)
    if text is not None:
        assert result.sources[result.path].text == text
    for diagnostic in result.diagnostics:
        assert isinstance(diagnostic, Diagnostic)
        assert diagnostic.code in codes.REGISTRY, diagnostic.code
        source = result.sources[diagnostic.span.file]
        assert_span_inside(diagnostic.span, source)
        for label in diagnostic.labels:
            assert_span_inside(label.span, result.sources[label.span.file])
        rendered = render(diagnostic, source)
        assert rendered.startswith(f"{diagnostic.span.file}:{diagnostic.span.line}:{diagnostic.span.column}: ")


def load(text: str | bytes) -> LoadResult:
    return mlplang.load_text(text, "fuzz.mlp")


# ---- generated inputs ------------------------------------------------------------------

# Everything, including control characters, NUL and lone surrogates' neighbours.
any_text = st.text(st.characters(codec=None, exclude_categories=("Cs",)), max_size=400)

# Text made of the language's own pieces, so the parser gets deep into rules
# before it meets a mistake (pure random text mostly fails on the first token).
TOKENS = [
    "pipeline", "template", "import", "step", "source", "gate", "monitor", "param", "secret",
    "in", "out", "after", "when", "require", "not", "and", "or", "true", "false", "cron",
    "p", "s", "x", "data", "train.model", "evaluate.report.auc", "param.x", "secret.t",
    "{", "}", "[", "]", "(", ")", "=", ":", ",", ";", ".", "<", ">", ">=", "==", "!=",
    "Dataset", "Model<sklearn>", "Metrics", "Features", "int", "float",
    "1", "-2", "0.5", "3h", "32Gi", "1e3", "7x", '"s"', '"${in.x}"', '"${inp.x}"', '"\\q"',
    '"""\n  a \\\n  ${out.y}\n"""', '"unterminated', '"""open', "# comment\n", "\n", " ", "\t", "\x00", "@",
    '"std/data"', "as", "image", "run", "env", "resources", "approval",
]
token_soup = st.lists(st.sampled_from(TOKENS), max_size=80).map(" ".join)


@st.composite
def mutated_example(draw) -> str:
    """An example file with a few random deletions, insertions and a truncation."""
    text = EXAMPLE_TEXTS[draw(st.sampled_from(sorted(EXAMPLE_TEXTS)))]
    for _ in range(draw(st.integers(min_value=1, max_value=6))):
        operation = draw(st.sampled_from(["delete", "insert", "insert_token", "truncate", "duplicate"]))
        position = draw(st.integers(min_value=0, max_value=len(text)))
        if operation == "delete":
            length = draw(st.integers(min_value=1, max_value=40))
            text = text[:position] + text[position + length:]
        elif operation == "insert":
            text = text[:position] + draw(st.text(max_size=10)) + text[position:]
        elif operation == "insert_token":
            text = text[:position] + draw(st.sampled_from(TOKENS)) + text[position:]
        elif operation == "duplicate":
            length = draw(st.integers(min_value=1, max_value=200))
            text = text[:position] + text[position:position + length] + text[position:]
        else:
            text = text[:position]
    return text


@FUZZ
@given(any_text)
def test_arbitrary_text_never_raises(text: str) -> None:
    assert_sound(load(text), text)


@FUZZ
@given(token_soup)
def test_token_soup_never_raises(text: str) -> None:
    assert_sound(load(text), text)


@FUZZ
@given(mutated_example())
def test_mutated_examples_never_raise(text: str) -> None:
    assert_sound(load(text), text)


@FUZZ
@given(st.binary(max_size=400))
def test_arbitrary_bytes_never_raise(data: bytes) -> None:
    result = load(data)
    assert_sound(result)
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        assert any(d.code == codes.INVALID_ENCODING.code for d in result.diagnostics)


@FUZZ
@given(st.sampled_from(sorted(EXAMPLE_TEXTS)), st.data())
def test_truncated_examples_never_raise(name: str, data: st.DataObject) -> None:
    text = EXAMPLE_TEXTS[name]
    cut = data.draw(st.integers(min_value=0, max_value=len(text)))
    result = load(text[:cut])
    assert_sound(result, text[:cut])


# ---- explicit pathological files ---------------------------------------------------------


def test_unmutated_examples_are_clean() -> None:
    """The mutation tests start from clean files, so their findings come from the mutation."""
    for name, text in EXAMPLE_TEXTS.items():
        result = mlplang.load_text(text, name, real_path=EXAMPLES_DIR / name)
        assert result.diagnostics == (), (name, result.diagnostics)


@pytest.mark.parametrize("text", ["", " ", "\n", " \t\r\n\f\n  ", "# only a comment"])
def test_empty_and_blank_files_are_clean(text: str) -> None:
    result = load(text)
    assert_sound(result, text)
    assert result.diagnostics == ()
    assert result.pipelines == ()


def test_file_of_only_a_closing_brace() -> None:
    result = load("}")
    assert_sound(result, "}")
    (diagnostic,) = result.diagnostics
    assert diagnostic.code == codes.SYNTAX_ERROR.code
    assert (diagnostic.span.start, diagnostic.span.end) == (0, 1)
    assert "top level" in diagnostic.message


def _codes(result: LoadResult) -> set[str]:
    return {d.code for d in result.diagnostics}


def test_ten_thousand_open_brackets() -> None:
    text = "pipeline p { tags = " + "[" * 10_000 + " }"
    result = load(text)
    assert_sound(result, text)
    assert not result.ok


def test_ten_thousand_nested_brackets_closed() -> None:
    text = "pipeline p { tags = " + "[" * 10_000 + "]" * 10_000 + " }"
    result = load(text)
    assert_sound(result, text)
    assert codes.TOO_DEEP.code in _codes(result)


def test_five_thousand_not_prefixes() -> None:
    text = "pipeline p { gate g { require " + "not " * 5_000 + "a.b.c > 1 } }"
    result = load(text)
    assert_sound(result, text)
    assert codes.TOO_DEEP.code in _codes(result)


def test_five_thousand_nested_parentheses() -> None:
    condition = "(" * 5_000 + "s.m.auc > 1" + ")" * 5_000
    text = (
        'pipeline p { step s { image = "i" run = "r ${out.m}" out m: Metrics } '
        f"gate g {{ require {condition} }} }}"
    )
    result = load(text)
    assert_sound(result, text)
    # Parentheses only group: they add no depth, so this is a plain comparison.
    assert result.ok, result.diagnostics


def test_five_thousand_nested_parentheses_unclosed() -> None:
    text = "pipeline p { gate g { require " + "(" * 5_000 + " } }"
    result = load(text)
    assert_sound(result, text)
    assert not result.ok


def test_deeply_nested_boolean_operators() -> None:
    condition = "s.m.a > 1"
    for _ in range(300):
        condition = f"(s.m.a > 1 and ({condition} or s.m.b < 2))"
    text = (
        'pipeline p { step s { image = "i" run = "r ${out.m}" out m: Metrics } '
        f"gate g {{ require {condition} }} }}"
    )
    result = load(text)
    assert_sound(result, text)
    assert codes.TOO_DEEP.code in _codes(result)


def test_deeply_nested_maps() -> None:
    text = "pipeline p { step s { env = " + "{ A = " * 3_000 + "1" + " }" * 3_000 + " } }"
    result = load(text)
    assert_sound(result, text)
    assert codes.TOO_DEEP.code in _codes(result)


@pytest.mark.parametrize(
    "data",
    [
        b"\xff",
        b"pipeline p {\xc3\x28}",
        b"pipeline p { owner = \"\xe2\x82\" }",
        b"\xed\xa0\x80",  # an encoded surrogate is not UTF-8
        b"# caf\xe9\npipeline p {}",
        b"\x00\x00\x00",
    ],
)
def test_invalid_bytes(data: bytes) -> None:
    result = load(data)
    assert_sound(result)
    assert not result.ok


def test_invalid_utf8_reports_the_first_bad_byte() -> None:
    data = "# café\n".encode() + b"pipeline p { owner = \"\xff\" }"
    result = load(data)
    assert_sound(result)
    encoding = [d for d in result.diagnostics if d.code == codes.INVALID_ENCODING.code]
    assert len(encoding) == 1
    assert "0xff" in encoding[0].message
    # line 2, after `pipeline p { owner = "`; columns count characters, not bytes
    assert (encoding[0].span.line, encoding[0].span.column) == (2, 23)


def test_utf8_byte_order_mark_is_dropped() -> None:
    result = load(b"\xef\xbb\xbfpipeline p { owner = \"x\" }")
    assert_sound(result)
    assert result.ok
    assert result.pipelines[0].owner == "x"


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b", "\u200b", "\u2028", "\x85", "\ufffd", "@", "$", "`"])
def test_stray_characters_between_tokens(char: str) -> None:
    text = f"pipeline p {{ {char} owner = \"x\" }}"
    result = load(text)
    assert_sound(result, text)
    assert [d.code for d in result.diagnostics] == [codes.INVALID_CHARACTER.code]
    assert result.diagnostics[0].span.start == text.index(char)


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_line_endings(newline: str) -> None:
    text = newline.join(["pipeline p {", '  owner = "x"', "  oops", "}"])
    result = load(text)
    assert_sound(result, text)
    assert not result.ok


TEN_MB = 10 * 1024 * 1024


def _timed_load(text: str) -> tuple[LoadResult, float]:
    started = time.perf_counter()
    result = load(text)
    return result, time.perf_counter() - started


@pytest.mark.parametrize(
    "unit",
    [
        "}",  # every token after the first is an error the parser must skip
        "@",  # every character is one the lexer cannot read
        "pipeline p { step s { in x: = } }\n",  # the same mistake over and over
        "] ) = : ; , ",
    ],
    ids=["closing-braces", "bad-characters", "repeated-mistake", "punctuation"],
)
def test_ten_megabytes_of_junk_finishes(unit: str) -> None:
    text = (unit * (TEN_MB // len(unit) + 1))[:TEN_MB]
    result, seconds = _timed_load(text)
    assert_sound(result, text)
    assert not result.ok
    assert len(result.diagnostics) <= 60  # error recovery gives up instead of flooding
    assert seconds < 20, f"{seconds:.1f}s"


def test_ten_megabyte_valid_file_finishes() -> None:
    """Mostly comments and one huge command, with a few thousand real steps."""
    steps = "".join(
        f'  step s{i} {{ image = "img@sha256:{i:064x}" run = "echo ${{out.o}}" out o: Dataset }}\n'
        for i in range(2_000)
    )
    command = "  step big {\n    image = \"img\"\n    run = \"\"\"\n" + "      echo 0123456789abcdef\n" * 150_000
    command += "    \"\"\"\n  }\n"
    comments = "# " + "x" * 97 + "\n"
    head = "pipeline p {\n" + steps + command
    text = head + comments * ((TEN_MB - len(head)) // len(comments)) + "}\n"
    assert len(text) > 0.95 * TEN_MB
    result, seconds = _timed_load(text)
    assert_sound(result, text)
    assert result.ok, result.diagnostics[:3]
    (pipeline,) = result.pipelines
    assert len(pipeline.steps) == 2_001
    assert seconds < 20, f"{seconds:.1f}s"


def test_many_errors_are_capped() -> None:
    text = "pipeline p {\n" + "  step s { 1 }\n" * 500 + "}\n"
    result = load(text)
    assert_sound(result, text)
    assert 10 <= len(result.diagnostics) <= 60
