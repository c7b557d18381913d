"""The benchmark generator makes valid, deterministic programs of exactly N steps."""

from __future__ import annotations

import importlib.util
import math
import re
from pathlib import Path

import pytest

from mlplang.dsl import ast
from mlplang.dsl.parser import parse_text

_GENERATE = Path(__file__).resolve().parents[1] / "bench" / "generate.py"
_spec = importlib.util.spec_from_file_location("bench_generate", _GENERATE)
bench_generate = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_generate)
generate = bench_generate.generate

SIZES = [4, 5, 12, 37, 100, 250]
SHAPES = ["chain", "wide"]


def _pipeline(text: str) -> ast.PipelineDecl:
    module, diagnostics = parse_text(text, "bench.mlp")
    assert diagnostics == []
    (pipeline,) = module.items
    assert isinstance(pipeline, ast.PipelineDecl)
    return pipeline


def _steps(pipeline: ast.PipelineDecl) -> list[ast.StepDecl]:
    return [member for member in pipeline.members if isinstance(member, ast.StepDecl)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("n", SIZES)
def test_generated_program_parses_without_diagnostics(n: int, shape: str) -> None:
    _pipeline(generate(n, shape))


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("n", SIZES)
def test_step_count_is_n(n: int, shape: str) -> None:
    text = generate(n, shape)
    assert len(_steps(_pipeline(text))) == n
    assert len(re.findall(r"^\s*step \w+ \{", text, flags=re.MULTILINE)) == n


@pytest.mark.parametrize("shape", SHAPES)
def test_smallest_size_parses(shape: str) -> None:
    n = bench_generate.MIN_STEPS[shape]
    assert len(_steps(_pipeline(generate(n, shape)))) == n


@pytest.mark.parametrize("shape", SHAPES)
def test_below_smallest_size_is_refused(shape: str) -> None:
    with pytest.raises(ValueError, match="at least"):
        generate(bench_generate.MIN_STEPS[shape] - 1, shape)


def test_unknown_shape_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown shape"):
        generate(10, "star")


@pytest.mark.parametrize("shape", SHAPES)
def test_generator_is_deterministic(shape: str) -> None:
    first = generate(60, shape)
    assert generate(60, shape) == first
    assert generate(61, shape) != first


def test_shapes_differ() -> None:
    assert generate(30, "chain") != generate(30, "wide")


def test_cli_writes_the_same_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "wide.mlp"
    assert bench_generate.main(["25", "--shape", "wide", "-o", str(target)]) == 0
    assert target.read_text(encoding="utf-8") == generate(25, "wide")
    assert bench_generate.main(["25", "--shape", "chain"]) == 0
    assert capsys.readouterr().out == generate(25, "chain")


def _bindings(step: ast.StepDecl) -> list[str]:
    """The dotted references the step's inputs are bound to."""
    return [item.binding.dotted for item in step.body if isinstance(item, ast.InputDecl)]


def _outputs(step: ast.StepDecl) -> list[str]:
    return [f"{step.name.value}.{item.name.value}" for item in step.body if isinstance(item, ast.OutputDecl)]


def test_chain_step_consumes_every_output_of_the_previous_step() -> None:
    steps = _steps(_pipeline(generate(40, "chain")))
    assert _bindings(steps[0]) == ["raw"]
    for previous, step in zip(steps[:-2], steps[1:-1]):
        assert set(_outputs(previous)) <= set(_bindings(step)), step.name.value
    # The metrics of `validate` go to the gate, its model to `deploy`.
    assert [s.name.value for s in steps[-2:]] == ["validate", "deploy"]
    assert _bindings(steps[-1]) == ["validate.model"]


@pytest.mark.parametrize("n", [4, 12, 102, 1000])
def test_wide_fans_out_from_the_source_and_back_in(n: int) -> None:
    steps = {step.name.value: step for step in _steps(_pipeline(generate(n, "wide")))}
    shards = [name for name in steps if name.startswith("shard_")]
    groups = [name for name in steps if name.startswith("group_")]
    assert len(groups) == max(1, math.isqrt(n - 2))
    assert len(shards) == n - 2 - len(groups) >= len(groups)
    assert all(_bindings(steps[shard]) == ["raw"] for shard in shards)
    group_inputs = [ref for group in groups for ref in _bindings(steps[group])]
    # Every shard model is merged exactly once, with a bounded fan-in.
    assert sorted(group_inputs) == sorted(f"{shard}.model" for shard in shards)
    assert max(len(_bindings(steps[group])) for group in groups) <= math.ceil(len(shards) / len(groups))
    assert _bindings(steps["ensemble"]) == [f"{group}.model" for group in groups] + ["raw"]
    assert _bindings(steps["deploy"]) == ["ensemble.model"]


@pytest.mark.parametrize("shape", SHAPES)
def test_every_output_is_consumed(shape: str) -> None:
    text = generate(50, shape)
    steps = _steps(_pipeline(text))
    consumed = {ref for step in steps for ref in _bindings(step)}
    produced = [output for step in steps for output in _outputs(step)]
    gate_reads = re.findall(r"require (\w+\.\w+)\.\w+", text)
    unconsumed = [o for o in produced if o not in consumed and o not in gate_reads]
    assert unconsumed == ["deploy.endpoint"]  # watched by the monitor
    assert "watch    = deploy.endpoint" in text
