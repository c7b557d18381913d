from __future__ import annotations

from collections.abc import Iterator

from mlplang.compiler import ir
from mlplang.compiler.rules._evidence import (
    PiiOrigin,
    describe_origins,
    local_span,
    output_span,
    pii_origins,
    pii_path_notes,
    quoted,
)
from mlplang.compiler.rules.base import Rule, RuleContext, Violation
from mlplang.diagnostics.model import Label, Severity


class PiiReachesEndpoint(Rule):
    """
    ## What it does
    Flags a deploy step (a step with an `Endpoint` output) through which
    personal data reaches production, by lineage: one of its inputs holds
    PII columns, or its endpoint does (inherited, or declared with `pii`).
    An input carrying PII is flagged even when the endpoint declares
    `pii = []`: the deployed bundle still contains the data.

    There is one finding per deploy step; it names the columns, the sources
    they come from and the inputs that carry them.

    ## Why it matters
    Whatever a deploy step ships is reachable by every caller of the
    endpoint. A model trained on raw personal data, or a lookup table with
    e-mail addresses packaged next to it, can be made to reveal that data;
    an endpoint serving personal data also needs a legal basis, access
    control and retention rules that a model endpoint usually lacks.

    ## Example
    ```mlp
    source customers: Dataset {
      uri     = "s3://acme/customers/"
      version = "2026-11-01"
      pii     = ["email", "phone"]
    }

    step deploy {
      run = "python deploy.py --model ${in.model} --profiles ${in.profiles} --out ${out.endpoint}"
      in  model:    Model   = train.model
      in  profiles: Dataset = customers
      out endpoint: Endpoint
      after release
    }
    ```

    ## Use instead
    ```mlp
    step pseudonymize {
      run = "python pseudonymize.py --in ${in.raw} --key customer_id --out ${out.profiles}"
      in  raw:      Dataset = customers
      out profiles: Dataset { pii = [] }
    }

    step deploy {
      run = "python deploy.py --model ${in.model} --profiles ${in.profiles} --out ${out.endpoint}"
      in  model:    Model   = train.model
      in  profiles: Dataset = pseudonymize.profiles
      out endpoint: Endpoint
      after release
    }
    ```
    """

    code = "MLP206"
    name = "pii-reaches-endpoint"
    severity = Severity.ERROR
    summary = "Personal data (by lineage) reaches a deployed endpoint."

    def check(self, ctx: RuleContext) -> Iterator[Violation]:
        tasks: dict[str, ir.Task] = {}
        for task, _ in ctx.lineage.outputs_of_kind("Endpoint"):
            tasks.setdefault(task.name, task)
        for task in tasks.values():
            violation = self._check_task(ctx, task)
            if violation is not None:
                yield violation

    def _check_task(self, ctx: RuleContext, task: ir.Task) -> Violation | None:
        carriers = [
            (item.ref.artifact_id, local_span(item.span, task.name_span), f"input `{item.name}`")
            for item in task.inputs
            if ctx.lineage.pii(item.ref.artifact_id)
        ]
        inputs_carry = bool(carriers)
        carriers += [  # an endpoint that only inherits its PII adds nothing to what its inputs show
            (f"{task.name}.{output.name}", output_span(task, output), f"endpoint `{output.name}`")
            for output in task.outputs
            if output.type.kind == "Endpoint" and ctx.lineage.pii(f"{task.name}.{output.name}")
            and (output.pii is not None or not inputs_carry)
        ]
        if not carriers:
            return None
        origins: dict[str, PiiOrigin] = {}
        notes: list[str] = []
        labels: list[Label] = []
        for artifact_id, span, what in carriers:
            labels.append(Label(span=span, message=f"{what} carries {quoted(sorted(ctx.lineage.pii(artifact_id)))}"))
            for origin in pii_origins(ctx, artifact_id):
                merged = origins.get(origin.artifact_id)
                columns = tuple(sorted(set(origin.columns) | set(merged.columns if merged else ())))
                origins[origin.artifact_id] = PiiOrigin(origin.artifact_id, columns, origin.span, origin.is_source)
                for note in pii_path_notes(ctx, [origin], artifact_id):
                    if note not in notes:
                        notes.append(note)
        ordered = sorted(origins.values(), key=lambda o: (not o.is_source, o.span.start))
        if inputs_carry:
            notes += [
                f"`{output.name}` declares `pii = []`, but the inputs deployed with it still hold personal data"
                for output in task.outputs
                if output.type.kind == "Endpoint" and output.pii == ()
            ]
        labels += [origin.label() for origin in ordered]
        return Violation(
            span=task.name_span,
            message=f"step `{task.name}` deploys personal data to an endpoint: {describe_origins(ordered)}",
            label="serves personal data",
            labels=tuple(labels),
            notes=tuple(notes),
            help=(
                "deploy only artifacts without personal data: remove or pseudonymize the columns upstream "
                "and declare what remains, e.g. `out clean: Dataset { pii = [] }`"
            ),
        )
