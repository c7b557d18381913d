from __future__ import annotations

from collections.abc import Iterator

from mlplang.compiler import ir
from mlplang.compiler.rules.base import Rule, RuleContext, Violation
from mlplang.compiler.rules._support import describe, tasks
from mlplang.diagnostics.model import Label, Severity


class UnusedOutput(Rule):
    """
    ## What it does
    Flags an output that nothing in the pipeline reads: no step or monitor
    binds it to an input, no gate, `when` or monitor `require` reads its
    metrics, no monitor watches it. A monitor's own outputs count as read
    when its own `require`s read them. `Endpoint` outputs are left to the
    deployment rules (a deployed endpoint is meant to be watched by a monitor).

    ## Why it matters
    An output nobody reads is computed, stored and paid for on every run for
    nothing, or, more often, it is a missing wire: an evaluation whose
    metrics no gate checks, a validation report that blocks nothing, a
    cleaned dataset the training step does not actually use.

    ## Example
    ```mlp
    step evaluate {
      run = "python evaluate.py --model ${in.model} --report ${out.report}"
      in  model:  Model = train.model
      out report: Metrics
    }
    ```

    ## Use instead
    ```mlp
    step evaluate {
      run = "python evaluate.py --model ${in.model} --report ${out.report}"
      in  model:  Model = train.model
      out report: Metrics
    }

    gate release {
      require evaluate.report.auc >= 0.9
    }
    ```
    """

    code = "MLP218"
    name = "unused-output"
    severity = Severity.WARNING
    summary = "An output that no step, gate, condition or monitor reads."

    def check(self, ctx: RuleContext) -> Iterator[Violation]:
        used = _read_artifacts(ctx.pipeline)
        for task in tasks(ctx.pipeline):
            for output in task.outputs:
                artifact = f"{task.name}.{output.name}"
                if output.type.kind == "Endpoint" or artifact in used:
                    continue
                yield _violation(task, output, artifact)


def _read_artifacts(pipeline: ir.Pipeline) -> set[str]:
    """Ids of every artifact something reads."""
    read: set[str] = set()
    conditions: list[ir.Condition] = [r.condition for g in pipeline.gates for r in g.requires]
    for task in tasks(pipeline):
        read.update(item.ref.artifact_id for item in task.inputs)
        if isinstance(task, ir.Step) and task.when is not None:
            conditions.append(task.when)
        if isinstance(task, ir.Monitor):
            if task.watch is not None:
                read.add(task.watch.artifact_id)
            conditions.extend(r.condition for r in task.requires)
    for condition in conditions:
        read.update(o.artifact_id for o in ir.condition_operands(condition) if isinstance(o, ir.MetricRef))
    return read


def _violation(task: ir.Task, output: ir.Output, artifact: str) -> Violation:
    message = f"output `{output.name}` of {describe(task)} is never used"
    label = f"nothing reads `{artifact}`"
    if isinstance(task, ir.Step) and task.template is not None:
        # The declaration is in the template, shared by every step made from it:
        # point at this step, where a use is missing.
        return Violation(
            span=task.name_span, message=message, label=label,
            labels=(Label(span=output.span, message=f"`{output.name}` is declared by the template"),),
            help=_either(_uses(task, output, artifact)),
        )
    return Violation(span=output.span, message=message, label=label,
                     help=_either([*_uses(task, output, artifact), "remove it"]))


def _either(choices: list[str]) -> str:
    """`a`, `a or b`, `a, b or c`."""
    return choices[0] if len(choices) == 1 else ", ".join(choices[:-1]) + " or " + choices[-1]


def _uses(task: ir.Task, output: ir.Output, artifact: str) -> list[str]:
    """How the output could be read, most likely first."""
    if isinstance(task, ir.Monitor):
        if output.type.kind != "Metrics":
            return []  # nothing should depend on a scheduled monitor's artifacts
        return [f"read it in the monitor's own `require` (`require {output.name}.KEY < threshold`)"]
    bind = f"bind it to an input (`in x: {output.type} = {artifact}`)"
    if output.type.kind == "Metrics":
        return [f"check it in a gate (`require {artifact}.KEY >= threshold`)", bind]
    return [bind]
