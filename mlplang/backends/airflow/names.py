"""Names in the generated Dags: Dag ids, task ids and Python variables.

A task id is the IR node's name, or the name and a suffix for the helper
tasks around it (`train-when`, `release-approval`); MLP names have no `-`,
so helper ids never collide with a step's. Python variables are prefixed by
their role (`step_train`), so an MLP name never shadows a name of the file.
"""

from __future__ import annotations

from mlplang.compiler import ir

LATEST_TASK = "record-latest"
WHEN, APPROVAL, CHECK, RETRAIN = "-when", "-approval", "-check", "-retrain"
TASK_SUFFIXES = (WHEN, APPROVAL, CHECK, RETRAIN)
VARIABLE_PREFIXES = ("step_", "when_", "gate_", "approval_", "monitor_", "check_", "retrain_")
LATEST_VARIABLE = "record_latest"


def monitor_dag_id(pipeline: ir.Pipeline, monitor: ir.Monitor) -> str:
    return f"{pipeline.name}-{monitor.name}"


def monitor_params(monitor: ir.Monitor) -> list[str]:
    """The pipeline params a monitor reads (its Dag's params), in first-use order."""
    from mlplang.backends.conditions import task_params

    return task_params(monitor)
