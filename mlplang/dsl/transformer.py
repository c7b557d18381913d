"""Builds syntax-tree nodes while the LALR parser reduces (Lark's inline
transformer: no intermediate parse tree, which is 1.3-3x faster)."""

from __future__ import annotations

import math
import re

from mlplang.diagnostics import codes
from mlplang.diagnostics.model import Diagnostic, Severity
from mlplang.dsl import ast
from mlplang.dsl.strings import parse_string
from mlplang.dsl.tokens import TOKEN_TYPES
from mlplang.source import SourceFile, Span

MAX_DEPTH = 64
_new_span = tuple.__new__  # Span(...) without the keyword-argument parsing

_NUMBER = re.compile(r"(-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)([A-Za-z]*)")
DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
SIZE_UNITS = {
    "Ki": 1024, "Mi": 1024**2, "Gi": 1024**3, "Ti": 1024**4,
    "K": 1000, "M": 1000**2, "G": 1000**3, "T": 1000**4,
}


class Context:
    """Per-parse state shared by the transformer and the error recovery."""

    def __init__(self, source: SourceFile) -> None:
        self.source = source
        self.path = source.path
        self.diagnostics: list[Diagnostic] = []
        self.comments: list[ast.Comment] = []
        self.depth: dict[int, int] = {}
        self.too_deep_reported = False
        self.error_offsets: list[int] = []
        """Where error recovery was called, reported or not (a cascade is not): the language
        server checks that the errors of an edited member stay inside it."""


class SyntaxTreeBuilder:
    """One method per grammar rule, called with the rule's children (tokens
    and nodes) by either parser. `context` is set for each parse."""

    def __init__(self) -> None:
        self.context = Context(SourceFile.from_text("", "<idle>"))

    # ---- helpers -------------------------------------------------------

    def _tok_span(self, token) -> Span:
        return _new_span(Span, (self.context.path, token.line, token.column, token.end_line, token.end_column,
                                token.start_pos, token.end_pos))

    def _span_of(self, item) -> Span:
        return self._tok_span(item) if isinstance(item, TOKEN_TYPES) else item.span

    def _outer(self, children) -> Span:
        """The span from the first child's start to the last child's end."""
        first, last = children[0], children[-1]
        if isinstance(first, TOKEN_TYPES):
            line, column, start = first.line, first.column, first.start_pos
        else:
            span = first.span
            line, column, start = span.line, span.column, span.start
        if isinstance(last, TOKEN_TYPES):
            end_line, end_column, end = last.end_line, last.end_column, last.end_pos
        else:
            span = last.span
            end_line, end_column, end = span.end_line, span.end_column, span.end
        return _new_span(Span, (self.context.path, line, column, end_line, end_column, start, end))

    @staticmethod
    def _nodes(children) -> list:
        return [c for c in children if not isinstance(c, TOKEN_TYPES)]

    def _nested(self, node, children):
        """Track nesting depth; replace over-deep values with an ErrorValue."""
        depth = 1 + max((self.context.depth.get(id(c), 0) for c in children), default=0)
        if depth > MAX_DEPTH:
            if not self.context.too_deep_reported:
                self.context.too_deep_reported = True
                self.context.diagnostics.append(
                    Diagnostic(
                        code=codes.TOO_DEEP.code,
                        severity=Severity.ERROR,
                        message=f"value or condition nested more than {MAX_DEPTH} levels deep",
                        # The node can span a whole line of brackets: mark where it starts.
                        span=self.context.source.span(node.span.start, node.span.start + 1),
                        label=f"more than {MAX_DEPTH} levels of nesting start here",
                        help=f"lists, maps and conditions may nest at most {MAX_DEPTH} levels",
                    )
                )
            return ast.ErrorValue(node.span)
        self.context.depth[id(node)] = depth
        return node

    # ---- names, types, values ---------------------------------------------

    def name(self, children):
        token = children[0]  # the most frequent node: the span is built here, without a call
        return ast.Name(token.value, _new_span(Span, (self.context.path, token.line, token.column, token.end_line,
                                                      token.end_column, token.start_pos, token.end_pos)))

    def dotted_name(self, children):
        return ast.Ref(tuple(children), self._outer(children))

    def type_ref(self, children):
        names = self._nodes(children)
        return ast.TypeRef(names[0], names[1] if len(names) > 1 else None, self._outer(children))

    def string(self, children):
        token = children[0]
        node, diagnostics = parse_string(token.value, token.start_pos, self.context.source)
        if diagnostics:
            self.context.diagnostics.extend(diagnostics)
        return node

    def number(self, children):
        token = children[0]
        text = token.value
        span = self._tok_span(token)
        match = _NUMBER.fullmatch(text)
        digits, unit = (match.group(1), match.group(2)) if match else (text, "")
        value: int | float
        try:
            value = int(digits)
        except ValueError:
            value = float(digits) if match else 0
        if not unit:
            if isinstance(value, float) and not math.isfinite(value):  # `1e999`: no backend can write it
                return self._number_error(f"`{text}` is too large", span, "too large", "write a number below 1e308")
            return ast.NumberLit(value, text, span)
        factor = DURATION_UNITS.get(unit) or SIZE_UNITS.get(unit)
        if factor is not None:
            scaled = value * factor
            if isinstance(scaled, float) and not math.isfinite(scaled):  # `1e999s`, `1e300Ti`
                return self._number_error(f"`{text}` is too large", span, "too large",
                                          "write a number below 1e308")
            if unit in DURATION_UNITS:
                return ast.DurationLit(scaled, text, span)
            return ast.SizeLit(int(scaled), text, span)
        return self._number_error(
            f"unknown unit `{unit}` in `{text}`", span, "unknown unit",
            "durations use s, m, h, d (e.g. `90s`, `3h`); sizes use Ki, Mi, Gi, Ti or K, M, G, T (e.g. `512Mi`)",
        )

    def _number_error(self, message: str, span: Span, label: str, help: str):
        self.context.diagnostics.append(
            Diagnostic(
                code=codes.INVALID_NUMBER.code,
                severity=Severity.ERROR,
                message=message,
                span=span,
                label=label,
                help=help,
            )
        )
        return ast.ErrorValue(span)

    def boolean(self, children):
        token = children[0]
        return ast.BoolLit(token.type == "TRUE", self._tok_span(token))

    def list(self, children):
        node = ast.ListLit(tuple(self._nodes(children)), self._outer(children))
        return self._nested(node, node.items)

    def map(self, children):
        node = ast.MapLit(tuple(self._nodes(children)), self._outer(children))
        return self._nested(node, [e.value for e in node.entries])

    def map_entry(self, children):
        return ast.MapEntry(children[0], children[1], self._outer(children))

    def cron(self, children):
        return ast.CronLit(self._nodes(children)[0], self._outer(children))

    # ---- conditions ----------------------------------------------------------

    def or_expr(self, children):
        node = ast.BoolOp("or", tuple(children), self._outer(children))
        return self._nested(node, children)

    def and_expr(self, children):
        node = ast.BoolOp("and", tuple(children), self._outer(children))
        return self._nested(node, children)

    def not_op(self, children):
        node = ast.Not(children[1], self._outer(children))
        return self._nested(node, children[1:])

    def comparison(self, children):
        left, op, right = children
        node = ast.Compare(left, op, right, self._outer(children))
        return self._nested(node, (left, right))

    def comp_op(self, children):
        return children[0].value

    def paren_expr(self, children):
        return children[1]

    # ---- body items -----------------------------------------------------------

    def attribute(self, children):
        return ast.Attribute(children[0], children[1], self._outer(children))

    def attr_block(self, children):
        return (tuple(self._nodes(children)), self._outer(children))

    def block(self, children):
        name, (attributes, span) = children
        return ast.Block(name, attributes, name.span.to(span))

    def input_decl(self, children):
        nodes = self._nodes(children)
        binding = nodes[2] if len(nodes) > 2 else None
        return ast.InputDecl(nodes[0], nodes[1], binding, self._outer(children))

    def output_decl(self, children):
        nodes = self._nodes(children)
        attributes = nodes[2][0] if len(nodes) > 2 else ()
        span = self._span_of(children[0]).to(nodes[2][1]) if len(nodes) > 2 else self._outer(children)
        return ast.OutputDecl(nodes[0], nodes[1], attributes, span)

    def after_decl(self, children):
        return ast.AfterDecl(tuple(self._nodes(children)), self._outer(children))

    def when_decl(self, children):
        return ast.WhenDecl(children[1], self._outer(children))

    def require_decl(self, children):
        return ast.RequireDecl(children[1], self._outer(children))

    def body_block(self, children):
        return (tuple(self._nodes(children)), self._outer(children))

    # ---- declarations ---------------------------------------------------------

    def param_decl(self, children):
        nodes = self._nodes(children)
        default = nodes[2] if len(nodes) > 2 else None
        return ast.ParamDecl(nodes[0], nodes[1], default, self._outer(children))

    def secret_decl(self, children):
        return ast.SecretDecl(children[1], self._outer(children))

    def source_decl(self, children):
        nodes = self._nodes(children)
        if len(nodes) > 2:
            attributes, end = nodes[2]
            span = self._span_of(children[0]).to(end)
        else:
            attributes, span = (), self._outer(children)
        return ast.SourceDecl(nodes[0], nodes[1], attributes, span)

    def step_decl(self, children):
        nodes = self._nodes(children)
        return ast.StepDecl(nodes[0], tuple(nodes[1:]), self._outer(children))

    def template_step_decl(self, children):
        nodes = self._nodes(children)
        name, template = nodes[0], nodes[1]
        body: tuple = ()
        if isinstance(nodes[-1], tuple):
            body, end = nodes[-1]
            nodes = nodes[:-1]
            span = self._span_of(children[0]).to(end)
        else:
            span = self._outer(children)
        return ast.TemplateStepDecl(name, template, tuple(nodes[2:]), body, span)

    def argument(self, children):
        return ast.Argument(children[0], children[1], self._outer(children))

    def gate_decl(self, children):
        nodes = self._nodes(children)
        return ast.GateDecl(nodes[0], tuple(nodes[1:]), self._outer(children))

    def monitor_decl(self, children):
        nodes = self._nodes(children)
        return ast.MonitorDecl(nodes[0], tuple(nodes[1:]), self._outer(children))

    def pipeline_decl(self, children):
        nodes = self._nodes(children)
        return ast.PipelineDecl(nodes[0], tuple(nodes[1:]), self._outer(children))

    def template_param(self, children):
        default = children[2] if len(children) > 2 else None
        return ast.TemplateParam(children[0], children[1], default, self._outer(children))

    def template_decl(self, children):
        nodes = self._nodes(children)
        name = nodes[0]
        params = tuple(n for n in nodes[1:] if isinstance(n, ast.TemplateParam))
        body = tuple(n for n in nodes[1:] if not isinstance(n, ast.TemplateParam))
        return ast.TemplateDecl(name, params, body, self._outer(children))

    def import_decl(self, children):
        nodes = self._nodes(children)
        alias = nodes[1] if len(nodes) > 1 else None
        return ast.ImportDecl(nodes[0], alias, self._outer(children))

    def start(self, children):
        return [c for c in children if not isinstance(c, TOKEN_TYPES)]
