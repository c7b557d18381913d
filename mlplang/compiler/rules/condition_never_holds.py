from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

from mlplang.compiler import ir
from mlplang.compiler.rules.base import Rule, RuleContext, Violation
from mlplang.diagnostics.model import Severity


@dataclass(frozen=True)
class _Verdict:
    """A sub-condition whose value is known before the run, and why."""

    holds: bool
    node: ir.Condition
    reason: str
    because: tuple[str, ...] = ()
    """For an `or` that never holds (or an `and` that always does): why each operand does."""


class ConditionNeverHolds(Rule):
    """
    ## What it does
    Flags a step's `when` condition that can never hold, when that is visible
    without running anything:

    - `false`, `not true`, a comparison of literals that is false (`1 > 2`);
    - `==` between values of different types, which are never equal: a
      `bool` param and a number or string (`param.dry_run == 1`), a number
      param and a string (`param.epochs == "10"`); likewise `!=` always holds;
    - a param compared with itself (`param.n != param.n`);
    - `and` with an operand that never holds, `or` whose operands all never
      hold, `not` of something that always holds.

    The caret points at the sub-expression that decides. Metrics and params
    are not guessed at: only what holds for every possible value is reported.

    ## Why it matters
    A step whose condition never holds never runs, nor does anything that
    needs its outputs, and the pipeline still reports success. The usual
    cause is a type slip (`param.enabled == "true"` compares a bool with a
    string) or a leftover from debugging.

    ## Example
    ```mlp
    step benchmark {
      run  = "python bench.py"
      when param.run_benchmark == "true"
    }
    ```

    ## Use instead
    ```mlp
    step benchmark {
      run  = "python bench.py"
      when param.run_benchmark
    }
    ```
    """

    code = "MLP221"
    name = "condition-never-holds"
    severity = Severity.WARNING
    summary = "A `when` condition that can never hold, so its step never runs."

    def check(self, ctx: RuleContext) -> Iterator[Violation]:
        params = {p.name: p for p in ctx.pipeline.params}
        for step in ctx.pipeline.steps:
            if step.when is None:
                continue
            verdict = _evaluate(step.when, params)
            if verdict is None or verdict.holds:
                continue
            whole = verdict.node is step.when
            yield Violation(
                span=verdict.node.span,
                message=f"the `when` of step `{step.name}` can never hold: {verdict.reason}",
                label="never true" if whole else "never true, so the whole condition is never true",
                help=f"`{step.name}` and every step that needs its outputs would never run; "
                     "fix the condition or remove it",
                notes=verdict.because,
            )


def _evaluate(condition: ir.Condition, params: dict[str, ir.Param]) -> _Verdict | None:
    """The condition's value if it is the same on every run, else None. The
    verdict's node is the smallest sub-condition that decides it."""
    if isinstance(condition, ir.Truth):
        operand = condition.operand
        if isinstance(operand, ir.LiteralValue) and isinstance(operand.value, bool):
            word = "true" if operand.value else "false"
            return _Verdict(operand.value, condition, f"`{word}` is always {word}")
        return None
    if isinstance(condition, ir.Comparison):
        return _compare(condition, params)
    if isinstance(condition, ir.NotCondition):
        inner = _evaluate(condition.operand, params)
        if inner is None:
            return None
        state = "always" if inner.holds else "never"
        return _Verdict(not inner.holds, condition, f"`not` of a condition that {state} holds: {inner.reason}")
    verdicts = [_evaluate(operand, params) for operand in condition.operands]
    decisive = condition.op == "or"  # `or` is decided by an operand that holds, `and` by one that does not
    for verdict in verdicts:
        if verdict is not None and verdict.holds is decisive:
            return verdict
    if all(v is not None for v in verdicts):
        word = "always" if decisive is False else "never"
        return _Verdict(not decisive, condition, f"each operand of this `{condition.op}` {word} holds",
                        tuple(v.reason for v in verdicts if v is not None))
    return None


def _compare(comparison: ir.Comparison, params: dict[str, ir.Param]) -> _Verdict | None:
    left, op, right = comparison.left, comparison.op, comparison.right
    shown = f"`{_show(left)} {op} {_show(right)}`"
    if isinstance(left, ir.ParamRef) and isinstance(right, ir.ParamRef) and left.name == right.name:
        holds = op in ("==", "<=", ">=")
        return _Verdict(holds, comparison, f"{shown} compares a param with itself")
    if isinstance(left, ir.LiteralValue) and isinstance(right, ir.LiteralValue):
        holds = _literal_compare(left.value, op, right.value)
        return None if holds is None else _Verdict(holds, comparison, f"{shown} is always {str(holds).lower()}")
    if op not in ("==", "!="):
        return None
    for param_side, literal_side in ((left, right), (right, left)):
        if isinstance(param_side, ir.ParamRef) and isinstance(literal_side, ir.LiteralValue):
            param = params.get(param_side.name)
            literal_kind = _kind(literal_side.value)
            if param is None or not _never_equal(param.type, literal_kind):
                return None
            article = "an" if param.type == "int" else "a"
            reason = f"{shown} compares {article} {param.type} param with a {literal_kind}, which are never equal"
            return _Verdict(op == "!=", comparison, reason)
    return None


def _kind(value: ir.Scalar) -> str:
    if isinstance(value, bool):
        return "boolean"
    return "number" if isinstance(value, int | float) else "string"


def _never_equal(param_type: str, literal_kind: str) -> bool:
    if param_type == "bool":
        return literal_kind in ("number", "string")
    return param_type in ("int", "float") and literal_kind == "string"


def _literal_compare(left: ir.Scalar, op: str, right: ir.Scalar) -> bool | None:
    if _kind(left) != _kind(right):
        return {"==": False, "!=": True}.get(op)  # values of different types are never equal
    if op == "==":
        return left == right
    if op == "!=":
        return left != right
    if _kind(left) != "number":
        return None  # ordering is only defined on numbers (the checker rejects the rest)
    return {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}[op]


def _show(operand: ir.LiteralValue | ir.ParamRef | ir.MetricRef) -> str:
    if isinstance(operand, ir.ParamRef):
        return f"param.{operand.name}"
    if isinstance(operand, ir.MetricRef):
        return f"{operand.step}.{operand.output}.{operand.key}"
    if isinstance(operand.value, bool):
        return "true" if operand.value else "false"
    return json.dumps(operand.value) if isinstance(operand.value, str) else str(operand.value)
