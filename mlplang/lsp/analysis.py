"""What the language server knows about one document, without any protocol types.

`Analysis` loads and lints the text with the same engine as `mlp lint`, then
indexes every name the user wrote: each occurrence gets a symbol key
(`("node", pipeline, name)` for sources, steps, gates and monitors, which share
one namespace; `("output", pipeline, step, name)`; `("input", ...)`;
`("param", pipeline, name)`; `("secret", pipeline, name)`;
`("template", module, name)`). Hover, definition, references and rename are
lookups in that index, built on their first use (publishing diagnostics after
an edit never needs it); positions stay code-point offsets here (the server
converts them to UTF-16).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

from mlplang.api import LoadResult, load_text
from mlplang.compiler import ir
from mlplang.compiler.lineage import Lineage
from mlplang.compiler.modules import STDLIB
from mlplang.config import ConfigError, LintConfig, find_config
from mlplang.diagnostics import codes
from mlplang.diagnostics.model import Diagnostic
from mlplang.dsl import ast
from mlplang.perf import paused_gc
from mlplang.source import Span

Key = tuple[str, ...]
SUPPRESSION = re.compile(r"#\s*mlp:\s*ignore\[([^\]]*)\]", re.IGNORECASE)

TOP_KEYWORDS = ("import", "pipeline", "template")
PIPELINE_KEYWORDS = ("param", "secret", "source", "step", "gate", "monitor",
                     "description", "owner", "schedule", "risk", "tags")
BODY_KEYWORDS = ("in", "out", "after", "when", "require", "image", "run", "env", "retries", "timeout",
                 "resources", "cache", "description", "approval", "watch", "on_breach", "schedule")


def uri_to_path(uri: str) -> Path | None:
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return None
    return Path(unquote(parsed.path))


def config_for(real: Path | None) -> LintConfig:
    """The lint configuration governing a document (the defaults for an unsaved one or a broken file)."""
    try:
        return find_config(real) if real else LintConfig()
    except ConfigError:
        return LintConfig()


def display_to_path(display: str, root: Path | None) -> Path | None:
    """A display path of LoadResult (`std/data.mlp`, an imported file) -> a real file."""
    if display.startswith("std/"):
        return STDLIB / display[len("std/"):]
    path = Path(display)
    if path.is_absolute():
        return path
    base = root.parent if root else Path.cwd()
    return (base / path).resolve()


@dataclass(frozen=True)
class Occurrence:
    key: Key
    span: Span
    definition: bool


@dataclass
class Analysis:
    text: str
    path: str
    real_path: Path | None
    result: LoadResult
    diagnostics: list[Diagnostic]
    config: LintConfig = field(default_factory=LintConfig)
    timings: dict[str, float] = field(default_factory=dict)
    """Seconds spent per stage of `build` (config, load = parse + lowering, lint)."""
    _occurrences: list[Occurrence] | None = field(default=None, repr=False)
    _definitions: dict[Key, Span] = field(default_factory=dict, repr=False)

    # ---- construction -------------------------------------------------------

    @classmethod
    def build(cls, text: str, uri: str) -> Analysis:
        from mlplang.lint import lint

        _register_rules()  # suppressions and the configuration may name rule codes
        real = uri_to_path(uri)
        path = str(real) if real else uri
        started = time.perf_counter()
        config = config_for(real)
        configured = time.perf_counter()
        # The collector stays paused through the lint too: it allocates many objects, and a collection
        # would rescan them and the previous analysis the server still holds (the few cycles wait).
        with paused_gc():
            result = load_text(text, path, real)
            loaded = time.perf_counter()
            diagnostics = lint(result, config)
        linted = time.perf_counter()
        timings = {"config": configured - started, "load": loaded - configured, "lint": linted - loaded}
        return cls(text, path, real, result, diagnostics, config, timings)

    @property
    def occurrences(self) -> list[Occurrence]:
        if self._occurrences is None:
            self._index()
        return self._occurrences

    @property
    def definitions(self) -> dict[Key, Span]:
        if self._occurrences is None:
            self._index()
        return self._definitions

    def _index(self) -> None:
        self._occurrences = []
        self._definitions = {}
        module = self.result.module
        if module is None:
            return
        found: list[Occurrence] = []
        for item in module.items:
            if isinstance(item, ast.PipelineDecl):
                _Indexer(self, item, found).run()
            elif isinstance(item, ast.TemplateDecl):
                found.append(Occurrence(("template", self.path, item.name.value), item.name.span, True))
        definitions = self._definitions
        for occurrence in found:
            if occurrence.definition:
                definitions.setdefault(occurrence.key, occurrence.span)
        for pipeline in self.result.pipelines:  # templated steps: outputs are declared in the template
            for step in pipeline.steps:
                if step.template is not None:
                    for output in step.outputs:
                        definitions.setdefault(("output", pipeline.name, step.name, output.name), output.span)
        self._occurrences = [o for o in found if o.key in definitions or o.key[0] == "template"]

    # ---- lookups ------------------------------------------------------------------

    def occurrence_at(self, offset: int) -> Occurrence | None:
        here = [o for o in self.occurrences if o.span.file == self.path and o.span.start <= offset <= o.span.end]
        return min(here, key=lambda o: o.span.end - o.span.start, default=None)

    def definition(self, key: Key) -> Span | None:
        if key in self.definitions:
            return self.definitions[key]
        if key[0] == "template":
            syntax = self.result.modules.get(key[1])
            if syntax is not None:
                for template in syntax.templates:
                    if template.name.value == key[2]:
                        return template.name.span
        return None

    def references(self, key: Key, include_declaration: bool = True) -> list[Span]:
        return [o.span for o in self.occurrences if o.key == key and (include_declaration or not o.definition)]

    def pipeline(self, name: str) -> ir.Pipeline | None:
        return next((p for p in self.result.pipelines if p.name == name), None)

    def lineage(self, pipeline: ir.Pipeline) -> Lineage | None:
        graph = self.result.graphs.get(pipeline.name)
        return Lineage(pipeline, graph) if graph is not None else None

    def source_text(self, display: str) -> str | None:
        source = self.result.sources.get(display)
        return source.text if source else (self.text if display == self.path else None)

    # ---- hover ------------------------------------------------------------------------

    def hover(self, offset: int) -> tuple[str, Span] | None:
        suppression = self._suppression_hover(offset)
        if suppression:
            return suppression
        occurrence = self.occurrence_at(offset)
        if occurrence is None:
            return None
        text = self._describe(occurrence.key)
        return (text, occurrence.span) if text else None

    def _suppression_hover(self, offset: int) -> tuple[str, Span] | None:
        module = self.result.module
        if module is None:
            return None
        for comment in module.comments:
            if not comment.span.start <= offset <= comment.span.end:
                continue
            match = SUPPRESSION.search(comment.text)
            if not match:
                return None
            base = comment.span.start + match.start(1)
            position = 0
            for part in match.group(1).split(","):
                start, end = base + position, base + position + len(part)
                position += len(part) + 1
                if start <= offset <= end and part.strip():
                    _register_rules()
                    entry = codes.lookup(part.strip())
                    if entry is None:
                        return f"`{part.strip()}`: unknown code", comment.span
                    doc = f"**{entry.code} {entry.name}** ({entry.severity.value})\n\n{entry.summary}"
                    if entry.explanation:
                        doc += "\n\n" + entry.explanation
                    return doc, comment.span
        return None

    def _describe(self, key: Key) -> str | None:
        kind = key[0]
        pipeline = self.pipeline(key[1]) if kind in ("node", "output", "param", "secret", "input") else None
        if kind == "template":
            syntax = self.result.modules.get(key[1])
            template = next((t for t in syntax.templates if t.name.value == key[2]), None) if syntax else None
            if template is None:
                return f"template `{key[2]}` from `{key[1]}`"
            params = ", ".join(f"{p.name.value}: {p.type}" + (" = ..." if p.default is not None else "")
                               for p in template.params)
            outputs = [f"- `{i.name.value}: {i.type}`" for i in template.body if isinstance(i, ast.OutputDecl)]
            return f"template `{key[2]}({params})` from `{key[1]}`" + \
                ("\n\noutputs:\n" + "\n".join(outputs) if outputs else "")
        if pipeline is None:
            return f"{kind} `{key[-1]}`"
        if kind == "param":
            param = pipeline.param(key[2])
            if param is None:
                return None
            default = f" = {param.default!r}" if param.default is not None else ""
            return f"param `{param.name}: {param.type}{default}`"
        if kind == "secret":
            return f"secret `{key[2]}` (reaches steps only through `env`)"
        if kind == "node":
            return self._describe_node(pipeline, key[2])
        if kind == "output":
            return self._describe_artifact(pipeline, f"{key[2]}.{key[3]}")
        if kind == "input":
            task = pipeline.step(key[2]) or next((m for m in pipeline.monitors if m.name == key[2]), None)
            item = task.input(key[3]) if task else None
            if item is None:
                return None
            return f"input `{item.name}: {item.type}` of `{task.name}`, bound to `{item.ref.artifact_id}`\n\n" + \
                (self._describe_artifact(pipeline, item.ref.artifact_id) or "")
        return None

    def _describe_node(self, pipeline: ir.Pipeline, name: str) -> str | None:
        source = pipeline.source(name)
        if source is not None:
            return self._describe_artifact(pipeline, name)
        gate = pipeline.gate(name)
        if gate is not None:
            lines = [f"gate `{name}`"]
            if gate.description:
                lines.append(gate.description)
            if gate.approval:
                lines.append("human approval: " + ", ".join(gate.approval.reviewers))
            return "\n\n".join(lines)
        task: ir.Task | None = pipeline.step(name) or next((m for m in pipeline.monitors if m.name == name), None)
        if task is None:
            return None
        kind = "monitor" if isinstance(task, ir.Monitor) else "step"
        lines = [f"{kind} `{name}`"]
        if task.description:
            lines.append(task.description)
        if isinstance(task, ir.Step) and task.template is not None:
            lines.append(f"from template `{task.template.template}` ({task.template.module})")
        if task.inputs:
            lines.append("inputs:\n" + "\n".join(f"- `{i.name}: {i.type}` = `{i.ref.artifact_id}`" for i in task.inputs))
        if task.outputs:
            lines.append("outputs:\n" + "\n".join(f"- `{o.name}: {o.type}`" for o in task.outputs))
        return "\n\n".join(lines)

    def _describe_artifact(self, pipeline: ir.Pipeline, artifact_id: str) -> str | None:
        lineage = self.lineage(pipeline)
        if lineage is None:
            return None
        artifact_type = lineage.artifact_type(artifact_id)
        if artifact_type is None:
            return None
        producer = lineage.producer(artifact_id)
        if isinstance(producer, ir.Source):
            lines = [f"source `{artifact_id}: {artifact_type}`", f"uri: `{producer.uri}`"]
        else:
            lines = [f"artifact `{artifact_id}: {artifact_type}`", f"produced by step `{producer.name}`"]
            sources = lineage.sources_of(artifact_id)
            lines.append("upstream sources: " + (", ".join(f"`{s.name}`" for s in sources) or "none"))
        pii = sorted(lineage.pii(artifact_id))
        lines.append("PII: " + (", ".join(f"`{c}`" for c in pii) + " (by lineage)" if pii else "none"))
        return "\n\n".join(lines)

    # ---- symbols and context ------------------------------------------------------------

    def enclosing(self, offset: int) -> tuple[ast.PipelineDecl | ast.TemplateDecl | None, object | None]:
        """The top-level declaration and the member containing `offset`."""
        module = self.result.module
        if module is None:
            return None, None
        for item in module.items:
            if isinstance(item, (ast.PipelineDecl, ast.TemplateDecl)) and item.span.start <= offset <= item.span.end:
                if isinstance(item, ast.TemplateDecl):
                    return item, item
                for member in item.members:
                    if member.span.start <= offset <= member.span.end:
                        return item, member
                return item, None
        return None, None

    def import_aliases(self) -> dict[str, str]:
        """Alias -> display path of the imported module."""
        module = self.result.module
        aliases: dict[str, str] = {}
        if module is None:
            return aliases
        for decl in module.imports:
            target = decl.path.text
            alias = decl.alias.value if decl.alias else Path(target).stem
            if target.startswith("std/"):
                display = target + ("" if target.endswith(".mlp") else ".mlp")
            else:
                display = next((d for d in self.result.modules if d.endswith(Path(target).name)), target)
            aliases[alias] = display
        return aliases


def _register_rules() -> None:
    from mlplang.compiler.rules import all_rules

    all_rules()


class _Indexer:
    """Walks one pipeline's syntax tree and records every name occurrence."""

    def __init__(self, analysis: Analysis, decl: ast.PipelineDecl, found: list[Occurrence]) -> None:
        self.analysis = analysis
        self.decl = decl
        self.pipeline = decl.name.value
        self.found = found
        ir_pipeline = analysis.pipeline(self.pipeline)
        self.templates = {s.name: s.template for s in ir_pipeline.steps if s.template} if ir_pipeline else {}

    def add(self, key: Key, span: Span, definition: bool = False) -> None:
        self.found.append(Occurrence(key, span, definition))

    def run(self) -> None:
        p = self.pipeline
        for member in self.decl.members:
            if isinstance(member, ast.ParamDecl):
                self.add(("param", p, member.name.value), member.name.span, True)
                self.value(member.default, None)
            elif isinstance(member, ast.SecretDecl):
                self.add(("secret", p, member.name.value), member.name.span, True)
            elif isinstance(member, ast.SourceDecl):
                self.add(("node", p, member.name.value), member.name.span, True)
                for attribute in member.attributes:
                    self.value(attribute.value, None)
            elif isinstance(member, (ast.StepDecl, ast.GateDecl, ast.MonitorDecl)):
                self.add(("node", p, member.name.value), member.name.span, True)
                self.body(member.body, member.name.value, templated=False)
            elif isinstance(member, ast.TemplateStepDecl):
                name = member.name.value
                self.add(("node", p, name), member.name.span, True)
                origin = self.templates.get(name)
                template_name = member.template.parts[-1]
                if origin is not None:
                    self.add(("template", origin.module, origin.template), template_name.span)
                for argument in member.arguments:
                    self.value(argument.value, name)
                self.body(member.body, name, templated=True)
            elif isinstance(member, ast.Attribute):
                self.value(member.value, None)

    def body(self, items, step: str, templated: bool) -> None:
        p = self.pipeline
        for item in items:
            if isinstance(item, ast.InputDecl):
                self.add(("input", p, step, item.name.value), item.name.span, True)
                self.value(item.binding, step, templated)
            elif isinstance(item, ast.OutputDecl):
                self.add(("output", p, step, item.name.value), item.name.span, True)
                for attribute in item.attributes:
                    self.value(attribute.value, step, templated)
            elif isinstance(item, ast.AfterDecl):
                for name in item.names:
                    self.add(("node", p, name.value), name.span)
            elif isinstance(item, ast.Attribute):
                self.value(item.value, step, templated)
            elif isinstance(item, ast.Block):
                for attribute in item.attributes:
                    self.value(attribute.value, step, templated)
            elif isinstance(item, (ast.WhenDecl, ast.RequireDecl)):
                self.value(item.condition, step, templated)

    def value(self, node, step: str | None, templated: bool = False) -> None:
        p = self.pipeline
        if node is None:
            return
        if isinstance(node, ast.Ref):
            first = node.parts[0]
            if first.value in ("param", "secret") and len(node.parts) >= 2:
                self.add((first.value, p, node.parts[1].value), node.parts[1].span)
                return
            self.add(("node", p, first.value), first.span)
            if len(node.parts) >= 2:
                self.add(("output", p, first.value, node.parts[1].value), node.parts[1].span)
            return
        if isinstance(node, ast.StringLit):
            for part in node.parts:
                if not isinstance(part, ast.Interpolation) or step is None:
                    continue
                if part.namespace == "in":
                    self.add(("input", p, step, part.name), part.name_span)
                elif part.namespace == "out":
                    self.add(("output", p, step, part.name), part.name_span)
                elif part.namespace == "param" and not templated:
                    self.add(("param", p, part.name), part.name_span)
            return
        if isinstance(node, ast.Node):
            for name in node.__match_args__:
                child = getattr(node, name)
                if isinstance(child, tuple) and not isinstance(child, Span):
                    for item in child:
                        if isinstance(item, ast.Node):
                            self.value(item, step, templated)
                elif isinstance(child, ast.Node) and not isinstance(child, ast.Name):
                    self.value(child, step, templated)
