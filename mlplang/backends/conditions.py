"""Conditions as data for the runtime checker (`runtime/check_conditions.py`):
backends pass this JSON to the checker instead of generating code from it."""

from __future__ import annotations

import json

from mlplang.compiler import ir


def operand_data(operand) -> dict:
    if isinstance(operand, ir.LiteralValue):
        return {"literal": operand.value}
    if isinstance(operand, ir.ParamRef):
        return {"param": operand.name}
    return {"metric": operand.artifact_id, "key": operand.key}


def condition_data(condition: ir.Condition) -> dict:
    if isinstance(condition, ir.Comparison):
        return {"op": condition.op, "left": operand_data(condition.left), "right": operand_data(condition.right)}
    if isinstance(condition, ir.BoolCondition):
        return {"op": condition.op, "args": [condition_data(c) for c in condition.operands]}
    if isinstance(condition, ir.NotCondition):
        return {"op": "not", "arg": condition_data(condition.operand)}
    return {"op": "truth", "arg": operand_data(condition.operand)}


def metric_artifacts(conditions: list[ir.Condition]) -> list[str]:
    """The `step.output` metrics the conditions read, in first-use order."""
    found: list[str] = []
    for condition in conditions:
        for operand in ir.condition_operands(condition):
            if isinstance(operand, ir.MetricRef) and operand.artifact_id not in found:
                found.append(operand.artifact_id)
    return found


def params_read(conditions: list[ir.Condition]) -> list[str]:
    found: list[str] = []
    for condition in conditions:
        for operand in ir.condition_operands(condition):
            if isinstance(operand, ir.ParamRef) and operand.name not in found:
                found.append(operand.name)
    return found


def check_spec(
    mode: str,
    conditions: list[ir.Condition],
    texts: list[str],
    metric_paths: dict[str, str],
    pipeline: ir.Pipeline,
) -> str:
    """The MLP_CHECK document (compact, key order fixed for byte-stable output)."""
    params = {name: pipeline.param(name).type for name in params_read(conditions)}
    document = {
        "mode": mode,
        "conditions": [{"text": t, "expr": condition_data(c)} for c, t in zip(conditions, texts)],
        "metrics": {a: metric_paths[a] for a in metric_artifacts(conditions)},
        "params": params,
    }
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False)


def operand_text(operand) -> str:
    if isinstance(operand, ir.LiteralValue):
        return json.dumps(operand.value) if not isinstance(operand.value, bool) else str(operand.value).lower()
    if isinstance(operand, ir.ParamRef):
        return f"param.{operand.name}"
    return f"{operand.artifact_id}.{operand.key}"


def condition_text(condition: ir.Condition) -> str:
    """The condition in MLP syntax, for logs (fully parenthesised sub-conditions)."""
    if isinstance(condition, ir.Comparison):
        return f"{operand_text(condition.left)} {condition.op} {operand_text(condition.right)}"
    if isinstance(condition, ir.BoolCondition):
        return f" {condition.op} ".join(
            f"({condition_text(c)})" if isinstance(c, ir.BoolCondition) else condition_text(c)
            for c in condition.operands
        )
    if isinstance(condition, ir.NotCondition):
        return f"not ({condition_text(condition.operand)})"
    return operand_text(condition.operand)


def task_params(task: ir.Task) -> list[str]:
    """Pipeline params a step or monitor reads - through `${param.X}`, `env`,
    `when` or its own `require`s - in first-use order."""
    names: list[str] = []
    refs = [p.value for p in task.parameters] + [v.value for v in task.env]
    for value in refs:
        if isinstance(value, ir.ParamRef) and value.name not in names:
            names.append(value.name)
    conditions = [task.when] if isinstance(task, ir.Step) and task.when is not None else []
    # a Monitor's `requires` (a Step has none: `getattr` with a default would
    # cost a pydantic AttributeError per step)
    conditions += [r.condition for r in (task.requires if "requires" in type(task).model_fields else ())]
    for name in params_read(conditions):
        if name not in names:
            names.append(name)
    return names
