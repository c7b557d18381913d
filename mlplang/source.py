"""Source text and positions: the one place that maps offsets to lines and columns.

Every stage after reading refers to user text through a `Span`, so a diagnostic
raised by a rule or a backend can always point at the exact characters.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple


class Span(NamedTuple):
    """A range of a source file. Lines and columns are 1-based; `end_column`
    is exclusive; offsets are 0-based character offsets into the text.

    A named tuple, not a frozen dataclass: the parser makes one per token and
    node, and a tuple is three times cheaper to build. Immutable, hashable,
    ordered by position."""

    file: str
    line: int
    column: int
    end_line: int
    end_column: int
    start: int
    end: int

    def to(self, other: Span) -> Span:
        """The span from the start of `self` to the end of `other`."""
        return _new_span(Span, (self[0], self[1], self[2], other[3], other[4], self[5], other[6]))

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


_new_span = tuple.__new__


@dataclass(frozen=True, slots=True)
class SourceFile:
    """A decoded source file with a line index for offset -> position lookups."""

    path: str
    text: str
    _line_starts: tuple[int, ...] = field(default=(), repr=False, compare=False)

    @classmethod
    def from_text(cls, text: str, path: str = "<string>") -> SourceFile:
        starts = [0]
        find = text.find
        i = find("\n")
        while i != -1:
            starts.append(i + 1)
            i = find("\n", i + 1)
        return cls(path, text, tuple(starts))

    @property
    def line_count(self) -> int:
        return len(self._line_starts)

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of a character offset (clamped to the text)."""
        if not 0 <= offset <= len(self.text):
            offset = max(0, min(offset, len(self.text)))
        starts = self._line_starts
        line = bisect_right(starts, offset)
        return line, offset - starts[line - 1] + 1

    def span(self, start: int, end: int) -> Span:
        if not 0 <= start <= end <= len(self.text):  # hot path: spans of tokens and parts are in range
            start = max(0, min(start, len(self.text)))
            end = max(start, min(end, len(self.text)))
        starts = self._line_starts
        line = bisect_right(starts, start)
        end_line = bisect_right(starts, end, line - 1)
        return Span(self.path, line, start - starts[line - 1] + 1, end_line, end - starts[end_line - 1] + 1,
                    start, end)

    def line_text(self, line: int) -> str:
        """The text of a 1-based line without its newline ('' when out of range)."""
        if not 1 <= line <= len(self._line_starts):
            return ""
        start = self._line_starts[line - 1]
        end = self._line_starts[line] - 1 if line < len(self._line_starts) else len(self.text)
        return self.text[start:end].rstrip("\r")


def display_path(path: str | Path) -> str:
    """Paths as users typed them, with forward slashes for stable output."""
    return str(path).replace("\\", "/")
