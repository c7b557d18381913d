"""The condition checker, as code to embed in a generated Dag file.

Airflow evaluates `when` and `require` in the worker's Python, with the very
functions the other targets run as a program (`runtime/check_conditions.py`):
its definitions are copied verbatim, without its docstring, imports and
`main`, which reads a JSON document from the environment and exits with a
status - jobs a Dag task does in its own way.
"""

from __future__ import annotations

import ast
from functools import cache

from mlplang.backends.runtime import program_source

PROGRAM = "check_conditions"
LEFT_OUT = frozenset({"main"})


@cache
def checker_code() -> str:
    source = program_source(PROGRAM)
    tree = ast.parse(source)
    kept = []
    for index, node in enumerate(tree.body):
        if index == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # the module docstring
        if isinstance(node, ast.Import | ast.ImportFrom):
            continue
        if isinstance(node, ast.FunctionDef | ast.ClassDef) and node.name in LEFT_OUT:
            continue
        if isinstance(node, ast.If):
            continue  # `if __name__ == "__main__":`
        kept.append(ast.get_source_segment(source, node))
    return "\n\n\n".join(kept)


@cache
def checker_imports() -> frozenset[str]:
    """The modules the copied definitions use (the generated file imports them)."""
    tree = ast.parse(program_source(PROGRAM))
    modules = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
    code = ast.parse(checker_code())
    used = {n.id for n in ast.walk(code) if isinstance(n, ast.Name)}
    return frozenset(modules & used)
