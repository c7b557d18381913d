"""Governance and lineage rules. Built-in rules are listed once, in
`BUILTIN_RULES`; third-party rules are classes exposed under the entry-point
group `mlplang.rules` (e.g. `mycompany = "mycompany_mlp.rules:RequireCostCenter"`)."""

from __future__ import annotations

import functools
from importlib import import_module

from mlplang.compiler.rules.base import DOC_HEADINGS, Rule, RuleContext, Violation
from mlplang.diagnostics import codes

__all__ = ["DOC_HEADINGS", "Rule", "RuleContext", "Violation", "all_rules", "BUILTIN_RULES"]

ENTRY_POINT_GROUP = "mlplang.rules"

# module:class of every built-in rule, in code order
BUILTIN_RULES: tuple[str, ...] = (
    "deploy_without_gate:DeployWithoutGate",
    "missing_owner:MissingOwner",
)


def _register(rule: type[Rule]) -> type[Rule]:
    if rule.code not in codes.REGISTRY:
        codes.register(rule.code, rule.name, rule.severity, rule.summary, rule.documentation(), kind="rule")
    return rule


def _load(path: str) -> type[Rule]:
    module, _, attribute = path.partition(":")
    return getattr(import_module(module), attribute)


def _third_party() -> list[type[Rule]]:
    from importlib.metadata import entry_points

    found = []
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        rule = entry.load()
        if isinstance(rule, type) and issubclass(rule, Rule):
            found.append(rule)
    return found


@functools.cache
def all_rules() -> tuple[type[Rule], ...]:
    """Every rule, built-in then third-party, each code registered once."""
    rules = [_load(f"mlplang.compiler.rules.{path}") for path in BUILTIN_RULES] + _third_party()
    return tuple(_register(rule) for rule in sorted(rules, key=lambda r: r.code))
