"""`mlp compile`: lint, then emit files for one or more targets, all or nothing.

A pipeline with any error - a language error or a governance rule at error
severity - is not compiled: orchestrators only ever receive pipelines that
passed every check.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from pydantic import ValidationError

from mlplang.api import LoadResult
from mlplang.backends import backend_class
from mlplang.backends.base import CompileUnit, EmittedFile
from mlplang.compiler.lineage import Lineage
from mlplang.config import ConfigError, LintConfig
from mlplang.diagnostics.model import Diagnostic, has_errors
from mlplang.lint import lint
from mlplang.parallel import FAILED, Forked, can_fork
from mlplang.perf import paused_gc


@dataclass
class CompileOutcome:
    files: list[EmittedFile] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not has_errors(self.diagnostics)


def backend_for(target: str, config: LintConfig, overrides: dict | None = None):
    cls = backend_class(target)
    settings = {**config.targets.get(target, {}), **(overrides or {})}
    try:
        options = cls.options_type.model_validate(settings)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors())
        raise ConfigError(f"invalid options for target {target}: {problems}") from error
    return cls(options)


@dataclass
class TargetsOutcome:
    """A file compiled for several targets: the lint findings once, then per target
    what its backend reported and the files it emitted."""

    diagnostics: list[Diagnostic]
    targets: dict[str, CompileOutcome]

    @property
    def ok(self) -> bool:
        return not has_errors(self.diagnostics) and all(o.ok for o in self.targets.values())


def compile_targets(result: LoadResult, targets: Sequence[str], config: LintConfig,
                    overrides: Mapping[str, dict] | None = None, jobs: int = 1) -> TargetsOutcome:
    """Lint once, then emit for each target (all or nothing per target).

    `overrides` holds each target's options over its [tool.mlp.TARGET] table.
    Nothing is emitted if linting finds an error. With `jobs` above 1 (at
    most that many processes; 0: one per target), a large pipeline's other
    targets are emitted in forked processes while this one lints and emits
    the first (`mlplang.parallel`); the outcome is the same as with one job."""
    overrides = overrides or {}
    # The rules and the backends build large trees of small dicts and strings
    # with no cycles: with the collector running, each full collection would
    # rescan the whole IR and everything built so far (mlplang.perf).
    with paused_gc():
        # Forked before linting, which they need not wait for: their work is thrown
        # away if linting finds an error.
        children = _fork_emitters(result, targets, config, overrides, jobs)
        try:
            findings = lint(result, config)
            outcome = TargetsOutcome(findings, {})
            if has_errors(findings):
                return outcome
            units = _units(result)
            for target in targets:
                emitted = children.pop(target).result() if target in children else FAILED
                if emitted is FAILED:  # not forked, or the child failed: the error, if any, shows here
                    emitted = _emit(units, target, config, overrides.get(target))
                outcome.targets[target] = emitted
            return outcome
        finally:
            for child in children.values():
                child.cancel()


FORK_MIN_STEPS = 500
"""Below this many steps, emitting takes less than forking costs (a few ms for
a large process, more than the emitters of a small pipeline)."""


def _fork_emitters(result: LoadResult, targets: Sequence[str], config: LintConfig,
                   overrides: Mapping[str, dict], jobs: int) -> dict[str, Forked]:
    """A forked child emitting each target but the first, when that is worth it."""
    if jobs == 0:
        jobs = len(targets)
    jobs = min(jobs, len(targets))
    if jobs < 2 or sum(len(p.steps) for p in result.pipelines) < FORK_MIN_STEPS or not can_fork():
        return {}
    children = {}
    for target in targets[1:jobs]:
        def emit(target: str = target) -> CompileOutcome:
            return _emit(_units(result), target, config, overrides.get(target))
        children[target] = Forked(emit)
    return children


def compile_result(result: LoadResult, target: str, config: LintConfig, overrides: dict | None = None) -> CompileOutcome:
    """Lint, then emit for one target: the lint findings and the backend's, with the files."""
    outcome = compile_targets(result, [target], config, {target: overrides or {}})
    emitted = outcome.targets.get(target, CompileOutcome())
    return CompileOutcome(files=emitted.files, diagnostics=[*outcome.diagnostics, *emitted.diagnostics])


def _units(result: LoadResult) -> list[CompileUnit]:
    """One unit per pipeline for all the targets (of a process): what they look up in it is indexed once."""
    return [_unit(result, pipeline) for pipeline in result.pipelines]


def _unit(result: LoadResult, pipeline) -> CompileUnit:
    graph = result.graph(pipeline)
    return CompileUnit(pipeline, graph, Lineage(pipeline, graph), result.path)


def _emit(units: Sequence[CompileUnit], target: str, config: LintConfig, overrides: dict | None) -> CompileOutcome:
    outcome = CompileOutcome()
    backend = backend_for(target, config, overrides)
    for unit in units:
        emitted = backend.compile(unit)
        outcome.files.extend(emitted.files)
        outcome.diagnostics.extend(emitted.diagnostics)
    if not outcome.ok:
        outcome.files = []
    return outcome
