"""Front-end benchmark: how long reading a pipeline takes as it grows.

For generated pipelines (bench/generate.py) of 100, 1,000 and 10,000 steps in
the `chain` and `wide` shapes, this times:

  lark_bare       the bare Lark LALR parse of the text, no transformer:
                  `Lark(grammar, parser="lalr").parse(text)` builds Lark's own
                  parse tree (garbage collector on, as Lark's user gets it);
  lark_bare_nogc  the same with `gc` paused during the parse, to separate the
                  collector's cost from Lark's (parse_text pauses it too);
  parse_text      `mlplang.dsl.parser.parse_text`: text -> syntax tree with
                  spans and diagnostics (the inline transformer);
  check           `mlplang.check(text, path=...)`: parse + names, types and
                  rules, the public API. Skipped, with the reason printed, while
                  `mlplang.api` does not exist or cannot check the text.

Each cell is run several times (at least 3; fewer only at 10,000 steps when a
run is slow, see --budget) after an untimed warm-up on a small program, with
`gc.collect()` before every run and `time.perf_counter()` around the call.
Reported: median, min, max, microseconds per step and lines per second of the
median, and the scaling exponent log(t2/t1)/log(n2/n1) between consecutive
sizes (1.0 = linear, 2.0 = quadratic).

Output: progress on stderr, a markdown report on stdout (paste it into
docs/benchmarks.md) and JSON in bench/results/frontend.json (git-ignored).

Usage: python bench/bench_frontend.py [--sizes 100,1000] [--shapes chain]
       [--stages parse_text,check] [--repeats N] [--budget SECONDS] [--json PATH]
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import gc
import hashlib
import importlib.util
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
GRAMMAR = ROOT / "mlplang" / "grammar" / "mlp.lark"
DEFAULT_JSON = HERE / "results" / "frontend.json"
BENCH_PATH = "bench.mlp"

sys.path.insert(0, str(HERE))
from generate import SHAPES, generate  # noqa: E402

STAGES = ("lark_bare", "lark_bare_nogc", "parse_text", "check")
STAGE_TITLES = {
    "lark_bare": "Lark LALR, no transformer",
    "lark_bare_nogc": "Lark LALR, no transformer, gc paused",
    "parse_text": "parse_text (syntax tree)",
    "check": "mlplang.check (parse + check)",
}
DEFAULT_SIZES = (100, 1_000, 10_000)
DEFAULT_REPEATS = {100: 9, 1_000: 5, 10_000: 3}
WARMUP_STEPS = 20


@dataclass
class Cell:
    shape: str
    n: int
    stage: str
    lines: int
    chars: int
    times_s: list[float] = field(default_factory=list)
    median_s: float = 0.0
    min_s: float = 0.0
    max_s: float = 0.0
    us_per_step: float = 0.0
    lines_per_s: float = 0.0
    exponent_vs_previous: float | None = None
    previous_n: int | None = None
    diagnostics: int | None = None
    diagnostic_codes: dict[str, int] | None = None

    def summarize(self) -> None:
        self.median_s = statistics.median(self.times_s)
        self.min_s = min(self.times_s)
        self.max_s = max(self.times_s)
        self.us_per_step = self.median_s / self.n * 1e6
        self.lines_per_s = self.lines / self.median_s


# ---- machine ------------------------------------------------------------------------


def _cpuinfo_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                kib = int(line.split()[1])
                return f"{kib / 1024**2:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return "unknown"


def _git_commit() -> str:
    """HEAD, plus a fingerprint of uncommitted changes to the package if any."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        diff = subprocess.run(
            ["git", "diff", "HEAD", "--", "mlplang", "bench"], cwd=ROOT, capture_output=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + (f"+dirty.{hashlib.sha256(diff).hexdigest()[:8]}" if diff else "")


def _load_average() -> str:
    try:
        return " ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "unknown"


@dataclass
class Timing:
    """Wall and CPU seconds of repeated runs of one thing (the medians are what the reports show)."""

    wall_s: list[float] = field(default_factory=list)
    cpu_s: list[float] = field(default_factory=list)

    def add(self, wall: float, cpu: float) -> None:
        self.wall_s.append(wall)
        self.cpu_s.append(cpu)

    @property
    def wall(self) -> float:
        return statistics.median(self.wall_s)

    @property
    def cpu(self) -> float:
        return statistics.median(self.cpu_s)

    def summary(self) -> dict:
        if not self.wall_s:
            return {}
        return {"wall_median_s": self.wall, "wall_min_s": min(self.wall_s), "wall_max_s": max(self.wall_s),
                "cpu_median_s": self.cpu}


def machine_info() -> dict[str, str | int | None]:
    import lark

    import mlplang

    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = None
    return {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": usable or os.cpu_count(),
        "cpu": _cpuinfo_model(),
        "memory": _memory(),
        "os": f"{platform.system()} {platform.release()}",
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "lark": lark.__version__,
        "mlplang": getattr(mlplang, "__version__", "unknown"),
        "commit": _git_commit(),
        "load_average_at_start": _load_average(),
    }


# ---- what is timed --------------------------------------------------------------


def _bare_lark():
    import lark

    start = time.perf_counter()
    parser = lark.Lark(GRAMMAR.read_text(encoding="utf-8"), parser="lalr")
    return parser, time.perf_counter() - start


def _check_function() -> tuple[Callable[[str], list] | None, str]:
    """`mlplang.check` bound to the bench path, or None and why not."""
    if importlib.util.find_spec("mlplang.api") is None:
        return None, "mlplang.api does not exist yet (the public API is being written)"
    try:
        import mlplang

        check = mlplang.check
    except Exception as error:  # an API under construction may fail in any way
        return None, f"importing mlplang.check failed: {type(error).__name__}: {error}"
    return (lambda text: check(text, path=BENCH_PATH)), ""


def stage_functions(stages: Sequence[str]) -> tuple[dict[str, Callable[[str], object]], dict[str, str], dict]:
    """The callables to time, the stages skipped with their reason, setup facts."""
    functions: dict[str, Callable[[str], object]] = {}
    skipped: dict[str, str] = {}
    setup: dict[str, float] = {}
    if "lark_bare" in stages or "lark_bare_nogc" in stages:
        bare, build_s = _bare_lark()
        setup["lark_bare_construction_s"] = build_s
        functions["lark_bare"] = bare.parse

        def parse_gc_paused(text: str) -> object:
            gc.disable()
            try:
                return bare.parse(text)
            finally:
                gc.enable()

        functions["lark_bare_nogc"] = parse_gc_paused
    if "parse_text" in stages:
        from mlplang.dsl.parser import parse_text

        functions["parse_text"] = lambda text: parse_text(text, BENCH_PATH)
    if "check" in stages:
        check, reason = _check_function()
        if check is None:
            skipped["check"] = reason
        else:
            functions["check"] = check
    return {s: functions[s] for s in stages if s in functions}, skipped, setup


def _diagnostics_of(stage: str, result: object) -> list | None:
    if stage == "parse_text":
        return list(result[1])  # (module, diagnostics)
    if stage == "check":
        return list(result)
    return None


def time_cell(cell: Cell, function: Callable[[str], object], text: str, repeats: int, min_runs: int, budget_s: float) -> None:
    """Time `function(text)`: the first run decides how many more fit in the budget."""
    runs = repeats
    while len(cell.times_s) < runs:
        gc.collect()
        start = time.perf_counter()
        result = function(text)
        elapsed = time.perf_counter() - start
        cell.times_s.append(elapsed)
        if len(cell.times_s) == 1:
            diagnostics = _diagnostics_of(cell.stage, result)
            if diagnostics is not None:
                cell.diagnostics = len(diagnostics)
                cell.diagnostic_codes = dict(
                    sorted(collections.Counter(getattr(d, "code", "?") for d in diagnostics).items())
                )
            runs = max(min_runs, min(repeats, int(budget_s / elapsed) if elapsed > 0 else repeats))
        del result
    cell.summarize()


def add_exponents(cells: list[Cell]) -> None:
    by_key: dict[tuple[str, str], list[Cell]] = collections.defaultdict(list)
    for cell in cells:
        by_key[(cell.shape, cell.stage)].append(cell)
    for series in by_key.values():
        series.sort(key=lambda c: c.n)
        for before, after in zip(series, series[1:]):
            after.previous_n = before.n
            after.exponent_vs_previous = math.log(after.median_s / before.median_s) / math.log(after.n / before.n)


# ---- report ---------------------------------------------------------------------------


def _ms(seconds: float) -> str:
    ms = seconds * 1e3
    return f"{ms:,.0f}" if ms >= 100 else f"{ms:,.1f}" if ms >= 10 else f"{ms:.2f}"


def markdown(machine: dict, cells: list[Cell], skipped: dict[str, str], setup: dict) -> str:
    lines = [
        "## Front end: parse and check time",
        "",
        f"Measured {machine['date']} on {machine['nproc']} CPUs ({machine['cpu']}), "
        f"{machine['memory']} RAM, {machine['os']}; {machine['python']}, lark {machine['lark']}, "
        f"mlplang {machine['mlplang']} at commit {machine['commit']}; "
        f"load average {machine['load_average_at_start']} at start, {machine.get('load_average_at_end', '?')} at end.",
        "Programs from `bench/generate.py` (N = number of `step`s); median of the runs, "
        "`gc.collect()` before each run; exponent = log(t2/t1)/log(n2/n1) against the previous N "
        "(1.0 is linear). Run with `make bench`.",
        "",
        "| shape | N | lines | stage | runs | median ms | min ms | max ms | us/step | lines/s | exponent |",
        "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for c in cells:
        exponent = f"{c.exponent_vs_previous:.2f}" if c.exponent_vs_previous is not None else "-"
        lines.append(
            f"| {c.shape} | {c.n:,} | {c.lines:,} | {STAGE_TITLES[c.stage]} | {len(c.times_s)} | "
            f"{_ms(c.median_s)} | {_ms(c.min_s)} | {_ms(c.max_s)} | {c.us_per_step:,.0f} | "
            f"{c.lines_per_s:,.0f} | {exponent} |"
        )
    notes = []
    if "lark_bare_construction_s" in setup:
        notes.append(
            f"Building the bare Lark LALR parser from the grammar (not timed above): "
            f"{setup['lark_bare_construction_s'] * 1e3:.0f} ms."
        )
    with_diagnostics = [c for c in cells if c.diagnostics]
    for c in with_diagnostics:
        notes.append(f"{STAGE_TITLES[c.stage]} reported {c.diagnostics} diagnostics on {c.shape} N={c.n}: {c.diagnostic_codes}.")
    for stage, reason in skipped.items():
        notes.append(f"Skipped {STAGE_TITLES[stage]}: {reason}.")
    if notes:
        lines += [""] + [f"- {note}" for note in notes]
    return "\n".join(lines) + "\n"


# ---- main -------------------------------------------------------------------------------


def _csv(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=lambda v: [int(x) for x in _csv(v)], default=list(DEFAULT_SIZES))
    parser.add_argument("--shapes", type=_csv, default=list(SHAPES))
    parser.add_argument("--stages", type=_csv, default=list(STAGES))
    parser.add_argument("--repeats", type=int, help="runs per cell (default 9 / 5 / 3 for 100 / 1,000 / 10,000)")
    parser.add_argument(
        "--budget", type=float, default=60.0,
        help="time budget per cell in seconds: runs stop early once it is spent, but never below "
        "3 runs, except from 10,000 steps on, where 1 or 2 runs are allowed (default 60)",
    )
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help=f"JSON output (default {DEFAULT_JSON.relative_to(ROOT)})")
    parser.add_argument("--no-json", action="store_true", help="do not write the JSON file")
    args = parser.parse_args(argv)
    unknown = [s for s in args.stages if s not in STAGES] + [s for s in args.shapes if s not in SHAPES]
    if unknown:
        parser.error(f"unknown stage or shape: {', '.join(unknown)}")

    machine = machine_info()
    print(f"# {machine['cpu']}, {machine['nproc']} CPUs, {machine['python']}, lark {machine['lark']}", file=sys.stderr)
    functions, skipped, setup = stage_functions(args.stages)
    for stage, reason in skipped.items():
        print(f"# skipping {stage}: {reason}", file=sys.stderr)

    # Warm-up: build cached parsers and import lazily loaded modules.
    for shape in args.shapes:
        warm = generate(WARMUP_STEPS, shape)
        for stage, function in list(functions.items()):
            try:
                function(warm)
            except Exception as error:  # the API under construction: report, do not crash
                skipped[stage] = f"raised {type(error).__name__}: {error}"
                del functions[stage]
                print(f"# skipping {stage}: {skipped[stage]}", file=sys.stderr)

    cells: list[Cell] = []
    for shape in args.shapes:
        for n in sorted(args.sizes):
            text = generate(n, shape)
            line_count = text.count("\n")
            for stage, function in functions.items():
                cell = Cell(shape, n, stage, line_count, len(text))
                repeats = args.repeats or DEFAULT_REPEATS.get(n, 3)
                min_runs = 1 if n >= 10_000 else min(3, repeats)
                try:
                    time_cell(cell, function, text, repeats, min_runs, args.budget)
                except Exception as error:
                    skipped[stage] = f"raised {type(error).__name__} on {shape} N={n}: {error}"
                    print(f"# {stage}: {skipped[stage]}", file=sys.stderr)
                    continue
                cells.append(cell)
                print(
                    f"{shape:5} {n:>6} {stage:15} runs={len(cell.times_s)} median={cell.median_s * 1e3:9.1f} ms "
                    f"({cell.lines_per_s:,.0f} lines/s)"
                    + (f" diagnostics={cell.diagnostics}" if cell.diagnostics else ""),
                    file=sys.stderr,
                    flush=True,
                )
    add_exponents(cells)
    machine["load_average_at_end"] = _load_average()

    report = markdown(machine, cells, skipped, setup)
    sys.stdout.write(report)
    if not args.no_json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "benchmark": "frontend",
            "machine": machine,
            "config": {
                "sizes": sorted(args.sizes),
                "shapes": args.shapes,
                "stages": args.stages,
                "budget_s": args.budget,
                "warmup_steps": WARMUP_STEPS,
                "timer": "time.perf_counter",
            },
            "setup": setup,
            "skipped": skipped,
            "results": [asdict(c) for c in cells],
        }
        args.json.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
        print(f"# wrote {args.json}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
