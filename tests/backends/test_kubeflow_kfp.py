"""Kubeflow specs checked by kfp itself (in .venv-kfp, see kubeflow_support):

- every example and backend test program: the YAML parses strictly into the
  `PipelineSpec` protobuf (and its platform spec into `PlatformSpec`), kfp's
  loader loads it, the referential-integrity check finds nothing, and the
  task dependencies read back equal the IR's graph;
- the integrity check itself finds each kind of broken reference that kfp's
  own parser and loader accept;
- side by side: two examples written by hand with kfp's DSL, compiled by
  kfp's compiler, have the structure of what mlp emits.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from kubeflow_support import (
    DSL_FOLDER,
    ROOT,
    compile_into,
    compile_program,
    documents,
    example_files,
    ir_edges,
    kfp_check,
    program_files,
    run_kfp,
    spec_edges,
    structure,
)

PROGRAMS = [*example_files(), *program_files()]


@pytest.fixture(scope="module")
def compiled(tmp_path_factory) -> tuple[Path, dict, dict]:
    """Every program compiled into one folder, and kfp's report on each file."""
    folder = tmp_path_factory.mktemp("kubeflow")
    loaded = compile_into(PROGRAMS, folder)
    report = kfp_check(sorted(folder.glob("*.yaml")))
    return folder, loaded, report


def test_programs_are_there():
    assert len(example_files()) >= 4 and program_files(), "examples/ and tests/programs/ are expected"


def test_kfp_accepts_every_spec(compiled):
    _, loaded, report = compiled
    expected = {f"{p.name}.yaml" for result in loaded.values() for p in result.pipelines}
    expected |= {f"{p.name}-{m.name}.yaml" for result in loaded.values() for p in result.pipelines
                 for m in p.monitors}
    assert set(report) == expected
    problems = {name: entry["errors"] for name, entry in report.items() if entry["errors"]}
    assert problems == {}
    assert all(entry["tasks"] for entry in report.values())


def test_dependencies_read_back_equal_the_ir(compiled):
    _, loaded, report = compiled
    for name, result in loaded.items():
        tasks = report[f"{name}.yaml"]["tasks"]
        assert spec_edges(tasks) == ir_edges(result, name), name


def test_monitor_specs_read_back(compiled):
    """A monitor's spec: importers feed the monitor task, whose check (if any) follows it."""
    _, loaded, report = compiled
    for result in loaded.values():
        for pipeline in result.pipelines:
            for monitor in pipeline.monitors:
                tasks = report[f"{pipeline.name}-{monitor.name}.yaml"]["tasks"]
                by_display = {t["display"]: key for key, t in tasks.items()}
                key = by_display[monitor.name]
                imported = {i.ref.artifact_id for i in monitor.inputs if i.ref.output is not None}
                assert {tasks[d]["display"] for d in tasks[key]["dependencies"]} == {f"import {a}" for a in imported}
                if monitor.requires:
                    assert tasks[by_display[f"{monitor.name}-check"]]["dependencies"] == [key]


# ---- the referential-integrity check can fail ----------------------------------------------------


def _broken(spec: dict) -> dict[str, tuple[dict, str]]:
    """Copies of a valid spec, each with one broken reference, and the
    problem the check must report."""
    cases: dict[str, tuple[dict, str]] = {}

    def case(name: str, expected: str, change) -> None:
        document = copy.deepcopy(spec)
        change(document)
        cases[name] = (document, expected)

    tasks = lambda d: d["root"]["dag"]["tasks"]
    case("ghost-dependency", "dependentTasks names no task: 'ghost'",
         lambda d: tasks(d)["deploy"]["dependentTasks"].append("ghost"))
    case("missing-component", "componentRef 'comp-ghost' names no component",
         lambda d: tasks(d)["deploy"]["componentRef"].update(name="comp-ghost"))
    case("unknown-executor", "executorLabel 'exec-ghost' names no executor",
         lambda d: d["components"]["comp-deploy"].update(executorLabel="exec-ghost"))
    case("ghost-producer", "comes from a missing task 'ghost'",
         lambda d: tasks(d)["deploy"]["inputs"]["artifacts"]["model"]["taskOutputArtifact"].update(producerTask="ghost"))
    case("missing-output", "'train' has no output 'weights'",
         lambda d: tasks(d)["deploy"]["inputs"]["artifacts"]["model"]["taskOutputArtifact"].update(
             outputArtifactKey="weights"))
    case("undeclared-input", "input parameter 'extra' is not declared by comp-train",
         lambda d: tasks(d)["train"]["inputs"]["parameters"].update(extra={"componentInputParameter": "epochs"}))
    case("unbound-input", "required input artifact 'data' is not bound",
         lambda d: tasks(d)["train"]["inputs"].pop("artifacts"))
    case("cycle", "cycle",
         lambda d: tasks(d)["extract"].setdefault("dependentTasks", []).append("deploy"))
    case("condition-input", "the condition reads 'pipelinechannel--ghost-holds'",
         lambda d: tasks(d)["deploy"].update(
             triggerPolicy={"condition": "inputs.parameter_values['pipelinechannel--ghost-holds'] == 'true'"}))
    return cases


def test_integrity_check_finds_what_kfp_accepts(tmp_path):
    _, files = compile_program(ROOT / "examples" / "fraud_detection.mlp")
    spec, platform = documents(next(f.content for f in files if f.path == "fraud_detection.yaml"))
    cases = _broken(spec)
    for name, (document, _) in cases.items():
        (tmp_path / f"{name}.yaml").write_text(yaml.safe_dump_all([document, platform]), encoding="utf-8")
    (tmp_path / "valid.yaml").write_text(yaml.safe_dump_all([spec, platform]), encoding="utf-8")
    report = kfp_check(sorted(tmp_path.glob("*.yaml")))
    assert report["valid.yaml"]["errors"] == []
    for name, (_, expected) in cases.items():
        errors = report[f"{name}.yaml"]["errors"]
        assert any(expected in e for e in errors), f"{name}: {errors}"
        # kfp's own parser and loader raised nothing: only the integrity check found it
        assert not any(e.startswith(("ParseError", "load_component_from_file")) for e in errors), errors


def test_strict_parse_rejects_unknown_fields(tmp_path):
    _, files = compile_program(ROOT / "examples" / "continuous_training.mlp")
    spec, platform = documents(files[0].content)
    spec["root"]["dag"]["tasks"]["train"]["retryPolicy"]["maxRetries"] = 3
    (tmp_path / "unknown.yaml").write_text(yaml.safe_dump_all([spec, platform]), encoding="utf-8")
    errors = kfp_check([tmp_path / "unknown.yaml"])["unknown.yaml"]["errors"]
    assert any("ParseError" in e and "maxRetries" in e for e in errors), errors


# ---- side by side with kfp's own compiler ----------------------------------------------------------


@pytest.mark.parametrize(("example", "dsl_file"), [
    ("continuous_training.mlp", "demand_forecast.py"),
    ("gpu_training.mlp", "catalog_vision.py"),
])
def test_same_structure_as_kfp_compiler(example, dsl_file, tmp_path):
    _, files = compile_program(ROOT / "examples" / example)
    ours = structure(*documents(files[0].content))
    output = tmp_path / "kfp.yaml"
    run_kfp("compile", str(DSL_FOLDER / dsl_file), str(output))
    theirs = structure(*documents(output.read_text(encoding="utf-8")))
    assert ours["parameters"] == theirs["parameters"]
    assert sorted(ours["tasks"]) == sorted(theirs["tasks"])
    for key, task in ours["tasks"].items():
        assert task == theirs["tasks"][key], key
    # the gate's condition, spelled as kfp's `dsl.If` spells it
    conditions = {c for t in ours["tasks"].values() for c in t["conditions"]}
    assert conditions and all(value == "true" and output_name == "holds" for _, output_name, value in conditions)
    gated = [key for key, t in theirs["tasks"].items() if t["conditions"]]
    assert gated, "kfp's compile has tasks under dsl.If"
