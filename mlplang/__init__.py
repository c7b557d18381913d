"""mlplang: the MLP language for ML pipelines and its toolchain `mlp`.

The public API mirrors `json`-style entry points and is imported lazily so
that `mlp` starts fast:

- `parse(text, path)` -> (syntax tree, diagnostics)
- `check(text_or_path)` -> diagnostics
- `load(path)` -> `LoadResult` (typed IR, graph, diagnostics)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["__version__", "parse", "check", "load", "load_text"]

if TYPE_CHECKING:
    from mlplang.api import check, load, load_text, parse


def __getattr__(name: str) -> Any:
    if name in ("parse", "check", "load", "load_text"):
        from mlplang import api

        return getattr(api, name)
    raise AttributeError(f"module 'mlplang' has no attribute {name!r}")
