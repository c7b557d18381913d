"""Diagnostics of an edited document without a new analysis, when that is exactly right.

Two cases only, each answering exactly what a full analysis of the new text
would (the LSP tests compare both on random edits):

* the text is the analysed one (an undo back to it, a re-open, a save);
* the only change lies inside one `#` comment of a file that parsed without a
  syntax error, adds or removes no line break, and neither the comment before
  nor after it can be a suppression (it does not mention `mlp`). A comment runs
  from `#` to the end of its line and is read by nothing but the suppressions,
  so the tokens, syntax tree, IR and findings are those of the analysed text;
  only offsets after the comment move (lines, and columns outside that comment,
  do not), and no diagnostic may touch the comment itself.

Both also require that nothing else an analysis reads has changed: the lint
configuration and the files of the imported modules (size and modification time;
an unresolved import is never reused, since the file may have appeared).
"""

from __future__ import annotations

import bisect
import os
import re
from dataclasses import dataclass

from mlplang.config import LintConfig
from mlplang.diagnostics.model import Diagnostic, Label
from mlplang.lsp.analysis import Analysis, display_to_path
from mlplang.source import Span

SYNTAX_CODES = "MLP0"  # MLP0xx: reading and syntax; the fast parse stopped, comments may be partial
IMPORT_NOT_FOUND = "MLP109"
LINE_BREAKS = re.compile(r"[\r\n]")
MAY_SUPPRESS = re.compile(r"mlp", re.IGNORECASE)  # a superset of the `# mlp: ignore[...]` syntax
_CHUNK = 4096


@dataclass(frozen=True)
class Edit:
    """The changed region: `old[start:old_end]` became `new[start:new_end]`."""

    start: int
    old_end: int
    new_end: int

    @property
    def delta(self) -> int:
        return self.new_end - self.old_end


@dataclass(frozen=True)
class EditMap:
    """Positions of an analysed text and of the text one edit made of it: a request can be
    answered from an earlier analysis where the edit changed nothing it reads."""

    edit: Edit

    def to_analysed(self, offset: int) -> int:
        """An offset of the current text in the analysed one (inside the edit: where it starts)."""
        edit = self.edit
        if offset <= edit.start:
            return offset
        return offset - edit.delta if offset >= edit.new_end else edit.start

    def to_current(self, span: Span) -> Span:
        """A span of the analysed text in the current one, by offsets (what `to_range` reads):
        an end inside the edited region stays where the region starts."""
        edit = self.edit

        def moved(offset: int) -> int:
            if offset <= edit.start:
                return offset
            return offset + edit.delta if offset >= edit.old_end else edit.start

        start, end = moved(span.start), moved(span.end)
        return span if (start, end) == (span.start, span.end) else span._replace(start=start, end=end)

    def touches(self, span: Span) -> bool:
        """Whether the edit may have changed the text of `span` (it overlaps or adjoins it)."""
        edit = self.edit
        changed = not edit.start == edit.old_end == edit.new_end
        return changed and not (span.end < edit.start or span.start > edit.old_end)


NO_EDIT = EditMap(Edit(0, 0, 0))  # the analysed text is the current one


def difference(old: str, new: str) -> Edit:
    """The smallest single region in which `old` and `new` differ (empty if they are equal)."""
    limit = min(len(old), len(new))
    start = 0
    while start < limit:  # whole chunks compare in C; only the differing one is scanned
        step = min(_CHUNK, limit - start)
        if old[start:start + step] == new[start:start + step]:
            start += step
            continue
        while old[start] == new[start]:
            start += 1
        break
    tail = 0
    room = limit - start  # the common suffix may not overlap the common prefix
    while tail < room:
        step = min(_CHUNK, room - tail)
        if old[len(old) - tail - step:len(old) - tail] == new[len(new) - tail - step:len(new) - tail]:
            tail += step
            continue
        while old[len(old) - tail - 1] == new[len(new) - tail - 1]:
            tail += 1
        break
    return Edit(start, len(old) - tail, len(new) - tail)


def dependencies(analysis: Analysis) -> tuple:
    """What an analysis read besides its text: the imported files (size, mtime) on disk."""
    stamps = []
    for display in sorted(analysis.result.sources):
        if display == analysis.path or display.startswith("std/"):
            continue
        path = display_to_path(display, analysis.real_path)
        try:
            stat = os.stat(path) if path is not None else None
        except OSError:
            stat = None
        stamps.append((display, (stat.st_size, stat.st_mtime_ns) if stat else None))
    return tuple(stamps)


def has_syntax_errors(analysis: Analysis) -> bool:
    """Whether reading or parsing the text reported anything (its tree is a recovery's)."""
    return any(d.code.startswith(SYNTAX_CODES) for d in analysis.result.diagnostics)


def derivable(base: Analysis, base_dependencies: tuple, config: LintConfig) -> bool:
    """Whether everything `base` read besides its text is unchanged."""
    return (config == base.config
            and not any(d.code == IMPORT_NOT_FOUND for d in base.result.diagnostics)
            and dependencies(base) == base_dependencies)


def reuse(base: Analysis, base_dependencies: tuple, text: str, config: LintConfig) -> list[Diagnostic] | None:
    """The diagnostics of `text` derived from `base`, or None when only a full analysis can tell."""
    if not derivable(base, base_dependencies, config):
        return None
    edit = difference(base.text, text)
    if edit.start == edit.old_end == edit.new_end:
        return list(base.diagnostics)
    return _comment_edit(base, text, edit)


def _comment_edit(base: Analysis, text: str, edit: Edit) -> list[Diagnostic] | None:
    module = base.result.module
    if module is None or has_syntax_errors(base):
        return None
    comments = [c for c in module.comments if c.span.file == base.path]
    index = bisect.bisect_left([c.span.start for c in comments], edit.start) - 1
    if index < 0:
        return None
    comment = comments[index].span
    # Strictly after the `#`, and within the comment (which ends at the line break or the end of the text).
    if not comment.start < edit.start or edit.old_end > comment.end:
        return None
    if LINE_BREAKS.search(base.text, edit.start, edit.old_end) or LINE_BREAKS.search(text, edit.start, edit.new_end):
        return None
    new_comment_end = comment.end + edit.delta
    if MAY_SUPPRESS.search(base.text, comment.start, comment.end) or \
            MAY_SUPPRESS.search(text, comment.start, new_comment_end):
        return None
    shifted = []
    for diagnostic in base.diagnostics:
        span = _shift(diagnostic.span, base.path, comment, edit.delta)
        if span is None:
            return None
        labels = []
        for label in diagnostic.labels:
            label_span = _shift(label.span, base.path, comment, edit.delta)
            if label_span is None:
                return None
            labels.append(label if label_span is label.span else Label(span=label_span, message=label.message))
        if span is not diagnostic.span or any(a is not b for a, b in zip(labels, diagnostic.labels)):
            diagnostic = diagnostic.model_copy(update={"span": span, "labels": tuple(labels)})
        shifted.append(diagnostic)
    return shifted


def _shift(span: Span, path: str, comment: Span, delta: int) -> Span | None:
    """`span` in the edited text; None if it touches the comment (its text, or where it ends, changed)."""
    if span.file != path or span.end <= comment.start:
        return span
    if comment.start < span.start <= comment.end or comment.start < span.end <= comment.end:
        return None
    # Starts before the comment or after it, ends after it: on other lines, or (the start) before it.
    start = span.start + delta if span.start > comment.end else span.start
    return Span(span.file, span.line, span.column, span.end_line, span.end_column, start, span.end + delta)
