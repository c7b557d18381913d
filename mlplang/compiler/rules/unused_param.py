from __future__ import annotations

from collections.abc import Iterator

from mlplang.compiler import ir
from mlplang.compiler.rules.base import Rule, RuleContext, Violation
from mlplang.compiler.rules._support import tasks
from mlplang.diagnostics.model import Severity


class UnusedParam(Rule):
    """
    ## What it does
    Flags a `param` that nothing reads: no command (`${param.NAME}`), `env`
    value (`param.NAME`), `when` or `require` condition, or template argument
    refers to it.

    ## Why it matters
    Params are the pipeline's run-time interface: every backend shows them to
    whoever starts a run (a `workflow_dispatch` input, an Airflow `Param`, a
    Kubeflow pipeline parameter). A param that changes nothing misleads that
    person into thinking they tuned something, and is often the sign of a
    forgotten `${param.NAME}` in a command.

    ## Example
    ```mlp
    pipeline churn {
      param epochs: int = 20

      step train {
        run = "python train.py --epochs 20"
      }
    }
    ```

    ## Use instead
    ```mlp
    pipeline churn {
      param epochs: int = 20

      step train {
        run = "python train.py --epochs \\"${param.epochs}\\""
      }
    }
    ```
    """

    code = "MLP219"
    name = "unused-param"
    severity = Severity.WARNING
    summary = "A param that no command, env, condition or template argument reads."

    def check(self, ctx: RuleContext) -> Iterator[Violation]:
        read = _read_params(ctx.pipeline)
        for param in ctx.pipeline.params:
            if param.name in read:
                continue
            yield Violation(
                span=param.span,
                message=f"param `{param.name}` is never used",
                label="nothing reads this param",
                help=f"read it as `${{param.{param.name}}}` in a command, `param.{param.name}` in `env`, "
                     "a condition or a template argument, or remove it",
            )


def _read_params(pipeline: ir.Pipeline) -> set[str]:
    read: set[str] = set()
    conditions: list[ir.Condition] = [r.condition for g in pipeline.gates for r in g.requires]
    for task in tasks(pipeline):
        values = [p.value for p in task.parameters] + [e.value for e in task.env]
        if isinstance(task, ir.Step):
            if task.template is not None:
                values += [a.value for a in task.template.arguments]
            if task.when is not None:
                conditions.append(task.when)
        if isinstance(task, ir.Monitor):
            conditions.extend(r.condition for r in task.requires)
        read.update(v.name for v in values if isinstance(v, ir.ParamRef))
    for condition in conditions:
        read.update(o.name for o in ir.condition_operands(condition) if isinstance(o, ir.ParamRef))
    return read
