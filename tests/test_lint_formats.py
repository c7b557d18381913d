"""The machine-readable outputs of `mlp lint`: SARIF validates against the
official SARIF 2.1.0 schema (tests/data/, see its README), JSON against the
documented schema in docs/schemas/, and the GitHub workflow commands survive
the runner's escaping with one line per finding.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from mlplang.cli import main
from mlplang.compiler.rules import all_rules
from mlplang.diagnostics import formats
from mlplang.diagnostics.formats import escape_github_data, escape_github_property, to_github, unescape_github
from mlplang.diagnostics.model import Diagnostic, Label, Severity
from mlplang.source import SourceFile, Span

ROOT = Path(__file__).resolve().parents[1]
SARIF_SCHEMA = ROOT / "tests" / "data" / "sarif-schema-2.1.0.json"
JSON_SCHEMA = ROOT / "docs" / "schemas" / "lint-output.schema.json"
BAD_EXAMPLE = "examples/bad/unsafe_deploy.mlp"
CLEAN_EXAMPLE = "examples/fraud_detection.mlp"

# Two steps that depend on each other (a language error whose diagnostic has
# secondary labels), and a duplicate name (a label pointing at the first one).
CYCLE = """\
pipeline loop {
  owner = "ml@acme.example"
  step a {
    run = "echo a"
    after b
  }
  step b {
    run = "echo b"
    after a
  }
  step b {
    run = "echo again"
  }
}
"""
# Suppressions that suppress nothing (MLP901) or name no code (MLP902), in a
# file whose name needs percent-encoding in a URI.
SUPPRESSIONS = """\
pipeline tidy {  # mlp: ignore[MLP201, not-a-rule]
  owner = "ml@acme.example"
  step hello {
    run = "echo 100% done: a, b"  # mlp: ignore[missing-owner]
  }
}
"""


@pytest.fixture(autouse=True)
def _run_from_root(monkeypatch):
    monkeypatch.chdir(ROOT)
    all_rules()  # registers the rules' codes, as the CLI does


@pytest.fixture
def inputs(tmp_path: Path) -> dict[str, str]:
    cycle = tmp_path / "cycle.mlp"
    cycle.write_text(CYCLE, encoding="utf-8")
    odd = tmp_path / "odd name, 100%.mlp"
    odd.write_text(SUPPRESSIONS, encoding="utf-8")
    return {"bad": BAD_EXAMPLE, "cycle": str(cycle), "suppressions": str(odd), "clean": CLEAN_EXAMPLE}


def lint_output(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["lint", *args])
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, result.stdout


def sarif_validator() -> jsonschema.Draft4Validator:
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    assert schema["$schema"] == "http://json-schema.org/draft-04/schema#"
    checker = jsonschema.FormatChecker()
    # Without rfc3986-validator, `uri` and `uri-reference` would silently go unchecked.
    assert {"uri", "uri-reference"} <= set(checker.checkers), "install the test extra (rfc3986-validator)"
    return jsonschema.Draft4Validator(schema, format_checker=checker)


def json_validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(JSON_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def errors_of(validator, document) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in validator.iter_errors(document)]


def full_diagnostics() -> tuple[list[Diagnostic], dict[str, SourceFile]]:
    """Diagnostics that use every field: labels in the same and in another
    file, notes, help, every severity, an absolute path."""
    text = "pipeline p {\n  step s { run = \"x\" }\n}\n"
    main_file, other = "/abs/dir/p.mlp", "lib/shared steps.mlp"
    sources = {main_file: SourceFile.from_text(text, main_file), other: SourceFile.from_text(text, other)}

    def span(file: str, line: int, column: int, end_column: int) -> Span:
        return Span(file, line, column, line, end_column, 0, 0)

    diagnostics = [
        Diagnostic(code="MLP201", severity=Severity.ERROR, message="deploys without a gate: 100%, really",
                   span=span(main_file, 2, 8, 9), label="here", help="add a gate\nthen `after` it",
                   labels=(Label(span=span(main_file, 1, 10, 11), message="in this pipeline"),
                           Label(span=span(other, 1, 1, 9))),
                   notes=("a note", "another")),
        Diagnostic(code="MLP901", severity=Severity.WARNING, message="unused", span=span(other, 3, 1, 1)),
        Diagnostic(code="MLP211", severity=Severity.INFO, message="no owner", span=span(main_file, 1, 10, 11)),
        Diagnostic(code="MLP201", severity=Severity.ERROR, message="deploys without a gate: 100%, really",
                   span=span(main_file, 2, 8, 9)),
    ]
    return diagnostics, sources


# ---- SARIF ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["bad", "cycle", "suppressions"])
def test_sarif_of_findings_validates(inputs, name):
    exit_code, output = lint_output("--format", "sarif", inputs[name])
    document = json.loads(output)
    assert exit_code == 1
    assert not errors_of(sarif_validator(), document)
    run = document["runs"][0]
    assert len(run["results"]) >= 2
    rules = run["tool"]["driver"]["rules"]
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["locations"][0]["physicalLocation"]["region"]["startLine"] >= 1


def test_sarif_carries_labels_and_help(inputs):
    _, output = lint_output("--format", "sarif", inputs["bad"], inputs["cycle"])
    results = json.loads(output)["runs"][0]["results"]
    assert not errors_of(sarif_validator(), json.loads(output))
    assert any(r.get("relatedLocations") for r in results), "the cycle and duplicate diagnostics have labels"
    assert all("\n" in r["message"]["text"] for r in results if r["ruleId"] == "MLP201"), "help follows the message"


def test_sarif_uris_are_encoded(inputs):
    _, output = lint_output("--format", "sarif", inputs["suppressions"])
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for r in json.loads(output)["runs"][0]["results"]}
    assert len(uris) == 1
    uri = uris.pop()
    assert uri.startswith("file:///") and uri.endswith("/odd%20name%2C%20100%25.mlp")


def test_sarif_of_a_clean_run_validates(inputs):
    exit_code, output = lint_output("--format", "sarif", inputs["clean"])
    document = json.loads(output)
    assert exit_code == 0
    assert document["runs"][0]["results"] == []
    assert not errors_of(sarif_validator(), document)


def test_sarif_with_every_field_validates():
    diagnostics, sources = full_diagnostics()
    document = json.loads(formats.to_sarif(diagnostics, sources))
    assert not errors_of(sarif_validator(), document)
    results = document["runs"][0]["results"]
    assert [r["level"] for r in results] == ["error", "warning", "note", "error"]
    assert results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "file:///abs/dir/p.mlp"
    assert results[0]["relatedLocations"][1]["physicalLocation"]["artifactLocation"]["uri"] == \
        "lib/shared%20steps.mlp"
    # the same finding twice on one line: distinct fingerprints
    assert results[0]["partialFingerprints"] != results[3]["partialFingerprints"]


def test_sarif_rule_descriptions_are_prose():
    diagnostics, sources = full_diagnostics()
    rules = json.loads(formats.to_sarif(diagnostics, sources))["runs"][0]["tool"]["driver"]["rules"]
    for rule in rules:
        assert not rule["fullDescription"]["text"].startswith("#"), rule


def test_the_sarif_schema_rejects_a_broken_log():
    """The validator really checks: a result without a message is refused."""
    diagnostics, sources = full_diagnostics()
    document = json.loads(formats.to_sarif(diagnostics, sources))
    del document["runs"][0]["results"][0]["message"]
    assert errors_of(sarif_validator(), document)


# ---- JSON -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["bad", "cycle", "suppressions", "clean"])
def test_json_output_validates(inputs, name):
    _, output = lint_output("--format", "json", inputs[name])
    document = json.loads(output)
    assert not errors_of(json_validator(), document)
    assert document["summary"]["files"] == 1


def test_json_with_every_field_validates():
    diagnostics, _ = full_diagnostics()
    document = json.loads(formats.to_json(diagnostics, 2))
    assert not errors_of(json_validator(), document)
    assert document["diagnostics"][0]["labels"][1]["path"] == "lib/shared steps.mlp"
    assert document["summary"] == {"errors": 2, "warnings": 1, "files": 2}


BROKEN = {
    "no version": lambda d: d.pop("version"),
    "a future version": lambda d: d.update(version=2),
    "an unknown top-level field": lambda d: d.update(extra=True),
    "an unknown severity": lambda d: d["diagnostics"][0].update(severity="fatal"),
    "line 0": lambda d: d["diagnostics"][0].update(line=0),
    "a column as text": lambda d: d["diagnostics"][0].update(column="10"),
    "a missing message": lambda d: d["diagnostics"][0].pop("message"),
    "help as a list": lambda d: d["diagnostics"][0].update(help=["add a gate"]),
    "a code that is no code": lambda d: d["diagnostics"][0].update(code="deploy-without-gate"),
    "a label without a path": lambda d: d["diagnostics"][0]["labels"][0].pop("path"),
    "notes of numbers": lambda d: d["diagnostics"][0].update(notes=[1]),
    "a negative count": lambda d: d["summary"].update(errors=-1),
    "a summary without files": lambda d: d["summary"].pop("files"),
}


@pytest.mark.parametrize("break_it", BROKEN.values(), ids=BROKEN.keys())
def test_json_schema_rejects_a_broken_document(break_it):
    diagnostics, _ = full_diagnostics()
    document = json.loads(formats.to_json(diagnostics, 2))
    assert not errors_of(json_validator(), document)
    broken = copy.deepcopy(document)
    break_it(broken)
    assert errors_of(json_validator(), broken)


# ---- GitHub workflow commands -----------------------------------------------------------


def parse_command(line: str) -> tuple[str, dict[str, str], str]:
    """Reads a workflow command as the Actions runner does: `::name k=v,k=v::data`,
    properties split on `,` and `=`, then unescaped."""
    assert line.startswith("::"), line
    head, separator, data = line[2:].partition("::")
    assert separator, line
    command, _, properties = head.partition(" ")
    pairs = dict(item.split("=", 1) for item in properties.split(",")) if properties else {}
    return command, {k: unescape_github(v) for k, v in pairs.items()}, unescape_github(data)


@given(st.text())
def test_github_data_round_trips(text):
    escaped = escape_github_data(text)
    assert "\n" not in escaped and "\r" not in escaped
    assert unescape_github(escaped) == text


@given(st.text())
def test_github_property_round_trips(text):
    escaped = escape_github_property(text)
    assert not set(escaped) & set("\n\r:,")
    assert unescape_github(escaped) == text


# Text made of what the escaping must handle: %, :, ",", newlines, and text that looks escaped already.
_PIECES = ["a", " ", "%", ":", ",", "\n", "\r", "=", "::", "%3A", "%0A", "%25", "\u2028", "é"]
_TRICKY = st.lists(st.sampled_from(_PIECES), max_size=12).map("".join)


@given(messages=st.lists(st.tuples(_TRICKY, st.none() | _TRICKY, _TRICKY), min_size=1, max_size=4))
def test_github_output_has_one_line_per_diagnostic(messages):
    diagnostics = [
        Diagnostic(code="MLP201", severity=Severity.WARNING, message=message or "m", help=help_text,
                   span=Span(f"dir/{file or 'f'}.mlp", 3, 5, 3, 9, 0, 0))
        for message, help_text, file in messages
    ]
    output = to_github(diagnostics)
    assert output.endswith("\n")
    # The runner reads stdout line by line; only \n and \r end a line there.
    lines = output[:-1].split("\n")
    assert len(lines) == len(diagnostics) and not any("\r" in line for line in lines)
    for line, diagnostic in zip(lines, diagnostics):
        command, properties, data = parse_command(line)
        assert command == "warning"
        assert properties == {"file": diagnostic.span.file, "line": "3", "col": "5", "endLine": "3",
                              "endColumn": "9", "title": "MLP201 deploy-without-gate"}
        assert data == diagnostic.message + (f"\n{diagnostic.help}" if diagnostic.help else "")


def test_github_format_from_the_cli(inputs):
    exit_code, output = lint_output("--format", "github", inputs["bad"], inputs["suppressions"])
    _, as_json = lint_output("--format", "json", inputs["bad"], inputs["suppressions"])
    expected = json.loads(as_json)["diagnostics"]
    assert exit_code == 1
    lines = output.splitlines()
    assert len(lines) == len(expected) >= 5
    pattern = re.compile(r"^::(error|warning|notice) file=[^,:\n]+,line=\d+,col=\d+,endLine=\d+,endColumn=\d+,"
                         r"title=[A-Z]+\d+ [a-z0-9-]+::.+$")
    for line, diagnostic in zip(lines, expected):
        assert pattern.match(line), line
        command, properties, data = parse_command(line)
        assert command == {"error": "error", "warning": "warning", "info": "notice"}[diagnostic["severity"]]
        assert properties["file"] == diagnostic["path"]
        assert (int(properties["line"]), int(properties["col"])) == (diagnostic["line"], diagnostic["column"])
        assert properties["title"] == f"{diagnostic['code']} {diagnostic['name']}"
        assert data == diagnostic["message"] + (f"\n{diagnostic['help']}" if diagnostic["help"] else "")


def test_github_format_of_a_clean_run_prints_nothing(inputs):
    assert lint_output("--format", "github", inputs["clean"]) == (0, "")
