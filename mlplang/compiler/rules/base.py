"""The rule interface: one rule = one small class with its code, name,
severity, message and documentation (its docstring), in the style of ruff.

A rule reads only the typed IR, the graph and the lineage model, and yields
`Violation`s; the runner turns them into diagnostics, applies configuration
and inline suppressions.
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import ClassVar, TypeVar

from mlplang.compiler import ir
from mlplang.compiler.graph import PipelineGraph
from mlplang.compiler.lineage import Lineage
from mlplang.config import LintConfig
from mlplang.diagnostics.model import Label, Severity
from mlplang.source import Span

DOC_HEADINGS = ("What it does", "Why it matters", "Example", "Use instead")
T = TypeVar("T")


@dataclass(frozen=True)
class RuleContext:
    pipeline: ir.Pipeline
    graph: PipelineGraph
    lineage: Lineage
    config: LintConfig
    _shared: dict[Callable, object] = field(default_factory=dict, compare=False, repr=False)

    def shared(self, compute: Callable[[RuleContext], T]) -> T:
        """`compute(self)`, computed once per pipeline linted: for an answer several rules
        need (the context is made once per pipeline and dropped after its lint)."""
        try:
            return self._shared[compute]  # type: ignore[return-value]
        except KeyError:
            value = self._shared[compute] = compute(self)
            return value


@dataclass(frozen=True)
class Violation:
    span: Span
    message: str
    label: str = ""
    help: str | None = None
    labels: tuple[Label, ...] = ()
    notes: tuple[str, ...] = ()
    severity: Severity | None = None
    """Overrides the rule's default severity for this finding (e.g. a graded rule)."""
    fix: str | None = field(default=None)
    """Replacement text for `span`, when the rule knows the fix."""


class Rule(ABC):
    """Subclasses set the class attributes and implement `check`; the
    docstring, with the headings in DOC_HEADINGS, is the rule's documentation."""

    code: ClassVar[str]
    name: ClassVar[str]
    severity: ClassVar[Severity]
    summary: ClassVar[str]

    @abstractmethod
    def check(self, ctx: RuleContext) -> Iterator[Violation]:
        """Yield a violation for each place the pipeline breaks the rule."""

    @classmethod
    def documentation(cls) -> str:
        return inspect.cleandoc(cls.__doc__ or "")
