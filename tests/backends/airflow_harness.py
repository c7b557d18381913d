"""Runs inside .venv-airflow (Apache Airflow 3), never imported by pytest.

    python airflow_harness.py load FOLDERS.json       # DagBags: errors, Dags, tasks, edges
    python airflow_harness.py run PLAN.json           # dag.test() runs, answering approvals

Prints one JSON document on the last line of stdout. AIRFLOW_HOME must be a
temporary folder; `run` also needs AIRFLOW__CORE__DAGS_FOLDER. Uses no mlplang
code: what it reports comes from Airflow alone.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import traceback


def _task_info(task) -> dict:
    info = {
        "operator": type(task).__name__,
        "bases": [c.__name__ for c in type(task).__mro__],
        "downstream": sorted(task.downstream_task_ids),
        "trigger_rule": str(task.trigger_rule.value if hasattr(task.trigger_rule, "value") else task.trigger_rule),
        "template_fields": list(task.template_fields),
        "retries": task.retries,
        "execution_timeout": task.execution_timeout.total_seconds() if task.execution_timeout else None,
        "inlets": sorted(str(getattr(a, "uri", a)) for a in task.inlets),
        "outlets": sorted(str(getattr(a, "uri", a)) for a in task.outlets),
    }
    for name in ("bash_command", "mlp_env", "mlp_inputs", "mlp_outputs", "mlp_params", "mlp_secrets", "spec",
                 "subject", "body", "trigger_dag_id", "image", "namespace", "arguments", "cmds",
                 "response_timeout", "assigned_users", "node_selector"):
        if hasattr(task, name):
            value = getattr(task, name)
            if hasattr(value, "total_seconds"):
                value = value.total_seconds()
            info[name] = value
    if hasattr(task, "container_resources") and task.container_resources is not None:
        info["resources"] = {"requests": task.container_resources.requests, "limits": task.container_resources.limits}
    if hasattr(task, "secrets"):
        info["secrets"] = [vars(s) for s in task.secrets]
    if hasattr(task, "build_pod_request_obj") and os.environ.get("KUBECONFIG"):
        # the pod the task would create (KUBECONFIG names a cluster nobody calls)
        from kubernetes.client import ApiClient

        info["pod"] = ApiClient().sanitize_for_serialization(task.build_pod_request_obj())["spec"]
    return info


def load(folder: str) -> dict:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=folder)
    dags = {}
    for dag_id, dag in sorted(bag.dags.items()):
        dags[dag_id] = {
            "fileloc": dag.fileloc,
            "schedule": str(dag.schedule),
            "catchup": dag.catchup,
            "tags": sorted(dag.tags),
            "owner": dag.owner,
            "description": dag.description,
            "params": {k: {"default": dag.params.get_param(k).value if dag.params.get_param(k).has_value else None,
                           "schema": dag.params.get_param(k).schema} for k in dag.params},
            "tasks": {t.task_id: _task_info(t) for t in dag.tasks},
        }
    return {"import_errors": bag.import_errors, "dags": dags}


class Answerer(threading.Thread):
    """Answers approvals the way `PATCH .../hitlDetails` does: sets the HITL
    detail's response, then resumes the waiting task instance."""

    def __init__(self, answers: dict[str, str]):
        super().__init__(daemon=True)
        self.answers = answers
        self.answered: list[str] = []
        self.requests: list[dict] = []
        self.stop = threading.Event()
        self.error: str | None = None

    def run(self) -> None:
        from airflow.models.hitl import HITLDetail
        from airflow.models.taskinstance import TaskInstance
        from airflow.models.trigger import handle_event_submit
        from airflow.triggers.base import TriggerEvent
        from airflow.utils import timezone
        from airflow.utils.session import create_session
        from airflow.utils.state import TaskInstanceState

        try:
            while not self.stop.is_set():
                with create_session() as session:
                    waiting = session.query(TaskInstance).filter(
                        TaskInstance.state == TaskInstanceState.AWAITING_INPUT).all()
                    for ti in waiting:
                        detail = session.query(HITLDetail).filter(HITLDetail.ti_id == ti.id).one_or_none()
                        if detail is None or detail.responded_at is not None:
                            continue
                        choice = self.answers.get(ti.task_id)
                        if choice is None:
                            continue
                        detail.chosen_options = [choice]
                        detail.responded_at = timezone.utcnow()
                        detail.responded_by = {"id": "mlp-test", "name": "mlp test"}
                        detail.params_input = {}
                        session.add(detail)
                        handle_event_submit(TriggerEvent(detail.as_resume_event_payload()), task_instance=ti,
                                            session=session)
                        self.answered.append(f"{ti.dag_id}.{ti.task_id}={choice}")
                        self.requests.append({"task_id": ti.task_id, "subject": detail.subject, "body": detail.body,
                                              "assigned_users": detail.assigned_users})
                time.sleep(0.5)
        except Exception:  # reported to the test, which fails with it
            self.error = traceback.format_exc()


def run(plan_path: str) -> dict:
    from airflow.dag_processing.dagbag import DagBag
    from airflow.utils.db import initdb

    with open(plan_path, encoding="utf-8") as handle:
        plan = json.load(handle)
    started = time.monotonic()
    initdb()
    bag = DagBag(dag_folder=plan["dags_folder"])
    if bag.import_errors:
        return {"import_errors": bag.import_errors}
    results = []
    for item in plan["runs"]:
        # A fresh Dag object per run: dag.test() runs tasks in this process,
        # and a run's conf stays in the params of the task objects it ran.
        dag = DagBag(dag_folder=plan["dags_folder"]).get_dag(item["dag_id"])
        answerer = Answerer(item.get("answers", {}))
        answerer.start()
        begin = time.monotonic()
        try:
            dag_run = dag.test(run_conf=item.get("conf") or None)
        finally:
            answerer.stop.set()
            answerer.join(5)
        states = {ti.task_id: str(ti.state.value if hasattr(ti.state, "value") else ti.state)
                  for ti in dag_run.get_task_instances()}
        results.append({
            "name": item["name"],
            "dag_id": item["dag_id"],
            "run_id": dag_run.run_id,
            "state": str(dag_run.state.value if hasattr(dag_run.state, "value") else dag_run.state),
            "states": states,
            "answered": answerer.answered,
            "requests": answerer.requests,
            "answer_error": answerer.error,
            "seconds": round(time.monotonic() - begin, 1),
        })
    runs_of = {}
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session

    with create_session() as session:
        for dag_run in session.query(DagRun).all():
            runs_of.setdefault(dag_run.dag_id, []).append(
                {"run_id": dag_run.run_id, "run_type": str(dag_run.run_type), "state": str(dag_run.state)})
        events = [{"uri": e.uri, "dag_id": e.source_dag_id, "task_id": e.source_task_id, "run_id": e.source_run_id}
                  for e in session.query(AssetEvent).join(AssetModel, AssetEvent.asset_id == AssetModel.id)
                  .with_entities(AssetModel.uri.label("uri"), AssetEvent.source_dag_id, AssetEvent.source_task_id,
                                 AssetEvent.source_run_id)]
    return {"runs": results, "dag_runs": runs_of, "asset_events": events,
            "seconds": round(time.monotonic() - started, 1)}


def main() -> None:
    command, argument = sys.argv[1], sys.argv[2]
    if command == "load":
        with open(argument, encoding="utf-8") as handle:
            result = {folder: load(folder) for folder in json.load(handle)}
    else:
        result = run(argument)
    sys.stdout.flush()
    print("\nMLP-HARNESS-RESULT " + json.dumps(result, default=str))


if __name__ == "__main__":
    main()
