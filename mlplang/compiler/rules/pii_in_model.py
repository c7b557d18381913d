from __future__ import annotations

from collections.abc import Iterator

from mlplang.compiler.rules._evidence import describe_origins, output_span, pii_origins, pii_path_notes
from mlplang.compiler.rules.base import Rule, RuleContext, Violation
from mlplang.diagnostics.model import Severity


class PiiInModel(Rule):
    """
    ## What it does
    Flags a `Model` output that holds personal data by lineage: some upstream
    source declares `pii` columns, and no step between them declares (with
    `pii = [...]` on its output) that those columns were removed.

    The message names the columns and the sources they come from, and a note
    shows the chain of artifacts that carried them into the model.

    ## Why it matters
    A model trained on personal data can memorise and leak it (membership
    inference, training-data extraction), and it falls under data-protection
    law (GDPR, CCPA) as a processing of that data: the right to erasure then
    reaches the model itself. Removing or tokenizing the columns before
    training, and saying so in the pipeline, is what an audit looks for.

    ## Example
    ```mlp
    source transactions: Dataset {
      uri     = "s3://acme/transactions/"
      version = "2026-11-01"
      pii     = ["card_number", "email"]
    }

    step train {
      run = "python train.py --data ${in.data} --model ${out.model}"
      in  data:  Dataset = transactions
      out model: Model
    }
    ```

    ## Use instead
    ```mlp
    step anonymize {
      run = "python scrub.py --in ${in.raw} --drop email --tokenize card_number --out ${out.clean}"
      in  raw:   Dataset = transactions
      out clean: Dataset { pii = [] }
    }

    step train {
      run = "python train.py --data ${in.data} --model ${out.model}"
      in  data:  Dataset = anonymize.clean
      out model: Model
    }
    ```
    """

    code = "MLP205"
    name = "pii-in-model"
    severity = Severity.ERROR
    summary = "A model trained on data that still holds personal data (by lineage)."

    def check(self, ctx: RuleContext) -> Iterator[Violation]:
        for task, output in ctx.lineage.outputs_of_kind("Model"):
            model = f"{task.name}.{output.name}"
            if not ctx.lineage.pii(model):
                continue
            origins = pii_origins(ctx, model)
            yield Violation(
                span=output_span(task, output),
                message=f"model `{model}` holds personal data by lineage: {describe_origins(origins)}",
                label="trained on personal data",
                labels=tuple(origin.label() for origin in origins),
                notes=pii_path_notes(ctx, origins, model),
                help=(
                    "drop or tokenize these columns in a step before training and declare what "
                    "remains on its output, e.g. `out clean: Dataset { pii = [] }`"
                ),
            )
