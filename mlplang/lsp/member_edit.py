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

An edit in the blank between two members (a new member being typed, or pasted) is
read the same way, as a region: the blank and the member after it, parsed alone and
spliced in place of that member.

A region with a syntax error (a line being typed) takes another way, in
`_broken_member`: a file with a syntax error is neither lowered nor linted, so only
the region needs reading, by the recovering parser.
"""

from __future__ import annotations

import re
import time
from bisect import bisect_right
from dataclasses import dataclass

from mlplang.api import LoadResult, load_syntax
from mlplang.compiler.report import Reporter
from mlplang.config import LintConfig
from mlplang.diagnostics import codes
from mlplang.diagnostics.model import Diagnostic, Label, Severity
from mlplang.dsl import ast
from mlplang.dsl.parser import parse_fragment, parse_recovering
from mlplang.lsp.analysis import Analysis
from mlplang.lsp.incremental import MAY_SUPPRESS, Edit, derivable, difference, has_syntax_errors
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
    located = _locate(base, text)
    if located is None:
        return None
    spliced = _splice(base, located)
    if spliced is None:
        return _broken_member(base, located, text, config)
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


def local_edit(base: Analysis, text: str) -> tuple[str, Edit] | None:
    """Where `text` differs from the analysed text, and the edit: "member" (inside one
    member of a pipeline), "between" (between two of its members), or None (elsewhere)."""
    located = _locate(base, text)
    if located is None:
        return None
    return ("between" if located.index is None else "member"), located.edit


@dataclass(frozen=True)
class _Located:
    """Where the edit is: member `index` of the pipeline at `position` in the module's items,
    or (`index` None) the blank between two of its members (or its braces)."""

    module: ast.Module
    pipeline: ast.PipelineDecl
    position: int
    index: int | None
    member: Span  # the region in the analysed text: the member, or a blank and the member after it
    member_text: str  # the region in the edited text
    indent: str  # what precedes the region on its first line, made blank
    replaced: tuple[int, int]  # the slice of the pipeline's members the region's text stands for
    edit: Edit

    @property
    def delta(self) -> int:
        return self.edit.delta


def _locate(base: Analysis, text: str) -> _Located | None:
    """The member of a pipeline an edit lies strictly inside, alone on its lines, if any."""
    module = base.result.module
    if module is None or not module.items or has_syntax_errors(base):
        return None
    old = base.text
    if module.span.end != len(old):
        return None
    edit = difference(old, text)
    position = bisect_right([item.span.start for item in module.items], edit.start) - 1
    pipeline = module.items[position] if position >= 0 else None
    if not isinstance(pipeline, ast.PipelineDecl) or pipeline.span.file != base.path:
        return None
    members = pipeline.members
    index = bisect_right([m.span.start for m in members], edit.start) - 1
    if index >= 0 and edit.start == members[index].span.start:
        index -= 1  # at a member's first character (a line inserted before it): the blank before it
    if index < 0 or not edit.old_end < members[index].span.end:
        return _locate_between(module, pipeline, position, index, edit, old, text, base.result.sources.get(base.path))
    member = members[index].span
    if not member.start < edit.start:
        return None  # not strictly inside: the member's first and last characters stay
    line_start = old.rfind("\n", 0, member.start) + 1
    line_end = old.find("\n", member.end)
    if old[line_start:member.start].strip() or old[member.end:len(old) if line_end < 0 else line_end].strip():
        return None  # alone on its lines, so that nothing else shares a line whose columns move
    return _Located(module, pipeline, position, index, member, text[member.start:member.end + edit.delta],
                    old[line_start:member.start], (index, index + 1), edit)


def _locate_between(module: ast.Module, pipeline: ast.PipelineDecl, position: int, index: int, edit,
                    old: str, text: str, source: SourceFile | None) -> _Located | None:
    """An edit in the blank between members `index` and `index + 1` (or a brace of the
    pipeline): a new member being typed. The region read again runs from that blank,
    which must start with white space in the edited text (none of its tokens can join
    the member before), to the end of the next member, alone on its last line: a half
    typed member is mostly found incomplete at the next member's first token, so that
    token must be read as in the whole text (before the pipeline's `}`, the `}` is)."""
    members = pipeline.members
    if index >= 0:
        start = members[index].span.end
    else:
        brace = _NOT_BLANK.search(old, pipeline.name.span.end)
        if brace is None or brace.group() != "{":
            return None
        start = brace.end()
    if not start <= edit.start or not text[start:start + 1].isspace():
        return None
    if index + 1 < len(members):
        end = members[index + 1].span.end
        if not edit.old_end < end:
            return None  # the next member's last character stays
        line_end = old.find("\n", end)
        if old[end:len(old) if line_end < 0 else line_end].strip():
            return None
        replaced = (index + 1, index + 2)
    else:
        end = pipeline.span.end - 1
        if not edit.old_end <= end:
            return None
        replaced = (len(members), len(members))
    if source is None or source.text != old:
        return None
    (line, column), (end_line, end_column) = source.position(start), source.position(end)
    region = Span(pipeline.span.file, line, column, end_line, end_column, start, end)
    indent = " " * (column - 1)  # what precedes the blank on its line (the member before), made blank
    return _Located(module, pipeline, position, None, region, text[start:end + edit.delta], indent, replaced,
                    edit)


def _splice(base: Analysis, located: _Located) -> tuple[ast.Module, SourceFile, Regions] | None:
    """The module of the edited text made of the analysed members and those of the edited
    region, parsed alone (None if it has a syntax error, or if an edited member is not
    exactly one member any more)."""
    module, pipeline, position = located.module, located.pipeline, located.position
    if position < len(module.items) - 1 and any(
            c.span.line == pipeline.span.line and MAY_SUPPRESS.search(c.text) for c in module.comments):
        return None  # its span, stretched over the virtual text, would contain the items after it
    old, members, member = base.text, pipeline.members, located.member
    delta, member_text, indent = located.delta, located.member_text, located.indent

    starts = base.result.sources[base.path]._line_starts if base.path in base.result.sources else None
    if starts is None or len(starts) != old.count("\n") + 1:
        return None
    virtual = old + WRAPPER + indent + member_text + "\n}\n"
    tail = [i for i in range(len(old), len(virtual)) if virtual[i] == "\n"]
    source = SourceFile(base.path, virtual, starts + tuple(i + 1 for i in tail))
    parsed = parse_fragment(source, len(old))
    v_start = len(old) + len(WRAPPER) + len(indent)
    if parsed is None or len(parsed[0]) != 1:
        return None
    (wrapper,), comments = parsed
    if not isinstance(wrapper, ast.PipelineDecl):
        return None
    edited = wrapper.members
    lo, hi = located.replaced
    if hi > lo:  # the region ends with a member (the edited one, or the one after a blank): parsed as one
        if not edited or edited[-1].span.end != v_start + len(member_text):
            return None
        if located.index is not None and (len(edited) != 1 or edited[0].span.start != v_start):
            return None

    line_delta = member_text.count("\n") - old.count("\n", member.start, member.end)
    regions = Regions(
        path=base.path, member=member, old_length=len(old), v_start=v_start, v_end=v_start + len(member_text),
        v_line=source.position(v_start)[0], delta=delta, line_delta=line_delta,
        ends={wrapper.span.end: (pipeline.span.end_line + line_delta, pipeline.span.end_column,
                                 pipeline.span.end + delta),
              len(virtual): (module.span.end_line + line_delta, module.span.end_column, len(old) + delta)},
    )
    spliced_pipeline = ast.PipelineDecl(
        pipeline.name, members[:lo] + edited + members[hi:],
        Span(base.path, pipeline.span.line, pipeline.span.column, wrapper.span.end_line, wrapper.span.end_column,
             pipeline.span.start, wrapper.span.end))
    kept = module.comments
    first_after = bisect_right([c.span.start for c in kept], member.start)
    before = [c for c in kept[:first_after] if c.span.end <= member.start]
    after = [c for c in kept[first_after:] if c.span.start >= member.end]
    items = module.items[:position] + (spliced_pipeline,) + module.items[position + 1:]
    spliced = ast.Module(module.path, items, (*before, *comments, *after), source.span(0, len(virtual)))
    return spliced, source, regions


def _broken_member(base: Analysis, located: _Located, text: str,
                   config: LintConfig) -> tuple[list[Diagnostic], dict[str, float]] | None:
    """The diagnostics of an edited text whose edited member, or the blank between two
    members, has syntax errors (typing a line: `r`, then `retries =`, then `retries = 3`;
    a new step).

    A file with a syntax error is neither lowered nor linted by rules: its diagnostics
    are the recovering parser's, plus what the linter says of its suppressions. The
    recovering parser reads the edited text with everything but the member and the
    pipeline's `pipeline NAME {` and closing `}` blanked out (positions unchanged), so
    it parses the member where it stands. That is what the whole text would give only
    if recovery stays inside the member: refused when any error (reported or a silent
    cascade) falls outside it, a diagnostic or label points outside it, a diagnostic is
    not an error (a warning could be suppressed by block), or the analysed text had
    parser warnings elsewhere (a whole parse would report them again)."""
    from mlplang.lint import lint

    if any(d.code == codes.INTERPOLATION_TYPO.code for d in base.result.diagnostics):
        return None
    started = time.perf_counter()
    pipeline, member, delta = located.pipeline, located.member, located.delta
    member_end = member.end + delta
    brace = _NOT_BLANK.search(text, pipeline.name.span.end)
    pipeline_end = pipeline.span.end + delta
    if brace is None or brace.group() != "{" or text[pipeline_end - 1:pipeline_end] != "}":
        return None  # a comment between the name and `{`
    blanked = "".join((
        _blank(text[:pipeline.span.start]), text[pipeline.span.start:brace.end()],
        _blank(text[brace.end():member.start]), located.member_text,
        _blank(text[member_end:pipeline_end - 1]), "}", _blank(text[pipeline_end:]),
    ))
    source = SourceFile.from_text(blanked, base.path)
    _, context = parse_recovering(source)
    inside = range(member.start, member_end + 1)
    if not context.error_offsets and not context.diagnostics:
        return None  # no error: a text the other ways derive, or a full analysis
    if any(offset not in inside for offset in context.error_offsets):
        return None  # recovery went past the region
    for diagnostic in context.diagnostics:
        if diagnostic.severity is not Severity.ERROR:
            return None
        for span in (diagnostic.span, *(label.span for label in diagnostic.labels)):
            if span.file != base.path or span.start not in inside or span.end not in inside:
                return None
    line_delta = located.member_text.count("\n") - base.text.count("\n", member.start, member.end)
    kept = located.module.comments
    before = [c for c in kept if c.span.end <= member.start]
    after = [ast.Comment(c.text, Span(c.span.file, c.span.line + line_delta, c.span.column,
                                      c.span.end_line + line_delta, c.span.end_column,
                                      c.span.start + delta, c.span.end + delta))
             for c in kept if c.span.start >= member.end]
    real = SourceFile(base.path, text, source._line_starts)  # the same line breaks as the blanked text
    module = ast.Module(base.path, (), (*before, *context.comments, *after), real.span(0, len(text)))
    reporter = Reporter()
    reporter.extend(context.diagnostics)
    result = LoadResult(path=base.result.path, module=module, pipelines=(), graphs={},
                        diagnostics=tuple(reporter.diagnostics), sources={base.path: real},
                        modules={base.path: module})
    loaded = time.perf_counter()
    diagnostics = lint(result, config)
    return diagnostics, {"load": loaded - started, "lint": time.perf_counter() - loaded}


_NOT_BLANK = re.compile(r"\S")
_TO_BLANK = re.compile(r"[^\n]+")


def _blank(text: str) -> str:
    """`text` with every character but the line breaks made a space: positions unchanged."""
    return _TO_BLANK.sub(lambda run: " " * len(run.group()), text)


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
