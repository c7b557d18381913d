"""Check once, compile to every target, write the files: one process.

This is the program behind the "check + compile to all three targets"
measurement of bench/run.py (timed process to process, start-up included):

  1. read and load FILE once (parse, names, types: `mlp check`);
  2. lint it once with every rule, with the configuration `mlp compile` would
     use (`mlp.toml` / `pyproject.toml` found upwards from FILE);
  3. if nothing is an error, for each target (GitHub Actions, Airflow,
     Kubeflow by default) call `mlplang.compile.compile_result`, as `mlp
     compile -t TARGET` does (its lint step answered from step 2), and write
     the files (pipeline and monitor) under OUT_DIR/TARGET/ with mlp's writer,
     as `mlp compile -t TARGET -o OUT_DIR/TARGET` would.

`mlp compile` does the same for one target per process (and lints each time);
this is what a CI job emitting every target from one process would pay.

Usage: python bench/all_targets.py FILE OUT_DIR [--targets github,airflow,kubeflow]
Exit status: 0 when everything was written, 1 when the file has errors.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

TARGETS = ("github", "airflow", "kubeflow")


def compile_all(file: Path, out: Path, targets: Sequence[str] = TARGETS) -> dict[str, list[Path]]:
    """Load, lint and compile `file` for every target; the files written, by target.

    Each target goes through `mlplang.compile.compile_result`, the function
    `mlp compile` calls, so the emit path is exactly the CLI's; only its lint
    step is served from the one lint run here (the findings do not depend on
    the target). Raises ValueError, with the codes, if anything is an error.
    """
    from mlplang import compile as compile_module
    from mlplang.api import load
    from mlplang.backends.writer import write_files
    from mlplang.config import find_config
    from mlplang.diagnostics.model import has_errors
    from mlplang.lint import lint

    result = load(file)
    config = find_config(file)
    findings = lint(result, config)
    if has_errors(findings):
        raise ValueError(f"{file} has errors: {sorted({d.code for d in findings})}")
    compile_module.lint = lambda linted, _config: list(findings) if linted is result else lint(linted, _config)
    written: dict[str, list[Path]] = {}
    for target in targets:
        outcome = compile_module.compile_result(result, target, config)
        if not outcome.ok:
            raise ValueError(f"{file}: target {target} reported errors: {sorted({d.code for d in outcome.diagnostics})}")
        written[target] = write_files(out / target, outcome.files)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--targets", default=",".join(TARGETS))
    args = parser.parse_args(argv)
    try:
        written = compile_all(args.file, args.out, [t for t in args.targets.split(",") if t])
    except ValueError as error:
        print(f"all_targets: {error}", file=sys.stderr)
        return 1
    print(" ".join(f"{target}={len(paths)}" for target, paths in written.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
