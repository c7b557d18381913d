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

import importlib.util
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
from mlplang.dsl import ast, handover, lalr, parser, recovery, split_parse, tablegen
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


# ---- a syntax error in a large file: Lark reads only the members with errors -------------

_spec = importlib.util.spec_from_file_location("bench_generate", ROOT / "bench" / "generate.py")
bench_generate = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_generate)

# Mistakes inside a member, each made in one `in` or `out` line of a step of the generated pipelines.
MISTAKES = [
    ("missing-colon", "out ", lambda line: line.replace(":", "", 1)),
    ("missing-value", "in ", lambda line: line.rsplit("=", 1)[0] + "="),
    ("unclosed-string", "out ", lambda line: line + ' "x'),
    ("bad-character", "out ", lambda line: line + " %"),
    ("brace-too-many", "out ", lambda line: line + " }"),
    ("open-brace", "out ", lambda line: line + " {"),
    ("no-keyword", "out ", lambda line: line.replace("out ", "", 1)),
]


class _Handovers:
    """Counts how often Lark took over from the fast path and handed back."""

    def __init__(self, monkeypatch):
        self.resumed = self.handed_over = 0
        parse, fast_stacks = handover._parse, handover._fast_stacks

        def counting_parse(*args):
            self.resumed += 1
            return parse(*args)

        def counting_fast_stacks(*args):
            self.handed_over += 1
            return fast_stacks(*args)

        monkeypatch.setattr(handover, "_parse", counting_parse)
        monkeypatch.setattr(handover, "_fast_stacks", counting_fast_stacks)


def _with_mistakes(text: str, mistakes: list[tuple[int, tuple]]) -> str:
    """`text` with each (n, mistake) made in the n-th line (modulo their number) its kind applies to."""
    lines = text.split("\n")
    for n, (_, prefix, make) in mistakes:
        found = [i for i, line in enumerate(lines) if line.lstrip().startswith(prefix)]
        i = found[n % len(found)]
        lines[i] = make(lines[i])
    return "\n".join(lines)


@pytest.mark.parametrize("shape", ["chain", "wide"])
@pytest.mark.parametrize("mistake", MISTAKES, ids=lambda m: m[0])
def test_a_mistake_in_a_member_is_read_by_lark_alone(shape, mistake, monkeypatch):
    text = _with_mistakes(bench_generate.generate(40, shape), [(17, mistake)])
    handovers = _Handovers(monkeypatch)
    result = parser.parse_text(text, "t.mlp")
    assert result == recovering(text)
    assert has_syntax_error(result[1])
    assert handovers.resumed == 1


@pytest.mark.parametrize("where", [[3, 20, 33], [5, 6], [30, 31, 32, 33]], ids=str)
def test_several_mistakes_hand_over_between_them(where, monkeypatch):
    text = _with_mistakes(bench_generate.generate(40, "wide"),
                          [(n, MISTAKES[i % len(MISTAKES)]) for i, n in enumerate(where)])
    handovers = _Handovers(monkeypatch)
    result = parser.parse_text(text, "t.mlp")
    assert result == recovering(text)
    assert handovers.resumed == 1 and handovers.handed_over >= 1


def test_the_error_budget_runs_across_handovers(monkeypatch):
    """More mistakes than `MAX_ERRORS` (each in its own member): reported up to the same limit."""
    text = _with_mistakes(bench_generate.generate(2 * recovery.MAX_ERRORS + 20, "chain"),
                          [(n, MISTAKES[0]) for n in range(2, 2 * recovery.MAX_ERRORS + 10, 2)])
    handovers = _Handovers(monkeypatch)
    result = parser.parse_text(text, "t.mlp")
    assert result == recovering(text)
    assert len(result[1]) == recovery.MAX_ERRORS and handovers.handed_over > recovery.MAX_ERRORS // 2


@pytest.mark.parametrize("text", [
    "pipeline p {\n  step a { run = \"x\" }\n  step b { run = \"y\" }\n",  # the file ends: `}` is missing
    "pipeline p {\n  step a { run = \"x\" }\n  step b { run = \"y\" }\n}\n}\n",  # one `}` too many
    "pipeline p {\n  step a { run = \"x\" }\n  step b { run = }\n  # the end\n",
    "pipeline p {\n  step a { run = \"x\" }\n  stepp b { run = \"y\" }\n}\n",  # not a keyword
    "template t() {\n  run = \"x\"\n  image = \n}\npipeline p {\n  step a { run = \"x\" }\n}\n",
], ids=["missing-brace-at-end", "extra-brace", "comment-after", "misspelled-keyword", "in-a-template"])
def test_mistakes_at_the_edges_agree(text: str):
    assert parser.parse_text(text, "t.mlp") == recovering(text)


def test_a_mistake_before_any_member_boundary_still_hands_over(monkeypatch):
    """A mistake in a template (or an import, a pipeline's header or first member): Lark starts
    from the beginning, and still hands back to the fast path after it."""
    text = "template t() {\n  run = \"x\"\n  image = \n}\n" + _with_mistakes(
        bench_generate.generate(40, "wide"), [(30, MISTAKES[0])])
    handovers = _Handovers(monkeypatch)
    assert parser.parse_text(text, "t.mlp") == recovering(text)
    assert handovers.resumed == 1 and handovers.handed_over >= 2


def test_a_large_file_with_mistakes_in_both_halves(monkeypatch):
    """Parsed in two processes up to the first mistake (split_parse), then handed over."""
    monkeypatch.setattr(split_parse, "MIN_CHARS", 0)
    text = _with_mistakes(bench_generate.generate(120, "wide"), [(10, MISTAKES[0]), (100, MISTAKES[2])])
    handovers = _Handovers(monkeypatch)
    assert parser.parse_text(text, "t.mlp") == recovering(text)
    assert handovers.resumed == 1 and handovers.handed_over >= 1


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["chain", "wide"]), st.integers(12, 40),
       st.lists(st.tuples(st.integers(0, 200), st.sampled_from(MISTAKES)), min_size=1, max_size=4))
def test_generated_pipelines_with_mistakes_agree(shape, steps, mistakes):
    text = _with_mistakes(bench_generate.generate(steps, shape), mistakes)
    assert parser.parse_text(text, "t.mlp") == recovering(text)


def test_a_valid_file_is_checked_without_importing_lark():
    code = (
        "import sys; from mlplang import api; "
        f"result = api.load({str(ROOT / 'examples' / 'fraud_detection.mlp')!r}); "
        "assert result.ok, result.diagnostics; "
        "assert 'lark' not in sys.modules, 'lark was imported'; "
        "api.check('pipeline p {'); assert 'lark' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
