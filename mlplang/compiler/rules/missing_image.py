from __future__ import annotations

from collections.abc import Iterator

from mlplang.compiler import ir
from mlplang.compiler.rules.base import Rule, RuleContext, Violation
from mlplang.compiler.rules._support import describe, tasks
from mlplang.diagnostics.model import Label, Severity


class MissingImage(Rule):
    """
    ## What it does
    Flags a step or monitor without an `image`, including a step made from a
    template that sets none.

    ## Why it matters
    Without an image the command runs in whatever environment the backend
    happens to provide: the GitHub runner's preinstalled tools, the Airflow
    worker's Python, the Kubeflow default base image. Each backend gives a
    different one, each changes without notice, and none is recorded with the
    model, so a run can neither be reproduced locally nor audited later.

    ## Example
    ```mlp
    step train {
      run = "python train.py --data ${in.data} --model ${out.model}"
      in  data:  Dataset = events
      out model: Model
    }
    ```

    ## Use instead
    ```mlp
    step train {
      image = "ghcr.io/acme/trainer:3.1.0@sha256:16b32dfcf5b369daf2fb9ce83791ef2b1f5960ff2a89d31102df91fa5868d07c"
      run   = "python train.py --data ${in.data} --model ${out.model}"
      in  data:  Dataset = events
      out model: Model
    }
    ```
    """

    code = "MLP209"
    name = "missing-image"
    severity = Severity.WARNING
    summary = "A step or monitor without a container `image`."

    def check(self, ctx: RuleContext) -> Iterator[Violation]:
        for task in tasks(ctx.pipeline):
            if task.image is not None:
                continue
            if isinstance(task, ir.Step) and task.template is not None:
                origin = task.template
                yield Violation(
                    span=task.name_span,
                    message=f"{describe(task)} has no image: its template sets none",
                    label="runs in the backend's default environment",
                    labels=(Label(span=origin.span, message=f"template `{origin.template}` has no `image`"),),
                    help=f'add `image = "registry/name:tag@sha256:<digest>"` to template `{origin.template}`',
                )
                continue
            yield Violation(
                span=task.name_span,
                message=f"{describe(task)} has no image",
                label="runs in the backend's default environment",
                help='add `image = "registry/name:tag@sha256:<digest>"`: the environment the command needs',
            )
