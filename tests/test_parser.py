"""The parser (mlplang/dsl/parser.py, transformer.py, grammar/mlp.lark): what
syntax trees it builds, and the spans on them.

Spans: lines and columns are 1-based, `end_column` and `end` are exclusive,
offsets are 0-based character offsets (STYLE.md: positions on every scalar).
"""

from __future__ import annotations

import pytest

from mlplang.diagnostics import codes
from mlplang.dsl import ast
from mlplang.dsl.parser import parse_text
from mlplang.source import SourceFile, Span


def parse_ok(text: str) -> ast.Module:
    module, diagnostics = parse_text(text, "t.mlp")
    assert diagnostics == [], [(d.code, d.message, str(d.span)) for d in diagnostics]
    return module


def members(text: str) -> tuple:
    (pipeline,) = parse_ok(text).pipelines
    return pipeline.members


def step_body(body: str) -> tuple:
    (step,) = members(f"pipeline p {{ step s {{ {body} }} }}")
    assert isinstance(step, ast.StepDecl)
    return step.body


def value_of(text: str) -> ast.Value:
    (attribute,) = step_body(f"x = {text}")
    assert isinstance(attribute, ast.Attribute)
    return attribute.value


def covered(text: str, span: Span) -> str:
    return text[span.start:span.end]


def assert_span_consistent(text: str, span: Span) -> None:
    source = SourceFile.from_text(text, span.file)
    assert 0 <= span.start <= span.end <= len(text)
    assert (span.line, span.column) == source.position(span.start)
    assert (span.end_line, span.end_column) == source.position(span.end)


# ---- numbers and units ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [("0", 0), ("42", 42), ("-2", -2), ("0.5", 0.5), ("-0.25", -0.25), ("1e3", 1000.0),
     ("2.5E-2", 0.025), ("3.0e-4", 3.0e-4), ("12345678901234567890", 12345678901234567890)],
)
def test_plain_numbers(text: str, value) -> None:
    node = value_of(text)
    assert isinstance(node, ast.NumberLit)
    assert node.value == value
    assert type(node.value) is type(value)
    assert node.text == text


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("30m", 1800), ("3h", 10800), ("7d", 604800), ("0s", 0), ("1.5h", 5400.0), ("-1h", -3600)],
)
def test_durations(text: str, seconds) -> None:
    node = value_of(text)
    assert isinstance(node, ast.DurationLit)
    assert node.seconds == seconds
    assert node.text == text


@pytest.mark.parametrize(
    ("text", "size"),
    [("512Mi", 512 * 2**20), ("32Gi", 32 * 2**30), ("1Ki", 1024), ("2Ti", 2 * 2**40),
     ("4G", 4_000_000_000), ("1K", 1000), ("3M", 3_000_000), ("1T", 10**12), ("1.5Gi", 1610612736)],
)
def test_sizes(text: str, size: int) -> None:
    node = value_of(text)
    assert isinstance(node, ast.SizeLit)
    assert node.bytes == size
    assert isinstance(node.bytes, int)


def test_units_are_case_sensitive() -> None:
    """`m` is minutes, `M` is megabytes."""
    assert isinstance(value_of("1m"), ast.DurationLit)
    assert isinstance(value_of("1M"), ast.SizeLit)


@pytest.mark.parametrize("text", ["3x", "10gb", "1ms", "5mi", "2H", "1e", "7days", "1GiB"])
def test_unknown_unit_is_a_diagnostic_on_the_number(text: str) -> None:
    source = f"pipeline p {{ step s {{ x = {text} }} }}"
    module, diagnostics = parse_text(source, "t.mlp")
    (diagnostic,) = diagnostics
    assert diagnostic.code == codes.INVALID_NUMBER.code
    assert covered(source, diagnostic.span) == text
    attribute = module.pipelines[0].members[0].body[0]
    assert isinstance(attribute.value, ast.ErrorValue)
    assert attribute.value.span == diagnostic.span


@pytest.mark.parametrize("text", ["1e999s", "1e999Gi", "1e300Ti", "1e308d", "9" * 400 + ".0h", "1e999", "9" * 400 + ".0"])
def test_numbers_too_large_for_a_float_are_a_diagnostic(text: str) -> None:
    source = f"pipeline p {{ step s {{ x = {text} }} }}"
    _, diagnostics = parse_text(source, "t.mlp")
    (diagnostic,) = diagnostics
    assert diagnostic.code == codes.INVALID_NUMBER.code
    assert "too large" in diagnostic.message
    assert covered(source, diagnostic.span) == text


def test_huge_whole_numbers_with_units_stay_exact() -> None:
    node = value_of("9" * 400 + "s")
    assert isinstance(node, ast.DurationLit)
    assert node.seconds == int("9" * 400)


def test_number_span() -> None:
    text = "pipeline p { step s { timeout = 45m } }"
    (attribute,) = members(text)[0].body
    assert covered(text, attribute.value.span) == "45m"
    assert (attribute.value.span.line, attribute.value.span.column) == (1, 33)
    assert attribute.value.span.end_column == 36


# ---- other values --------------------------------------------------------------------------


def test_booleans_lists_maps_cron_refs() -> None:
    assert value_of("true") == ast.BoolLit(True, value_of("true").span)
    assert value_of("false").value is False
    lst = value_of('["a", 1, [2], { K = 3 },]')
    assert isinstance(lst, ast.ListLit)
    assert [type(i).__name__ for i in lst.items] == ["StringLit", "NumberLit", "ListLit", "MapLit"]
    mapping = value_of("{ A = 1, B = param.x; C = secret.y\n D = \"d\" }")
    assert isinstance(mapping, ast.MapLit)
    assert [e.key.value for e in mapping.entries] == ["A", "B", "C", "D"]
    assert mapping.entries[1].value.dotted == "param.x"
    cron = value_of('cron("0 2 * * *")')
    assert isinstance(cron, ast.CronLit)
    assert cron.expression.text == "0 2 * * *"
    ref = value_of("evaluate.report.auc")
    assert isinstance(ref, ast.Ref)
    assert [p.value for p in ref.parts] == ["evaluate", "report", "auc"]
    assert value_of("[]").items == ()
    assert value_of("{}").entries == ()


# ---- types ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "name", "flavor"),
    [("Dataset", "Dataset", None), ("Model<sklearn>", "Model", "sklearn"), ("Model < llm >", "Model", "llm"),
     ("Features", "Features", None), ("Widget<x>", "Widget", "x")],
)
def test_type_refs_with_flavors(written: str, name: str, flavor: str | None) -> None:
    text = f"pipeline p {{ step s {{ in a: {written} = src }} }}"
    (decl,) = members(text)[0].body
    assert isinstance(decl, ast.InputDecl)
    assert decl.type.name.value == name
    assert (decl.type.flavor.value if decl.type.flavor else None) == flavor
    assert covered(text, decl.type.span) == written
    assert str(decl.type) == (f"{name}<{flavor}>" if flavor else name)


def test_type_ref_on_source_output_and_template_param() -> None:
    module = parse_ok(
        "template t(m: Model<pytorch>, n: int = 3) { out r: Metrics }\n"
        "pipeline p { source s: Model<llm> { uri = \"u\" } }"
    )
    (template,) = module.templates
    assert [str(p.type) for p in template.params] == ["Model<pytorch>", "int"]
    assert template.params[1].default.value == 3
    (source,) = module.pipelines[0].members
    assert str(source.type) == "Model<llm>"
    (output,) = template.body
    assert isinstance(output, ast.OutputDecl) and str(output.type) == "Metrics"


# ---- after, separators ---------------------------------------------------------------------------


def test_after_single_and_list() -> None:
    one, many, empty, trailing = step_body("after a after [a, b] after [] after [c,]")
    assert [n.value for n in one.names] == ["a"]
    assert [n.value for n in many.names] == ["a", "b"]
    assert empty.names == ()
    assert [n.value for n in trailing.names] == ["c"]


def test_after_list_over_several_lines() -> None:
    (after,) = step_body("after [\n  validate,\n  smoke_test\n]")
    assert [n.value for n in after.names] == ["validate", "smoke_test"]
    assert (after.span.line, after.span.end_line) == (1, 4)


@pytest.mark.parametrize("separator", [",", ";", "\n", " ", " ,\n; "])
def test_separators_between_items(separator: str) -> None:
    body = separator.join(['image = "i"', "in a: Dataset = x", "out b: Model", "retries = 2", "after c"])
    items = step_body(body)
    assert [type(i).__name__ for i in items] == ["Attribute", "InputDecl", "OutputDecl", "Attribute", "AfterDecl"]


def test_separators_between_pipeline_members_and_top_level() -> None:
    module = parse_ok('pipeline p { param a: int = 1; param b: str, secret c; owner = "o" };;, pipeline q {}')
    assert [p.name.value for p in module.pipelines] == ["p", "q"]
    assert [type(m).__name__ for m in module.pipelines[0].members] == [
        "ParamDecl", "ParamDecl", "SecretDecl", "Attribute",
    ]


def test_newlines_are_not_significant() -> None:
    module = parse_ok("pipeline\np\n{\nstep\ns\n{\nin\na\n:\nDataset\n=\nx\n.\ny\n}\n}")
    (step,) = module.pipelines[0].members
    (decl,) = step.body
    assert decl.binding.dotted == "x.y"


# ---- comments ------------------------------------------------------------------------------------


def test_comments_are_collected_with_spans() -> None:
    text = (
        "# head\n"
        "pipeline p { # after brace\n"
        '  owner = "a # not a comment"  # tail\n'
        '  step s { run = """\n    echo # raw, not a comment\n  """ }\n'
        "}\n"
        "# last, no newline"
    )
    module = parse_ok(text)
    assert [c.text for c in module.comments] == ["# head", "# after brace", "# tail", "# last, no newline"]
    for comment in module.comments:
        assert covered(text, comment.span) == comment.text
        assert_span_consistent(text, comment.span)
    assert [(c.span.line, c.span.column) for c in module.comments] == [(1, 1), (2, 14), (3, 32), (8, 1)]
    owner = module.pipelines[0].members[0]
    assert owner.value.text == "a # not a comment"


def test_suppression_comment_is_an_ordinary_comment_node() -> None:
    module = parse_ok("pipeline p {} # mlp: ignore[MLP211]")
    (comment,) = module.comments
    assert comment.text == "# mlp: ignore[MLP211]"


def test_comments_of_a_file_with_errors_are_still_collected() -> None:
    module, diagnostics = parse_text("# one\npipeline p { = }\n# two\n", "t.mlp")
    assert diagnostics
    assert [c.text for c in module.comments] == ["# one", "# two"]


# ---- keywords as names ---------------------------------------------------------------------------------


def test_keywords_as_declaration_names() -> None:
    """Keywords are contextual: where only a name can follow, a keyword is a name."""
    text = """pipeline step {
  param param: int = 1
  param source: str = "x"
  secret secret
  source in: Dataset { uri = "s3://x" }
  step out {
    run = "go ${in.in} ${out.out} ${param.param}"
    env = { in = "1", out = secret.secret }
    in in: Dataset = in
    out out: Dataset
  }
  step after {
    in step: Dataset = out.out
    after out
  }
  gate gate {
    require param.param > 0
    after [after]
  }
  monitor monitor { watch = out.out }
}
template in(out: Dataset, step: int) { out in: Dataset }
import "std/data" as in
"""
    module = parse_ok(text)
    (pipeline,) = module.pipelines
    assert pipeline.name.value == "step"
    names = [m.name.value for m in pipeline.members]
    assert names == ["param", "source", "secret", "in", "out", "after", "gate", "monitor"]
    out_step = pipeline.members[4]
    kinds = [type(i).__name__ for i in out_step.body]
    assert kinds == ["Attribute", "Attribute", "InputDecl", "OutputDecl"]
    in_decl, out_decl = out_step.body[2], out_step.body[3]
    assert (in_decl.name.value, in_decl.binding.dotted) == ("in", "in")
    assert out_decl.name.value == "out"
    assert [e.key.value for e in out_step.body[1].value.entries] == ["in", "out"]
    after_step = pipeline.members[5]
    assert after_step.body[0].binding.dotted == "out.out"
    assert [n.value for n in after_step.body[1].names] == ["out"]
    (template,) = module.templates
    assert template.name.value == "in"
    assert [p.name.value for p in template.params] == ["out", "step"]
    (imported,) = module.imports
    assert imported.alias.value == "in"


def test_keyword_names_on_their_own_line_in_a_list() -> None:
    (after,) = step_body("after [\n  in,\n  out\n]")
    assert [n.value for n in after.names] == ["in", "out"]


@pytest.mark.parametrize("word", ["and", "or", "require", "when", "after"])
def test_words_usable_as_references_in_conditions(word: str) -> None:
    text = f"pipeline p {{ gate g {{ require {word}.report.auc > 1 }} }}"
    (gate,) = members(text)
    (require,) = gate.body
    assert require.condition.left.dotted == f"{word}.report.auc"


@pytest.mark.parametrize(
    "word",
    ["in", "out", "step", "after", "when", "require", "param", "secret", "source", "gate", "monitor",
     "pipeline", "template", "import", "as", "and", "or"],
)
def test_keyword_named_step_is_usable_everywhere(word: str) -> None:
    """A step called `in` (or any other keyword that does not start a value)
    can be bound, waited for and read by a gate."""
    import mlplang

    pinned = "img@sha256:" + "0" * 64
    text = f"""pipeline p {{
  step {word} {{ image = "{pinned}" run = "x ${{out.o}}" out o: Metrics }}
  step b {{
    image = "{pinned}"
    run = "x ${{in.i}}"
    in i: Metrics = {word}.o
    after {word}
  }}
  gate g {{ require {word}.o.auc > 1 }}
}}"""
    result = mlplang.load_text(text, "t.mlp")
    assert result.diagnostics == ()
    (pipeline,) = result.pipelines
    assert pipeline.step("b").inputs[0].ref.artifact_id == f"{word}.o"
    assert pipeline.step("b").after == (word,)
    assert result.graph(pipeline).predecessors("g") == [word]


@pytest.mark.parametrize("word", ["true", "false", "cron"])
def test_value_keywords_can_name_a_step_but_not_be_referenced(word: str) -> None:
    """What is true today: `true`, `false` and `cron` start a value, so a step
    may be called that, but `word.output` does not parse where a value goes."""
    parse_ok(f"pipeline p {{ step {word} {{ }} }}")
    _, diagnostics = parse_text(f"pipeline p {{ step s {{ in x: Dataset = {word}.o }} }}", "t.mlp")
    assert [d.code for d in diagnostics] == [codes.SYNTAX_ERROR.code]


def test_not_is_a_name_in_a_binding_but_negation_in_a_condition() -> None:
    (decl,) = step_body("in x: Dataset = not.o")
    assert decl.binding.dotted == "not.o"
    _, diagnostics = parse_text("pipeline p { gate g { require not.m.k > 1 } }", "t.mlp")
    assert [d.code for d in diagnostics] == [codes.SYNTAX_ERROR.code]


@pytest.mark.parametrize(
    ("entries", "keys"),
    [
        ('a = "1", out = "2"', ["a", "out"]),
        ('a = "1" out = "2"', ["a", "out"]),
        ('a = "1"; in = "2"', ["a", "in"]),
        ("a = 1, step = 2, not = 3", ["a", "step", "not"]),
        ("a = 1\n  out = 2\n  pipeline = 3\n", ["a", "out", "pipeline"]),
        ("out = 1, in = 2", ["out", "in"]),
    ],
)
def test_keywords_as_map_keys_after_other_entries(entries: str, keys: list[str]) -> None:
    """After a value or a separator the lexer also expects item keywords (LALR
    merges those states across rules); a keyword used as a key is still a key."""
    (env,) = step_body(f"env = {{ {entries} }}")
    assert [e.key.value for e in env.value.entries] == keys


def test_a_keyword_that_starts_an_item_still_closes_the_block() -> None:
    """The keyword-as-name reading applies only where a name is followed by `=`,
    `.`, `:` ...: `step t {` after an unclosed step still reads as a new step."""
    _, diagnostics = parse_text('pipeline p { step s { image = "x" step t { } }', "t.mlp")
    (diagnostic,) = diagnostics
    assert diagnostic.code == codes.SYNTAX_ERROR.code
    assert "missing `}`" in diagnostic.message


# ---- conditions -------------------------------------------------------------------------------------------


def test_condition_precedence() -> None:
    (gate,) = members("pipeline p { gate g { require a.b.c > 1 or not d.e.f == 2 and (g.h.i < 3 or x) } }")
    condition = gate.body[0].condition
    assert isinstance(condition, ast.BoolOp) and condition.op == "or"
    left, right = condition.operands
    assert isinstance(left, ast.Compare) and left.op == ">"
    assert isinstance(right, ast.BoolOp) and right.op == "and"
    negated, grouped = right.operands
    assert isinstance(negated, ast.Not) and isinstance(negated.operand, ast.Compare)
    assert isinstance(grouped, ast.BoolOp) and grouped.op == "or"


def test_chained_and_is_flat() -> None:
    (gate,) = members("pipeline p { gate g { require a.b.c > 1 and d.e.f > 2 and g.h.i > 3 } }")
    condition = gate.body[0].condition
    assert condition.op == "and" and len(condition.operands) == 3


@pytest.mark.parametrize("op", ["<", "<=", ">", ">=", "==", "!="])
def test_comparison_operators(op: str) -> None:
    (gate,) = members(f"pipeline p {{ gate g {{ require a.b.c {op} -0.5 }} }}")
    condition = gate.body[0].condition
    assert condition.op == op
    assert condition.right.value == -0.5


# ---- spans of nodes ----------------------------------------------------------------------------------------

SPAN_TEXT = """import "std/data" as data

pipeline fraud {
  param min_auc: float = 0.85
  source tx: Dataset {
    uri = "s3://x"
  }
  step train {
    in  data:  Dataset = tx
    out model: Model<sklearn> { pii = [] }
    resources { cpu = 8, memory = 32Gi }
  }
  step check = data.check_schema(data = train.model, schema = "s.json") {
    retries = 1
  }
  gate release {
    require train.model.auc >= param.min_auc
  }
}
"""


def test_spans_of_nodes_are_one_based_and_end_exclusive() -> None:
    text = SPAN_TEXT
    module = parse_ok(text)
    (imp,) = module.imports
    assert covered(text, imp.span) == 'import "std/data" as data'
    assert (imp.span.line, imp.span.column, imp.span.end_line, imp.span.end_column) == (1, 1, 1, 26)
    assert covered(text, imp.path.span) == '"std/data"'
    (pipeline,) = module.pipelines
    assert covered(text, pipeline.span).startswith("pipeline fraud {") and pipeline.span.end == text.rindex("}") + 1
    assert (pipeline.span.line, pipeline.span.column) == (3, 1)
    assert (pipeline.span.end_line, pipeline.span.end_column) == (19, 2)
    assert covered(text, pipeline.name.span) == "fraud"
    assert (pipeline.name.span.line, pipeline.name.span.column, pipeline.name.span.end_column) == (3, 10, 15)
    param, source, train, check, release = pipeline.members
    assert covered(text, param.span) == "param min_auc: float = 0.85"
    assert covered(text, param.type.span) == "float"
    assert covered(text, param.default.span) == "0.85"
    assert covered(text, source.span) == 'source tx: Dataset {\n    uri = "s3://x"\n  }'
    assert (source.span.line, source.span.end_line, source.span.end_column) == (5, 7, 4)
    assert covered(text, train.span).startswith("step train {") and covered(text, train.span).endswith("}\n  }")
    in_decl, out_decl, resources = train.body
    assert covered(text, in_decl.span) == "in  data:  Dataset = tx"
    assert covered(text, in_decl.binding.span) == "tx"
    assert covered(text, out_decl.span) == "out model: Model<sklearn> { pii = [] }"
    assert covered(text, out_decl.attributes[0].span) == "pii = []"
    assert covered(text, resources.span) == "resources { cpu = 8, memory = 32Gi }"
    assert covered(text, resources.attributes[1].value.span) == "32Gi"
    assert covered(text, check.span).startswith("step check = data.check_schema(") and covered(
        text, check.span).endswith("retries = 1\n  }")
    assert covered(text, check.template.span) == "data.check_schema"
    assert [covered(text, a.span) for a in check.arguments] == ["data = train.model", 'schema = "s.json"']
    (require,) = release.body
    assert covered(text, require.span) == "require train.model.auc >= param.min_auc"
    assert covered(text, require.condition.span) == "train.model.auc >= param.min_auc"
    assert covered(text, require.condition.left.span) == "train.model.auc"
    assert [covered(text, p.span) for p in require.condition.left.parts] == ["train", "model", "auc"]
    assert module.span == Span("t.mlp", 1, 1, 20, 1, 0, len(text))


def _walk(node):
    if isinstance(node, (list, tuple)):
        for item in node:
            yield from _walk(item)
        return
    if not isinstance(node, ast.Node):
        return
    yield node
    for name in node.__match_args__:
        yield from _walk(getattr(node, name))


@pytest.mark.parametrize("name", ["SPAN_TEXT", "examples"])
def test_every_span_is_consistent_with_the_line_index(name: str) -> None:
    from pathlib import Path

    if name == "SPAN_TEXT":
        texts = [SPAN_TEXT]
    else:
        root = Path(__file__).resolve().parents[1]
        texts = [p.read_text(encoding="utf-8") for p in sorted((root / "examples").rglob("*.mlp"))]
        texts += [p.read_text(encoding="utf-8") for p in sorted((root / "mlplang" / "stdlib").glob("*.mlp"))]
    for text in texts:
        module = parse_ok(text)
        count = 0
        for node in _walk(module):
            span = getattr(node, "span", None)
            if isinstance(span, Span):
                assert_span_consistent(text, span)
                count += 1
        assert count > 10


def test_nested_spans_lie_inside_their_parents() -> None:
    module = parse_ok(SPAN_TEXT)
    checked = []

    def check(node, outer: Span | None) -> None:
        span = getattr(node, "span", None)
        if isinstance(span, Span) and outer is not None:
            assert outer.start <= span.start <= span.end <= outer.end, (node, outer)
            checked.append(node)
        inner = span if isinstance(span, Span) else outer
        for name in node.__match_args__:
            child = getattr(node, name)
            for item in child if isinstance(child, tuple) else (child,):
                if isinstance(item, ast.Node):
                    check(item, inner)

    check(module, None)
    assert len(checked) > 10


def test_spans_after_multibyte_characters_count_characters() -> None:
    text = 'pipeline p { description = "naïve — ünïcode €" owner = "x" }'
    (_, owner) = members(text)
    assert covered(text, owner.span) == 'owner = "x"'
    assert owner.span.column == text.index("owner") + 1


def test_spans_with_crlf_line_endings() -> None:
    text = 'pipeline p {\r\n  owner = "x"\r\n}\r\n'
    (owner,) = members(text)
    assert (owner.span.line, owner.span.column) == (2, 3)
    assert covered(text, owner.span) == 'owner = "x"'


# ---- error recovery regressions ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "first"),
    [
        ("pipeline p { x = 0abc.85 }", "0abc"),  # the number is reduced while recovery tries tokens
        ('pipeline p { x = "a\\q".b }', "\\q"),
        ('pipeline p { x = "${inp.x}" . }', "${inp.x}"),
    ],
)
def test_recovery_does_not_repeat_value_diagnostics(text: str, first: str) -> None:
    """Recovery tries candidate tokens on copies of the parser; building the
    value under the error must not report its own problem once per try."""
    _, diagnostics = parse_text(text, "t.mlp")
    assert len(diagnostics) == 2, [(d.code, d.message) for d in diagnostics]
    assert covered(text, diagnostics[0].span) == first or first in covered(text, diagnostics[0].span)
    assert diagnostics[1].code == codes.SYNTAX_ERROR.code
    for diagnostic in diagnostics:
        assert_span_consistent(text, diagnostic.span)


def test_recovery_gives_up_on_a_long_run_of_junk() -> None:
    text = "pipeline p { }\n" + "} " * 20_000
    _, diagnostics = parse_text(text, "t.mlp")
    assert [d.code for d in diagnostics] == [codes.SYNTAX_ERROR.code] * 2
    assert "rest of the file is not checked" in diagnostics[-1].message
    assert_span_consistent(text, diagnostics[-1].span)
