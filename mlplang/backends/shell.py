"""Shell text for generated commands: quoting, and interpolations as
references to environment variables the backend sets (never pasted values)."""

from __future__ import annotations

import shlex

from mlplang.compiler import ir

ARTIFACT_ROOT = "mlp-artifacts"


def quote(text: str) -> str:
    """A POSIX-shell word that stands for exactly `text`."""
    return shlex.quote(text)


def input_var(name: str) -> str:
    return f"MLP_IN_{name}"


def output_var(name: str) -> str:
    return f"MLP_OUT_{name}"


def param_var(name: str) -> str:
    return f"MLP_PARAM_{name}"


def command_text(command: ir.Command) -> str:
    """The user's command with each interpolation replaced by `${VAR}`.

    `${VAR}` behaves exactly as the shell variable it is: inside double
    quotes it is one word whatever its value holds, so
    `printf '%s' "${param.note}"` prints the param verbatim."""
    return "".join([
        segment.text if isinstance(segment, ir.Text) else "${" + _VARIABLES[segment.kind](segment.name) + "}"
        for segment in command.segments
    ])


_VARIABLES = {"input": input_var, "output": output_var, "param": param_var}
"""The variable of each kind of interpolation (`ir.Segment.kind`)."""


def artifact_folder(producer: str) -> str:
    return f"{ARTIFACT_ROOT}/{producer}"


def artifact_path(producer: str, output: str | None) -> str:
    """Where an artifact lives under the run's artifact root (relative)."""
    return f"{ARTIFACT_ROOT}/{producer}/{output}" if output else f"{ARTIFACT_ROOT}/sources/{producer}"


def heredoc_delimiter(text: str, base: str = "MLP_EOF") -> str:
    """A heredoc delimiter that no line of `text` equals."""
    if base not in text:  # the common case: no line can equal it
        return base
    lines = set(text.splitlines())
    delimiter, n = base, 0
    while delimiter in lines:
        n += 1
        delimiter = f"{base}_{n}"
    return delimiter


def input_location(pipeline: ir.Pipeline, ref: ir.ArtifactRef) -> str:
    """What `${in.X}` stands for: a source's uri, or the artifact's path."""
    if ref.output is None:
        source = pipeline.source(ref.producer)
        return source.uri if source is not None else artifact_path(ref.producer, None)
    return artifact_path(ref.producer, ref.output)
