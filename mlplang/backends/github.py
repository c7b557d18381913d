"""GitHub Actions: one workflow per pipeline, one per monitor.

Mapping (docs/backends/github.md has the reasoning):
- step -> job: `container: image`, the command in `run:`, `needs` from the graph,
  `timeout-minutes`, a bounded retry loop, `runs-on` from resources, and `if:`
  reading the output of a `<step>-when` job for `when`;
- artifacts -> `upload-artifact` / `download-artifact` pinned to commit SHAs;
  `${in.X}` / `${out.X}` are `$MLP_IN_X` / `$MLP_OUT_X`, set in the job's env;
- params -> `workflow_dispatch` inputs; on schedule their defaults apply;
- secrets -> `${{ secrets.NAME }}` in `env:` only;
- gate -> a job that checks the metrics with a shipped script, plus a
  `<gate>-approval` job bound to an environment named after the gate;
- monitor -> a scheduled workflow whose breach dispatches the pipeline's workflow.

No value from a `.mlp` file is placed inside `${{ }}`: expressions only name
inputs, secrets, job outputs and GitHub contexts; user text containing `${{`
is rewritten to `${{ '${{' }}` so the runner prints it literally.
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass, field

from pydantic import Field

from mlplang.backends.base import (
    Backend, BackendOptions, BackendResult, CompileUnit, EmittedFile, header_lines, ignored, unsupported,
)
from mlplang.backends.conditions import check_spec, condition_text, metric_artifacts, params_read, task_params
from mlplang.backends.runtime import program_source
from mlplang.backends.shell import (
    artifact_folder, artifact_path, command_text, heredoc_delimiter, input_location, input_var, output_var, param_var, quote,
)
from mlplang.backends.yaml_writer import dump
from mlplang.compiler import ir

# Pinned to full commit SHAs (zizmor: unpinned-uses); the tag is in the comment.
CHECKOUT = ("actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8", "v5.0.0")
UPLOAD = ("actions/upload-artifact@330a01c490aca151604b8cf639adc76d48f6c5d4", "v5.0.0")
DOWNLOAD = ("actions/download-artifact@634f93cb2916e3fdff6788551b99b062d0335ce0", "v5.0.0")
INPUT_TYPES = {"int": "number", "float": "number", "str": "string", "bool": "boolean"}
RETRY_DELAY_SECONDS = 10
HOSTED_JOB_LIMIT_SECONDS = 6 * 3600
"""GitHub-hosted runners stop a job after 6 hours."""
PLAIN_RUNNER = "ubuntu-latest"
MARKER = ".mlp-artifact"
"""Uploaded beside each output so the artifact's root is the step's folder."""


class GitHubOptions(BackendOptions):
    runs_on: tuple[str, ...] = Field(("ubuntu-latest",), alias="runs-on")
    """Runner labels for steps without a GPU."""
    gpu_runner_group: str = Field("gpu", alias="gpu-runner-group")
    """Runner group for steps whose resources ask for a GPU (GitHub's GPU
    runners are larger runners, assigned to runner groups)."""
    gpu_runs_on: tuple[str, ...] = Field((), alias="gpu-runs-on")
    """Runner labels for GPU steps instead of the group (self-hosted runners)."""


def literal(text: str) -> str:
    """User text as a workflow string: `${{` would be evaluated by the runner,
    so it becomes an expression whose value is the two characters `${{`."""
    return text.replace("${{", "${{ '${{' }}")


def uses(action: tuple[str, str]) -> str:
    # The version comment is added by `_annotate_pins` after dumping.
    return action[0]


@dataclass
class TaskEnv:
    """The environment of a step or monitor job."""

    env: dict = field(default_factory=dict)
    """The job's `env:` (data; expressions only name inputs and secrets)."""
    params: list[str] = field(default_factory=list)
    """Pipeline params the task reads (their defaults are applied in the script)."""
    variables: dict = field(default_factory=dict)
    """The environment variable carrying each pipeline param the task reads."""
    exports: dict = field(default_factory=dict)
    """Variables derived from params, exported by the script once defaults are set."""


def artifact_name(producer: str, output: str | None) -> str:
    return f"{producer}-{output}" if output else f"source-{producer}"


class GitHubBackend(Backend):
    name = "github"
    description = "GitHub Actions workflows"
    options_type = GitHubOptions

    def compile(self, unit: CompileUnit) -> BackendResult:
        result = BackendResult(diagnostics=list(self.limits(unit)))
        pipeline = unit.pipeline
        header = header_lines(unit.source_path)
        workflow = self.pipeline_workflow(unit)
        result.files.append(EmittedFile(f"{pipeline.name}.yml", _annotate_pins(dump(workflow, header))))
        for monitor in pipeline.monitors:
            document = self.monitor_workflow(unit, monitor)
            result.files.append(
                EmittedFile(f"{pipeline.name}-{monitor.name}.yml", _annotate_pins(dump(document, header)))
            )
        return result

    # ---- what GitHub Actions cannot express ---------------------------------------------

    def limits(self, unit: CompileUnit):
        pipeline = unit.pipeline
        hosted_labels = all(label.startswith(("ubuntu-", "windows-", "macos-")) for label in self.options.runs_on)
        for task in (*pipeline.steps, *pipeline.monitors):
            resources = task.resources
            if resources is not None and (resources.cpu is not None or resources.memory is not None
                                          or resources.gpu_type is not None):
                unused = [n for n, v in (("cpu", resources.cpu), ("memory", resources.memory),
                                         ("gpu_type", resources.gpu_type)) if v is not None]
                yield ignored(
                    f"GitHub Actions picks runners by label: {', '.join(f'`{n}`' for n in unused)} "
                    f"of `{task.name}` are not enforced",
                    resources.span, label="not enforced by GitHub Actions",
                    help="choose runners that are big enough with `[tool.mlp.github] runs-on` "
                    "(or `gpu-runner-group` / `gpu-runs-on` for GPU steps)",
                )
            hosted = not (resources and resources.gpu) and hosted_labels
            if task.timeout and task.timeout > HOSTED_JOB_LIMIT_SECONDS and hosted:
                yield ignored(
                    f"GitHub-hosted runners stop a job after 6 hours; `{task.name}` asks for "
                    f"{task.timeout // 3600}h",
                    task.name_span,
                    label="capped at 6 hours on GitHub-hosted runners",
                    help="run it on a self-hosted runner (`[tool.mlp.github] runs-on`) or split the step",
                )
        scheduled = [(pipeline.schedule, "the pipeline", _params_read_by(pipeline.steps, pipeline.gates))]
        scheduled += [(m.schedule, f"monitor `{m.name}`", _params_read_by((m,), ())) for m in pipeline.monitors]
        for schedule, what, names in scheduled:
            if schedule is None:
                continue
            for name in names:
                param = pipeline.param(name)
                if param is not None and param.default is None:
                    yield unsupported(
                        f"{what} runs on a schedule but reads param `{name}`, which has no default",
                        param.span, label="no default for scheduled runs",
                        help="scheduled workflow runs have no inputs: give the param a default",
                    )

    # ---- the pipeline workflow --------------------------------------------------------

    def pipeline_workflow(self, unit: CompileUnit) -> dict:
        pipeline = unit.pipeline
        triggers: dict = {"workflow_dispatch": {"inputs": self.inputs(pipeline)} if pipeline.params else None}
        if pipeline.schedule is not None:
            triggers["schedule"] = [{"cron": pipeline.schedule.expression}]
        jobs: dict = {}
        for name in unit.order:
            step = unit.step(name)
            gate = unit.gate(name)
            if step is not None:
                if step.when is not None:
                    jobs[f"{step.name}-when"] = self.when_job(unit, step)
                jobs[step.name] = self.step_job(unit, step)
            elif gate is not None:
                jobs.update(self.gate_jobs(unit, gate))
        return {
            "name": pipeline.name,
            "run-name": f"{pipeline.name} (mlp)",
            "on": triggers,
            "permissions": {"contents": "read"},
            "concurrency": {"group": f"mlp-{pipeline.name}-${{{{ github.ref }}}}", "cancel-in-progress": False},
            "jobs": jobs,
        }

    def inputs(self, pipeline: ir.Pipeline) -> dict:
        inputs = {}
        for param in pipeline.params:
            entry: dict = {"description": literal(f"param {param.name}: {param.type}"),
                           "type": INPUT_TYPES[param.type], "required": param.default is None}
            if isinstance(param.default, str) and "${{" in param.default:
                # Whether the runner evaluates `${{` in an input default is not
                # documented; leave the field empty and let the run script apply
                # the default (an empty input means "use the default" anyway).
                entry["description"] += " (default applied at run time)"
            elif param.default is not None:
                entry["default"] = param.default
            inputs[param.name] = entry
        return inputs

    # ---- dependencies ---------------------------------------------------------------------

    def needs(self, unit: CompileUnit, name: str) -> list[str]:
        """Jobs a node waits for: its upstream steps and gates (a gate with an
        approval is represented by its approval job)."""
        result = []
        for dependency in unit.dependencies(name):
            gate = unit.gate(dependency)
            if gate is not None and gate.approval is not None:
                result.append(f"{gate.name}-approval")
            elif unit.step(dependency) is not None or gate is not None:
                result.append(dependency)
        return result

    # ---- environment ------------------------------------------------------------------------

    def param_env(self, names: list[str], variables: dict | None = None) -> dict:
        return {(variables or {}).get(n, param_var(n)): f"${{{{ inputs.{n} }}}}" for n in names}

    def defaults_script(self, unit: CompileUnit, names: list[str], variables: dict | None = None) -> list[str]:
        """Shell lines giving params their defaults when the run has no inputs (schedule)."""
        lines = []
        for name in names:
            var = (variables or {}).get(name, param_var(name))
            default = unit.param(name).default
            lines += _default_lines(name, var, None if default is None else _scalar_text(default))
        return lines

    def task_env(self, pipeline: ir.Pipeline, task: ir.Task) -> TaskEnv:
        result = TaskEnv()
        env = result.env
        for item in task.inputs:
            env[input_var(item.name)] = literal(input_location(pipeline, item.ref))
        for output in task.outputs:
            env[output_var(output.name)] = artifact_path(task.name, output.name)

        bound = {parameter.name: parameter.value for parameter in task.parameters}

        def read(name: str) -> str:
            """The variable carrying pipeline param `name`: `MLP_PARAM_<name>`,
            unless that is the command's `${param.<name>}` bound to something else
            (a template argument of the same name)."""
            if name not in result.params:
                result.params.append(name)
                value = bound.get(name)
                same = value is None or (isinstance(value, ir.ParamRef) and value.name == name)
                result.variables[name] = param_var(name) if same else f"MLP_PIPELINE_PARAM_{name}"
            return result.variables[name]

        for parameter in task.parameters:
            if isinstance(parameter.value, ir.ParamRef):
                variable = read(parameter.value.name)
                if param_var(parameter.name) != variable:
                    result.exports[param_var(parameter.name)] = variable
            else:
                env[param_var(parameter.name)] = literal(_scalar_text(parameter.value.value))
        for variable in task.env:
            value = variable.value
            if isinstance(value, ir.SecretRef):
                env[variable.name] = f"${{{{ secrets.{value.name} }}}}"
            elif isinstance(value, ir.ParamRef):
                result.exports[variable.name] = read(value.name)
            else:
                env[variable.name] = literal(_scalar_text(value.value))
        env.update(self.param_env(result.params, result.variables))
        return result

    # ---- steps -------------------------------------------------------------------------------

    def runs_on(self, task: ir.Task) -> str | list[str] | dict:
        labels = self.options.runs_on
        if task.resources and task.resources.gpu:
            if not self.options.gpu_runs_on:
                return {"group": self.options.gpu_runner_group}
            labels = self.options.gpu_runs_on
        return labels[0] if len(labels) == 1 else list(labels)

    def step_job(self, unit: CompileUnit, step: ir.Step) -> dict:
        job: dict = {"name": step.name}
        needs = self.needs(unit, step.name)
        if step.when is not None:
            needs = [f"{step.name}-when", *needs]
            job["if"] = f"needs.{step.name}-when.outputs.holds == 'true'"
        if needs:
            job["needs"] = needs
        job["runs-on"] = self.runs_on(step)
        if step.image is not None:
            job["container"] = {"image": literal(step.image.reference)}
        if step.timeout:
            job["timeout-minutes"] = max(1, math.ceil(step.timeout / 60))
        task_env = self.task_env(unit.pipeline, step)
        if task_env.env:  # actionlint: "env should not be empty"
            job["env"] = task_env.env
        job["steps"] = [
            {"name": "Check out the repository", "uses": uses(CHECKOUT), "with": {"persist-credentials": False}},
            *self.downloads(step.inputs),
            {"name": f"Run {step.name}", "shell": "bash", "run": self.run_script(unit, step, task_env)},
            *self.uploads(step),
        ]
        return job

    def downloads(self, inputs: tuple[ir.Input, ...]) -> list[dict]:
        steps, seen = [], set()
        for item in inputs:
            if item.ref.output is None or item.ref.artifact_id in seen:
                continue  # sources are read from their uri by the step itself
            seen.add(item.ref.artifact_id)
            steps.append({
                "name": f"Download {item.ref.artifact_id}",
                "uses": uses(DOWNLOAD),
                "with": {"name": artifact_name(item.ref.producer, item.ref.output),
                         "path": artifact_folder(item.ref.producer)},
            })
        return steps

    def uploads(self, task: ir.Task) -> list[dict]:
        steps = []
        for output in task.outputs:
            path = artifact_path(task.name, output.name)
            steps.append({
                "name": f"Upload {task.name}.{output.name}",
                "uses": uses(UPLOAD),
                "with": {"name": artifact_name(task.name, output.name),
                         # the marker fixes the artifact's root at the step folder, so the
                         # output (a file or a folder) downloads back to the same path
                         "path": f"{path}\n{path}{MARKER}\n",
                         "if-no-files-found": "error", "retention-days": 30},
            })
        return steps

    def run_script(self, unit: CompileUnit, task: ir.Task, task_env: TaskEnv) -> str:
        """Apply param defaults, prepare output folders, run the user's command
        as a bash script (retried when asked), then check the outputs exist."""
        lines = ["set -euo pipefail", *self.defaults_script(unit, task_env.params, task_env.variables)]
        for name, source in task_env.exports.items():
            lines.append(f'export {name}="${{{source}}}"')
        for output in task.outputs:
            path = artifact_path(task.name, output.name)
            lines.append(f"mkdir -p {quote(artifact_folder(task.name))} && : > {quote(path + MARKER)}")
        command = literal(command_text(task.command)) if task.command else "true"
        script = f'"$RUNNER_TEMP/mlp-{task.name}.sh"'
        delimiter = heredoc_delimiter(command)
        lines += [f"cat > {script} <<'{delimiter}'", command.rstrip("\n"), delimiter]
        attempts = task.retries + 1
        if attempts == 1:
            lines.append(f"bash {script}")
        else:
            lines += [
                f"for attempt in $(seq 1 {attempts}); do",
                f"  if bash {script}; then break; fi",
                f'  if [ "$attempt" -eq {attempts} ]; then echo "{task.name} failed {attempts} times" >&2; exit 1; fi',
                f'  echo "{task.name} failed (attempt $attempt of {attempts}); retrying in {RETRY_DELAY_SECONDS}s" >&2',
                f"  sleep {RETRY_DELAY_SECONDS}",
                "done",
            ]
        for output in task.outputs:
            var = output_var(output.name)
            lines.append(
                f'if [ ! -e "${{{var}}}" ]; then echo "{task.name} did not write its output {output.name}" >&2; exit 1; fi'
            )
        return "\n".join(lines) + "\n"

    # ---- conditions ------------------------------------------------------------------------------

    def check_steps(self, unit: CompileUnit, mode: str, conditions: list[ir.Condition], step_id: str) -> list[dict]:
        metrics = metric_artifacts(conditions)
        paths = {a: artifact_path(*a.split(".", 1)) for a in metrics}
        spec = check_spec(mode, conditions, [condition_text(c) for c in conditions], paths, unit.pipeline)
        steps = []
        for artifact in metrics:
            producer, output = artifact.split(".", 1)
            steps.append({"name": f"Download {artifact}", "uses": uses(DOWNLOAD),
                          "with": {"name": artifact_name(producer, output), "path": artifact_folder(producer)}})
        params = params_read(conditions)
        program = program_source("check_conditions")
        delimiter = heredoc_delimiter(program, "MLP_CHECK_PROGRAM")
        script = "\n".join([
            "set -euo pipefail",
            *self.defaults_script(unit, params),
            f"python3 - <<'{delimiter}'",
            program.rstrip("\n"),
            delimiter,
        ]) + "\n"
        steps.append({"name": "Check conditions", "id": step_id, "shell": "bash",
                      "env": {"MLP_CHECK": literal(spec), **self.param_env(params)}, "run": script})
        return steps

    def when_job(self, unit: CompileUnit, step: ir.Step) -> dict:
        job: dict = {"name": f"{step.name} (when)"}
        needs = [n for n in self.needs(unit, step.name)]
        if needs:
            job["needs"] = needs
        job["runs-on"] = PLAIN_RUNNER
        job["outputs"] = {"holds": "${{ steps.when.outputs.holds }}"}
        job["steps"] = self.check_steps(unit, "decide", [step.when], "when")
        return job

    def gate_jobs(self, unit: CompileUnit, gate: ir.Gate) -> dict:
        jobs: dict = {}
        check: dict = {"name": f"{gate.name} (gate)"}
        needs = self.needs(unit, gate.name)
        if needs:
            check["needs"] = needs
        check["runs-on"] = PLAIN_RUNNER
        timeout = gate.approval.timeout if gate.approval is not None else None
        if timeout:
            check["outputs"] = {"passed-at": "${{ steps.passed.outputs.at }}"}
        conditions = [r.condition for r in gate.requires]
        if conditions:
            check["steps"] = self.check_steps(unit, "require", conditions, "require")
        else:
            check["steps"] = [{"name": "No metric checks", "run": "echo 'gate has only an approval'"}]
        if timeout:
            check["steps"].append({"name": "Record when the checks passed", "id": "passed",
                                   "run": 'echo "at=$(date +%s)" >> "$GITHUB_OUTPUT"\n'})
        jobs[gate.name] = check
        if gate.approval is not None:
            jobs[f"{gate.name}-approval"] = self.approval_job(gate, timeout)
        return jobs

    def approval_job(self, gate: ir.Gate, timeout: int | None) -> dict:
        """A job bound to the environment named after the gate: GitHub holds it until one of the
        environment's required reviewers approves (repository settings, see docs/backends/github.md).
        It then asks the API that the environment does require reviewers, only the gate's, and that
        this run recorded an approval: an unprotected or bypassed environment fails the gate."""
        spec = json.dumps({"gate": gate.name, "reviewers": list(gate.approval.reviewers), "timeout": timeout},
                          separators=(",", ":"), ensure_ascii=False)
        env = {"MLP_APPROVAL": literal(spec), "GH_TOKEN": "${{ github.token }}"}
        if timeout:
            # A job's timeout-minutes does not count the wait for reviewers (a deployment
            # waits up to 30 days): an approval given after the timeout is refused instead.
            env["MLP_CHECKS_PASSED_AT"] = f"${{{{ needs.{gate.name}.outputs.passed-at }}}}"
        program = program_source("github_approval")
        delimiter = heredoc_delimiter(program, "MLP_APPROVAL_PROGRAM")
        script = "\n".join(["set -euo pipefail", f"python3 - <<'{delimiter}'", program.rstrip("\n"), delimiter]) + "\n"
        return {
            "name": f"{gate.name} (approval)",
            "needs": [gate.name],
            "runs-on": PLAIN_RUNNER,
            "environment": gate.name,
            "permissions": {"actions": "read"},  # the environment's rules and the run's approvals
            "steps": [{"name": "Check the approval", "shell": "bash", "env": env, "run": script}],
        }

    # ---- monitors ----------------------------------------------------------------------------------

    def monitor_workflow(self, unit: CompileUnit, monitor: ir.Monitor) -> dict:
        pipeline = unit.pipeline
        workflow_file = f"{pipeline.name}.yml"
        task_env = self.task_env(unit.pipeline, monitor)
        conditions = [r.condition for r in monitor.requires]
        # the params this workflow reads are inputs of its own (defaults as in the pipeline)
        read = {*task_env.params, *params_read(conditions)}
        inputs = {name: entry for name, entry in self.inputs(pipeline).items() if name in read}
        triggers: dict = {"workflow_dispatch": {"inputs": inputs} if inputs else None}
        if monitor.schedule is not None:
            triggers["schedule"] = [{"cron": monitor.schedule.expression}]
        locate = {
            "name": "Find the latest successful pipeline run",
            "runs-on": PLAIN_RUNNER,
            "permissions": {"actions": "read"},
            "outputs": {"run-id": "${{ steps.locate.outputs.run-id }}"},
            "steps": [{
                "name": "Locate",
                "id": "locate",
                "env": {"GH_TOKEN": "${{ github.token }}", "GH_REPO": "${{ github.repository }}"},
                "run": (
                    f"run_id=$(gh run list --workflow {quote(workflow_file)} --status success --limit 1 "
                    "--json databaseId --jq '.[0].databaseId')\n"
                    'if [ -z "$run_id" ]; then echo "no successful run of the pipeline yet" >&2; exit 1; fi\n'
                    'echo "run-id=$run_id" >> "$GITHUB_OUTPUT"\n'
                ),
            }],
        }
        downloads = []
        artifacts = [i.ref for i in monitor.inputs]
        for ref in artifacts:
            if ref.output is None:
                continue
            downloads.append({
                "name": f"Download {ref.artifact_id}", "uses": uses(DOWNLOAD),
                "with": {"name": artifact_name(ref.producer, ref.output), "path": artifact_folder(ref.producer),
                         "run-id": "${{ needs.locate.outputs.run-id }}", "github-token": "${{ github.token }}"},
            })
        job: dict = {
            "name": f"{monitor.name} (monitor)",
            "needs": ["locate"],
            "runs-on": self.runs_on(monitor),
            "permissions": {"actions": "read", "contents": "read"},
        }
        if monitor.image is not None:
            job["container"] = {"image": literal(monitor.image.reference)}
        if monitor.timeout:
            job["timeout-minutes"] = max(1, math.ceil(monitor.timeout / 60))
        if task_env.env:
            job["env"] = task_env.env
        job["steps"] = [
            {"name": "Check out the repository", "uses": uses(CHECKOUT), "with": {"persist-credentials": False}},
            *downloads,
            {"name": f"Run {monitor.name}", "shell": "bash", "run": self.run_script(unit, monitor, task_env)},
            *self.uploads(monitor),
        ]
        if downloads:
            jobs: dict = {"locate": locate, "monitor": job}
        else:  # the monitor reads only sources: no pipeline run to locate
            del job["needs"]
            job["permissions"] = {"contents": "read"}
            jobs = {"monitor": job}
        if conditions:
            # A job of its own, after the outputs are uploaded: the evidence of a
            # breach is kept, and the checker runs on the plain runner's python3
            # rather than in the monitor's image.
            mode = "decide" if monitor.on_breach == "retrain" else "require"
            check: dict = {"name": f"{monitor.name} (check)", "needs": ["monitor"], "runs-on": PLAIN_RUNNER}
            if mode == "decide":
                check["outputs"] = {"holds": "${{ steps.require.outputs.holds }}"}
            check["steps"] = self.check_steps(unit, mode, conditions, "require")
            jobs["check"] = check
        if conditions and monitor.on_breach == "retrain":
            jobs["retrain"] = {
                "name": "Retrain on breach",
                "needs": ["check"],
                "if": "needs.check.outputs.holds == 'false'",
                "runs-on": PLAIN_RUNNER,
                "permissions": {"actions": "write"},
                "steps": [{
                    "name": f"Dispatch {workflow_file}",
                    "env": {"GH_TOKEN": "${{ github.token }}", "GH_REPO": "${{ github.repository }}"},
                    "run": f"gh workflow run {quote(workflow_file)} --ref \"$GITHUB_REF_NAME\"\n",
                }],
            }
        return {
            "name": f"{pipeline.name}-{monitor.name}",
            "run-name": f"{pipeline.name}: monitor {monitor.name} (mlp)",
            "on": triggers,
            "permissions": {"contents": "read"},
            "concurrency": {"group": f"mlp-{pipeline.name}-{monitor.name}", "cancel-in-progress": False},
            "jobs": jobs,
        }


def _params_read_by(tasks, gates) -> list[str]:
    """Pipeline params that tasks and gates read, in first-use order."""
    names: list[str] = []
    for name in [n for task in tasks for n in task_params(task)] + [
        n for gate in gates for n in params_read([r.condition for r in gate.requires])
    ]:
        if name not in names:
            names.append(name)
    return names


def _scalar_text(value) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


@functools.lru_cache(maxsize=4096)
def _default_lines(name: str, var: str, default: str | None) -> tuple[str, ...]:
    """The lines of `defaults_script` for one param read through `var`, with
    its default as text: the same for every job reading it, so built once."""
    if default is None:
        return (f'if [ -z "${{{var}:-}}" ]; then echo "param {name} has no value" >&2; exit 2; fi',)
    # the default is user text inside `run:`, where the runner evaluates `${{`
    return (literal(f'if [ -z "${{{var}:-}}" ]; then {var}={quote(default)}; fi'), f"export {var}")


def _annotate_pins(text: str) -> str:
    """Put each pinned action's version tag in a trailing comment.

    Only the `uses:` key of a step matches (a step's keys sit at exactly six
    spaces; block scalars holding user text are indented deeper), so a `run:`
    line that happens to read `uses: actions/...` is left alone."""
    # One pass: split where a line starts with the key and look the rest of
    # each line up. (The text can be tens of megabytes: it is not copied more
    # than the split and the join do.)
    parts = text.split(_USES)
    if parts[0].startswith(_USES[1:]):  # the first line is one too
        parts[0] = _USES[1:] + _pinned(parts[0][len(_USES) - 1:])
    for index in range(1, len(parts)):
        parts[index] = _pinned(parts[index])
    return _USES.join(parts)


def _pinned(part: str) -> str:
    """`part`, which follows a line's `uses: `, with the version tag after
    its first line when that line is a pinned action."""
    end = part.find("\n")
    if end < 0:  # the last line
        end = len(part)
    version = _PIN_VERSIONS.get(part[:end])
    return part if version is None else f"{part[:end]} # {version}{part[end:]}"


_USES = "\n      uses: "
_PIN_VERSIONS = {action: version for action, version in (CHECKOUT, UPLOAD, DOWNLOAD)}
