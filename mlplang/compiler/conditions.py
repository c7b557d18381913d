"""Lowering `require` and `when` conditions: resolve metrics and params, check operand kinds."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from mlplang.compiler import ir
from mlplang.compiler.report import Reporter
from mlplang.compiler.suggest import did_you_mean
from mlplang.diagnostics import codes
from mlplang.dsl import ast

ORDERING = ("<", "<=", ">", ">=")


@dataclass
class ConditionScope:
    params: dict[str, ir.Param]
    tasks: dict[str, dict[str, ir.ArtifactType | None]]
    """Step (or monitor) name -> its outputs and their types (None: unknown type, already reported)."""
    own_name: str | None = None
    own_outputs: dict[str, ir.ArtifactType | None] = field(default_factory=dict)
    """A monitor's own outputs, readable as `report.key`."""
    opaque_tasks: set[str] = field(default_factory=set)
    """Steps whose outputs are unknown (their template was not found; already reported)."""
    unresolved_params: set[str] = field(default_factory=set)
    """Params declared with an unknown type (already reported)."""
    other_names: Callable[[], list[str]] = lambda: []


def _metric(step: str, output: ast.Name, key: ast.Name, artifact_type: ir.ArtifactType | None,
            span, r: Reporter) -> ir.MetricRef | None:
    if artifact_type is None:
        return None
    if artifact_type.kind != "Metrics":
        r.add(
            codes.INVALID_CONDITION,
            f"`{step}.{output.value}` is a {artifact_type}, not Metrics: it has no key `{key.value}`",
            output.span,
            help="conditions read keys of outputs declared `out NAME: Metrics`",
        )
        return None
    return ir.MetricRef.trusted(kind="metric", step=step, output=output.value, key=key.value, span=span)


def _unknown_output(task: str, output: ast.Name, outputs: dict[str, ir.ArtifactType], r: Reporter) -> None:
    r.add(
        codes.UNKNOWN_REFERENCE,
        f"`{task}` has no output `{output.value}`",
        output.span,
        help=did_you_mean(output.value, outputs) or (
            "its outputs: " + ", ".join(sorted(outputs)) if outputs else f"`{task}` declares no outputs"
        ),
    )


def lower_operand(value: ast.Value, scope: ConditionScope, r: Reporter):
    if isinstance(value, ast.BoolLit | ast.NumberLit):
        return ir.LiteralValue.trusted(kind="literal", value=value.value, span=value.span)
    if isinstance(value, ast.StringLit):
        if value.has_interpolation:
            r.add(codes.BAD_INTERPOLATION, "interpolation is only allowed in `run`", value.span)
            return None
        return ir.LiteralValue.trusted(kind="literal", value=value.text, span=value.span)
    if isinstance(value, ast.ErrorValue):
        return None
    if not isinstance(value, ast.Ref):
        r.add(codes.INVALID_CONDITION, "conditions compare metrics, params, numbers, strings and booleans",
              value.span)
        return None
    parts = value.parts
    head = parts[0].value
    if head == "param" and len(parts) == 2:
        name = parts[1]
        if name.value not in scope.params:
            if name.value not in scope.unresolved_params:
                r.add(codes.UNKNOWN_REFERENCE, f"unknown param `{name.value}`", name.span,
                      help=did_you_mean(name.value, scope.params))
            return None
        return ir.ParamRef.trusted(kind="param", name=name.value, span=value.span)
    if scope.own_name is not None and head in scope.own_outputs and len(parts) == 2:
        return _metric(scope.own_name, parts[0], parts[1], scope.own_outputs[head], value.span, r)
    if len(parts) == 3:
        task, output, key = parts
        if task.value not in scope.tasks:
            r.add(codes.UNKNOWN_REFERENCE, f"unknown step `{task.value}`", task.span,
                  help=did_you_mean(task.value, scope.tasks))
            return None
        outputs = scope.tasks[task.value]
        if task.value in scope.opaque_tasks:
            return None
        if output.value not in outputs:
            _unknown_output(task.value, output, outputs, r)
            return None
        return _metric(task.value, output, key, outputs[output.value], value.span, r)
    if len(parts) == 2 and head in scope.tasks:
        r.add(codes.INVALID_CONDITION, f"`{value.dotted}` is an artifact; a condition reads one of its keys",
              value.span, help=f"write `{value.dotted}.KEY`, e.g. `{value.dotted}.auc`")
        return None
    candidates = list(scope.tasks) + ["param"] + list(scope.own_outputs)
    r.add(codes.UNKNOWN_REFERENCE, f"unknown reference `{value.dotted}`", value.span,
          help=did_you_mean(head, candidates) or "conditions read `step.output.key` metrics and `param.NAME`")
    return None


def _numeric(operand, scope: ConditionScope) -> bool:
    if isinstance(operand, ir.MetricRef):
        return True
    if isinstance(operand, ir.ParamRef):
        return scope.params[operand.name].type in ("int", "float")
    return isinstance(operand.value, int | float) and not isinstance(operand.value, bool)


def _kind_of(operand, scope: ConditionScope) -> str:
    """What a non-numeric operand is, for the caret label."""
    if isinstance(operand, ir.ParamRef):
        return f"param `{operand.name}` is {scope.params[operand.name].type}"
    if isinstance(operand.value, bool):
        return "this is a boolean"
    return "this is a string"


def _boolean(operand, scope: ConditionScope) -> bool:
    if isinstance(operand, ir.ParamRef):
        return scope.params[operand.name].type == "bool"
    return isinstance(operand, ir.LiteralValue) and isinstance(operand.value, bool)


def lower_condition(expr: ast.Expr, scope: ConditionScope, r: Reporter) -> ir.Condition | None:
    if isinstance(expr, ast.Compare):
        left = lower_operand(expr.left, scope, r)
        right = lower_operand(expr.right, scope, r)
        if left is None or right is None:
            return None
        if expr.op in ORDERING:
            for side, operand in (("left", left), ("right", right)):
                if not _numeric(operand, scope):
                    r.add(codes.INVALID_CONDITION, f"`{expr.op}` compares numbers; the {side} side is not a number",
                          operand.span, label=_kind_of(operand, scope))
                    return None
        return ir.Comparison.trusted(kind="compare", left=left, op=expr.op, right=right, span=expr.span)
    if isinstance(expr, ast.BoolOp):
        operands = [lower_condition(o, scope, r) for o in expr.operands]
        if any(o is None for o in operands):
            return None
        return ir.BoolCondition.trusted(kind="bool", op=expr.op, operands=tuple(operands), span=expr.span)
    if isinstance(expr, ast.Not):
        operand = lower_condition(expr.operand, scope, r)
        return None if operand is None else ir.NotCondition.trusted(kind="not", operand=operand, span=expr.span)
    operand = lower_operand(expr, scope, r)
    if operand is None:
        return None
    if not _boolean(operand, scope):
        help = "compare it with a threshold, e.g. `evaluate.report.auc >= 0.9`" if isinstance(
            operand, ir.MetricRef) else None
        r.add(codes.INVALID_CONDITION, "a condition must be a comparison or a boolean", operand.span, help=help)
        return None
    return ir.Truth.trusted(kind="truth", operand=operand, span=expr.span)
