"""Positions: our spans count code points (1-based lines and columns); LSP counts
UTF-16 code units (0-based). A character outside the Basic Multilingual Plane
is one column for us and two units for LSP."""

from __future__ import annotations

import bisect
import re


def utf16_length(text: str) -> int:
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def _units(ch: str, encoding: str) -> int:
    code = ord(ch)
    if encoding == "utf-32":
        return 1
    if encoding == "utf-8":
        return 1 if code < 0x80 else 2 if code < 0x800 else 3 if code < 0x10000 else 4
    return 2 if code > 0xFFFF else 1


def encoded_length(text: str, encoding: str = "utf-16") -> int:
    if encoding == "utf-16":
        return utf16_length(text)
    if encoding == "utf-32":
        return len(text)
    return len(text.encode("utf-8", errors="surrogatepass"))


_LINE_BREAK = re.compile(r"\r\n?|\n")


class LineIndex:
    """Offsets (code points) <-> LSP (line, character) for one text. Characters
    count UTF-16 code units unless the client negotiated another encoding."""

    def __init__(self, text: str, encoding: str = "utf-16") -> None:
        self.text = text
        self.encoding = encoding
        # LSP lines end at "\r\n", "\r" or "\n", as editors count them (our spans' lines end
        # at "\n" only: positions go through offsets, never through span lines).
        starts, ends = [0], []
        if "\r" not in text:  # the common case, without a regular expression
            i = text.find("\n")
            while i != -1:
                ends.append(i)
                starts.append(i + 1)
                i = text.find("\n", i + 1)
        else:
            for found in _LINE_BREAK.finditer(text):
                ends.append(found.start())
                starts.append(found.end())
        ends.append(len(text))
        self.starts = starts
        self.ends = ends

    def position(self, offset: int) -> tuple[int, int]:
        """0-based (line, UTF-16 character) of a code-point offset."""
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self.starts, offset) - 1
        return line, encoded_length(self.text[self.starts[line]:offset], self.encoding)

    def offset(self, line: int, character: int) -> int:
        """The code-point offset of an LSP position (clamped to the line)."""
        if line < 0:
            return 0
        if line >= len(self.starts):
            return len(self.text)
        start, end = self.starts[line], self.ends[line]
        units = 0
        for index in range(start, end):
            if units >= character:
                return index
            units += _units(self.text[index], self.encoding)
        return end

    def line_text(self, line: int) -> str:
        if not 0 <= line < len(self.starts):
            return ""
        return self.text[self.starts[line]:self.ends[line]]


def column_to_utf16(line_text: str, column: int) -> int:
    """Our 1-based code-point column on `line_text` -> a 0-based UTF-16 character."""
    return utf16_length(line_text[: max(0, column - 1)])
