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
    text: list[str] = []  # text parts not yet in `segments`, joined into one `Text`
    used_params: dict[str, ir.StepParameter] = {}
    for part in literal.parts:
        if isinstance(part, ast.TextPart):
            text.append(part.text)
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
        pool = inputs if namespace == "in" else outputs if namespace == "out" else params
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
        if text:
            segments.append(ir.Text.trusted(kind="text", text="".join(text)))
            text.clear()
        if namespace == "in":
            segments.append(ir.InputPath.trusted(kind="input", name=name, span=part.span))
        elif namespace == "out":
            segments.append(ir.OutputPath.trusted(kind="output", name=name, span=part.span))
        else:
            segments.append(ir.ParamValue.trusted(kind="param", name=name, span=part.span))
            if name not in used_params:
                used_params[name] = ir.StepParameter.trusted(name=name, value=params[name])
    if text:
        segments.append(ir.Text.trusted(kind="text", text="".join(text)))
    return ir.Command.trusted(segments=tuple(segments), span=literal.span), tuple(used_params.values())
