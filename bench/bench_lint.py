"""Lint vs check on generated pipelines: the rules' cost on top of `mlp check`.

Usage: python bench/bench_lint.py [--sizes 100,1000,2000] [--repeats 5]
Prints a markdown table (medians, min-max, and the lint/check ratio).
"""

from __future__ import annotations

import argparse
import gc
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from generate import generate  # noqa: E402

import mlplang  # noqa: E402
from mlplang.config import LintConfig  # noqa: E402
from mlplang.lint import lint  # noqa: E402


def measure(text: str, repeats: int) -> tuple[list[float], list[float]]:
    checks, lints = [], []
    config = LintConfig()
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        result = mlplang.load_text(text, "bench.mlp")
        loaded = time.perf_counter()
        findings = lint(result, config)
        done = time.perf_counter()
        assert not findings, f"generated pipelines must lint clean, got {findings[:3]}"
        checks.append(loaded - start)
        lints.append(done - start)
    return checks, lints


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="100,1000,2000")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    lint(mlplang.load_text('pipeline warm { owner = "x" }', "warm.mlp"), LintConfig())  # imports, rule registry
    print(f"Python {platform.python_version()}, {platform.machine()}, {time.strftime('%Y-%m-%d')}")
    print()
    print("| shape | steps | check (ms) | lint (ms) | lint / check |")
    print("|---|---:|---:|---:|---:|")
    for size in (int(s) for s in args.sizes.split(",")):
        for shape in ("chain", "wide"):
            checks, lints = measure(generate(size, shape), args.repeats)
            check, total = statistics.median(checks), statistics.median(lints)
            print(
                f"| {shape} | {size:,} | {check * 1000:.0f} ({min(checks) * 1000:.0f}-{max(checks) * 1000:.0f}) "
                f"| {total * 1000:.0f} ({min(lints) * 1000:.0f}-{max(lints) * 1000:.0f}) | {total / check:.2f} |"
            )


if __name__ == "__main__":
    main()
