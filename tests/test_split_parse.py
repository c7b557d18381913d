"""A file parsed in two processes (`mlplang.dsl.split_parse`) gives exactly what one pass gives.

The split point is forced anywhere (`PARENT_SHARE`) in small files (`MIN_CHARS`
lowered); each test also says whether the child's part was used, so that a
split that silently fell back to one pass cannot pass for a working one.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from single_thread import wait_until_single_threaded
from strategies import programs

from mlplang.diagnostics import codes
from mlplang.dsl import ast, parser, split_parse, tree_codec
from mlplang.parallel import cores

ROOT = Path(__file__).resolve().parent.parent
CORPUS = sorted(p for pattern in ("examples/**/*.mlp", "tests/**/*.mlp", "mlplang/stdlib/**/*.mlp")
                for p in ROOT.glob(pattern))
_spec = importlib.util.spec_from_file_location("bench_generate", ROOT / "bench" / "generate.py")
bench_generate = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_generate)

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux") or cores() < 2,
                                reason="splits only on Linux with two cores or more")


def one_pass(text: str):
    original = split_parse.MIN_CHARS
    split_parse.MIN_CHARS = sys.maxsize
    try:
        return parser.parse_text(text, "t.mlp")
    finally:
        split_parse.MIN_CHARS = original


class Split:
    """parse_text with the split forced at `share` of the text; `joined`: the child's part was used."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.monkeypatch = monkeypatch
        self.joined = 0
        monkeypatch.setattr(split_parse, "MIN_CHARS", 0)
        original = split_parse._join

        def join(*args):
            self.joined += 1
            return original(*args)

        monkeypatch.setattr(split_parse, "_join", join)

    def __call__(self, text: str, share: float):
        self.monkeypatch.setattr(split_parse, "PARENT_SHARE", share)
        wait_until_single_threaded()  # else nothing forks: the test would prove nothing
        return parser.parse_text(text, "t.mlp")


@pytest.fixture
def split(monkeypatch):
    return Split(monkeypatch)


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_file_of_the_corpus(path, split):
    text = path.read_text(encoding="utf-8", errors="replace")
    for share in (0.2, 0.5, 0.8):
        assert split(text, share) == one_pass(text), share


@pytest.mark.parametrize("shape", ["chain", "wide"])
def test_generated_pipelines_use_the_childs_part(shape, split):
    text = bench_generate.generate(300, shape)
    for share in (0.05, 0.3, 0.56, 0.9):
        assert split(text, share) == one_pass(text)
    assert split.joined == 4


def test_the_default_split_of_a_large_file(monkeypatch):
    text = bench_generate.generate(2_000, "wide")
    assert len(text) >= split_parse.MIN_CHARS
    joined = []
    original = split_parse._join
    monkeypatch.setattr(split_parse, "_join", lambda *args: joined.append(1) or original(*args))
    assert parser.parse_text(text, "t.mlp") == one_pass(text)
    assert joined == [1]


FIRST = """pipeline first {
  owner = "a@b.c"
  step a {
    run = \"\"\"
      echo one
  step not_a_member {
      echo two
    \"\"\"
  }
  # step in a comment
  step b { run = "true" }
}

pipeline second {
  step c { run = "true" }
  step d { run = "x${in.y}" }
}
"""


@pytest.mark.parametrize("marker, joined", [
    ("  step not_a_member", 0),  # inside a string: no token starts there
    ("  step b", 1),  # a member: the child parses to the first pipeline's end
    ("  step c", 0),  # the first member of a pipeline: no list of members to add to
    ("  step d", 1),
])
def test_split_points_that_are_not_between_two_members_are_refused(split, marker, joined):
    share = (FIRST.index(marker) - 1) / len(FIRST)
    assert split(FIRST, share) == one_pass(FIRST)
    assert split.joined == joined


def test_syntax_errors_on_either_side(split):
    text = bench_generate.generate(40, "chain")
    members = [i for i in range(len(text)) if text.startswith("\n  step ", i)]
    early, late = members[5], members[-5]
    for broken in (text[:early] + "\n  step = {" + text[early:], text[:late] + "\n  step = {" + text[late:]):
        result = split(broken, 0.5)
        assert result == one_pass(broken)
        assert any(d.code.startswith("MLP0") for d in result[1])


def test_diagnostics_of_the_childs_part(split):
    deep = "[" * 70 + "1" + "]" * 70
    text = bench_generate.generate(40, "chain").replace("  param", f"  param deep: str = {deep}\n  param", 1)
    at = text.index("\n  step ", len(text) // 2) + 1
    text = text[:at] + f'  param later: str = {deep}\n  param bad: str = "a\\qb ${{inp.x}}"\n' + text[at:]
    split_module, split_diagnostics = split(text, at / len(text))  # the child parses `later` and `bad`
    assert split.joined == 1
    assert (split_module, split_diagnostics) == one_pass(text)
    assert [d.code for d in split_diagnostics].count(codes.TOO_DEEP.code) == 1  # once a file
    assert {codes.INVALID_ESCAPE.code, codes.INTERPOLATION_TYPO.code} <= {d.code for d in split_diagnostics}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(program=programs(), share=st.floats(0, 1))
def test_generated_programs_split_anywhere(split, program, share):
    text = program.source()
    assert split(text, share) == one_pass(text)


# ---- the tree codec -------------------------------------------------------------------


def test_the_codec_gives_back_equal_nodes_of_every_class():
    seen: set[type] = set()

    def walk(value):
        if isinstance(value, ast.Node):
            seen.add(type(value))
            for name in value.__match_args__:
                walk(getattr(value, name))
        elif isinstance(value, tuple) and not hasattr(value, "_fields"):
            for item in value:
                walk(item)

    texts = [p.read_text(encoding="utf-8", errors="replace") for p in CORPUS] + ["pipeline p { x = 1e999\n y = [[1]] }"]
    for text in texts:
        module, _ = parser.parse_text(text, "t.mlp")
        for nodes in (module.items, module.comments):
            decoded = tree_codec.loads(tree_codec.dumps(nodes))
            assert decoded == list(nodes)
            assert [type(n) for n in decoded] == [type(n) for n in nodes]
        walk(module.items)
        walk(module.comments)
    assert seen | {ast.Module} == set(tree_codec._node_classes())  # every class went through the codec


def test_when_no_process_can_be_started_this_one_parses_all(split, monkeypatch):
    import os

    def refuse():
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", refuse)
    text = bench_generate.generate(60, "wide")
    assert split(text, 0.5) == one_pass(text)
    assert split.joined == 0


@pytest.mark.parametrize("annotation, kind", [
    ("str", "scalar"), ("str | None", "scalar"), ("int | float", "scalar"), ("Span", "span"),
    ("Span | None", "optional_span"), ("tuple[Name, ...]", "nodes"), ("Name | None", "optional"), ("Value", "node"),
])
def test_the_codec_reads_every_kind_of_field(annotation, kind):
    """A field whose value can be None is coded by what it holds otherwise (a `str | None` is no node)."""
    assert tree_codec._field_kind(annotation) == kind
