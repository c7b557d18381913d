from __future__ import annotations

from collections.abc import Iterator

from mlplang.compiler.rules.base import Rule, RuleContext, Violation
from mlplang.diagnostics.model import Severity


class MonitorWithoutRequire(Rule):
    """
    ## What it does
    Flags a monitor without any `require`.

    ## Why it matters
    A monitor breaches when one of its `require`s fails; without one it runs
    on schedule, computes its metrics and always passes. Its `on_breach`
    can never fire, and the endpoint is not watched in any way that would
    reach a person or a retrain.

    ## Example
    ```mlp
    monitor drift {
      watch    = deploy.endpoint
      schedule = cron("0 * * * *")
      run      = "python psi.py --ref ${in.reference} --out ${out.report}"
      in  reference: Dataset = split.train
      out report:    Metrics
      on_breach = alert
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
      on_breach = alert
    }
    ```
    """

    code = "MLP214"
    name = "monitor-without-require"
    severity = Severity.ERROR
    summary = "A monitor without a `require`: it can never breach."

    def check(self, ctx: RuleContext) -> Iterator[Violation]:
        for monitor in ctx.pipeline.monitors:
            if monitor.requires:
                continue
            watched = f" `{monitor.watch.artifact_id}`" if monitor.watch is not None else ""
            metrics = next((o.name for o in monitor.outputs if o.type.kind == "Metrics"), None)
            if metrics:
                help = f"add a threshold on what it measures, e.g. `require {metrics}.<key> < <limit>`"
            else:
                help = (
                    "add a `Metrics` output for what it measures and a `require` on it, "
                    "e.g. `require report.psi < 0.2`"
                )
            yield Violation(
                span=monitor.name_span,
                message=f"monitor `{monitor.name}` has no `require`: it watches{watched} but can never breach",
                label="never breaches",
                help=help,
            )
