"""`mlp lint`: language diagnostics plus the governance rules, filtered by
configuration and inline `# mlp: ignore[CODE]` suppressions.

A suppression applies to diagnostics on its own line, or anywhere in the block
(pipeline, step, gate, monitor, source, template) whose first line carries it.
A suppression in the linted file that suppresses nothing is itself reported
(MLP901), unless the code it names is disabled by the configuration or the file
has language errors (the rules did not run); one naming no code, always (MLP902).

`[tool.mlp.severity]` re-grades rule findings, the linter's own codes and the
language's warnings; language errors stay errors.
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
from mlplang.perf import paused_gc
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
    registered = codes.lookup(entry)  # a code, a rule name, or a redirected old code
    return registered is not None and registered.code == diagnostic.code


def apply_suppressions(
    diagnostics: list[Diagnostic], modules: dict[str, ast.Module], linted: str | None = None,
    config: LintConfig | None = None, rules_ran: bool = True,
) -> list[Diagnostic]:
    """Drop suppressed diagnostics, then judge the suppressions of the `linted`
    file (imported modules are judged when they are linted themselves): one
    naming no code is reported; one that suppressed nothing is reported if its
    code could have fired, i.e. the rules ran and `config` enables the code."""
    by_file = {path: _suppressions(module) for path, module in modules.items()}
    kept: list[Diagnostic] = []
    for diagnostic in diagnostics:
        suppressions = by_file.get(diagnostic.span.file, [])
        if not suppressions or _is_language_error(diagnostic):  # an invalid file cannot be waved through
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
    for suppression in by_file.get(linted, []) if linted else []:
        for entry in suppression.codes:
            if entry in suppression.used:
                continue
            registered = codes.lookup(entry)
            if registered is None:
                kept.append(_lint_diagnostic(codes.UNKNOWN_SUPPRESSION,
                                             f"`{entry}` is not a known code or rule name", suppression.span))
            elif rules_ran and (config is None or config.enabled(registered.code, registered.name)):
                kept.append(_lint_diagnostic(codes.UNUSED_SUPPRESSION,
                                             f"`{entry}` is suppressed here but reports nothing", suppression.span))
    return kept


def _lint_diagnostic(code: codes.Code, message: str, span: Span) -> Diagnostic:
    return Diagnostic(code=code.code, severity=code.severity, message=message, span=span,
                      help="remove the suppression, or this code from its list")


def lint(result: LoadResult, config: LintConfig) -> list[Diagnostic]:
    """Everything `mlp lint` reports for one loaded file, sorted."""
    # Like loading: the rules build lineage tables (a set per artifact) that form
    # no cycles, and collections would rescan the whole IR while they run.
    with paused_gc():
        return _lint(result, config)


def _lint(result: LoadResult, config: LintConfig) -> list[Diagnostic]:
    diagnostics = list(result.diagnostics)
    if result.ok:
        diagnostics += run_rules(result, config)
    diagnostics = apply_suppressions(diagnostics, result.modules, result.path, config, rules_ran=result.ok)
    # Filtered after the suppressions, so that the linter's own codes (MLP901...) obey the configuration too.
    diagnostics = [_regraded(d, config) for d in diagnostics if _is_language_error(d) or
                   config.enabled(d.code, _name(d.code))]
    return sorted(diagnostics, key=Diagnostic.sort_key)


def _is_language_error(diagnostic: Diagnostic) -> bool:
    return diagnostic.severity is Severity.ERROR and codes.is_language_code(diagnostic.code)


def _regraded(diagnostic: Diagnostic, config: LintConfig) -> Diagnostic:
    """Applies `[tool.mlp.severity]` to what `run_rules` did not grade."""
    entry = codes.REGISTRY.get(diagnostic.code)
    if entry is None or entry.kind == "rule" or _is_language_error(diagnostic):
        return diagnostic
    severity = config.severity_for(diagnostic.code, entry.name, diagnostic.severity)
    return diagnostic if severity is diagnostic.severity else diagnostic.model_copy(update={"severity": severity})


def _name(code: str) -> str:
    entry = codes.REGISTRY.get(code)
    return entry.name if entry else code
