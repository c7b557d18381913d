"""Syntax tree -> typed IR for one pipeline: names resolved, types checked,
templates instantiated. Every mistake becomes a diagnostic; what cannot be
resolved is left out of the IR (and the pipeline is then not compiled)."""

from __future__ import annotations

from dataclasses import dataclass, field

from mlplang.compiler import ir
from mlplang.compiler.body import Body, BodyScope, lower_body
from mlplang.compiler.commands import SharedNodes, lower_command
from mlplang.compiler.conditions import ConditionScope
from mlplang.compiler.instances import find_template, scalar_argument
from mlplang.compiler.modules import LoadedModule
from mlplang.compiler.report import Reporter
from mlplang.compiler.suggest import did_you_mean
from mlplang.compiler.types import flavor_accepts, kind_accepts, subkinds
from mlplang.compiler.values import (
    as_choice, as_cron, as_scalar, as_str, as_str_list, scalar_fits, scalar_type,
)
from mlplang.diagnostics import codes
from mlplang.diagnostics.model import Label
from mlplang.dsl import ast

PIPELINE_ATTRIBUTES = ("description", "owner", "schedule", "risk", "tags")
SOURCE_ATTRIBUTES = ("uri", "version", "pii", "description")
NODE_WORDS = {ast.SourceDecl: "source", ast.StepDecl: "step", ast.TemplateStepDecl: "step",
              ast.GateDecl: "gate", ast.MonitorDecl: "monitor"}


_ARTIFACT_TYPES: dict[tuple[str, str | None], ir.ArtifactType] = {}
"""One immutable `ArtifactType` per (kind, flavor), shared by every node that has it."""


def resolve_type(ref: ast.TypeRef, r: Reporter) -> ir.ArtifactType | None:
    flavor = ref.flavor.value if ref.flavor else None
    known = _ARTIFACT_TYPES.get((ref.name.value, flavor))
    if known is not None:
        return known
    if ref.name.value not in ir.ARTIFACT_KINDS:
        hint = did_you_mean(ref.name.value, ir.ARTIFACT_KINDS)
        r.add(codes.UNKNOWN_TYPE, f"unknown artifact type `{ref.name.value}`", ref.name.span,
              help=hint or "artifact types: " + ", ".join(ir.ARTIFACT_KINDS))
        return None
    return _ARTIFACT_TYPES.setdefault((ref.name.value, flavor), ir.ArtifactType.trusted(kind=ref.name.value, flavor=flavor))


def _check_unique(names: list[ast.Name], what: str, r: Reporter) -> set[str]:
    if len(names) < 2:  # the common case, and nothing to report
        return {name.value for name in names}
    seen: dict[str, ast.Name] = {}
    for name in names:
        if name.value in seen:
            r.add(codes.DUPLICATE_NAME, f"{what} `{name.value}` is declared twice", name.span,
                  label="second declaration", labels=[Label(span=seen[name.value].span, message="first declared here")])
        else:
            seen[name.value] = name
    return set(seen)


@dataclass(slots=True)
class _TaskOutputs:
    outputs: dict[str, ir.Output]
    kind: str  # "step" | "monitor"
    unresolved: set[str] = field(default_factory=set)
    """Outputs declared with an unknown type: already reported, so uses stay silent."""
    complete: bool = True
    """False for a step whose template was not found: its outputs are unknown."""

    def known(self, name: str) -> bool:
        """Whether `name` is an output, or might be one and was already reported."""
        return name in self.outputs or name in self.unresolved or not self.complete


class PipelineLowerer:
    def __init__(self, decl: ast.PipelineDecl, module: LoadedModule, r: Reporter) -> None:
        self.decl = decl
        self.module = module
        self.r = r
        self.params: dict[str, ir.Param] = {}
        self.secrets: dict[str, ir.Secret] = {}
        self.sources: dict[str, ir.Source] = {}
        self.nodes: dict[str, ast.Member] = {}
        self.task_outputs: dict[str, _TaskOutputs] = {}
        self._step_output_types: dict[str, dict[str, ir.ArtifactType | None]] | None = None
        self._opaque_tasks: set[str] = set()
        self._param_refs: dict[str, ir.ParamRef] | None = None
        self.unresolved_params: set[str] = set()
        """Params declared with an unknown type: reported once, their uses stay silent."""
        self._scopes: dict[str, BodyScope] = {}
        self._shared = SharedNodes()
        self._resolve_type = lambda t: resolve_type(t, r)

    # ---- entry -----------------------------------------------------------------

    def lower(self) -> ir.Pipeline:
        members = self.decl.members
        attributes = self._pipeline_attributes([m for m in members if isinstance(m, ast.Attribute)])
        self._declare(members)
        self._discover_outputs(members)
        steps, gates, monitors = [], [], []
        for member in members:
            if isinstance(member, ast.StepDecl):
                steps.append(self._step(member))
            elif isinstance(member, ast.TemplateStepDecl):
                step = self._template_step(member)
                if step is not None:
                    steps.append(step)
            elif isinstance(member, ast.GateDecl):
                gates.append(self._gate(member))
            elif isinstance(member, ast.MonitorDecl):
                monitors.append(self._monitor(member))
        return ir.Pipeline.trusted(
            name=self.decl.name.value,
            file=self.module.source.path,
            description=attributes.get("description"),
            owner=attributes.get("owner"),
            schedule=attributes.get("schedule"),
            risk=attributes.get("risk"),
            tags=attributes.get("tags", ()),
            params=tuple(self.params.values()),
            secrets=tuple(self.secrets.values()),
            sources=tuple(self.sources.values()),
            steps=tuple(steps),
            gates=tuple(gates),
            monitors=tuple(monitors),
            span=self.decl.span,
            name_span=self.decl.name.span,
        )

    # ---- pipeline-level declarations ------------------------------------------------

    def _pipeline_attributes(self, items: list[ast.Attribute]) -> dict:
        result: dict = {}
        seen: dict[str, ast.Attribute] = {}
        r = self.r
        for item in items:
            name, value = item.name.value, item.value
            if name not in PIPELINE_ATTRIBUTES:
                r.add(codes.UNKNOWN_ATTRIBUTE, f"unknown pipeline attribute `{name}`", item.name.span,
                      help=did_you_mean(name, PIPELINE_ATTRIBUTES) or "attributes: " + ", ".join(PIPELINE_ATTRIBUTES))
                continue
            if name in seen:
                r.add(codes.DUPLICATE_NAME, f"`{name}` is set twice", item.name.span,
                      labels=[Label(span=seen[name].name.span, message="first set here")])
                continue
            seen[name] = item
            if name in ("description", "owner"):
                result[name] = as_str(value, r, name)
            elif name == "schedule":
                result[name] = as_cron(value, r, name)
            elif name == "risk":
                result[name] = as_choice(value, r, name, ir.RISK_LEVELS)
            else:
                result[name] = as_str_list(value, r, name) or ()
        return {k: v for k, v in result.items() if v is not None}

    def _declare(self, members: tuple[ast.Member, ...]) -> None:
        r = self.r
        params = [m for m in members if isinstance(m, ast.ParamDecl)]
        _check_unique([p.name for p in params], "param", r)
        for decl in params:
            if decl.name.value in self.params:
                continue
            param = self._param(decl)
            if param is not None:
                self.params[param.name] = param
            else:
                self.unresolved_params.add(decl.name.value)
        secrets = [m for m in members if isinstance(m, ast.SecretDecl)]
        _check_unique([s.name for s in secrets], "secret", r)
        for decl in secrets:
            self.secrets.setdefault(decl.name.value, ir.Secret.trusted(name=decl.name.value, span=decl.span))
        for member in members:
            if type(member) not in NODE_WORDS:
                continue
            name = member.name
            if name.value in self.nodes:
                first = self.nodes[name.value]
                r.add(codes.DUPLICATE_NAME,
                      f"`{name.value}` is already declared as a {NODE_WORDS[type(first)]}", name.span,
                      label="second declaration", labels=[Label(span=first.name.span, message="first declared here")],
                      help="sources, steps, gates and monitors share one namespace")
                continue
            self.nodes[name.value] = member
            if isinstance(member, ast.SourceDecl):
                source = self._source(member)
                if source is not None:
                    self.sources[source.name] = source

    def _param(self, decl: ast.ParamDecl) -> ir.Param | None:
        r = self.r
        type_name = decl.type.value
        if type_name not in ir.PARAM_TYPES:
            r.add(codes.UNKNOWN_TYPE, f"unknown param type `{type_name}`", decl.type.span,
                  help=did_you_mean(type_name, ir.PARAM_TYPES) or "param types: int, float, str, bool")
            return None
        default = None
        if decl.default is not None:
            default = as_scalar(decl.default)
            actual = scalar_type(default) if default is not None else None
            if actual is None or not scalar_fits(type_name, actual):
                found = actual or "a non-literal value"
                r.add(codes.PARAM_DEFAULT_TYPE,
                      f"default of param `{decl.name.value}` is {found}, but the param is declared `{type_name}`",
                      decl.default.span, label=f"expected {type_name}",
                      labels=[Label(span=decl.type.span, message="declared here")])
                default = None
            elif type_name == "float":
                default = float(default)
        return ir.Param.trusted(name=decl.name.value, type=type_name, default=default, span=decl.span)

    def _source(self, decl: ast.SourceDecl) -> ir.Source | None:
        r = self.r
        artifact_type = resolve_type(decl.type, r)
        values: dict[str, ast.Attribute] = {}
        for attribute in decl.attributes:
            name = attribute.name.value
            if name not in SOURCE_ATTRIBUTES:
                r.add(codes.UNKNOWN_ATTRIBUTE, f"unknown source attribute `{name}`", attribute.name.span,
                      help=did_you_mean(name, SOURCE_ATTRIBUTES) or "attributes: " + ", ".join(SOURCE_ATTRIBUTES))
            elif name in values:
                r.add(codes.DUPLICATE_NAME, f"`{name}` is set twice", attribute.name.span,
                      labels=[Label(span=values[name].name.span, message="first set here")])
            else:
                values[name] = attribute
        if "uri" not in values:
            r.add(codes.MISSING_ATTRIBUTE, f"source `{decl.name.value}` has no `uri`", decl.name.span,
                  help='say where the data lives: `uri = "s3://bucket/path/"`')
            return None
        uri = as_str(values["uri"].value, r, "uri")
        version = as_str(values["version"].value, r, "version") if "version" in values else None
        pii = as_str_list(values["pii"].value, r, "pii") if "pii" in values else ()
        description = as_str(values["description"].value, r, "description") if "description" in values else None
        if artifact_type is None or uri is None:
            return None
        return ir.Source.trusted(name=decl.name.value, type=artifact_type, uri=uri, version=version, pii=pii or (),
                         description=description, span=decl.span)

    # ---- outputs first, so bindings may refer forward -----------------------------

    def _declared_outputs(self, items: tuple[ast.BodyItem, ...], kind: str) -> _TaskOutputs:
        result = _TaskOutputs({}, kind)
        outputs, r = result.outputs, self.r
        decls = [i for i in items if type(i) is ast.OutputDecl]
        if len(decls) > 1:
            _check_unique([d.name for d in decls], "output", r)
        for decl in decls:
            name = decl.name.value
            artifact_type = resolve_type(decl.type, r)
            if name in outputs:
                continue
            if artifact_type is None:
                result.unresolved.add(name)
            else:
                outputs[name] = ir.Output.trusted(name=name, type=artifact_type, pii=None, description=None,
                                                  span=decl.span)
        return result

    def _discover_outputs(self, members: tuple[ast.Member, ...]) -> None:
        for name, member in self.nodes.items():
            if isinstance(member, ast.StepDecl):
                self.task_outputs[name] = self._declared_outputs(member.body, "step")
            elif isinstance(member, ast.MonitorDecl):
                self.task_outputs[name] = self._declared_outputs(member.body, "monitor")
            elif isinstance(member, ast.TemplateStepDecl):
                found = find_template(self.module, member.template, self.r, report=False)
                if found:
                    self.task_outputs[name] = self._declared_outputs(found[1].body, "step")
                else:
                    self.task_outputs[name] = _TaskOutputs({}, "step", complete=False)

    # ---- scopes --------------------------------------------------------------------

    def _condition_scope(self, own: str | None = None) -> ConditionScope:
        def types(t: _TaskOutputs) -> dict[str, ir.ArtifactType | None]:
            # An output of unknown type maps to None: its uses are not reported again.
            return {o: out.type for o, out in t.outputs.items()} | dict.fromkeys(t.unresolved)

        if self._step_output_types is None:  # computed once: outputs are fixed after discovery
            self._step_output_types = {n: types(t) for n, t in self.task_outputs.items() if t.kind == "step"}
            self._opaque_tasks = {n for n, t in self.task_outputs.items() if not t.complete}
        tasks, opaque = self._step_output_types, self._opaque_tasks
        own_outputs = types(self.task_outputs[own]) if own else {}
        return ConditionScope(params=self.params, tasks=tasks, own_name=own, own_outputs=own_outputs,
                              opaque_tasks=opaque, unresolved_params=set(self.unresolved_params))

    def _body_scope(self, kind: str, params=None, own: str | None = None, unresolved_params=None) -> BodyScope:
        if params is None and own is None and unresolved_params is None:
            # The same for every step (or gate, instance) of the pipeline, and
            # never changed by lowering a body: built once per kind.
            scope = self._scopes.get(kind)
            if scope is None:
                scope = self._scopes[kind] = self._body_scope(kind, self._pipeline_param_refs())
            return scope
        if params is None:
            params = self._pipeline_param_refs()
        if unresolved_params is None:
            unresolved_params = self.unresolved_params
        return BodyScope(kind=kind, conditions=self._condition_scope(own), params=params,
                         secrets=self.secrets, pipeline_params=self.params,
                         unresolved_params=set(unresolved_params))

    def _pipeline_param_refs(self) -> dict[str, ir.ParamRef]:
        """`${param.X}` bindings of a step outside templates: built once, shared by every step."""
        if self._param_refs is None:
            self._param_refs = {name: ir.ParamRef.trusted(kind="param", name=name, span=p.span)
                                for name, p in self.params.items()}
        return self._param_refs

    # ---- artifact bindings -----------------------------------------------------------

    def resolve_artifact(self, value: ast.Value, expected: ir.ArtifactType | None, what: str) -> ir.ArtifactRef | None:
        r = self.r
        if isinstance(value, ast.ErrorValue):
            return None
        if not isinstance(value, ast.Ref) or len(value.parts) > 2:
            r.add(codes.INVALID_VALUE, f"{what} must be bound to a source or a step output (`step.output`)",
                  value.span)
            return None
        head = value.parts[0]
        if len(value.parts) == 1:
            if head.value in self.sources:
                source = self.sources[head.value]
                ref = ir.ArtifactRef.trusted(producer=head.value, output=None, span=value.span)
                self._check_type(expected, source.type, value, source.span, what)
                return ref
            if isinstance(self.nodes.get(head.value), ast.SourceDecl):
                return None  # a source that failed to lower is already reported
            if head.value in self.task_outputs:
                outputs = sorted(self.task_outputs[head.value].outputs)
                r.add(codes.UNKNOWN_REFERENCE, f"`{head.value}` is a step; bind one of its outputs", head.span,
                      help=f"write `{head.value}.{outputs[0]}`" if outputs else f"`{head.value}` declares no outputs")
                return None
            r.add(codes.UNKNOWN_REFERENCE, f"unknown source `{head.value}`", head.span,
                  label="not declared in this pipeline",
                  help=did_you_mean(head.value, list(self.sources) + list(self.task_outputs)))
            return None
        output = value.parts[1]
        task = self.task_outputs.get(head.value)
        if task is None:
            label = "a source has no outputs; bind it by name" if head.value in self.sources else ""
            r.add(codes.UNKNOWN_REFERENCE, f"unknown step `{head.value}`", head.span, label=label,
                  help=did_you_mean(head.value, self.task_outputs) if not label else f"write `{head.value}`")
            return None
        if task.kind == "monitor":
            r.add(codes.INVALID_VALUE, f"`{head.value}` is a monitor; its outputs cannot be bound",
                  value.span, label="monitors run on their own schedule",
                  help="a monitor's outputs are read by its own `require`s; steps cannot depend on them")
            return None
        if output.value not in task.outputs:
            if task.known(output.value):
                return None  # its type or its template is unknown, and already reported
            r.add(codes.UNKNOWN_REFERENCE, f"step `{head.value}` has no output `{output.value}`", output.span,
                  help=did_you_mean(output.value, task.outputs) or (
                      "its outputs: " + ", ".join(sorted(task.outputs)) if task.outputs else None))
            return None
        declared = task.outputs[output.value]
        self._check_type(expected, declared.type, value, declared.span, what)
        return ir.ArtifactRef.trusted(producer=head.value, output=output.value, span=value.span)

    def _check_type(self, expected, actual: ir.ArtifactType, value: ast.Ref, declared_span, what: str) -> None:
        if expected is None or expected is actual:  # types are shared: the same object is the same type
            return
        if not kind_accepts(expected, actual):
            self.r.add(codes.TYPE_MISMATCH, f"{what} expects {expected}, but `{value.dotted}` is {actual}",
                       value.span, label=f"this is {actual}",
                       labels=[Label(span=declared_span, message=f"declared {actual} here")],
                       help=f"an input declared {expected.kind} accepts "
                       + (" or ".join(accepted) if len(accepted := subkinds(expected.kind)) > 1 else f"only {expected.kind}"))
        elif not flavor_accepts(expected, actual):
            shown = f"flavor `{actual.flavor}`" if actual.flavor else "no flavor"
            self.r.add(codes.FLAVOR_MISMATCH,
                       f"{what} expects {expected}, but `{value.dotted}` is {actual}",
                       value.span, label=f"this has {shown}",
                       labels=[Label(span=declared_span, message=f"declared {actual} here")],
                       help=f"declare the output as {expected}, or drop the flavor from the input")

    def _inputs(self, decls: list[ast.InputDecl]) -> list[ir.Input]:
        inputs = []
        _check_unique([d.name for d in decls], "input", self.r)
        seen = set()
        for decl in decls:
            if decl.name.value in seen:
                continue
            seen.add(decl.name.value)
            artifact_type = resolve_type(decl.type, self.r)
            if decl.binding is None:
                self.r.add(codes.UNBOUND_INPUT, f"input `{decl.name.value}` is not bound to an artifact",
                           decl.span, help=f"bind it: `in {decl.name.value}: {decl.type} = source_or_step.output`")
                continue
            ref = self.resolve_artifact(decl.binding, artifact_type, f"input `{decl.name.value}`")
            if ref is not None and artifact_type is not None:
                inputs.append(ir.Input.trusted(name=decl.name.value, type=artifact_type, ref=ref, span=decl.span))
        return inputs

    def _after(self, names: list[ast.Name], own: str) -> tuple[str, ...]:
        if not names:
            return ()
        result: list[str] = []
        for name in names:
            member = self.nodes.get(name.value)
            if name.value == own:
                self.r.add(codes.DEPENDENCY_CYCLE, f"`{own}` cannot run after itself", name.span,
                           label=f"this is `{own}` itself", help=f"remove `after {own}`")
            elif not isinstance(member, ast.StepDecl | ast.TemplateStepDecl | ast.GateDecl):
                what = f"a {NODE_WORDS[type(member)]}" if member is not None else "not declared"
                candidates = [n for n, m in self.nodes.items() if isinstance(m, ast.StepDecl | ast.TemplateStepDecl | ast.GateDecl)]
                self.r.add(codes.UNKNOWN_REFERENCE, f"`after {name.value}`: no step or gate named `{name.value}`",
                           name.span, label=what, help=did_you_mean(name.value, candidates))
            elif name.value not in result:
                result.append(name.value)
        return tuple(result)

    # ---- steps, gates, monitors -------------------------------------------------------

    def _task_fields(self, body: Body, inputs: list[ir.Input], input_names: set[str], outputs: list[ir.Output],
                     params, decl_name: ast.Name, span, kind: str, unresolved_params: set[str]) -> dict:
        """Fields steps and monitors share. `input_names` and the outputs declared
        in the body count resolved or not, and `unresolved_params` are params that
        failed to resolve, so a mistake already reported does not also fail every
        `${in.X}`, `${out.X}` or `${param.X}` that uses it."""
        command, parameters = None, ()
        if body.command_literal is not None:
            command, parameters = lower_command(
                body.command_literal, input_names, body.output_names, params, self.r, unresolved_params, self._shared)
        elif kind in ("step", "monitor"):
            self.r.add(codes.MISSING_ATTRIBUTE, f"{kind} `{decl_name.value}` has no `run` command", decl_name.span,
                       help='add the command it runs: `run = "python train.py --data ${in.data}"`')
        return dict(
            name=decl_name.value, image=body.image, command=command, env=tuple(body.env),
            inputs=tuple(inputs), outputs=tuple(outputs), parameters=parameters,
            retries=body.retries or 0, timeout=body.timeout, resources=body.resources,
            description=body.description, span=span, name_span=decl_name.span,
        )

    def _known_outputs(self, name: str) -> dict[str, ir.Output] | None:
        task = self.task_outputs.get(name)
        return task.outputs if task is not None else None

    def _step(self, decl: ast.StepDecl) -> ir.Step:
        body = lower_body(decl.body, self._body_scope("step"), self.r, self._resolve_type,
                          self._known_outputs(decl.name.value))
        inputs = self._inputs(body.inputs)
        fields = self._task_fields(body, inputs, {i.name.value for i in body.inputs},
                                   self._dedupe_outputs(body.outputs), self._pipeline_param_refs(),
                                   decl.name, decl.span, "step", self.unresolved_params)
        return ir.Step.trusted(after=self._after(body.after, decl.name.value), when=body.when,
                               cache=True if body.cache is None else body.cache, template=None, **fields)

    @staticmethod
    def _dedupe_outputs(outputs: list[ir.Output]) -> list[ir.Output]:
        if len(outputs) < 2:
            return outputs
        seen: dict[str, ir.Output] = {}
        for output in outputs:
            seen.setdefault(output.name, output)
        return list(seen.values())

    def _gate(self, decl: ast.GateDecl) -> ir.Gate:
        body = lower_body(decl.body, self._body_scope("gate"), self.r, self._resolve_type)
        if not body.requires and body.approval is None and not any(isinstance(i, ast.RequireDecl) for i in decl.body):
            self.r.add(codes.MISSING_ATTRIBUTE, f"gate `{decl.name.value}` checks nothing", decl.name.span,
                       help="add `require step.metrics.key >= threshold` or an `approval { ... }` block")
        return ir.Gate.trusted(name=decl.name.value, requires=tuple(body.requires), approval=body.approval,
                               after=self._after(body.after, decl.name.value), description=body.description,
                               span=decl.span, name_span=decl.name.span)

    def _monitor(self, decl: ast.MonitorDecl) -> ir.Monitor:
        scope = self._body_scope("monitor", own=decl.name.value)
        body = lower_body(decl.body, scope, self.r, self._resolve_type, self._known_outputs(decl.name.value))
        inputs = self._inputs(body.inputs)
        fields = self._task_fields(body, inputs, {i.name.value for i in body.inputs},
                                   self._dedupe_outputs(body.outputs), scope.params, decl.name, decl.span, "monitor",
                                   self.unresolved_params)
        watch = None
        if body.watch is not None:
            watch = self.resolve_artifact(body.watch, None, "`watch`")
        else:
            self.r.add(codes.MISSING_ATTRIBUTE, f"monitor `{decl.name.value}` watches nothing", decl.name.span,
                       help="add `watch = deploy.endpoint` naming the deployed artifact it checks")
        return ir.Monitor.trusted(watch=watch, schedule=body.schedule, requires=tuple(body.requires),
                                  on_breach=body.on_breach, **fields)

    # ---- templates ------------------------------------------------------------------------

    def _template_step(self, decl: ast.TemplateStepDecl) -> ir.Step | None:
        found = find_template(self.module, decl.template, self.r)
        extra = lower_body(decl.body, self._body_scope("instance"), self.r, self._resolve_type)
        if found is None:
            return None
        module, template = found
        params = {p.name.value: p for p in template.params}
        given: dict[str, ast.Argument] = {}
        for argument in decl.arguments:
            name = argument.name.value
            if name not in params:
                self.r.add(codes.UNKNOWN_ARGUMENT, f"template `{template.name.value}` has no parameter `{name}`",
                           argument.name.span, labels=[Label(span=template.name.span, message="template defined here")],
                           help=did_you_mean(name, params) or (
                               "its parameters: " + ", ".join(params) if params else "it takes no arguments"))
            elif name in given:
                self.r.add(codes.DUPLICATE_NAME, f"argument `{name}` is given twice", argument.name.span,
                           labels=[Label(span=given[name].name.span, message="first given here")])
            else:
                given[name] = argument
        inputs: list[ir.Input] = []
        bindings: dict[str, ir.LiteralValue | ir.ParamRef] = {}
        for name, param in params.items():
            argument = given.get(name)
            is_artifact = param.type.name.value not in ir.PARAM_TYPES
            if argument is None:
                if param.default is None:
                    self.r.add(codes.MISSING_ARGUMENT,
                               f"template `{template.name.value}` needs argument `{name}`", decl.template.span,
                               labels=[Label(span=param.span, message="parameter declared here")],
                               help=f"pass it: `{name} = ...`")
                elif not is_artifact:
                    scalar = as_scalar(param.default)
                    if scalar is not None:
                        if param.type.name.value == "float" and scalar_type(scalar) == "int":
                            scalar = float(scalar)
                        bindings[name] = ir.LiteralValue.trusted(kind="literal", value=scalar, span=param.default.span)
                continue
            if is_artifact:
                artifact_type = resolve_type(param.type, self.r)
                ref = self.resolve_artifact(argument.value, artifact_type, f"argument `{name}`")
                if ref is not None and artifact_type is not None:
                    inputs.append(ir.Input.trusted(name=name, type=artifact_type, ref=ref, span=argument.span))
            else:
                bound = scalar_argument(argument, param.type.name.value, self.params, self.r)
                if bound is not None:
                    bindings[name] = bound
        # Scalar parameters left unbound (missing or invalid argument) are reported
        # above; the template's uses of them must not be reported again.
        unbound = {p for p, d in params.items() if d.type.name.value in ir.PARAM_TYPES and p not in bindings}
        scope = self._body_scope("template", params=bindings, unresolved_params=unbound)
        body = lower_body(template.body, scope, self.r, self._resolve_type, self._known_outputs(decl.name.value))
        artifact_params = {p for p, d in params.items() if d.type.name.value not in ir.PARAM_TYPES}
        fields = self._task_fields(body, inputs, artifact_params, self._dedupe_outputs(body.outputs), bindings,
                                   decl.name, decl.span, "step", unbound)
        for attribute in ("retries", "timeout", "description"):
            override = getattr(extra, attribute)
            if override is not None:
                fields[attribute] = override
        if extra.resources is not None:
            fields["resources"] = extra.resources
        if extra.env:
            names = {e.name for e in extra.env}
            fields["env"] = tuple(e for e in fields["env"] if e.name not in names) + tuple(extra.env)
        cache = extra.cache if extra.cache is not None else (True if body.cache is None else body.cache)
        arguments = tuple(ir.StepParameter.trusted(name=n, value=v) for n, v in bindings.items())
        origin = ir.TemplateOrigin.trusted(module=module.source.path, template=template.name.value, span=template.span,
                                   arguments=arguments)
        return ir.Step.trusted(after=self._after(extra.after, decl.name.value), when=extra.when, cache=cache,
                       template=origin, **fields)
