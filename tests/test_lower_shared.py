"""The lowerer shares immutable IR nodes between steps and reuses what it
worked out before (discovered outputs, one body scope per kind). These tests
check that what it shares is never wrong for the step that gets it."""

from __future__ import annotations

import mlplang
from mlplang.compiler import ir
from mlplang.compiler.graph import PipelineGraph

IMAGE = "ghcr.io/acme/w:1@sha256:" + "a" * 64

TEMPLATED = f"""
template fit(data: Dataset, epochs: int = 1) {{
  image = "{IMAGE}"
  run   = "fit --data ${{in.data}} --epochs ${{param.epochs}} --model ${{out.model}}"
  out model: Model
}}

pipeline p {{
  param epochs: int = 3
  source raw: Dataset {{ uri = "s3://b/raw/" }}

  step a {{
    image = "{IMAGE}"
    run   = "fit --data ${{in.data}} --epochs ${{param.epochs}} --model ${{out.model}}"
    in  data: Dataset = raw
    out model: Model
  }}
  step b = fit(data = raw, epochs = 5)
  step c = fit(data = raw, epochs = 7)
  step d = fit(data = raw)
  step e = fit(data = raw, epochs = param.epochs)
  step f {{
    image = "{IMAGE}"
    run   = "fit --data ${{in.data}} --epochs ${{param.epochs}} --model ${{out.model}}"
    in  data: Dataset = raw
    out model: Model {{ pii = ["email"] }}
  }}
}}
"""


def _pipeline(text: str) -> ir.Pipeline:
    result = mlplang.load_text(text, "t.mlp")
    assert result.ok, result.diagnostics
    (pipeline,) = result.pipelines
    return pipeline


def _parameter(pipeline: ir.Pipeline, step: str) -> ir.StepParameter:
    (parameter,) = pipeline.step(step).parameters
    return parameter


def test_each_step_reads_its_own_parameter_values() -> None:
    """`${param.epochs}` means the pipeline param in `a` and `f`, and each
    instance's own argument (or the template's default) in `b` to `e`."""
    pipeline = _pipeline(TEMPLATED)
    param_ref = _parameter(pipeline, "a").value
    assert isinstance(param_ref, ir.ParamRef) and param_ref.name == "epochs"
    assert _parameter(pipeline, "f") == _parameter(pipeline, "a")
    assert _parameter(pipeline, "b").value.value == 5
    assert _parameter(pipeline, "c").value.value == 7
    assert _parameter(pipeline, "d").value.value == 1
    assert isinstance(_parameter(pipeline, "e").value, ir.ParamRef)
    for name in "bcde":
        assert pipeline.step(name).template.arguments == (_parameter(pipeline, name),)


def test_shared_nodes_are_what_validation_builds() -> None:
    pipeline = _pipeline(TEMPLATED)
    assert ir.Pipeline.model_validate(pipeline.model_dump()) == pipeline
    texts = [s.text for s in pipeline.step("a").command.segments if isinstance(s, ir.Text)]
    assert texts == ["fit --data ", " --epochs ", " --model "]
    assert pipeline.step("a").command.source_text == (
        "fit --data ${in.data} --epochs ${param.epochs} --model ${out.model}")


def test_an_output_keeps_its_own_attributes_and_span() -> None:
    pipeline = _pipeline(TEMPLATED)
    assert pipeline.step("a").output("model").pii is None
    assert pipeline.step("f").output("model").pii == ("email",)
    # the instances' outputs come from the template's declaration
    b, c = pipeline.step("b").output("model"), pipeline.step("c").output("model")
    assert b == c and b.span.line == 5


def test_a_duplicate_output_is_reported_and_the_first_kept() -> None:
    text = f"""
pipeline p {{
  step a {{
    image = "{IMAGE}"
    run   = "x ${{out.m}}"
    out m: Model
    out m: Dataset {{ description = "second" }}
  }}
  step a {{
    image = "{IMAGE}"
    run   = "y ${{out.m}}"
    out m: Metrics
  }}
}}
"""
    result = mlplang.load_text(text, "t.mlp")
    codes = [d.code for d in result.diagnostics]
    assert codes.count("MLP102") >= 2  # the output, and the step, declared twice
    first, second = result.pipelines[0].steps
    assert [(o.name, o.type.kind) for o in first.outputs] == [("m", "Model")]
    assert [(o.name, o.type.kind) for o in second.outputs] == [("m", "Metrics")]
    assert second.output("m").span.line == 12  # its own declaration, not the first step's


def test_find_cycle_answers_the_same_with_and_without_a_cycle() -> None:
    assert PipelineGraph(_pipeline(TEMPLATED)).find_cycle() is None
    text = f"""
pipeline p {{
  step a {{
    image = "{IMAGE}"
    run   = "x ${{in.d}} ${{out.d}}"
    in  d: Dataset = b.d
    out d: Dataset
  }}
  step b {{
    image = "{IMAGE}"
    run   = "x ${{in.d}} ${{out.d}}"
    in  d: Dataset = a.d
    out d: Dataset
  }}
  step c {{
    image = "{IMAGE}"
    run   = "x"
    after b
  }}
}}
"""
    result = mlplang.load_text(text, "t.mlp")
    assert result.graph("p").find_cycle() == ["a", "b", "a"]
    assert any("dependency cycle" in d.message for d in result.diagnostics)
