"""What `Lineage` and the rule helpers remember for speed (the deploy steps, the
gates and tasks upstream of a task, the outputs of a kind, artifact types, the
LLM deploys, parsed image references) must answer exactly what computing it
afresh from the IR answers, every time it is asked, and must not leak from one
pipeline into another."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlplang import api
from mlplang.compiler import ir
from mlplang.compiler.images import parse_image
from mlplang.compiler.lineage import Lineage
from mlplang.compiler.rules import RuleContext
from mlplang.compiler.rules._llm import _all_llm_deploys, llm_deploys
from mlplang.config import LintConfig

ROOT = Path(__file__).resolve().parent.parent
PROGRAMS = sorted([*ROOT.glob("examples/*.mlp"), *ROOT.glob("tests/rules/MLP2*/*.mlp")])


def _loaded(path: Path):
    result = api.load(path)
    if not result.ok:
        pytest.skip("the rules only run on files without errors")
    return result


def _fresh_artifact_type(pipeline: ir.Pipeline, artifact_id: str) -> ir.ArtifactType | None:
    name, _, output = artifact_id.partition(".")
    task = next((t for t in (*pipeline.steps, *pipeline.monitors) if t.name == name), None)
    if task is None:
        source = pipeline.source(name)
        return source.type if source is not None else None
    found = task.output(output) if output else None
    return found.type if found is not None else None


@pytest.mark.parametrize("path", PROGRAMS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_remembered_answers_match_fresh_ones(path: Path) -> None:
    result = _loaded(path)
    for pipeline in result.pipelines:
        graph = result.graph(pipeline)
        lineage = Lineage(pipeline, graph)
        tasks = [*pipeline.steps, *pipeline.monitors]
        deploys = [s for s in pipeline.steps if any(o.type.kind == "Endpoint" for o in s.outputs)]
        for _ in range(2):  # the second time from memory
            assert lineage.deploy_steps() == deploys
            for kind in ir.ARTIFACT_KINDS:
                assert lineage.outputs_of_kind(kind) == [(t, o) for t in tasks for o in t.outputs
                                                         if o.type.kind == kind]
            for name in graph.nodes():
                upstream = graph.upstream(name)
                assert lineage.upstream(name) == upstream
                assert lineage.gates_upstream(name) == [g for g in pipeline.gates if g.name in upstream]
            for artifact in [*graph.artifact_ids(), "nowhere.x", "nowhere"]:
                assert lineage.artifact_type(artifact) == _fresh_artifact_type(pipeline, artifact)


def test_answers_are_copies_a_caller_may_change() -> None:
    result = _loaded(ROOT / "examples" / "fraud_detection.mlp")
    pipeline = result.pipelines[0]
    lineage = Lineage(pipeline, result.graph(pipeline))
    deploy = lineage.deploy_steps()[0]
    for answer in (lineage.deploy_steps, lambda: lineage.outputs_of_kind("Model"),
                   lambda: lineage.upstream(deploy.name), lambda: lineage.gates_upstream(deploy.name)):
        first = answer()
        assert first
        first.clear()
        assert answer(), "clearing a returned list must not change the next answer"


def test_llm_deploys_are_remembered_per_lint_context() -> None:
    llm = _loaded(ROOT / "examples" / "rag_assistant.mlp")
    plain = _loaded(ROOT / "examples" / "fraud_detection.mlp")
    contexts = []
    for result in (llm, plain):
        pipeline = result.pipelines[0]
        graph = result.graph(pipeline)
        contexts.append(RuleContext(pipeline, graph, Lineage(pipeline, graph), LintConfig()))
    llm_ctx, plain_ctx = contexts
    found = llm_deploys(llm_ctx)
    assert [d.step.name for d in found]
    assert llm_deploys(plain_ctx) == []
    assert llm_deploys(llm_ctx) == found
    assert llm_ctx.shared(_all_llm_deploys) is llm_ctx.shared(_all_llm_deploys)  # computed once
    fresh = RuleContext(llm_ctx.pipeline, llm_ctx.graph, llm_ctx.lineage, LintConfig())
    assert fresh.shared(_all_llm_deploys) is not llm_ctx.shared(_all_llm_deploys)  # per context
    assert list(fresh.shared(_all_llm_deploys)) == found
    assert llm_ctx == fresh  # what is remembered plays no part in equality


@pytest.mark.parametrize("text", ["python:3.12", "ghcr.io/acme/etl:1.0@sha256:abc", "", "bad image", "x@"])
def test_parse_image_remembers_the_same_answer(text: str) -> None:
    assert parse_image(text) == parse_image.__wrapped__(text)
    assert parse_image(text) is parse_image(text)
