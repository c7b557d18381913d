"""The public API: parse, check and load `.mlp` files.

Stages run one way: text -> syntax tree -> typed IR + graph -> diagnostics.
None of these functions raises for a mistake in the text; unreadable files
raise `FileReadError` (the CLI turns it into exit code 2).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from mlplang.compiler import ir
from mlplang.compiler.graph import PipelineGraph
from mlplang.compiler.lower import PipelineLowerer
from mlplang.compiler.templates import check_template_definition
from mlplang.compiler.modules import FileReadError, ModuleLoader, decode, read_source
from mlplang.compiler.report import Reporter
from mlplang.diagnostics import codes
from mlplang.diagnostics.model import Diagnostic, Label, has_errors
from mlplang.dsl import ast
from mlplang.dsl.parser import parse_source
from mlplang.perf import paused_gc
from mlplang.source import SourceFile

__all__ = ["FileReadError", "LoadResult", "check", "load", "load_text", "parse"]


@dataclass(frozen=True)
class LoadResult:
    """Everything one file means: its pipelines (typed IR) with their graphs,
    every diagnostic, and the sources needed to render them."""

    path: str
    module: ast.Module | None
    pipelines: tuple[ir.Pipeline, ...]
    graphs: dict[str, PipelineGraph]
    diagnostics: tuple[Diagnostic, ...]
    sources: dict[str, SourceFile] = field(default_factory=dict)
    modules: dict[str, ast.Module] = field(default_factory=dict)
    """Syntax trees of the file and of every module it imports, by display path."""

    @property
    def ok(self) -> bool:
        return not has_errors(self.diagnostics)

    def graph(self, pipeline: ir.Pipeline | str) -> PipelineGraph:
        return self.graphs[pipeline if isinstance(pipeline, str) else pipeline.name]


def parse(text: str, path: str = "<string>") -> tuple[ast.Module, list[Diagnostic]]:
    """Text -> syntax tree and syntax diagnostics."""
    return parse_source(SourceFile.from_text(text, path))


def _cycle_diagnostic(pipeline: ir.Pipeline, path: list[str], r: Reporter) -> None:
    spans = {n.name: n.name_span for n in (*pipeline.steps, *pipeline.gates, *pipeline.monitors)}
    spans.update({s.name: s.span for s in pipeline.sources})
    shown = " -> ".join(f'"{name}"' for name in path)
    r.add(
        codes.DEPENDENCY_CYCLE,
        f"dependency cycle: {shown}",
        spans[path[0]],
        label="this depends on itself through the cycle",
        labels=[Label(span=spans[name], message=f"`{name}` is part of the cycle") for name in path[1:-1]],
        help="a pipeline is a DAG: break the loop by removing an `after` or an input binding",
    )


def _load(source: SourceFile, real_path: Path | None, read_diagnostics: list[Diagnostic],
          syntax: ast.Module | None = None) -> LoadResult:
    with paused_gc():
        return _load_unpaused(source, real_path, read_diagnostics, syntax)


def _load_unpaused(source: SourceFile, real_path: Path | None, read_diagnostics: list[Diagnostic],
                   syntax: ast.Module | None = None) -> LoadResult:
    reporter = Reporter()
    loader = ModuleLoader(reporter)
    root = loader.load(source, real_path, read_diagnostics, syntax)
    pipelines: list[ir.Pipeline] = []
    graphs: dict[str, PipelineGraph] = {}
    if root.ok:
        for module in loader.modules.values():
            if module.ok:
                for template in module.syntax.templates:
                    check_template_definition(template, reporter)
        seen: dict[str, ast.PipelineDecl] = {}
        for decl in root.syntax.pipelines:
            if decl.name.value in seen:
                reporter.add(codes.DUPLICATE_NAME, f"pipeline `{decl.name.value}` is declared twice",
                             decl.name.span, labels=[Label(span=seen[decl.name.value].name.span,
                                                           message="first declared here")])
                continue
            seen[decl.name.value] = decl
            pipeline = PipelineLowerer(decl, root, reporter).lower()
            graph = PipelineGraph(pipeline)
            cycle = graph.find_cycle()
            if cycle is not None:
                _cycle_diagnostic(pipeline, cycle, reporter)
            pipelines.append(pipeline)
            graphs[pipeline.name] = graph
        templates: dict[str, ast.TemplateDecl] = {}
        for template in root.syntax.templates:
            name = template.name.value
            if name in templates:
                reporter.add(codes.DUPLICATE_NAME, f"template `{name}` is declared twice", template.name.span,
                             labels=[Label(span=templates[name].name.span, message="first declared here")])
            templates.setdefault(name, template)
    return LoadResult(
        path=source.path,
        module=root.syntax,
        pipelines=tuple(pipelines),
        graphs=graphs,
        diagnostics=tuple(reporter.diagnostics),
        sources=dict(loader.sources),
        modules={m.source.path: m.syntax for m in loader.modules.values()},
    )


def load(path: str | Path) -> LoadResult:
    """Read, parse, resolve and check one file. Raises FileReadError if unreadable."""
    source, diagnostics = read_source(path)
    return _load(source, Path(path).resolve(), diagnostics)


def load_text(text: str | bytes, path: str = "<string>", real_path: Path | None = None) -> LoadResult:
    """Like `load`, for text held in memory (an editor buffer, a test).
    Relative imports resolve from `real_path` (default: the current directory)."""
    if isinstance(text, bytes):
        source, diagnostics = decode(text, path)
    else:
        source, diagnostics = SourceFile.from_text(text, path), []
    return _load(source, real_path, diagnostics)


def load_syntax(source: SourceFile, syntax: ast.Module, real_path: Path | None = None) -> LoadResult:
    """Like `load_text`, for a syntax tree of `source` already parsed without any diagnostic."""
    return _load(source, real_path, [], syntax)


def check(text_or_path: str | bytes | Path, path: str | None = None) -> list[Diagnostic]:
    """Diagnostics of a file (given a Path) or of text (given a str, or bytes to decode).

    A large file is checked in a forked child process where `mlplang.parallel`
    allows it (its parse split with a grandchild): only the diagnostics come
    back, so the syntax tree and the IR, which the caller never sees, neither
    grow this process's heap nor cost freeing here (8% of checking 10,000
    steps). If the child fails, the file is checked here: same diagnostics,
    or the same exception."""
    if isinstance(text_or_path, Path):
        source, read_diagnostics = read_source(text_or_path)
        real_path = text_or_path.resolve()
    elif isinstance(text_or_path, bytes):
        source, read_diagnostics = decode(text_or_path, path or "<string>")
        real_path = None
    else:
        source, read_diagnostics = SourceFile.from_text(text_or_path, path or "<string>"), []
        real_path = None
    if len(source.text) >= CHECK_IN_CHILD_MIN_CHARS:
        from mlplang.parallel import FAILED, Forked, can_fork

        if can_fork():
            diagnostics = Forked(lambda: _check_in_child(source, real_path, read_diagnostics),
                                 may_fork=True).result()
            if diagnostics is not FAILED:
                return diagnostics
    return list(_load(source, real_path, read_diagnostics).diagnostics)


def _check_in_child(source: SourceFile, real_path: Path | None, read_diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    result = _load(source, real_path, read_diagnostics)
    _kept_until_exit.append(result)  # the child's exit frees it all at once, not object by object
    return list(result.diagnostics)


_kept_until_exit: list[LoadResult] = []


CHECK_IN_CHILD_MIN_CHARS = 256_000
"""From this size (about 600 steps, as `mlplang.dsl.split_parse.MIN_CHARS`) `check` runs in a
child: below it, forking and passing the diagnostics back cost about what freeing saves."""
