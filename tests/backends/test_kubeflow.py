"""The Kubeflow backend: what it writes is deterministic, reviewed (golden
files), never lets text from the `.mlp` file reach a `{{...}}` substitution,
and runs - on this machine, through `LocalRun`, which does what Kubeflow's
launcher does with a spec - with the gates, conditions and approvals the IR
describes. kfp's own checks are in test_kubeflow_kfp.py.

Golden files: tests/golden/kubeflow/<example>/<file>.yaml; after a deliberate
change, `MLP_UPDATE_GOLDEN=1 pytest tests/backends/test_kubeflow.py`, then
read the diff before committing it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from kubeflow_support import (
    ROOT,
    RUN_ID,
    ApprovalServer,
    LocalRun,
    compile_program,
    documents,
    example_files,
    load_program,
    program_files,
)

from mlplang.backends.base import CompileUnit
from mlplang.backends.conditions import condition_data
from mlplang.backends.kubeflow import KubeflowBackend, KubeflowOptions
from mlplang.backends.kubeflow.names import Names, k8s_name
from mlplang.backends.kubeflow.spec import PLACEHOLDER, cpu_quantity, memory_quantity
from mlplang.backends.kubeflow.transport import MARK, PRELUDE, escape, unescape
from mlplang.backends.runtime import program_source
from mlplang.backends.shell import command_text
from mlplang.compile import compile_result
from mlplang.compiler import ir
from mlplang.compiler.lineage import Lineage
from mlplang.config import LintConfig

GOLDEN = ROOT / "tests" / "golden" / "kubeflow"
PROGRAMS = [*example_files(), *program_files()]
E2E = ROOT / "tests" / "programs" / "airflow_e2e.mlp"
HOSTILE = ROOT / "tests" / "programs" / "hostile.mlp"


def _id(path: Path) -> str:
    return path.stem


def _strings(value, path=()):
    """Every string of a document, with where it is."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, (*path, index))
    elif isinstance(value, str):
        yield path, value


def _arguments(arguments: list[str]) -> dict[str, str]:
    """`NAME=VALUE` arguments as the prelude exports them."""
    return dict(unescape(a).split("=", 1) for a in arguments)


# ---- golden files and determinism ------------------------------------------------------------------


@pytest.mark.parametrize("path", example_files(), ids=_id)
def test_golden(path):
    _, files = compile_program(path)
    folder = GOLDEN / path.stem
    if os.environ.get("MLP_UPDATE_GOLDEN"):
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.yaml"):
            stale.unlink()
        for file in files:
            (folder / file.path).write_text(file.content, encoding="utf-8", newline="\n")
    expected = sorted(p.name for p in folder.glob("*.yaml"))
    assert sorted(f.path for f in files) == expected, "run with MLP_UPDATE_GOLDEN=1, then review"
    for file in files:
        assert file.content == (folder / file.path).read_text(encoding="utf-8"), f"{file.path} differs from its golden file"


def test_byte_identical_across_runs_and_hash_seeds():
    script = (
        "import json, sys; sys.path.insert(0, 'tests/backends')\n"
        "from kubeflow_support import compile_program, example_files, program_files\n"
        "print(json.dumps({f.path: f.content for p in [*example_files(), *program_files()]"
        " for f in compile_program(p)[1]}))\n"
    )
    outputs = []
    for seed in ("0", "4242"):
        completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT,
                                   env={**os.environ, "PYTHONHASHSEED": seed}, timeout=120)
        assert completed.returncode == 0, completed.stderr
        outputs.append(json.loads(completed.stdout))
    here = {f.path: f.content for p in PROGRAMS for f in compile_program(p)[1]}
    assert outputs[0] == outputs[1] == here


# ---- no user text reaches a substitution ------------------------------------------------------------


@pytest.mark.parametrize("path", PROGRAMS, ids=_id)
def test_no_user_text_reaches_a_substitution(path):
    """Argo, the Kubeflow driver and its launcher rewrite `{{...}}` anywhere in
    a spec (but `pipelineInfo.description`): only mlp's placeholders may be
    there. No argument starts with `{` (the driver would parse `{"IfPresent"`)."""
    _, files = compile_program(path)
    for file in files:
        for document in documents(file.content):
            for where, text in _strings(document):
                if where[:2] == ("pipelineInfo", "description"):
                    continue
                assert "{{" not in PLACEHOLDER.sub("", text), (file.path, where)
            for executor in document.get("deploymentSpec", {}).get("executors", {}).values():
                for argument in executor.get("container", {}).get("args", []):
                    assert not argument.lstrip().startswith("{" + '"'), argument


@pytest.mark.parametrize("path", PROGRAMS, ids=_id)
def test_spec_carries_the_original_strings(path):
    """Reloaded from the YAML and unescaped as the prelude does, each
    command, value and default is the text of the `.mlp` file."""
    result, files = compile_program(path)
    for pipeline in result.pipelines:
        spec = documents(next(f.content for f in files if f.path == f"{pipeline.name}.yaml"))[0]
        defaults = spec["root"].get("inputDefinitions", {}).get("parameters", {})
        for param in pipeline.params:
            if param.default is not None:
                default = defaults[param.name]["defaultValue"]
                assert (unescape(default) if isinstance(default, str) else default) == param.default
        tasks = {t["taskInfo"]["name"]: t for t in spec["root"]["dag"]["tasks"].values()}
        for step in pipeline.steps:
            task = tasks[step.name]
            component = spec["components"][task["componentRef"]["name"]]
            container = spec["deploymentSpec"]["executors"][component["executorLabel"]]["container"]
            assert container["image"] == step.image.reference
            assert container["command"][:3] == ["bash", "-c", PRELUDE]
            run, *rest = container["args"]
            assert unescape(run) == (command_text(step.command) if step.command else "true")
            values = _arguments(rest)
            for item in step.inputs:
                if item.ref.output is None:
                    assert values[f"MLP_IN_{item.name}"] == pipeline.source(item.ref.producer).uri
            for variable in step.env:
                if isinstance(variable.value, ir.LiteralValue):
                    literal = variable.value.value
                    assert values[variable.name] == (str(literal).lower() if isinstance(literal, bool) else str(literal))
            constants = task.get("inputs", {}).get("parameters", {})
            for parameter in step.parameters:
                if isinstance(parameter.value, ir.LiteralValue):
                    constant = constants[parameter.name]["runtimeValue"]["constant"]
                    assert (unescape(constant) if isinstance(constant, str) else constant) == parameter.value.value
        for gate in pipeline.gates:
            if gate.requires:
                component = spec["components"][tasks[gate.name]["componentRef"]["name"]]
                args = spec["deploymentSpec"]["executors"][component["executorLabel"]]["container"]["args"]
                check = json.loads(_arguments(args[1:])["MLP_CHECK"])
                assert [c["expr"] for c in check["conditions"]] == [condition_data(r.condition) for r in gate.requires]
                assert _arguments(args[1:])["MLP_CHECK_PROGRAM"] == program_source("check_conditions")


# ---- running the specs here ------------------------------------------------------------------------


def _specs(path: Path, **options) -> tuple[ir.Pipeline, dict[str, list[dict]]]:
    result, files = compile_program(path, **options)
    return result.pipelines[0], {f.path: documents(f.content) for f in files}


def test_hostile_strings_survive_a_run(tmp_path):
    pipeline, specs = _specs(HOSTILE)
    with ApprovalServer() as server:
        server.config_maps[f"mlp-approval-{RUN_ID}-release-approval"] = {"approved": "true", "reviewer": "ann"}
        run = LocalRun(specs["hostile.yaml"][0], tmp_path / "run",
                       env={"MLP_K8S_API": server.url, "MLP_POLL_SECONDS": "0.05"}).run()
    assert set(run.states.values()) == {"succeeded"}, {k: run.logs[k].stderr[-2000:] for k in run.logs
                                                        if run.logs[k].returncode}
    note = pipeline.param("note").default
    copies = pipeline.step("copies")
    env = {v.name: v.value for v in copies.env}

    def written(task: str, output: str) -> str:
        return run.outputs[(task, output)].read_text(encoding="utf-8")

    assert written("copies", "param_note") == note
    assert written("copies", "env_note") == env["HOSTILE_ENV"].value
    assert written("copies", "uri") == pipeline.source("raw").uri
    assert written("copies", "env_param") == pipeline.param("plain").default
    assert written("from-template", "copy") == pipeline.step("from_template").parameters[0].value.value
    heredoc = command_text(pipeline.step("verbatim").command).split("<<'USER_EOF'\n", 1)[1].split("USER_EOF\n")[0]
    assert written("verbatim", "text") == heredoc
    assert written("publish", "endpoint") == note
    assert "rm -rf" not in "".join(c.stderr.decode() for c in run.logs.values())

    monitor = LocalRun(specs["hostile-watch.yaml"][0], tmp_path / "monitor").run()
    assert monitor.states == {"watch": "succeeded", "watch-check": "succeeded"}, monitor.logs["watch-check"].stdout


def _e2e(tmp_path: Path, answer: str | None = "true", **params) -> LocalRun:
    _, specs = _specs(E2E)
    with ApprovalServer() as server:
        if answer is not None:
            server.config_maps[f"mlp-approval-{RUN_ID}-release-approval"] = {"approved": answer, "reviewer": "lee"}
        return LocalRun(*specs["airflow_e2e.yaml"][:1], tmp_path, params=params, platform=specs["airflow_e2e.yaml"][1],
                        secrets={"deploy_token": "t0ken"},
                        env={"MLP_K8S_API": server.url, "MLP_POLL_SECONDS": "0.05"}).run()


def test_a_passing_gate_and_an_approval_let_the_deploy_run(tmp_path):
    run = _e2e(tmp_path)
    assert set(run.states.values()) == {"succeeded"}, run.states
    assert run.output_parameters[("release", "holds")] == "true"
    assert run.output_parameters[("extra-report-when", "holds")] == "true"
    assert run.outputs[("deploy", "endpoint")].read_text() == "model trained on 2 rows\n"
    assert run.outputs[("extra-report", "note")].read_text().startswith("hello, {")


def test_a_failing_gate_skips_what_follows(tmp_path):
    run = _e2e(tmp_path, quality=0.5)
    assert run.output_parameters[("release", "holds")] == "false"
    assert run.states["release"] == "succeeded"
    assert run.states["release-approval"] == "not-triggered"
    assert run.states["deploy"] == "skipped"
    assert run.states["extra-report"] == "not-triggered"  # score 0.5 is not > 0.5
    assert "FAILS: evaluate.report.score >= param.min_score" in run.logs["release"].stdout.decode()


def test_a_rejected_approval_skips_the_deploy(tmp_path):
    run = _e2e(tmp_path, answer="false")
    assert run.states["release-approval"] == "failed"
    assert run.states["deploy"] == "skipped"
    assert "rejected by lee" in run.logs["release-approval"].stderr.decode()


def test_a_false_when_skips_its_step_only(tmp_path):
    run = _e2e(tmp_path, extra=False)
    assert run.states["extra-report"] == "not-triggered"
    assert run.states["deploy"] == "succeeded"


def test_a_monitor_run_fails_on_a_breach(tmp_path):
    _, specs = _specs(E2E)
    data = tmp_path / "data.csv"
    data.write_text("x,y\n1,2\n", encoding="utf-8")
    spec = specs["airflow_e2e-drift.yaml"][0]
    assert spec["root"]["inputDefinitions"]["parameters"]["reference_uri"]["parameterType"] == "STRING"
    calm = LocalRun(spec, tmp_path / "calm", params={"reference_uri": str(data), "quality": 0.1}).run()
    assert calm.states == {"import-reference": "succeeded", "drift": "succeeded", "drift-check": "succeeded"}
    breach = LocalRun(spec, tmp_path / "breach", params={"reference_uri": str(data)}).run()
    assert breach.states["drift-check"] == "failed"
    assert "FAILS: drift.report.psi < 0.5" in breach.logs["drift-check"].stdout.decode()


def test_an_approval_times_out(tmp_path):
    with ApprovalServer() as server:
        completed = subprocess.run(
            [sys.executable, "-c", program_source("wait_for_approval")], capture_output=True, text=True, timeout=60,
            env={"PATH": os.environ["PATH"], "MLP_RUN_ID": RUN_ID, "MLP_K8S_API": server.url,
                 "MLP_POLL_SECONDS": "0.05", "MLP_APPROVAL": json.dumps(
                     {"gate": "g", "key": "g-approval", "pipeline": "p", "reviewers": [], "timeout": 1})})
    assert completed.returncode == 1
    assert "not approved within 1 seconds" in completed.stderr
    assert server.paths and all(r.endswith(f"/configmaps/mlp-approval-{RUN_ID}-g-approval") for r in server.paths)


def test_a_step_that_does_not_write_its_output_fails(tmp_path):
    text = """
pipeline lazy {
  owner = "a@b.example"
  step make {
    image = "python:3.12-slim@sha256:cb4ce0eca1043b8d528dc75e658ef840ebfdc3fa73db28d5172fdbaa2969de8d"
    run   = "echo forgot to write"
    out data: Dataset   # mlp: ignore[unused-output]
  }
}
"""
    path = tmp_path / "lazy.mlp"
    path.write_text(text, encoding="utf-8")
    outcome = compile_result(load_program_text(path), "kubeflow", LintConfig())
    assert outcome.ok, outcome.diagnostics
    run = LocalRun(documents(outcome.files[0].content)[0], tmp_path / "run").run()
    assert run.states == {"make": "failed"}
    assert "make did not write its output data" in run.logs["make"].stderr.decode()


def load_program_text(path: Path):
    from mlplang.api import load_text

    return load_text(path.read_text(encoding="utf-8"), path.name, real_path=path)


# ---- what Kubeflow cannot express -------------------------------------------------------------------


def _compile(path: Path, **options):
    return compile_result(load_program(path), "kubeflow", LintConfig(), overrides=options)


def test_an_approval_is_an_error_without_the_option():
    outcome = _compile(ROOT / "examples" / "fraud_detection.mlp")
    assert not outcome.ok and outcome.files == []
    [error] = [d for d in outcome.diagnostics if d.is_error]
    approval = load_program(ROOT / "examples" / "fraud_detection.mlp").pipelines[0].gate("release").approval
    assert error.code == "MLP501" and error.span == approval.span
    assert "approval" in error.help and "waive" in error.help and "suspend" in error.help


def test_waive_drops_the_approval_with_a_warning():
    outcome = _compile(ROOT / "examples" / "fraud_detection.mlp", approval="waive")
    assert outcome.ok
    warnings = [d for d in outcome.diagnostics if d.code == "MLP502" and "approval" in d.message]
    assert len(warnings) == 1 and "dropped" in warnings[0].message
    spec = documents(outcome.files[0].content)[0]
    tasks = spec["root"]["dag"]["tasks"]
    assert "release-approval" not in tasks
    assert tasks["deploy"]["triggerPolicy"]["condition"] == "inputs.parameter_values['pipelinechannel--release-holds'] == 'true'"


def test_suspend_waits_in_an_uncached_task():
    outcome = _compile(ROOT / "examples" / "fraud_detection.mlp", approval="suspend")
    assert outcome.ok and not [d for d in outcome.diagnostics if "approval" in d.message]
    tasks = documents(outcome.files[0].content)[0]["root"]["dag"]["tasks"]
    assert tasks["release-approval"]["cachingOptions"] == {}
    assert tasks["release-approval"]["dependentTasks"] == ["release"]
    assert "release-approval" in tasks["deploy"]["dependentTasks"]
    assert tasks["release-approval"]["inputs"]["parameters"]["run_id"] == {
        "runtimeValue": {"constant": "{{$.pipeline_job_uuid}}"}}


def test_retrain_on_breach_is_reported():
    outcome = _compile(ROOT / "examples" / "continuous_training.mlp")
    [warning] = [d for d in outcome.diagnostics if d.code == "MLP502"]
    assert "feature_drift" in warning.message and "retrain" in warning.label


def _unit(text: str, name: str = "t.mlp") -> CompileUnit:
    from mlplang.api import load_text

    result = load_text(text, name)
    assert result.ok, result.diagnostics
    pipeline = result.pipelines[0]
    graph = result.graph(pipeline)
    return CompileUnit(pipeline, graph, Lineage(pipeline, graph), name)


IMAGE = "python:3.12-slim@sha256:cb4ce0eca1043b8d528dc75e658ef840ebfdc3fa73db28d5172fdbaa2969de8d"


@pytest.mark.parametrize(("body", "expected"), [
    (f'step s {{ image = "{IMAGE}" \n run = "true" \n resources {{ gpu = 1, gpu_type = "a b" }} }}', "gpu_type"),
    ('step s { image = "Bad Image" \n run = "true" }', "not a valid reference"),
    ('step s { image = "x@sha256:$.inputs.parameters[\'p\']" \n run = "true" }', "not a valid reference"),
    ('param big: int = 9007199254740993\n step s { image = "' + IMAGE + '" \n run = "echo ${param.big}" }',
     "too large"),
])
def test_unsupported_values_are_errors(body, expected):
    unit = _unit(f'pipeline p {{\n owner = "a@b.example"\n {body}\n}}\n')
    result = KubeflowBackend().compile(unit)
    assert result.files == []
    assert any(d.code == "MLP501" and expected in d.message for d in result.diagnostics), result.diagnostics


def test_names_are_kubernetes_names_and_unique():
    unit = _unit(f"""pipeline Odd_Names {{
  owner = "a@b.example"
  step a_b {{ image = "{IMAGE}" \n run = "true" }}
  step a__b {{ image = "{IMAGE}" \n run = "true" \n after a_b }}
  step A_b {{ image = "{IMAGE}" \n run = "true" \n after a__b }}
}}
""")
    spec = documents(KubeflowBackend().compile(unit).files[0].content)[0]
    tasks = spec["root"]["dag"]["tasks"]
    assert {k: t["taskInfo"]["name"] for k, t in tasks.items()} == {"a-b": "a_b", "a-b-2": "a__b", "a-b-3": "A_b"}
    assert tasks["a-b-3"]["dependentTasks"] == ["a-b-2"]
    assert spec["pipelineInfo"]["name"] == "odd-names" and spec["pipelineInfo"]["displayName"] == "Odd_Names"
    assert set(spec["components"]) == {"comp-a-b", "comp-a-b-2", "comp-a-b-3"}


def test_names_helpers():
    assert k8s_name("Smoke_Test") == "smoke-test" and k8s_name("__") == "task"
    names = Names()
    assert [names.claim(n) for n in ("x_1", "x-1", "X_1")] == ["x-1", "x-1-2", "x-1-3"]
    assert names.claim("x_1") == "x-1" and len(names.claim("y" * 80)) == 63


def test_resources_as_kfp_writes_them():
    assert [cpu_quantity(c) for c in (8, 0.5, 3.5, 0.0001)] == ["8", "500m", "3500m", "1m"]
    assert [memory_quantity(m) for m in (32 * 2**30, 4 * 10**9, 1500)] == ["32Gi", "4G", "1500"]


def test_options_are_validated():
    with pytest.raises(ValueError):
        KubeflowOptions.model_validate({"approval": "skip"})
    with pytest.raises(ValueError):
        KubeflowOptions.model_validate({"checker-image": "not an image"})
    with pytest.raises(ValueError):
        KubeflowOptions.model_validate({"pipeline-root": "s3://bucket/{{workflow.name}}"})
    options = KubeflowOptions.model_validate({"approval": "waive", "pipeline-root": "s3://b/p",
                                              "gpu-node-label": "example.com/gpu"})
    unit = _unit(f'pipeline p {{ owner = "a@b.example"\n step s {{ image = "{IMAGE}" \n run = "true" \n'
                 ' resources { gpu = 2, gpu_type = "t4" } } }\n')
    spec = documents(KubeflowBackend(options).compile(unit).files[0].content)
    assert spec[0]["defaultPipelineRoot"] == "s3://b/p"
    assert spec[1]["platforms"]["kubernetes"]["deploymentSpec"]["executors"]["exec-s"]["nodeSelector"] == {
        "labels": {"example.com/gpu": "t4"}}


# ---- the escape ----------------------------------------------------------------------------------------


@given(st.text(alphabet=st.sampled_from(["{", "}", "%", MARK, "$", " ", "a", "\n", "'"]), max_size=40))
def test_escape_round_trips_and_leaves_no_substitution(text):
    for argument in (False, True):
        escaped = escape(text, argument=argument)
        assert unescape(escaped) == text
        assert "{{" not in escaped
        if argument:
            assert not escaped.lstrip().startswith("{" + '"')


def test_escape_leaves_ordinary_text_alone():
    for text in ('python train.py --data "${MLP_IN_data}"', "printf '%s' \"$X\"", "a } b { c", "x {% raw %}", "x {"):
        assert escape(text, argument=True) == text
    assert escape("{x}") == "{x}" and escape("{x}", argument=True) == "{" + MARK + "x}"


@pytest.mark.parametrize("text", ["{{$}}", "{{workflow.name}}", '{"IfPresent": {"InputName": "x"}}',
                                  "{" + MARK + "{", "{%", "tail {"])
def test_prelude_unescapes_exactly(text, tmp_path):
    completed = subprocess.run(["bash", "-c", PRELUDE, "t", escape("printf '%s' \"$V\"", argument=True),
                                f"V={escape(text)}", f"e={escape(text)}", f"run={escape(text)}"],
                               capture_output=True, cwd=tmp_path, timeout=30)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.decode() == text


def test_mlp_compile_with_an_option(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from mlplang.cli import main

    monkeypatch.chdir(ROOT)
    out = tmp_path / "specs"
    refused = CliRunner().invoke(main, ["compile", "examples/fraud_detection.mlp", "-t", "kubeflow", "-o", str(out)])
    assert refused.exit_code == 1 and "MLP501" in refused.stderr and not out.exists()
    result = CliRunner().invoke(main, ["compile", "examples/fraud_detection.mlp", "-t", "kubeflow", "-o", str(out),
                                       "--option", "approval=suspend"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["fraud_detection-drift.yaml", "fraud_detection.yaml"]
    text = (out / "fraud_detection.yaml").read_text(encoding="utf-8")
    assert text.startswith("# generated by mlp from examples/fraud_detection.mlp — do not edit\n")
    assert "MLP502" in result.stderr  # on_breach = retrain
