from __future__ import annotations

from collections.abc import Iterator

from mlplang.compiler.rules._evidence import quoted
from mlplang.compiler.rules._llm import evaluation_subjects, llm_deploys, not_an_evaluation
from mlplang.compiler.rules.base import Rule, RuleContext, Violation
from mlplang.diagnostics.model import Label, Severity


class LlmDeployWithoutEvaluation(Rule):
    """
    ## What it does
    Flags an LLM deploy that no gate holds to an evaluation: no gate upstream
    of the deploy step `require`s a metric of an evaluation step.

    - An *LLM deploy* is a deploy step (a step with an `Endpoint` output)
      that consumes a `Model<llm>` (directly, or else through its inputs'
      lineage), or such that it or a step upstream of it consumes a
      `Prompt` or an `Index`.
    - An *evaluation step* is a step that consumes one of the models the
      deploy consumes, or an artifact derived from one, or a `Prompt`, and
      whose `Metrics` a gate upstream of the deploy reads.
    - Red-team results do not count as the evaluation (`MLP217` asks for
      those): a metric whose key contains one of the `red-team-markers`, or
      produced by a step whose name, template name or description contains
      one, is not an evaluation.

    A deploy with no gate at all is flagged too (as well as by `MLP201`).

    ## Why it matters
    An LLM application changes behaviour whenever its prompt, its retrieval
    index or its base model changes, and nothing fails loudly when it gets
    worse: answers just become less faithful. An evaluation on a fixed set
    of questions (faithfulness, relevance, refusal rate), checked by the
    gate, is the only thing that stops a worse assistant from shipping.

    ## Example
    ```mlp
    gate ship {
      approval { reviewers = ["acme/ai-safety"] }
    }

    step deploy {
      run = "llm-serve deploy --assistant ${in.assistant} --endpoint-file ${out.endpoint}"
      in  assistant: Model<llm> = package.assistant
      out endpoint:  Endpoint
      after ship
    }
    ```

    ## Use instead
    ```mlp
    step evaluate {
      run = "llm-eval run --assistant ${in.assistant} --questions ${in.questions} --out ${out.report}"
      in  assistant: Model<llm> = package.assistant
      in  questions: Dataset    = golden_qa
      out report:    Metrics
    }

    gate ship {
      require evaluate.report.faithfulness >= 0.85
      approval { reviewers = ["acme/ai-safety"] }
    }

    step deploy {
      run = "llm-serve deploy --assistant ${in.assistant} --endpoint-file ${out.endpoint}"
      in  assistant: Model<llm> = package.assistant
      out endpoint:  Endpoint
      after ship
    }
    ```
    """

    code = "MLP216"
    name = "llm-deploy-without-evaluation"
    severity = Severity.ERROR
    summary = "An LLM or prompt deploy that no gate holds to an evaluation."

    def check(self, ctx: RuleContext) -> Iterator[Violation]:
        for deploy in llm_deploys(ctx):
            subjects = evaluation_subjects(ctx, deploy)
            reads = [ref for gate in deploy.gates for ref in ctx.lineage.gate_metrics(gate)]
            reasons = [not_an_evaluation(ctx, ref, deploy, subjects) for ref in reads]
            if any(reason is None for reason in reasons):
                continue
            step = deploy.step
            what = quoted(deploy.models) if deploy.models else "the prompt"
            if deploy.gates:
                help = (
                    f"add a step that evaluates {what} on a fixed question set (consumes it, writes `Metrics`) "
                    f"and require its metrics in gate `{deploy.gates[-1].name}`"
                )
            else:
                help = (
                    f"add a gate that requires the metrics of a step evaluating {what}, "
                    f"and `after <gate>` to `{step.name}`"
                )
            labels = [deploy.label] if deploy.label else []
            labels += [Label(span=g.name_span, message="checks no evaluation") for g in deploy.gates]
            yield Violation(
                span=step.name_span,
                message=(
                    f"step `{step.name}` deploys an LLM application ({deploy.reason}) "
                    "but no gate before it checks an evaluation"
                ),
                label="LLM deploy without an evaluation",
                labels=tuple(labels),
                notes=tuple(dict.fromkeys(r for r in reasons if r is not None)),
                help=help,
            )
