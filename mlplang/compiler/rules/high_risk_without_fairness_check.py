from __future__ import annotations

from collections.abc import Iterator

from mlplang.compiler import ir
from mlplang.compiler.rules._evidence import quoted
from mlplang.compiler.rules.base import Rule, RuleContext, Violation
from mlplang.diagnostics.model import Label, Severity


class HighRiskWithoutFairnessCheck(Rule):
    """
    ## What it does
    In a pipeline declared `risk = "high"`, flags a deploy step (a step with
    an `Endpoint` output) that no gate checking a fairness metric runs
    before: no `require` of a gate upstream of the step reads a metric whose
    key matches one of the `fairness-metrics` patterns of the configuration
    (default: `parity_gap`, `demographic_parity*`, `equalized_odds*`,
    `equal_opportunity*`, `disparate_impact*`; `*` and `?` are wildcards).
    Name your own in `[tool.mlp]`, e.g.
    `fairness-metrics = ["parity_gap", "max_group_fnr_gap"]`.

    A deploy with no gate at all is flagged too (as well as by `MLP201`).

    ## Why it matters
    A high-risk model that meets its accuracy bar can still treat groups of
    people differently (approve fewer loans in one age band, flag more
    transactions from one country). Regulators (EU AI Act Art. 10, ECOA,
    the UK FCA) expect the bias to be measured and bounded before release,
    on every release, not once.

    ## Example
    ```mlp
    gate release {
      require evaluate.report.auc >= 0.85
      approval { reviewers = ["acme/model-risk"] }
    }
    ```

    ## Use instead
    ```mlp
    gate release {
      require evaluate.report.auc >= 0.85
      require evaluate.report.parity_gap <= 0.05
      approval { reviewers = ["acme/model-risk"] }
    }
    ```
    """

    code = "MLP204"
    name = "high-risk-without-fairness-check"
    severity = Severity.ERROR
    summary = "A high-risk pipeline deploys without a fairness metric in its gate."

    def check(self, ctx: RuleContext) -> Iterator[Violation]:
        if ctx.pipeline.risk != "high":
            return
        fairness = ctx.config.fairness_metrics
        for step in ctx.lineage.deploy_steps():
            gates = ctx.lineage.gates_upstream(step.name)
            reads = {gate.name: ctx.lineage.gate_metrics(gate) for gate in gates}
            if any(ctx.config.is_fairness_metric(ref.key) for refs in reads.values() for ref in refs):
                continue
            example = next((p for p in fairness if not any(c in p for c in "*?[")), None)
            example = example or (fairness[0].replace("*", "").replace("?", "") if fairness else "parity_gap")
            if gates:
                gate = gates[-1]
                artifact = reads[gate.name][0].artifact_id if reads[gate.name] else "evaluate.report"
                help = f"require a fairness metric in gate `{gate.name}`, e.g. `require {artifact}.{example} <= 0.05`"
            else:
                help = (
                    f"add a gate with a fairness `require` (e.g. `require evaluate.report.{example} <= 0.05`) "
                    f"and `after <gate>` to `{step.name}`"
                )
            yield Violation(
                span=step.name_span,
                message=(
                    f"step `{step.name}` deploys in high-risk pipeline `{ctx.pipeline.name}` "
                    "without a fairness check in a gate before it"
                ),
                label="no fairness check before this deploy",
                labels=tuple(
                    Label(span=gate.name_span, message=self._reads(reads[gate.name])) for gate in gates
                ),
                notes=(
                    'the pipeline declares `risk = "high"`',
                    f"fairness metrics (`fairness-metrics`): {quoted(fairness) if fairness else 'none configured'}",
                ),
                help=help,
            )

    @staticmethod
    def _reads(refs: list[ir.MetricRef]) -> str:
        keys = list(dict.fromkeys(f"{ref.artifact_id}.{ref.key}" for ref in refs))
        return f"reads {quoted(keys)}, no fairness metric" if keys else "reads no metrics"
