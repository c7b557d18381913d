from __future__ import annotations

from collections.abc import Iterator

from mlplang.compiler.rules._evidence import arrow_path, lineage_path, output_span, quoted
from mlplang.compiler.rules.base import Rule, RuleContext, Violation
from mlplang.diagnostics.model import Label, Severity


class UnversionedTrainingData(Rule):
    """
    ## What it does
    Flags a `Model` output derived from a source that has no `version`: any
    source in the model's lineage (its training data, a base model, a
    reference table) counts, since each one changes what the model is.

    ## Why it matters
    A source without a version is whatever its URI holds on the day the
    pipeline runs. The model cannot be reproduced, an audit cannot tell
    which data it was trained on, and a regression cannot be bisected to
    the data change that caused it. A version (a snapshot date, a dataset
    tag, an object-store version id) pins the input.

    ## Example
    ```mlp
    source events: Dataset {
      uri = "s3://acme/events/"
    }

    step train {
      run = "python train.py --data ${in.data} --model ${out.model}"
      in  data:  Dataset = events
      out model: Model
    }
    ```

    ## Use instead
    ```mlp
    source events: Dataset {
      uri     = "s3://acme/events/"
      version = "2026-11-01"
    }

    step train {
      run = "python train.py --data ${in.data} --model ${out.model}"
      in  data:  Dataset = events
      out model: Model
    }
    ```
    """

    code = "MLP207"
    name = "unversioned-training-data"
    severity = Severity.ERROR
    summary = "A model derived from a source without a `version`."

    def check(self, ctx: RuleContext) -> Iterator[Violation]:
        for task, output in ctx.lineage.outputs_of_kind("Model"):
            model = f"{task.name}.{output.name}"
            unversioned = [s for s in ctx.lineage.sources_of(model) if not s.version]
            if not unversioned:
                continue
            names = [s.name for s in unversioned]
            noun = "source" if len(names) == 1 else "sources"
            notes = []
            for name in names:
                path = lineage_path(ctx, name, model)
                if len(path) > 2:
                    notes.append(f"lineage: {arrow_path(path)}")
            yield Violation(
                span=output_span(task, output),
                message=f"model `{model}` is derived from unversioned {noun} {quoted(names)}",
                label="cannot be reproduced",
                labels=tuple(Label(span=s.span, message="no `version`") for s in unversioned),
                notes=tuple(notes),
                help=f"pin {quoted(names)} with `version = \"...\"` (a snapshot date, a tag or an object version)",
            )
