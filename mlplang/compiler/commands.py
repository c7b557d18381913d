"""Lowering a `run` string to a `Command`: text plus references to run-time values.

An interpolation never pastes a value into the script: `${in.X}` becomes an
`InputPath`, `${param.X}` a `ParamValue` that the backend supplies (e.g. as
an environment variable), so any characters in a value reach the command as
data.
"""

from __future__ import annotations

from mlplang.compiler import ir
from mlplang.compiler.report import Reporter
from mlplang.compiler.suggest import did_you_mean
from mlplang.diagnostics import codes
from mlplang.dsl import ast

NAMESPACE_WORD = {"in": "input", "out": "output", "param": "param"}


def lower_command(
    literal: ast.StringLit,
    inputs: set[str],
    outputs: set[str],
    params: dict[str, ir.LiteralValue | ir.ParamRef],
    r: Reporter,
    unresolved_params: set[str] | frozenset[str] = frozenset(),
) -> tuple[ir.Command, tuple[ir.StepParameter, ...]]:
    """`unresolved_params` are declared but failed to resolve (reported already):
    their interpolations are dropped silently."""
    segments: list = []
    used_params: dict[str, ir.StepParameter] = {}
    for part in literal.parts:
        if isinstance(part, ast.TextPart):
            if segments and isinstance(segments[-1], ir.Text):
                segments[-1] = ir.Text(text=segments[-1].text + part.text)
            else:
                segments.append(ir.Text(text=part.text))
            continue
        namespace, name = part.namespace, part.name
        if namespace == "secret":
            r.add(
                codes.SECRET_INTERPOLATION,
                f"secret `{name}` is interpolated into a command",
                part.span,
                label="secrets cannot be pasted into commands",
                help=f"pass it through the environment: `env = {{ {name.upper()} = secret.{name} }}` "
                f"and read `${name.upper()}` in the command",
            )
            continue
        pool = {"in": inputs, "out": outputs, "param": params}[namespace]
        if namespace == "param" and name in unresolved_params and name not in params:
            continue
        if name not in pool:
            word = NAMESPACE_WORD[namespace]
            suggestion = did_you_mean(name, pool)
            r.add(
                codes.BAD_INTERPOLATION,
                f"`${{{namespace}.{name}}}`: no {word} named `{name}`",
                part.name_span,
                label=f"unknown {word}",
                help=suggestion or (f"declared {word}s: " + ", ".join(f"`{n}`" for n in sorted(pool))
                                    if pool else f"this step has no {word}s"),
            )
            continue
        if namespace == "in":
            segments.append(ir.InputPath(name=name, span=part.span))
        elif namespace == "out":
            segments.append(ir.OutputPath(name=name, span=part.span))
        else:
            segments.append(ir.ParamValue(name=name, span=part.span))
            used_params.setdefault(name, ir.StepParameter(name=name, value=params[name]))
    return ir.Command(segments=tuple(segments), span=literal.span), tuple(used_params.values())
