"""docs/rules.md is generated from the rules' docstrings, the configuration
defaults and the JSON output schema; it must match what the code generates."""

from __future__ import annotations

import difflib
import re
import sys
import textwrap
from pathlib import Path

import pytest

from mlplang.compiler.rules import DOC_HEADINGS, all_rules, docs
from mlplang.config import LintConfig, parse_config
from mlplang.diagnostics import codes

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "rules.md"


def test_rules_md_is_generated_from_the_code():
    expected = docs.render(docs.read_schema(PAGE))
    current = PAGE.read_text(encoding="utf-8")
    if current != expected:
        diff = difflib.unified_diff(current.splitlines(), expected.splitlines(), "docs/rules.md", "generated",
                                    lineterm="")
        pytest.fail(f"docs/rules.md is stale: run `{docs.REGENERATE}` and review the diff\n"
                    + "\n".join(list(diff)[:40]), pytrace=False)


def test_every_builtin_rule_has_a_section_with_its_severity():
    text = PAGE.read_text(encoding="utf-8")
    for rule in docs.builtin_rules():
        section = re.search(rf"^## {rule.code} {re.escape(rule.name)}\n\n(.*?)(?=^## |\Z)", text, re.M | re.S)
        assert section, f"no `## {rule.code} {rule.name}` section"
        assert f"Default severity: **{rule.severity.value}**" in section.group(1)
        for heading in DOC_HEADINGS:
            assert f"### {heading}\n" in section.group(1), f"{rule.code}: its docstring lacks `## {heading}`"


def test_every_configuration_key_is_documented():
    text = PAGE.read_text(encoding="utf-8")
    # `targets` holds the backends' `[tool.mlp.<target>]` tables, documented with the backends.
    keys = [field.alias or name for name, field in LintConfig.model_fields.items() if name not in ("path", "targets")]
    for key in keys:
        assert f"| `{key}` |" in text, f"[tool.mlp] key `{key}` is missing from the table in docs/rules.md"


def test_the_page_names_the_secret_interpolation_error():
    text = PAGE.read_text(encoding="utf-8")
    assert "`${secret.X}` in `run`" in text and "MLP120" in text


def test_check_mode_reports_a_stale_page(tmp_path, capsys):
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "lint-output.schema.json").write_bytes(
        (ROOT / "docs" / "schemas" / "lint-output.schema.json").read_bytes())
    page = tmp_path / "rules.md"
    assert docs.main(["--check", "-o", str(page)]) == 1
    assert docs.REGENERATE in capsys.readouterr().err
    assert docs.main(["-o", str(page)]) == 0
    assert docs.main(["--check", "-o", str(page)]) == 0
    assert page.read_text(encoding="utf-8") == PAGE.read_text(encoding="utf-8")


@pytest.mark.parametrize("page", ["docs/rules.md", "README.md"])
def test_configuration_examples_are_valid(page):
    """Every ```toml block of the page is a valid `[tool.mlp]` configuration, or the
    `pyproject.toml` entry-point table of a package of rules."""
    text = (ROOT / page).read_text(encoding="utf-8")
    blocks = [textwrap.dedent(m.group(2)) for m in re.finditer(r"^( *)```toml\n(.*?)^\1```", text, re.M | re.S)]
    assert blocks, f"{page} has no ```toml example"
    all_rules()
    known = {code: entry.name for code, entry in codes.REGISTRY.items()}
    for block in blocks:
        document = tomllib.loads(block)
        if "project" in document:
            from mlplang.compiler.rules import ENTRY_POINT_GROUP

            assert list(document) == ["project"] and list(document["project"]["entry-points"]) == [ENTRY_POINT_GROUP]
            continue
        config = parse_config(document["tool"]["mlp"], page)
        config.check_names(known)
