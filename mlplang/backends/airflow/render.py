"""Laying out a Dag file with the Jinja2 templates in `templates/`.

The templates hold layout only - section order, blank lines, the static
runtime support - and loop over text that `pysource` already rendered, so
`StrictUndefined` catches a missing field and no template decides anything
about a value. Autoescaping is off: the output is Python, not HTML.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import cache

import jinja2


@dataclass(frozen=True)
class DagFile:
    header: list[str]
    """Comment lines."""
    imports: list[str]
    constants: list[str]
    needs: dict[str, bool]
    """Which parts of the runtime support the file uses."""
    checker: str
    """The embedded condition checker ("" when the file has no conditions)."""
    dag_open: str
    """`with DAG(...) as dag:`"""
    tasks: list[str]
    """One rendered assignment per task, indented one level."""
    edges: list[str]


@cache
def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("mlplang.backends.airflow", "templates"),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_dag_file(dag_file: DagFile) -> str:
    # the fields as they are (`asdict` would copy every list of lines first)
    context = {f.name: getattr(dag_file, f.name) for f in fields(dag_file)}
    return environment().get_template("dag.py.j2").render(context)
