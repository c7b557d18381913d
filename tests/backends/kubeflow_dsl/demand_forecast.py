"""examples/continuous_training.mlp written by hand with kfp's DSL.

tests/backends/test_kubeflow_kfp.py compiles it with kfp's own compiler and
compares the structure with what mlp emits: tasks, dependencies, artifact
and parameter types, the gate's condition (`dsl.If` on the check's `holds`),
caching, retries, resources and Kubernetes settings. The commands are
abbreviated: the comparison does not read them.

The gate `promote` is a container component writing `holds`, as mlp's check
task does; a source is its URI, written into the command.
"""

from kfp import dsl, kubernetes
from kfp.dsl import Artifact, Dataset, Input, Metrics, Model, Output, OutputPath

SYNC = "ghcr.io/acme/warehouse-sync:0.8.1@sha256:5fcfd0b363f8b72d2de0af9bce09206502895a6f25263551a7889111226faee2"
FORECAST = "ghcr.io/acme/forecast:2.6.0@sha256:f39fc8ffae5a5a8706f8c98527fc576613aaebfa189aeb571e49bd719dc7cf60"
DEPLOYER = "ghcr.io/acme/deployer:0.9.0@sha256:8a7e4aae3ca7a6f46b985255827f7c1c69871a2340c619c3f8b3079b9367c472"
CARDS = "ghcr.io/acme/modelcards:1.1.4@sha256:e22c78df9af35ac3970aec9bc9632f68f87c5465241e72bc56777c15c45a5125"
CHECKER = "python:3.12-slim@sha256:cb4ce0eca1043b8d528dc75e658ef840ebfdc3fa73db28d5172fdbaa2969de8d"
SECRET = "mlp-demand-forecast"


@dsl.container_component
def sales_snapshot(table: str, lookback_days: int, snapshot: Output[Dataset]):
    return dsl.ContainerSpec(image=SYNC, command=["bash", "-c", 'warehouse-sync snapshot --source s3://acme-data/sales/daily/ --table "$0" --lookback-days "$1" --out "$2"'],
                             args=[table, lookback_days, snapshot.path])


@dsl.container_component
def weather_snapshot(table: str, lookback_days: int, snapshot: Output[Dataset]):
    return dsl.ContainerSpec(image=SYNC, command=["bash", "-c", 'warehouse-sync snapshot --source s3://acme-data/weather/daily/ --table "$0" --lookback-days "$1" --out "$2"'],
                             args=[table, lookback_days, snapshot.path])


@dsl.container_component
def features(sales: Input[Dataset], weather: Input[Dataset], horizon_days: int, table: Output[Dataset]):
    return dsl.ContainerSpec(image=FORECAST, command=["bash", "-c", "python -m forecast.features --sales \"$0\" --weather \"$1\" --horizon \"$2\" --out \"$3\""],
                             args=[sales.path, weather.path, horizon_days, table.path])


@dsl.container_component
def train(features: Input[Dataset], horizon_days: int, model: Output[Model]):
    return dsl.ContainerSpec(image=FORECAST, command=["bash", "-c", "python -m forecast.train --features \"$0\" --horizon \"$1\" --model \"$2\""],
                             args=[features.path, horizon_days, model.path])


@dsl.container_component
def backtest(model: Input[Model], features: Input[Dataset], horizon_days: int, report: Output[Metrics]):
    return dsl.ContainerSpec(image=FORECAST, command=["bash", "-c", "python -m forecast.backtest --model \"$0\" --features \"$1\" --horizon \"$2\" --out \"$3\""],
                             args=[model.path, features.path, horizon_days, report.path])


@dsl.container_component
def promote(backtest_report: Input[Metrics], max_mape: float, holds: OutputPath(str)):
    return dsl.ContainerSpec(image=CHECKER, command=["python3", "-c", "import sys; ...  # writes true or false to sys.argv[3]"],
                             args=[backtest_report.path, max_mape, holds])


@dsl.container_component
def deploy(model: Input[Model], endpoint: Output[Artifact]):
    return dsl.ContainerSpec(image=DEPLOYER, command=["bash", "-c", "python deploy.py --model \"$0\" --endpoint-file \"$1\""],
                             args=[model.path, endpoint.path])


@dsl.container_component
def model_card(model: Input[Model], evidence: Input[Artifact], registry: str, card_format: str):
    return dsl.ContainerSpec(image=CARDS, command=["bash", "-c", "modelcards render --model \"$0\" --evidence \"$1\" --format \"$3\" && modelcards publish --registry \"$2\""],
                             args=[model.path, evidence.path, registry, card_format])


def _snapshot(task):
    task.set_retry(3)
    kubernetes.set_timeout(task, 1800)
    kubernetes.use_secret_as_env(task, secret_name=SECRET, secret_key_to_env={"warehouse_token": "WAREHOUSE_TOKEN"})
    return task


@dsl.pipeline(name="demand-forecast")
def pipeline(horizon_days: int = 28, max_mape: float = 0.12, weather_lookback_days: int = 730):
    sales = _snapshot(sales_snapshot(table="sales_daily", lookback_days=365))
    weather = _snapshot(weather_snapshot(table="weather_daily", lookback_days=weather_lookback_days))
    weather.set_cpu_limit("2").set_cpu_request("2").set_memory_limit("4G").set_memory_request("4G")
    table = features(sales=sales.outputs["snapshot"], weather=weather.outputs["snapshot"], horizon_days=horizon_days)
    table.set_cpu_limit("8").set_cpu_request("8").set_memory_limit("64Gi").set_memory_request("64Gi")
    kubernetes.set_timeout(table, 3600)
    trained = train(features=table.outputs["table"], horizon_days=horizon_days)
    trained.set_cpu_limit("16").set_cpu_request("16").set_memory_limit("64Gi").set_memory_request("64Gi")
    trained.set_retry(1)
    kubernetes.set_timeout(trained, 14400)
    scored = backtest(model=trained.outputs["model"], features=table.outputs["table"], horizon_days=horizon_days)
    scored.set_cpu_limit("8").set_cpu_request("8").set_memory_limit("32Gi").set_memory_request("32Gi")
    kubernetes.set_timeout(scored, 7200)
    gate = promote(backtest_report=scored.outputs["report"], max_mape=max_mape)
    with dsl.If(gate.outputs["holds"] == "true", name="promote"):
        shipped = deploy(model=trained.outputs["model"])
        kubernetes.set_timeout(shipped, 1200)
        kubernetes.use_secret_as_env(shipped, secret_name=SECRET, secret_key_to_env={"deploy_token": "DEPLOY_TOKEN"})
        card = model_card(model=trained.outputs["model"], evidence=scored.outputs["report"],
                          registry="models.acme.example/demand-forecast", card_format="markdown")
        card.set_cpu_limit("1").set_cpu_request("1").set_memory_limit("2Gi").set_memory_request("2Gi")
        card.set_retry(2)
        kubernetes.set_timeout(card, 900)
        kubernetes.use_secret_as_env(card, secret_name=SECRET, secret_key_to_env={"registry_token": "MODEL_REGISTRY_TOKEN"})
