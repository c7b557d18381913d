from __future__ import annotations

from collections.abc import Iterator

from mlplang.compiler.rules.base import Rule, RuleContext, Violation
from mlplang.diagnostics.model import Severity


class MissingOwner(Rule):
    """
    ## What it does
    Flags a pipeline without an `owner`.

    ## Why it matters
    When a model misbehaves in production, or a monitor breaches at 3 a.m.,
    someone must be accountable and reachable. Governance frameworks (the EU
    AI Act, SR 11-7 model risk management) require a named owner per model.

    ## Example
    ```mlp
    pipeline churn {
      description = "Weekly churn model"
    }
    ```

    ## Use instead
    ```mlp
    pipeline churn {
      description = "Weekly churn model"
      owner       = "growth-ml@acme.example"
    }
    ```
    """

    code = "MLP211"
    name = "missing-owner"
    severity = Severity.ERROR
    summary = "A pipeline without an `owner`."

    def check(self, ctx: RuleContext) -> Iterator[Violation]:
        if not ctx.pipeline.owner:
            yield Violation(
                span=ctx.pipeline.name_span,
                message=f"pipeline `{ctx.pipeline.name}` has no owner",
                label="no `owner`",
                help='add `owner = "team@example.com"`: who answers for this pipeline',
            )
