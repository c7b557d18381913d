"""Airflow benchmark: `mlp compile --target airflow`, and how long Airflow
takes to load the Dag file it writes, against a hand-written Dag file and a
dag-factory YAML config of the same pipeline.

For generated pipelines (bench/generate.py; `chain`, and `wide`), four
measurements, each in a fresh process:

  compile      `.venv/bin/mlp compile bench.mlp --target airflow -o OUT`,
               process to process (start-up, parse, check with every rule,
               emit, write the pipeline's and the monitor's Dag files);
  mlp Dag      Airflow's `DagBag` loading the pipeline's file mlp wrote;
  hand-written `DagBag` loading the same pipeline written by hand
               (bench/airflow_dags.py: one BashOperator per step and one for
               the gate, the same dependencies, `a >> b`);
  dag-factory  `DagBag` loading the two-line loader that has dag-factory
               build the Dag from the equivalent YAML (bench/airflow_dags.py).

A DagBag run is `.venv-airflow/bin/python` with `AIRFLOW_HOME` a fresh
temporary folder: it imports airflow and `DagBag` first (reported apart as
"import airflow"), then times only `DagBag(dag_folder=FILE)` (Airflow 3.3 has
no `include_examples`; examples are off through
`AIRFLOW__CORE__LOAD_EXAMPLES`), checks that it loaded exactly one Dag with no
import errors and reports its task and dependency counts. dag-factory's
telemetry is switched off (it would call the network). No byte code is
written (`PYTHONDONTWRITEBYTECODE=1`), so every load compiles the Dag file, as
the first parse after a change does; Airflow's own packages load from their
installed byte code.

Each cell: one untimed warm-up (byte code, file caches), then the median of
N runs with min and max. Output: progress on stderr, a markdown table on
stdout (for docs/benchmarks.md), JSON in bench/results/airflow.json.

Usage: python bench/bench_airflow.py [--sizes 100,1000] [--shapes chain,wide] [--repeats N] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
MLP = ROOT / ".venv" / "bin" / "mlp"
AIRFLOW_PYTHON = ROOT / ".venv-airflow" / "bin" / "python"
DEFAULT_JSON = HERE / "results" / "airflow.json"
DEFAULT_SIZES = (100, 1_000)
DEFAULT_SHAPES = ("chain", "wide")
DEFAULT_REPEATS = 5

sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))
from airflow_dags import DAGFACTORY_LOADER, dagfactory_yaml, handwritten_source, tasks_of  # noqa: I001
from bench_frontend import Timing, machine_info
from generate import generate

# Runs in .venv-airflow: import first, then time only the DagBag load of one file.
PROBE = r"""
import json, sys, time
t0 = time.perf_counter()
import airflow
from airflow.dag_processing.dagbag import DagBag
t1, c1 = time.perf_counter(), time.process_time()
bag = DagBag(dag_folder=sys.argv[1])
t2, c2 = time.perf_counter(), time.process_time()
dags = list(bag.dags.values())
print(json.dumps({
    "import_s": t1 - t0, "parse_s": t2 - t1, "parse_cpu_s": c2 - c1,
    "errors": {str(k): str(v)[-2000:] for k, v in bag.import_errors.items()},
    "dags": [d.dag_id for d in dags],
    "tasks": sum(len(d.tasks) for d in dags),
    "dependencies": sum(len(t.upstream_task_ids) for d in dags for t in d.tasks),
}))
"""


@dataclass
class Series(Timing):
    import_s: list[float] = field(default_factory=list)
    tasks: int = 0
    dependencies: int = 0
    file_bytes: int = 0

    def cell(self, scale: float = 1000.0) -> str:
        return f"{self.wall * scale:,.0f} ({min(self.wall_s) * scale:,.0f}-{max(self.wall_s) * scale:,.0f})"


@dataclass
class Row:
    shape: str
    n: int
    compile: Series = field(default_factory=Series)
    mlp: Series = field(default_factory=Series)
    handwritten: Series = field(default_factory=Series)
    dagfactory: Series = field(default_factory=Series)


def airflow_env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
        "AIRFLOW__DAG_FACTORY__ENABLE_TELEMETRY": "False",
        "DO_NOT_TRACK": "1",
        "SCARF_NO_ANALYTICS": "1",
        # No cached byte code for the Dag files: each load compiles its file,
        # as the first parse after the file changes does.
        "PYTHONDONTWRITEBYTECODE": "1",
    })
    return env


def time_compile(folder: Path) -> tuple[float, float]:
    """Wall and CPU (user + system of the child, `os.wait4`) seconds of one compile."""
    start = time.perf_counter()
    process = subprocess.Popen([str(MLP), "compile", "bench.mlp", "--target", "airflow", "-o", "mlp-out"],
                               cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    stderr = process.stderr.read()  # drain it (the warnings) so the child never blocks
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    process.stderr.close()
    if process.returncode != 0:
        raise SystemExit(f"mlp compile failed:\n{stderr.decode()[-3000:]}")
    return wall, usage.ru_utime + usage.ru_stime


def probe(path: Path, env: dict[str, str]) -> dict:
    result = subprocess.run([str(AIRFLOW_PYTHON), "-c", PROBE, str(path)], env=env, cwd=path.parent,
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"DagBag probe of {path} failed:\n{result.stderr[-3000:]}")
    report = json.loads(result.stdout.strip().splitlines()[-1])
    if report["errors"] or len(report["dags"]) != 1:
        raise SystemExit(f"{path}: expected one Dag and no import errors, got {report}")
    return report


def prepare(shape: str, n: int, folder: Path) -> dict[str, Path]:
    from mlplang.api import load_text

    text = generate(n, shape)
    (folder / "bench.mlp").write_text(text, encoding="utf-8")
    result = load_text(text, "bench.mlp")
    pipeline = result.pipelines[0]
    dag = tasks_of(pipeline, result.graph(pipeline))
    (folder / "handwritten").mkdir()
    (folder / "handwritten" / f"{dag.dag_id}.py").write_text(handwritten_source(dag), encoding="utf-8")
    (folder / "dagfactory").mkdir()
    (folder / "dagfactory" / "pipeline.yaml").write_text(dagfactory_yaml(dag), encoding="utf-8")
    (folder / "dagfactory" / "load_dags.py").write_text(DAGFACTORY_LOADER, encoding="utf-8")
    return {
        "mlp": folder / "mlp-out" / f"{dag.dag_id}.py",
        "handwritten": folder / "handwritten" / f"{dag.dag_id}.py",
        "dagfactory": folder / "dagfactory" / "load_dags.py",
    }


def run(shapes: list[str], sizes: list[int], repeats: int) -> list[Row]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="mlp-bench-airflow-") as temporary:
        env = airflow_env(Path(temporary) / "airflow-home")
        for shape in shapes:
            for n in sizes:
                folder = Path(temporary) / f"{shape}-{n}"
                folder.mkdir()
                files = prepare(shape, n, folder)
                row = Row(shape, n)
                time_compile(folder)  # warm-up
                for attempt in range(repeats):
                    wall, cpu = time_compile(folder)
                    row.compile.wall_s.append(wall)
                    row.compile.cpu_s.append(cpu)
                    print(f"  {shape} {n}: compile {attempt + 1}/{repeats}: {wall:.2f} s ({cpu:.2f} s CPU)",
                          file=sys.stderr)
                row.compile.file_bytes = sum(p.stat().st_size for p in (folder / "mlp-out").iterdir())
                for side, path in files.items():
                    series: Series = getattr(row, side)
                    probe(path, env)  # warm-up
                    for attempt in range(repeats):
                        report = probe(path, env)
                        series.wall_s.append(report["parse_s"])
                        series.cpu_s.append(report["parse_cpu_s"])
                        series.import_s.append(report["import_s"])
                        print(f"  {shape} {n}: {side} DagBag {attempt + 1}/{repeats}: {report['parse_s']:.3f} s "
                              f"({report['parse_cpu_s']:.3f} s CPU) "
                              f"(import airflow {report['import_s']:.2f} s)", file=sys.stderr)
                    series.tasks, series.dependencies = report["tasks"], report["dependencies"]
                    series.file_bytes = path.stat().st_size + (
                        (path.parent / "pipeline.yaml").stat().st_size if side == "dagfactory" else 0)
                rows.append(row)
    return rows


def versions() -> str:
    result = subprocess.run(
        [str(AIRFLOW_PYTHON), "-c",
         ("from importlib.metadata import version as v; "
          "print(f\"apache-airflow {v('apache-airflow')}, providers-standard {v('apache-airflow-providers-standard')}, "
          "dag-factory {v('dag-factory')}, PyYAML {v('PyYAML')}\")")],
        capture_output=True, text=True, check=True)
    return result.stdout.strip()


def markdown(machine: dict, airflow_versions: str, rows: list[Row], repeats: int) -> str:
    lines = [
        (f"Machine: {machine.get('nproc')} CPUs ({machine.get('cpu')}), {machine.get('memory')}, "
        f"{machine.get('os')}, {machine.get('python')}; mlplang {machine.get('mlplang')} "
        f"(commit {machine.get('commit')}); {airflow_versions} in .venv-airflow. {machine.get('date')}; "
        f"load average at start: {machine.get('load_average_at_start')}. Medians of {repeats} runs after a "
        "warm-up."),
        "",
        "Wall time in milliseconds, median (min-max); CPU time of the same runs, median:",
        "",
        ("| shape | steps | `mlp compile` (process) | DagBag: mlp Dag | DagBag: hand-written | DagBag: dag-factory "
        "| import airflow (wall) | tasks, dependencies (mlp / hand / factory) | file KiB (mlp / hand / factory) |"),
        "|---|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for r in rows:
        imports = statistics.median(r.mlp.import_s + r.handwritten.import_s + r.dagfactory.import_s)
        lines.append(
            f"| {r.shape} | {r.n:,} | {r.compile.cell()}; CPU {r.compile.cpu * 1000:,.0f} "
            f"| {r.mlp.cell()}; CPU {r.mlp.cpu * 1000:,.0f} | {r.handwritten.cell()}; CPU {r.handwritten.cpu * 1000:,.0f} "
            f"| {r.dagfactory.cell()}; CPU {r.dagfactory.cpu * 1000:,.0f} | {imports * 1000:,.0f} "
            f"| {r.mlp.tasks}, {r.mlp.dependencies} / {r.handwritten.tasks}, {r.handwritten.dependencies} "
            f"/ {r.dagfactory.tasks}, {r.dagfactory.dependencies} "
            f"| {r.mlp.file_bytes // 1024:,} / {r.handwritten.file_bytes // 1024:,} / {r.dagfactory.file_bytes // 1024:,} |"
        )
    lines += [
        "",
        "Ratios of medians, wall (CPU):",
        "",
        ("| shape | steps | mlp Dag / hand-written | dag-factory / hand-written | dag-factory / mlp Dag "
        "| compile / hand-written parse | compile / dag-factory parse |"),
        "|---|---:|---:|---:|---:|---:|---:|",
    ]

    def ratio(a: Series, b: Series, digits: int = 2) -> str:
        return f"{a.wall / b.wall:.{digits}f}x ({a.cpu / b.cpu:.{digits}f}x)"

    for r in rows:
        lines.append(
            f"| {r.shape} | {r.n:,} | {ratio(r.mlp, r.handwritten)} | {ratio(r.dagfactory, r.handwritten)} "
            f"| {ratio(r.dagfactory, r.mlp)} | {ratio(r.compile, r.handwritten, 1)} | {ratio(r.compile, r.dagfactory, 1)} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)))
    parser.add_argument("--shapes", default=",".join(DEFAULT_SHAPES))
    parser.add_argument("--repeats", type=int, default=DEFAULT_REPEATS)
    parser.add_argument("--json", default=str(DEFAULT_JSON))
    args = parser.parse_args(argv)
    for needed in (MLP, AIRFLOW_PYTHON):
        if not needed.exists():
            parser.error(f"{needed} is missing: run scripts/setup")
    machine = machine_info()
    airflow_versions = versions()
    rows = run(args.shapes.split(","), [int(s) for s in args.sizes.split(",")], args.repeats)
    print(markdown(machine, airflow_versions, rows, args.repeats))
    path = Path(args.json)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"machine": machine, "versions": airflow_versions,
                                "rows": [asdict(r) for r in rows]}, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
