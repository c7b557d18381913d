from __future__ import annotations

from collections.abc import Iterator

from mlplang.compiler.rules._evidence import gate_reads, quoted
from mlplang.compiler.rules.base import Rule, RuleContext, Violation
from mlplang.diagnostics.model import Label, Severity


class GateIgnoresDeployedModel(Rule):
    """
    ## What it does
    Flags a deploy step (a step with an `Endpoint` output) whose gates do not
    check the model it deploys: no `require` of any gate upstream of the
    step reads metrics *about* that model. Metrics about model M are a
    `Metrics` output of the step that produced M, or of a step that consumes
    M or anything derived from M. The models a step deploys are the `Model`
    artifacts it consumes (or, if it consumes none directly, those its
    inputs derive from). A gate with only an `approval` checks no model.

    It is enough that one gate checks one of the deployed models. A deploy
    with no gate at all is `MLP201`, not this rule.

    ## Why it matters
    A gate that reads the metrics of another model (last week's champion, a
    baseline, a different branch of the pipeline) passes or fails
    independently of what is actually shipped. The deploy looks gated, but
    the model that reaches production was never held to the bar.

    ## Example
    ```mlp
    step evaluate_baseline {
      run = "python evaluate.py --model ${in.model} --out ${out.report}"
      in  model:  Model = baseline
      out report: Metrics
    }

    gate release {
      require evaluate_baseline.report.auc >= 0.9
    }

    step deploy {
      run = "python deploy.py --model ${in.model} --out ${out.endpoint}"
      in  model:    Model = train.model
      out endpoint: Endpoint
      after release
    }
    ```

    ## Use instead
    ```mlp
    step evaluate {
      run = "python evaluate.py --model ${in.model} --out ${out.report}"
      in  model:  Model = train.model
      out report: Metrics
    }

    gate release {
      require evaluate.report.auc >= 0.9
    }

    step deploy {
      run = "python deploy.py --model ${in.model} --out ${out.endpoint}"
      in  model:    Model = train.model
      out endpoint: Endpoint
      after release
    }
    ```
    """

    code = "MLP202"
    name = "gate-ignores-deployed-model"
    severity = Severity.ERROR
    summary = "No gate before a deploy checks metrics computed from the model it deploys."

    def check(self, ctx: RuleContext) -> Iterator[Violation]:
        for step in ctx.lineage.deploy_steps():
            gates = ctx.lineage.gates_upstream(step.name)
            models = ctx.lineage.models_consumed(step)
            if not gates or not models:
                continue  # no gate: MLP201; no model: nothing to check
            about = set().union(*(ctx.lineage.metrics_about(model) for model in models))
            if any(ref.artifact_id in about for gate in gates for ref in ctx.lineage.gate_metrics(gate)):
                continue
            noun, pronoun = ("model", "it") if len(models) == 1 else ("models", "them")
            evidence = sorted(about)
            if evidence:
                help = (
                    f"require metrics computed from the deployed {noun} in gate `{gates[-1].name}`, "
                    f"e.g. from {quoted(evidence)}"
                )
            else:
                help = (
                    f"add a step that evaluates {quoted(models)} (consumes {pronoun} and writes `Metrics`) "
                    f"and require its metrics in gate `{gates[-1].name}`"
                )
            reads = "; ".join(f"gate `{gate.name}` {gate_reads(ctx, gate)}" for gate in gates)
            yield Violation(
                span=step.name_span,
                message=(
                    f"step `{step.name}` deploys {noun} {quoted(models)}, but no gate before it checks "
                    f"metrics about {pronoun}: {reads}"
                ),
                label="deploys an unchecked model",
                labels=tuple(Label(span=gate.name_span, message=gate_reads(ctx, gate)) for gate in gates),
                help=help,
            )

