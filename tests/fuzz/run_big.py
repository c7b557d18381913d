"""The big fuzz run: many mutated inputs through the API, in process, on N cores.

    .venv/bin/python tests/fuzz/run_big.py --count 100000 --jobs 2 [--seed 0] [--seconds 3600]

Each input (see `mutate.py`) goes through `load_text`, `lint`, `format_text`
and `compile_result` for every target. Any exception other than the
formatter's documented `FormatError` is a crash: the input is saved as
`tests/fuzz/crashes/<sha>.mlp` with the traceback next to it (`.txt`).
Move a fixed crash's input to `tests/fuzz/regressions/` so the suite runs it.
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import mutate

CRASHES = HERE / "crashes"
TARGETS = ("github", "airflow", "kubeflow")
_SOURCES: dict[str, bytes] = {}


def exercise(data: bytes) -> None:
    from mlplang.api import load_text
    from mlplang.compile import compile_result
    from mlplang.config import LintConfig
    from mlplang.formatter import FormatError, format_text
    from mlplang.lint import lint

    config = LintConfig()
    result = load_text(data, "fuzz.mlp")
    lint(result, config)
    text = result.sources[result.path].text
    try:
        format_text(text, "fuzz.mlp")
    except FormatError:
        pass
    for target in TARGETS:
        compile_result(result, target, config)


def run_one(case: tuple[str, int]) -> tuple[str, int, str | None]:
    name, seed = case
    if name not in _SOURCES:
        _SOURCES[name] = (mutate.ROOT / name).read_bytes()
    data = mutate.mutate(_SOURCES[name], seed)
    try:
        exercise(data)
    except Exception:  # noqa: BLE001 - that is what we are looking for
        digest = hashlib.sha256(data).hexdigest()[:16]
        CRASHES.mkdir(exist_ok=True)
        (CRASHES / f"{digest}.mlp").write_bytes(data)
        (CRASHES / f"{digest}.txt").write_text(f"{name} seed {seed}\n{traceback.format_exc()}", encoding="utf-8")
        return name, seed, digest
    return name, seed, None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1, help="0 is the set the test suite runs")
    parser.add_argument("--seconds", type=float, default=None, help="stop after this long")
    args = parser.parse_args()
    start, tried, crashes = time.monotonic(), 0, []
    with multiprocessing.Pool(args.jobs) as pool:
        for name, seed, digest in pool.imap_unordered(run_one, mutate.cases(args.count, args.seed), chunksize=20):
            tried += 1
            if digest:
                crashes.append(digest)
                print(f"CRASH {name} seed {seed} -> tests/fuzz/crashes/{digest}.mlp", flush=True)
            if tried % 1000 == 0:
                print(f"{tried} inputs, {len(crashes)} crashes, {time.monotonic() - start:.0f}s", flush=True)
            if args.seconds and time.monotonic() - start > args.seconds:
                pool.terminate()
                break
    print(f"done: {tried} inputs tried, {len(crashes)} crashes ({len(set(crashes))} distinct inputs), "
          f"{time.monotonic() - start:.0f}s")
    return 1 if crashes else 0


if __name__ == "__main__":
    sys.exit(main())
