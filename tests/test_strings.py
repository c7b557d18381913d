"""String literals (mlplang/dsl/strings.py): escapes, raw triple-quoted text,
and which `$` text is an interpolation.

The contract (LANGUAGE_SPEC.md, "Strings"): only `${in.X}`, `${out.X}`,
`${param.X}` (and `${secret.X}`, rejected later) are interpolations; every
other `$` text reaches the command byte for byte, on every target.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlplang.diagnostics import codes
from mlplang.diagnostics.model import Severity
from mlplang.dsl import ast
from mlplang.dsl.parser import parse_text
from mlplang.dsl.strings import likely_namespace, parse_string
from mlplang.source import SourceFile

PREFIX = "run = "


def lit(raw: str, prefix: str = PREFIX):
    """Decode the literal `raw` as if it followed `prefix` in a file."""
    source = SourceFile.from_text(prefix + raw, "s.mlp")
    node, diagnostics = parse_string(raw, len(prefix), source)
    return node, diagnostics, source


def offsets(span) -> tuple[int, int]:
    return span.start, span.end


def text_of(raw: str) -> str:
    node, diagnostics, _ = lit(raw)
    assert diagnostics == [], diagnostics
    return node.text


# ---- plain strings: escapes -----------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        (r'"a\"b"', 'a"b'),
        (r'"a\\b"', "a\\b"),
        (r'"a\nb"', "a\nb"),
        (r'"a\tb"', "a\tb"),
        (r'"a\rb"', "a\rb"),
        (r'"\\\\"', "\\\\"),
        (r'"\\n"', "\\n"),  # an escaped backslash, then a plain `n`
        (r'"\"\""', '""'),
        ('""', ""),
        ('"plain"', "plain"),
        ('"tab\tinside"', "tab\tinside"),  # a literal tab character needs no escape
        ('"ünï €"', "ünï €"),
    ],
)
def test_escapes(raw: str, value: str) -> None:
    node, diagnostics, _ = lit(raw)
    assert diagnostics == []
    assert node.text == value
    assert node.triple is False


def test_empty_string_has_no_parts() -> None:
    node, _, source = lit('""')
    assert node.parts == ()
    assert offsets(node.span) == (len(PREFIX), len(PREFIX) + 2)


def test_escaped_text_part_spans_the_source_characters() -> None:
    node, _, source = lit(r'"a\nb"')
    (part,) = node.parts
    assert part.text == "a\nb"
    # the decoded text is 3 characters; its span is the 4 source characters inside the quotes
    assert source.text[part.span.start:part.span.end] == r"a\nb"


@pytest.mark.parametrize("escape", ["q", "$", "0", "x", "u", "'", " ", "{", "é"])
def test_unknown_escape_is_an_error_with_a_help_line(escape: str) -> None:
    raw = f'"ab\\{escape}cd"'
    node, diagnostics, source = lit(raw)
    (diagnostic,) = diagnostics
    assert diagnostic.code == codes.INVALID_ESCAPE.code
    assert diagnostic.severity is Severity.ERROR
    assert f"`\\{escape}`" in diagnostic.message
    start = len(PREFIX) + 3
    assert offsets(diagnostic.span) == (start, start + 2)
    assert source.text[diagnostic.span.start:diagnostic.span.end] == "\\" + escape
    assert (diagnostic.span.line, diagnostic.span.column) == (1, start + 1)
    assert diagnostic.help and '"""' in diagnostic.help
    # the text keeps the backslash, so later stages see what was written
    assert node.text == f"ab\\{escape}cd"


def test_several_unknown_escapes_are_each_reported() -> None:
    _, diagnostics, _ = lit(r'"\a ok \n \b"')
    assert [d.code for d in diagnostics] == [codes.INVALID_ESCAPE.code] * 2
    assert [d.span.start - len(PREFIX) for d in diagnostics] == [1, 10]


def test_shell_dollar_paren_needs_a_raw_string() -> None:
    """`\\$(x)` is shell text; in a plain string the backslash is an unknown escape."""
    _, diagnostics, _ = lit(r'"echo \$(date)"')
    assert [d.code for d in diagnostics] == [codes.INVALID_ESCAPE.code]


# ---- triple-quoted strings: raw and dedented ------------------------------------------


def test_triple_drops_first_newline_and_common_indent() -> None:
    raw = '"""\n    python train.py\n      --epochs 3\n    done\n  """'
    node, diagnostics, _ = lit(raw)
    assert diagnostics == []
    assert node.triple is True
    assert node.text == "python train.py\n  --epochs 3\ndone\n"


def test_triple_keeps_line_continuation_and_backslashes() -> None:
    raw = '"""\n  python a.py \\\n    --x 1\n  echo \\$(x) "\\n" \\q\n"""'
    assert text_of(raw) == 'python a.py \\\n  --x 1\necho \\$(x) "\\n" \\q\n'


def test_triple_only_first_newline_is_dropped() -> None:
    assert text_of('"""\n\na\n"""') == "\na\n"


def test_triple_on_one_line() -> None:
    assert text_of('"""echo hi"""') == "echo hi"
    assert text_of('""""""') == ""


def test_triple_may_contain_quotes() -> None:
    assert text_of('"""\n  echo "a" \'b\' ""\n"""') == "echo \"a\" 'b' \"\"\n"


def test_triple_blank_lines_do_not_limit_the_common_indent() -> None:
    raw = '"""\n    a\n\n  \n    b\n"""'
    assert text_of(raw) == "a\n\n\nb\n"


def test_triple_tab_indent() -> None:
    assert text_of('"""\n\t\tx\n\t\t\ty\n"""') == "x\n\ty\n"


def test_triple_mixed_indent_keeps_what_differs() -> None:
    # common prefix of "  \t" and "    " is two spaces
    assert text_of('"""\n  \tx\n    y\n"""') == "\tx\n  y\n"


def test_triple_crlf() -> None:
    assert text_of('"""\r\n  a\r\n    b\r\n  """') == "a\r\n  b\r\n"


@pytest.mark.parametrize("char", ["\f", "\v", "\x1c", "\x85", "\u2028", "\u2029"])
def test_triple_lines_end_only_at_newline(char: str) -> None:
    """Characters that `str.splitlines` treats as line ends stay in the text, and
    the text after them is not dedented (it is on the same line)."""
    raw = f'"""\n    echo "a{char}    b"\n    {char}\n"""'
    assert text_of(raw) == f'echo "a{char}    b"\n{char}\n'


def test_triple_is_raw_for_escapes_and_keeps_dollar_text() -> None:
    raw = '"""\n  echo $HOME ${HOME} $(hostname) ${{ github.sha }} {{ jinja }} \\t\n"""'
    node, diagnostics, _ = lit(raw)
    assert diagnostics == []
    assert all(isinstance(p, ast.TextPart) for p in node.parts)
    assert node.text == "echo $HOME ${HOME} $(hostname) ${{ github.sha }} {{ jinja }} \\t\n"


def test_triple_interpolation_spans_point_into_the_source() -> None:
    raw = '"""\n    a \\\n      b ${in.x}\n    ${out.y}\n  """'
    node, diagnostics, source = lit(raw)
    assert diagnostics == []
    kinds = [type(p).__name__ for p in node.parts]
    assert kinds == ["TextPart", "Interpolation", "TextPart", "Interpolation", "TextPart"]
    first, interp_in, middle, interp_out, last = node.parts
    assert first.text == "a \\\n  b "
    assert (interp_in.namespace, interp_in.name) == ("in", "x")
    assert source.text[interp_in.span.start:interp_in.span.end] == "${in.x}"
    assert source.text[interp_in.name_span.start:interp_in.name_span.end] == "x"
    assert (interp_in.span.line, interp_in.span.column) == (3, 9)
    assert (interp_in.span.end_line, interp_in.span.end_column) == (3, 16)
    assert middle.text == "\n"
    assert source.text[interp_out.span.start:interp_out.span.end] == "${out.y}"
    assert (interp_out.span.line, interp_out.span.column) == (4, 5)
    assert last.text == "\n"
    # The first text part starts at `a`, after the removed indentation.
    assert source.text[first.span.start] == "a"


# ---- interpolations -----------------------------------------------------------------------


def test_interpolation_parts_with_exact_spans() -> None:
    raw = '"--data ${in.data} --out ${out.model} --n ${param.epochs}!"'
    node, diagnostics, source = lit(raw)
    assert diagnostics == []
    base = len(PREFIX)
    expected = [
        ("text", "--data ", 1, 8),
        ("in", "data", 8, 18),
        ("text", " --out ", 18, 25),
        ("out", "model", 25, 37),
        ("text", " --n ", 37, 42),
        ("param", "epochs", 42, 57),
        ("text", "!", 57, 58),
    ]
    assert len(node.parts) == len(expected)
    for part, (kind, value, start, end) in zip(node.parts, expected):
        assert offsets(part.span) == (base + start, base + end), (part, kind)
        if kind == "text":
            assert isinstance(part, ast.TextPart)
            assert part.text == value
        else:
            assert isinstance(part, ast.Interpolation)
            assert (part.namespace, part.name) == (kind, value)
            name_start = base + start + 3 + len(kind)
            assert offsets(part.name_span) == (name_start, name_start + len(value))
            assert source.text[part.name_span.start:part.name_span.end] == value
    assert node.has_interpolation
    assert node.text == raw[1:-1]


def test_secret_interpolation_is_parsed_for_the_check_to_reject() -> None:
    node, diagnostics, _ = lit('"${secret.token}"')
    assert diagnostics == []
    (part,) = node.parts
    assert isinstance(part, ast.Interpolation)
    assert (part.namespace, part.name) == ("secret", "token")


def test_interpolation_after_an_escape_and_in_a_row() -> None:
    node, diagnostics, _ = lit(r'"\\${in.a}${in.b}\"${out.c}"')
    assert diagnostics == []
    assert [type(p).__name__ for p in node.parts] == [
        "TextPart", "Interpolation", "Interpolation", "TextPart", "Interpolation",
    ]
    assert node.parts[0].text == "\\"
    assert node.parts[3].text == '"'


@pytest.mark.parametrize("quote", ['"', '"""'])
def test_double_dollar_writes_a_literal_interpolation(quote: str) -> None:
    node, diagnostics, source = lit(f"{quote}a $${{in.x}} b $${{inp.y}}{quote}")
    assert diagnostics == []  # no did-you-mean for the escaped form either
    assert not node.has_interpolation
    (part,) = node.parts
    assert part.text == "a ${in.x} b ${inp.y}"


@pytest.mark.parametrize(
    "text",
    [
        "${HOME}",
        "$HOME",
        "$(cmd)",
        "$(date -u +%F)",
        "${{ github.sha }}",
        "${{ secrets.TOKEN }}",
        "{{ jinja }}",
        "{{ ds }}",
        "${TMPDIR:-/tmp}",
        "${in}",
        "${in.}",
        "${.x}",
        "${in.x.y}",
        "${ in.x }",
        "$in.x",
        "{in.x}",
        "${env.HOME}",
        "${foo.bar}",
        "$",
        "$$",
        "${",
        "100$",
    ],
)
@pytest.mark.parametrize("quote", ['"', '"""'])
def test_other_dollar_text_is_untouched(text: str, quote: str) -> None:
    raw = f"{quote}echo {text} end{quote}"
    node, diagnostics, _ = lit(raw)
    assert diagnostics == []
    assert not node.has_interpolation
    assert node.text == f"echo {text} end"


@pytest.mark.parametrize(
    ("word", "meant"),
    [
        ("inp", "in"), ("input", "in"), ("inputs", "in"), ("IN", "in"), ("i", "in"), ("ni", "in"),
        ("ot", "out"), ("output", "out"), ("outputs", "out"), ("oout", "out"),
        ("params", "param"), ("parm", "param"), ("parameter", "param"), ("Param", "param"),
        ("parameters", "param"), ("praam", "param"),
    ],
)
def test_did_you_mean_warning_for_near_misses(word: str, meant: str) -> None:
    raw = f'"go ${{{word}.data}} now"'
    node, diagnostics, source = lit(raw)
    (diagnostic,) = diagnostics
    assert diagnostic.code == codes.INTERPOLATION_TYPO.code
    assert diagnostic.severity is Severity.WARNING
    assert source.text[diagnostic.span.start:diagnostic.span.end] == f"${{{word}.data}}"
    assert f"${{{meant}.data}}" in diagnostic.label
    assert f"$${{{word}.data}}" in diagnostic.help  # how to keep the text on purpose
    # the text is passed through unchanged
    assert not node.has_interpolation
    assert node.text == f"go ${{{word}.data}} now"


@pytest.mark.parametrize("word", ["env", "HOME", "github", "secrets", "inventory", "outer", "x", "steps", "matrix"])
def test_no_warning_for_unrelated_words(word: str) -> None:
    _, diagnostics, _ = lit(f'"${{{word}.x}}"')
    assert diagnostics == []
    assert likely_namespace(word) is None


def test_did_you_mean_in_a_triple_quoted_string() -> None:
    raw = '"""\n  a ${params.x}\n"""'
    _, diagnostics, source = lit(raw)
    (diagnostic,) = diagnostics
    assert diagnostic.code == codes.INTERPOLATION_TYPO.code
    assert source.text[diagnostic.span.start:diagnostic.span.end] == "${params.x}"
    assert (diagnostic.span.line, diagnostic.span.column) == (2, 5)


# ---- through the parser ------------------------------------------------------------------------


def test_parser_attaches_string_diagnostics_with_file_positions() -> None:
    text = 'pipeline p {\n  step s {\n    run = "a \\q ${inp.x}"\n  }\n}\n'
    _, diagnostics = parse_text(text, "f.mlp")
    assert [(d.code, d.span.line, d.span.column) for d in diagnostics] == [
        (codes.INVALID_ESCAPE.code, 3, 14),
        (codes.INTERPOLATION_TYPO.code, 3, 17),
    ]
    assert all(d.span.file == "f.mlp" for d in diagnostics)


def test_unicode_before_a_string_counts_characters() -> None:
    text = 'pipeline p { description = "é€" owner = "${param.x}" }'
    module, diagnostics = parse_text(text)
    assert diagnostics == []
    owner = module.pipelines[0].members[1].value
    (part,) = owner.parts
    assert text[part.span.start:part.span.end] == "${param.x}"


# ---- properties -------------------------------------------------------------------------------------

safe_chars = st.characters(blacklist_characters='"\\\n', blacklist_categories=("Cs",))


@settings(max_examples=200, deadline=None)
@given(st.text(safe_chars, max_size=60))
def test_plain_text_round_trips(body: str) -> None:
    """Text without quotes, backslashes or newlines decodes to itself, and its
    parts tile the string's inside."""
    node, diagnostics, source = lit(f'"{body}"')
    if "${" not in body:
        assert node.text == body
        assert diagnostics == []
    inside = (len(PREFIX) + 1, len(PREFIX) + 1 + len(body))
    position = inside[0]
    for part in node.parts:
        assert part.span.start == position
        position = part.span.end
    assert position == (inside[1] if node.parts else inside[0])


ESCAPE = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r"}


@settings(max_examples=200, deadline=None)
@given(st.text(st.characters(blacklist_characters="$", blacklist_categories=("Cs",)), max_size=40))
def test_escaping_any_text_round_trips(value: str) -> None:
    """Any text without `$`, written with the five escapes, decodes to itself."""
    escaped = "".join(ESCAPE.get(c, c) for c in value)
    node, diagnostics, _ = lit(f'"{escaped}"')
    assert diagnostics == []
    assert node.text == value


# ---- the one-line fast path agrees with the general loop ------------------------------------

_BODY_PIECES = st.sampled_from(
    ["${in.data}", "${out.model}", "${param.seed}", "${secret.token}", "$${in.x}", "${inp.x}", "${HOME}",
     "${{ github.sha }}", "$HOME", "$", "{", "}", ".", " ", "--x ", "a", "é", "\t"]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_BODY_PIECES, max_size=12), st.integers(0, 3))
def test_interpolated_line_fast_path_equals_general_loop(pieces, indent):
    """Where the fast path answers, its parts (texts, interpolations, spans) are
    the general loop's; it declines exactly when the general loop would keep
    `${...}` text (escaped or not an interpolation)."""
    from mlplang.dsl.strings import _interpolated_line, _line_parts

    body = "".join(pieces)
    prefix = "\n" + " " * indent + PREFIX
    source = SourceFile.from_text(prefix + '"' + body + '"\n', "s.mlp")
    offset = len(prefix) + 1
    line, column = 2, indent + len(PREFIX) + 2
    general, diagnostics = _line_parts(body, offset, line, source)
    fast = _interpolated_line(body, source.path, line, column, offset)
    kept_as_text = any(p in ("$${in.x}", "${inp.x}", "${HOME}") for p in pieces) or (
        "${" in "".join(p.text for p in general if isinstance(p, ast.TextPart)))
    if fast is None:
        assert kept_as_text
    else:
        assert fast == general
        assert diagnostics == []
    for part in general:  # the spans the fast path was compared with point at the right text
        if isinstance(part, ast.Interpolation):
            assert source.text[part.span.start:part.span.end] == f"${{{part.namespace}.{part.name}}}"
            assert source.text[part.name_span.start:part.name_span.end] == part.name
        elif "$$" not in body:
            assert source.text[part.span.start:part.span.end] == part.text
