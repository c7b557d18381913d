"""docs/language.md lists every registered diagnostic code, so it cannot go stale.

The modules that register codes are imported first: the language codes live
in `mlplang.diagnostics.codes`; rules and backends register theirs when their
modules are imported, so every module of the package is imported (except
`__main__`, and modules whose third-party dependencies are not installed).
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import mlplang
from mlplang.diagnostics import codes

DOC = Path(__file__).resolve().parents[1] / "docs" / "language.md"


def _import_everything() -> None:
    for module in pkgutil.walk_packages(mlplang.__path__, prefix="mlplang."):
        if module.name.endswith("__main__"):
            continue
        try:
            importlib.import_module(module.name)
        except ModuleNotFoundError as error:
            if error.name and error.name.split(".")[0] == "mlplang":
                raise
            # An optional third-party dependency is missing: its codes cannot register here.


def _table_rows(text: str) -> dict[str, str]:
    """Code -> its table row in the doc."""
    rows = {}
    for line in text.splitlines():
        match = re.match(r"^\|\s*`(MLP\d{3})`\s*\|", line)
        if match:
            rows[match.group(1)] = line
    return rows


def test_every_registered_code_is_documented():
    _import_everything()
    rows = _table_rows(DOC.read_text(encoding="utf-8"))
    missing = sorted(c for c, e in codes.REGISTRY.items() if e.kind != "rule" and c not in rows)
    assert not missing, f"codes registered but missing from the table in docs/language.md: {missing}"


def test_documented_rows_match_the_registry():
    _import_everything()
    rows = _table_rows(DOC.read_text(encoding="utf-8"))
    for code, row in rows.items():
        assert code in codes.REGISTRY or code in codes.REDIRECTS, f"docs/language.md lists unknown code {code}"
        entry = codes.REGISTRY.get(codes.REDIRECTS.get(code, code))
        cells = [cell.strip() for cell in row.strip().strip("|").split("|")]
        assert cells[1] == f"`{entry.name}`", f"{code}: name in the doc is {cells[1]}, registry says {entry.name}"
        assert cells[2] == entry.severity.value, (
            f"{code}: severity in the doc is {cells[2]}, registry says {entry.severity.value}"
        )
