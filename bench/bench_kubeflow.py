"""Kubeflow benchmark: `mlp compile --target kubeflow` against kfp's own
compiler building and compiling the same pipeline, process to process.

For generated `chain` pipelines (bench/generate.py) of 100, 1,000 and 2,000
steps, each side is a fresh process, so interpreter start-up and imports are
counted, as a user or a CI job pays them:

  mlp   `python -m mlplang compile bench.mlp --target kubeflow -o OUT`: read,
        parse, check (every lint rule), emit the pipeline and monitor specs,
        write them (approvals waived through mlp.toml: the generated gate has one);
  kfp   `.venv-kfp/bin/python pipeline_dsl.py OUT.yaml`: the same pipeline
        written with kfp's DSL (bench/kfp_dsl.py writes that file from the IR,
        untimed: it stands for the source a team would maintain), built and
        compiled by `kfp.compiler.Compiler`.

Each is run several times after an untimed warm-up; reported are the median
wall time and the median CPU time (user + system of the child, from
`os.wait4`, which a loaded machine disturbs less), and kfp / mlp ratios.

Output: progress on stderr, a markdown table on stdout (paste it into
docs/benchmarks.md) and JSON in bench/results/kubeflow.json (git-ignored).

Usage: python bench/bench_kubeflow.py [--sizes 100,1000,2000] [--repeats N] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
KFP_PYTHON = ROOT / ".venv-kfp" / "bin" / "python"
DEFAULT_JSON = HERE / "results" / "kubeflow.json"
DEFAULT_SIZES = (100, 1_000, 2_000)
DEFAULT_REPEATS = {100: 5, 1_000: 3, 2_000: 2}

sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))
from bench_frontend import Timing, machine_info
from generate import generate
from kfp_dsl import dsl_source


@dataclass
class Side(Timing):
    output_bytes: int = 0
    tasks: int = 0


@dataclass
class Row:
    n: int
    mlp: Side = field(default_factory=Side)
    kfp: Side = field(default_factory=Side)


def timed(command: list[str], cwd: Path) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of one process; fails loudly."""
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command[:3])}... failed:\n{process.stderr.read().decode()[-3000:]}")
    process.stderr.close()
    return wall, usage.ru_utime + usage.ru_stime


def count_tasks(path: Path) -> int:
    import yaml

    spec = next(yaml.safe_load_all(path.read_text(encoding="utf-8")))
    tasks = 0
    for component in [spec["root"], *spec["components"].values()]:
        tasks += len(component.get("dag", {}).get("tasks", {}))
    return tasks


def prepare(n: int, folder: Path, shape: str = "chain") -> tuple[list[str], list[str]]:
    """Write bench.mlp (and mlp.toml), the kfp DSL file; the mlp and kfp commands to run in `folder`."""
    from mlplang.api import load_text

    text = generate(n, shape)
    (folder / "bench.mlp").write_text(text, encoding="utf-8")
    (folder / "mlp.toml").write_text('[kubeflow]\napproval = "waive"\n', encoding="utf-8")
    result = load_text(text, "bench.mlp")
    pipeline = result.pipelines[0]
    (folder / "pipeline_dsl.py").write_text(dsl_source(pipeline, result.graph(pipeline)), encoding="utf-8")
    mlp = [sys.executable, "-m", "mlplang", "compile", "bench.mlp", "--target", "kubeflow", "-o", "mlp-out"]
    kfp = [str(KFP_PYTHON), "pipeline_dsl.py", "kfp.yaml"]
    return mlp, kfp


def run(sizes: list[int], repeats: int | None) -> list[Row]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="mlp-bench-kfp-") as temporary:
        for n in sizes:
            folder = Path(temporary) / str(n)
            folder.mkdir()
            mlp, kfp = prepare(n, folder)
            row = Row(n)
            times = repeats or DEFAULT_REPEATS.get(n, 3)
            for side, command in (("mlp", mlp), ("kfp", kfp)):
                timed(command, folder)  # warm-up: byte code and file caches
                for attempt in range(times):
                    wall, cpu = timed(command, folder)
                    getattr(row, side).wall_s.append(wall)
                    getattr(row, side).cpu_s.append(cpu)
                    print(f"  {n} steps, {side} run {attempt + 1}/{times}: {wall:.2f} s wall, {cpu:.2f} s CPU",
                          file=sys.stderr)
            spec = folder / "mlp-out" / f"bench_chain_{n}.yaml"
            row.mlp.output_bytes = sum(p.stat().st_size for p in (folder / "mlp-out").iterdir())
            row.mlp.tasks = count_tasks(spec)
            row.kfp.output_bytes = (folder / "kfp.yaml").stat().st_size
            row.kfp.tasks = count_tasks(folder / "kfp.yaml")
            rows.append(row)
    return rows


def markdown(machine: dict, rows: list[Row]) -> str:
    lines = [
        f"Machine: {machine.get('nproc')} CPUs ({machine.get('cpu')}), {machine.get('memory')}, "
        f"{machine.get('os')}, {machine.get('python')}; mlplang {machine.get('mlplang')} "
        f"(commit {machine.get('commit')}), kfp 2.17 in .venv-kfp. {machine.get('date')}; "
        f"load average at start: {machine.get('load_average_at_start')}.",
        "",
        "| steps | mlp wall (s) | mlp CPU (s) | kfp wall (s) | kfp CPU (s) | kfp / mlp (wall) | kfp / mlp (CPU) "
        "| mlp spec (KiB, tasks) | kfp spec (KiB, tasks) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row.n:,} | {row.mlp.wall:.2f} | {row.mlp.cpu:.2f} | {row.kfp.wall:.2f} | {row.kfp.cpu:.2f} "
            f"| {row.kfp.wall / row.mlp.wall:.1f}x | {row.kfp.cpu / row.mlp.cpu:.1f}x "
            f"| {row.mlp.output_bytes // 1024:,}, {row.mlp.tasks} | {row.kfp.output_bytes // 1024:,}, {row.kfp.tasks} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)))
    parser.add_argument("--repeats", type=int, default=None, help="runs per cell (default: 5 / 3 / 2 by size)")
    parser.add_argument("--json", default=str(DEFAULT_JSON))
    args = parser.parse_args(argv)
    if not KFP_PYTHON.exists():
        parser.error(f"{KFP_PYTHON} is missing: run scripts/setup")
    machine = machine_info()
    rows = run([int(s) for s in args.sizes.split(",")], args.repeats)
    report = markdown(machine, rows)
    print(report)
    for row in rows:
        print(f"{row.n} steps: kfp takes {row.kfp.wall / row.mlp.wall:.1f}x mlp's wall time, "
              f"{row.kfp.cpu / row.mlp.cpu:.1f}x its CPU time", file=sys.stderr)
    path = Path(args.json)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"machine": machine, "rows": [asdict(r) for r in rows]}, indent=2) + "\n",
                    encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
