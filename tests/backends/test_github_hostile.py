"""Hostile strings reach the command unchanged (tests/programs/hostile.mlp).

The generated workflows are run the way a runner would run them on a
scheduled event, on this machine: jobs in order, each `run:` step with bash,
after evaluating the only expressions the backend writes (`${{ '${{' }}` is
`${{`, `${{ inputs.X }}` is empty on a schedule, `${{ secrets.X }}` a dummy,
step and job outputs as recorded). `uses:` steps are skipped: every job runs
in one working folder, where each artifact already lies at the path its
download would give it. The monitor's `locate` job (the GitHub API) is
skipped too.

`rm` is replaced on PATH by a trap: if any hostile `$(rm -rf /)` were ever
evaluated, the trap records it and refuses to run.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from github_support import GitHubApiStub, approval, environment, team

from mlplang.api import load_text
from mlplang.compile import compile_result
from mlplang.config import find_config

ROOT = Path(__file__).resolve().parents[2]
PROGRAM = ROOT / "tests" / "programs" / "hostile.mlp"

# The value of every hostile "..." string in the program (see its header).
HOSTILE = (
    "it's \"quoted\" \\back\\slash\\ ${{ github.sha }} ${{ secrets.GITHUB_TOKEN }} {{ jinja }} "
    "{% raw %}x{% endraw %} `uname -a` $(rm -rf /) $HOME ${HOME} $$ %s %% \t|\n"
    "line two: key: value # not a comment\n"
    "MLP_EOF\n"
    "ünïcødé ✓ 🚀 中文 — end"
)
URI = ("s3://acme-data/it's \"quoted\" \\back\\slash\\ ${{ github.sha }} {{ jinja }} {% raw %} `uname -a` "
       "$(rm -rf /) $HOME ${HOME} ünïcødé ✓ 🚀/")
REVIEWER = "it's \"quoted\" \\back\\slash\\ ${{ github.sha }} {{ jinja }} `uname -a` $(rm -rf /) $HOME\nünïcødé ✓ 🚀"
MONITOR_ENV = "${{ github.sha }} `id` $(rm -rf /) 'q' \"qq\" \\ ünïcødé"
# The body of the quoted heredoc in step `verbatim` (a raw """ string): one line
# is the backend's own heredoc delimiter, one the next candidate, one a `uses:`
# line that must not get a version comment.
VERBATIM = (
    "it's \"quoted\" \\back\\slash\\ ${{ github.sha }} ${{ secrets.GITHUB_TOKEN }} ${{ '${{' }}\n"
    "{{ jinja }} {% raw %}x{% endraw %} `uname -a` $(rm -rf /) $HOME ${HOME} $$ %s %%\n"
    "line: with a colon # and a hash\n"
    "MLP_EOF\n"
    "MLP_EOF_1\n"
    "uses: actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8\n"
    "ünïcødé ✓ 🚀 中文 — end\n"
)
SECRET = "dummy-secret-value"
EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.DOTALL)


@pytest.fixture(scope="module")
def workflows() -> dict[str, str]:
    result = load_text(PROGRAM.read_bytes(), "tests/programs/hostile.mlp", PROGRAM)
    outcome = compile_result(result, "github", find_config(PROGRAM))
    assert outcome.ok, [d.message for d in outcome.diagnostics]
    return {f.path: f.content for f in outcome.files}


def test_the_program_holds_the_hostile_strings():
    """The strings of the program are the ones this test expects (a change of
    the program or of string escapes would otherwise go unnoticed)."""
    result = load_text(PROGRAM.read_bytes(), "tests/programs/hostile.mlp", PROGRAM)
    (pipeline,) = result.pipelines
    assert pipeline.param("note").default == HOSTILE
    assert pipeline.source("raw").uri == URI
    copies = pipeline.step("copies")
    assert {v.name: getattr(v.value, "value", None) for v in copies.env}["HOSTILE_ENV"] == HOSTILE
    assert pipeline.step("from_template").parameters[0].value.value == HOSTILE
    assert VERBATIM in pipeline.step("verbatim").command.source_text
    assert pipeline.gate("release").approval.reviewers == ("acme/risk-officers", REVIEWER)


# ---- a runner, just enough for what the backend emits -------------------------------------------


def evaluate(text: str, context: dict) -> str:
    """Replace each `${{ expr }}` the way the runner would, for the expression
    forms the backend writes; any other expression fails the test."""

    def value(match: re.Match) -> str:
        expression = match.group(1).strip()
        if expression == "'${{'":
            return "${{"
        if expression.startswith("inputs."):
            return ""  # a scheduled run has no inputs
        if expression.startswith("secrets."):
            return SECRET
        if expression in ("github.token", "github.repository", "github.ref"):
            return {"github.token": SECRET, "github.repository": "acme/hostile", "github.ref": "refs/heads/main"}[
                expression]
        parts = expression.split(".")
        if len(parts) == 4 and parts[0] in ("steps", "needs") and parts[2] == "outputs":
            return context[parts[0]].get(parts[1], {}).get(parts[3], "")
        pytest.fail(f"the backend wrote an expression it should not: ${{{{{match.group(1)}}}}}")

    return EXPRESSION.sub(value, text)


def condition_holds(condition: str, context: dict) -> bool:
    match = re.fullmatch(r"needs\.([\w-]+)\.outputs\.holds == '(true|false)'", condition)
    assert match, f"unexpected if: {condition}"
    return context["needs"].get(match.group(1), {}).get("holds") == match.group(2)


@dataclass
class Runner:
    workspace: Path
    base_env: dict
    log: list[str] = field(default_factory=list)
    job_outputs: dict = field(default_factory=dict)
    results: dict = field(default_factory=dict)
    trap_log: Path | None = None

    def run_workflow(self, workflow: dict, skip: tuple[str, ...] = (), only: tuple[str, ...] | None = None) -> None:
        for job_id, job in workflow["jobs"].items():
            if job_id in skip or (only is not None and job_id not in only):
                continue
            needs = job.get("needs", [])
            if any(self.results.get(n) != "success" for n in needs):
                self.results[job_id] = "skipped"
                continue
            context = {"needs": {n: self.job_outputs.get(n, {}) for n in needs}, "steps": {}}
            if "if" in job and not condition_holds(job["if"], context):
                self.results[job_id] = "skipped"
                continue
            self.results[job_id] = self.run_job(job_id, job, context)
            self.job_outputs[job_id] = {k: evaluate(v, context) for k, v in job.get("outputs", {}).items()}

    def run_job(self, job_id: str, job: dict, context: dict) -> str:
        for index, step in enumerate(job["steps"]):
            if "run" not in step:
                assert "uses" in step
                continue
            env = dict(self.base_env)
            env.update({k: evaluate(str(v), context) for k, v in job.get("env", {}).items()})
            env.update({k: evaluate(str(v), context) for k, v in step.get("env", {}).items()})
            output = self.workspace.parent / f"output-{job_id}-{index}"
            output.write_text("")
            env["GITHUB_OUTPUT"] = str(output)
            script = self.workspace.parent / f"script-{job_id}-{index}.sh"
            script.write_text(evaluate(step["run"], context), encoding="utf-8")
            # what the runner runs for `shell: bash`, and for no shell on Linux
            shell = (["bash", "--noprofile", "--norc", "-eo", "pipefail"] if step.get("shell") == "bash"
                     else ["bash", "-e"])
            completed = subprocess.run([*shell, str(script)], cwd=self.workspace, env=env,
                                       capture_output=True, timeout=60)
            self.log.append(f"--- {job_id}/{step['name']}: exit {completed.returncode}\n"
                            f"{completed.stdout.decode(errors='replace')}{completed.stderr.decode(errors='replace')}")
            if completed.returncode != 0:
                return "failure"
            if "id" in step:
                lines = output.read_text(encoding="utf-8").splitlines()
                context["steps"][step["id"]] = dict(line.split("=", 1) for line in lines if "=" in line)
        return "success"


@pytest.fixture(scope="module")
def ran(workflows, tmp_path_factory) -> Runner:
    root = tmp_path_factory.mktemp("hostile-run")
    workspace, temp, home, trap = root / "workspace", root / "runner-temp", root / "home", root / "trap"
    for folder in (workspace, temp, home, trap):
        folder.mkdir()
    rm = trap / "rm"
    rm.write_text(f"#!/bin/sh\necho \"rm $*\" >> '{root}/rm-was-called'\nexit 1\n")
    rm.chmod(0o755)
    # The approval job asks the GitHub API: the environment requires the gate's team, which approved.
    api = GitHubApiStub({"/repos/acme/hostile/environments/release": environment("release", team("acme", "risk-officers")),
                         "/repos/acme/hostile/actions/runs/7/approvals": [approval("release", "octocat")]})
    env = {
        "PATH": f"{trap}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(home), "RUNNER_TEMP": str(temp), "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
        "GITHUB_REF_NAME": "main", "GITHUB_REPOSITORY": "acme/hostile", "CI": "true",
        "GITHUB_API_URL": api.url, "GITHUB_RUN_ID": "7",
    }
    runner = Runner(workspace=workspace, base_env=env)
    with api:
        runner.run_workflow(yaml.safe_load(workflows["hostile.yml"]))
    runner.run_workflow(yaml.safe_load(workflows["hostile-watch.yml"]), skip=("locate",))
    runner.trap_log = root / "rm-was-called"
    return runner


def test_every_job_ran_as_expected(ran):
    log = "\n".join(ran.log)
    assert ran.results == {
        "verbatim": "success", "copies": "success", "from_template": "success", "collect": "success",
        "release": "success", "release-approval": "success", "publish-when": "success", "publish": "success",
        "monitor": "success", "check": "success", "retrain": "skipped",
    }, log
    assert not ran.trap_log.exists(), f"a hostile command was evaluated: {ran.trap_log.read_text()}"


@pytest.mark.parametrize("artifact, expected", [
    ("verbatim/text", VERBATIM),               # run text (a quoted heredoc inside the command)
    ("copies/param_note", HOSTILE),            # a str param default
    ("copies/uri", URI),                       # a source uri
    ("copies/env_note", HOSTILE),              # an env literal
    ("copies/env_param", "ok"),                # an env value read from a param
    ("from_template/copy", HOSTILE),           # a template string argument
    ("publish/endpoint", HOSTILE),             # a step behind a `when` comparing with a hostile literal
])
def test_strings_reach_the_command_unchanged(ran, artifact, expected):
    path = ran.workspace / "mlp-artifacts" / artifact
    assert path.read_bytes().decode("utf-8") == expected


def test_conditions_compare_with_hostile_literals(ran):
    """The gate compared the param (through the metrics) with a hostile string
    literal, the `when` compared the param itself, the monitor its env."""
    summary = json.loads((ran.workspace / "mlp-artifacts" / "collect" / "summary").read_text(encoding="utf-8"))
    assert summary == {"note": HOSTILE, "files": 6}
    assert ran.job_outputs["publish-when"] == {"holds": "true"}
    report = json.loads((ran.workspace / "mlp-artifacts" / "watch" / "report").read_text(encoding="utf-8"))
    assert report == {"note": HOSTILE, "env": MONITOR_ENV}
    assert ran.job_outputs["check"] == {"holds": "true"}


def test_reviewers_reach_the_approval_job_unchanged(ran):
    entry = next(e for e in ran.log if e.startswith("--- release-approval/"))
    assert entry.split("\n", 1)[1] == ("gate release approved by: octocat\n"
                                       f"the gate's reviewers: acme/risk-officers, {REVIEWER}\n")


def test_the_simulated_runner_notices_a_pasted_value(workflows, tmp_path):
    """The check can fail: pasting the param into the command (what the backend
    must never do) changes the output."""
    workflow = yaml.safe_load(workflows["hostile.yml"])
    run = next(s for s in workflow["jobs"]["copies"]["steps"] if s["name"] == "Run copies")
    pasted = run["run"].replace('printf \'%s\' "${MLP_PARAM_note}"', "printf '%s' ${MLP_PARAM_note}")
    assert pasted != run["run"]
    run["run"] = pasted
    workspace = tmp_path / "workspace"
    (tmp_path / "temp").mkdir()
    workspace.mkdir()
    runner = Runner(workspace=workspace, base_env={"PATH": os.environ["PATH"], "RUNNER_TEMP": str(tmp_path / "temp"),
                                                    "HOME": str(tmp_path), "LC_ALL": "C.UTF-8"})
    runner.run_workflow(workflow, only=("copies",))
    assert runner.results == {"copies": "success"}, runner.log
    produced = (workspace / "mlp-artifacts" / "copies" / "param_note").read_bytes().decode("utf-8")
    assert produced != HOSTILE
