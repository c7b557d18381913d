from __future__ import annotations

from collections.abc import Iterator

from mlplang.compiler import ir
from mlplang.compiler.rules._evidence import quoted
from mlplang.compiler.rules._llm import llm_deploys, marker_in, red_team_marker
from mlplang.compiler.rules.base import Rule, RuleContext, Violation
from mlplang.diagnostics.model import Label, Severity


class LlmDeployWithoutRedTeam(Rule):
    """
    ## What it does
    Flags an LLM deploy with no red-team step before any of its gates.

    - An *LLM deploy* is a deploy step (a step with an `Endpoint` output)
      that consumes a `Model<llm>` (directly, or else through its inputs'
      lineage), or such that it or a step upstream of it consumes a
      `Prompt` or an `Index`.
    - A *red-team step* is recognised, for some gate upstream of the deploy,
      either as a step upstream of that gate whose name, template name or
      description contains one of the `red-team-markers` (case-insensitive;
      default `red_team`, `redteam`, `red-team`, `jailbreak`,
      `adversarial`), or as the step whose metric the gate `require`s with
      a key containing a marker (`require safety.report.jailbreak_rate <= 0.01`).
      Set your own markers with `red-team-markers` in `[tool.mlp]`.

    A deploy with no gate at all is flagged too (as well as by `MLP201`).

    ## Why it matters
    An assistant that answers well can still be talked into ignoring its
    instructions, leaking its prompt or the personal data in its index, or
    following instructions planted in a retrieved document. Quality
    evaluations do not attack it; a red-team suite (jailbreaks, prompt
    injection, data exfiltration) run before the release gate does.

    ## Example
    ```mlp
    gate ship {
      require evaluate.report.faithfulness >= 0.85
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
    step red_team {
      run = "redteam attack --assistant ${in.assistant} --suite ${in.attacks} --report ${out.findings}"
      in  assistant: Model<llm> = package.assistant
      in  attacks:   Dataset    = attack_suite
      out findings:  Metrics
    }

    gate ship {
      require evaluate.report.faithfulness >= 0.85
      require red_team.findings.jailbreak_rate <= 0.01
    }

    step deploy {
      run = "llm-serve deploy --assistant ${in.assistant} --endpoint-file ${out.endpoint}"
      in  assistant: Model<llm> = package.assistant
      out endpoint:  Endpoint
      after ship
    }
    ```
    """

    code = "MLP217"
    name = "llm-deploy-without-red-team"
    severity = Severity.ERROR
    summary = "An LLM or prompt deploy with no red-team step before its gate."

    def check(self, ctx: RuleContext) -> Iterator[Violation]:
        markers = ctx.config.red_team_markers
        for deploy in llm_deploys(ctx):
            if any(self._has_red_team(ctx, gate) for gate in deploy.gates):
                continue
            step = deploy.step
            misplaced = [other for other in ctx.pipeline.steps if red_team_marker(other, markers) is not None]
            if deploy.gates and misplaced:
                gate, other = deploy.gates[-1].name, misplaced[0].name
                help = f"make gate `{gate}` wait for red-team step `{other}`: require its findings, or `after {other}`"
            elif deploy.gates:
                help = (
                    f"add a red-team step (jailbreak, prompt-injection and data-leak attacks) before gate "
                    f"`{deploy.gates[-1].name}` and require its findings there, "
                    "e.g. `require red_team.findings.jailbreak_rate <= 0.01`"
                )
            else:
                help = f"add a gate that requires the findings of a red-team step, and `after <gate>` to `{step.name}`"
            labels = [deploy.label] if deploy.label else []
            labels += [Label(span=g.name_span, message="no red-team step before this gate") for g in deploy.gates]
            labels += [  # red-team steps that run, but not before a gate of this deploy
                Label(span=other.name_span, message=f"red-team step, but no gate before `{step.name}` waits for it")
                for other in misplaced
            ]
            missing = "no red-team step runs before its gates" if deploy.gates else "no gate checks a red-team step"
            yield Violation(
                span=step.name_span,
                message=f"step `{step.name}` deploys an LLM application ({deploy.reason}) but {missing}",
                label="LLM deploy without a red-team step",
                labels=tuple(labels),
                notes=(
                    "a red-team step has a marker in its name, template name or description, "
                    f"or in the key of a metric the gate reads (`red-team-markers`: {quoted(markers)})",
                ),
                help=help,
            )

    @staticmethod
    def _has_red_team(ctx: RuleContext, gate: ir.Gate) -> bool:
        markers = ctx.config.red_team_markers
        if any(marker_in(ref.key, markers) for ref in ctx.lineage.gate_metrics(gate)):
            return True
        steps = {}
        for step in ctx.pipeline.steps:  # a lookup per upstream name, not a scan
            steps.setdefault(step.name, step)
        return any(
            red_team_marker(step, markers) is not None
            for name in ctx.lineage.upstream(gate.name)
            if (step := steps.get(name)) is not None
        )
