"""The GitHub Actions backend against the real validators, golden files, the
pipeline graph and itself (determinism).

Every example (examples/*.mlp, not examples/bad) and every backend test program
(tests/programs/*.mlp) is compiled once per session; each validator then runs
once over all the files (actionlint costs ~1.3 s per process) and the findings
are reported per program.

Golden files: tests/golden/github/<example>/<file>.yml, compared byte for byte.
After a deliberate change, regenerate them with

    MLP_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/backends/test_github.py

and review the diff: a golden file is a spec, not a snapshot to accept blindly.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pytest
import yaml

from mlplang.api import load_text
from mlplang.backends.base import EmittedFile
from mlplang.backends.writer import write_files
from mlplang.compile import compile_result
from mlplang.compiler.graph import NodeKind
from mlplang.config import LintConfig, find_config
from mlplang.diagnostics.render import render

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.mlp"))
PROGRAMS = sorted((ROOT / "tests" / "programs").glob("*.mlp"))
GOLDEN = ROOT / "tests" / "golden" / "github"
UPDATE_GOLDEN = os.environ.get("MLP_UPDATE_GOLDEN") == "1"


def display(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


NAMES = [display(p) for p in (*EXAMPLES, *PROGRAMS)]

# The only `${{ ... }}` the backend may write: contexts it names itself, and the
# expression `${{ '${{' }}` that stands for user text `${{` (in the file's text
# a single-quoted YAML scalar doubles its quotes: `${{ ''${{'' }}`).
OUR_EXPRESSION = re.compile(
    r"\$\{\{ (?:'\$\{\{'|''\$\{\{''"
    r"|inputs\.[A-Za-z_][A-Za-z0-9_]*"
    r"|secrets\.[A-Za-z_][A-Za-z0-9_]*"
    r"|github\.(?:token|repository|ref)"
    r"|steps\.[A-Za-z0-9_-]+\.outputs\.[A-Za-z0-9_-]+"
    r"|needs\.[A-Za-z0-9_-]+\.outputs\.[A-Za-z0-9_-]+) \}\}"
)


def compile_github(path: Path) -> list[EmittedFile]:
    """Compile one file as `mlp compile` does, shown with its repository-relative path."""
    result = load_text(path.read_bytes(), display(path), path)
    outcome = compile_result(result, "github", find_config(path))
    shown = "\n".join(render(d, result.sources.get(d.span.file)) for d in outcome.diagnostics)
    assert outcome.ok, f"{display(path)} does not compile:\n{shown}"
    assert outcome.files, f"{display(path)}: nothing emitted"
    return outcome.files


@pytest.fixture(scope="session")
def emitted() -> dict[str, list[EmittedFile]]:
    return {display(p): compile_github(p) for p in (*EXAMPLES, *PROGRAMS)}


@pytest.fixture(scope="session")
def written(emitted, tmp_path_factory) -> dict[str, list[Path]]:
    root = tmp_path_factory.mktemp("github")
    return {name: [p.resolve() for p in write_files(root / name.replace("/", "__"), files)]
            for name, files in emitted.items()}


def _all_files(written: dict[str, list[Path]]) -> list[Path]:
    return [path for paths in written.values() for path in paths]


def test_the_corpus_is_there():
    assert len(EXAMPLES) >= 4 and len(PROGRAMS) >= 3
    assert (ROOT / "tests" / "programs" / "hostile.mlp") in PROGRAMS


# ---- the validators (one call each over every file) ------------------------------------------


@pytest.fixture(scope="session")
def actionlint_findings(written, actionlint) -> list[dict]:
    return actionlint(_all_files(written))


@pytest.fixture(scope="session")
def schema_errors(written, schema_check) -> list[dict]:
    return schema_check(_all_files(written))


@pytest.fixture(scope="session")
def zizmor_report(written, zizmor):
    return zizmor(_all_files(written))


@pytest.mark.parametrize("program", NAMES)
def test_actionlint_reports_nothing(program, written, actionlint_findings):
    mine = {str(p) for p in written[program]}
    findings = [f for f in actionlint_findings if str(Path(f["file"]).resolve()) in mine]
    assert findings == [], "\n".join(f"{f['file']}:{f['line']}:{f['column']}: [{f['kind']}] {f['message']}"
                                     for f in findings)


@pytest.mark.parametrize("program", NAMES)
def test_github_workflow_schema_accepts(program, written, schema_errors):
    mine = {str(p) for p in written[program]}
    errors = [e for e in schema_errors if str(Path(e.get("filename", "")).resolve()) in mine]
    assert errors == [], "\n".join(f"{e.get('filename')}: {e.get('path')}: {e.get('message', '')[:300]}"
                                   for e in errors)


@pytest.mark.parametrize("program", NAMES)
def test_zizmor_reports_nothing_medium_or_higher(program, written, zizmor_report):
    mine = {str(p) for p in written[program]}

    def path(finding: dict) -> str:
        return str(Path(finding["locations"][0]["symbolic"]["key"]["Local"]["verbatim_path"]).resolve())

    blocking = [f for f in zizmor_report.blocking if path(f) in mine]
    assert blocking == [], "\n".join(zizmor_report.describe(f) for f in blocking)


def test_validators_see_mistakes(tmp_path, actionlint, schema_check, zizmor):
    """The helpers really report: a workflow with a broken expression, an
    unknown key and a template injection fails all three."""
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: push\n"
        "jobs:\n"
        "  a:\n"
        "    runs-on: ubuntu-latest\n"
        "    unknown-key: 1\n"
        "    steps:\n"
        "    - uses: actions/checkout@v4\n"
        "    - run: echo ${{ github.event.issue.title }} ${{ nosuch.context }}\n",
        encoding="utf-8",
    )
    assert actionlint([bad])
    assert schema_check([bad])
    assert zizmor([bad]).blocking


# ---- what the YAML says ---------------------------------------------------------------------------


@pytest.mark.parametrize("program", NAMES)
def test_no_user_text_inside_expressions(program, emitted):
    """Every `${{` in a generated file opens one of the backend's own expressions."""
    for file in emitted[program]:
        _only_our_expressions(file.content, file.path)
        for value in _strings(yaml.safe_load(file.content)):
            _only_our_expressions(value, file.path, parsed=True)


def _only_our_expressions(text: str, where: str, parsed: bool = False) -> None:
    position = 0
    while (start := text.find("${{", position)) != -1:
        match = OUR_EXPRESSION.match(text, start)
        assert match and not (parsed and "''" in match.group()), (
            f"{where}: unexpected expression at {text[start:start + 80]!r}")
        position = match.end()


def _strings(node):
    """Every string (keys and values) of a parsed YAML document."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(key)
            yield from _strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)


@pytest.mark.parametrize("program", NAMES)
def test_files_start_with_the_generated_header(program, emitted):
    for file in emitted[program]:
        assert file.content.startswith(f"# generated by mlp from {program} — do not edit\n"), file.path
        assert yaml.safe_load(file.content)["jobs"]


@pytest.mark.parametrize("program", [display(p) for p in PROGRAMS])
def test_programs_lint_clean(program):
    """The backend test programs are good practice: no lint warning either
    (MLP502, a setting GitHub does not use such as `cpu`, is about the target)."""
    path = ROOT / program
    result = load_text(path.read_bytes(), program, path)
    outcome = compile_result(result, "github", find_config(path))
    assert [f"{d.code} {d.message}" for d in outcome.diagnostics if d.code != "MLP502"] == []


# ---- golden files ------------------------------------------------------------------------------------


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_golden_files(example, emitted):
    files = emitted[display(example)]
    folder = GOLDEN / example.stem
    if UPDATE_GOLDEN:
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.yml"):
            stale.unlink()
        for file in files:
            (folder / file.path).write_bytes(file.content.encode("utf-8"))
    expected = sorted(p.name for p in folder.glob("*.yml"))
    assert sorted(f.path for f in files) == expected, (
        f"emitted files differ from {folder.relative_to(ROOT)} (MLP_UPDATE_GOLDEN=1 regenerates; review the diff)")
    for file in files:
        golden = (folder / file.path).read_bytes()
        assert file.content.encode("utf-8") == golden, (
            f"{file.path} differs from its golden file (MLP_UPDATE_GOLDEN=1 regenerates; review the diff)")


# ---- the job graph is the pipeline graph --------------------------------------------------------------


def _load(program: str):
    path = ROOT / program
    return load_text(path.read_bytes(), program, path)


@pytest.mark.parametrize("program", NAMES)
def test_job_graph_has_the_reachability_of_the_pipeline_graph(program, emitted):
    """For steps and gates A, B: A reaches B in the IR task graph iff A's last
    job (a gate's approval job, if any) reaches B's own job through `needs`; and
    no job of A (a `when` job, a gate's check) reaches B unless A reaches B."""
    result = _load(program)
    for pipeline in result.pipelines:
        graph = result.graph(pipeline)
        nodes = [*graph.nodes(NodeKind.STEP), *graph.nodes(NodeKind.GATE)]
        ir_graph = nx.DiGraph()
        ir_graph.add_nodes_from(nodes)
        ir_graph.add_edges_from((a, b) for a, b, _ in graph.edges() if a in ir_graph and b in ir_graph)

        workflow = yaml.safe_load(next(f.content for f in emitted[program] if f.path == f"{pipeline.name}.yml"))
        jobs = workflow["jobs"]
        job_graph = nx.DiGraph()
        for job, body in jobs.items():
            job_graph.add_node(job)
            needs = body.get("needs", [])
            for need in [needs] if isinstance(needs, str) else needs:
                assert need in jobs, f"{job} needs unknown job {need}"
                job_graph.add_edge(need, job)
        assert nx.is_directed_acyclic_graph(job_graph)

        owner: dict[str, str] = {}
        for job in jobs:
            base = re.sub(r"-(when|approval)$", "", job)
            assert base in nodes, f"job {job} stands for no step or gate"
            owner[job] = base
        assert {*owner.values()} == {*nodes}, "every step and gate has a job"
        last = {n: f"{n}-approval" if f"{n}-approval" in jobs else n for n in nodes}

        for a in nodes:
            ir_reach = nx.descendants(ir_graph, a)
            job_reach = nx.descendants(job_graph, last[a])
            for b in nodes:
                if b == a:
                    continue
                assert (b in ir_reach) == (b in job_reach), (
                    f"{pipeline.name}: {a} {'reaches' if b in ir_reach else 'does not reach'} {b} in the pipeline, "
                    f"but job {last[a]} {'reaches' if b in job_reach else 'does not reach'} job {b}")
            for job in (j for j, o in owner.items() if o == a):
                reached = {owner[j] for j in nx.descendants(job_graph, job)} - {a}
                assert reached <= ir_reach, f"{pipeline.name}: job {job} reaches {sorted(reached - ir_reach)}"
        for job, body in jobs.items():
            if job.endswith("-when"):
                step = owner[job]
                assert job in body_needs(jobs[step]) and jobs[step]["if"] == f"needs.{job}.outputs.holds == 'true'"
            if job.endswith("-approval"):
                assert body["environment"] == owner[job] and body_needs(body) == [owner[job]]


def body_needs(body: dict) -> list[str]:
    needs = body.get("needs", [])
    return [needs] if isinstance(needs, str) else list(needs)


# ---- determinism -------------------------------------------------------------------------------------


def test_output_does_not_depend_on_hash_seed(tmp_path):
    """Two processes with different PYTHONHASHSEED emit byte-identical files."""
    sources = [display(p) for p in (*EXAMPLES, *PROGRAMS)]
    outputs = []
    for seed in ("0", "4242"):
        out = tmp_path / f"seed-{seed}"
        completed = subprocess.run(
            [sys.executable, "-m", "mlplang", "compile", *sources, "--target", "github", "-o", str(out)],
            cwd=ROOT, env={**os.environ, "PYTHONHASHSEED": seed}, capture_output=True, text=True, timeout=120,
        )
        assert completed.returncode == 0, completed.stderr
        outputs.append({p.name: p.read_bytes() for p in sorted(out.iterdir())})
    assert outputs[0].keys() == outputs[1].keys() and len(outputs[0]) >= len(sources)
    for name in outputs[0]:
        assert outputs[0][name] == outputs[1][name], f"{name} differs between hash seeds"


# ---- the documentation --------------------------------------------------------------------------------


def test_every_option_is_documented():
    from mlplang.backends.github import GitHubOptions

    page = (ROOT / "docs" / "backends" / "github.md").read_text(encoding="utf-8")
    assert "[tool.mlp.github]" in page
    for name, option in GitHubOptions.model_fields.items():
        assert f"{option.alias or name} = " in page, f"[tool.mlp.github] `{option.alias or name}` is not documented"


# ---- what GitHub Actions cannot express --------------------------------------------------------

_LIMITS_PROGRAM = """
pipeline limits {{
  owner = "ml@acme.example"
  {schedule}
  param region: str
  source raw: Dataset {{ uri = "s3://acme/raw/", version = "1" }}
  step train {{
    image = "ghcr.io/acme/t:1@sha256:{digest}"
    run   = "python train.py --in ${{in.data}} --region ${{param.region}} --out ${{out.model}}"
    in  data: Dataset = raw
    out model: Model
    resources {{ cpu = 8, memory = 32Gi }}
    timeout = 8h
  }}
}}
"""


def _limits(schedule: str) -> list:
    text = _LIMITS_PROGRAM.format(schedule=schedule, digest="a" * 64)
    result = load_text(text, "limits.mlp")
    return compile_result(result, "github", LintConfig()).diagnostics


def test_unenforced_resources_and_the_hosted_time_limit_are_warnings():
    found = [d for d in _limits("") if d.code.startswith("MLP50")]
    assert [(d.code, d.severity.value) for d in found] == [("MLP502", "warning"), ("MLP502", "warning")]
    assert "`cpu`, `memory` of `train` are not enforced" in found[0].message
    assert "6 hours" in found[1].message


def test_a_scheduled_pipeline_needs_defaults_for_the_params_it_reads():
    found = [d for d in _limits('schedule = cron("0 2 * * *")') if d.code == "MLP501"]
    assert len(found) == 1 and "param `region`" in found[0].message and found[0].span.line == 5
