"""Completion candidates from the text before the cursor and the enclosing declaration.

Returns `(label, kind, detail)` triples; kind is one of keyword, step, output,
type, param, secret, field, template (the server maps them to LSP kinds).
"""

from __future__ import annotations

import re

from mlplang.compiler.ir import ARTIFACT_KINDS, PARAM_TYPES
from mlplang.dsl import ast
from mlplang.lsp.analysis import (
    BODY_KEYWORDS,
    PIPELINE_KEYWORDS,
    TOP_KEYWORDS,
    Analysis,
)

Item = tuple[str, str, str]

INTERPOLATION = re.compile(r"\$\{(in|out|param)\.(\w*)$")
INTERPOLATION_START = re.compile(r"\$\{(\w*)$")
MEMBER = re.compile(r"(?<![\w.])(\w+)\.(\w*)$")
TYPE_POSITION = re.compile(r"(?:^|\s)(param|in|out|source)\s+\w+\s*:\s*\w*$|\(.*\w+\s*:\s*\w*$")


def _in_string(line_prefix: str) -> bool:
    return line_prefix.count('"') % 2 == 1 or '"""' in line_prefix


def complete(analysis: Analysis, offset: int, line_prefix: str, before: str) -> list[Item]:
    """Candidates at `offset` of the analysed text, `line_prefix` and `before` being what
    precedes the cursor on its line and in the whole document as it is now (the analysis
    may be of an earlier text, the one before an edit inside the same member)."""
    top, member = analysis.enclosing(offset)
    pipeline_decl = top if isinstance(top, ast.PipelineDecl) else None
    match = INTERPOLATION.search(line_prefix)
    if match:
        return _interpolation_members(analysis, pipeline_decl, member, match.group(1))
    match = INTERPOLATION_START.search(line_prefix)
    if match:
        return [(ns, "keyword", "interpolation namespace") for ns in ("in", "out", "param")]
    if _in_string(line_prefix) and not _triple_closed(before):
        return []
    match = MEMBER.search(line_prefix)
    if match:
        return _members(analysis, pipeline_decl, match.group(1))
    match = TYPE_POSITION.search(line_prefix)
    if match:
        if match.group(1) == "param":
            return [(t, "type", "param type") for t in PARAM_TYPES]
        return [(t, "type", "artifact type") for t in ARTIFACT_KINDS]
    if top is None:
        return [(k, "keyword", "") for k in TOP_KEYWORDS]
    items: list[Item] = []
    if member is None and pipeline_decl is not None:
        items += [(k, "keyword", "") for k in PIPELINE_KEYWORDS]
    elif isinstance(member, (ast.StepDecl, ast.TemplateStepDecl, ast.GateDecl, ast.MonitorDecl, ast.TemplateDecl)):
        items += [(k, "keyword", "") for k in BODY_KEYWORDS]
    else:
        items += [(k, "keyword", "") for k in PIPELINE_KEYWORDS]
    if pipeline_decl is not None:
        items += _nodes(pipeline_decl)
        items += [("param", "keyword", "pipeline params"), ("secret", "keyword", "pipeline secrets")]
    items += [(alias, "template", f"module {display}") for alias, display in analysis.import_aliases().items()]
    return items


def _triple_closed(before: str) -> bool:
    """Inside a triple-quoted string the per-line quote count says nothing; ask the text."""
    return before.count('"""') % 2 == 0


def _nodes(decl: ast.PipelineDecl) -> list[Item]:
    kinds = {ast.SourceDecl: "source", ast.StepDecl: "step", ast.TemplateStepDecl: "step",
             ast.GateDecl: "gate", ast.MonitorDecl: "monitor"}
    return [(m.name.value, "step", kinds[type(m)]) for m in decl.members if type(m) in kinds]


def _members(analysis: Analysis, decl: ast.PipelineDecl | None, word: str) -> list[Item]:
    aliases = analysis.import_aliases()
    if word in aliases:
        syntax = analysis.result.modules.get(aliases[word])
        if syntax is None:
            return []
        return [(t.name.value, "template", f"template in {aliases[word]}") for t in syntax.templates]
    if decl is None:
        return []
    if word in ("param", "secret"):
        wanted = ast.ParamDecl if word == "param" else ast.SecretDecl
        return [(m.name.value, word, _param_detail(m)) for m in decl.members if isinstance(m, wanted)]
    pipeline = analysis.pipeline(decl.name.value)
    if pipeline is not None:
        task = pipeline.step(word) or next((m for m in pipeline.monitors if m.name == word), None)
        if task is not None:
            return [(o.name, "output", str(o.type)) for o in task.outputs]
    for member in decl.members:  # the IR is missing while the file has errors: read the syntax tree
        if isinstance(member, (ast.StepDecl, ast.MonitorDecl)) and member.name.value == word:
            return [(i.name.value, "output", str(i.type)) for i in member.body if isinstance(i, ast.OutputDecl)]
    return []


def _param_detail(member) -> str:
    return member.type.value if isinstance(member, ast.ParamDecl) else "secret"


def _interpolation_members(analysis: Analysis, decl: ast.PipelineDecl | None, member, namespace: str) -> list[Item]:
    if decl is None:
        if isinstance(member, ast.TemplateDecl) and namespace == "param":
            return [(p.name.value, "param", str(p.type)) for p in member.params]
        body = member.body if isinstance(member, ast.TemplateDecl) else ()
    else:
        body = getattr(member, "body", ())
    if namespace == "param":
        if decl is None:
            return []
        return [(m.name.value, "param", m.type.value) for m in decl.members if isinstance(m, ast.ParamDecl)]
    wanted = ast.InputDecl if namespace == "in" else ast.OutputDecl
    return [(i.name.value, "field", str(i.type)) for i in body if isinstance(i, wanted)]
