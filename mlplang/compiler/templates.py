"""Checking a template definition on its own, so that mistakes in a template
nobody instantiates yet are found too (instances are lowered in lower.py)."""

from __future__ import annotations

from mlplang.compiler import ir
from mlplang.compiler.body import BodyScope, lower_body
from mlplang.compiler.commands import lower_command
from mlplang.compiler.conditions import ConditionScope
from mlplang.compiler.lower import _check_unique, resolve_type
from mlplang.compiler.report import Reporter
from mlplang.compiler.values import as_scalar, scalar_fits, scalar_type
from mlplang.diagnostics import codes
from mlplang.diagnostics.model import Label
from mlplang.dsl import ast


def check_template_definition(template: ast.TemplateDecl, r: Reporter) -> None:
    """Check a template on its own, so mistakes in unused templates are found too."""
    _check_unique([p.name for p in template.params], "parameter", r)
    bindings: dict[str, ir.LiteralValue | ir.ParamRef] = {}
    artifact_params: set[str] = set()
    for param in template.params:
        type_name = param.type.name.value
        if type_name in ir.PARAM_TYPES:
            scalar = as_scalar(param.default) if param.default is not None else None
            if param.default is not None and (scalar is None or not scalar_fits(type_name, scalar_type(scalar))):
                r.add(codes.PARAM_DEFAULT_TYPE, f"default of parameter `{param.name.value}` is not {type_name}",
                      param.default.span, labels=[Label(span=param.type.span, message="declared here")])
            bindings[param.name.value] = ir.LiteralValue.trusted(
                kind="literal", value=scalar if scalar is not None else "", span=param.span)
        else:
            resolve_type(param.type, r)
            artifact_params.add(param.name.value)  # even if its type is unknown: reported once, above
            if param.default is not None:
                r.add(codes.INVALID_VALUE, f"artifact parameter `{param.name.value}` cannot have a default",
                      param.default.span)
    scope = BodyScope(kind="template", conditions=ConditionScope(params={}, tasks={}), params=bindings,
                      secrets=None, pipeline_params={})
    body = lower_body(template.body, scope, r, lambda t: resolve_type(t, r))
    if body.command_literal is None:
        r.add(codes.MISSING_ATTRIBUTE, f"template `{template.name.value}` has no `run` command",
              template.name.span)
    else:
        outputs = {i.name.value for i in template.body if isinstance(i, ast.OutputDecl)}
        lower_command(body.command_literal, artifact_params, outputs, bindings, r)
