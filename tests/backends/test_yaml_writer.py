"""The fast YAML writer against PyYAML: `dump` must write exactly what
PyYAML (libyaml's emitter) writes for the same document."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlplang.backends import yaml_writer
from mlplang.backends.yaml_writer import _pyyaml_dump, _Unsupported, _Writer, dump

TOKENS = [
    "a", "b", "Z", "_", "x.y", "step_1", " ", "  ", ":", ": ", " #", "#", "-", "- ", "--", "---", "...", "?", "? ",
    "'", '"', "\\", "\n", "\n\n", "\t", "\r", "\r\n", "\x85", "\u2028", "\u2029", "\x00", "\x7f", "\x1b",
    "é", "漢", "\U0001F600", "\ufeff", "\u200e", "\ua000", "\ufffd", "\uffff",
    "{", "}", "[", "]", ",", "&", "*", "!", "|", ">", "%", "@", "`", ".", "=", "<<", "~",
    "0", "1", "12", "-1", "+1", "1.0", "1e3", ".5", ".inf", ".NaN", "0x1f", "0o17", "1_000", "1:30", "2024-01-01",
    "2024-01-01 10:00:00", "yes", "No", "ON", "off", "y", "n", "true", "False", "null", "Null", "NULL",
    "${{ inputs.x }}", "$HOME", "echo", "run", "on",
]


def random_text(rnd: random.Random) -> str:
    return "".join(rnd.choice(TOKENS) for _ in range(rnd.choice([0, 1, 1, 1, 2, 3, 5, 8])))


def random_value(rnd: random.Random, depth: int):
    roll = rnd.random()
    if depth > 0 and roll < 0.2:
        return {random_text(rnd): random_value(rnd, depth - 1) for _ in range(rnd.randint(0, 4))}
    if depth > 0 and roll < 0.35:
        return [random_value(rnd, depth - 1) for _ in range(rnd.randint(0, 4))]
    if roll < 0.4:
        return rnd.choice([None, True, False, 0, -7, 10**20, 2.0, 0.1, 1e20, 1e-5, float("inf"), float("nan")])
    return random_text(rnd)


def test_random_documents_match_pyyaml():
    rnd = random.Random(20261130)
    fast = 0
    for _ in range(3000):
        document = {random_text(rnd): random_value(rnd, 4) for _ in range(rnd.randint(0, 5))}
        try:
            text = _Writer().document(document)
        except _Unsupported:
            continue
        except UnicodeEncodeError:
            continue
        fast += 1
        assert text == _pyyaml_dump(document), document
    assert fast > 1000  # most documents take the fast path


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=8), st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=12,
), max_size=4))
def test_generated_documents_match_pyyaml(document):
    try:
        expected = _pyyaml_dump(document)
    except UnicodeEncodeError:  # lone surrogates: PyYAML cannot write them either
        with pytest.raises(UnicodeEncodeError):
            dump(document)
        return
    assert dump(document) == expected


@pytest.mark.parametrize("value", [
    "plain", "on", "yes", "1.0", "", " lead", "trail ", "a: b", "a #b", "a#b", "- a", "-a", "? a", "?a", ":a", "a:",
    "${{ inputs.x }}", "x\n", "x\ny", "x\ny\n", " x\ny\n", "\nx\n", "x \ny\n", "x\ny ", "x\n\n", "\n", "x\ty\n",
    "x\r\ny\n", "x\u2028y", "caf\u00e9 \u6f22", "\U0001F600", "a" * 300, "k" * 129,
])
def test_scalars_match_pyyaml(value):
    for document in ({"k": value}, {"k": [value, {"j": value}]}, {value: 1}, {"k": [[value]]}):
        assert dump(document) == _pyyaml_dump(document)


def test_shared_containers_fall_back_to_pyyaml():
    shared = {"a": 1}
    document = {"x": shared, "y": shared}
    with pytest.raises(_Unsupported):
        _Writer().document(document)
    assert dump(document) == _pyyaml_dump(document)
    assert "&id001" in dump(document)


def test_header_comments():
    assert dump({"a": "b"}, ["one", "two"]) == "# one\n# two\na: b\n"
    assert yaml_writer.dump({}) == "{}\n"


def test_long_scalars():
    block = "echo one two three\n" * 6000  # > 100,000 columns: literal blocks are never folded
    document = {"run": block, "steps": [{"run": block}]}
    assert _Writer().document(document) == _pyyaml_dump(document)
    line = "word " * 25_000 + "end"  # one line past the width: PyYAML folds it, and writes it here too
    with pytest.raises(_Unsupported):
        _Writer().document({"k": line})
    assert dump({"k": line}) == _pyyaml_dump({"k": line})


def test_sorted_keys():
    document = {"b": {"z": 1, "a": [{"y": 2, "x": 3}]}, "a": "text"}
    expected = _pyyaml_dump({"a": "text", "b": {"a": [{"x": 3, "y": 2}], "z": 1}})
    assert dump(document, sort_keys=True) == expected
    shared = {"k": 1}
    assert dump({"x": shared, "y": shared}, sort_keys=True) == "x:\n  k: 1\ny:\n  k: 1\n"  # a copy: no alias
