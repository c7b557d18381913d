"""examples/gpu_training.mlp written by hand with kfp's DSL.

See demand_forecast.py. This one has GPU steps (accelerator type and count,
a node selector for the GPU model), a bool and a required param, an `after`
without data, a gate (`quality`) and a `when` on params (`benchmark-when`,
a check writing `holds`): `benchmark` runs under both, as nested `dsl.If`s.
"""

from kfp import dsl, kubernetes
from kfp.dsl import Artifact, Dataset, Input, Metrics, Model, Output, OutputPath

DATA = "ghcr.io/acme/vision-data:2.2.0@sha256:90fc7f7e5008f6d53fb2042ac909dbac76468a4f3389e8971235598e7bb7d223"
TRAIN = "ghcr.io/acme/vision-train:4.0.1@sha256:16b32dfcf5b369daf2fb9ce83791ef2b1f5960ff2a89d31102df91fa5868d07c"
PYTHON = "python:3.12-slim@sha256:cb4ce0eca1043b8d528dc75e658ef840ebfdc3fa73db28d5172fdbaa2969de8d"
CARDS = "ghcr.io/acme/modelcards:1.1.4@sha256:e22c78df9af35ac3970aec9bc9632f68f87c5465241e72bc56777c15c45a5125"
SECRET = "mlp-catalog-vision"
GPU_LABEL = "cloud.google.com/gke-accelerator"


@dsl.container_component
def prepare(manifest: Output[Dataset], holdout: Output[Dataset]):
    return dsl.ContainerSpec(image=DATA, command=["bash", "-c", "python -m catalog_vision.prepare --images gs://acme-vision/catalog-images/ --labels gs://acme-vision/labels/catalog_labels.csv --manifest \"$0\" --holdout \"$1\""],
                             args=[manifest.path, holdout.path])


@dsl.container_component
def validate(data: Input[Dataset], schema: str, report: Output[Metrics]):
    return dsl.ContainerSpec(image=PYTHON, command=["bash", "-c", "python3 check_schema.py \"$0\" \"$1\" \"$2\""],
                             args=[data.path, schema, report.path])


@dsl.container_component
def preprocess(manifest: Input[Dataset], shards: Output[Dataset]):
    return dsl.ContainerSpec(image=DATA, command=["bash", "-c", "python -m catalog_vision.shard --manifest \"$0\" --out \"$1\""],
                             args=[manifest.path, shards.path])


@dsl.container_component
def smoke_test(data: Input[Dataset]):
    return dsl.ContainerSpec(image=TRAIN, command=["bash", "-c", "python -m catalog_vision.train --data \"$0\" --init gs://acme-models/vision/convnext_tiny/imagenet-1k/ --limit 512 --epochs 1 --dry-run"],
                             args=[data.path])


@dsl.container_component
def train(data: Input[Dataset], epochs: int, batch_size: int, learning_rate: float, precision: str,
          experiment_name: str, model: Output[Model], curves: Output[Metrics]):
    return dsl.ContainerSpec(image=TRAIN, command=["bash", "-c", "torchrun -m catalog_vision.train --data \"$0\" --epochs \"$1\" --batch-size \"$2\" --lr \"$3\" --precision \"$4\" --model \"$6\" --curves \"$7\""],
                             args=[data.path, epochs, batch_size, learning_rate, precision, experiment_name, model.path, curves.path])


@dsl.container_component
def evaluate(model: Input[Model], holdout: Input[Dataset], curves: Input[Metrics], report: Output[Metrics]):
    return dsl.ContainerSpec(image=TRAIN, command=["bash", "-c", "python -m catalog_vision.evaluate --model \"$0\" --images \"$1\" --curves \"$2\" --out \"$3\""],
                             args=[model.path, holdout.path, curves.path, report.path])


@dsl.container_component
def quality(evaluate_report: Input[Metrics], validate_report: Input[Metrics], min_top1: float, holds: OutputPath(str)):
    return dsl.ContainerSpec(image=PYTHON, command=["python3", "-c", "import sys; ...  # writes true or false to sys.argv[4]"],
                             args=[evaluate_report.path, validate_report.path, min_top1, holds])


@dsl.container_component
def register(model: Input[Model], evidence: Input[Artifact], registry: str, card_format: str):
    return dsl.ContainerSpec(image=CARDS, command=["bash", "-c", "modelcards render --model \"$0\" --evidence \"$1\" --format \"$3\" && modelcards publish --registry \"$2\""],
                             args=[model.path, evidence.path, registry, card_format])


@dsl.container_component
def benchmark_when(run_benchmark: bool, precision: str, holds: OutputPath(str)):
    return dsl.ContainerSpec(image=PYTHON, command=["python3", "-c", "import sys; ...  # writes true or false to sys.argv[3]"],
                             args=[run_benchmark, precision, holds])


@dsl.container_component
def benchmark(model: Input[Model], precision: str, experiment_name: str):
    return dsl.ContainerSpec(image=TRAIN, command=["bash", "-c", "python -m catalog_vision.benchmark --model \"$0\" --precision \"$1\""],
                             args=[model.path, precision, experiment_name])


def _resources(task, cpu: str, memory: str, gpu_type: str | None = None):
    task.set_cpu_limit(cpu).set_cpu_request(cpu).set_memory_limit(memory).set_memory_request(memory)
    if gpu_type is not None:
        task.set_accelerator_type("nvidia.com/gpu").set_accelerator_limit(1)
        kubernetes.add_node_selector(task, label_key=GPU_LABEL, label_value=gpu_type)
    return task


@dsl.pipeline(name="catalog-vision")
def pipeline(experiment_name: str, epochs: int = 30, batch_size: int = 256, learning_rate: float = 3.0e-4,
             precision: str = "bf16", min_top1: float = 0.92, run_benchmark: bool = False):
    prepared = _resources(prepare(), "4", "16Gi")
    checked = validate(data=prepared.outputs["manifest"], schema="schemas/catalog_manifest.json")
    checked.set_retry(1)
    kubernetes.set_timeout(checked, 600)
    shards = _resources(preprocess(manifest=prepared.outputs["manifest"]), "16", "64Gi")
    kubernetes.set_timeout(shards, 7200)
    smoke = _resources(smoke_test(data=shards.outputs["shards"]), "4", "16Gi", "nvidia-tesla-t4")
    kubernetes.set_timeout(smoke, 900)
    trained = train(data=shards.outputs["shards"], epochs=epochs, batch_size=batch_size, learning_rate=learning_rate,
                    precision=precision, experiment_name=experiment_name).after(checked, smoke)
    _resources(trained, "8", "32Gi", "nvidia-tesla-a100").set_retry(2).set_caching_options(False)
    kubernetes.set_timeout(trained, 28800)
    kubernetes.use_secret_as_env(trained, secret_name=SECRET, secret_key_to_env={"wandb_api_key": "WANDB_API_KEY"})
    scored = evaluate(model=trained.outputs["model"], holdout=prepared.outputs["holdout"], curves=trained.outputs["curves"])
    _resources(scored, "3500m", "24Gi", "nvidia-l4")
    kubernetes.set_timeout(scored, 2700)
    gate = quality(evaluate_report=scored.outputs["report"], validate_report=checked.outputs["report"], min_top1=min_top1)
    wanted = benchmark_when(run_benchmark=run_benchmark, precision=precision)
    with dsl.If(gate.outputs["holds"] == "true", name="quality"):
        card = register(model=trained.outputs["model"], evidence=scored.outputs["report"],
                        registry="models.acme.example/catalog-vision", card_format="html")
        _resources(card, "1", "2Gi").set_retry(2)
        kubernetes.set_timeout(card, 900)
        kubernetes.use_secret_as_env(card, secret_name=SECRET, secret_key_to_env={"registry_token": "MODEL_REGISTRY_TOKEN"})
        with dsl.If(wanted.outputs["holds"] == "true", name="benchmark"):
            bench = _resources(benchmark(model=trained.outputs["model"], precision=precision,
                                         experiment_name=experiment_name), "4", "16Gi", "nvidia-l4")
            kubernetes.set_timeout(bench, 1800)
            kubernetes.use_secret_as_env(bench, secret_name=SECRET, secret_key_to_env={"wandb_api_key": "WANDB_API_KEY"})
