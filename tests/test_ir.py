"""The typed IR and the graph built from the examples: facts a reader of each
example can check against its source (types, templates, commands, env,
edges, lineage), and that the IR cannot be changed after lowering."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import pydantic
import pytest

import mlplang
from mlplang.api import LoadResult
from mlplang.compiler import ir
from mlplang.compiler.graph import EdgeKind, NodeKind
from mlplang.compiler.lineage import Lineage
from mlplang.diagnostics import codes

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
EXAMPLE_FILES = sorted(EXAMPLES.glob("*.mlp"))
PINNED = "img@sha256:" + "0" * 64


def load_example(name: str) -> tuple[LoadResult, ir.Pipeline]:
    result = mlplang.load(EXAMPLES / name)
    assert result.ok, result.diagnostics
    (pipeline,) = result.pipelines
    return result, pipeline


def load_text(text: str) -> LoadResult:
    return mlplang.load_text(text, "t.mlp")


def codes_of(result: LoadResult) -> list[str]:
    return [d.code for d in result.diagnostics]


@pytest.fixture(scope="module")
def fraud() -> tuple[LoadResult, ir.Pipeline]:
    return load_example("fraud_detection.mlp")


@pytest.fixture(scope="module")
def forecast() -> tuple[LoadResult, ir.Pipeline]:
    return load_example("continuous_training.mlp")


@pytest.fixture(scope="module")
def vision() -> tuple[LoadResult, ir.Pipeline]:
    return load_example("gpu_training.mlp")


@pytest.fixture(scope="module")
def rag() -> tuple[LoadResult, ir.Pipeline]:
    return load_example("rag_assistant.mlp")


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.name)
def test_every_example_lowers_without_diagnostics(path: Path) -> None:
    result = mlplang.load(path)
    assert result.diagnostics == ()
    assert len(result.pipelines) == 1
    assert set(result.graphs) == {result.pipelines[0].name}


# ---- pipeline-level facts -------------------------------------------------------------------


def test_fraud_pipeline_attributes(fraud) -> None:
    _, p = fraud
    assert p.name == "fraud_detection"
    assert p.owner == "risk-ml@acme.example"
    assert p.risk == "high"
    assert p.schedule.expression == "0 2 * * *"
    assert p.tags == ("tabular", "customer-facing", "pci")
    assert [(x.name, x.type, x.default) for x in p.params] == [
        ("min_auc", "float", 0.85), ("epochs", "int", 20), ("learning_rate", "float", 0.05),
        ("lookback_days", "int", 90),
    ]
    assert [s.name for s in p.secrets] == ["warehouse_token", "serving_api_key", "review_portal_token"]
    transactions = p.source("transactions")
    assert transactions.uri == "s3://acme-data/transactions/"
    assert transactions.version == "2026-11-01"
    assert transactions.pii == ("card_number", "email", "ip_address")
    assert p.source("merchants").pii == ()
    assert [s.name for s in p.steps] == [
        "extract", "anonymize", "validate", "split", "train", "evaluate", "explain", "deploy",
    ]
    assert [g.name for g in p.gates] == ["release"]
    assert [m.name for m in p.monitors] == ["drift"]


def test_vision_params_without_default_and_float_literal(vision) -> None:
    _, p = vision
    assert p.param("experiment_name").default is None
    assert p.param("learning_rate").default == pytest.approx(3.0e-4)
    assert p.param("run_benchmark").default is False
    assert p.schedule is None


# ---- types: subtyping and flavors -------------------------------------------------------------


def test_features_accepted_where_dataset_is_declared(vision) -> None:
    _, p = vision
    for step_name in ("smoke_test", "train"):
        data = p.step(step_name).input("data")
        assert data.type == ir.ArtifactType(kind="Dataset")
        assert data.ref.artifact_id == "preprocess.shards"
    assert p.step("preprocess").output("shards").type.kind == "Features"


def test_unflavored_input_accepts_a_flavored_output(fraud) -> None:
    _, p = fraud
    model = p.step("evaluate").input("model")
    assert model.type == ir.ArtifactType(kind="Model")
    assert p.step("train").output("model").type == ir.ArtifactType(kind="Model", flavor="sklearn")
    assert p.step("deploy").input("model").type == ir.ArtifactType(kind="Model", flavor="sklearn")


def test_artifact_accepts_metrics(forecast) -> None:
    _, p = forecast
    evidence = p.step("model_card").input("evidence")
    assert evidence.type.kind == "Artifact"
    assert evidence.ref.artifact_id == "backtest.report"


def _pipeline_with_binding(declared: str, produced: str) -> str:
    return f"""pipeline p {{
  step a {{ image = "{PINNED}" run = "x ${{out.o}}" out o: {produced} }}
  step b {{ image = "{PINNED}" run = "x ${{in.i}}" in i: {declared} = a.o }}
}}"""


@pytest.mark.parametrize(
    ("declared", "produced", "code"),
    [
        ("Dataset", "Features", None),
        ("Artifact", "Model<x>", None),
        ("Model", "Model<x>", None),
        ("Model<x>", "Model<x>", None),
        ("Features", "Dataset", codes.TYPE_MISMATCH.code),
        ("Dataset", "Model", codes.TYPE_MISMATCH.code),
        ("Metrics", "Artifact", codes.TYPE_MISMATCH.code),
        ("Model<x>", "Model", codes.FLAVOR_MISMATCH.code),
        ("Model<x>", "Model<y>", codes.FLAVOR_MISMATCH.code),
    ],
)
def test_subtyping_and_flavors(declared: str, produced: str, code: str | None) -> None:
    text = _pipeline_with_binding(declared, produced)
    result = load_text(text)
    assert codes_of(result) == ([code] if code else [])
    if code:
        (diagnostic,) = result.diagnostics
        assert text[diagnostic.span.start:diagnostic.span.end] == "a.o"
    else:
        (binding,) = result.pipelines[0].step("b").inputs
        assert binding.ref == ir.ArtifactRef(producer="a", output="o", span=binding.ref.span)


# ---- templates --------------------------------------------------------------------------------


def test_std_template_instance(fraud) -> None:
    """`step validate = data.check_schema(data = anonymize.clean, schema = "schemas/tx.json")`"""
    _, p = fraud
    validate = p.step("validate")
    assert validate.template is not None
    assert validate.template.module == "std/data.mlp"
    assert validate.template.template == "check_schema"
    assert validate.template.span.file == "std/data.mlp"
    # the artifact argument becomes an input bound to the argument's artifact
    (data,) = validate.inputs
    assert (data.name, data.type.kind) == ("data", "Dataset")
    assert (data.ref.producer, data.ref.output) == ("anonymize", "clean")
    assert data.span.file == p.file  # the argument, in the pipeline's file
    # the scalar argument becomes a step parameter with the literal value
    (schema,) = validate.parameters
    assert schema.name == "schema"
    assert isinstance(schema.value, ir.LiteralValue) and schema.value.value == "schemas/tx.json"
    assert [a.name for a in validate.template.arguments] == ["schema"]
    # the template's body: its output, image and command
    assert [(o.name, o.type.kind) for o in validate.outputs] == [("report", "Metrics")]
    assert validate.image.digest.startswith("sha256:")
    kinds = [(s.kind, getattr(s, "name", None)) for s in validate.command.segments if s.kind != "text"]
    assert kinds == [("input", "data"), ("param", "schema"), ("output", "report")]
    assert validate.command.segments[-1].text.rstrip().endswith("PY")
    # the instance is named by the pipeline, spanned in the pipeline's file
    assert validate.name_span.file == p.file


def test_same_file_template_instances_with_defaults_and_param_arguments(forecast) -> None:
    result, p = forecast
    sales, weather = p.step("sales_snapshot"), p.step("weather_snapshot")
    for step in (sales, weather):
        assert step.template.template == "snapshot"
        assert step.template.module == result.path
        assert step.retries == 3 and step.timeout == 30 * 60  # from the template body
        (env,) = step.env  # the instance's extra body adds the secret
        assert env.name == "WAREHOUSE_TOKEN"
        assert env.value == ir.SecretRef(name="warehouse_token", span=env.value.span)
    assert sales.inputs[0].ref.artifact_id == "sales"
    assert weather.inputs[0].ref.artifact_id == "weather"
    sales_params = {s.name: s.value for s in sales.parameters}
    assert sales_params["table"].value == "sales_daily"
    assert sales_params["lookback_days"] == ir.LiteralValue(value=365, span=sales_params["lookback_days"].span)
    weather_params = {s.name: s.value for s in weather.parameters}
    assert weather_params["lookback_days"] == ir.ParamRef(
        name="weather_lookback_days", span=weather_params["lookback_days"].span)
    # only the weather instance overrides resources
    assert sales.resources is None
    assert weather.resources.cpu == 2 and weather.resources.memory == 4 * 10**9


def test_imported_template_instance_keeps_extra_body(forecast) -> None:
    _, p = forecast
    card = p.step("model_card")
    assert card.template.module == "examples/shared/steps.mlp" or card.template.module.endswith("shared/steps.mlp")
    assert card.after == ("promote",)
    assert [(i.name, i.ref.artifact_id) for i in card.inputs] == [("model", "train.model"),
                                                                    ("evidence", "backtest.report")]
    params = {s.name: s.value.value for s in card.parameters}
    assert params == {"registry": "models.acme.example/demand-forecast", "card_format": "markdown"}
    assert card.resources.memory == 2 * 2**30


# ---- commands -------------------------------------------------------------------------------------


def test_command_segments(fraud) -> None:
    _, p = fraud
    segments = p.step("train").command.segments
    shape = [(s.kind, s.text if isinstance(s, ir.Text) else s.name) for s in segments]
    assert shape == [
        ("text", 'python train.py \\\n  --data "'),
        ("input", "data"),
        ("text", '" \\\n  --epochs "'),
        ("param", "epochs"),
        ("text", '" --learning-rate "'),
        ("param", "learning_rate"),
        ("text", '" \\\n  --model "'),
        ("output", "model"),
        ("text", '" --metrics "'),
        ("output", "metrics"),
        ("text", '"\n'),
    ]
    assert isinstance(segments[1], ir.InputPath)
    assert isinstance(segments[3], ir.ParamValue)
    assert isinstance(segments[7], ir.OutputPath)
    # each reference keeps its position in the file
    source = mlplang.load(EXAMPLES / "fraud_detection.mlp").sources[p.file].text
    assert source[segments[1].span.start:segments[1].span.end] == "${in.data}"
    # the step reads two pipeline params, bound to them by reference
    assert [(s.name, type(s.value).__name__) for s in p.step("train").parameters] == [
        ("epochs", "ParamRef"), ("learning_rate", "ParamRef"),
    ]


def test_shell_text_reaches_the_command_unchanged(fraud, vision) -> None:
    _, p = fraud
    extract = p.step("extract").command
    assert '"$(date -u -d "' in extract.source_text
    assert '${param.lookback_days}' in extract.source_text
    assert '"$HOME/.kube/config"' in p.step("deploy").command.source_text
    _, v = vision
    benchmark = v.step("benchmark").command.source_text
    assert "${out.p95_ms}" in benchmark  # written `$${out.p95_ms}`
    assert all(s.kind != "output" for s in v.step("benchmark").command.segments)
    assert '"${TMPDIR:-/tmp}"' in v.step("preprocess").command.source_text


def test_plain_string_command_escapes(forecast) -> None:
    _, p = forecast
    text = p.step("features").command.source_text
    assert text.startswith("python -m forecast.features \\\n  --sales \"${in.sales}\"")
    assert 'echo "features built by $USER on $(hostname)" >&2' in text


# ---- env ---------------------------------------------------------------------------------------------


def test_env_values(fraud, rag, vision) -> None:
    _, p = fraud
    token, level = p.step("extract").env
    assert (token.name, token.value) == ("WAREHOUSE_TOKEN", ir.SecretRef(name="warehouse_token", span=token.value.span))
    assert (level.name, level.value.value) == ("ETL_LOG_LEVEL", "info")
    assert isinstance(level.value, ir.LiteralValue)
    _, r = rag
    model, home = r.step("build_index").env
    assert model.value == ir.ParamRef(name="embedding_model", span=model.value.span)
    assert home.value.value == "/cache/huggingface"
    _, v = vision
    assert [e.name for e in v.step("train").env] == ["WANDB_API_KEY", "WANDB_PROJECT", "WANDB_NAME", "NCCL_DEBUG"]
    assert [type(e.value).__name__ for e in v.step("train").env] == [
        "SecretRef", "LiteralValue", "ParamRef", "LiteralValue"]


def test_secrets_reach_steps_only_through_env(fraud) -> None:
    _, p = fraud
    for task in (*p.steps, *p.monitors):
        if task.command is None:
            continue
        assert "${secret." not in task.command.source_text


# ---- conditions, gates, monitors -----------------------------------------------------------------------


def test_gate_requirements_and_approval(fraud) -> None:
    _, p = fraud
    release = p.gate("release")
    first = release.requires[0].condition
    assert isinstance(first, ir.Comparison) and first.op == ">="
    assert first.left == ir.MetricRef(step="evaluate", output="report", key="auc", span=first.left.span)
    assert first.right == ir.ParamRef(name="min_auc", span=first.right.span)
    assert release.approval.reviewers == ("acme/risk-officers", "acme/fraud-ml-leads")
    assert release.approval.timeout == 48 * 3600
    assert release.after == ("explain",)


def test_nested_condition_and_when(vision) -> None:
    _, p = vision
    condition = p.gate("quality").requires[0].condition
    assert isinstance(condition, ir.BoolCondition) and condition.op == "and"
    either, negated = condition.operands
    assert isinstance(either, ir.BoolCondition) and either.op == "or"
    assert isinstance(negated, ir.NotCondition)
    when = p.step("benchmark").when
    assert isinstance(when, ir.BoolCondition)
    assert [type(o).__name__ for o in ir.condition_operands(when)] == [
        "ParamRef", "LiteralValue", "ParamRef", "LiteralValue"]


def test_monitor(fraud) -> None:
    _, p = fraud
    (drift,) = p.monitors
    assert drift.watch.artifact_id == "deploy.endpoint"
    assert drift.schedule.expression == "0 * * * *"
    assert drift.on_breach == "retrain"
    (requirement,) = drift.requires
    assert [o.artifact_id for o in ir.condition_operands(requirement.condition) if isinstance(o, ir.MetricRef)] == [
        "drift.report", "drift.report"]


# ---- the graph -------------------------------------------------------------------------------------------


def test_node_kinds(fraud) -> None:
    result, p = fraud
    graph = result.graph(p)
    assert graph.nodes(NodeKind.SOURCE) == ["transactions", "merchants"]
    assert graph.nodes(NodeKind.GATE) == ["release"]
    assert graph.nodes(NodeKind.MONITOR) == ["drift"]
    assert graph.kind("validate") is NodeKind.STEP


def test_edges_and_their_kinds(fraud) -> None:
    result, p = fraud
    graph = result.graph(p)
    edges = set(graph.edges())
    assert ("transactions", "extract", EdgeKind.DATA) in edges
    assert ("anonymize", "validate", EdgeKind.DATA) in edges  # a template's artifact argument
    assert ("validate", "split", EdgeKind.AFTER) in edges
    assert ("explain", "release", EdgeKind.AFTER) in edges
    assert ("release", "deploy", EdgeKind.AFTER) in edges
    assert ("evaluate", "release", EdgeKind.GATE) in edges
    assert ("validate", "release", EdgeKind.GATE) in edges
    assert ("deploy", "drift", EdgeKind.WATCH) in edges
    assert ("split", "drift", EdgeKind.DATA) in edges
    assert {k for _, _, k in edges} == {EdgeKind.DATA, EdgeKind.AFTER, EdgeKind.GATE, EdgeKind.WATCH}
    assert len(edges) == len(graph.edges()) == 18
    assert graph.edge_kinds("train", "evaluate") == {EdgeKind.DATA}
    assert graph.edge_kinds("evaluate", "train") == frozenset()
    assert graph.dependencies("extract") == []  # sources are data at rest
    assert graph.predecessors("extract") == ["transactions", "merchants"]


def test_condition_edge_and_edge_with_two_kinds() -> None:
    text = f"""pipeline p {{
  step a {{ image = "{PINNED}" run = "x ${{out.m}}" out m: Metrics }}
  step b {{ image = "{PINNED}" run = "x ${{in.m}}" in m: Metrics = a.m  when a.m.loss < 1 }}
  step c {{ image = "{PINNED}" run = "x" after a }}
}}"""
    result = load_text(text)
    assert result.diagnostics == ()
    graph = result.graph("p")
    assert graph.edge_kinds("a", "b") == {EdgeKind.DATA, EdgeKind.CONDITION}
    assert graph.edge_kinds("a", "c") == {EdgeKind.AFTER}
    assert graph.edges() == [("a", "b", EdgeKind.DATA), ("a", "b", EdgeKind.CONDITION), ("a", "c", EdgeKind.AFTER)]


def test_topological_order(fraud, vision) -> None:
    result, p = fraud
    assert result.graph(p).topological_order() == [
        "transactions", "merchants", "extract", "anonymize", "validate", "split", "train", "evaluate",
        "explain", "release", "deploy", "drift",
    ]
    result, v = vision
    order = result.graph(v).topological_order()
    for before, after in [("prepare", "validate"), ("validate", "train"), ("smoke_test", "train"),
                          ("evaluate", "quality"), ("quality", "register"), ("quality", "benchmark")]:
        assert order.index(before) < order.index(after)


def test_topological_order_respects_every_edge() -> None:
    for path in EXAMPLE_FILES:
        result = mlplang.load(path)
        for pipeline in result.pipelines:
            graph = result.graph(pipeline)
            position = {n: i for i, n in enumerate(graph.topological_order())}
            assert sorted(position) == sorted(graph.nodes())
            for source, target, _ in graph.edges():
                assert position[source] < position[target]
            assert graph.find_cycle() is None


def test_find_cycle_reports_the_path() -> None:
    text = f"""pipeline p {{
  step a {{ image = "{PINNED}" run = "x ${{in.i}} ${{out.o}}" in i: Dataset = c.o  out o: Dataset }}
  step b {{ image = "{PINNED}" run = "x ${{out.o}}" out o: Dataset  after a }}
  step c {{ image = "{PINNED}" run = "x ${{out.o}}" out o: Dataset  after b }}
  step d {{ image = "{PINNED}" run = "x" after a }}
}}"""
    result = load_text(text)
    graph = result.graph("p")
    assert graph.find_cycle() == ["a", "b", "c", "a"]
    (diagnostic,) = result.diagnostics
    assert diagnostic.code == codes.DEPENDENCY_CYCLE.code
    assert '"a" -> "b" -> "c" -> "a"' in diagnostic.message
    assert text[diagnostic.span.start:diagnostic.span.end] == "a"
    assert diagnostic.span.line == 2
    assert [text[label.span.start:label.span.end] for label in diagnostic.labels] == ["b", "c"]
    assert not result.ok
    with pytest.raises(nx.NetworkXUnfeasible):
        graph.topological_order()


def test_find_cycle_through_a_gate() -> None:
    text = f"""pipeline p {{
  step train {{ image = "{PINNED}" run = "x ${{out.m}}" out m: Metrics  after g }}
  gate g {{ require train.m.auc > 0.5 }}
}}"""
    result = load_text(text)
    assert result.graph("p").find_cycle() == ["train", "g", "train"]
    assert codes_of(result) == [codes.DEPENDENCY_CYCLE.code]


def test_after_itself_is_reported_without_an_edge() -> None:
    result = load_text(f'pipeline p {{ step a {{ image = "{PINNED}" run = "x" after a }} }}')
    assert codes_of(result) == [codes.DEPENDENCY_CYCLE.code]
    assert result.graph("p").edges() == []


# ---- lineage ---------------------------------------------------------------------------------------------


def test_lineage_of_the_fraud_example(fraud) -> None:
    result, p = fraud
    graph = result.graph(p)
    assert graph.upstream_sources("deploy.endpoint") == ["merchants", "transactions"]
    assert graph.upstream_sources("transactions") == ["transactions"]
    assert graph.lineage("train.model") == ["anonymize.clean", "extract.table", "merchants", "split.train",
                                            "transactions"]
    derived = graph.derived_from("anonymize.clean")
    assert {"validate.report", "split.train", "split.holdout", "train.model", "evaluate.report",
            "deploy.endpoint", "drift.report"} <= set(derived)
    assert "extract.table" not in derived
    assert graph.derived_from("evaluate.report") == []
    assert graph.artifact_parents("evaluate.report") == ["split.holdout", "train.metrics", "train.model"]
    assert graph.lineage("no.such") == [] and graph.derived_from("no.such") == []
    # `explain` has no outputs: it is in the task graph, not in the artifact graph
    assert not any(a.startswith("explain.") for a in graph.artifact_ids())


def test_pii_lineage_stops_at_an_output_that_declares_it(fraud) -> None:
    result, p = fraud
    lineage = Lineage(p, result.graph(p))
    assert lineage.pii("transactions") == {"card_number", "email", "ip_address"}
    assert lineage.pii("extract.table") == {"card_number", "email", "ip_address"}
    assert lineage.pii_sources("extract.table") == ["transactions"]
    assert lineage.pii("anonymize.clean") == frozenset()
    assert lineage.pii("train.model") == frozenset()
    assert lineage.pii("deploy.endpoint") == frozenset()


def test_metrics_about_a_model(fraud) -> None:
    result, p = fraud
    lineage = Lineage(p, result.graph(p))
    assert lineage.metrics_about("train.model") == {"train.metrics", "evaluate.report", "drift.report"}
    assert [s.name for s in lineage.sources_of("train.model")] == ["merchants", "transactions"]


# ---- immutability -------------------------------------------------------------------------------------------


def test_ir_is_immutable(fraud) -> None:
    result, p = fraud
    with pytest.raises(pydantic.ValidationError):
        p.name = "other"  # type: ignore[misc]
    step = p.step("train")
    with pytest.raises(pydantic.ValidationError):
        step.retries = 5  # type: ignore[misc]
    with pytest.raises(pydantic.ValidationError):
        step.command.segments[0].text = "rm -rf /"  # type: ignore[misc]
    with pytest.raises(pydantic.ValidationError):
        p.gate("release").approval.reviewers = ()  # type: ignore[misc]
    assert isinstance(p.steps, tuple) and isinstance(step.inputs, tuple) and isinstance(step.env, tuple)
    with pytest.raises(AttributeError):
        p.steps.append(step)  # type: ignore[attr-defined]
    changed = step.model_copy(update={"retries": 5})
    assert changed.retries == 5 and step.retries == 2
    assert result.graph(p).pipeline is p


def test_ir_rejects_unknown_fields_and_bad_values() -> None:
    span = mlplang.load_text("pipeline p {}", "t.mlp").pipelines[0].span
    with pytest.raises(pydantic.ValidationError):
        ir.Secret(name="x", span=span, extra=1)  # type: ignore[call-arg]
    with pytest.raises(pydantic.ValidationError):
        ir.ArtifactType(kind="Spreadsheet")  # type: ignore[arg-type]


def test_task_graph_view_is_read_only(fraud) -> None:
    result, p = fraud
    view = result.graph(p).task_graph
    with pytest.raises(nx.NetworkXError):
        view.add_edge("deploy", "extract")
    assert result.graph(p).find_cycle() is None


def test_ir_round_trips_through_json(fraud) -> None:
    """Backends may cache or ship the IR: it serialises and validates back unchanged."""
    _, p = fraud
    assert ir.Pipeline.model_validate_json(p.model_dump_json()) == p


# ---- the lowerer builds nodes without validation: they must still validate -----------------------------------

IR_PROGRAMS = sorted({*EXAMPLE_FILES, *(Path(__file__).resolve().parent / "programs").glob("*.mlp")})


def _assert_identical(built: object, validated: object, where: str) -> None:
    """Equal *and* of the same types all the way down: `1 == 1.0 == True` and
    `[x] != (x,)` would let a wrongly typed field slip through `==` alone."""
    assert type(built) is type(validated), f"{where}: {type(built).__name__} != {type(validated).__name__}"
    if isinstance(built, pydantic.BaseModel):
        assert built.model_fields_set == set(type(built).model_fields), f"{where}: fields set"
        assert list(built.__dict__) == list(type(built).model_fields), f"{where}: fields out of order"
        for name in type(built).model_fields:
            _assert_identical(getattr(built, name), getattr(validated, name), f"{where}.{name}")
    elif isinstance(built, tuple) and not hasattr(built, "_fields"):
        assert len(built) == len(validated), where
        for i, (a, b) in enumerate(zip(built, validated)):
            _assert_identical(a, b, f"{where}[{i}]")
    else:
        assert built == validated, where


@pytest.mark.parametrize("path", IR_PROGRAMS, ids=lambda p: p.name)
def test_lowered_ir_revalidates(path: Path) -> None:
    """Every node the lowerer builds (with `IRNode.trusted`, skipping validation)
    is what validating its own dump gives back, field for field and type for type."""
    result = mlplang.load(path)
    assert result.pipelines or not result.ok
    for pipeline in result.pipelines:
        validated = ir.Pipeline.model_validate(pipeline.model_dump())
        assert validated == pipeline
        _assert_identical(pipeline, validated, pipeline.name)
        assert ir.Pipeline.model_validate_json(pipeline.model_dump_json()) == pipeline


def test_trusted_needs_every_field() -> None:
    span = mlplang.load_text("pipeline p {}", "t.mlp").pipelines[0].span
    with pytest.raises(TypeError):
        ir.Secret.trusted(name="x")
    with pytest.raises(TypeError):
        ir.Secret.trusted(name="x", span=span, extra=1)
    secret = ir.Secret.trusted(name="x", span=span)
    assert secret == ir.Secret(name="x", span=span) and hash(secret) == hash(ir.Secret(name="x", span=span))
    with pytest.raises(pydantic.ValidationError):
        secret.name = "y"  # type: ignore[misc]
    changed = secret.model_copy(update={"name": "y"})
    assert changed.name == "y" and secret.name == "x" and secret.model_fields_set == {"name", "span"}


def test_trusted_on_the_base_class_builds_its_constructor_too():
    assert type(ir.IRNode.trusted()) is ir.IRNode
    with pytest.raises(TypeError):
        ir.IRNode.trusted(kind="literal")
