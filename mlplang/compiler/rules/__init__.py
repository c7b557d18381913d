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
    "gate_ignores_deployed_model:GateIgnoresDeployedModel",
    "high_risk_without_approval:HighRiskWithoutApproval",
    "high_risk_without_fairness_check:HighRiskWithoutFairnessCheck",
    "pii_in_model:PiiInModel",
    "pii_reaches_endpoint:PiiReachesEndpoint",
    "unversioned_training_data:UnversionedTrainingData",
    "image_not_pinned:ImageNotPinned",
    "missing_image:MissingImage",
    "image_registry_not_allowed:ImageRegistryNotAllowed",
    "missing_owner:MissingOwner",
    "literal_credential:LiteralCredential",
    "endpoint_without_monitor:EndpointWithoutMonitor",
    "monitor_without_require:MonitorWithoutRequire",
    "monitor_without_on_breach:MonitorWithoutOnBreach",
    "llm_deploy_without_evaluation:LlmDeployWithoutEvaluation",
    "llm_deploy_without_red_team:LlmDeployWithoutRedTeam",
    "unused_output:UnusedOutput",
    "unused_param:UnusedParam",
    "unused_secret:UnusedSecret",
    "condition_never_holds:ConditionNeverHolds",
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
