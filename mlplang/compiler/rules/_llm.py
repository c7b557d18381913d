"""How MLP216 and MLP217 recognise an LLM deploy, its evaluation and its red-team step.

- An *LLM deploy* is a deploy step (a step with an `Endpoint` output) that
  consumes a `Model<llm>` (as `Lineage.models_consumed` finds them: directly,
  or else through its inputs' lineage), or such that it or a task upstream of
  it in the task graph has an input that is a `Prompt` or an `Index`.
- A *red-team step* is a step whose name, template name or description
  contains one of the configured `red-team-markers` (case-insensitive).
  A *red-team metric* is a metric a gate reads whose key contains a marker,
  or that a red-team step produces.
- An *evaluation* is a metric a gate reads that is not a red-team metric,
  produced by a step that consumes one of the deployed models, an artifact
  derived from one of them, or a `Prompt`.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlplang.compiler import ir
from mlplang.compiler.rules._evidence import local_span, quoted
from mlplang.compiler.rules.base import RuleContext
from mlplang.diagnostics.model import Label

LLM_INPUT_KINDS = ("Prompt", "Index")


@dataclass(frozen=True)
class LlmDeploy:
    step: ir.Step
    models: tuple[str, ...]
    """Every model the deploy consumes (`Lineage.models_consumed`)."""
    reason: str
    """Why it is an LLM deploy, e.g. "`package.assistant` is a `Model<llm>`"."""
    label: Label | None
    gates: tuple[ir.Gate, ...]


def _kind(ctx: RuleContext, item: ir.Input) -> str:
    artifact_type = ctx.lineage.artifact_type(item.ref.artifact_id)
    return artifact_type.kind if artifact_type is not None else item.type.kind


def _llm_reason(ctx: RuleContext, step: ir.Step, models: list[str]) -> tuple[str, Label | None] | None:
    for model in models:
        artifact_type = ctx.lineage.artifact_type(model)
        if artifact_type is not None and (artifact_type.flavor or "").lower() == "llm":
            item = next((i for i in step.inputs if i.ref.artifact_id == model), None)
            label = Label(span=local_span(item.span, step.name_span), message=f"`{artifact_type}`") if item else None
            return f"`{model}` is a `{artifact_type}`", label
    tasks = {t.name: t for t in (*ctx.pipeline.steps, *ctx.pipeline.monitors)}
    for name in [step.name, *ctx.lineage.upstream(step.name)]:
        task = tasks.get(name)
        if task is None:
            continue
        for item in task.inputs:
            kind = _kind(ctx, item)
            if kind in LLM_INPUT_KINDS:
                label = None
                if task is step:
                    article = "an" if kind == "Index" else "a"
                    label = Label(span=local_span(item.span, step.name_span), message=f"{article} `{kind}`")
                who = "it" if task is step else f"step `{task.name}` upstream"
                return f"{who} consumes the {kind} `{item.ref.artifact_id}`", label
    return None


def llm_deploys(ctx: RuleContext) -> list[LlmDeploy]:
    """The pipeline's LLM deploys. Both rules ask, and finding out walks every task
    upstream of each deploy: computed once per lint (the configuration plays no part)."""
    return list(ctx.shared(_all_llm_deploys))


def _all_llm_deploys(ctx: RuleContext) -> tuple[LlmDeploy, ...]:
    return tuple(_find_llm_deploys(ctx))


def _find_llm_deploys(ctx: RuleContext) -> list[LlmDeploy]:
    found = []
    for step in ctx.lineage.deploy_steps():
        models = ctx.lineage.models_consumed(step)
        recognised = _llm_reason(ctx, step, models)
        if recognised is None:
            continue
        reason, label = recognised
        found.append(LlmDeploy(step, tuple(models), reason, label, tuple(ctx.lineage.gates_upstream(step.name))))
    return found


def marker_in(text: str | None, markers: tuple[str, ...]) -> str | None:
    """The first marker `text` contains, ignoring case."""
    if not text:
        return None
    lowered = text.lower()
    return next((m for m in markers if m.lower() in lowered), None)


def red_team_marker(step: ir.Step, markers: tuple[str, ...]) -> str | None:
    """The marker that makes `step` a red-team step (in its name, template or description)."""
    template = step.template.template if step.template is not None else None
    for text in (step.name, template, step.description):
        marker = marker_in(text, markers)
        if marker is not None:
            return marker
    return None


def evaluation_subjects(ctx: RuleContext, deploy: LlmDeploy) -> set[str]:
    """The deployed models and everything derived from them."""
    subjects = set(deploy.models)
    for model in deploy.models:
        subjects |= set(ctx.graph.derived_from(model))
    return subjects


def not_an_evaluation(ctx: RuleContext, ref: ir.MetricRef, deploy: LlmDeploy, subjects: set[str]) -> str | None:
    """Why the metric `ref` that a gate reads is not an evaluation of `deploy`
    (None when it is one); `subjects` is `evaluation_subjects(ctx, deploy)`."""
    markers = ctx.config.red_team_markers
    step = ctx.pipeline.step(ref.step)
    if step is None:
        return f"`{ref.artifact_id}` is not produced by a step"
    if red_team_marker(step, markers):
        return f"`{ref.artifact_id}` comes from red-team step `{step.name}`"
    if marker_in(ref.key, markers):
        return f"`{ref.artifact_id}.{ref.key}` is a red-team metric"
    if any(i.ref.artifact_id in subjects or _kind(ctx, i) == "Prompt" for i in step.inputs):
        return None
    pronoun = "it" if len(deploy.models) == 1 else "them"
    models = f"{quoted(deploy.models)} (or anything derived from {pronoun})" if deploy.models else "a deployed model"
    return f"`{ref.artifact_id}`: step `{step.name}` consumes neither {models} nor a `Prompt`"
