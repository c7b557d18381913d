"""`mlp fmt`: golden layouts, and for every program we have: the formatted text
is stable (formatting it again changes nothing) and equivalent (same IR, same
comments), as black checks its own output."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlplang.api import load_text
from mlplang.cli import main
from mlplang.dsl.parser import parse_text
from mlplang.formatter import FormatError, format_text

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden" / "fmt"


def _parses(path: Path) -> bool:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return False
    return not parse_text(text, str(path))[1]


CORPUS = sorted(
    p
    for p in [
        *ROOT.glob("examples/**/*.mlp"),
        *ROOT.glob("tests/programs/**/*.mlp"),
        *ROOT.glob("tests/golden/diagnostics/*.mlp"),
    ]
    if _parses(p)
)
EXAMPLES = sorted(p for p in ROOT.glob("examples/*.mlp") if _parses(p))


def strip_spans(value):
    """The IR as plain data without positions: every `span` and `*_span` key goes."""
    if isinstance(value, dict):
        return {k: strip_spans(v) for k, v in value.items() if k != "span" and not k.endswith("_span")}
    if isinstance(value, list):
        return [strip_spans(v) for v in value]
    return value


def meaning(text: str, path: Path) -> list:
    result = load_text(text, str(path), real_path=path.resolve())
    return [strip_spans(p.model_dump(mode="json")) for p in result.pipelines], sorted(
        (d.code, d.message) for d in result.diagnostics
    )


def comments(text: str) -> Counter:
    module, _ = parse_text(text)
    return Counter(c.text.rstrip() for c in module.comments)


def assert_stable_and_equivalent(original: str, path: Path) -> str:
    formatted = format_text(original, str(path))
    assert format_text(formatted, str(path)) == formatted, "formatting is not stable"
    assert meaning(formatted, path) == meaning(original, path), "formatting changed the meaning"
    assert comments(formatted) == comments(original), "a comment was lost or duplicated"
    return formatted


# ---- golden layouts -----------------------------------------------------------

CASES = sorted(p.name[: -len(".mlp")] for p in GOLDEN.glob("*.mlp") if not p.name.endswith(".expected.mlp"))


def test_golden_cases_exist():
    assert len(CASES) >= 5


@pytest.mark.parametrize("case", CASES)
def test_golden(case):
    source = (GOLDEN / f"{case}.mlp").read_text(encoding="utf-8")
    expected = (GOLDEN / f"{case}.expected.mlp").read_text(encoding="utf-8")
    assert format_text(source, f"{case}.mlp") == expected
    assert format_text(expected, f"{case}.mlp") == expected
    assert_stable_and_equivalent(source, GOLDEN / f"{case}.mlp")


# ---- every program we have -------------------------------------------------------


def test_corpus_is_not_empty():
    assert len(EXAMPLES) >= 4 and len(CORPUS) >= 20


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: str(p.relative_to(ROOT)))
def test_corpus_stable_and_equivalent(path):
    assert_stable_and_equivalent(path.read_text(encoding="utf-8"), path)


def _lint_codes(text: str, path: Path) -> Counter:
    from mlplang.config import LintConfig
    from mlplang.lint import lint

    return Counter(d.code for d in lint(load_text(text, str(path), real_path=path.resolve()), LintConfig()))


SUPPRESSED = [p for p in CORPUS if "mlp: ignore" in p.read_text(encoding="utf-8")]


@pytest.mark.parametrize("path", SUPPRESSED, ids=lambda p: str(p.relative_to(ROOT)))
def test_suppressions_still_apply_after_formatting(path):
    original = path.read_text(encoding="utf-8")
    assert _lint_codes(format_text(original, str(path)), path) == _lint_codes(original, path)


def test_suppressions_on_reflowed_items_still_apply():
    step = 'step deploy { image = "python:3.12-slim" run = "python d.py --out \\"${out.e}\\"" out e: Endpoint }'
    plain = f'pipeline p {{ risk = "high"\n{step}\n}}\n'
    path = ROOT / "x.mlp"
    unsuppressed = _lint_codes(plain, path)
    codes = sorted(unsuppressed)
    suppressed_text = plain.replace(step, f"{step}  # mlp: ignore[{', '.join(codes)}]")
    suppressed = _lint_codes(suppressed_text, path)
    assert sum(suppressed.values()) < sum(unsuppressed.values())  # the comment does suppress something
    formatted = format_text(suppressed_text)
    assert formatted.count("\n") > suppressed_text.count("\n")  # the step was broken over lines
    assert _lint_codes(formatted, path) == suppressed


# ---- focused layout rules -------------------------------------------------------


def test_strings_are_copied_byte_for_byte():
    source = 'pipeline p {\n  step s {\n    run = """\n  a\\tb \\\n\t  $(x)  \n"""\n    description = "q\\"x\\\\ \\n"\n  }\n}\n'
    assert format_text(source) == source


def test_alignment_is_removed_and_separators_normalised():
    source = 'pipeline p { owner   = "a"; tags = ["x","y",] ;step a { run="echo" ; retries=1 } }'
    assert format_text(source) == (
        'pipeline p {\n  owner = "a"\n  tags = ["x", "y"]\n\n  step a {\n    run = "echo"\n    retries = 1\n  }\n}\n'
    )


def test_long_list_is_one_item_per_line_with_trailing_comma():
    items = ", ".join(f'"reviewer-number-{i}"' for i in range(8))
    out = format_text(f"pipeline p {{ tags = [{items}] }}")
    assert '  tags = [\n    "reviewer-number-0",\n' in out
    assert '    "reviewer-number-7",\n  ]\n' in out


def test_block_on_one_line_when_short_else_one_attribute_per_line():
    short = format_text("pipeline p { step s { run = \"x\" resources { cpu = 8\n memory = 32Gi } } }")
    assert "    resources { cpu = 8, memory = 32Gi }\n" in short
    long_value = "x" * 90
    long = format_text(f'pipeline p {{ gate g {{ approval {{ reviewers = ["a"], description = "{long_value}" }} }} }}')
    assert '    approval {\n      reviewers = ["a"]\n      description = "' in long


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("(a.b.c > 1 or a.b.d > 2) and not a.b.e < 3", "(a.b.c > 1 or a.b.d > 2) and not a.b.e < 3"),
        ("a.b.c > 1 or (a.b.d > 2 and a.b.e < 3)", "a.b.c > 1 or a.b.d > 2 and a.b.e < 3"),
        ("not (param.x or param.y)", "not (param.x or param.y)"),
        ("((param.x))", "param.x"),
        ("param.x or (param.y or param.z)", "param.x or (param.y or param.z)"),
        ("param.x==1", "param.x == 1"),
    ],
)
def test_condition_parentheses(condition, expected):
    out = format_text(f"pipeline p {{ gate g {{ require {condition} }} }}")
    assert f"    require {expected}\n" in out


def test_after_several_and_one():
    out = format_text('pipeline p { step a { run = "x" after [b,c,] } step d { run = "x" after [b] } }')
    assert "    after [b, c]\n" in out and "    after b\n" in out


def test_blank_lines_between_members_kept_at_most_one():
    out = format_text("pipeline p {\n  param a: int = 1\n\n\n\n  param b: int = 2\n  param c: int = 3\n}\n")
    assert out == "pipeline p {\n  param a: int = 1\n\n  param b: int = 2\n  param c: int = 3\n}\n"


def test_suppression_comment_stays_on_block_first_line():
    source = 'pipeline p { step deploy { run = "x" } # mlp: ignore[MLP208]\n}'
    out = format_text(source)
    assert "  step deploy {  # mlp: ignore[MLP208]\n" in out
    source = 'pipeline p {\n  step deploy {   # mlp: ignore[deploy-without-gate]\n    image = "i"  # mlp: ignore[MLP208]\n    run = "x"\n  }\n}\n'
    out = format_text(source)
    assert "  step deploy {  # mlp: ignore[deploy-without-gate]\n" in out
    assert '    image = "i"  # mlp: ignore[MLP208]\n' in out


def test_comments_everywhere_are_kept_once():
    source = (
        "# head\nimport \"std/data\" as data # imp\n# before p\npipeline p { # open\n"
        "  tags = [ # in list\n \"a\", # after a\n \"b\"\n # end of list\n ]\n"
        "  env_step = 1 # trailing\n  step s { run = \"x\"\n # dangling\n }\n # end of p\n} # after p\n# eof\n"
    )
    out = format_text(source)
    assert comments(out) == comments(source)
    assert format_text(out) == out


def test_syntax_error_is_never_formatted():
    with pytest.raises(FormatError) as info:
        format_text("pipeline p { step s { run = } }")
    assert info.value.diagnostics and info.value.diagnostics[0].code.startswith("MLP0")


# ---- property: whitespace, separators and comment placement do not matter -------

_TOKEN = re.compile(r'"""[\s\S]*?"""|"(?:[^"\\\n]|\\.)*"|#[^\n]*|\s+|[^\s"#]+')


def _tokens(text: str) -> list[str]:
    return [t for t in _TOKEN.findall(text)]


@st.composite
def mutated_example(draw):
    path = draw(st.sampled_from(EXAMPLES))
    formatted = format_text(path.read_text(encoding="utf-8"), str(path))
    out: list[str] = []
    for line in formatted.split("\n"):
        stripped = line.strip()
        # Separators: an item on its own line may end with `;` or `,` (bodies,
        # pipelines, blocks and maps accept them) unless it opens or continues
        # a list/argument list, which take `,` only.
        if (
            stripped
            and not stripped.startswith("#")
            and not stripped.endswith(("{", "[", "(", ","))
            and not stripped.startswith(("]", ")", '"""'))
            and '"""' not in stripped
            and draw(st.integers(0, 4)) == 0
        ):
            line += draw(st.sampled_from([";", " ;", ";;"]))
        if stripped and not stripped.startswith("#") and '"""' not in line and draw(st.integers(0, 5)) == 0:
            line += "  # c" + str(draw(st.integers(0, 99)))
        out.append(line)
        if draw(st.integers(0, 6)) == 0:
            out.append(draw(st.sampled_from(["", "   ", "# own line comment", "\t"])))
    text = "\n".join(out)
    # Re-space between tokens outside strings and comments.
    pieces = []
    for token in _tokens(text):
        if token.isspace() and "\n" not in token:
            token = draw(st.sampled_from([" ", "  ", "\t", " \t ", "\n", "\n\n   ", " \n\t"]))
        pieces.append(token)
    return path, "".join(pieces)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_example())
def test_mutated_examples_are_stable_and_equivalent(case):
    path, text = case
    if parse_text(text)[1]:  # a mutation the grammar does not allow: nothing to check
        return
    original = format_text(path.read_text(encoding="utf-8"), str(path))
    formatted = assert_stable_and_equivalent(text, path)
    # Comments aside, the layout of the mutated text is the canonical one.
    strip = lambda s: re.sub(r"[ \t]*#[^\n]*", "", s)
    if '"""' not in original and "#" not in strip(original):
        assert [line for line in strip(formatted).split("\n") if line.strip()] == [
            line for line in strip(original).split("\n") if line.strip()
        ]


# ---- CLI -----------------------------------------------------------------------

MESSY = 'pipeline p { owner   = "a@example.com"; step s { run="echo" } }\n'
CLEAN = format_text(MESSY)


def test_cli_check_lists_files_and_fails(tmp_path):
    messy, clean = tmp_path / "messy.mlp", tmp_path / "clean.mlp"
    messy.write_text(MESSY)
    clean.write_text(CLEAN)
    result = CliRunner().invoke(main, ["fmt", "--check", str(tmp_path)])
    assert result.exit_code == 1
    assert "messy.mlp" in result.output and "clean.mlp" not in result.output
    assert messy.read_text() == MESSY
    assert CliRunner().invoke(main, ["fmt", "--check", str(clean)]).exit_code == 0


def test_cli_diff(tmp_path):
    messy = tmp_path / "messy.mlp"
    messy.write_text(MESSY)
    result = CliRunner().invoke(main, ["fmt", "--diff", str(messy)])
    assert result.exit_code == 1
    assert "--- " in result.output and "+++ " in result.output and '+  owner = "a@example.com"' in result.output
    assert messy.read_text() == MESSY


def test_cli_rewrites_in_place(tmp_path):
    messy = tmp_path / "messy.mlp"
    messy.write_text(MESSY)
    result = CliRunner().invoke(main, ["fmt", str(messy)])
    assert result.exit_code == 0, result.output
    assert messy.read_text() == CLEAN
    assert [p.name for p in tmp_path.iterdir()] == ["messy.mlp"]  # no temporary file left
    again = CliRunner().invoke(main, ["fmt", str(messy)])
    assert again.exit_code == 0 and messy.read_text() == CLEAN


def test_cli_syntax_error_leaves_file_untouched(tmp_path):
    bad = tmp_path / "bad.mlp"
    bad.write_text("pipeline p { step s { run = } }\n")
    good = tmp_path / "good.mlp"
    good.write_text(MESSY)
    result = CliRunner().invoke(main, ["fmt", str(bad), str(good)])
    assert result.exit_code == 1
    assert "MLP0" in result.output
    assert bad.read_text() == "pipeline p { step s { run = } }\n"
    assert good.read_text() == CLEAN


def test_cli_unreadable(tmp_path):
    result = CliRunner().invoke(main, ["fmt", str(tmp_path / "missing.mlp")])
    assert result.exit_code == 2
    assert "missing.mlp" in result.output


def test_shipped_sources_are_in_the_canonical_layout():
    """The examples and the standard library are what users copy: keep them formatted."""
    root = Path(__file__).resolve().parent.parent
    files = sorted([*(root / "examples").rglob("*.mlp"), *(root / "mlplang" / "stdlib").glob("*.mlp")])
    assert files
    unformatted = [str(f.relative_to(root)) for f in files
                   if format_text(f.read_text(encoding="utf-8"), str(f)) != f.read_text(encoding="utf-8")]
    assert not unformatted, f"run `mlp fmt` on: {unformatted}"
