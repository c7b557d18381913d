"""Programs the generated pipelines run (standard library only).

Backends embed their source in the generated files, so a pipeline needs no
mlplang installation where it runs. Each program takes its inputs as data
(JSON in an environment variable), never as generated code.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path


@cache
def program_source(name: str) -> str:
    return (Path(__file__).parent / f"{name}.py").read_text(encoding="utf-8")
