"""End to end on a real Airflow 3: examples/stdlib_pipeline.mlp, built from the
standard library's templates, runs with `dag.test()` and the bash operator on
the sample data shipped in examples/data/stdlib/.

Every stdlib step runs its embedded program with this machine's python3, so
this checks what the unit tests cannot: that the programs survive being
embedded, compiled and run as a command, and that the gate reads the keys
they write. Then the drift monitor runs against the released pipeline run.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from airflow_support import ROOT, compile_into, run_harness

EXAMPLE = ROOT / "examples" / "stdlib_pipeline.mlp"
DATA = ROOT / "examples" / "data" / "stdlib"
PROGRAMS = ROOT / "mlplang" / "stdlib" / "programs"
TIMEOUT = 300


@pytest.fixture(scope="module")
def stdlib_runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("stdlib-e2e")
    dags, artifacts = root / "dags", root / "artifacts"
    compile_into([EXAMPLE], dags, **{"artifact-root": str(artifacts)})
    runs = [
        {"name": "release", "dag_id": "credit_scoring", "conf": {"data_dir": str(DATA)}},
        {"name": "strict", "dag_id": "credit_scoring", "conf": {"data_dir": str(DATA), "min_auc": 0.999}},
        {"name": "monitor", "dag_id": "credit_scoring-drift_watch"},
    ]
    plan = root / "plan.json"
    plan.write_text(json.dumps({"dags_folder": str(dags), "runs": runs}), encoding="utf-8")
    report = run_harness("run", plan, root / "home", timeout=TIMEOUT, env={"AIRFLOW__CORE__DAGS_FOLDER": str(dags)})
    assert "import_errors" not in report, report
    return {run["name"]: run for run in report["runs"]}, artifacts


def _folder(artifacts: Path, run: dict) -> Path:
    name = "".join(c if c.isalnum() or c in "_.+-" else "_" for c in run["run_id"]).lstrip(".")
    return artifacts / run["dag_id"] / name


def _program(name: str):
    spec = importlib.util.spec_from_file_location(f"stdlib_{name}", PROGRAMS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_release_runs_every_stdlib_step(stdlib_runs):
    runs, artifacts = stdlib_runs
    run = runs["release"]
    assert run["state"] == "success", json.dumps(run)[:3000]
    assert set(run["states"].values()) == {"success"}, run["states"]
    folder = _folder(artifacts, run)
    check = json.loads((folder / "check" / "report").read_text())
    assert check == {"rows": 40, "missing_columns": 0, "null_cells": 0, "type_errors": 0,
                     "range_errors": 0, "passed": 1}
    shift = json.loads((folder / "shift" / "report").read_text())
    assert set(shift) == {"columns", "psi_income", "ks_income", "psi_debt", "ks_debt", "psi_max", "ks_max"}
    assert shift["columns"] == 2 and 0 <= shift["psi_max"] < 0.25
    # the step's figures are the program's, computed here from the same files
    evaluate = _program("evaluate")
    rows = list(csv_rows(folder / "predict" / "predictions"))
    expected = evaluate.classification_metrics([int(r["label"]) for r in rows],
                                               [float(r["score"]) for r in rows], 0.5)
    assert json.loads((folder / "scores" / "report").read_text()) == expected
    assert expected["auc"] >= 0.75
    fair = json.loads((folder / "fair" / "report").read_text())
    assert fair["groups"] == 2 and set(fair) >= {"demographic_parity_difference", "equalized_odds_difference"}
    record = json.loads((folder / "register" / "record").read_text())
    assert record["name"] == "credit-scoring" and record["mlflow_version"] is None
    assert record["model_uri"] == "s3://example-models/credit-scoring/1"
    assert record["metrics"] == expected
    endpoint = (folder / "serve" / "endpoint").read_text()
    assert "kind: InferenceService\n" in endpoint
    assert '      storageUri: "s3://example-models/credit-scoring/1"\n' in endpoint


def csv_rows(path: Path):
    import csv

    with open(path, newline="", encoding="utf-8") as handle:
        yield from csv.DictReader(handle)


def test_gate_stops_a_model_below_the_threshold(stdlib_runs):
    runs, artifacts = stdlib_runs
    run = runs["strict"]
    assert run["state"] == "failed"
    assert run["states"]["scores"] == "success" and run["states"]["release"] == "failed"
    assert run["states"]["register"] == run["states"]["serve"] == "upstream_failed"
    assert not (_folder(artifacts, run) / "serve").exists()


def test_monitor_reads_the_released_drift_report(stdlib_runs):
    runs, artifacts = stdlib_runs
    run = runs["monitor"]
    assert run["state"] == "success", json.dumps(run)[:3000]
    assert run["states"]["drift_watch-check"] == "success"
    assert run["states"]["drift_watch-retrain"] == "skipped"
    released = _folder(artifacts, runs["release"])
    watched = json.loads((_folder(artifacts, run) / "drift_watch" / "report").read_text())
    assert watched == json.loads((released / "shift" / "report").read_text())
