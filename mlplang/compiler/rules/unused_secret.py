from __future__ import annotations

from collections.abc import Iterator

from mlplang.compiler import ir
from mlplang.compiler.rules.base import Rule, RuleContext, Violation
from mlplang.compiler.rules._support import tasks
from mlplang.diagnostics.model import Severity


class UnusedSecret(Rule):
    """
    ## What it does
    Flags a `secret` that no `env` value (`secret.NAME`) of any step, monitor
    or template passes to a command. Secrets reach commands only through
    `env`, so a secret no `env` names is not used at all.

    ## Why it matters
    Every declared secret must be provisioned in each orchestrator the
    pipeline is compiled for (a repository secret, an Airflow connection, a
    Kubernetes secret). One that nothing reads is work and exposure for
    nothing, and often means the step that needs it forgot its `env` entry.

    ## Example
    ```mlp
    pipeline churn {
      secret warehouse_token

      step extract {
        run = "python extract.py"
      }
    }
    ```

    ## Use instead
    ```mlp
    pipeline churn {
      secret warehouse_token

      step extract {
        run = "python extract.py"
        env = { WAREHOUSE_TOKEN = secret.warehouse_token }
      }
    }
    ```
    """

    code = "MLP220"
    name = "unused-secret"
    severity = Severity.WARNING
    summary = "A secret that no `env` passes to a command."

    def check(self, ctx: RuleContext) -> Iterator[Violation]:
        read = {e.value.name for t in tasks(ctx.pipeline) for e in t.env if isinstance(e.value, ir.SecretRef)}
        for secret in ctx.pipeline.secrets:
            if secret.name in read:
                continue
            yield Violation(
                span=secret.span,
                message=f"secret `{secret.name}` is never used",
                label="no `env` passes this secret",
                help=f"pass it to the step that needs it: `env = {{ {secret.name.upper()} = secret.{secret.name} }}`, "
                     "or remove it",
                fix="",  # removing an unread secret changes nothing a run does
            )
