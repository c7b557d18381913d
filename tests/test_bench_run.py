"""The benchmark harness bench/run.py: one `--quick --skip-peers` run in a
subprocess, then the structure of what it writes (markdown, JSON, plot).
Never timings: tests do not assert speed."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from mlplang.api import load_text

ROOT = Path(__file__).resolve().parents[1]
RUN = ROOT / "bench" / "run.py"


def _module():
    spec = importlib.util.spec_from_file_location("bench_run", RUN)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


run = _module()
QUICK_SIZES = [10, 100]
STAGES = list(run.STAGES)


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    out = tmp_path_factory.mktemp("bench-run")
    completed = subprocess.run(
        [sys.executable, str(RUN), "--quick", "--skip-peers", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=900, check=False,
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    return out, completed


@pytest.fixture(scope="module")
def data(quick) -> dict:
    out, _ = quick
    return json.loads((out / "run.json").read_text(encoding="utf-8"))


def test_writes_report_json_and_plot(quick) -> None:
    out, completed = quick
    report = (out / "run.md").read_text(encoding="utf-8")
    assert completed.stdout.strip() and completed.stdout.strip() in report
    for heading in ("#### Machine and versions", "#### Targets", "#### In-process stages: medians (ms)",
                    "#### Ratios of medians", "#### Scaling: every cell",
                    "#### Check + compile to all three targets, one process", "#### Cold start", "#### Skipped"):
        assert heading in report, heading
    assert "- kfp and dag-factory: --skip-peers" in report
    assert (out / "benchmarks.png").exists() == run.have_matplotlib()
    if run.have_matplotlib():
        assert (out / "benchmarks.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_machine_and_config(data: dict) -> None:
    machine = data["machine"]
    for key in ("date", "cpu", "nproc", "cores", "memory", "os", "python", "mlplang", "lark", "pydantic",
                "kfp", "apache-airflow", "dag-factory", "commit", "load_average_at_start", "load_average_at_end"):
        assert machine.get(key) not in (None, ""), key
    assert data["config"]["quick"] is True and data["config"]["sizes"] == QUICK_SIZES
    assert data["elapsed_s"] > 0


def test_every_stage_shape_and_size_is_a_cell(data: dict) -> None:
    cells = {(c["shape"], c["n"], c["stage"]): c for c in data["cells"]}
    assert set(cells) == {(shape, n, stage) for shape in ("chain", "wide") for n in QUICK_SIZES for stage in STAGES}
    for (shape, n, stage), cell in cells.items():
        assert len(cell["times_s"]) >= 3
        assert all(t > 0 for t in cell["times_s"])
        assert cell["min_s"] <= cell["median_s"] <= cell["max_s"]
        assert cell["us_per_step"] == pytest.approx(cell["median_s"] / n * 1e6)
        if n == QUICK_SIZES[0]:
            assert cell["exponent_vs_previous"] is None
        else:
            assert cell["previous_n"] == QUICK_SIZES[0] and isinstance(cell["exponent_vs_previous"], float)
    assert {(i["shape"], i["n"]) for i in data["inputs"]} == {(s, n) for s in ("chain", "wide") for n in QUICK_SIZES}


def test_processes(data: dict) -> None:
    assert {(r["shape"], r["n"]) for r in data["all_targets"]} == {(s, n) for s in ("chain", "wide") for n in QUICK_SIZES}
    for row in data["all_targets"]:
        assert row["files"] == 6  # pipeline + monitor for each of the three targets
        assert row["wall_min_s"] <= row["wall_median_s"] <= row["wall_max_s"]
    assert data["kfp"] == [] and data["dagfactory"] == []
    cold = data["cold_start"]
    for name in ("python -c pass", "mlp check"):
        assert len(cold[name]["wall_s"]) == data["config"]["cold_repeats"]
    if importlib.util.find_spec("pygls") is not None:
        assert [(r["edit"], r["debounce_ms"]) for r in data["lsp"]] == [("description", 0), ("half-typed", 0), ("new-member", 0),
                                                                            ("two-places", 0)]
        for lsp in data["lsp"]:
            assert lsp["steps"] == 500 and len(lsp["times_s"]) == 3
    else:
        assert any(s["what"] == "language server" for s in data["skipped"])


def test_targets_table(quick, data: dict) -> None:
    targets = {t["target"]: t for t in data["targets"]}
    assert list(targets) == [spec[0] for spec in run.TARGET_SPECS]
    for target in targets.values():
        assert target["met"] in ("yes", "no", "n/a")
        assert (target["met"] == "n/a") == (target["value"] is None)
    # Quick sizes stop at 100 and peers are skipped: those targets cannot be judged.
    assert targets["all_targets"]["met"] == "n/a" and targets["kfp_ratio"]["met"] == "n/a"
    assert targets["check_10k"]["met"] == "n/a"
    assert targets["scaling"]["met"] != "n/a" and targets["lark_ratio"]["met"] != "n/a"
    report = (quick[0] / "run.md").read_text(encoding="utf-8")
    for target in targets.values():
        assert f"| {target['description']} |" in report


def test_yaml_document_is_the_pipeline() -> None:
    text = run.generate(12, "wide")
    document = yaml.load(run.yaml_text(text), Loader=yaml.CSafeLoader)["pipeline"]
    (pipeline,) = load_text(text, "bench.mlp").pipelines
    assert list(document["steps"]) == [s.name for s in pipeline.steps]
    assert document["steps"]["ensemble"]["in"]["holdout"] == {"type": "Dataset", "from": "raw"}
    assert document["gates"]["release"]["require"][0].startswith("ensemble.metrics.auc >=")


def test_write_docs_replaces_only_between_the_markers(tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    doc.write_text(f"# Benchmarks\n\nintro\n\n{run.BEGIN_MARKER}\nold\n{run.END_MARKER}\n\n## Later\n\nkept\n")
    run.write_docs("#### New\n\nnew table\n", doc)
    text = doc.read_text()
    assert "old" not in text and "new table" in text
    assert text.startswith("# Benchmarks\n\nintro\n\n") and text.endswith("## Later\n\nkept\n")
    run.write_docs("#### Newer\n", doc)
    assert text.replace("#### New\n\nnew table", "#### Newer") == doc.read_text()
    bare = tmp_path / "bare.md"
    bare.write_text("# Benchmarks\n")
    run.write_docs("#### Section\n", bare)
    assert bare.read_text().endswith(f"{run.BEGIN_MARKER}\n\n#### Section\n\n{run.END_MARKER}\n")


def test_options_are_checked(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        run.parse_args(["--quick", "--write-docs"])
    monkeypatch.setattr(run, "have_matplotlib", lambda: False)
    with pytest.raises(SystemExit):
        run.parse_args(["--write-docs"])
    assert "pip install -e '.[bench]'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        run.parse_args(["--shapes", "ring"])
    args = run.parse_args(["--quick", "--sizes", "1000,100"])
    assert args.sizes == [100, 1000] and args.repeats == 3
