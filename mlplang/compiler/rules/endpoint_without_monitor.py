from __future__ import annotations

from collections.abc import Iterator

from mlplang.compiler.rules._evidence import output_span
from mlplang.compiler.rules.base import Rule, RuleContext, Violation
from mlplang.diagnostics.model import Severity


class EndpointWithoutMonitor(Rule):
    """
    ## What it does
    Flags an `Endpoint` output that no monitor watches: no `monitor` has
    `watch = STEP.OUTPUT` naming it.

    ## Why it matters
    A model starts to decay the day it is deployed: the live data drifts
    away from the training data, upstream features break, user behaviour
    changes. Without a monitor on the endpoint nobody learns of it until
    the business metric drops. A monitor with a `require` and an
    `on_breach` turns that into an alert or a retrain.

    ## Example
    ```mlp
    step deploy {
      run = "python deploy.py --model ${in.model} --out ${out.endpoint}"
      in  model:    Model = train.model
      out endpoint: Endpoint
      after release
    }
    ```

    ## Use instead
    ```mlp
    step deploy {
      run = "python deploy.py --model ${in.model} --out ${out.endpoint}"
      in  model:    Model = train.model
      out endpoint: Endpoint
      after release
    }

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

    code = "MLP213"
    name = "endpoint-without-monitor"
    severity = Severity.ERROR
    summary = "A deployed endpoint that no monitor watches."

    def check(self, ctx: RuleContext) -> Iterator[Violation]:
        watched = {m.watch.artifact_id for m in ctx.pipeline.monitors if m.watch is not None}
        for task, output in ctx.lineage.outputs_of_kind("Endpoint"):
            endpoint = f"{task.name}.{output.name}"
            if endpoint in watched:
                continue
            yield Violation(
                span=output_span(task, output),
                message=f"endpoint `{endpoint}` is deployed by step `{task.name}` but no monitor watches it",
                label="not monitored",
                help=(
                    f"add a monitor with `watch = {endpoint}`, a `schedule`, a `require` on its metrics "
                    "and an `on_breach`"
                ),
            )
