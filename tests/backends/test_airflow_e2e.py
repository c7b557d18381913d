"""End to end on a real Airflow 3: compiled Dags run with `dag.test()`.

One Airflow process (airflow_harness.py, in .venv-airflow, under a hard
timeout) runs, in order:
- tests/programs/airflow_e2e.mlp, four times: a release that passes its gate
  and is approved; one whose gate threshold fails; one whose approval is
  rejected; then its drift monitor, which breaches and triggers a retraining
  run, and once more without a breach;
- the hostile-strings programs (tests/programs/hostile.mlp, shared by every
  backend, and airflow_hostile.mlp), whose steps copy each user string into
  a file: the files must hold the strings unchanged.
Every step runs as bash on this machine; artifacts are files under a temporary
artifact root, so the tests read what each step wrote.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from airflow_support import ROOT, compile_into, heredoc_and_printf_expectations, run_harness

from mlplang.compiler import ir

E2E = ROOT / "tests" / "programs" / "airflow_e2e.mlp"
HOSTILE = [p for p in (ROOT / "tests" / "programs" / "hostile.mlp", ROOT / "tests" / "programs" / "airflow_hostile.mlp")
           if p.exists()]
TOKEN = "e2e-deploy-token"
TIMEOUT = 420


@pytest.fixture(scope="module")
def airflow_runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("airflow-e2e")
    dags, artifacts = root / "dags", root / "artifacts"
    loaded = compile_into([E2E, *HOSTILE], dags, **{"artifact-root": str(artifacts)})
    runs = [
        {"name": "release", "dag_id": "airflow_e2e", "answers": {"release-approval": "Approve"}},
        {"name": "gate-fails", "dag_id": "airflow_e2e", "conf": {"quality": 0.1}},
        {"name": "rejected", "dag_id": "airflow_e2e", "conf": {"extra": False},
         "answers": {"release-approval": "Reject"}},
        {"name": "breach", "dag_id": "airflow_e2e-drift"},
        {"name": "no-breach", "dag_id": "airflow_e2e-drift", "conf": {"quality": 0.1}},
    ]
    for name, result in loaded.items():
        if name == "airflow_e2e":
            continue
        pipeline = next(p for p in result.pipelines if p.name == name)
        answers = {f"{g.name}-approval": "Approve" for g in pipeline.gates if g.approval is not None}
        runs.append({"name": name, "dag_id": name, "answers": answers})
    plan = root / "plan.json"
    plan.write_text(json.dumps({"dags_folder": str(dags), "runs": runs}), encoding="utf-8")
    report = run_harness("run", plan, root / "home", timeout=TIMEOUT, env={
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW_VAR_DEPLOY_TOKEN": TOKEN,
    })
    assert "import_errors" not in report, report
    by_name = {run["name"]: run for run in report["runs"]}
    for run in report["runs"]:
        assert run["answer_error"] is None, run["answer_error"]
    return by_name, report, artifacts, loaded


def _folder(artifacts: Path, run: dict) -> Path:
    name = "".join(c if c.isalnum() or c in "_.+-" else "_" for c in run["run_id"]).lstrip(".")
    return artifacts / run["dag_id"] / name


def test_release_runs_every_step_in_order(airflow_runs):
    runs, _, artifacts, _ = airflow_runs
    run = runs["release"]
    assert run["state"] == "success", run
    assert set(run["states"].values()) == {"success"}, run["states"]
    assert run["answered"] == ["airflow_e2e.release-approval=Approve"]
    folder = _folder(artifacts, run)
    # each step read what the one before it wrote
    assert (folder / "prepare" / "data").read_text() == "x,y\n1,2\n3,4\n"
    assert (folder / "prepare" / "origin").read_text() == "https://example.com/seed.csv\n"
    assert (folder / "train" / "model").read_text() == "model trained on 2 rows\n"
    assert json.loads((folder / "train" / "metrics").read_text()) == {"score": 0.9, "rows": 2}
    assert json.loads((folder / "evaluate" / "report").read_text()) == {"score": 0.9, "fairness_gap": 0.01}
    assert (folder / "extra_report" / "note").read_text() == 'hello, {"score": 0.9, "fairness_gap": 0.01}\n'
    assert (folder / "deploy" / "endpoint").read_text() == "model trained on 2 rows\n"
    # the successful run is the one monitors read
    assert os.readlink(artifacts / "airflow_e2e" / "latest") == folder.name


def test_outputs_are_airflow_assets(airflow_runs):
    """Each step's outputs are its outlets: Airflow records an asset event
    for each (lineage, and what OpenLineage reports)."""
    runs, report, artifacts, _ = airflow_runs
    run = runs["release"]
    events = {(e["task_id"], e["uri"]) for e in report["asset_events"] if e["run_id"] == run["run_id"]}
    latest = f"file://{artifacts}/airflow_e2e/latest"
    assert (("train", f"{latest}/train/model") in events and ("train", f"{latest}/train/metrics") in events
            and ("deploy", f"{latest}/deploy/endpoint") in events), sorted(events)


def test_failing_gate_stops_the_release(airflow_runs):
    runs, _, artifacts, _ = airflow_runs
    run = runs["gate-fails"]
    states = run["states"]
    assert run["state"] == "failed"
    assert states["train"] == states["evaluate"] == "success"
    assert states["release"] == "failed"
    assert states["release-approval"] == states["deploy"] == states["record-latest"] == "upstream_failed"
    # the `when` read the low score: its step was skipped, not failed
    assert states["extra_report-when"] == "success" and states["extra_report"] == "skipped"
    assert run["answered"] == []
    folder = _folder(artifacts, run)
    assert json.loads((folder / "train" / "metrics").read_text())["score"] == 0.1
    assert not (folder / "deploy").exists()


def test_rejected_approval_stops_the_release(airflow_runs):
    runs, _, artifacts, _ = airflow_runs
    run = runs["rejected"]
    states = run["states"]
    assert run["answered"] == ["airflow_e2e.release-approval=Reject"], json.dumps(run)
    assert states["release"] == "success"
    assert states["release-approval"] == "failed"
    assert states["deploy"] == "upstream_failed"
    assert states["extra_report"] == "skipped"  # `when param.extra` with extra = false
    assert run["state"] == "failed"
    assert not (_folder(artifacts, run) / "deploy").exists()
    # failed runs do not move `latest`
    assert os.readlink(artifacts / "airflow_e2e" / "latest") == _folder(artifacts, runs["release"]).name


def test_monitor_reads_the_latest_release_and_retrains_on_breach(airflow_runs):
    runs, report, artifacts, _ = airflow_runs
    breach = runs["breach"]
    assert breach["state"] == "success", breach
    assert breach["states"] == {"drift": "success", "drift-check": "success", "drift-retrain": "success",
                                "record-latest": "success"}
    folder = _folder(artifacts, breach)
    # the monitor's run links the pipeline run it read: the approved release
    release = _folder(artifacts, runs["release"])
    assert (folder / "pipeline").resolve() == release.resolve()
    assert json.loads((folder / "drift" / "report").read_text()) == {"psi": 0.9, "rows": 2}
    calm = runs["no-breach"]
    assert calm["state"] == "success"
    assert calm["states"]["drift-check"] == "success" and calm["states"]["drift-retrain"] == "skipped"
    assert calm["states"]["record-latest"] == "success"
    # the breach triggered exactly one run of the pipeline's Dag besides the test's three
    ours = {runs[name]["run_id"] for name in ("release", "gate-fails", "rejected")}
    triggered = [r for r in report["dag_runs"]["airflow_e2e"] if r["run_id"] not in ours]
    assert len(triggered) == 1, report["dag_runs"]["airflow_e2e"]


def _expected_files(result, pipeline: ir.Pipeline) -> dict[tuple[str, str], str]:
    """(step, output) -> the text its command must have written, from the IR."""
    expected = {}
    defaults = {p.name: p.default for p in pipeline.params}
    for step in pipeline.steps:
        values = {p.name: (defaults[p.value.name] if isinstance(p.value, ir.ParamRef) else p.value.value)
                  for p in step.parameters}
        env = {v.name: v.value.value for v in step.env if isinstance(v.value, ir.LiteralValue)}
        inputs = {i.name: pipeline.source(i.ref.producer).uri for i in step.inputs if i.ref.output is None}
        for output, (kind, what) in heredoc_and_printf_expectations(step.command.source_text).items():
            if kind == "text":
                expected[(step.name, output)] = what
            elif kind == "param" and what in values:
                expected[(step.name, output)] = str(values[what])
            elif kind == "env" and what in env:
                expected[(step.name, output)] = str(env[what])
            elif kind == "input" and what in inputs:
                expected[(step.name, output)] = inputs[what]
    return expected


@pytest.mark.skipif(not HOSTILE, reason="no hostile-strings program in tests/programs")
@pytest.mark.parametrize("program", HOSTILE, ids=lambda p: p.name)
def test_hostile_strings_reach_the_commands_unchanged(airflow_runs, program):
    runs, _, artifacts, loaded = airflow_runs
    name, result = next((n, r) for n, r in loaded.items() if r.path == program.relative_to(ROOT).as_posix())
    pipeline = next(p for p in result.pipelines if p.name == name)
    run = runs[name]
    assert run["state"] == "success", run["states"]
    assert set(run["states"].values()) == {"success"}, run["states"]
    # approval requests show the gate's texts as written (no Jinja rendering)
    for gate in pipeline.gates:
        if gate.approval is not None:
            [request] = [r for r in run["requests"] if r["task_id"] == f"{gate.name}-approval"]
            for text in (gate.approval.description, gate.description, *gate.approval.reviewers):
                if text:
                    assert text in request["body"], text
            assert [u["id"] for u in request["assigned_users"]] == list(gate.approval.reviewers)
    expected = _expected_files(result, pipeline)
    assert len(expected) >= 4, "the program no longer copies its strings into files"
    folder = _folder(artifacts, run)
    for (step, output), text in expected.items():
        written = (folder / step / output).read_bytes().decode("utf-8")
        assert written == text, f"{step}.{output}"
