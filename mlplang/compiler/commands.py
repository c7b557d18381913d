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


class SharedNodes:
    """Command nodes that are equal wherever they occur, built once per
    pipeline and shared by its steps (IR nodes are immutable): the text
    between interpolations repeats from step to step, and so does the
    `StepParameter` of a pipeline param."""

    def __init__(self) -> None:
        self.texts: dict[str, ir.Text] = {}
        self.step_parameters: dict[str, ir.StepParameter] = {}

    def text(self, text: str) -> ir.Text:
        node = self.texts.get(text)
        if node is None:
            node = self.texts[text] = ir.Text.trusted(kind="text", text=text)
        return node

    def step_parameter(self, name: str, value: ir.LiteralValue | ir.ParamRef) -> ir.StepParameter:
        node = self.step_parameters.get(name)
        if node is None or node.value is not value:  # a template instance binds its own values
            node = self.step_parameters[name] = ir.StepParameter.trusted(name=name, value=value)
        return node


def lower_command(
    literal: ast.StringLit,
    inputs: set[str],
    outputs: set[str],
    params: dict[str, ir.LiteralValue | ir.ParamRef],
    r: Reporter,
    unresolved_params: set[str] | frozenset[str] = frozenset(),
    shared: SharedNodes | None = None,
) -> tuple[ir.Command, tuple[ir.StepParameter, ...]]:
    """`unresolved_params` are declared but failed to resolve (reported already):
    their interpolations are dropped silently. `shared` nodes are reused across
    the commands of one pipeline."""
    if shared is None:
        shared = SharedNodes()
    texts, step_parameter = shared.texts, shared.step_parameter
    input_path, output_path, param_value = ir.InputPath.trusted, ir.OutputPath.trusted, ir.ParamValue.trusted
    segments: list = []
    append = segments.append
    text: str | None = None  # text not yet in `segments`, for one `Text`
    used_params: dict[str, ir.StepParameter] = {}
    text_part = ast.TextPart
    for part in literal.parts:
        if type(part) is text_part:
            text = part.text if text is None else text + part.text
            continue
        namespace, name = part.namespace, part.name
        if namespace == "in":
            pool = inputs
        elif namespace == "out":
            pool = outputs
        elif namespace == "secret":
            r.add(
                codes.SECRET_INTERPOLATION,
                f"secret `{name}` is interpolated into a command",
                part.span,
                label="secrets cannot be pasted into commands",
                help=f"pass it through the environment: `env = {{ {name.upper()} = secret.{name} }}` "
                f"and read `${name.upper()}` in the command",
            )
            continue
        else:
            pool = params
            if name in unresolved_params and name not in params:
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
        if text is not None:
            append(texts.get(text) or shared.text(text))
            text = None
        if namespace == "in":
            append(input_path(kind="input", name=name, span=part.span))
        elif namespace == "out":
            append(output_path(kind="output", name=name, span=part.span))
        else:
            append(param_value(kind="param", name=name, span=part.span))
            if name not in used_params:
                used_params[name] = step_parameter(name, params[name])
    if text is not None:
        append(texts.get(text) or shared.text(text))
    return ir.Command.trusted(segments=tuple(segments), span=literal.span), tuple(used_params.values())
