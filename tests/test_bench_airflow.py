"""The Airflow benchmark's inputs are the pipeline they claim to be: the
hand-written Dag writer and the dag-factory YAML writer (bench/airflow_dags.py)
give one task per step plus the gate, with the pipeline's dependencies.
Static checks only (ast, PyYAML): no Airflow, no timings."""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path

import pytest
import yaml

from mlplang.api import load_text

_BENCH = Path(__file__).resolve().parents[1] / "bench"


def _module(name: str):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", _BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


generate = _module("generate").generate
airflow_dags = _module("airflow_dags")

N = 10


def _expected(shape: str) -> tuple[object, set[str], set[tuple[str, str]]]:
    """The Dag description, the task ids and the (upstream, downstream) pairs
    the pipeline's own graph gives: every step and gate, no source or monitor."""
    result = load_text(generate(N, shape), "bench.mlp")
    (pipeline,) = result.pipelines
    graph = result.graph(pipeline)
    tasks = {s.name for s in pipeline.steps} | {g.name for g in pipeline.gates}
    edges = {(d, name) for name in tasks for d in graph.dependencies(name) if d in tasks}
    return airflow_dags.tasks_of(pipeline, graph), tasks, edges


def _call_name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        return node.func.id
    return None


@pytest.mark.parametrize("shape", ["chain", "wide"])
def test_pipeline_has_the_expected_size(shape: str) -> None:
    dag, tasks, edges = _expected(shape)
    assert len(tasks) == N + 1  # ten steps and the gate
    assert {t.task_id for t in dag.tasks} == tasks
    assert dag.dependencies == len(edges)
    if shape == "chain":
        assert len(edges) == N + 1  # 8 links of the chain, validate -> gate, validate and gate -> deploy


@pytest.mark.parametrize("shape", ["chain", "wide"])
def test_handwritten_dag_has_one_bash_operator_per_task_and_the_same_dependencies(shape: str) -> None:
    dag, tasks, edges = _expected(shape)
    tree = ast.parse(airflow_dags.handwritten_source(dag))
    imports = {(n.module, a.name) for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names}
    assert ("airflow.providers.standard.operators.bash", "BashOperator") in imports
    assert ("airflow.sdk", "DAG") in imports
    (with_dag,) = [n for n in tree.body if isinstance(n, ast.With)]
    assert _call_name(with_dag.items[0].context_expr) == "DAG"

    variables: dict[str, str] = {}
    found_edges = set()
    for statement in with_dag.body:
        if isinstance(statement, ast.Assign) and _call_name(statement.value) == "BashOperator":
            (target,) = statement.targets
            keywords = {k.arg: k.value for k in statement.value.keywords}
            assert isinstance(keywords["bash_command"], ast.Constant) and keywords["bash_command"].value
            variables[target.id] = keywords["task_id"].value
        elif isinstance(statement, ast.Expr) and isinstance(statement.value, ast.BinOp):
            assert isinstance(statement.value.op, ast.RShift)
            found_edges.add((statement.value.left.id, statement.value.right.id))
        else:
            pytest.fail(f"unexpected statement in the Dag body: {ast.dump(statement)[:200]}")
    assert sorted(variables.values()) == sorted(tasks)  # one operator per task, no duplicates
    assert {(variables[a], variables[b]) for a, b in found_edges} == edges
    assert len(found_edges) == len(edges)


@pytest.mark.parametrize("shape", ["chain", "wide"])
def test_dagfactory_yaml_has_the_same_tasks_and_dependencies(shape: str) -> None:
    dag, tasks, edges = _expected(shape)
    config = yaml.safe_load(airflow_dags.dagfactory_yaml(dag))
    ((dag_id, body),) = config.items()
    assert dag_id == dag.dag_id
    assert body["default_args"]["start_date"] and body["schedule"] == "0 2 * * *"
    assert set(body["tasks"]) == tasks
    found = set()
    for task_id, conf in body["tasks"].items():
        assert conf["operator"] == "airflow.providers.standard.operators.bash.BashOperator"
        assert conf["bash_command"]
        for upstream in conf.get("dependencies", []):
            found.add((upstream, task_id))
    assert found == edges
    assert sum(len(conf.get("dependencies", [])) for conf in body["tasks"].values()) == len(edges)


def test_dagfactory_loader_is_a_dag_file_airflow_opens() -> None:
    source = airflow_dags.DAGFACTORY_LOADER
    ast.parse(source)
    # DagBag's safe mode skips files that mention neither word.
    assert "airflow" in source.lower() and "dag" in source.lower()
    assert "load_yaml_dags" in source and "pipeline.yaml" in source
