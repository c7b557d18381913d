"""Lowering the body of a step, template, gate or monitor to IR pieces.

One lowering serves every kind of block; a table says which items each kind
allows, so a misplaced item gets a precise message ("`require` belongs to
gates and monitors") instead of a generic syntax error.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mlplang.compiler import ir
from mlplang.compiler.conditions import ConditionScope, lower_condition
from mlplang.compiler.report import Reporter
from mlplang.compiler.suggest import did_you_mean
from mlplang.compiler.values import (
    as_bool, as_choice, as_cron, as_duration, as_int, as_number, as_size, as_str, as_str_list,
)
from mlplang.diagnostics import codes
from mlplang.diagnostics.model import Label
from mlplang.dsl import ast

ATTRIBUTES = {
    "step": {"image", "run", "env", "retries", "timeout", "description", "cache"},
    "template": {"image", "run", "env", "retries", "timeout", "description", "cache"},
    "instance": {"env", "retries", "timeout", "description", "cache"},
    "monitor": {"image", "run", "env", "retries", "timeout", "description", "watch", "schedule", "on_breach"},
    "gate": {"description"},
}
BLOCKS = {
    "step": {"resources"},
    "template": {"resources"},
    "instance": {"resources"},
    "monitor": {"resources"},
    "gate": {"approval"},
}
# item type -> kinds of block that allow it
ITEMS = {
    ast.InputDecl: {"step", "monitor"},
    ast.OutputDecl: {"step", "template", "monitor"},
    ast.AfterDecl: {"step", "instance", "gate"},
    ast.WhenDecl: {"step", "instance"},
    ast.RequireDecl: {"gate", "monitor"},
}
KIND_NAMES = {"step": "steps", "template": "templates", "instance": "templated steps",
              "monitor": "monitors", "gate": "gates"}
ITEM_WORDS = {ast.InputDecl: "`in`", ast.OutputDecl: "`out`", ast.AfterDecl: "`after`",
              ast.WhenDecl: "`when`", ast.RequireDecl: "`require`"}
ITEM_HELP = {
    ("template", ast.InputDecl): "declare a template's inputs as its parameters: `template t(data: Dataset)`",
    ("instance", ast.InputDecl): "pass inputs as template arguments: `step s = m.t(data = x.out)`",
    ("instance", ast.OutputDecl): "a templated step's outputs come from its template",
    ("template", ast.AfterDecl): "add `after` where the template is used: `step s = m.t(...) { after x }`",
    ("template", ast.WhenDecl): "add `when` where the template is used: `step s = m.t(...) { when ... }`",
    ("step", ast.RequireDecl): "check metrics in a gate, `gate g { require ... }`, and add `after g` to the "
    "steps that must wait for it",
    ("gate", ast.InputDecl): "a gate reads metrics directly in `require`, e.g. `require evaluate.report.auc >= 0.9`",
}
RESOURCE_ATTRIBUTES = {"cpu", "memory", "gpu", "gpu_type"}
APPROVAL_ATTRIBUTES = {"reviewers", "timeout", "description"}
OUTPUT_ATTRIBUTES = {"pii", "description"}


ALL_ATTRIBUTES = set().union(*ATTRIBUTES.values())


@dataclass
class BodyScope:
    """Names a body may refer to."""

    kind: str
    conditions: ConditionScope
    params: dict[str, ir.LiteralValue | ir.ParamRef]
    """Names readable as `${param.X}` and what each is bound to."""
    secrets: dict[str, ir.Secret] | None
    """None while checking a template definition: its secrets come from the pipeline using it."""
    pipeline_params: dict[str, ir.Param]
    unresolved_params: set[str] = field(default_factory=set)
    """Params declared but not resolved (already reported): uses stay silent."""


@dataclass(slots=True)  # one per step: slots make it smaller and quicker to fill
class Body:
    """The lowered pieces of one body; the caller assembles the IR node."""

    attributes: dict[str, ast.Attribute] = field(default_factory=dict)
    inputs: list[ast.InputDecl] = field(default_factory=list)
    outputs: list[ir.Output] = field(default_factory=list)
    output_names: set[str] = field(default_factory=set)
    """Every output declared, lowered or not (a mistake is reported once)."""
    after: list[ast.Name] = field(default_factory=list)
    when: ir.Condition | None = None
    requires: list[ir.Requirement] = field(default_factory=list)
    resources: ir.Resources | None = None
    approval: ir.Approval | None = None
    image: ir.Image | None = None
    command_literal: ast.StringLit | None = None
    env: list[ir.EnvVar] = field(default_factory=list)
    retries: int | None = None
    timeout: int | None = None
    description: str | None = None
    cache: bool | None = None
    schedule: ir.Cron | None = None
    on_breach: str | None = None
    watch: ast.Value | None = None


def check_item_allowed(item: ast.BodyItem, kind: str, r: Reporter) -> bool:
    allowed = ITEMS.get(type(item))
    if allowed is None or kind in allowed:
        return True
    where = " and ".join(KIND_NAMES[k] for k in sorted(allowed))
    r.add(
        codes.MISPLACED_ITEM,
        f"{ITEM_WORDS[type(item)]} is not allowed in {KIND_NAMES[kind]}",
        item.span,
        label=f"allowed in {where}",
        help=ITEM_HELP.get((kind, type(item))),
    )
    return False


def _check_attribute_name(name: ast.Name, kind: str, r: Reporter) -> bool:
    if name.value in ATTRIBUTES[kind]:
        return True
    if name.value in ALL_ATTRIBUTES:
        owners = [KIND_NAMES[k] for k, names in ATTRIBUTES.items() if name.value in names and k != "template"]
        r.add(
            codes.MISPLACED_ITEM,
            f"`{name.value}` is not an attribute of {KIND_NAMES[kind]}",
            name.span,
            label=f"allowed in {', '.join(owners)}",
            help="a templated step's command and image come from its template" if kind == "instance" else None,
        )
        return False
    suggestion = did_you_mean(name.value, ATTRIBUTES[kind] | BLOCKS[kind])
    r.add(
        codes.UNKNOWN_ATTRIBUTE,
        f"unknown attribute `{name.value}` in {KIND_NAMES[kind]}",
        name.span,
        help=suggestion or "attributes: " + ", ".join(sorted(ATTRIBUTES[kind])),
    )
    return False


def _unique(attributes: tuple[ast.Attribute, ...], allowed: set[str], where: str, r: Reporter) -> dict[str, ast.Attribute]:
    seen: dict[str, ast.Attribute] = {}
    for attribute in attributes:
        name = attribute.name.value
        if name not in allowed:
            r.add(
                codes.UNKNOWN_ATTRIBUTE,
                f"unknown attribute `{name}` in {where}",
                attribute.name.span,
                help=did_you_mean(name, allowed) or "attributes: " + ", ".join(sorted(allowed)),
            )
            continue
        if name in seen:
            _duplicate_attribute(attribute, seen[name], r)
            continue
        seen[name] = attribute
    return seen


def _duplicate_attribute(attribute: ast.Attribute, first: ast.Attribute, r: Reporter) -> None:
    r.add(
        codes.DUPLICATE_NAME,
        f"`{attribute.name.value}` is set twice",
        attribute.name.span,
        labels=[Label(span=first.name.span, message="first set here")],
    )


def lower_resources(block: ast.Block, r: Reporter) -> ir.Resources:
    values = _unique(block.attributes, RESOURCE_ATTRIBUTES, "`resources`", r)
    cpu = as_number(values["cpu"].value, r, "cpu") if "cpu" in values else None
    memory = as_size(values["memory"].value, r, "memory") if "memory" in values else None
    gpu = as_int(values["gpu"].value, r, "gpu") if "gpu" in values else None
    gpu_type = as_str(values["gpu_type"].value, r, "gpu_type") if "gpu_type" in values else None
    return ir.Resources.trusted(cpu=None if cpu is None else float(cpu), memory=memory, gpu=gpu, gpu_type=gpu_type,
                                span=block.span)


def lower_approval(block: ast.Block, r: Reporter) -> ir.Approval:
    values = _unique(block.attributes, APPROVAL_ATTRIBUTES, "`approval`", r)
    reviewers = as_str_list(values["reviewers"].value, r, "reviewers") if "reviewers" in values else ()
    timeout = as_duration(values["timeout"].value, r, "timeout") if "timeout" in values else None
    description = as_str(values["description"].value, r, "description") if "description" in values else None
    return ir.Approval.trusted(reviewers=reviewers or (), timeout=timeout, description=description, span=block.span)


def lower_output(decl: ast.OutputDecl, artifact_type: ir.ArtifactType, r: Reporter) -> ir.Output:
    values = _unique(decl.attributes, OUTPUT_ATTRIBUTES, "an output", r)
    pii = as_str_list(values["pii"].value, r, "pii") if "pii" in values else None
    description = as_str(values["description"].value, r, "description") if "description" in values else None
    return ir.Output.trusted(name=decl.name.value, type=artifact_type, pii=pii, description=description, span=decl.span)


def lower_env(value: ast.Value, scope: BodyScope, r: Reporter) -> list[ir.EnvVar]:
    if not isinstance(value, ast.MapLit):
        if not isinstance(value, ast.ErrorValue):
            r.add(codes.INVALID_VALUE, "`env` must be a map `{ NAME = value }`", value.span)
        return []
    result: list[ir.EnvVar] = []
    seen: dict[str, ast.MapEntry] = {}
    for entry in value.entries:
        key = entry.key.value
        if key in seen:
            r.add(codes.DUPLICATE_NAME, f"`{key}` is set twice in `env`", entry.key.span,
                  labels=[Label(span=seen[key].key.span, message="first set here")])
            continue
        seen[key] = entry
        env_value = _env_value(entry.value, scope, r)
        if env_value is not None:
            result.append(ir.EnvVar.trusted(name=key, value=env_value, span=entry.span))
    return result


def _env_value(value: ast.Value, scope: BodyScope, r: Reporter):
    if isinstance(value, ast.Ref) and len(value.parts) == 2 and value.parts[0].value in ("secret", "param"):
        namespace, name = value.parts[0].value, value.parts[1]
        if namespace == "secret":
            if scope.secrets is not None and name.value not in scope.secrets:
                r.add(codes.UNKNOWN_REFERENCE, f"unknown secret `{name.value}`", name.span,
                      help=did_you_mean(name.value, scope.secrets) or "declare it with `secret NAME`")
                return None
            return ir.SecretRef.trusted(kind="secret", name=name.value, span=value.span)
        if name.value not in scope.params:
            if name.value not in scope.unresolved_params:
                r.add(codes.UNKNOWN_REFERENCE, f"unknown param `{name.value}`", name.span,
                      help=did_you_mean(name.value, scope.params))
            return None
        bound = scope.params[name.value]
        return bound.model_copy(update={"span": value.span}) if isinstance(bound, ir.ParamRef) else bound
    if isinstance(value, (ast.StringLit, ast.NumberLit, ast.BoolLit)):
        if isinstance(value, ast.StringLit):
            text = as_str(value, r, "env")
            return None if text is None else ir.LiteralValue.trusted(kind="literal", value=text, span=value.span)
        return ir.LiteralValue.trusted(kind="literal", value=value.value, span=value.span)
    if not isinstance(value, ast.ErrorValue):
        r.add(codes.INVALID_VALUE, f"an `env` value must be a string, a number, `param.X` or `secret.X`, "
              f"found {type(value).__name__.replace('Lit', '').lower()}", value.span)
    return None


def lower_body(items: tuple[ast.BodyItem, ...], scope: BodyScope, r: Reporter, resolve_type,
               known_outputs: dict[str, ir.Output] | None = None) -> Body:
    """Lower every item; `resolve_type(TypeRef)` gives an ArtifactType or None.
    `known_outputs` are outputs already lowered from these items (the lowerer
    discovers them first, without their attributes): one is reused for the
    declaration it came from when that declaration has no attributes."""
    body = Body()
    kind = scope.kind
    attributes = body.attributes
    for item in items:
        item_type = type(item)
        allowed = ITEMS.get(item_type)
        if allowed is not None and kind not in allowed:
            check_item_allowed(item, kind, r)
            continue
        if item_type is ast.Attribute:
            name = item.name.value
            if not _check_attribute_name(item.name, kind, r):
                continue
            if name in attributes:
                _duplicate_attribute(item, attributes[name], r)
                continue
            attributes[name] = item
            _lower_attribute(item, body, scope, r)
        elif item_type is ast.Block:
            _lower_block(item, body, kind, r)
        elif item_type is ast.InputDecl:
            body.inputs.append(item)
        elif item_type is ast.OutputDecl:
            body.output_names.add(item.name.value)
            known = known_outputs.get(item.name.value) if known_outputs and not item.attributes else None
            if known is not None and known.span == item.span:
                body.outputs.append(known)
                continue
            artifact_type = resolve_type(item.type)
            if artifact_type is not None:
                body.outputs.append(lower_output(item, artifact_type, r))
        elif item_type is ast.AfterDecl:
            body.after.extend(item.names)
        elif item_type is ast.WhenDecl:
            if body.when is not None:
                r.add(codes.DUPLICATE_NAME, "a step has at most one `when`", item.span,
                      help="combine the conditions with `and` / `or`")
                continue
            body.when = lower_condition(item.condition, scope.conditions, r)
        elif item_type is ast.RequireDecl:
            condition = lower_condition(item.condition, scope.conditions, r)
            if condition is not None:
                body.requires.append(ir.Requirement.trusted(condition=condition, span=item.span))
    return body


def _lower_block(item: ast.Block, body: Body, kind: str, r: Reporter) -> None:
    name = item.name.value
    if name not in BLOCKS[kind]:
        owners = [KIND_NAMES[k] for k, names in BLOCKS.items() if name in names and k != "template"]
        if owners:
            r.add(codes.MISPLACED_ITEM, f"`{name}` is not allowed in {KIND_NAMES[kind]}", item.name.span,
                  label=f"allowed in {', '.join(owners)}")
        else:
            r.add(codes.UNKNOWN_ATTRIBUTE, f"unknown block `{name}` in {KIND_NAMES[kind]}", item.name.span,
                  help=did_you_mean(name, BLOCKS[kind] | ATTRIBUTES[kind]))
        return
    if name == "resources":
        if body.resources is not None:
            r.add(codes.DUPLICATE_NAME, "`resources` is set twice", item.name.span)
            return
        body.resources = lower_resources(item, r)
    else:
        if body.approval is not None:
            r.add(codes.DUPLICATE_NAME, "`approval` is set twice", item.name.span)
            return
        body.approval = lower_approval(item, r)


def _lower_attribute(item: ast.Attribute, body: Body, scope: BodyScope, r: Reporter) -> None:
    name, value = item.name.value, item.value
    if name == "image":
        text = as_str(value, r, "image")
        if text is not None:
            body.image = ir.Image.trusted(reference=text, span=value.span)
    elif name == "run":
        if isinstance(value, ast.StringLit):
            body.command_literal = value
        else:
            as_str(value, r, "run")
    elif name == "env":
        body.env = lower_env(value, scope, r)
    elif name == "retries":
        body.retries = as_int(value, r, "retries")
    elif name == "timeout":
        body.timeout = as_duration(value, r, "timeout")
    elif name == "description":
        body.description = as_str(value, r, "description")
    elif name == "cache":
        body.cache = as_bool(value, r, "cache")
    elif name == "schedule":
        body.schedule = as_cron(value, r, "schedule")
    elif name == "on_breach":
        if isinstance(value, ast.Ref) and len(value.parts) == 1:
            word = value.parts[0].value
            if word in ir.BREACH_ACTIONS:
                body.on_breach = word
                return
        elif isinstance(value, ast.StringLit):
            body.on_breach = as_choice(value, r, "on_breach", ir.BREACH_ACTIONS)
            return
        r.add(codes.INVALID_VALUE, "`on_breach` must be `retrain` or `alert`", value.span,
              help="`retrain` re-runs the pipeline; `alert` fails the monitor run so its owners are notified")
    elif name == "watch":
        body.watch = value
