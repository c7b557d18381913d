"""`mlplang.lsp.incremental`: diagnostics derived from the previous analysis must be
exactly those of a full analysis of the edited text, on random edits (most of them
inside comments, where the derivation applies, the others anywhere)."""

from __future__ import annotations

import os
import random
import shutil
import time
from pathlib import Path

import pytest

from mlplang.lsp import incremental
from mlplang.lsp.analysis import Analysis, config_for

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"

# Comments in every position that matters: after code on the same line, inside a step whose
# findings span the whole block, a suppression that suppresses nothing (MLP901) and one that
# works, one naming an unknown code (MLP902), and a last line without a newline.
SYNTHETIC = '''# top comment
pipeline demo {  # after the header
  owner = "ml-team"
  param seed: int = 7  # a param
  source raw: Dataset {  # pii source
    uri = "s3://bucket/raw.csv"
    pii = ["email"]
  }
  # a comment between members
  step train {  # mlp: ignore[MLP201]
    in data: Dataset = raw
    out model: Model
    image = "python:3.11"  # unpinned image
    run = "python train.py --seed ${param.seed}"
  }
  step deploy {
    # inside a block that a rule reports as a whole
    in model: Model = train.model  # mlp: ignore[no-such-rule]
    out endpoint: Endpoint
    image = "python:3.11"
    run = "deploy"  # mlp: ignore[MLP999]
  }
}
# the last line, no newline'''

ALPHABET = ["a", "Z", " ", "  ", "\t", "#", "\n", "\r", '"', "{", "}", "=", "é", "😀", "mlp", "MLP",
            "ignore[MLP201]", "# mlp: ignore[MLP205]", "x = 1", "step", "${param.seed}", "password=hunter2"]


def documents(tmp_path: Path) -> list[Path]:
    shutil.copytree(EXAMPLES, tmp_path / "examples")
    synthetic = tmp_path / "examples" / "synthetic.mlp"
    synthetic.write_text(SYNTHETIC, encoding="utf-8")
    names = ["bad/unsafe_deploy.mlp", "fraud_detection.mlp", "gpu_training.mlp", "stdlib_pipeline.mlp",
             "synthetic.mlp"]
    return [tmp_path / "examples" / name for name in names]


def random_edit(rng: random.Random, text: str, analysis: Analysis) -> str:
    comments = [c.span for c in analysis.result.module.comments] if analysis.result.module else []
    for _ in range(rng.randint(1, 2)):
        if comments and rng.random() < 0.75:
            comment = rng.choice(comments)
            start = rng.randint(comment.start, comment.end)  # the `#` itself and the end included
            end = min(comment.end, start + rng.choice([0, 0, 1, 3]))
        else:
            start = rng.randint(0, len(text))
            end = min(len(text), start + rng.choice([0, 1, 2, 5]))
        inserted = "".join(rng.choice(ALPHABET) for _ in range(rng.choice([0, 1, 1, 2, 3])))
        text = text[:start] + inserted + text[end:]
    return text


def test_random_edits_derive_exactly_the_full_diagnostics(tmp_path: Path):
    from mlplang.lsp.server import lsp_diagnostics

    rng = random.Random(20261130)
    derived_count = 0
    trials = 0
    for path in documents(tmp_path):
        text = path.read_text(encoding="utf-8")
        uri = path.as_uri()
        base = Analysis.build(text, uri)
        stamps = incremental.dependencies(base)
        for _ in range(100):
            edited = random_edit(rng, text, base)
            derived = incremental.reuse(base, stamps, edited, config_for(base.real_path))
            trials += 1
            if derived is None:
                continue
            derived_count += 1
            full = Analysis.build(edited, uri)
            assert derived == full.diagnostics, (path.name, edited)
            view = Analysis(edited, base.path, base.real_path, base.result, derived, base.config)
            assert lsp_diagnostics(view, edited, "utf-16") == lsp_diagnostics(full, edited, "utf-16")
    assert derived_count > trials // 5  # the fast path was really exercised
    assert derived_count < trials  # and refused where it could not be sure


def test_difference_rebuilds_the_new_text():
    rng = random.Random(7)
    for _ in range(500):
        old = "".join(rng.choice("ab#\n") for _ in range(rng.randint(0, 9000)))
        start = rng.randint(0, len(old))
        end = min(len(old), start + rng.randint(0, 5))
        new = old[:start] + "".join(rng.choice("ab#\n") for _ in range(rng.randint(0, 4))) + old[end:]
        edit = incremental.difference(old, new)
        assert edit.start <= edit.old_end and edit.start <= edit.new_end
        assert old[:edit.start] + new[edit.start:edit.new_end] + old[edit.old_end:] == new
        assert new[:edit.start] == old[:edit.start] and new[edit.new_end:] == old[edit.old_end:]
    assert incremental.difference("same", "same") == incremental.Edit(4, 4, 4)


def test_a_comment_edit_is_derived_and_code_edits_are_not(tmp_path: Path):
    path = documents(tmp_path)[0]  # examples/bad/unsafe_deploy.mlp: six findings
    text = path.read_text(encoding="utf-8")
    base = Analysis.build(text, path.as_uri())
    stamps = incremental.dependencies(base)
    config = config_for(base.real_path)
    assert base.diagnostics
    assert incremental.reuse(base, stamps, text, config) == base.diagnostics
    comment = next(c for c in base.result.module.comments if "mlp" not in c.text.lower())
    edited = text[:comment.span.end] + " and more words" + text[comment.span.end:]
    derived = incremental.reuse(base, stamps, edited, config)
    assert derived is not None and derived == Analysis.build(edited, path.as_uri()).diagnostics
    at = comment.span.end + 1  # the first character of the next line
    assert incremental.reuse(base, stamps, text[:at] + "x" + text[at:], config) is None
    assert incremental.reuse(base, stamps, text[:comment.span.end] + "\n" + text[comment.span.end:], config) is None
    suppressing = text[:comment.span.end] + " mlp: ignore[MLP201]" + text[comment.span.end:]
    assert incremental.reuse(base, stamps, suppressing, config) is None


def test_a_changed_configuration_or_imported_file_is_never_reused(tmp_path: Path):
    paths = documents(tmp_path)
    fraud = paths[1]
    text = fraud.read_text(encoding="utf-8")
    base = Analysis.build(text, fraud.as_uri())
    stamps = incremental.dependencies(base)
    assert incremental.reuse(base, stamps, text, config_for(base.real_path)) is not None
    (fraud.parent / "mlp.toml").write_text('ignore = ["MLP201"]\n', encoding="utf-8")
    assert incremental.reuse(base, stamps, text, config_for(base.real_path)) is None
    (fraud.parent / "mlp.toml").unlink()

    gpu = paths[2]  # imports examples/shared/steps.mlp
    text = gpu.read_text(encoding="utf-8")
    base = Analysis.build(text, gpu.as_uri())
    stamps = incremental.dependencies(base)
    assert any(display != base.path and not display.startswith("std/") for display in base.result.sources)
    assert incremental.reuse(base, stamps, text, config_for(base.real_path)) is not None
    shared = tmp_path / "examples" / "shared" / "steps.mlp"
    shared.write_text(shared.read_text(encoding="utf-8") + "\n# changed\n", encoding="utf-8")
    later = time.time() + 5
    os.utime(shared, (later, later))
    assert incremental.reuse(base, stamps, text, config_for(base.real_path)) is None


@pytest.mark.parametrize("index", [0, 4])
def test_the_syntax_index_is_built_only_on_demand(tmp_path: Path, index: int):
    path = documents(tmp_path)[index]
    analysis = Analysis.build(path.read_text(encoding="utf-8"), path.as_uri())
    assert analysis._occurrences is None
    assert analysis.occurrences and analysis.definitions


def test_an_edit_map_moves_offsets_and_spans_across_one_edit():
    from mlplang.source import SourceFile

    old = "step a {\n  run = 1\n}\nstep b {}\n"
    new = old.replace("run = 1", "run = 12345")
    edits = incremental.EditMap(incremental.difference(old, new))
    assert edits.edit.delta == 4
    source = SourceFile.from_text(old, "f.mlp")
    b = old.index("b")
    assert edits.to_current(source.span(b, b + 1))[5:] == (b + 4, b + 5)  # after the edit: shifted
    assert edits.to_current(source.span(0, 4)) == source.span(0, 4)  # before it: the same object's value
    whole = source.span(0, old.index("}") + 1)  # a span around the edit grows with it
    assert edits.to_current(whole)[5:] == (0, new.index("}") + 1)
    assert edits.edit.start == old.index("1") + 1  # the common prefix keeps the "1": "2345" is inserted
    assert edits.to_analysed(new.index("12345") + 3) == edits.edit.start  # inside the edit: where it starts
    assert edits.to_analysed(new.index("b")) == b
    assert edits.touches(source.span(old.index("1"), old.index("1") + 1))  # the changed number
    assert edits.touches(source.span(old.index("run"), old.index("run") + 3)) is False
    assert not incremental.NO_EDIT.touches(whole) and incremental.NO_EDIT.to_analysed(7) == 7
