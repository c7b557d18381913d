from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

from mlplang.compiler import ir
from mlplang.compiler.credentials import Credential, find_credentials
from mlplang.compiler.rules.base import Rule, RuleContext, Violation
from mlplang.compiler.rules._support import describe, span_in_string, tasks
from mlplang.diagnostics.model import Severity
from mlplang.source import Span


class _Text(NamedTuple):
    """One user string of the IR and where it sits. A named tuple: there are
    a few per step, and a frozen dataclass costs several times more to build."""

    text: str
    span: Span
    where: str
    literal: bool = False
    """`span` is the string literal holding `text`, so a part of it can be pointed at."""
    key: str | None = None
    """The name the whole string is assigned to (an env variable, a param)."""


class LiteralCredential(Rule):
    """
    ## What it does
    Looks for credentials written literally in any string of a pipeline:
    commands, `env` values, param defaults, template arguments, descriptions,
    source URIs, image names, approval reviewers, condition strings. It
    recognises:

    - AWS access key ids (`AKIA...`, `ASIA...`), and AWS secret access keys
      next to an `aws_secret_access_key` name;
    - GitHub tokens (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`, `github_pat_`),
      Slack tokens (`xoxb-...`) and Slack webhook URLs;
    - private key blocks (`-----BEGIN ... PRIVATE KEY-----`);
    - a value given to a credential-like name: `password=...`, `passwd: ...`,
      `token=...`, `api_key=...`, `"secret": "..."`, an `env` variable such as
      `DB_PASSWORD = "..."`, a param such as `param api_token: str = "..."`;
    - the password of a URI (`postgres://user:pass@host`), a bearer token.

    A shell or template variable (`$PASS`, `${PASS}`, `$(cat file)`,
    `{{ token }}`), a placeholder (`<token>`, `***`), a path to a file holding
    the secret and code that computes it (`api_key=args.api_key`) are not
    literals. Messages show only the first characters of what was found.

    ## Why it matters
    Pipeline files live in version control and are copied into generated
    workflows, DAGs and logs: a credential written there is readable by
    everyone with access to any of them, forever (removing it later leaves it
    in the history). It must be revoked, and the pipeline should receive it
    from the orchestrator's secret store instead.

    ## Example
    ```mlp
    step extract {
      run = "psql postgres://etl:Sup3rS3cret@db.acme.example/sales -c 'COPY ...'"
    }
    ```

    ## Use instead
    ```mlp
    secret warehouse_password

    step extract {
      run = "psql \\"postgres://etl:$PGPASSWORD@db.acme.example/sales\\" -c 'COPY ...'"
      env = { PGPASSWORD = secret.warehouse_password }
    }
    ```
    """

    code = "MLP212"
    name = "literal-credential"
    severity = Severity.ERROR
    summary = "A credential written literally in a string of the pipeline."

    def check(self, ctx: RuleContext) -> Iterator[Violation]:
        reported: set[tuple[Span, str, int, int]] = set()
        # Many strings repeat from step to step (the image, a template's command):
        # the detectors look at each distinct one once.
        found: dict[tuple[str, str | None], list[Credential]] = {}
        for place in _texts(ctx.pipeline):
            credentials = found.get((place.text, place.key))
            if credentials is None:
                credentials = found[place.text, place.key] = find_credentials(place.text, place.key)
            for credential in credentials:
                key = (place.span, place.text, credential.start, credential.end)
                if key in reported:
                    continue  # the same template text, used by several steps
                reported.add(key)
                span = (span_in_string(place.span, place.text, credential.start, credential.end)
                        if place.literal else place.span)
                named = (f" for `{credential.key}`" if credential.key and credential.key != place.key
                         and _normal(credential.key) != _normal(credential.kind) else "")
                yield Violation(
                    span=span,
                    message=f"literal {credential.kind}{named} in {place.where}: `{credential.shown}`",
                    label="credential written in the file",
                    help="revoke it, then declare `secret NAME`, pass it with `env = { VAR = secret.NAME }` "
                         "and read `$VAR` where it is needed",
                )


def _texts(pipeline: ir.Pipeline) -> Iterator[_Text]:
    """Every user string of the pipeline's IR."""
    own = f"pipeline `{pipeline.name}`"
    yield from _plain(pipeline.name_span, own, description=pipeline.description, owner=pipeline.owner)
    for tag in pipeline.tags:
        yield _Text(tag, pipeline.name_span, f"the tags of {own}")
    for param in pipeline.params:
        if isinstance(param.default, str):
            yield _Text(param.default, param.span, f"the default of param `{param.name}`", key=param.name)
    for source in pipeline.sources:
        yield from _plain(source.span, f"source `{source.name}`", uri=source.uri, version=source.version,
                          description=source.description)
        for column in source.pii:
            yield _Text(column, source.span, f"the `pii` of source `{source.name}`")
    for task in tasks(pipeline):
        yield from _task_texts(task)
    for gate in pipeline.gates:
        who = f"gate `{gate.name}`"
        yield from _plain(gate.name_span, who, description=gate.description)
        for requirement in gate.requires:
            yield from _condition_texts(requirement.condition, f"a `require` of {who}")
        if gate.approval is not None:
            yield from _plain(gate.approval.span, f"the approval of {who}", description=gate.approval.description)
            for reviewer in gate.approval.reviewers:
                yield _Text(reviewer, gate.approval.span, f"the reviewers of {who}")


def _normal(name: str) -> str:
    return "".join(c for c in name.lower() if c.isalnum())


def _plain(span: Span, who: str, **fields: str | None) -> Iterator[_Text]:
    """Attributes with no span of their own: point at their owner."""
    for name, text in fields.items():
        if text:
            yield _Text(text, span, f"the {name} of {who}")


def _task_texts(task: ir.Task) -> Iterator[_Text]:
    who = describe(task)
    if task.image is not None:
        yield _Text(task.image.reference, task.image.span, f"the image of {who}", literal=True)
    if task.command is not None:
        yield _Text(task.command.source_text, task.command.span, f"the command of {who}", literal=True)
    for env in task.env:
        value = env.value
        if isinstance(value, ir.LiteralValue) and not isinstance(value.value, bool):
            yield _Text(str(value.value), value.span, f"env `{env.name}` of {who}", literal=True, key=env.name)
    if task.description:  # as `_plain` would, without a generator per task and output (10,000s of them)
        yield _Text(task.description, task.name_span, f"the description of {who}")
    for output in task.outputs:
        if output.description:
            yield _Text(output.description, output.span, f"the description of output `{output.name}` of {who}")
        for column in output.pii or ():
            yield _Text(column, output.span, f"the `pii` of output `{output.name}` of {who}")
    if task.resources is not None and task.resources.gpu_type:
        yield _Text(task.resources.gpu_type, task.resources.span, f"the `gpu_type` of {who}")
    arguments = task.template.arguments if isinstance(task, ir.Step) and task.template else task.parameters
    for argument in arguments:
        value = argument.value
        if isinstance(value, ir.LiteralValue) and isinstance(value.value, str):
            yield _Text(value.value, value.span, f"argument `{argument.name}` of {who}", literal=True,
                        key=argument.name)
    if isinstance(task, ir.Step) and task.when is not None:
        yield from _condition_texts(task.when, f"the `when` of {who}")
    if isinstance(task, ir.Monitor):
        for requirement in task.requires:
            yield from _condition_texts(requirement.condition, f"a `require` of {who}")


def _condition_texts(condition: ir.Condition, where: str) -> Iterator[_Text]:
    for operand in ir.condition_operands(condition):
        if isinstance(operand, ir.LiteralValue) and isinstance(operand.value, str):
            yield _Text(operand.value, operand.span, where, literal=True)
