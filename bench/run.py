"""One benchmark harness: mlp against its peers, side by side, in one run.

Everything below runs on the same machine in one invocation, on pipelines from
bench/generate.py (N = number of `step`s; shapes `chain` and `wide`).

In-process stages (this interpreter; an untimed warm-up on a 20-step program
first, `gc.collect()` before every run, `time.perf_counter()` around the call):

  lark_bare       Lark LALR parse of the text with mlplang/grammar/mlp.lark, no
                  transformer, garbage collector on (bench_frontend's "bare Lark");
  lark_bare_nogc  the same with the collector paused (as mlplang pauses it);
  yaml_csafe      PyYAML `yaml.load(doc, Loader=CSafeLoader)` of an equivalent
                  YAML document of the pipeline (`yaml_document`, written once,
                  untimed): a floor for "reading a pipeline file";
  check           `mlplang.check(text)`: parse + names, types, graph (`mlp check`
                  without start-up and printing);
  lint            `mlplang.load_text` + `mlplang.lint.lint` with every rule;
  compile_T       for T in github, airflow, kubeflow: `load_text`, then
                  `mlplang.compile.compile_result` (lint + emit the pipeline's
                  and the monitor's files), then `write_files` into a temporary
                  folder: `mlp compile -t T` without start-up. Kubeflow's
                  approval is waived (`[kubeflow] approval = "waive"`), as in
                  bench_kubeflow.py.

Reported per cell: runs, median, min, max, microseconds per step; per series
the scaling exponent log(t2/t1)/log(n2/n1) between consecutive sizes and the
time ratio for 10x the steps, 10**exponent (the measured ratio when the sizes
differ by 10x).

Processes (fresh interpreter each time, wall clock and CPU = user + system of
the child from `os.wait4`):

  all targets     `mlp compile bench.mlp -t github -t airflow -t kubeflow -o
                  OUT`: load once, lint once, emit GitHub, Airflow and
                  Kubeflow, write every file;
  kfp             bench_kubeflow.py's pair: `python -m mlplang compile -t
                  kubeflow` against the same pipeline written with kfp's DSL
                  (bench/kfp_dsl.py), built and compiled by kfp in .venv-kfp,
                  imports included;
  dag-factory     bench_airflow.py's probe in .venv-airflow: `DagBag` loading
                  dag-factory's loader and the equivalent YAML config
                  (bench/airflow_dags.py) into Dag objects; the DagBag call is
                  timed inside the process, `import airflow` reported apart;
                  compared with compile_airflow above (both without start-up);
  cold start      `mlp check examples/fraud_detection.mlp` against
                  `python -c pass`, interleaved, many repeats;
  language server bench_lsp.py's `measure()`: didChange -> publishDiagnostics
                  on a 500-step chain, debounce 0 (and the default 100 ms).

Peers are skipped above --kfp-max-steps (default 1,000: kfp's compile grows
quadratically) and --dagfactory-max-steps (default 10,000); skips are listed
in the report.

Outputs in --out (default bench/results/): run.md (the markdown report),
run.json (every raw timing), benchmarks.png (matplotlib, log-log; skipped
with a message if matplotlib is missing: `pip install -e '.[bench]'`). With
--write-docs, the plot is copied to docs/img/benchmarks.png and the report
replaces the text between the markers in docs/benchmarks.md.

Usage: python bench/run.py [--quick] [--sizes 10,100,1000,10000] [--shapes chain,wide]
       [--repeats N] [--skip-peers] [--out DIR] [--write-docs]
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import importlib.util
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

import bench_frontend
from bench_frontend import Cell, Timing, add_exponents, machine_info, time_cell
from generate import SHAPES, generate

BENCH_PATH = "bench.mlp"
TARGETS = ("github", "airflow", "kubeflow")
KUBEFLOW_WAIVER = {"kubeflow": {"approval": "waive"}}
STAGES = ("lark_bare", "lark_bare_nogc", "yaml_csafe", "check", "lint", *(f"compile_{t}" for t in TARGETS))
MLP_STAGES = ("check", "lint", *(f"compile_{t}" for t in TARGETS))
STAGE_TITLES = {
    "lark_bare": "bare Lark",
    "lark_bare_nogc": "bare Lark, gc paused",
    "yaml_csafe": "YAML CSafeLoader",
    "check": "mlp check",
    "lint": "mlp lint",
    "compile_github": "compile github",
    "compile_airflow": "compile airflow",
    "compile_kubeflow": "compile kubeflow",
}
DEFAULT_SIZES = (10, 100, 1_000, 10_000)
DEFAULT_REPEATS = {10: 9, 100: 7, 1_000: 5, 10_000: 3}
QUICK_SIZES = (10, 100)
QUICK_REPEATS = 3
DEFAULT_BUDGET_S = 120.0
DEFAULT_OUT = HERE / "results"
DOC = ROOT / "docs" / "benchmarks.md"
DOC_IMAGE = ROOT / "docs" / "img" / "benchmarks.png"
BEGIN_MARKER = "<!-- bench/run.py: begin (generated by `python bench/run.py --write-docs`; do not edit) -->"
END_MARKER = "<!-- bench/run.py: end -->"
COLD_FILE = ROOT / "examples" / "fraud_detection.mlp"
KFP_PYTHON = ROOT / ".venv-kfp" / "bin" / "python"
AIRFLOW_PYTHON = ROOT / ".venv-airflow" / "bin" / "python"
DAGBAG_IMPORT_TIMEOUT_S = 1800

# Targets of the benchmarks issue: (key, description, limit, "<=" / "<" / ">=").
TARGET_SPECS = (
    ("scaling", "time ratio for 10x steps, worst mlp stage (check, lint, compile) and shape", 12.0, "<="),
    ("check_10k", "parse + check of 10,000 steps, `mlplang.check` in process, worst shape (median)", 2.0, "<"),
    ("all_targets", "check + compile to all three targets, 10,000 steps, one process (wall)", 5.0, "<"),
    ("kfp_ratio", "kfp SDK / mlp compile -t kubeflow at 1,000 steps, process to process (wall)", 20.0, ">="),
    ("lark_ratio", "mlp check / bare Lark parse of the same text, largest N, worst shape", 2.0, "<="),
    ("cold_start", "cold start of `mlp check examples/fraud_detection.mlp` (wall, median)", 0.150, "<"),
    ("lsp", "language server didChange -> publishDiagnostics, 500 steps, debounce 0 (median)", 0.050, "<"),
)


# ---- the YAML floor --------------------------------------------------------------


def yaml_document(result, text: str) -> dict:
    """The pipeline as a YAML-shaped document, mirroring the source: one mapping
    per step with its image, command, env, inputs, outputs and settings (what a
    YAML-based pipeline format would hold), no derived data, no positions."""
    (pipeline,) = result.pipelines

    def value(v) -> object:
        return {"param": f"param.{v.name}", "secret": f"secret.{v.name}"}.get(v.kind, getattr(v, "value", None))

    def task(t) -> dict:
        entry: dict = {"image": t.image.reference if t.image else None}
        if t.description:
            entry["description"] = t.description
        if t.command:
            entry["run"] = t.command.source_text
        if t.env:
            entry["env"] = {e.name: value(e.value) for e in t.env}
        if t.inputs:
            entry["in"] = {i.name: {"type": str(i.type), "from": i.ref.artifact_id} for i in t.inputs}
        if t.outputs:
            entry["out"] = {
                o.name: ({"type": str(o.type), "description": o.description} if o.description else str(o.type))
                for o in t.outputs
            }
        if t.resources:
            entry["resources"] = {k: v for k, v in t.resources.model_dump(exclude={"span"}).items() if v is not None}
        if t.retries:
            entry["retries"] = t.retries
        if t.timeout:
            entry["timeout"] = f"{t.timeout}s"
        if getattr(t, "cache", True) is False:
            entry["cache"] = False
        if getattr(t, "after", ()):
            entry["after"] = list(t.after)
        return entry

    def requirement_text(requirement) -> str:
        return text[requirement.span.start:requirement.span.end].removeprefix("require").strip()

    return {"pipeline": {
        "name": pipeline.name,
        "description": pipeline.description,
        "owner": pipeline.owner,
        "schedule": pipeline.schedule.expression if pipeline.schedule else None,
        "risk": pipeline.risk,
        "tags": list(pipeline.tags),
        "params": {p.name: {"type": p.type, "default": p.default} for p in pipeline.params},
        "secrets": [s.name for s in pipeline.secrets],
        "sources": {s.name: {"type": str(s.type), "uri": s.uri, "version": s.version,
                             "description": s.description} for s in pipeline.sources},
        "steps": {s.name: task(s) for s in pipeline.steps},
        "gates": {g.name: {
            "require": [requirement_text(r) for r in g.requires],
            "approval": {"reviewers": list(g.approval.reviewers), "timeout": g.approval.timeout} if g.approval else None,
            "description": g.description,
        } for g in pipeline.gates},
        "monitors": {m.name: {**task(m), "watch": m.watch.artifact_id if m.watch else None,
                              "schedule": m.schedule.expression if m.schedule else None,
                              "require": [requirement_text(r) for r in m.requires],
                              "on_breach": m.on_breach} for m in pipeline.monitors},
    }}


def yaml_text(text: str) -> str:
    import yaml

    import mlplang

    document = yaml_document(mlplang.load_text(text, BENCH_PATH), text)
    return yaml.dump(document, Dumper=yaml.CSafeDumper, sort_keys=False, width=100, allow_unicode=True)


# ---- in-process stages -----------------------------------------------------------------


@dataclass
class Context:
    """Per-run state the stage functions share: scratch folder and inputs."""

    scratch: Path
    yaml_docs: dict[str, str] = field(default_factory=dict)  # text -> YAML doc, by id of the text
    counter: int = 0


def stage_functions(stages: Sequence[str], context: Context) -> tuple[dict[str, Callable[[str], object]], dict[str, str], dict]:
    """The callables to time (text -> anything), the stages skipped and why, setup facts."""
    functions, skipped, setup = {}, {}, {}
    lark_stages = [s for s in stages if s.startswith("lark_")]
    if lark_stages:
        lark_functions, lark_skipped, setup = bench_frontend.stage_functions(lark_stages)
        functions.update(lark_functions)
        skipped.update(lark_skipped)
    if "yaml_csafe" in stages:
        import yaml

        if not getattr(yaml, "__with_libyaml__", False):
            skipped["yaml_csafe"] = "PyYAML was built without libyaml (no CSafeLoader)"
        else:
            functions["yaml_csafe"] = lambda text: yaml.load(context.yaml_docs[text], Loader=yaml.CSafeLoader)
    if "check" in stages:
        import mlplang

        functions["check"] = lambda text: mlplang.check(text, path=BENCH_PATH)
    if "lint" in stages:
        import mlplang
        from mlplang.config import LintConfig
        from mlplang.lint import lint

        config = LintConfig()
        functions["lint"] = lambda text: lint(mlplang.load_text(text, BENCH_PATH), config)
    for target in TARGETS:
        if f"compile_{target}" in stages:
            functions[f"compile_{target}"] = _compile_function(target, context)
    return {s: functions[s] for s in stages if s in functions}, skipped, setup


def _compile_function(target: str, context: Context) -> Callable[[str], object]:
    import mlplang
    from mlplang.backends.writer import write_files
    from mlplang.compile import compile_result
    from mlplang.config import LintConfig

    config = LintConfig(targets=KUBEFLOW_WAIVER)

    def compile_text(text: str) -> list[Path]:
        outcome = compile_result(mlplang.load_text(text, BENCH_PATH), target, config)
        if not outcome.ok:
            raise RuntimeError(f"compile -t {target} failed: {sorted({d.code for d in outcome.diagnostics})}")
        context.counter += 1
        return write_files(context.scratch / f"{target}-{context.counter}", outcome.files)

    return compile_text


def run_stages(args, context: Context, report: dict, log: Callable[[str], None]) -> list[Cell]:
    functions, skipped, setup = stage_functions(args.stages, context)
    report["setup"].update(setup)
    for stage, reason in skipped.items():
        report["skipped"].append({"what": STAGE_TITLES[stage], "why": reason})
    def drop(stage: str, error: Exception, where: str = "") -> None:
        report["skipped"].append({"what": STAGE_TITLES[stage] + where, "why": f"raised {type(error).__name__}: {error}"})
        functions.pop(stage, None)

    for shape in args.shapes:
        warm = generate(bench_frontend.WARMUP_STEPS, shape)
        if "yaml_csafe" in functions:
            try:
                context.yaml_docs[warm] = yaml_text(warm)
            except Exception as error:  # the IR changed under yaml_document: report, go on
                drop("yaml_csafe", error, " (writing the YAML document)")
        for stage, function in list(functions.items()):
            try:
                function(warm)
            except Exception as error:  # report, do not crash the whole run
                drop(stage, error)
        context.yaml_docs.pop(warm, None)
    cells: list[Cell] = []
    for shape in args.shapes:
        for n in args.sizes:
            text = generate(n, shape)
            sizes = {"shape": shape, "n": n, "lines": text.count("\n"), "chars": len(text)}
            if "yaml_csafe" in functions:
                try:
                    context.yaml_docs[text] = yaml_text(text)
                    sizes.update(yaml_lines=context.yaml_docs[text].count("\n"), yaml_chars=len(context.yaml_docs[text]))
                except Exception as error:
                    drop("yaml_csafe", error, f" (writing the YAML document, {shape} {n:,})")
            report["inputs"].append(sizes)
            for stage, function in functions.items():
                cell = Cell(shape, n, stage, text.count("\n"), len(text))
                repeats = args.repeats or DEFAULT_REPEATS.get(n, 3)
                min_runs = 1 if n >= 10_000 else min(3, repeats)
                try:
                    time_cell(cell, function, text, repeats, min_runs, args.budget)
                except Exception as error:
                    report["skipped"].append({"what": f"{STAGE_TITLES[stage]}, {shape} {n:,}",
                                              "why": f"raised {type(error).__name__}: {error}"})
                    continue
                cells.append(cell)
                log(f"{shape:5} {n:>6} {stage:17} runs={len(cell.times_s)} median={cell.median_s * 1e3:10.1f} ms")
                shutil.rmtree(context.scratch, ignore_errors=True)
                context.scratch.mkdir(parents=True, exist_ok=True)
            context.yaml_docs.pop(text, None)
    add_exponents(cells)
    return cells


# ---- processes ----------------------------------------------------------------------------


def timed(command: list[str], cwd: Path, env: dict | None = None) -> tuple[float, float]:
    """bench_kubeflow.timed, with the child's stderr drained while it runs (no pipe dead-lock)."""
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    stderr = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(command[:4])}... failed:\n{stderr.decode(errors='replace')[-3000:]}")
    return wall, usage.ru_utime + usage.ru_stime


def _runs(args, n: int) -> int:
    return args.repeats or DEFAULT_REPEATS.get(n, 3)


def _budgeted(first_s: float, wanted: int, budget_s: float, n: int) -> int:
    """How many timed runs fit in the budget, given one run's time: as bench_frontend's
    in-process cells, at least 3 (or `wanted` if fewer) below 10,000 steps, 1 from there on."""
    least = 1 if n >= 10_000 else min(3, wanted)
    return max(least, min(wanted, int(budget_s / first_s) if first_s > 0 else wanted))


def run_all_targets(args, scratch: Path, report: dict, log: Callable[[str], None]) -> list[dict]:
    rows = []
    warmed = False
    for shape in args.shapes:
        for n in args.sizes:
            folder = scratch / f"all-{shape}-{n}"
            folder.mkdir(parents=True)
            (folder / BENCH_PATH).write_text(generate(n, shape), encoding="utf-8")
            (folder / "mlp.toml").write_text('[kubeflow]\napproval = "waive"\n', encoding="utf-8")
            command = [sys.executable, "-m", "mlplang", "compile", BENCH_PATH, "-t", "github", "-t", "airflow",
                       "-t", "kubeflow", "-o", "out"]
            timing = Timing()
            try:
                if not warmed:  # byte code and file caches, once
                    timed(command, folder)
                    warmed = True
                wall, cpu = timed(command, folder)
                timing.add(wall, cpu)
                for _ in range(_budgeted(wall, _runs(args, n), args.budget, n) - 1):
                    timing.add(*timed(command, folder))
            except RuntimeError as error:
                report["skipped"].append({"what": f"all targets, {shape} {n:,}", "why": str(error)})
                continue
            files = [p for p in (folder / "out").rglob("*") if p.is_file()]
            row = {"shape": shape, "n": n, **asdict(timing), **timing.summary(),
                   "files": len(files), "bytes": sum(p.stat().st_size for p in files)}
            rows.append(row)
            log(f"{shape:5} {n:>6} all targets (process) runs={len(timing.wall_s)} median={timing.wall:.2f} s")
            shutil.rmtree(folder, ignore_errors=True)
    return rows


def run_kfp(args, scratch: Path, report: dict, log: Callable[[str], None]) -> list[dict]:
    if not KFP_PYTHON.exists():
        report["skipped"].append({"what": "kfp", "why": f"{KFP_PYTHON.relative_to(ROOT)} is missing (run scripts/setup)"})
        return []
    import bench_kubeflow

    shapes, sizes = _peer_plan(args, args.kfp_max_steps, "kfp", report)
    rows = []
    warmed = set()
    for shape in shapes:
        for n in sizes:
            folder = scratch / f"kfp-{shape}-{n}"
            folder.mkdir(parents=True)
            row: dict = {"shape": shape, "n": n}
            try:
                mlp_command, kfp_command = bench_kubeflow.prepare(n, folder, shape)
                for side, command in (("mlp", mlp_command), ("kfp", kfp_command)):
                    if side not in warmed:
                        timed(command, folder)
                        warmed.add(side)
                    timing = Timing()
                    wall, cpu = timed(command, folder)
                    timing.add(wall, cpu)
                    for _ in range(_budgeted(wall, _runs(args, n), args.budget, n) - 1):
                        timing.add(*timed(command, folder))
                    row[side] = {**asdict(timing), **timing.summary()}
                    log(f"{shape:5} {n:>6} {side} compile kubeflow (process) runs={len(timing.wall_s)} "
                        f"median={timing.wall:.2f} s")
                spec = folder / "mlp-out" / f"bench_{shape}_{n}.yaml"
                row["mlp"]["tasks"] = bench_kubeflow.count_tasks(spec)
                row["mlp"]["bytes"] = sum(p.stat().st_size for p in (folder / "mlp-out").iterdir())
                row["kfp"]["tasks"] = bench_kubeflow.count_tasks(folder / "kfp.yaml")
                row["kfp"]["bytes"] = (folder / "kfp.yaml").stat().st_size
            except Exception as error:  # noqa: BLE001 - a peer's failure is reported, not fatal
                report["skipped"].append({"what": f"kfp, {shape} {n:,}", "why": f"{type(error).__name__}: {error}"})
                continue
            finally:
                shutil.rmtree(folder, ignore_errors=True)
            rows.append(row)
    return rows


def run_dagfactory(args, scratch: Path, report: dict, log: Callable[[str], None]) -> list[dict]:
    if not AIRFLOW_PYTHON.exists():
        report["skipped"].append({"what": "dag-factory",
                                  "why": f"{AIRFLOW_PYTHON.relative_to(ROOT)} is missing (run scripts/setup)"})
        return []
    import bench_airflow

    shapes, sizes = _peer_plan(args, args.dagfactory_max_steps, "dag-factory", report)
    env = bench_airflow.airflow_env(scratch / "airflow-home")
    # Airflow gives up on a Dag file after 30 s (DagBag import timeout); the
    # 10,000-step dag-factory load takes longer on a small machine.
    env["AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT"] = str(DAGBAG_IMPORT_TIMEOUT_S)
    rows = []
    warmed = False
    for shape in shapes:
        for n in sizes:
            folder = scratch / f"dagfactory-{shape}-{n}"
            folder.mkdir(parents=True)
            try:
                path = bench_airflow.prepare(shape, n, folder)["dagfactory"]
                if not warmed:
                    bench_airflow.probe(path, env)
                    warmed = True
                timing, imports = Timing(), []
                probe = bench_airflow.probe(path, env)
                timing.add(probe["parse_s"], probe["parse_cpu_s"])
                imports.append(probe["import_s"])
                for _ in range(_budgeted(probe["parse_s"] + probe["import_s"], _runs(args, n), args.budget, n) - 1):
                    probe = bench_airflow.probe(path, env)
                    timing.add(probe["parse_s"], probe["parse_cpu_s"])
                    imports.append(probe["import_s"])
            except (Exception, SystemExit) as error:  # bench_airflow.probe exits on failure
                report["skipped"].append({"what": f"dag-factory, {shape} {n:,}", "why": f"{type(error).__name__}: {error}"})
                continue
            finally:
                shutil.rmtree(folder, ignore_errors=True)
            rows.append({"shape": shape, "n": n, **asdict(timing), **timing.summary(),
                         "import_airflow_s": imports, "tasks": probe["tasks"], "dependencies": probe["dependencies"]})
            log(f"{shape:5} {n:>6} dag-factory DagBag runs={len(timing.wall_s)} median={timing.wall:.2f} s")
    return rows


def _peer_plan(args, maximum: int, peer: str, report: dict) -> tuple[list[str], list[int]]:
    """The shapes and sizes a peer runs: sizes up to its maximum; with --quick, the
    first shape at the largest of those only. What is left out goes in the report."""
    sizes = [n for n in args.sizes if n <= maximum]
    shapes = list(args.shapes)
    if args.quick:
        sizes, shapes = sizes[-1:], shapes[:1]
        if args.shapes[1:]:
            report["skipped"].append({"what": f"{peer}, shapes {', '.join(args.shapes[1:])}",
                                      "why": "--quick measures peers on one shape only"})
    above = [n for n in args.sizes if n > maximum]
    if above:
        report["skipped"].append({"what": f"{peer} at {', '.join(f'{n:,}' for n in above)} steps",
                                  "why": f"above its maximum of {maximum:,} steps (--{peer.replace('-', '')}-max-steps)"})
    below = [n for n in args.sizes if n not in sizes and n <= maximum]
    if below:
        report["skipped"].append({"what": f"{peer} at {', '.join(f'{n:,}' for n in below)} steps",
                                  "why": "--quick measures peers at the largest size only"})
    return shapes, sizes


def run_cold_start(args, report: dict, log: Callable[[str], None]) -> dict:
    mlp = Path(sys.executable).parent / "mlp"
    mlp_command = [str(mlp), "check", str(COLD_FILE)] if mlp.exists() else [sys.executable, "-m", "mlplang", "check", str(COLD_FILE)]
    commands = {"python -c pass": [sys.executable, "-c", "pass"], "mlp check": mlp_command}
    timings = {name: Timing() for name in commands}
    # Byte code as an installed package has it (pip compiles on install): with
    # PYTHONDONTWRITEBYTECODE set, as on this machine, a warm-up writes none and every
    # run would compile mlplang's sources again.
    import mlplang

    compileall.compile_dir(str(Path(mlplang.__file__).parent), quiet=1)
    for command in commands.values():  # warm-up: file caches
        timed(command, ROOT)
    for _ in range(args.cold_repeats):
        for name, command in commands.items():  # interleaved: drift hits both alike
            timings[name].add(*timed(command, ROOT))
    result = {name: {**asdict(t), **t.summary()} for name, t in timings.items()}
    result["command"] = " ".join(Path(c).name if i == 0 else c for i, c in enumerate(mlp_command)).replace(str(ROOT) + "/", "")
    log(f"cold start: mlp check {timings['mlp check'].wall * 1e3:.0f} ms, "
        f"python -c pass {timings['python -c pass'].wall * 1e3:.0f} ms")
    return result


def run_lsp(args, scratch: Path, report: dict, log: Callable[[str], None]) -> list[dict]:
    missing = [m for m in ("pygls", "lsprotocol") if importlib.util.find_spec(m) is None]
    if missing:
        report["skipped"].append({"what": "language server", "why": f"{', '.join(missing)} not installed "
                                  "(pip install -e '.[lsp]')"})
        return []
    import bench_lsp

    text = generate(args.lsp_steps, "chain")
    path = scratch / f"bench_lsp_{args.lsp_steps}.mlp"
    path.write_text(text, encoding="utf-8")
    rows = []
    # The target's edit (inside one member: the server parses that member alone) at each debounce,
    # and, for comparison, an edit between members, which takes a full analysis.
    extra = [("half-typed", 0), ("new-member", 0), ("two-places", 0)]
    for edit, debounce in [("description", d) for d in args.lsp_debounce] + extra:
        try:
            times_ms = asyncio.run(bench_lsp.measure(text, path, debounce, args.lsp_repeats, args.lsp_warmup, edit))
        except Exception as error:  # noqa: BLE001
            report["skipped"].append({"what": f"language server, {edit} edit, debounce {debounce} ms",
                                      "why": f"{type(error).__name__}: {error}"})
            continue
        times = [t / 1e3 for t in times_ms]
        rows.append({"steps": args.lsp_steps, "lines": text.count("\n"), "edit": edit, "debounce_ms": debounce,
                     "times_s": times, "median_s": statistics.median(times), "min_s": min(times),
                     "max_s": max(times)})
        log(f"lsp {args.lsp_steps} steps, {edit} edit, debounce {debounce} ms: "
            f"median {statistics.median(times) * 1e3:.0f} ms")
    return rows


# ---- targets ----------------------------------------------------------------------------------


def _met(value: float | None, limit: float, op: str) -> str:
    if value is None:
        return "n/a"
    ok = value <= limit if op == "<=" else value < limit if op == "<" else value >= limit
    return "yes" if ok else "no"


def evaluate_targets(data: dict) -> list[dict]:
    cells = data["cells"]
    found: dict[str, tuple[float | None, str]] = {}

    worst = None
    for c in cells:
        if c["stage"] in MLP_STAGES and c["exponent_vs_previous"] is not None:
            ratio = 10 ** c["exponent_vs_previous"]
            if worst is None or ratio > worst[0]:
                worst = (ratio, f"{STAGE_TITLES[c['stage']]}, {c['shape']}, {c['previous_n']:,} -> {c['n']:,}")
    found["scaling"] = (worst[0], f"{worst[0]:.1f}x ({worst[1]})") if worst else (None, "needs two sizes")

    rows = [c for c in cells if c["stage"] == "check" and c["n"] == 10_000]
    if rows:
        slowest = max(rows, key=lambda c: c["median_s"])
        found["check_10k"] = (slowest["median_s"], f"{slowest['median_s']:.2f} s ({slowest['shape']}; "
                              + ", ".join(f"{c['shape']} {c['median_s']:.2f} s" for c in rows) + ")")
    else:
        found["check_10k"] = (None, "not measured at 10,000 steps")

    rows = [r for r in data["all_targets"] if r["n"] == 10_000]
    if rows:
        slowest = max(rows, key=lambda r: r["wall_median_s"])
        found["all_targets"] = (slowest["wall_median_s"], f"{slowest['wall_median_s']:.2f} s wall, "
                                f"{slowest['cpu_median_s']:.2f} s CPU ({slowest['shape']})")
    elif data["all_targets"]:
        top = max(data["all_targets"], key=lambda r: (r["n"], r["wall_median_s"]))
        found["all_targets"] = (None, f"not measured at 10,000 ({top['wall_median_s']:.2f} s at {top['n']:,}, {top['shape']})")
    else:
        found["all_targets"] = (None, "not measured")

    rows = [r for r in data["kfp"] if r["n"] == 1_000]
    if rows:
        lowest = min(rows, key=lambda r: r["kfp"]["wall_median_s"] / r["mlp"]["wall_median_s"])
        ratio = lowest["kfp"]["wall_median_s"] / lowest["mlp"]["wall_median_s"]
        cpu = lowest["kfp"]["cpu_median_s"] / lowest["mlp"]["cpu_median_s"]
        found["kfp_ratio"] = (ratio, f"{ratio:.1f}x wall, {cpu:.1f}x CPU ({lowest['shape']})")
    elif data["kfp"]:
        top = max(data["kfp"], key=lambda r: r["n"])
        ratio = top["kfp"]["wall_median_s"] / top["mlp"]["wall_median_s"]
        found["kfp_ratio"] = (None, f"not measured at 1,000 ({ratio:.1f}x at {top['n']:,}, {top['shape']})")
    else:
        found["kfp_ratio"] = (None, "not measured (peers skipped)")

    by_key = {(c["shape"], c["n"], c["stage"]): c for c in cells}
    ratios = [(by_key[(s, n, "check")]["median_s"] / by_key[(s, n, "lark_bare")]["median_s"], s, n)
              for (s, n, stage) in by_key if stage == "check" and (s, n, "lark_bare") in by_key]
    if ratios:
        largest = max(n for _, _, n in ratios)
        ratio, shape, n = max(r for r in ratios if r[2] == largest)
        paused = by_key.get((shape, n, "lark_bare_nogc"))
        versus_paused = (f"; {by_key[(shape, n, 'check')]['median_s'] / paused['median_s']:.2f}x the gc-paused parse"
                         if paused else "")
        found["lark_ratio"] = (ratio, f"{ratio:.2f}x ({shape}, {n:,} steps{versus_paused})")
    else:
        found["lark_ratio"] = (None, "not measured")

    cold = data.get("cold_start") or {}
    if cold.get("mlp check"):
        value = cold["mlp check"]["wall_median_s"]
        found["cold_start"] = (value, f"{value * 1e3:.0f} ms wall, {cold['mlp check']['cpu_median_s'] * 1e3:.0f} ms CPU "
                                      f"(python -c pass: {cold['python -c pass']['wall_median_s'] * 1e3:.0f} ms)")
    else:
        found["cold_start"] = (None, "not measured")

    rows = [r for r in data["lsp"] if r["debounce_ms"] == 0 and r.get("edit", "description") == "description"]
    if rows:
        row = rows[0]
        value = row["median_s"] if row["steps"] == 500 else None
        found["lsp"] = (value, f"{row['median_s'] * 1e3:.0f} ms" + ("" if row["steps"] == 500 else f" at {row['steps']} steps"))
    else:
        found["lsp"] = (None, "not measured")

    return [{"target": key, "description": description, "limit": limit, "op": op,
             "value": found[key][0], "measured": found[key][1], "met": _met(found[key][0], limit, op)}
            for key, description, limit, op in TARGET_SPECS]


# ---- report --------------------------------------------------------------------------------------


def _ms(seconds: float) -> str:
    ms = seconds * 1e3
    return f"{ms:,.0f}" if ms >= 100 else f"{ms:,.1f}" if ms >= 10 else f"{ms:.2f}"


def _limit_text(limit: float, op: str, key: str) -> str:
    if key in ("cold_start", "lsp"):
        return f"{op} {limit * 1e3:.0f} ms"
    if key in ("all_targets", "check_10k"):
        return f"{op} {limit:g} s"
    return f"{op} {limit:g}x"


def peer_versions() -> dict[str, str]:
    """Versions installed in the peers' virtual environments ("missing" if none)."""
    versions = {}
    for python, packages in ((KFP_PYTHON, ("kfp",)), (AIRFLOW_PYTHON, ("apache-airflow", "dag-factory"))):
        if not python.exists():
            versions.update({p: "missing" for p in packages})
            continue
        code = (f"import json, importlib.metadata as m\nv = {{}}\nfor p in {packages!r}:\n"
                "    try: v[p] = m.version(p)\n    except m.PackageNotFoundError: v[p] = 'missing'\n"
                "print(json.dumps(v))")
        result = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=False)
        try:
            versions.update(json.loads(result.stdout))
        except ValueError:
            versions.update({p: "unknown" for p in packages})
    return versions


def collect_machine() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    machine = machine_info()
    machine["cores"] = os.cpu_count()
    for package in ("pydantic", "PyYAML", "matplotlib", "pygls"):
        try:
            machine[package] = version(package)
        except PackageNotFoundError:
            machine[package] = "missing"
    machine.update(peer_versions())
    return machine


def _load_warning(machine: dict) -> list[str]:
    """A warning line when other processes kept the CPUs busy (1-minute load >= half the CPUs)."""
    loads = []
    for key in ("load_average_at_start", "load_average_at_end"):
        try:
            loads.append(float(str(machine.get(key, "")).split()[0]))
        except (ValueError, IndexError):
            pass
    cpus = machine.get("nproc") or 1
    if loads and max(loads) >= cpus / 2:
        return ["", f"**The machine was loaded** (1-minute load average up to {max(loads):.1f} on {cpus} CPUs): "
                "wall times are inflated; the CPU times given for processes are steadier."]
    return []


def markdown(data: dict) -> str:
    m, config = data["machine"], data["config"]
    out = [
        "#### Machine and versions",
        "",
        "| | |",
        "|---|---|",
        f"| date | {m['date']} |",
        f"| CPU | {m['cpu']}, {m['nproc']} usable of {m['cores']} cores |",
        f"| RAM | {m['memory']} |",
        f"| OS | {m['os']} |",
        f"| Python | {m['python']} |",
        f"| mlplang | {m['mlplang']} at commit `{m['commit']}` |",
        f"| lark, pydantic, PyYAML | {m['lark']}, {m['pydantic']}, {m['PyYAML']} |",
        f"| kfp (.venv-kfp) | {m.get('kfp', 'missing')} |",
        f"| apache-airflow, dag-factory (.venv-airflow) | {m.get('apache-airflow', 'missing')}, {m.get('dag-factory', 'missing')} |",
        f"| load average at start / end | {m['load_average_at_start']} / {m.get('load_average_at_end', '?')} |",
        f"| run | `{config['command']}`: {data['elapsed_s'] / 60:.1f} min |",
        *_load_warning(m),
        "",
        "#### Targets",
        "",
        "| target | limit | measured | met |",
        "|---|---:|---|---|",
    ]
    for t in data["targets"]:
        out.append(f"| {t['description']} | {_limit_text(t['limit'], t['op'], t['target'])} | {t['measured']} | {t['met']} |")

    cells = data["cells"]
    by_key = {(c["shape"], c["n"], c["stage"]): c for c in cells}
    stages = [s for s in STAGES if any(c["stage"] == s for c in cells)]
    rows = sorted({(c["shape"], c["n"]) for c in cells}, key=lambda r: (SHAPES.index(r[0]), r[1]))
    inputs = {(i["shape"], i["n"]): i for i in data["inputs"]}
    out += [
        "",
        "#### In-process stages: medians (ms)",
        "",
        "Same interpreter, after a warm-up; `gc.collect()` before each run (definitions: docs/benchmarks.md).",
        "",
        "| shape | steps | lines | " + " | ".join(STAGE_TITLES[s] for s in stages) + " |",
        "|---|---:|---:|" + "---:|" * len(stages),
    ]
    for shape, n in rows:
        cells_row = [by_key.get((shape, n, s)) for s in stages]
        out.append(f"| {shape} | {n:,} | {inputs[(shape, n)]['lines']:,} | "
                   + " | ".join(_ms(c["median_s"]) if c else "–" for c in cells_row) + " |")
    sizes = [i for i in data["inputs"] if "yaml_chars" in i]
    if sizes:
        out += ["", "The YAML document read by CSafeLoader: " + ", ".join(
            f"{i['shape']} {i['n']:,}: {i['yaml_chars'] / i['chars']:.2f}x the characters, "
            f"{i['yaml_lines'] / i['lines']:.2f}x the lines of the .mlp text" for i in sizes) + "."]
    out += [
        "",
        "#### Ratios of medians",
        "",
        "| shape | steps | check / bare Lark | check / bare Lark, gc paused | check / YAML CSafeLoader "
        "| lint / check | compile github / check | compile airflow / check | compile kubeflow / check |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]

    def ratio(shape: str, n: int, a: str, b: str) -> str:
        if (shape, n, a) in by_key and (shape, n, b) in by_key:
            return f"{by_key[(shape, n, a)]['median_s'] / by_key[(shape, n, b)]['median_s']:.2f}"
        return "–"

    for shape, n in rows:
        out.append(f"| {shape} | {n:,} | {ratio(shape, n, 'check', 'lark_bare')} | {ratio(shape, n, 'check', 'lark_bare_nogc')} "
                   f"| {ratio(shape, n, 'check', 'yaml_csafe')} | {ratio(shape, n, 'lint', 'check')} | "
                   + " | ".join(ratio(shape, n, f"compile_{t}", "check") for t in TARGETS) + " |")
    out += [
        "",
        "#### Scaling: every cell",
        "",
        "Exponent = log(t2/t1)/log(n2/n1) against the previous size (1.0 is linear); x10 = 10**exponent, "
        "the time ratio for 10x the steps (target: at most 12x for mlp's stages).",
        "",
        "| shape | stage | steps | runs | median ms | min ms | max ms | µs/step | exponent | x10 |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for shape in SHAPES:
        for stage in stages:
            for c in sorted((c for c in cells if c["shape"] == shape and c["stage"] == stage), key=lambda c: c["n"]):
                exponent = c["exponent_vs_previous"]
                out.append(
                    f"| {shape} | {STAGE_TITLES[stage]} | {c['n']:,} | {len(c['times_s'])} | {_ms(c['median_s'])} "
                    f"| {_ms(c['min_s'])} | {_ms(c['max_s'])} | {c['us_per_step']:,.0f} "
                    f"| {'–' if exponent is None else f'{exponent:.2f}'} "
                    f"| {'–' if exponent is None else f'{10 ** exponent:.1f}x'} |"
                )
    if data["all_targets"]:
        out += [
            "",
            "#### Check + compile to all three targets, one process",
            "",
            "`mlp compile bench.mlp -t github -t airflow -t kubeflow -o OUT`: start-up, load once, lint once, "
            "emit and write GitHub Actions, Airflow and Kubeflow files (pipeline and monitor). Seconds.",
            "",
            "| shape | steps | runs | wall median (min-max) | CPU median | files, KiB written |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for r in data["all_targets"]:
            out.append(f"| {r['shape']} | {r['n']:,} | {len(r['wall_s'])} | {r['wall_median_s']:.2f} "
                       f"({r['wall_min_s']:.2f}-{r['wall_max_s']:.2f}) | {r['cpu_median_s']:.2f} "
                       f"| {r['files']}, {r['bytes'] // 1024:,} |")
    if data["kfp"]:
        out += [
            "",
            "#### Kubeflow: mlp against the kfp SDK, process to process",
            "",
            "Start-up and imports included. mlp: `python -m mlplang compile -t kubeflow` (parse, check, every rule, "
            "pipeline and monitor specs). kfp: the same pipeline in kfp's DSL, built and compiled. Seconds.",
            "",
            "| shape | steps | mlp wall (CPU) | kfp wall (CPU) | kfp / mlp, wall (CPU) | tasks mlp / kfp | spec KiB mlp / kfp |",
            "|---|---:|---:|---:|---:|---|---|",
        ]
        for r in data["kfp"]:
            a, b = r["mlp"], r["kfp"]
            out.append(f"| {r['shape']} | {r['n']:,} | {a['wall_median_s']:.2f} ({a['cpu_median_s']:.2f}) "
                       f"| {b['wall_median_s']:.2f} ({b['cpu_median_s']:.2f}) "
                       f"| {b['wall_median_s'] / a['wall_median_s']:.1f}x ({b['cpu_median_s'] / a['cpu_median_s']:.1f}x) "
                       f"| {a['tasks']} / {b['tasks']} | {a['bytes'] // 1024:,} / {b['bytes'] // 1024:,} |")
    if data["dagfactory"]:
        out += [
            "",
            "#### Airflow: mlp against dag-factory, in process",
            "",
            "dag-factory: `DagBag` building Dag objects from the YAML config, timed inside the process "
            "(`import airflow` apart). mlp: `compile airflow` above (load, lint, emit, write). Milliseconds.",
            "",
            "| shape | steps | mlp compile airflow | dag-factory DagBag wall (CPU) | import airflow | dag-factory / mlp | tasks |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for r in data["dagfactory"]:
            mlp_cell = by_key.get((r["shape"], r["n"], "compile_airflow"))
            mlp_ms = _ms(mlp_cell["median_s"]) if mlp_cell else "–"
            versus = f"{r['wall_median_s'] / mlp_cell['median_s']:.2f}x" if mlp_cell else "–"
            out.append(f"| {r['shape']} | {r['n']:,} | {mlp_ms} | {_ms(r['wall_median_s'])} ({_ms(r['cpu_median_s'])}) "
                       f"| {_ms(statistics.median(r['import_airflow_s']))} | {versus} | {r['tasks']} |")
    cold = data.get("cold_start")
    if cold:
        out += [
            "",
            "#### Cold start",
            "",
            f"Wall clock of a fresh process, {len(cold['mlp check']['wall_s'])} interleaved runs after a warm-up; "
            f"`{cold['command']}`.",
            "",
            "| command | median ms | min ms | max ms | CPU ms |",
            "|---|---:|---:|---:|---:|",
        ]
        for name in ("python -c pass", "mlp check"):
            t = cold[name]
            out.append(f"| {name} | {t['wall_median_s'] * 1e3:.0f} | {t['wall_min_s'] * 1e3:.0f} "
                       f"| {t['wall_max_s'] * 1e3:.0f} | {t['cpu_median_s'] * 1e3:.0f} |")
    if data["lsp"]:
        out += [
            "",
            "#### Language server",
            "",
            "`mlp lsp` over stdio with a pygls client (bench_lsp.py): whole-document didChange until "
            "publishDiagnostics for that version. `description`: the pipeline's description edited, an edit "
            "inside one member, for which the server parses that member alone and lowers and lints the whole "
            "file again; `half-typed`: a line being typed in a step (a syntax error inside one member, which "
            "the server parses alone); `new-member`: a param inserted between two members (parsed alone "
            "and spliced in); `two-places`: the description and a step edited at once, which takes a full "
            "analysis.",
            "",
            "| steps | lines | edit | debounce ms | edits | median ms | min ms | max ms |",
            "|---:|---:|---|---:|---:|---:|---:|---:|",
        ]
        for r in data["lsp"]:
            out.append(f"| {r['steps']:,} | {r['lines']:,} | {r.get('edit', 'description')} | {r['debounce_ms']} "
                       f"| {len(r['times_s'])} | {r['median_s'] * 1e3:.0f} | {r['min_s'] * 1e3:.0f} "
                       f"| {r['max_s'] * 1e3:.0f} |")
    if data["skipped"]:
        out += ["", "#### Skipped", ""] + [f"- {s['what']}: {s['why']}" for s in data["skipped"]]
    return "\n".join(out) + "\n"


# ---- plot ---------------------------------------------------------------------------------------------


def have_matplotlib() -> bool:
    return importlib.util.find_spec("matplotlib") is not None


MATPLOTLIB_MISSING = ("matplotlib is not installed: no plot. Install it with `pip install -e '.[bench]'` "
                      "(or `pip install matplotlib`).")


def plot(data: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shapes = [s for s in SHAPES if any(c["shape"] == s for c in data["cells"])]
    columns = 4 if len(shapes) > 1 else 2  # of the legend
    figure, axes = plt.subplots(1, len(shapes), figsize=(max(9.0, 6.5 * len(shapes)), 5.6), squeeze=False, sharey=True)
    styles = {
        "check": ("C0", "-", "o"), "lint": ("C1", "-", "o"), "compile_github": ("C2", "-", "s"),
        "compile_airflow": ("C3", "-", "s"), "compile_kubeflow": ("C4", "-", "s"),
        "lark_bare": ("0.35", "--", "^"), "lark_bare_nogc": ("0.6", "--", "^"), "yaml_csafe": ("C7", ":", "v"),
    }
    for axis, shape in zip(axes[0], shapes):
        for stage, (color, line, marker) in styles.items():
            points = sorted((c["n"], c["median_s"]) for c in data["cells"] if c["shape"] == shape and c["stage"] == stage)
            if points:
                axis.plot(*zip(*points), color=color, linestyle=line, marker=marker, label=STAGE_TITLES[stage])
        series = [
            ("all three targets, process", "C9", "-", "D",
             [(r["n"], r["wall_median_s"]) for r in data["all_targets"] if r["shape"] == shape]),
            ("mlp compile -t kubeflow, process", "C4", "-.", "x",
             [(r["n"], r["mlp"]["wall_median_s"]) for r in data["kfp"] if r["shape"] == shape]),
            ("kfp SDK build + compile, process", "C5", "-.", "P",
             [(r["n"], r["kfp"]["wall_median_s"]) for r in data["kfp"] if r["shape"] == shape]),
            ("dag-factory YAML -> Dag (DagBag, in process)", "C6", "-.", "*",
             [(r["n"], r["wall_median_s"]) for r in data["dagfactory"] if r["shape"] == shape]),
        ]
        for label, color, line, marker, points in series:
            if points:
                axis.plot(*zip(*sorted(points)), color=color, linestyle=line, marker=marker, label=label)
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_title(f"{shape} pipelines")
        axis.set_xlabel("steps")
        axis.grid(True, which="both", alpha=0.3)
    axes[0][0].set_ylabel("seconds (median)")
    handles, labels = {}, []
    for axis in axes[0]:
        for handle, label in zip(*axis.get_legend_handles_labels()):
            if label not in handles:
                handles[label] = handle
                labels.append(label)
    figure.legend([handles[label] for label in labels], labels, loc="lower center", ncol=columns, fontsize=8, frameon=False)
    m = data["machine"]
    figure.suptitle(f"mlplang {m['mlplang']} ({m['commit']}), {m['cpu']}, {m['python']}, {m['date']}", fontsize=8)
    figure.tight_layout(rect=(0, 0.02 + 0.035 * math.ceil(len(labels) / columns), 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)


# ---- docs ------------------------------------------------------------------------------------------------


def write_docs(section: str, doc: Path = DOC) -> None:
    """Replace the text between the markers in docs/benchmarks.md (appended with them if missing)."""
    text = doc.read_text(encoding="utf-8") if doc.exists() else "# Benchmarks\n"
    block = f"{BEGIN_MARKER}\n\n{section.rstrip()}\n\n{END_MARKER}"
    if BEGIN_MARKER in text and END_MARKER in text:
        before, rest = text.split(BEGIN_MARKER, 1)
        _, after = rest.split(END_MARKER, 1)
        text = before + block + after
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    doc.write_text(text, encoding="utf-8")


# ---- main ---------------------------------------------------------------------------------------------------


def _ints(value: str) -> list[int]:
    return [int(v.replace("_", "")) for v in value.split(",") if v.strip()]


def _names(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], epilog="Definitions: see the module docstring and docs/benchmarks.md.")
    parser.add_argument("--quick", action="store_true",
                        help="sizes 10,100, 3 repeats, 10 cold starts, 3 LSP edits, peers on one shape at the "
                        "largest size only: about a minute with --skip-peers")
    parser.add_argument("--sizes", type=_ints, help="steps, comma-separated (default 10,100,1000,10000)")
    parser.add_argument("--shapes", type=_names, default=list(SHAPES), help="default chain,wide")
    parser.add_argument("--stages", type=_names, default=list(STAGES), help=f"in-process stages (default all: {','.join(STAGES)})")
    parser.add_argument("--repeats", type=int, help="timed runs per cell (default 9/7/5/3 for 10/100/1,000/10,000 steps)")
    parser.add_argument("--budget", type=float, default=DEFAULT_BUDGET_S,
                        help="seconds per cell: fewer runs once a run's time times the repeats exceeds it "
                        "(at least 3 runs below 10,000 steps, 1 from 10,000 on; default 120; --quick 5)")
    parser.add_argument("--skip-peers", action="store_true", help="no kfp, no dag-factory")
    parser.add_argument("--skip-lsp", action="store_true", help="no language-server measurement")
    parser.add_argument("--skip-cold-start", action="store_true", help="no cold-start measurement")
    parser.add_argument("--skip-all-targets", action="store_true", help="no all-targets process measurement")
    parser.add_argument("--kfp-max-steps", type=int, default=1_000, help="largest N for kfp (default 1,000)")
    parser.add_argument("--dagfactory-max-steps", type=int, default=10_000, help="largest N for dag-factory (default 10,000)")
    parser.add_argument("--cold-repeats", type=int, help="cold-start runs of each command (default 40; --quick 10)")
    parser.add_argument("--lsp-steps", type=int, default=500)
    parser.add_argument("--lsp-repeats", type=int, help="timed edits (default 15; --quick 3)")
    parser.add_argument("--lsp-warmup", type=int, help="untimed edits first (default 3; --quick 1)")
    parser.add_argument("--lsp-debounce", type=_ints, help="debounce settings in ms (default 0,100; --quick 0)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder for run.md, run.json, benchmarks.png "
                        "(default bench/results)")
    parser.add_argument("--write-docs", action="store_true",
                        help="also write docs/img/benchmarks.png and the section between the markers of docs/benchmarks.md")
    args = parser.parse_args(argv)
    quick = args.quick
    args.sizes = sorted(set(args.sizes or (QUICK_SIZES if quick else DEFAULT_SIZES)))
    if args.repeats is None and quick:
        args.repeats = QUICK_REPEATS
    args.cold_repeats = args.cold_repeats or (10 if quick else 40)
    args.lsp_repeats = args.lsp_repeats or (3 if quick else 15)
    args.lsp_warmup = args.lsp_warmup if args.lsp_warmup is not None else (1 if quick else 3)
    args.lsp_debounce = args.lsp_debounce if args.lsp_debounce is not None else ([0] if quick else [0, 100])
    if quick and args.budget == DEFAULT_BUDGET_S:
        args.budget = 5.0
    unknown = [s for s in args.stages if s not in STAGES] + [s for s in args.shapes if s not in SHAPES]
    if unknown:
        parser.error(f"unknown stage or shape: {', '.join(unknown)}")
    if args.sizes[0] < 4:
        parser.error("sizes must be at least 4 steps (the smallest wide pipeline)")
    if args.write_docs and quick:
        parser.error("--write-docs records a full run: drop --quick")
    if args.write_docs and not have_matplotlib():
        parser.error(MATPLOTLIB_MISSING)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()

    def log(message: str) -> None:
        print(f"[{time.perf_counter() - started:7.1f} s] {message}", file=sys.stderr, flush=True)

    machine = collect_machine()
    log(f"{machine['cpu']}, {machine['nproc']} CPUs, {machine['python']}, mlplang {machine['mlplang']} "
        f"({machine['commit']}), load average {machine['load_average_at_start']}")
    data: dict = {
        "benchmark": "run",
        "machine": machine,
        "config": {
            "command": "python bench/run.py" + "".join(f" {a}" for a in (argv if argv is not None else sys.argv[1:])),
            "sizes": args.sizes, "shapes": args.shapes, "stages": args.stages, "repeats": args.repeats,
            "default_repeats": DEFAULT_REPEATS, "budget_s": args.budget, "quick": args.quick,
            "skip_peers": args.skip_peers, "kfp_max_steps": args.kfp_max_steps,
            "dagfactory_max_steps": args.dagfactory_max_steps, "cold_repeats": args.cold_repeats,
            "lsp": {"steps": args.lsp_steps, "repeats": args.lsp_repeats, "warmup": args.lsp_warmup,
                    "debounce_ms": args.lsp_debounce},
            "timer": "time.perf_counter; processes: wall perf_counter, CPU os.wait4 user+system",
        },
        "setup": {}, "inputs": [], "skipped": [], "cells": [], "all_targets": [], "kfp": [], "dagfactory": [],
        "cold_start": None, "lsp": [], "sections_s": {},
    }
    with tempfile.TemporaryDirectory(prefix="mlp-bench-run-") as temporary:
        scratch = Path(temporary)

        def section(name: str, function: Callable[[], object]) -> object:
            begin = time.perf_counter()
            try:
                return function()
            finally:
                data["sections_s"][name] = time.perf_counter() - begin

        context = Context(scratch / "emit")
        context.scratch.mkdir()
        cells = section("in_process", lambda: run_stages(args, context, data, log))
        data["cells"] = [asdict(c) for c in cells]
        if not args.skip_all_targets:
            data["all_targets"] = section("all_targets", lambda: run_all_targets(args, scratch, data, log))
        if args.skip_peers:
            data["skipped"].append({"what": "kfp and dag-factory", "why": "--skip-peers"})
        else:
            data["kfp"] = section("kfp", lambda: run_kfp(args, scratch, data, log))
            data["dagfactory"] = section("dagfactory", lambda: run_dagfactory(args, scratch, data, log))
        if not args.skip_cold_start:
            try:
                data["cold_start"] = section("cold_start", lambda: run_cold_start(args, data, log))
            except RuntimeError as error:
                data["skipped"].append({"what": "cold start", "why": str(error)})
        if not args.skip_lsp:
            data["lsp"] = section("lsp", lambda: run_lsp(args, scratch, data, log))
    data["machine"]["load_average_at_end"] = bench_frontend._load_average()
    data["elapsed_s"] = time.perf_counter() - started
    data["targets"] = evaluate_targets(data)

    report = markdown(data)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "run.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    image = args.out / "benchmarks.png"
    if have_matplotlib():
        plot(data, image)
        plotted = True
    else:
        print(f"run.py: {MATPLOTLIB_MISSING}", file=sys.stderr)
        plotted = False
    (args.out / "run.md").write_text("# Benchmarks: `bench/run.py`\n\n" + report, encoding="utf-8")
    sys.stdout.write(report)
    log(f"wrote {args.out / 'run.md'}, {args.out / 'run.json'}" + (f", {image}" if plotted else ""))
    if args.write_docs:
        DOC_IMAGE.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(image, DOC_IMAGE)
        write_docs("![Time against steps, log-log: mlp's stages and its peers](img/benchmarks.png)\n\n" + report)
        log(f"wrote {DOC_IMAGE.relative_to(ROOT)} and the generated section of {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
