from __future__ import annotations

from collections.abc import Iterator

from mlplang.compiler.rules.base import Rule, RuleContext, Violation
from mlplang.diagnostics.model import Severity


class DeployWithoutGate(Rule):
    """
    ## What it does
    Flags a deploy step (a step with an `Endpoint` output) that no gate runs
    before: no gate is upstream of it in the dependency graph.

    ## Why it matters
    A deploy that does not wait for a gate ships whatever the last training
    run produced, whether or not it met the bar. The gate is where the
    pipeline proves the model was evaluated (and approved) before release.

    ## Example
    ```mlp
    step deploy {
      run = "python deploy.py --model ${in.model}"
      in  model: Model = train.model
      out endpoint: Endpoint
    }
    ```

    ## Use instead
    ```mlp
    gate release {
      require evaluate.report.auc >= 0.9
    }

    step deploy {
      run = "python deploy.py --model ${in.model}"
      in  model: Model = train.model
      out endpoint: Endpoint
      after release
    }
    ```
    """

    code = "MLP201"
    name = "deploy-without-gate"
    severity = Severity.ERROR
    summary = "A deploy step that no gate runs before."

    def check(self, ctx: RuleContext) -> Iterator[Violation]:
        for step in ctx.lineage.deploy_steps():
            if ctx.lineage.gates_upstream(step.name):
                continue
            yield Violation(
                span=step.name_span,
                message=f"step `{step.name}` deploys an endpoint but no gate runs before it",
                label="deploys without a gate",
                help=f"add a gate that checks the model's metrics and `after <gate>` to `{step.name}`",
            )
