"""Deterministic YAML for generated files.

Documents are built as plain data (dicts in the order they should appear)
and dumped here: keys keep their insertion order, multi-line strings become
literal block scalars (`|`), and anything that could be misread (`on`, `yes`,
`1.0`, `: `) is quoted by the YAML library's rules, not by ad hoc string
building.

The output is defined as what PyYAML (libyaml's emitter) writes with the
settings of `_pyyaml_dump`. Building a 10,000-step document through PyYAML's
representer takes seconds, so `dump` writes the block layout itself and
applies libyaml's scalar rules (`_Writer`): each scalar is plain,
single-quoted or a literal block exactly when libyaml would choose that
style, with PyYAML's own resolver deciding whether a plain scalar would be
read back as something other than a string. Any scalar it cannot place with
certainty (control characters, astral characters, double quotes) is
rendered by PyYAML alone; any document shape it does not cover (aliases,
complex keys, other types, lines long enough to be folded) falls back to
PyYAML for the whole document. `tests/backends/test_yaml_writer.py` checks
the two agree.
"""

from __future__ import annotations

import re

import yaml
from yaml.resolver import Resolver

_Base = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _Dumper(_Base):  # type: ignore[misc, valid-type]
    pass


# YAML 1.1 parsers (ruamel, used by check-jsonschema) break lines at these too,
# so a block scalar holding one would be misread: such text is double-quoted.
_OTHER_LINE_BREAKS = ("\u2028", "\u2029", "\x85")


def _represent_str(dumper: yaml.SafeDumper, value: str):
    if any(c in value for c in _OTHER_LINE_BREAKS):
        # Double-quoted, where they are escapes (`\L`, `\P`, `\N`): libyaml would
        # otherwise pick single quotes and write them raw, at the start of a line
        # when they touch a break, which YAML 1.2 readers (zizmor) reject.
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"')
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_Dumper.add_representer(str, _represent_str)

_WIDTH = 100_000


def dump(document: dict, header: list[str] | None = None, *, sort_keys: bool = False) -> str:
    """`document` as YAML after the `header` comment lines; with `sort_keys`,
    the keys of every mapping in sorted order (as kfp writes its specs)."""
    return dump_all([document], header, sort_keys=sort_keys)


def dump_all(documents: list[dict], header: list[str] | None = None, *, sort_keys: bool = False) -> str:
    """Several documents in one stream: `dump` of each, the `header` before the
    first, a `---` line between two."""
    pieces: list[str] = []
    for index, document in enumerate(documents):
        if index:
            pieces.append("---\n")
        comments = "".join(f"# {line}\n" for line in (header or [])) if index == 0 else ""
        try:
            # the pieces of every document are joined once: a long stream is never copied again
            pieces += _Writer(sort_keys).pieces(document, comments)
        except _Unsupported:
            pieces += [comments, _pyyaml_dump(sorted_keys(document) if sort_keys else document)]
    return "".join(pieces)


def _pyyaml_dump(value) -> str:
    return yaml.dump(
        value,
        Dumper=_Dumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=_WIDTH,
        indent=2,
    )


def sorted_keys(value):
    """A copy with the keys of every mapping in sorted order."""
    if isinstance(value, dict):
        return {k: sorted_keys(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [sorted_keys(v) for v in value]
    return value


# ---- the fast writer ----------------------------------------------------------------------


class _Unsupported(Exception):
    """A document `_Writer` does not cover: PyYAML writes it."""


_STR_TAG = "tag:yaml.org,2002:str"
_RESOLVER = Resolver()
_LONGEST = 50_000
"""libyaml folds plain and quoted scalars past column `_WIDTH`: longer
one-line scalars are left to PyYAML. (Indentation cannot make up the rest:
Python's recursion limit stops nesting long before.)"""
_SIMPLE_KEY_BYTES = 128
"""libyaml writes a longer key as a complex key (`? key`)."""
_BREAKS = re.compile("[\n\r\x85\u2028\u2029]")
# Characters libyaml does not consider printable (it then double-quotes the
# scalar, with escapes). Of the breaks, `\n`, `\u2028` and `\u2029` are
# printable to it; `_BREAKS` keeps the last two off the one-line path.
_SPECIAL = re.compile("[^\n\x20-\x7e\xa0-\ud7ff\ue000-\ufefe\uff00-\ufffd]")
_NOT_IN_BLOCK = re.compile("[^\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd]")
"""`_SPECIAL` and the other line breaks (`_OTHER_LINE_BREAKS`): text holding
one is not written as a literal block."""
_INDICATORS = frozenset("#,[]{}&*!|>'\"%@`")
"""Characters that cannot start a plain scalar."""
# Most strings: printable ASCII without `:` or `#`, starting with a letter,
# `_`, `/` or `$` and not ending with a blank. libyaml writes them plain
# unless PyYAML's resolver would read them back as something else, which it
# can only do for first characters in `_RESOLVABLE` (booleans, null).
_SIMPLE = re.compile(r"[A-Za-z_/$](?:[^\x00-\x1f\x7f-\U0010ffff:#]*[^\x00-\x20\x7f-\U0010ffff:#])?")
_RESOLVABLE = frozenset("yYnNtTfFoO~")
_SIMPLE_START = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_/$")


def _is_simple(text: str) -> bool:
    """`_SIMPLE.fullmatch(text)`, with string methods (most strings of a
    document are simple and seen once: this is faster)."""
    return (text[:1] in _SIMPLE_START and text.isascii() and text.isprintable() and text[-1] != " "
            and ":" not in text and "#" not in text)


def _plain_text(text: str) -> str:
    """A one-line string holding no break and no special character, as
    libyaml writes it in block context: plain when allowed and read back as
    a string, otherwise single-quoted."""
    if (text[0] in _INDICATORS or text[0] == " " or text[-1] == " " or text[-1] == ":"
            or ": " in text or " #" in text
            or (text[0] in "-?:" and (len(text) == 1 or text[1] == " "))
            or text.startswith(("---", "..."))
            or _RESOLVER.resolve(yaml.ScalarNode, text, (True, False)) != _STR_TAG):
        return "'" + text.replace("'", "''") + "'"
    return text


def _one_line(value: str) -> str | None:
    """A string as libyaml writes it on one line in block context; None when
    it is a literal block scalar."""
    if "\n" in value and _NOT_IN_BLOCK.search(value) is None and value[-1] != " " and " \n" not in value:
        return None  # a literal block scalar (never folded, whatever its length)
    if len(value) > _LONGEST:
        raise _Unsupported
    if not value:
        return "''"
    if _is_simple(value) and value[0] not in _RESOLVABLE:
        return value
    if _BREAKS.search(value) is None:
        return _alone(value) if _SPECIAL.search(value) else _plain_text(value)
    return _alone(value)


def _alone(value) -> str:
    """A scalar as PyYAML writes it, when that is one line in any block
    context (double-quoted text, an unusual float)."""
    text = _pyyaml_dump([value])
    if not text.startswith("- ") or _BREAKS.search(text, 0, len(text) - 1) or len(text) > _LONGEST:
        raise _Unsupported
    return text[2:-1]


def block_lines(value: str, indent: str) -> str:
    """The lines of a literal block scalar's `value` (its last line break
    dropped), each after `indent` and ending with a break; empty lines stay
    empty."""
    if "\n\n" in value or value.startswith("\n"):
        parts = value.split("\n")
        if value.endswith("\n"):
            parts.pop()
        return "".join(f"{indent}{part}\n" if part else "\n" for part in parts)
    # no empty line: indent after every break at once
    body = indent + value.replace("\n", "\n" + indent)
    return body[:len(body) - len(indent)] if value.endswith("\n") else body + "\n"


_MISSING = object()


class _Writer:
    def __init__(self, sort_keys: bool = False) -> None:
        self.sort_keys = sort_keys
        """Sorted keys; no aliases either, as for a sorted copy of the document."""
        self.out: list[str] = []
        self.texts: dict[str, str | None] = {}
        """One-line rendering of each string seen (None: a literal block)."""
        self.keys: dict[str, str] = {}
        self.floats: dict[str, str] = {}
        self.blocks: dict[tuple[str, str], str] = {}
        """The indented lines of each literal block scalar, by text and indentation."""
        self.open_ended = False
        self.containers: list[int] = []
        """`id` of every mapping and sequence written: PyYAML writes a
        container met twice as an anchor and an alias."""

    def document(self, document, comments: str = "") -> str:
        """`document` as YAML after the `comments` lines."""
        return "".join(self.pieces(document, comments))

    def pieces(self, document, comments: str = "") -> list[str]:
        """`document` as YAML after the `comments` lines, in pieces to join."""
        if type(document) is not dict:
            raise _Unsupported
        if not document:
            return [comments, "{}\n"]
        self.out.append(comments)
        self.blocks_of(document)
        if not self.sort_keys and len(set(self.containers)) != len(self.containers):
            raise _Unsupported
        if self.open_ended:
            self.out.append("...\n")
        return self.out

    def text(self, value: str) -> str | None:
        """The one-line rendering of a string; None when it is a literal block."""
        rendered = self.texts.get(value, _MISSING)
        if rendered is _MISSING:
            rendered = self.texts[value] = _one_line(value)
        return rendered

    def scalar(self, value) -> str | None:
        kind = type(value)
        if kind is str:
            return self.text(value)
        if value is None:
            return "null"
        if kind is bool:
            return "true" if value else "false"
        if kind is int:
            return str(value)
        if kind is float:
            spelled = repr(value)  # not the value as key: 0.0 == -0.0
            rendered = self.floats.get(spelled)
            if rendered is None:
                rendered = self.floats[spelled] = _alone(value)
            return rendered
        raise _Unsupported

    def key(self, key) -> str:
        rendered = self.keys.get(key)  # type: ignore[arg-type]
        if rendered is None:
            if type(key) is not str:
                raise _Unsupported
            if len(key) <= _SIMPLE_KEY_BYTES and _is_simple(key) and key[0] not in _RESOLVABLE:
                rendered = key  # the common case: ASCII (a byte per character), plain, as `text` writes it
            elif _BREAKS.search(key) or len(key.encode("utf-8", "surrogatepass")) > _SIMPLE_KEY_BYTES:
                raise _Unsupported
            else:
                rendered = self.text(key)
            self.keys[key] = rendered  # type: ignore[assignment]
        return rendered  # type: ignore[return-value]

    def literal(self, start: str, value: str, pad: str) -> None:
        """`start` then `value` as a literal block scalar indented under it."""
        header = "|"
        if value[0] in " \n":
            header += "2"
        if not value.endswith("\n"):
            header += "-"
        # keep chomping (`|+`): as libyaml, end the document with `...` when
        # the last block scalar written keeps its final line breaks
        self.open_ended = len(value) == 1 or value.endswith("\n\n")
        if self.open_ended:
            header += "+"
        body = self.blocks.get((value, pad))
        if body is None:
            body = self.blocks[(value, pad)] = block_lines(value, pad + "  ")
        self.out.append(f"{start} {header}\n{body}")

    def blocks_of(self, document: dict) -> None:
        """Write `document` as nested block mappings and sequences.

        `write_mapping` and `write_sequence` are the hot loops, run once per container
        of a document of up to millions of lines: they are closures over the
        output and the memos rather than methods, so that a call reads no
        attribute. Strings (most values) are looked up in the memo inline,
        everything else goes through `scalar`."""
        append = self.out.append
        texts, keys = self.texts, self.keys
        text, key_text, literal, scalar = self.text, self.key, self.literal, self.scalar
        sort_keys = self.sort_keys
        track = not sort_keys  # sorted, the document is written as a copy: no aliases to find
        note = self.containers.append

        def write_empty(container: dict | list, line: str) -> None:
            """An empty mapping or sequence, written inline on its `line`."""
            if track:
                note(id(container))
            append(line)

        def write_mapping(mapping: dict, pad: str, lead: str) -> None:
            """A block mapping: the first key after `lead`, the others after `pad`."""
            if track:
                note(id(mapping))
            inner = pad + "  "
            for key in sorted(mapping) if sort_keys and len(mapping) > 1 else mapping:
                value = mapping[key]
                rendered_key = keys.get(key) if type(key) is str else None
                if rendered_key is None:
                    rendered_key = key_text(key)
                kind = type(value)
                if kind is str:
                    rendered = texts.get(value, _MISSING)
                    if rendered is _MISSING:
                        rendered = text(value)
                    if rendered is None:
                        literal(f"{lead}{rendered_key}:", value, pad)
                    else:
                        append(f"{lead}{rendered_key}: {rendered}\n")
                elif kind is dict:
                    if value:
                        append(f"{lead}{rendered_key}:\n")
                        write_mapping(value, inner, inner)
                    else:
                        write_empty(value, f"{lead}{rendered_key}: {{}}\n")
                elif kind is list:
                    if value:
                        append(f"{lead}{rendered_key}:\n")
                        write_sequence(value, pad, pad)  # indentless, as PyYAML writes it
                    else:
                        write_empty(value, f"{lead}{rendered_key}: []\n")
                else:
                    append(f"{lead}{rendered_key}: {scalar(value)}\n")
                lead = pad

        def write_sequence(sequence: list, pad: str, lead: str) -> None:
            """A block sequence: the first dash after `lead`, the others after `pad`."""
            if track:
                note(id(sequence))
            inner = pad + "  "
            for value in sequence:
                kind = type(value)
                if kind is str:  # as in write_mapping, inline: the hot path makes no call per cached string
                    rendered = texts.get(value, _MISSING)
                    if rendered is _MISSING:
                        rendered = text(value)
                    if rendered is None:
                        literal(lead + "-", value, pad)
                    else:
                        append(f"{lead}- {rendered}\n")
                elif kind is dict:
                    if value:
                        write_mapping(value, inner, lead + "- ")
                    else:
                        write_empty(value, lead + "- {}\n")
                elif kind is list:
                    if value:
                        write_sequence(value, inner, lead + "- ")
                    else:
                        write_empty(value, lead + "- []\n")
                else:
                    append(f"{lead}- {scalar(value)}\n")
                lead = pad

        write_mapping(document, "", "")
