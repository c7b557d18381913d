"""The parser's two paths build the same syntax tree.

`mlplang.dsl.lalr` (fast, table-driven, no Lark) parses every file first;
`mlplang.dsl.recovery` (Lark with error recovery) parses only files the fast
path gave up on. Both must agree exactly - same nodes, spans, comments and
diagnostics - on every file the fast path accepts, the fast path must accept
every file without a syntax error, and its tables must be those Lark builds
from the grammar today.

`MLP_HYPOTHESIS_EXAMPLES` overrides the number of generated programs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from fuzz.mutate import mutate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import programs

from mlplang.diagnostics.model import Diagnostic
from mlplang.dsl import ast, lalr, parser, recovery, tablegen
from mlplang.dsl.transformer import Context
from mlplang.source import SourceFile

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = int(os.environ.get("MLP_HYPOTHESIS_EXAMPLES", "60"))
CORPUS = sorted(
    p for pattern in ("examples/**/*.mlp", "tests/**/*.mlp", "mlplang/stdlib/**/*.mlp") for p in ROOT.glob(pattern)
)


def fast(text: str):
    """(module, diagnostics) from the fast path, or None if it gave up."""
    source = SourceFile.from_text(text, "t.mlp")
    context = Context(source)
    with parser._lock:
        parser._builder.context = context
        items = lalr.parse_items(source, parser._builder, context.comments)
    if items is None:
        return None
    module = ast.Module(source.path, tuple(items), tuple(context.comments), source.span(0, len(text)))
    return module, sorted(context.diagnostics, key=Diagnostic.sort_key)


def recovering(text: str):
    source = SourceFile.from_text(text, "t.mlp")
    context = Context(source)
    with parser._lock:
        items = recovery.parse_with_recovery(source, context)
    module = ast.Module(source.path, tuple(items), tuple(context.comments), source.span(0, len(text)))
    return module, sorted(context.diagnostics, key=Diagnostic.sort_key)


def has_syntax_error(diagnostics: list[Diagnostic]) -> bool:
    return any(d.code.startswith("MLP0") for d in diagnostics)


def test_tables_are_those_lark_builds_from_the_grammar():
    assert tablegen.main(["--check"]) == 0, "run `python -m mlplang.dsl.tablegen`"


def test_table_generation_does_not_depend_on_hash_seeds():
    outputs = {
        subprocess.run(
            [sys.executable, "-c", "from mlplang.dsl import tablegen; print(tablegen.build())"],
            env={**os.environ, "PYTHONHASHSEED": seed}, capture_output=True, text=True, check=True,
        ).stdout
        for seed in ("0", "1", "4242")
    }
    assert len(outputs) == 1


@pytest.mark.parametrize(("pattern", "expected"), [
    ("abc", "a"),
    ("[A-Ca_]x*", "ABCa_"),
    ("-?[0-9]", "-0123456789"),  # an optional first character: it or the next
    ("(a|bc)d", "ab"),
    ("(?:x?y?)z", "xyz"),
    ('"""[\\s\\S]*?"""', '"'),
])
def test_first_characters_of_a_pattern(pattern: str, expected: str):
    assert tablegen.first_characters(pattern) == frozenset(expected)


@pytest.mark.parametrize("pattern", [
    "a*",  # can match empty: any character may follow
    "[^a]", "\\s", ".", "\\Z", "(?=a)a",  # classes and anchors not analysed
    "(?i:a)", "(?i)a",  # `A` too
])
def test_first_characters_unknown(pattern: str):
    assert tablegen.first_characters(pattern) is None


def test_names_are_tried_first_only_when_no_earlier_terminal_can_start_alike():
    name = "(?P<NAME>[a-z_]+)"
    assert tablegen._names_first(["(?P<NUMBER>-?[0-9]+)", name, "(?P<DOT>\\.)"]) == [
        name, "(?P<NUMBER>-?[0-9]+)", "(?P<DOT>\\.)"]
    kept = ["(?P<NUMBER>[0-9a]+)", name, "(?P<DOT>\\.)"]  # `a` starts both
    assert tablegen._names_first(kept) == kept
    unknown = ["(?P<ANY>[^0-9])", name]
    assert tablegen._names_first(unknown) == unknown


def _tokens(pattern, text: str) -> list[tuple[str | None, str]]:
    return [(m.lastgroup, m.group(m.lastgroup)) for m in pattern.finditer(text)]


@settings(max_examples=EXAMPLES * 10, deadline=None)
@given(st.text(alphabet='ab_Z09.-eE"\\\n #={}:,<>=!', max_size=60))
def test_the_fast_lexer_splits_text_as_lark_orders_its_terminals(text: str):
    """TOKEN_PATTERN tries NAME first (`tablegen.FIRST`): it must split any text into the
    same tokens as the alternation in Lark's own order, with the per-character STRING
    pattern the grammar's unrolled one replaced (docs/language.md gives it)."""
    import re

    from mlplang.grammar import lalr_tables

    moved = lalr_tables.TOKEN_PATTERN
    name = "|(?P<NAME>[A-Za-z_][A-Za-z0-9_]*)"
    assert moved.count("(?:(?P<NAME>") == 1
    in_lark_order = moved.replace("(?:(?P<NAME>[A-Za-z_][A-Za-z0-9_]*)|", "(?:", 1).replace(
        "|(?P<STRING>", name + "|(?P<STRING>", 1)
    unrolled = '(?P<STRING>"[^"\\\\\n]*(?:\\\\[^\n][^"\\\\\n]*)*")'
    assert unrolled in in_lark_order
    per_character = in_lark_order.replace(unrolled, '(?P<STRING>"([^"\\\\\n]|\\\\[^\n])*")')
    assert _tokens(re.compile(moved), text) == _tokens(re.compile(per_character), text)


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_both_paths_agree_on_the_corpus(path: Path):
    text = path.read_text(encoding="utf-8", errors="replace")
    expected = recovering(text)
    result = fast(text)
    if result is None:
        assert has_syntax_error(expected[1]), "the fast path gave up on a file without a syntax error"
    else:
        assert result == expected
    assert parser.parse_text(text, "t.mlp") == expected


def test_the_corpus_exercises_both_paths():
    taken = [fast(p.read_text(encoding="utf-8", errors="replace")) is not None for p in CORPUS]
    assert sum(taken) > 100 and taken.count(False) > 10


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs())
def test_generated_programs_take_the_fast_path_and_agree(program):
    text = program.source()
    result = fast(text)
    assert result is not None, "the fast path gave up on a valid program"
    assert result == recovering(text)


@settings(max_examples=EXAMPLES * 3, deadline=None)
@given(st.sampled_from(CORPUS), st.integers(0, 2**32))
def test_mutated_files_agree_whichever_path_parses_them(path: Path, seed: int):
    text = mutate(path.read_bytes(), seed).decode("utf-8", errors="replace")
    expected = recovering(text)
    result = fast(text)
    if result is not None:
        assert result == expected
    else:
        assert has_syntax_error(expected[1])
    assert parser.parse_text(text, "t.mlp") == expected


@pytest.mark.parametrize(
    "text",
    [
        "pipeline p { step s { in = 1 } }",  # a keyword where a name is expected: Lark's recovery reads a name
        "pipeline p { x = [1, 2 }",
        "pipeline p { when a <= b }",
        'pipeline p { x = "a\\qb" }',  # a bad escape: a diagnostic from the builder, on both paths
        "pipeline p { x = 12parsecs }",
        "pipeline p {\n  image =\n  out m: Model\n}",
        "pipeline p { x = 1 } \x00",
        "",
        "# only a comment",
        "pipelineisimages { }",  # a keyword is a whole word on both paths, never a prefix
        "pipeline p { step s { instep = 1 } }",
    ],
)
def test_edge_cases_agree(text: str):
    expected = recovering(text)
    result = fast(text)
    if result is not None:
        assert result == expected
    assert parser.parse_text(text, "t.mlp") == expected


def test_a_keyword_glued_to_a_name_is_a_syntax_error():
    # Lark's contextual lexer once read `pipelineisimages` as `pipeline isimages`.
    module, diagnostics = parser.parse_text("pipelineisimages {\n  owner = \"a\"\n}\n")
    assert [d.code for d in diagnostics] == ["MLP001"]
    assert (diagnostics[0].span.line, diagnostics[0].span.column) == (1, 1)


def test_a_valid_file_is_checked_without_importing_lark():
    code = (
        "import sys; from mlplang import api; "
        f"result = api.load({str(ROOT / 'examples' / 'fraud_detection.mlp')!r}); "
        "assert result.ok, result.diagnostics; "
        "assert 'lark' not in sys.modules, 'lark was imported'; "
        "api.check('pipeline p {'); assert 'lark' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
