"""`mlp fmt`: one canonical layout for `.mlp` files.

The formatter prints the syntax tree again; it never re-escapes: strings,
numbers, durations and sizes are copied from the source text through their
spans, so what a value means cannot change. Comments are not in the tree's
items, so they are placed by position: a comment before an item leads it (own
line, same indentation), a comment after an item on the same source line
trails it. A trailing comment of an item written on one line stays on the
first printed line of that item, so `# mlp: ignore[...]` on a block's first
line keeps applying to the block. Every comment is printed exactly once.

Layout decisions (documented in docs/language.md, "Formatting"):
2-space indentation, one item per line, `name = value` without alignment,
lists/maps/blocks/argument lists inline when the line fits in 100 columns and
holds no comment, else one item per line with a trailing comma.
"""

from __future__ import annotations

import re

from mlplang.diagnostics.model import Diagnostic, has_errors
from mlplang.dsl import ast
from mlplang.dsl.parser import parse_text

__all__ = ["MAX_WIDTH", "FormatError", "format_text"]

MAX_WIDTH = 100
INDENT = "  "
_SEPARATORS = " \t\r\n\f,;"
_PRECEDENCE = {"or": 1, "and": 2}
_DECLARATION = re.compile(r"(param|secret|source|step|gate|monitor) +[A-Za-z_]")


class FormatError(Exception):
    """The text does not parse; `diagnostics` holds the syntax errors."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = diagnostics
        first = diagnostics[0].message if diagnostics else "syntax error"
        super().__init__(f"cannot format a file with syntax errors: {first}")


def format_text(text: str, path: str = "<string>") -> str:
    """The canonical layout of `text`. Raises FormatError if it does not parse."""
    text = text.removeprefix("\ufeff")  # a byte-order mark is ignored by the language; not kept
    module, diagnostics = parse_text(text, path)
    if has_errors(diagnostics):
        raise FormatError([d for d in diagnostics])
    return _Printer(text, module.comments).module(module)


def _multiline(lines: list[str]) -> bool:
    """Whether an item printed as `lines` takes several lines (comments hoisted
    out of it do not count, so the answer is the same on the next run)."""
    real = [line for line in "\n".join(lines).split("\n") if not line.lstrip().startswith("#")]
    return len(real) > 1


def _is_import(lines: list[str]) -> bool:
    return "\n".join(lines).split("\n")[-1].startswith("import ")


def _is_gap(text: str) -> bool:
    return all(c in _SEPARATORS for c in text)


class _Printer:
    def __init__(self, text: str, comments: tuple[ast.Comment, ...]) -> None:
        self.text = text
        self.comments = sorted(comments, key=lambda c: c.span.start)
        self.next = 0  # index of the first comment not printed yet

    # ---- comments -----------------------------------------------------------

    def _pending(self) -> ast.Comment | None:
        return self.comments[self.next] if self.next < len(self.comments) else None

    def _has_comment_before(self, offset: int) -> bool:
        c = self._pending()
        return c is not None and c.span.start < offset

    def _blank_before(self, prev_end: int | None, start: int) -> bool:
        """Whether the user left a blank line between `prev_end` and `start`."""
        if prev_end is None:
            return False
        gap = self.text[prev_end:start]
        lines = gap.split("\n")
        return any(line.strip(" \t\r\f,;") == "" for line in lines[1:-1])

    def _leading(self, before: int, indent: str, out: list[str], prev_end: int | None) -> int | None:
        """Print comments that start before `before` on their own lines; returns
        the end offset of the last one (for blank-line detection)."""
        while self._has_comment_before(before):
            comment = self.comments[self.next]
            self.next += 1
            if out and self._blank_before(prev_end, comment.span.start):
                out.append("")
            out.append(indent + comment.text.rstrip())
            prev_end = comment.span.end
        return prev_end

    def _trailing(self, end: int, line: int) -> str:
        """A comment right after offset `end` on source line `line`, or ''."""
        c = self._pending()
        if c is None or c.span.line != line or c.span.start < end:
            return ""
        if not _is_gap(self.text[end:c.span.start]):
            return ""
        self.next += 1
        return "  " + c.text.rstrip()

    def _inner_has_comment(self, span) -> bool:
        c = self._pending()
        return c is not None and c.span.start < span.end

    def _attach(self, lines: list[str], node_span, indent: str) -> list[str]:
        """Add the trailing comment of a node printed as `lines`."""
        trailing = self._trailing(node_span.end, node_span.end_line)
        if trailing:
            if len(lines) > 1 and node_span.line == node_span.end_line:
                lines[0] += trailing  # keep it on the item's first line (suppressions)
            else:
                lines[-1] += trailing
        return lines

    # ---- sequences of items -------------------------------------------------

    def _items(self, items, indent: str, render, end: int, separate=None) -> list[str]:
        """Items one per line, each with its comments; then the comments left
        before `end` (the container's closing offset)."""
        out: list[str] = []
        prev_end: int | None = None
        prev_lines: list[str] | None = None
        for item in items:
            group: list[str] = []
            blank = self._blank_before(prev_end, item.span.start) if prev_end is not None else False
            c = self._pending()
            if c is not None and c.span.start < item.span.start and prev_end is not None:
                blank = self._blank_before(prev_end, c.span.start)
            last = self._leading(item.span.start, indent, group, prev_end)
            if group and self._blank_before(last, item.span.start):
                group.append("")
            lines = render(item, indent)
            lines = self._attach(lines, item.span, indent)
            group.extend(lines)
            if prev_lines is not None:
                forced = separate(prev_lines, lines) if separate else False
                if blank or forced:
                    out.append("")
            out.extend(group)
            prev_end, prev_lines = item.span.end, lines
        tail: list[str] = []
        if self._has_comment_before(end):
            c = self._pending()
            if prev_end is not None and self._blank_before(prev_end, c.span.start):
                tail.append("")
            self._leading(end, indent, tail, c.span.start)
        return out + tail

    # ---- top level ----------------------------------------------------------

    def module(self, module: ast.Module) -> str:
        lines = self._items(module.items, "", self._top, len(self.text) + 1,
                            separate=lambda a, b: not (_is_import(a) and _is_import(b)))
        # Comments after the last item (or in an empty file) were printed by _items.
        while lines and lines[0] == "":
            lines.pop(0)
        return "\n".join(lines) + "\n" if lines else ""

    def _top(self, item, indent: str) -> list[str]:
        if isinstance(item, ast.ImportDecl):
            return [self._inline_atomic(item.span, indent) + self._import(item)]
        if isinstance(item, ast.PipelineDecl):
            head = f"{indent}pipeline {item.name.value} {{"
            return self._braced(head, item.members, indent, item.span, self._member, item.name.span.end,
                                separate=self._separate_members)
        return self._template(item, indent)

    @staticmethod
    def _separate_members(a: list[str], b: list[str]) -> bool:
        """A blank line around a declaration printed on several lines (attributes,
        even long ones, keep the user's blank lines)."""

        def declaration(lines: list[str]) -> bool:
            first = next(line for line in "\n".join(lines).split("\n") if not line.lstrip().startswith("#"))
            return _DECLARATION.match(first.lstrip()) is not None

        return (declaration(a) and _multiline(a)) or (declaration(b) and _multiline(b))

    def _import(self, item: ast.ImportDecl) -> str:
        text = f"import {self._source(item.path.span)}"
        return text + (f" as {item.alias.value}" if item.alias else "")

    def _template(self, item: ast.TemplateDecl, indent: str) -> list[str]:
        params = item.params
        close = self._close_paren(item.params[-1].span.end if params else item.name.span.end)
        rendered = self._call_list(f"{indent}template {item.name.value}", params, indent, self._tparam, close)
        return self._braced_after(rendered, item.body, indent, item.span, self._body_item, close + 1)

    def _tparam(self, p: ast.TemplateParam, indent: str) -> list[str]:
        head = f"{indent}{p.name.value}: {self._type(p.type)}"
        if p.default is None:
            return [self._prefix(p.span, indent, head)]
        return self._assign(head, p.default, indent, p.span)

    # ---- pipelines ----------------------------------------------------------

    def _member(self, m, indent: str) -> list[str]:
        if isinstance(m, ast.Attribute):
            return self._attribute(m, indent)
        if isinstance(m, ast.ParamDecl):
            head = f"{indent}param {m.name.value}: {m.type.value}"
            if m.default is None:
                return [self._prefix(m.span, indent, head)]
            return self._assign(head, m.default, indent, m.span)
        if isinstance(m, ast.SecretDecl):
            return [self._prefix(m.span, indent, f"{indent}secret {m.name.value}")]
        if isinstance(m, ast.SourceDecl):
            head = f"{indent}source {m.name.value}: {self._type(m.type)}"
            return self._attr_block(head, m.attributes, indent, m.span, m.type.span.end)
        if isinstance(m, ast.StepDecl):
            return self._braced(f"{indent}step {m.name.value} {{", m.body, indent, m.span, self._body_item,
                                m.name.span.end)
        if isinstance(m, ast.GateDecl):
            return self._braced(f"{indent}gate {m.name.value} {{", m.body, indent, m.span, self._body_item,
                                m.name.span.end)
        if isinstance(m, ast.MonitorDecl):
            return self._braced(f"{indent}monitor {m.name.value} {{", m.body, indent, m.span,
                                self._body_item, m.name.span.end)
        if isinstance(m, ast.TemplateStepDecl):
            args = m.arguments
            close = self._close_paren(args[-1].span.end if args else m.template.span.end)
            head = f"{indent}step {m.name.value} = {m.template.dotted}"
            rendered = self._call_list(head, args, indent, self._argument, close)
            if not m.body and not self._inner_has_comment(m.span):
                return rendered
            return self._braced_after(rendered, m.body, indent, m.span, self._body_item, close + 1)
        raise TypeError(f"unknown member {type(m).__name__}")  # pragma: no cover - a parser bug

    def _argument(self, a: ast.Argument, indent: str) -> list[str]:
        return self._assign(f"{indent}{a.name.value}", a.value, indent, a.span)

    # ---- bodies -------------------------------------------------------------

    def _body_item(self, item, indent: str) -> list[str]:
        if isinstance(item, ast.Attribute):
            return self._attribute(item, indent)
        if isinstance(item, ast.Block):
            return self._attr_block(f"{indent}{item.name.value}", item.attributes, indent, item.span,
                                    item.name.span.end)
        if isinstance(item, ast.InputDecl):
            head = f"{indent}in {item.name.value}: {self._type(item.type)}"
            if item.binding is None:
                return [self._prefix(item.span, indent, head)]
            return self._assign(head, item.binding, indent, item.span)
        if isinstance(item, ast.OutputDecl):
            head = f"{indent}out {item.name.value}: {self._type(item.type)}"
            return self._attr_block(head, item.attributes, indent, item.span, item.type.span.end)
        if isinstance(item, ast.AfterDecl):
            names = [n.value for n in item.names]
            text = names[0] if len(names) == 1 else "[" + ", ".join(names) + "]"
            return [self._prefix(item.span, indent, f"{indent}after {text}")]
        if isinstance(item, ast.WhenDecl):
            return [self._prefix(item.span, indent, f"{indent}when {self._expr(item.condition, 0)}")]
        if isinstance(item, ast.RequireDecl):
            return [self._prefix(item.span, indent, f"{indent}require {self._expr(item.condition, 0)}")]
        raise TypeError(f"unknown body item {type(item).__name__}")  # pragma: no cover

    # ---- building blocks ----------------------------------------------------

    def _prefix(self, span, indent: str, line: str) -> str:
        """An item printed on one line: comments inside it become leading comments."""
        return self._inline_atomic(span, indent) + line

    def _inline_atomic(self, span, indent: str) -> str:
        out: list[str] = []
        self._leading(span.end, indent, out, None)
        return "".join(line + "\n" for line in out)

    def _source(self, span) -> str:
        return self.text[span.start:span.end]

    def _close_paren(self, after: int) -> int:
        """Offset of the `)` closing a parameter/argument list that ends at `after`."""
        i = after
        while True:
            c = self.text[i]
            if c == ")":
                return i
            if c == "#":
                i = self.text.index("\n", i)
            i += 1

    def _open_brace(self, after: int, limit: int) -> int:
        i = after
        while i < limit:
            c = self.text[i]
            if c == "{":
                return i
            if c == "#":
                i = self.text.find("\n", i)
                if i == -1:
                    return limit
            i += 1
        return limit

    @staticmethod
    def _type(t: ast.TypeRef) -> str:
        return str(t)

    def _attribute(self, a: ast.Attribute, indent: str) -> list[str]:
        return self._assign(f"{indent}{a.name.value}", a.value, indent, a.span)

    def _assign(self, head: str, value, indent: str, span) -> list[str]:
        """`head = value`, the value inline or broken over lines."""
        lines = self._value(value, indent, len(head) + 3)
        lines[0] = f"{head} = {lines[0]}"
        return lines

    def _braced(self, head: str, items, indent: str, span, render, header_end: int, separate=None) -> list[str]:
        """`head` ends with `{`; items at indent+2; `}`."""
        brace = self._open_brace(header_end, span.end)
        prelude: list[str] = []
        self._leading(brace, indent, prelude, None)  # comments between name and `{`
        if not items and not self._inner_has_comment(span):
            return [*prelude, head + "}"]
        first = self._header_comment(brace, items, span)
        inner = self._items(items, indent + INDENT, render, span.end - 1, separate)
        return [*prelude, head + first, *inner, indent + "}"]

    def _braced_after(self, rendered: list[str], items, indent: str, span, render, after: int) -> list[str]:
        brace = self._open_brace(after, span.end)
        prelude: list[str] = []
        self._leading(brace, indent, prelude, None)
        if not items and not self._inner_has_comment(span):
            return [*prelude, *rendered[:-1], rendered[-1] + " {}"]
        first = self._header_comment(brace, items, span)
        inner = self._items(items, indent + INDENT, render, span.end - 1)
        last = rendered[-1] + " {" + first
        return [*prelude, *rendered[:-1], last, *inner, indent + "}"]

    def _header_comment(self, brace: int, items, span) -> str:
        """A comment on the line of `{`, before the first item: stays there."""
        c = self._pending()
        if c is None or brace >= span.end or c.span.start < brace:
            return ""
        limit = items[0].span.start if items else span.end
        if c.span.start >= limit:
            return ""
        if self.text.count("\n", brace, c.span.start) or not _is_gap(self.text[brace + 1:c.span.start]):
            return ""
        self.next += 1
        return "  " + c.text.rstrip()

    def _attr_block(self, head: str, attributes, indent: str, span, header_end: int) -> list[str]:
        """`head { a = 1, b = 2 }` inline when short, else one attribute per line."""
        brace = self._open_brace(header_end, span.end)
        if brace >= span.end:  # no block written: `out x: Model`, `source s: Dataset`
            return [self._prefix(span, indent, head)]
        prelude: list[str] = []
        self._leading(brace, indent, prelude, None)  # comments between the header and `{`
        if not attributes and not self._inner_has_comment(span):
            return [*prelude, head + " {}"]
        if not self._inner_has_comment(span):
            parts = [self._inline_value(a.value) for a in attributes]
            if all(p is not None for p in parts):
                inline = ", ".join(f"{a.name.value} = {p}" for a, p in zip(attributes, parts))
                line = f"{head} {{ {inline} }}"
                if len(line) <= MAX_WIDTH and "\n" not in line:
                    return [*prelude, line]
        return [*prelude, *self._braced(head + " {", attributes, indent, span, self._attribute, header_end)]

    def _call_list(self, head: str, items, indent: str, render, close: int) -> list[str]:
        """`head(a, b)` inline when short, else one per line with a trailing comma."""
        end_span_end = close + 1
        if not self._has_comment_before(end_span_end):
            parts = []
            for item in items:
                rendered = render(item, "")
                if len(rendered) != 1 or "\n" in rendered[0]:
                    parts = None
                    break
                parts.append(rendered[0])
            if parts is not None:
                line = f"{head}(" + ", ".join(parts) + ")"
                if len(line) + 2 <= MAX_WIDTH:
                    return [line]
        inner = self._items(items, indent + INDENT, lambda item, ind: self._comma(render(item, ind)), close)
        return [f"{head}(", *inner, indent + ")"]

    @staticmethod
    def _comma(lines: list[str]) -> list[str]:
        lines[-1] += ","
        return lines

    # ---- values -------------------------------------------------------------

    def _inline_value(self, v) -> str | None:
        """`v` on one line, or None when it cannot be (a comment inside it)."""
        if self._inner_has_comment(v.span):
            return None
        if isinstance(v, ast.ListLit):
            parts = [self._inline_value(i) for i in v.items]
            return None if None in parts else "[" + ", ".join(parts) + "]"
        if isinstance(v, ast.MapLit):
            if not v.entries:
                return "{}"
            parts = [self._inline_value(e.value) for e in v.entries]
            if None in parts:
                return None
            return "{ " + ", ".join(f"{e.key.value} = {p}" for e, p in zip(v.entries, parts)) + " }"
        return self._scalar(v)

    def _scalar(self, v) -> str:
        if isinstance(v, ast.StringLit):
            return self._source(v.span)
        if isinstance(v, (ast.NumberLit, ast.DurationLit, ast.SizeLit)):
            return v.text
        if isinstance(v, ast.BoolLit):
            return "true" if v.value else "false"
        if isinstance(v, ast.CronLit):
            return f"cron({self._source(v.expression.span)})"
        if isinstance(v, ast.Ref):
            return v.dotted
        raise TypeError(f"cannot format {type(v).__name__}")  # pragma: no cover - ErrorValue: not parsed

    def _value(self, v, indent: str, column: int) -> list[str]:
        """Lines of a value starting at `column` of a line indented by `indent`."""
        inline = self._inline_value(v)
        if inline is not None:
            first_line = inline.split("\n", 1)[0]
            if column + len(first_line) <= MAX_WIDTH or not isinstance(v, (ast.ListLit, ast.MapLit)):
                return [inline]
        if not isinstance(v, (ast.ListLit, ast.MapLit)):
            # A scalar with a comment inside (only possible around cron's parentheses): hoist it.
            return [self._scalar(v)]
        inner_indent = indent + INDENT
        if isinstance(v, ast.ListLit):
            render = lambda item, ind: self._comma(self._value(item, ind, len(ind)))
            lines = self._items(v.items, inner_indent, self._with_indent(render), v.span.end - 1)
            return ["[", *lines, indent + "]"]

        def entry(e: ast.MapEntry, ind: str) -> list[str]:
            return self._comma(self._assign(f"{ind}{e.key.value}", e.value, ind, e.span))

        lines = self._items(v.entries, inner_indent, entry, v.span.end - 1)
        return ["{", *lines, indent + "}"]

    @staticmethod
    def _with_indent(render):
        def wrapped(item, ind: str) -> list[str]:
            lines = render(item, ind)
            lines[0] = ind + lines[0]
            return lines

        return wrapped

    # ---- conditions ---------------------------------------------------------

    def _expr(self, e, parent: int) -> str:
        """A condition; `parent` is the binding strength around it (0: none,
        1: an `or` operand, 2: an `and` operand, 3: `not`, 4: a comparison operand)."""
        if isinstance(e, ast.BoolOp):
            mine = _PRECEDENCE[e.op]
            # A nested `and`/`or` of the same kind was grouped by the user: keep its parentheses.
            text = f" {e.op} ".join(self._expr(o, mine + 0.5) for o in e.operands)
            return f"({text})" if parent >= mine else text
        if isinstance(e, ast.Not):
            text = f"not {self._expr(e.operand, 3)}"
            return f"({text})" if parent >= 4 else text
        if isinstance(e, ast.Compare):
            text = f"{self._expr(e.left, 4)} {e.op} {self._expr(e.right, 4)}"
            return f"({text})" if parent >= 4 else text
        return self._scalar(e)
