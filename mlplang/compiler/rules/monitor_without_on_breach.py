from __future__ import annotations

from collections.abc import Iterator

from mlplang.compiler.rules.base import Rule, RuleContext, Violation
from mlplang.diagnostics.model import Severity


class MonitorWithoutOnBreach(Rule):
    """
    ## What it does
    Flags a monitor without `on_breach`.

    ## Why it matters
    `on_breach` says what a failed `require` leads to: `alert` fails the
    monitor run so that its owners are notified, `retrain` re-runs the
    pipeline. Without it, what happens on a breach is left to the backend's
    defaults, and a drifting model may keep serving with nobody told. It is
    a warning because some teams route every monitor's result elsewhere.

    ## Example
    ```mlp
    monitor drift {
      watch    = deploy.endpoint
      schedule = cron("0 * * * *")
      run      = "python psi.py --ref ${in.reference} --out ${out.report}"
      in  reference: Dataset = split.train
      out report:    Metrics
      require report.psi < 0.2
    }
    ```

    ## Use instead
    ```mlp
    monitor drift {
      watch    = deploy.endpoint
      schedule = cron("0 * * * *")
      run      = "python psi.py --ref ${in.reference} --out ${out.report}"
      in  reference: Dataset = split.train
      out report:    Metrics
      require report.psi < 0.2
      on_breach = retrain
    }
    ```
    """

    code = "MLP215"
    name = "monitor-without-on-breach"
    severity = Severity.WARNING
    summary = "A monitor that does not say what a breach leads to (`on_breach`)."

    def check(self, ctx: RuleContext) -> Iterator[Violation]:
        for monitor in ctx.pipeline.monitors:
            if monitor.on_breach is not None:
                continue
            yield Violation(
                span=monitor.name_span,
                message=f"monitor `{monitor.name}` has no `on_breach`: a breach leads to no declared action",
                label="no `on_breach`",
                help="add `on_breach = alert` to notify its owners, or `on_breach = retrain` to re-run the pipeline",
            )
