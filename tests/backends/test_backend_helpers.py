"""Unit tests of the helpers every backend relies on for safe output:
`${{` escaping, shell quoting, heredoc delimiters, command text, YAML dumping,
the run-time condition checker and all-or-nothing file writing."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from mlplang.api import load_text
from mlplang.backends import writer
from mlplang.backends.base import EmittedFile
from mlplang.backends.conditions import check_spec, condition_text
from mlplang.backends.github import GitHubBackend, GitHubOptions, literal
from mlplang.backends.runtime import check_conditions, program_source
from mlplang.backends.shell import command_text, heredoc_delimiter, quote
from mlplang.backends.writer import WriteError, write_files
from mlplang.backends.yaml_writer import dump
from mlplang.compile import compile_result
from mlplang.config import LintConfig

# Text that is special somewhere: shell, YAML, GitHub expressions, Jinja, heredocs.
NASTY = st.lists(st.sampled_from([*"${}'\"\\`()| :#-\n\tab%!*?~&;<>[]", "${{", "}}", "MLP_EOF", "é", "🚀"]),
                 max_size=30).map("".join)


def runner_evaluate(text: str) -> str:
    """How the runner reads a string that holds expressions, for the one
    expression `literal` writes: left to right, each `${{` up to the next `}}`."""
    out, position = [], 0
    while (start := text.find("${{", position)) != -1:
        end = text.find("}}", start + 3)
        assert end != -1, f"unterminated expression in {text!r}"
        assert text[start + 3:end].strip() == "'${{'", f"unexpected expression in {text!r}"
        out += [text[position:start], "${{"]
        position = end + 2
    return "".join(out) + text[position:]


# ---- github.literal -----------------------------------------------------------------------------


def test_literal_leaves_ordinary_text_alone():
    assert literal("echo $HOME ${HOME} {{ jinja }} $(date) ${ {") == "echo $HOME ${HOME} {{ jinja }} $(date) ${ {"


def test_literal_escapes_expressions():
    assert literal("${{ secrets.TOKEN }}") == "${{ '${{' }} secrets.TOKEN }}"
    assert literal("a ${{ x }} b ${{y}}") == "a ${{ '${{' }} x }} b ${{ '${{' }}y}}"
    assert literal("${{ '${{' }}") == "${{ '${{' }} '${{ '${{' }}' }}"


@given(NASTY)
def test_the_runner_reads_back_the_original_text(text):
    assert runner_evaluate(literal(text)) == text


# ---- shell.quote and heredoc_delimiter (checked by a real bash) ---------------------------------------


def bash(script: str, **env: str) -> str:
    completed = subprocess.run(["bash", "-c", script], capture_output=True, timeout=30,
                               env={"PATH": os.environ["PATH"], "LC_ALL": "C.UTF-8", **env})
    assert completed.returncode == 0, completed.stderr
    return completed.stdout.decode("utf-8")


def test_quote_is_one_word_standing_for_the_text():
    samples = ["", "plain", "it's", "a b", "$(rm -rf /)", "`id`", "$HOME", "${HOME}", "\\", "'\"'\"'",
               "line\nbreak", "tab\there", "ünï 🚀", "-n", "*", "~", "!event", "${{ github.sha }}"]
    script = "".join(f"printf '%s\\0' {quote(s)}\n" for s in samples)
    assert bash(script).split("\0")[:-1] == samples


@settings(max_examples=40, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_characters="\0", blacklist_categories=("Cs",)), max_size=30))
def test_quote_round_trips_through_bash(text):
    assert bash(f"printf '%s' {quote(text)}") == text


def test_heredoc_delimiter_avoids_every_line_of_the_text():
    assert heredoc_delimiter("echo hi\n") == "MLP_EOF"
    assert heredoc_delimiter("cat <<'X'\nMLP_EOF\nX\n") == "MLP_EOF_1"
    assert heredoc_delimiter("MLP_EOF\nMLP_EOF_1\n") == "MLP_EOF_2"
    assert heredoc_delimiter("  MLP_EOF\nMLP_EOF  \n") == "MLP_EOF"  # bash needs the whole line
    assert heredoc_delimiter("PY\n", "PY") == "PY_1"


def test_a_command_holding_the_delimiter_survives_the_heredoc():
    command = "echo before\nMLP_EOF\necho after $HOME `id`\n"
    delimiter = heredoc_delimiter(command)
    assert delimiter != "MLP_EOF"
    assert bash(f"cat <<'{delimiter}'\n{command}{delimiter}\n") == command


@settings(max_examples=30, deadline=None)
@given(st.lists(st.sampled_from(["MLP_EOF", "MLP_EOF_1", "x", "$HOME", "'q'", "MLP_EOF_2", ""]), max_size=6))
def test_heredoc_round_trip(lines):
    text = "".join(f"{line}\n" for line in lines)
    delimiter = heredoc_delimiter(text)
    assert bash(f"cat <<'{delimiter}'\n{text}{delimiter}\n") == text


# ---- shell.command_text ----------------------------------------------------------------------------------


COMMAND_PROGRAM = '''
pipeline commands {
  owner = "ml@acme.example"
  param note: str = "x"
  source raw: Dataset { uri = "s3://acme/raw/" }
  step s {
    run = """
      printf '%s' "${param.note}" > "${out.copy}"
      wc -c "${in.data}" $HOME ${HOME} ${{ github.sha }} {{ jinja }} $(date) $${in.data} ${ in.x }
    """
    in  data: Dataset = raw
    out copy: Dataset
  }
}
'''


def test_command_text_turns_interpolations_into_variables():
    (pipeline,) = load_text(COMMAND_PROGRAM).pipelines
    assert command_text(pipeline.step("s").command) == (
        "printf '%s' \"${MLP_PARAM_note}\" > \"${MLP_OUT_copy}\"\n"
        "wc -c \"${MLP_IN_data}\" $HOME ${HOME} ${{ github.sha }} {{ jinja }} $(date) ${in.data} ${ in.x }\n"
    )


def test_command_text_prints_a_param_verbatim():
    (pipeline,) = load_text(COMMAND_PROGRAM).pipelines
    first_line = command_text(pipeline.step("s").command).splitlines()[0].replace('> "${MLP_OUT_copy}"', "")
    value = "it's \"q\" $(rm -rf /) `id` $HOME \\ \n ünï"
    assert bash(first_line, MLP_PARAM_note=value) == value


# ---- yaml_writer.dump ------------------------------------------------------------------------------------


def test_dump_uses_block_scalars_for_multi_line_text():
    text = dump({"run": "set -e\necho 'a: b'\n"})
    assert text == "run: |\n  set -e\n  echo 'a: b'\n"


def test_dump_quotes_what_yaml_would_misread():
    document = {"on": {"push": None}, "a": "key: value", "b": "yes", "c": "1.0", "d": "null", "e": "# no comment",
                "f": "- item", "g": "@x", "h": "", "i": "${{ x }}", "j": "off", "k": "~"}
    text = dump(document)
    assert text.startswith("'on':\n")
    assert yaml.safe_load(text) == document
    for key in "abcdefghjk":
        line = next(row for row in text.splitlines() if row.startswith(f"{key}:"))
        assert line[3] in "'\"", f"{line!r} should be quoted"


def test_dump_keeps_insertion_order_and_adds_the_header():
    text = dump({"z": 1, "a": {"y": 2, "b": 3}}, ["generated by mlp from x.mlp — do not edit"])
    assert text == "# generated by mlp from x.mlp — do not edit\nz: 1\na:\n  y: 2\n  b: 3\n"


@settings(max_examples=60, deadline=None)
@given(st.recursive(
    NASTY | st.integers() | st.booleans() | st.none(),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(NASTY, children, max_size=3),
    max_leaves=10,
))
def test_dump_round_trips_and_is_deterministic(node):
    document = {"root": node}
    text = dump(document)
    assert yaml.safe_load(text) == document
    assert dump(document) == text


# ---- the pin comments never touch user text -------------------------------------------------------


def test_pin_comments_only_on_uses_keys():
    checkout = "actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8"
    program = f'''
pipeline pins {{
  owner = "ml@acme.example"
  step s {{
    run = """
      echo one
      uses: {checkout}
      echo two
    """
    env = {{ NOTE = "x\\nuses: {checkout}\\n" }}
  }}
}}
'''
    result = load_text(program)
    outcome = compile_result(result, "github", LintConfig())
    (workflow,) = outcome.files
    job = yaml.safe_load(workflow.content)["jobs"]["s"]
    assert job["env"]["NOTE"] == f"x\nuses: {checkout}\n"
    run = next(s["run"] for s in job["steps"] if s["name"] == "Run s")
    assert f"uses: {checkout}\necho two" in run
    assert f"      uses: {checkout} # v5.0.0\n" in workflow.content  # the real `uses:` is annotated


# ---- runner labels ----------------------------------------------------------------------------------------


def _runs_on(options: dict) -> dict:
    program = '''
pipeline labels {
  owner = "ml@acme.example"
  step cpu { run = "echo cpu" }
  step gpu { run = "echo gpu"  resources { gpu = 1 } }
}
'''
    outcome = compile_result(load_text(program), "github", LintConfig(targets={"github": options}))
    assert outcome.ok, [d.message for d in outcome.diagnostics]
    jobs = yaml.safe_load(outcome.files[0].content)["jobs"]
    return {name: job["runs-on"] for name, job in jobs.items()}


def test_runner_labels_default_to_hosted_runners_and_a_gpu_group():
    assert _runs_on({}) == {"cpu": "ubuntu-latest", "gpu": {"group": "gpu"}}


def test_runner_labels_are_configurable():
    assert _runs_on({"runs-on": ["self-hosted", "linux"], "gpu-runner-group": "a100"}) == {
        "cpu": ["self-hosted", "linux"], "gpu": {"group": "a100"}}
    assert _runs_on({"gpu-runs-on": ["self-hosted", "gpu"]}) == {"cpu": "ubuntu-latest", "gpu": ["self-hosted", "gpu"]}


def test_unknown_options_are_refused():
    with pytest.raises(Exception, match="invalid options for target github"):
        compile_result(load_text('pipeline p { owner = "a@b.c"\n step s { run = "x" } }'), "github",
                       LintConfig(targets={"github": {"runs_on_typo": "x"}}))
    assert GitHubOptions.model_validate({"runs-on": ["a"]}).runs_on == ("a",)
    assert GitHubBackend().options.gpu_runner_group == "gpu"


# ---- runtime/check_conditions.py ----------------------------------------------------------------------------


@pytest.fixture
def checker(tmp_path, monkeypatch):
    """Runs check_conditions.main() with a spec, metrics files and params."""
    for name in list(os.environ):
        if name.startswith("MLP_PARAM_") or name == "GITHUB_OUTPUT":
            monkeypatch.delenv(name)

    def run(conditions, metrics=None, params=None, types=None, mode="require", github_output=True):
        paths = {}
        for artifact, content in (metrics or {}).items():
            path = tmp_path / artifact
            if content is not None:
                path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
            paths[artifact] = str(path)
        spec = {"mode": mode, "conditions": [{"text": f"condition {i}", "expr": c} for i, c in enumerate(conditions)],
                "metrics": paths, "params": types or {}}
        monkeypatch.setenv("MLP_CHECK", json.dumps(spec))
        for name, value in (params or {}).items():
            monkeypatch.setenv(f"MLP_PARAM_{name}", value)
        output = tmp_path / "github_output"
        output.write_text("")
        if github_output:
            monkeypatch.setenv("GITHUB_OUTPUT", str(output))
        return check_conditions.main(), output.read_text()

    return run


def metric(artifact, key):
    return {"metric": artifact, "key": key}


def compare(left, op, right):
    return {"op": op, "left": left, "right": right}


def test_check_passes_when_every_condition_holds(checker, capsys):
    code, _ = checker(
        [compare(metric("eval.report", "auc"), ">=", {"param": "min_auc"}),
         {"op": "and", "args": [compare(metric("eval.report", "gap"), "<", {"literal": 0.05}),
                                {"op": "not", "arg": {"op": "truth", "arg": metric("eval.report", "leak")}}]},
         {"op": "or", "args": [compare({"literal": "a"}, "==", {"param": "name"}),
                               {"op": "truth", "arg": {"param": "on"}}]}],
        metrics={"eval.report": {"auc": 0.91, "gap": 0.01, "leak": False}},
        params={"min_auc": "0.9", "name": "b", "on": "true"}, types={"min_auc": "float", "name": "str", "on": "bool"},
    )
    assert code == 0
    assert capsys.readouterr().out == "holds: condition 0\nholds: condition 1\nholds: condition 2\n"


def test_check_fails_when_a_condition_fails(checker, capsys):
    code, _ = checker([compare(metric("eval.report", "auc"), ">=", {"literal": 0.95})],
                      metrics={"eval.report": {"auc": 0.91}})
    assert code == 1
    assert capsys.readouterr().out == "FAILS: condition 0\n"


@pytest.mark.parametrize("metrics, params, types, message", [
    ({"eval.report": None}, {}, {}, "cannot read metrics eval.report"),
    ({"eval.report": "not json"}, {}, {}, "cannot read metrics eval.report"),
    ({"eval.report": {"other": 1}}, {}, {}, "have no key 'auc' (keys: other)"),
    ({"eval.report": [1, 2]}, {}, {}, "not an object"),
])
def test_check_reports_a_missing_metric(checker, capsys, metrics, params, types, message):
    code, _ = checker([compare(metric("eval.report", "auc"), ">=", {"literal": 0.5})], metrics=metrics)
    assert code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("params, message", [
    ({}, "param 'min_auc' has no value"),
    ({"min_auc": ""}, "param 'min_auc' has no value"),
    ({"min_auc": "high"}, "param 'min_auc' is declared float but its value is 'high'"),
])
def test_check_reports_a_missing_or_bad_param(checker, capsys, params, message):
    code, _ = checker([compare({"literal": 0.9}, ">=", {"param": "min_auc"})], params=params,
                      types={"min_auc": "float"})
    assert code == 2
    assert message in capsys.readouterr().err


def test_check_reports_an_impossible_comparison(checker, capsys):
    code, _ = checker([compare(metric("m.r", "name"), "<", {"literal": 1})], metrics={"m.r": {"name": "x"}})
    assert code == 2
    assert "cannot compare 'x' < 1" in capsys.readouterr().err


@pytest.mark.parametrize("value, holds", [(0.1, "true"), (0.3, "false")])
def test_decide_mode_writes_github_output(checker, capsys, value, holds):
    code, output = checker([compare(metric("drift.report", "psi"), "<", {"literal": 0.2})],
                           metrics={"drift.report": {"psi": value}}, mode="decide")
    assert code == 0
    assert output == f"holds={holds}\n"
    assert capsys.readouterr().out.endswith(f"holds={holds}\n")


def test_decide_mode_without_github_output_prints_only(checker, capsys):
    code, output = checker([{"op": "truth", "arg": {"param": "go"}}], params={"go": "false"},
                           types={"go": "bool"}, mode="decide", github_output=False)
    assert (code, output) == (0, "")
    assert capsys.readouterr().out == "FAILS: condition 0\nholds=false\n"


def test_the_spec_the_backend_builds_is_what_the_checker_reads(checker, capsys, tmp_path):
    (pipeline,) = load_text('''
pipeline specs {
  owner = "ml@acme.example"
  param min_auc: float = 0.8
  step evaluate { run = "x > ${out.report}"  out report: Metrics }
  gate g { require evaluate.report.auc >= param.min_auc and not (evaluate.report.name == "it's \\"q\\"") }
}
''').pipelines
    conditions = [r.condition for r in pipeline.gate("g").requires]
    report = tmp_path / "report.json"
    report.write_text(json.dumps({"auc": 0.85, "name": "other"}))
    spec = json.loads(check_spec("require", conditions, [condition_text(c) for c in conditions],
                                 {"evaluate.report": str(report)}, pipeline))
    assert spec["params"] == {"min_auc": "float"}
    code, _ = checker([c["expr"] for c in spec["conditions"]], metrics={"evaluate.report": {"auc": 0.85, "name": "o"}},
                      params={"min_auc": "0.8"}, types=spec["params"])
    assert code == 0
    assert condition_text(conditions[0]) == (
        'evaluate.report.auc >= param.min_auc and not (evaluate.report.name == "it\'s \\"q\\"")')


def test_the_embedded_program_is_the_module():
    assert program_source("check_conditions") == Path(check_conditions.__file__).read_text(encoding="utf-8")


# ---- writer.write_files ------------------------------------------------------------------------------------


FILES = [EmittedFile("a.yml", "new a\n"), EmittedFile("b.yml", "new b\n"), EmittedFile("sub/c.yml", "new c\n")]


def listing(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): p.read_text() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_write_files_writes_everything_readable(tmp_path):
    written = write_files(tmp_path, FILES)
    assert [p.relative_to(tmp_path).as_posix() for p in written] == ["a.yml", "b.yml", "sub/c.yml"]
    assert listing(tmp_path) == {"a.yml": "new a\n", "b.yml": "new b\n", "sub/c.yml": "new c\n"}
    mask = os.umask(0)
    os.umask(mask)
    for path in written:
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask  # not mkstemp's 0600


def test_a_failed_rename_restores_the_folder(tmp_path, monkeypatch):
    (tmp_path / "a.yml").write_text("old a\n")
    (tmp_path / "b.yml").write_text("old b\n")
    real_replace, calls = os.replace, []

    def failing_replace(source, target):
        calls.append(target)
        if len(calls) == 2:
            raise PermissionError(13, "Permission denied")
        return real_replace(source, target)

    monkeypatch.setattr(writer.os, "replace", failing_replace)
    with pytest.raises(WriteError, match="Permission denied"):
        write_files(tmp_path, FILES)
    assert len(calls) >= 2
    # the first file was replaced, then put back; nothing new, no temporary or backup file
    assert listing(tmp_path) == {"a.yml": "old a\n", "b.yml": "old b\n"}


def test_a_failed_rename_removes_new_files(tmp_path, monkeypatch):
    real_replace, calls = os.replace, []

    def failing_replace(source, target):
        calls.append(target)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        return real_replace(source, target)

    monkeypatch.setattr(writer.os, "replace", failing_replace)
    with pytest.raises(WriteError, match="No space left on device"):
        write_files(tmp_path, FILES)
    assert listing(tmp_path) == {}


def test_a_failed_write_leaves_no_temporary_files(tmp_path, monkeypatch):
    (tmp_path / "a.yml").write_text("old a\n")
    real_mkstemp, calls = writer.tempfile.mkstemp, []

    def failing_mkstemp(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise PermissionError(13, "Permission denied")
        return real_mkstemp(*args, **kwargs)

    monkeypatch.setattr(writer.tempfile, "mkstemp", failing_mkstemp)
    with pytest.raises(WriteError, match=f"cannot write to {tmp_path}: Permission denied"):
        write_files(tmp_path, FILES)
    assert listing(tmp_path) == {"a.yml": "old a\n"}


def test_a_read_only_folder_is_left_alone(tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "a.yml").write_text("old a\n")
    folder.chmod(0o555)
    try:
        if os.access(folder, os.W_OK):
            pytest.skip("permissions are not enforced for this user (root)")
        with pytest.raises(WriteError, match="Permission denied"):
            write_files(folder, FILES)
        assert listing(folder) == {"a.yml": "old a\n"}
    finally:
        folder.chmod(0o755)
