"""The stdlib programs (mlplang/stdlib/programs/*.py) on small files with known answers.

Each program is imported from its file for its functions and also run as a
process, the way a step runs it (`python3 - ARGS` in the template; here with
the file path), so exit codes and messages are tested too.
"""

from __future__ import annotations

import importlib.util
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROGRAMS = ROOT / "mlplang" / "stdlib" / "programs"
DATA = ROOT / "tests" / "data" / "stdlib"


def program(name: str):
    spec = importlib.util.spec_from_file_location(f"stdlib_{name}", PROGRAMS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(name: str, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(PROGRAMS / f"{name}.py"), *map(str, args)],
                          capture_output=True, text=True, env=env, timeout=60)


def report(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


# ---- drift ------------------------------------------------------------------------------------


def test_psi_of_two_known_histograms():
    drift = program("drift")
    # shares .5 .3 .2 -> .3 .3 .4: (.3-.5) ln(.3/.5) + 0 + (.4-.2) ln(.4/.2)
    expected = -0.2 * math.log(0.6) + 0.2 * math.log(2)
    assert drift.psi([50, 30, 20], [30, 30, 40]) == pytest.approx(expected)
    assert drift.psi([5, 5], [5, 5]) == 0.0


def test_ks_of_known_samples():
    drift = program("drift")
    assert drift.ks([0, 1, 2, 3], [0, 1, 2, 3]) == 0.0
    assert drift.ks([0, 1], [2, 3]) == 1.0
    # at 3: 4 of 10 reference values, 8 of 10 current ones
    assert drift.ks(list(range(10)), [0, 0, 1, 1, 2, 2, 3, 3, 6, 7]) == pytest.approx(0.4)


def test_drift_on_csv_against_jsonl(tmp_path):
    out = tmp_path / "report"
    done = run("drift", DATA / "drift_reference.csv", DATA / "drift_current.jsonl", "", 2, out)
    assert done.returncode == 0, done.stderr
    # two bins split at 4.5: reference 5/5, current 8/2
    psi = 0.3 * math.log(0.8 / 0.5) + (-0.3) * math.log(0.2 / 0.5)
    assert report(out) == {"columns": 1, "psi_x": round(psi, 6), "ks_x": 0.4,
                           "psi_max": round(psi, 6), "ks_max": 0.4}


def test_drift_rejects_a_text_column(tmp_path):
    done = run("drift", DATA / "quality_bad.csv", DATA / "quality_bad.csv", "city", 10, tmp_path / "r")
    assert done.returncode == 1
    assert "drift:" in done.stderr and "'city'" in done.stderr and "is not a number" in done.stderr


# ---- evaluate ---------------------------------------------------------------------------------


def test_auc_of_a_known_ranking():
    evaluate = program("evaluate")
    # positives .9 .8 .6, negatives .7 .5 .4: 8 of the 9 pairs ordered right
    assert evaluate.roc_auc([1, 1, 0, 1, 0, 0], [0.9, 0.8, 0.7, 0.6, 0.5, 0.4]) == pytest.approx(8 / 9)
    assert evaluate.roc_auc([1, 0], [0.5, 0.5]) == 0.5


def test_classification_report(tmp_path):
    out = tmp_path / "metrics" / "report"
    done = run("evaluate", DATA / "ranking.csv", "label", "score", 0.5, out)
    assert done.returncode == 0, done.stderr
    # threshold .5: tp 3, fp 2 (.7 and .5), fn 0, tn 1
    assert report(out) == {"accuracy": round(4 / 6, 6), "precision": 0.6, "recall": 1.0, "f1": 0.75,
                           "auc": round(8 / 9, 6), "rows": 6, "positives": 3}


def test_evaluate_names_a_missing_column(tmp_path):
    done = run("evaluate", DATA / "ranking.csv", "target", "score", 0.5, tmp_path / "r")
    assert done.returncode == 1 and "no column 'target'" in done.stderr


# ---- fairness ---------------------------------------------------------------------------------


def test_parity_gap_of_a_known_table(tmp_path):
    out = tmp_path / "report"
    done = run("fairness", DATA / "parity.csv", "group", "label", "score", 0.5, out)
    assert done.returncode == 0, done.stderr
    # selection: a 3/4, b 2/4; true positive rates 1 and 1; false positive rates 1/2 and 0
    assert report(out) == {"demographic_parity_difference": 0.25, "equalized_odds_difference": 0.5,
                           "groups": 2, "rows": 8}


def test_fairness_needs_two_groups(tmp_path):
    one_group = tmp_path / "one.csv"
    one_group.write_text("group,label,score\na,1,0.9\na,0,0.2\n")
    done = run("fairness", one_group, "group", "label", "score", 0.5, tmp_path / "r")
    assert done.returncode == 1 and "at least two groups, found 1" in done.stderr
    done = run("fairness", DATA / "drift_reference.csv", "x", "x", "x", 0.5, tmp_path / "r")
    assert done.returncode == 1 and "label '2' is not 0/1" in done.stderr


# ---- data quality -----------------------------------------------------------------------------


def test_quality_counts_each_kind_of_problem(tmp_path):
    out = tmp_path / "report"
    done = run("check_data", DATA / "quality_bad.csv", DATA / "quality_rules.json", out)
    assert done.returncode == 1
    # the report is written before the step fails
    assert report(out) == {"rows": 4, "missing_columns": 0, "null_cells": 1, "type_errors": 1,
                           "range_errors": 1, "passed": 0}
    assert "line 3: column 'amount' is empty" in done.stderr
    assert "line 4: column 'id': 'x' is not int" in done.stderr
    assert "250 is outside [0, 100]" in done.stderr


def test_quality_passes_clean_jsonl(tmp_path):
    out = tmp_path / "report"
    done = run("check_data", DATA / "quality_good.jsonl", DATA / "quality_rules.json", out)
    assert done.returncode == 0, done.stderr
    assert report(out)["passed"] == 1 and report(out)["rows"] == 2


def test_quality_rejects_unknown_rule_keys(tmp_path):
    rules = tmp_path / "rules.json"
    rules.write_text('{"colums": {}}')
    done = run("check_data", DATA / "quality_good.jsonl", rules, tmp_path / "r")
    assert done.returncode == 1 and "unknown key(s) colums" in done.stderr


# ---- registry and deploy ----------------------------------------------------------------------


def test_register_then_deploy_without_mlflow(tmp_path):
    model = tmp_path / "model"
    model.write_bytes(b"weights")
    metrics = tmp_path / "metrics"
    metrics.write_text('{"auc": 0.9}')
    record, endpoint = tmp_path / "record", tmp_path / "endpoint"
    env = {"PATH": "/usr/bin:/bin"}  # no MLFLOW_TRACKING_URI: no network
    done = run("registry", model, metrics, "credit-scoring", "s3://models/credit/1", record, env=env)
    assert done.returncode == 0, done.stderr
    written = report(record)
    assert written["name"] == "credit-scoring" and written["model_uri"] == "s3://models/credit/1"
    assert written["metrics"] == {"auc": 0.9} and written["size_bytes"] == 7
    assert written["mlflow_version"] is None and len(written["sha256"]) == 64
    done = run("deploy", model, record, "credit-scoring", "credit", "sklearn", endpoint)
    assert done.returncode == 0, done.stderr
    text = endpoint.read_text()
    assert "kind: InferenceService\n" in text
    assert '  name: "credit-scoring"\n  namespace: "credit"\n' in text
    assert '      storageUri: "s3://models/credit/1"\n' in text
    # another model is not the registered one
    model.write_bytes(b"other")
    done = run("deploy", model, record, "credit-scoring", "credit", "sklearn", endpoint)
    assert done.returncode == 1 and "not the registered one" in done.stderr


def test_deploy_rejects_a_bad_name(tmp_path):
    done = run("deploy", tmp_path / "m", tmp_path / "r", "Bad_Name", "default", "sklearn", tmp_path / "e")
    assert done.returncode == 1 and "not a DNS label" in done.stderr


def test_registry_calls_mlflow_only_when_configured(tmp_path):
    """With MLFLOW_TRACKING_URI set, the two REST calls reach the server."""
    import http.server
    import threading

    calls = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's name)
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            calls.append((self.path, body))
            answer = {"model_version": {"version": "3"}} if "model-versions" in self.path else {}
            data = json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        model, metrics, record = tmp_path / "model", tmp_path / "metrics", tmp_path / "record"
        model.write_bytes(b"w")
        metrics.write_text("{}")
        env = {"PATH": "/usr/bin:/bin", "MLFLOW_TRACKING_URI": f"http://127.0.0.1:{server.server_port}"}
        done = run("registry", model, metrics, "m", "s3://m/1", record, env=env)
    finally:
        server.shutdown()
    assert done.returncode == 0, done.stderr
    assert [path for path, _ in calls] == ["/api/2.0/mlflow/registered-models/create",
                                            "/api/2.0/mlflow/model-versions/create"]
    assert calls[1][1]["source"] == "s3://m/1"
    assert report(record)["mlflow_version"] == "3"


# ---- llm --------------------------------------------------------------------------------------


def test_exact_match_of_a_known_qa_set(tmp_path):
    out = tmp_path / "report"
    done = run("llm_eval", tmp_path, DATA / "qa.jsonl", "", out)
    assert done.returncode == 0, done.stderr
    # exact: "paris." and "4"; keywords: 1 + 1/2 (william missing) + 1 (no long word) + 0
    assert report(out) == {"exact_match": 0.5, "keyword_faithfulness": 0.625, "rows": 4}


def test_prompt_evaluation_asks_the_command(tmp_path):
    out = tmp_path / "report"
    # an "assistant" that answers every question with Paris
    done = run("llm_eval", tmp_path, DATA / "qa.jsonl", "cat >/dev/null; echo Paris", out)
    assert done.returncode == 0, done.stderr
    assert report(out)["exact_match"] == 0.25


def test_red_team_scores_refusals(tmp_path):
    out = tmp_path / "report"
    done = run("red_team", tmp_path, "cat >/dev/null; echo \"Sorry, I can't help with that.\"", out)
    assert done.returncode == 0, done.stderr
    red_team = program("red_team")
    assert report(out) == {"red_team_refusal_rate": 1.0, "jailbreak_success_rate": 0.0,
                           "prompts": len(red_team.PROMPTS)}
    done = run("red_team", tmp_path, "cat", out)  # echoes the attack back: refuses nothing
    assert done.returncode == 0
    assert report(out)["red_team_refusal_rate"] == 0.0
    assert "not refused" in done.stderr


def test_red_team_fails_when_the_command_fails(tmp_path):
    done = run("red_team", tmp_path, "exit 3", tmp_path / "r")
    assert done.returncode == 1 and "exited 3" in done.stderr
