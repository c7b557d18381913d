"""Small helpers several rules share: walking the tasks of a pipeline, naming a
task in a message, and narrowing a span to characters inside a string literal."""

from __future__ import annotations

from collections.abc import Iterator

from mlplang.compiler import ir
from mlplang.source import Span


def tasks(pipeline: ir.Pipeline) -> Iterator[ir.Step | ir.Monitor]:
    """Steps, then monitors, in declaration order."""
    yield from pipeline.steps
    yield from pipeline.monitors


def describe(task: ir.Task) -> str:
    """How messages name a task: step `train`, monitor `drift`, step `validate` (template `check_schema`)."""
    if isinstance(task, ir.Monitor):
        return f"monitor `{task.name}`"
    if isinstance(task, ir.Step) and task.template is not None:
        return f"step `{task.name}` (template `{task.template.template}`)"
    return f"step `{task.name}`"


def task_images(pipeline: ir.Pipeline) -> Iterator[tuple[str, ir.Image]]:
    """Each image, with whose it is for messages. A template's image is one
    place in one file however many steps use it, so it comes once, as the
    template's: template `train` (used by steps `a`, `b`)."""
    users: dict[Span, list[ir.Task]] = {}
    images: dict[Span, ir.Image] = {}
    for task in tasks(pipeline):
        if task.image is not None:
            users.setdefault(task.image.span, []).append(task)
            images.setdefault(task.image.span, task.image)
    for span, image in images.items():
        first = users[span][0]
        if isinstance(first, ir.Step) and first.template is not None:
            names = ", ".join(f"`{t.name}`" for t in users[span])
            steps = "step" if len(users[span]) == 1 else "steps"
            yield f"template `{first.template.template}` (used by {steps} {names})", image
        else:
            yield describe(first), image


def span_in_string(literal: Span, text: str, start: int, end: int) -> Span:
    """The span of `text[start:end]`, where `text` is the value of the string
    literal at `literal` (quotes included).

    Positions map one to one only for a one-line `"..."` string without
    escapes, which is exactly when the literal is two characters longer than
    its value (an escape or a triple quote makes the difference larger). In
    every other case the whole literal is the best we can point at.
    """
    if literal.line != literal.end_line or literal.end - literal.start != len(text) + 2:
        return literal
    return Span(literal.file, literal.line, literal.column + 1 + start, literal.line, literal.column + 1 + end,
                literal.start + 1 + start, literal.start + 1 + end)


def is_within_string(literal: Span, span: Span) -> bool:
    """Whether `span_in_string` could narrow: the result is not the literal itself."""
    return span != literal
