"""Template instances: finding the template a step names (`name(...)` or
`module.name(...)`) and binding its scalar arguments. The instance is
lowered into a step in lower.py; the definition is checked in templates.py."""

from __future__ import annotations

from mlplang.compiler import ir
from mlplang.compiler.modules import LoadedModule
from mlplang.compiler.report import Reporter
from mlplang.compiler.suggest import did_you_mean
from mlplang.compiler.values import as_scalar, describe, scalar_fits, scalar_type
from mlplang.diagnostics import codes
from mlplang.dsl import ast


def find_template(home: LoadedModule, ref: ast.Ref, r: Reporter,
                  report: bool = True) -> tuple[LoadedModule, ast.TemplateDecl] | None:
    """The template `ref` names (`name` in `home`, `alias.name` in one of its
    imports) with its module; None if there is none, reported when `report`.
    An import that failed to load is reported where it is imported, not here."""
    parts = ref.parts
    if len(parts) == 1:
        module, name = home, parts[0]
    elif len(parts) == 2:
        alias = parts[0]
        module = home.imports.get(alias.value)
        if module is None:
            if report and alias.value not in _import_aliases(home):
                r.add(codes.UNKNOWN_REFERENCE, f"unknown module `{alias.value}`", alias.span,
                      help=did_you_mean(alias.value, home.imports) or
                      f'import it first: `import "std/{alias.value}" as {alias.value}`')
            return None
        name = parts[1]
    else:
        if report:
            r.add(codes.UNKNOWN_REFERENCE, f"`{ref.dotted}` is not a template", ref.span,
                  help="call a template as `template(...)` or `module.template(...)`")
        return None
    if not module.ok:
        return None  # its syntax errors are reported in its own file
    template = module.templates.get(name.value)
    if template is None:
        if report:
            where = "this file" if module is home else f"`{module.source.path}`"
            r.add(codes.UNKNOWN_REFERENCE, f"no template `{name.value}` in {where}", name.span,
                  help=did_you_mean(name.value, module.templates) or (
                      "templates there: " + ", ".join(sorted(module.templates)) if module.templates else None))
        return None
    return module, template


def _import_aliases(module: LoadedModule) -> set[str]:
    """Every alias the module's imports declare, loaded or not."""
    return {d.alias.value if d.alias else "" for d in module.syntax.imports}


def scalar_argument(argument: ast.Argument, declared: str, params: dict[str, ir.Param],
                    r: Reporter) -> ir.ParamRef | ir.LiteralValue | None:
    """What a scalar template argument binds: a literal of the `declared` type,
    or a pipeline param (`param.x`) whose type fits it; None, reported, else."""
    value = argument.value
    if isinstance(value, ast.Ref) and len(value.parts) == 2 and value.parts[0].value == "param":
        param = params.get(value.parts[1].value)
        if param is None:
            r.add(codes.UNKNOWN_REFERENCE, f"unknown param `{value.parts[1].value}`", value.parts[1].span,
                  help=did_you_mean(value.parts[1].value, params))
            return None
        if not scalar_fits(declared, param.type):
            r.add(codes.INVALID_VALUE, f"argument `{argument.name.value}` is {declared}, "
                  f"but param `{param.name}` is {param.type}", value.span)
            return None
        return ir.ParamRef.trusted(kind="param", name=param.name, span=value.span)
    scalar = as_scalar(value)
    if scalar is None or not scalar_fits(declared, scalar_type(scalar)):
        if not isinstance(value, ast.ErrorValue):
            r.add(codes.INVALID_VALUE,
                  f"argument `{argument.name.value}` must be {declared}, found {describe(value)}",
                  value.span, label=f"expected {declared}")
        return None
    return ir.LiteralValue.trusted(kind="literal", value=float(scalar) if declared == "float" else scalar,
                                   span=value.span)
