"""`mlp lint`: language diagnostics plus the governance rules, filtered by
configuration and inline `# mlp: ignore[CODE]` suppressions.

A suppression applies to diagnostics on its own line, or anywhere in the block
(pipeline, step, gate, monitor, source, template) whose first line carries it.
A suppression that suppresses nothing is itself reported (MLP901).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from mlplang.api import LoadResult
from mlplang.compiler.lineage import Lineage
from mlplang.compiler.rules import RuleContext, all_rules
from mlplang.config import LintConfig
from mlplang.diagnostics import codes
from mlplang.diagnostics.model import Diagnostic, Severity
from mlplang.dsl import ast
from mlplang.source import Span

SUPPRESSION = re.compile(r"#\s*mlp:\s*ignore\[([^\]]*)\]", re.IGNORECASE)


def run_rules(result: LoadResult, config: LintConfig) -> list[Diagnostic]:
    """Rule findings for a file that passed `mlp check` (rules assume valid IR)."""
    found: list[Diagnostic] = []
    rules = [rule() for rule in all_rules() if config.enabled(rule.code, rule.name)]
    for pipeline in result.pipelines:
        graph = result.graph(pipeline)
        context = RuleContext(pipeline, graph, Lineage(pipeline, graph), config)
        for rule in rules:
            default = config.severity_for(rule.code, rule.name, rule.severity)
            for violation in rule.check(context):
                severity = violation.severity or default
                if violation.severity is not None and (rule.code in config.severity or rule.name in config.severity):
                    severity = default  # an explicit configuration wins over the rule's grading
                found.append(
                    Diagnostic(
                        code=rule.code,
                        severity=severity,
                        message=violation.message,
                        span=violation.span,
                        label=violation.label,
                        labels=violation.labels,
                        help=violation.help,
                        notes=violation.notes,
                    )
                )
    return found


@dataclass
class Suppression:
    span: Span
    codes: tuple[str, ...]
    used: set[str] = field(default_factory=set)


def _suppressions(module: ast.Module) -> list[Suppression]:
    result = []
    for comment in module.comments:
        match = SUPPRESSION.search(comment.text)
        if match:
            names = tuple(n.strip() for n in match.group(1).split(",") if n.strip())
            result.append(Suppression(comment.span, names))
    return result


def _block_first_lines(module: ast.Module, span: Span) -> set[int]:
    """First lines of the declarations enclosing `span`."""
    lines = set()

    def visit(nodes) -> None:
        for node in nodes:
            node_span = getattr(node, "span", None)
            if node_span is None or not (node_span.start <= span.start and span.end <= node_span.end):
                continue
            lines.add(node_span.line)
            if isinstance(node, ast.PipelineDecl):
                visit(node.members)

    visit(module.items)
    return lines


def _matches(entry: str, diagnostic: Diagnostic) -> bool:
    registered = codes.REGISTRY.get(diagnostic.code)
    return entry.upper() == diagnostic.code or (registered is not None and entry.lower() == registered.name)


def apply_suppressions(diagnostics: list[Diagnostic], modules: dict[str, ast.Module]) -> list[Diagnostic]:
    by_file = {path: _suppressions(module) for path, module in modules.items()}
    kept: list[Diagnostic] = []
    for diagnostic in diagnostics:
        suppressions = by_file.get(diagnostic.span.file, [])
        if not suppressions or diagnostic.code < "MLP100":  # syntax errors cannot be suppressed
            kept.append(diagnostic)
            continue
        module = modules[diagnostic.span.file]
        lines = {diagnostic.span.line} | _block_first_lines(module, diagnostic.span)
        suppressed = False
        for suppression in suppressions:
            if suppression.span.line not in lines:
                continue
            for entry in suppression.codes:
                if _matches(entry, diagnostic):
                    suppression.used.add(entry)
                    suppressed = True
        if not suppressed:
            kept.append(diagnostic)
    for suppressions in by_file.values():
        for suppression in suppressions:
            for entry in suppression.codes:
                if entry in suppression.used:
                    continue
                if codes.lookup(entry) is None:
                    kept.append(_lint_diagnostic(codes.UNKNOWN_SUPPRESSION,
                                                 f"`{entry}` is not a known code or rule name", suppression.span))
                else:
                    kept.append(_lint_diagnostic(codes.UNUSED_SUPPRESSION,
                                                 f"`{entry}` is suppressed here but reports nothing", suppression.span))
    return kept


def _lint_diagnostic(code: codes.Code, message: str, span: Span) -> Diagnostic:
    return Diagnostic(code=code.code, severity=code.severity, message=message, span=span,
                      help="remove the suppression, or this code from its list")


def lint(result: LoadResult, config: LintConfig) -> list[Diagnostic]:
    """Everything `mlp lint` reports for one loaded file, sorted."""
    diagnostics = list(result.diagnostics)
    if result.ok:
        diagnostics += run_rules(result, config)
    diagnostics = [
        d for d in diagnostics
        if d.severity is Severity.ERROR and d.code < "MLP200" or config.enabled(d.code, _name(d.code))
    ]
    diagnostics = apply_suppressions(diagnostics, result.modules)
    return sorted(diagnostics, key=Diagnostic.sort_key)


def _name(code: str) -> str:
    entry = codes.REGISTRY.get(code)
    return entry.name if entry else code
