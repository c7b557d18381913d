from __future__ import annotations

from collections.abc import Iterator

from mlplang.compiler.rules.base import Rule, RuleContext, Violation
from mlplang.diagnostics.model import Label, Severity

APPROVAL = '`approval { reviewers = ["team/risk-officers"] }`'


class HighRiskWithoutApproval(Rule):
    """
    ## What it does
    In a pipeline declared `risk = "high"`, flags a deploy step (a step with
    an `Endpoint` output) that no gate with an `approval` block runs before.
    Metric checks alone do not count: a person must sign off.

    A deploy with no gate at all is flagged too (as well as by `MLP201`):
    adding a gate with only `require`s would not fix this rule.

    ## Why it matters
    High-risk systems (credit, hiring, fraud, health; Annex III of the EU AI
    Act) must be under effective human oversight, and model risk management
    (SR 11-7) expects an independent review before a model is used. An
    `approval` block makes the deploy wait for a named reviewer, and the
    backends record who approved which run.

    ## Example
    ```mlp
    pipeline credit_scoring {
      owner = "risk-ml@acme.example"
      risk  = "high"

      gate release {
        require evaluate.report.auc >= 0.85
        require evaluate.report.parity_gap <= 0.05
      }
    }
    ```

    ## Use instead
    ```mlp
    pipeline credit_scoring {
      owner = "risk-ml@acme.example"
      risk  = "high"

      gate release {
        require evaluate.report.auc >= 0.85
        require evaluate.report.parity_gap <= 0.05
        approval { reviewers = ["acme/model-risk"], timeout = 48h }
      }
    }
    ```
    """

    code = "MLP203"
    name = "high-risk-without-approval"
    severity = Severity.ERROR
    summary = "A high-risk pipeline deploys without a human approval."

    def check(self, ctx: RuleContext) -> Iterator[Violation]:
        if ctx.pipeline.risk != "high":
            return
        for step in ctx.lineage.deploy_steps():
            gates = ctx.lineage.gates_upstream(step.name)
            if any(gate.approval is not None for gate in gates):
                continue
            upstream = {g.name for g in gates}
            elsewhere = [g for g in ctx.pipeline.gates if g.approval is not None and g.name not in upstream]
            if elsewhere:
                help = f"add `after {elsewhere[0].name}` to `{step.name}`, or add {APPROVAL} to a gate before it"
            elif gates:
                help = f"add {APPROVAL} to gate `{gates[-1].name}`"
            else:
                help = f"add a gate with {APPROVAL} and `after <gate>` to `{step.name}`"
            yield Violation(
                span=step.name_span,
                message=(
                    f"step `{step.name}` deploys in high-risk pipeline `{ctx.pipeline.name}` "
                    "without a human approval before it"
                ),
                label="no approval before this deploy",
                labels=tuple(Label(span=g.name_span, message="gate without `approval`") for g in gates)
                + tuple(
                    Label(span=g.name_span, message=f"has an `approval`, but `{step.name}` does not run after it")
                    for g in elsewhere
                ),
                notes=('the pipeline declares `risk = "high"`',),
                help=help,
            )
