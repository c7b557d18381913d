"""Python source text for values: the only way a value reaches a generated DAG file.

Every string, number, list and map taken from a `.mlp` file is rendered here
as a Python literal that evaluates to exactly that value, whatever characters
it holds (quotes, backslashes, newlines, `{{ }}`, NUL, bidi controls, lone
surrogates): nothing a user writes can end a literal and become code. Names
that become code - keyword arguments, called functions - are validated
identifiers, never user text.

The text follows `ruff format` (and black): double quotes unless single quotes
need fewer escapes, 4-space indents, lines within 88 columns where the value
allows it; a construct that does not fit is exploded one item per line with a
trailing comma, which the formatters keep as it is. So a generated file is
already formatted: `ruff format --check` finds nothing to change.
"""

from __future__ import annotations

import functools
import keyword
import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

LINE_WIDTH = 88
INDENT = "    "

_DOTTED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")
_SHORT_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def identifier(name: str) -> str:
    """`name` if it is a plain ASCII Python identifier that is not a keyword."""
    if not (isinstance(name, str) and _is_identifier(name)):
        raise ValueError(f"not a Python identifier: {name!r}")
    return name


def dotted_name(name: str) -> str:
    """`name` if it is identifiers joined by dots (`k8s.V1EnvVar`)."""
    if not (isinstance(name, str) and _is_dotted_name(name)):
        raise ValueError(f"not a dotted Python name: {name!r}")
    return name


# Every call of a Dag file checks its function's and keywords' names: the
# few names the backend uses are checked once.

@functools.lru_cache(maxsize=1024)
def _is_identifier(name: str) -> bool:
    return name.isascii() and name.isidentifier() and not keyword.iskeyword(name)


@functools.lru_cache(maxsize=1024)
def _is_dotted_name(name: str) -> bool:
    return bool(_DOTTED.fullmatch(name)) and not any(keyword.iskeyword(p) for p in name.split("."))


def _escape(char: str) -> str:
    if char in _SHORT_ESCAPES:
        return _SHORT_ESCAPES[char]
    if char.isprintable() and not 0xD800 <= ord(char) <= 0xDFFF:
        return char
    # Controls, separators, format characters (bidi overrides), unassigned
    # code points and lone surrogates: escaped, so the file is plain UTF-8 and
    # its lines are the lines Python sees.
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


class _EscapeTable(dict):
    """`str.translate` table applying `_escape` to every character, filled on
    first use of each character (escapes never hold a quote character, so the
    quote is escaped afterwards with a plain replace)."""

    def __missing__(self, code: int) -> str:
        value = self[code] = _escape(chr(code))
        return value


_ESCAPES = _EscapeTable()


def string(text: str) -> str:
    """A one-line Python string literal whose value is `text`.

    Double-quoted unless the text holds more `"` than `'` (the quote choice
    of black and ruff, so the formatters leave it alone)."""
    if not isinstance(text, str):
        raise TypeError(f"not a string: {text!r}")
    if text.isascii() and text.isprintable() and '"' not in text and "\\" not in text:
        return '"' + text + '"'  # the most common case: nothing to escape
    quote = "'" if text.count('"') > text.count("'") else '"'
    if text.isascii() and text.isprintable():  # the common case: only `\` and the quote to escape
        body = text.replace("\\", "\\\\")
    else:
        body = text.translate(_ESCAPES)
    return quote + body.replace(quote, "\\" + quote) + quote


def number(value: int | float) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"not a number: {value!r}")
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return 'float("nan")'
    if math.isinf(value):
        return 'float("inf")' if value > 0 else '-float("inf")'
    return repr(value).replace("e+", "e")  # `1e100`, as the formatters write it


def comment(text: str) -> str:
    """`text` for a `#` comment: one line, controls escaped as in a literal."""
    return "".join(_escape(c) if c != "\\" else c for c in text)


@dataclass(frozen=True)
class Name:
    """A name used as code (a class, a module attribute, `None`); validated."""

    name: str

    def __post_init__(self) -> None:
        if self.name not in ("None", "True", "False"):
            dotted_name(self.name)


@dataclass(frozen=True)
class Call:
    """`function(args..., key=value...)`: a call whose arguments are values."""

    function: str
    args: tuple = ()
    kwargs: tuple[tuple[str, object], ...] = ()

    def __post_init__(self) -> None:
        dotted_name(self.function)
        for key, _ in self.kwargs:
            identifier(key)


def call(function: str, *args, **kwargs) -> Call:
    """A Call; keyword arguments whose value is None are left out."""
    return Call(function, args, tuple([(k, v) for k, v in kwargs.items() if v is not None]))


def width(text: str) -> int:
    """Columns `text` takes, as ruff counts them (wide East Asian characters
    count 2, combining marks 0)."""
    if text.isascii():  # no wide or combining character
        return len(text)
    total = 0
    for char in text:
        if unicodedata.combining(char):
            continue
        total += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return total


def inline(value) -> str:
    """`value` as one line of Python."""
    return _inline(value, {})


def _inline(value, memo: dict) -> str:
    """`inline`, remembering the text of every part of `value`: `lines` asks
    again for each part it explodes, and would otherwise render a value once
    per enclosing level. A string's literal is remembered by its text (equal
    strings are frequent), another part's text by its `id`, with the part."""
    if type(value) is str:
        literal = memo.get(value)
        if literal is None:
            literal = memo[value] = string(value)
        return literal
    key = id(value)
    known = memo.get(key)
    if known is None:
        # the value is kept with its text: an `id` is unique only while its object lives
        known = memo[key] = (value, _inline_once(value, memo))
    return known[1]


def _inline_once(value, memo: dict[int, tuple]) -> str:
    kind = type(value)  # the common exact types first: ABC checks are slow
    if kind is str:
        return string(value)
    if kind is Call:
        parts = [_inline(a, memo) for a in value.args] + [f"{k}={_inline(v, memo)}" for k, v in value.kwargs]
        return f"{value.function}({', '.join(parts)})"
    if kind is dict:
        return "{" + ", ".join([f"{_key(k, memo)}: {_inline(v, memo)}" for k, v in value.items()]) + "}"
    if kind is list or kind is tuple:
        return "[" + ", ".join([_inline(v, memo) for v in value]) + "]"
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, int | float):
        return number(value)
    if isinstance(value, str):
        return string(value)
    if isinstance(value, Name):
        return value.name
    if isinstance(value, Call):
        parts = [_inline(a, memo) for a in value.args] + [f"{k}={_inline(v, memo)}" for k, v in value.kwargs]
        return f"{value.function}({', '.join(parts)})"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_key(k, memo)}: {_inline(v, memo)}" for k, v in value.items()) + "}"
    if isinstance(value, Sequence):
        return "[" + ", ".join(_inline(v, memo) for v in value) + "]"
    raise TypeError(f"no Python literal for {type(value).__name__}: {value!r}")


def _key(key, memo: dict) -> str:
    if type(key) is not str and (not isinstance(key, str | int | float | bool) or key is None):
        raise TypeError(f"unsupported dict key: {key!r}")
    return _inline(key, memo)


def _fits(indent: int, text: str) -> bool:
    return len(INDENT) * indent + width(text) <= LINE_WIDTH


def lines(value, indent: int = 0, prefix: str = "", suffix: str = "") -> list[str]:
    """`prefix + value + suffix` as indented lines: on one line when it fits,
    otherwise exploded like ruff format does it (and keeps it)."""
    return _lines(value, indent, prefix, suffix, {})


def _lines(value, indent: int, prefix: str, suffix: str, memo: dict) -> list[str]:
    pad = INDENT * indent
    line = prefix + _inline(value, memo) + suffix
    if _fits(indent, line):
        return [pad + line]
    if isinstance(value, str):
        return _string_lines(value, indent, prefix, suffix, memo)
    parts = _parts(value, memo)
    if parts is None or not parts[2]:  # a long number or name, an empty container: nothing to split
        return [pad + line]
    opening, closing, items = parts
    result = [pad + prefix + opening]
    inner, room = pad + INDENT, LINE_WIDTH - len(INDENT) * (indent + 1)
    for item_prefix, item in items:
        item_line = item_prefix + _inline(item, memo) + ","
        if width(item_line) <= room:  # most items fit on their line: no call to `_lines`
            result.append(inner + item_line)
        else:
            result += _lines(item, indent + 1, item_prefix, ",", memo)
    result.append(pad + closing + suffix)
    return result


def _parts(value, memo: dict) -> tuple[str, str, list[tuple[str, object]]] | None:
    """The brackets of a call, dict or list, and its items after their prefixes
    (`key=`, `"key": `); None for a value without items."""
    kind = type(value)  # the common exact types first: ABC checks are slow
    if kind is Call or isinstance(value, Call):
        items = [("", a) for a in value.args] + [(f"{k}=", v) for k, v in value.kwargs]
        return f"{value.function}(", ")", items
    if kind is dict or isinstance(value, Mapping):
        return "{", "}", [(f"{_key(k, memo)}: ", v) for k, v in value.items()]
    if kind is list or kind is tuple or isinstance(value, Sequence):
        return "[", "]", [("", v) for v in value]
    return None


def _string_lines(text: str, indent: int, prefix: str, suffix: str, memo: dict) -> list[str]:
    """A string too long for its line. Without a newline it stays one literal
    (formatters never split strings); otherwise it goes in parentheses, as one
    literal if that fits there, else as one literal per line of the text."""
    pad = INDENT * indent
    literal = _inline(text, memo)
    if "\n" not in text:
        return [pad + prefix + literal + suffix]
    if _fits(indent + 1, literal):
        return [pad + prefix + "(", pad + INDENT + literal, pad + ")" + suffix]
    # str.splitlines also breaks at \r, \v, \f, \x1c-\x1e, \x85, \u2028, \u2029:
    # only a \n ends a part, so each part is a line of the shell text.
    parts = [p for p in re.split(r"(?<=\n)", text) if p]
    return [pad + prefix + "(", *(pad + INDENT + string(p) for p in parts), pad + ")" + suffix]


def render(value, indent: int = 0, prefix: str = "", suffix: str = "") -> str:
    """`lines(...)` joined: the text to place at the start of a line."""
    return "\n".join(lines(value, indent, prefix, suffix))
