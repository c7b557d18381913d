"""`mlp graph --format json` of each example against a reviewed golden file.

The goldens in tests/golden/graph/ were generated once and then checked by
hand against the example sources (nodes, their kinds, every edge and its
kind). When an example or the graph changes on purpose, regenerate with

    MLP_UPDATE_GOLDEN=1 python -m pytest tests/test_graph_golden.py

and review the diff: a golden is a spec, never regenerated blindly.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from mlplang.cli import main

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.mlp"))
GOLDEN = ROOT / "tests" / "golden" / "graph"
UPDATE = os.environ.get("MLP_UPDATE_GOLDEN") == "1"


def graph_json(example: Path) -> str:
    result = CliRunner().invoke(main, ["graph", str(example), "--format", "json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_graph_matches_golden(example: Path) -> None:
    golden = GOLDEN / f"{example.stem}.json"
    actual = graph_json(example)
    if UPDATE:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(actual, encoding="utf-8")
    assert golden.is_file(), f"no golden for {example.name}: run with MLP_UPDATE_GOLDEN=1 and review it"
    expected = golden.read_text(encoding="utf-8")
    assert json.loads(actual) == json.loads(expected)
    assert actual == expected  # byte for byte: the output is deterministic


def test_every_golden_has_its_example() -> None:
    stems = {p.stem for p in EXAMPLES}
    assert sorted(p.stem for p in GOLDEN.glob("*.json")) == sorted(stems)


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_golden_is_well_formed(example: Path) -> None:
    """Independent of the generator: ids unique, edges between known nodes,
    kinds from the documented sets, nothing depends on itself."""
    data = json.loads((GOLDEN / f"{example.stem}.json").read_text(encoding="utf-8"))
    for pipeline in data["pipelines"]:
        ids = [n["id"] for n in pipeline["nodes"]]
        assert len(ids) == len(set(ids))
        assert {n["kind"] for n in pipeline["nodes"]} <= {"source", "step", "gate", "monitor"}
        kinds = {n["id"]: n["kind"] for n in pipeline["nodes"]}
        seen = set()
        for edge in pipeline["edges"]:
            assert edge["kind"] in {"data", "after", "gate", "condition", "watch"}
            assert edge["source"] in kinds and edge["target"] in kinds
            assert edge["source"] != edge["target"]
            key = (edge["source"], edge["target"], edge["kind"])
            assert key not in seen
            seen.add(key)
            assert kinds[edge["target"]] != "source"  # sources are data at rest
            if edge["kind"] == "gate":
                assert kinds[edge["target"]] == "gate"
            if edge["kind"] == "watch":
                assert kinds[edge["target"]] == "monitor"
