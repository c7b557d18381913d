"""Diagnostics after an edit inside one member of a pipeline, parsing only that member.

Parsing is three quarters of a full analysis. When an edit lies strictly inside
one member of a pipeline (a step, a param, an attribute: its first and last
characters unchanged), only that member's new text is parsed;
the syntax trees of all other members are reused as they are, and the whole file
is lowered and linted again, which gives every finding a full analysis gives.

The reused trees keep their positions in the analysed text, so positions fall in
three regions: *before* the member (the same in both texts), *after* it (where the
analysed text had them), and the edited member, parsed at the end of a virtual text
(the analysed text followed by a pipeline wrapping the new member text: `virtual`),
so that no position is ambiguous. The pipeline and the module around the member get
spans ending at the end of the virtual text, so that they still contain the member
(suppressions by block look for the blocks around a finding); those ends map to
their ends in the edited text. The stretched pipeline then also contains the items
after it, which matters only to a suppression on its first line: with one there
(and items after it), the edit is refused. Each position of a finding is mapped back by its
region. Whatever mapping cannot make certain is refused, and the caller runs a full
analysis: a finding across regions, a finding with labels both in the member and
after it (their order follows positions), a position on the member's last line after
it (its column moves), an edited text that is not exactly one member, or any
diagnostic from parsing it. The tests compare both analyses on random edits.
"""

from __future__ import annotations

import time
from bisect import bisect_right
from dataclasses import dataclass

from mlplang.api import load_syntax
from mlplang.config import LintConfig
from mlplang.diagnostics.model import Diagnostic, Label
from mlplang.dsl import ast
from mlplang.dsl.parser import parse_fragment
from mlplang.lsp.analysis import Analysis
from mlplang.lsp.incremental import MAY_SUPPRESS, SYNTAX_CODES, derivable, difference
from mlplang.source import SourceFile, Span

WRAPPER = "\npipeline edited {\n"
BEFORE, MEMBER, AFTER, END = "before", "member", "after", "end"


def derive(base: Analysis, base_dependencies: tuple, text: str,
           config: LintConfig) -> tuple[list[Diagnostic], dict[str, float]] | None:
    """The diagnostics of `text` (and the seconds spent loading and linting), or None when
    the edit is not inside one member or only a full analysis can tell."""
    from mlplang.lint import lint

    if not derivable(base, base_dependencies, config):
        return None
    spliced = _splice(base, text)
    if spliced is None:
        return None
    module, source, regions = spliced
    started = time.perf_counter()
    result = load_syntax(source, module, base.real_path)
    loaded = time.perf_counter()
    diagnostics = lint(result, config)
    mapped = []
    for diagnostic in diagnostics:
        diagnostic = regions.diagnostic(diagnostic)
        if diagnostic is None:
            return None
        mapped.append(diagnostic)
    mapped.sort(key=Diagnostic.sort_key)
    return mapped, {"load": loaded - started, "lint": time.perf_counter() - loaded}


def _splice(base: Analysis, text: str) -> tuple[ast.Module, SourceFile, Regions] | None:
    """The module of `text` made of the analysed members and the edited one, parsed alone."""
    module = base.result.module
    if module is None or not module.items or any(d.code.startswith(SYNTAX_CODES) for d in base.result.diagnostics):
        return None
    old = base.text
    if module.span.end != len(old):
        return None
    edit = difference(old, text)
    position = bisect_right([item.span.start for item in module.items], edit.start) - 1
    pipeline = module.items[position] if position >= 0 else None
    if not isinstance(pipeline, ast.PipelineDecl) or pipeline.span.file != base.path:
        return None
    if position < len(module.items) - 1 and any(
            c.span.line == pipeline.span.line and MAY_SUPPRESS.search(c.text) for c in module.comments):
        return None  # its span, stretched over the virtual text, would contain the items after it
    members = pipeline.members
    index = bisect_right([m.span.start for m in members], edit.start) - 1
    if index < 0:
        return None
    member = members[index].span
    if not member.start < edit.start or not edit.old_end < member.end:
        return None  # not strictly inside: the member's first and last characters stay
    line_start = old.rfind("\n", 0, member.start) + 1
    line_end = old.find("\n", member.end)
    if old[line_start:member.start].strip() or old[member.end:len(old) if line_end < 0 else line_end].strip():
        return None  # alone on its lines, so that nothing else shares a line whose columns move
    delta = edit.new_end - edit.old_end
    member_text = text[member.start:member.end + delta]

    starts = base.result.sources[base.path]._line_starts if base.path in base.result.sources else None
    if starts is None or len(starts) != old.count("\n") + 1:
        return None
    indent = old[line_start:member.start]
    virtual = old + WRAPPER + indent + member_text + "\n}\n"
    tail = [index for index in range(len(old), len(virtual)) if virtual[index] == "\n"]
    source = SourceFile(base.path, virtual, starts + tuple(i + 1 for i in tail))
    parsed = parse_fragment(source, len(old))
    v_start = len(old) + len(WRAPPER) + len(indent)
    if parsed is None or len(parsed[0]) != 1:
        return None
    (wrapper,), comments = parsed
    if not isinstance(wrapper, ast.PipelineDecl) or len(wrapper.members) != 1:
        return None
    edited = wrapper.members[0]
    if (edited.span.start, edited.span.end) != (v_start, v_start + len(member_text)):
        return None

    line_delta = member_text.count("\n") - old.count("\n", member.start, member.end)
    regions = Regions(
        path=base.path, member=member, old_length=len(old), v_start=v_start, v_end=v_start + len(member_text),
        v_line=edited.span.line, delta=delta, line_delta=line_delta,
        ends={wrapper.span.end: (pipeline.span.end_line + line_delta, pipeline.span.end_column,
                                 pipeline.span.end + delta),
              len(virtual): (module.span.end_line + line_delta, module.span.end_column, len(text))},
    )
    spliced_pipeline = ast.PipelineDecl(
        pipeline.name, members[:index] + (edited,) + members[index + 1:],
        Span(base.path, pipeline.span.line, pipeline.span.column, wrapper.span.end_line, wrapper.span.end_column,
             pipeline.span.start, wrapper.span.end))
    kept = module.comments
    first_after = bisect_right([c.span.start for c in kept], member.start)
    before = [c for c in kept[:first_after] if c.span.end <= member.start]
    after = [c for c in kept[first_after:] if c.span.start >= member.end]
    items = module.items[:position] + (spliced_pipeline,) + module.items[position + 1:]
    spliced = ast.Module(module.path, items, (*before, *comments, *after), source.span(0, len(virtual)))
    return spliced, source, regions


@dataclass(frozen=True)
class Regions:
    """Maps positions of the spliced module to the edited text."""

    path: str
    member: Span  # the member in the analysed text
    old_length: int
    v_start: int  # the edited member in the virtual text
    v_end: int
    v_line: int
    delta: int  # characters and lines the edit added
    line_delta: int
    ends: dict[int, tuple[int, int, int]]  # ends of the spliced pipeline and module -> (line, column, offset)

    def point(self, line: int, column: int, offset: int, is_end: bool) -> tuple[str, tuple[int, int, int]] | None:
        member = self.member
        if offset < member.start or (is_end and offset == member.start):
            return BEFORE, (line, column, offset)
        if self.v_start <= offset <= self.v_end:
            return MEMBER, (line - self.v_line + member.line, column, offset - self.v_start + member.start)
        if is_end and offset in self.ends:
            return END, self.ends[offset]
        if member.end <= offset <= self.old_length and line > member.end_line:
            return AFTER, (line + self.line_delta, column, offset + self.delta)
        return None

    def span(self, span: Span) -> tuple[str, Span] | None:
        """The region of `span`'s start and the span in the edited text."""
        if span.file != self.path:
            return BEFORE, span
        start = self.point(span.line, span.column, span.start, False)
        end = self.point(span.end_line, span.end_column, span.end, True)
        if start is None or end is None or (start[0] != end[0] and not (start[0] == BEFORE and end[0] == END)):
            return None
        (line, column, offset), (end_line, end_column, end_offset) = start[1], end[1]
        return start[0], Span(span.file, line, column, end_line, end_column, offset, end_offset)

    def diagnostic(self, diagnostic: Diagnostic) -> Diagnostic | None:
        mapped = self.span(diagnostic.span)
        if mapped is None:
            return None
        seen = {mapped[0]}
        labels = []
        for label in diagnostic.labels:
            label_mapped = self.span(label.span)
            if label_mapped is None:
                return None
            seen.add(label_mapped[0])
            labels.append(Label(span=label_mapped[1], message=label.message))
        if MEMBER in seen and AFTER in seen:
            return None  # rules order labels by position: the member now precedes them
        return diagnostic.model_copy(update={"span": mapped[1], "labels": tuple(labels)})
