"""`mlp lsp` end to end: a real LSP client (pytest-lsp) talks to `python -m mlplang lsp`
over stdio about a copy of examples/fraud_detection.mlp. Every wait has a timeout."""

from __future__ import annotations

import asyncio
import re
import shutil
import sys
from pathlib import Path

import pytest

pytest.importorskip("pygls")
pytest_lsp = pytest.importorskip("pytest_lsp")

from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "fraud_detection.mlp"
TIMEOUT = 15
pytestmark = pytest.mark.asyncio(loop_scope="module")


# One server for the module (it starts in ~1 s); every test opens its own documents.
@pytest_lsp.fixture(scope="module",
                    config=ClientServerConfig(server_command=[sys.executable, "-m", "mlplang", "lsp"]))
async def client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(
        types.InitializeParams(capabilities=client_capabilities("visual-studio-code")))
    yield
    await lsp_client.shutdown_session()


def position(text: str, needle: str, delta: int = 0, occurrence: int = 0) -> types.Position:
    index = -1
    for _ in range(occurrence + 1):
        index = text.index(needle, index + 1)
    index += delta
    line = text.count("\n", 0, index)
    column = index - (text.rfind("\n", 0, index) + 1)
    return types.Position(line=line, character=len(text[index - column:index].encode("utf-16-le")) // 2)


async def wait_diagnostics(client: LanguageClient, uri: str, predicate) -> list[types.Diagnostic]:
    async def loop():
        while not (uri in client.diagnostics and predicate(client.diagnostics[uri])):
            await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        return list(client.diagnostics[uri])

    return await asyncio.wait_for(loop(), TIMEOUT)


async def open_document(client: LanguageClient, path: Path, text: str | None = None) -> tuple[str, str]:
    text = path.read_text(encoding="utf-8") if text is None else text
    uri = path.as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id="mlp", version=1, text=text)))
    return uri, text


@pytest.fixture
def fraud(tmp_path: Path) -> Path:
    target = tmp_path / "lsp_e2e_fraud.mlp"
    shutil.copy(EXAMPLE, target)
    return target


def change(client: LanguageClient, uri: str, version: int, text: str) -> None:
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)]))


async def test_diagnostics_appear_and_clear(client: LanguageClient, tmp_path: Path):
    path = tmp_path / "lsp_e2e_invalid.mlp"
    good = EXAMPLE.read_text(encoding="utf-8")
    # Two independent syntax errors and, on a fixed copy, an unknown reference.
    bad = good.replace("retries = 3", "retries = = 3").replace("cache = true", "cache = }")
    uri, _ = await open_document(client, path, bad)
    diagnostics = await wait_diagnostics(client, uri, lambda d: len(d) > 0)
    syntax = [d for d in diagnostics if d.code == "MLP001"]
    assert len(syntax) >= 2, diagnostics
    assert all(d.severity == types.DiagnosticSeverity.Error and d.source == "mlp" for d in syntax)
    assert syntax[0].range.start.line == position(bad, "= = 3", 2).line
    assert syntax[0].code_description is not None

    typo = good.replace("= split.holdout", "= split.holdot")
    change(client, uri, 2, typo)
    diagnostics = await wait_diagnostics(client, uri, lambda d: any(x.code == "MLP101" for x in d))
    unknown = next(d for d in diagnostics if d.code == "MLP101")
    assert unknown.range.start == position(typo, "holdot")
    assert "did you mean `holdout`?" in unknown.message

    actions = await asyncio.wait_for(client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=unknown.range,
        context=types.CodeActionContext(diagnostics=[unknown]))), TIMEOUT)
    fix = next(a for a in actions if a.title.startswith("Replace"))
    assert fix.edit.changes[uri][0].new_text == "holdout"
    assert fix.edit.changes[uri][0].range == unknown.range

    change(client, uri, 3, good)
    assert await wait_diagnostics(client, uri, lambda d: len(d) == 0) == []


async def test_rapid_edits_publish_only_the_latest_version(client: LanguageClient, tmp_path: Path):
    path = tmp_path / "lsp_e2e_rapid.mlp"
    good = EXAMPLE.read_text(encoding="utf-8")
    uri, _ = await open_document(client, path, good)
    await wait_diagnostics(client, uri, lambda d: True)
    for version in range(2, 12):
        change(client, uri, version, good.replace("retries = 3", "retries = = 3" if version % 2 else "retries = 3"))
    # The last edit (version 11) is invalid; intermediate versions must not win.
    diagnostics = await wait_diagnostics(client, uri, lambda d: any(x.code == "MLP001" for x in d))
    await asyncio.sleep(0.5)  # nothing older may arrive afterwards
    assert any(x.code == "MLP001" for x in client.diagnostics[uri])
    assert diagnostics


async def published(client: LanguageClient, uri: str, version: int) -> list[types.Diagnostic]:
    """The diagnostics published for exactly this version of the document."""
    while True:
        params = await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        if params.uri == uri and params.version == version:
            return list(params.diagnostics)


async def change_and_wait(client: LanguageClient, uri: str, version: int, text: str) -> list[types.Diagnostic]:
    waiter = asyncio.ensure_future(published(client, uri, version))
    await asyncio.sleep(0)  # waiting before the change: the answer cannot be missed
    change(client, uri, version, text)
    return await asyncio.wait_for(waiter, TIMEOUT)


async def test_comment_edits_and_the_requests_after_them(client: LanguageClient, tmp_path: Path):
    # An edit inside a comment is answered from the previous analysis (`incremental`); the diagnostics are
    # those of a full analysis, and requests after it still see the new text.
    path = tmp_path / "lsp_e2e_comment.mlp"
    text = (ROOT / "examples" / "bad" / "unsafe_deploy.mlp").read_text(encoding="utf-8")
    uri, _ = await open_document(client, path, text)
    before = await wait_diagnostics(client, uri, lambda d: len(d) > 0)
    at = text.index("# The pipelines next to this folder") + 1
    commented = text[:at] + " (edited, with a 😀)" + text[at:]
    assert await change_and_wait(client, uri, 2, commented) == before
    reference, _ = await open_document(client, tmp_path / "lsp_e2e_comment_reference.mlp", commented)
    full = await wait_diagnostics(client, reference, lambda d: len(d) > 0)
    assert [(d.code, d.range, d.message) for d in full] == [(d.code, d.range, d.message) for d in before]

    hover = await asyncio.wait_for(client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=position(commented, "step deploy", 6))), TIMEOUT)
    assert hover is not None and "step `deploy`" in hover.contents.value
    assert hover.range.start == position(commented, "step deploy", 5)

    shifted = await change_and_wait(client, uri, 3, "\n" + commented)  # not in a comment: a full analysis
    assert [d.range.start.line for d in shifted] == [d.range.start.line + 1 for d in before]
    assert await change_and_wait(client, uri, 4, "\n" + commented) == shifted  # an unchanged text


async def test_lint_rules_and_suppression_fix(client: LanguageClient, tmp_path: Path):
    path = tmp_path / "lsp_e2e_rules.mlp"
    text = EXAMPLE.read_text(encoding="utf-8").replace("@sha256:7fc83812afade3edb9f1aa25aea2b3ddd3b5cde2acc7e46bf2c4aac167f995ca", "")
    uri, _ = await open_document(client, path, text)
    diagnostics = await wait_diagnostics(client, uri, lambda d: len(d) > 0)
    rule = next(d for d in diagnostics if d.code >= "MLP200")
    actions = await asyncio.wait_for(client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=rule.range,
        context=types.CodeActionContext(diagnostics=[rule]))), TIMEOUT)
    ignore = next(a for a in actions if a.title.startswith("Ignore"))
    edit = ignore.edit.changes[uri][0]
    assert edit.new_text == f"  # mlp: ignore[{rule.code}]"
    assert edit.range.start.line == rule.range.start.line


async def test_hover(client: LanguageClient, fraud: Path):
    uri, text = await open_document(client, fraud)

    async def hover(needle: str, delta: int = 0, occurrence: int = 0) -> str:
        result = await asyncio.wait_for(client.text_document_hover_async(types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=position(text, needle, delta, occurrence))), TIMEOUT)
        assert result is not None, needle
        return result.contents.value

    artifact = await hover("= train.model", 9)
    assert "`train.model: Model<sklearn>`" in artifact and "produced by step `train`" in artifact
    assert "`transactions`" in artifact and "PII: none" in artifact
    step = await hover("= train.model", 3)
    assert "step `train`" in step and "`model: Model<sklearn>`" in step and "`metrics: Metrics`" in step
    templated = await hover("step validate", 6)
    assert "from template `check_schema` (std/data.mlp)" in templated
    source = await hover("= transactions", 3)
    assert "source `transactions: Dataset`" in source and "`card_number`" in source
    raw = await hover("in raw:", 4)  # an input still holds the source's PII
    assert "`email`" in raw


async def test_hover_on_suppression_code(client: LanguageClient, tmp_path: Path):
    path = tmp_path / "lsp_e2e_suppress.mlp"
    text = EXAMPLE.read_text(encoding="utf-8").replace(
        "step anonymize {", "step anonymize {  # mlp: ignore[MLP201]", 1)
    uri, _ = await open_document(client, path, text)
    result = await asyncio.wait_for(client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=position(text, "MLP201]", 2))), TIMEOUT)
    assert result is not None and "deploy-without-gate" in result.contents.value


async def test_definition_and_references(client: LanguageClient, fraud: Path):
    uri, text = await open_document(client, fraud)
    location = await asyncio.wait_for(client.text_document_definition_async(types.DefinitionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=position(text, "= train.model", 3))), TIMEOUT)
    assert location.uri == uri and location.range.start == position(text, "step train", 5)

    output = await asyncio.wait_for(client.text_document_definition_async(types.DefinitionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=position(text, "= train.model", 9))), TIMEOUT)
    assert output.range.start == position(text, "out model:", 4)

    param = await asyncio.wait_for(client.text_document_definition_async(types.DefinitionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=position(text, "${param.epochs}", 8))), TIMEOUT)
    assert param.range.start == position(text, "param epochs", 6)

    template = await asyncio.wait_for(client.text_document_definition_async(types.DefinitionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=position(text, "data.check_schema", 6))), TIMEOUT)
    std = ROOT / "mlplang" / "stdlib" / "data.mlp"
    assert template.uri == std.as_uri()
    assert std.read_text(encoding="utf-8").splitlines()[template.range.start.line][
        template.range.start.character:template.range.end.character] == "check_schema"

    refs = await asyncio.wait_for(client.text_document_references_async(types.ReferenceParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=position(text, "step split", 5),
        context=types.ReferenceContext(include_declaration=True))), TIMEOUT)
    lines = {r.range.start.line for r in refs}
    assert position(text, "step split", 5).line in lines
    assert position(text, "= split.train").line in lines and position(text, "= split.holdout").line in lines
    assert all(text.splitlines()[r.range.start.line][r.range.start.character:r.range.end.character] == "split"
               for r in refs)


async def test_completion(client: LanguageClient, tmp_path: Path):
    path = tmp_path / "lsp_e2e_complete.mlp"
    base = EXAMPLE.read_text(encoding="utf-8")
    marker = "    cache = false\n"
    cases = {
        "    in extra: Model = train.": ({"model", "metrics"}, set()),
        "    in extra: ": (set(), set()),
        "    env = { X = param.": ({"epochs", "min_auc"}, set()),
        "    env = { Y = secret.": ({"warehouse_token"}, set()),
        '    run = "echo ${out.': ({"model", "metrics"}, set()),
        '    run = "echo ${in.': ({"data"}, set()),
        "    out other: ": ({"Model", "Dataset", "Metrics"}, {"int"}),
        "    ": ({"in", "out", "after", "retries"}, set()),
    }
    uri, _ = await open_document(client, path, base)
    version = 1
    for prefix, (expected, absent) in cases.items():
        version += 1
        text = base.replace(marker, marker + prefix + "\n", 1)
        change(client, uri, version, text)
        at = position(text, marker + prefix, len(marker) + len(prefix))
        result = await asyncio.wait_for(client.text_document_completion_async(types.CompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri), position=at)), TIMEOUT)
        labels = {item.label for item in result.items}
        assert expected <= labels, (prefix, labels)
        assert not absent & labels, (prefix, labels)


async def test_document_symbols(client: LanguageClient, fraud: Path):
    uri, _ = await open_document(client, fraud)
    symbols = await asyncio.wait_for(client.text_document_document_symbol_async(types.DocumentSymbolParams(
        text_document=types.TextDocumentIdentifier(uri=uri))), TIMEOUT)
    assert [s.name for s in symbols] == ["fraud_detection"]
    children = {c.name: c.detail for c in symbols[0].children}
    assert children["train"] == "step" and children["validate"] == "step"
    assert children["transactions"] == "source" and children["epochs"] == "param"
    assert children["warehouse_token"] == "secret"
    assert "gate" in children.values() and "monitor" in children.values()


async def test_rename(client: LanguageClient, fraud: Path):
    uri, text = await open_document(client, fraud)

    async def rename(needle: str, delta: int, new_name: str) -> str:
        edit = await asyncio.wait_for(client.text_document_rename_async(types.RenameParams(
            text_document=types.TextDocumentIdentifier(uri=uri), position=position(text, needle, delta),
            new_name=new_name)), TIMEOUT)
        return apply(text, edit.changes[uri])

    renamed = await rename("step split", 5, "partition")
    assert "step partition {" in renamed and "= partition.train" in renamed and "= partition.holdout" in renamed
    assert not re.search(r"\bsplit\.(train|holdout)|step split\b", renamed)
    renamed = await rename("out holdout", 4, "test_set")
    assert "out test_set:" in renamed and "= split.test_set" in renamed and "${out.test_set}" in renamed
    renamed = await rename("param epochs", 6, "n_epochs")
    assert "param n_epochs: int" in renamed and "${param.n_epochs}" in renamed and "param.epochs" not in renamed

    # The renamed document is still valid: the server reports nothing for it.
    path = fraud.with_name("lsp_e2e_renamed.mlp")
    renamed_uri, _ = await open_document(client, path, renamed)
    assert await wait_diagnostics(client, renamed_uri, lambda d: True) == []


def apply(text: str, edits: list[types.TextEdit]) -> str:
    lines = text.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))

    def offset(p: types.Position) -> int:  # the example is ASCII: UTF-16 units are characters
        return offsets[p.line] + p.character

    for edit in sorted(edits, key=lambda e: offset(e.range.start), reverse=True):
        text = text[: offset(edit.range.start)] + edit.new_text + text[offset(edit.range.end):]
    return text


async def test_malformed_documents_do_not_crash(client: LanguageClient, tmp_path: Path):
    path = tmp_path / "lsp_e2e_garbage.mlp"
    text = 'pipeline p {\n step \U0001F600 = = {{{ "unterminated\n  ${in.\n'
    uri, _ = await open_document(client, path, text)
    diagnostics = await wait_diagnostics(client, uri, lambda d: len(d) > 0)
    assert diagnostics
    for line in range(4):
        for character in (0, 3, 8, 40):
            params = {"text_document": types.TextDocumentIdentifier(uri=uri),
                      "position": types.Position(line=line, character=character)}
            await asyncio.wait_for(client.text_document_hover_async(types.HoverParams(**params)), TIMEOUT)
            await asyncio.wait_for(client.text_document_completion_async(types.CompletionParams(**params)), TIMEOUT)
            await asyncio.wait_for(client.text_document_definition_async(types.DefinitionParams(**params)), TIMEOUT)
    symbols = await asyncio.wait_for(client.text_document_document_symbol_async(types.DocumentSymbolParams(
        text_document=types.TextDocumentIdentifier(uri=uri))), TIMEOUT)
    assert isinstance(symbols, list)


async def test_a_5000_line_document(client: LanguageClient, tmp_path: Path):
    sys.path.insert(0, str(ROOT / "bench"))
    from generate import generate

    text = generate(500, "chain")
    assert text.count("\n") >= 5000
    path = tmp_path / "lsp_e2e_large.mlp"
    uri, _ = await open_document(client, path, text)
    assert await wait_diagnostics(client, uri, lambda d: True) == []
    symbols = await asyncio.wait_for(client.text_document_document_symbol_async(types.DocumentSymbolParams(
        text_document=types.TextDocumentIdentifier(uri=uri))), TIMEOUT)
    assert sum(1 for c in symbols[0].children if c.detail == "step") == 500
    last = re.findall(r"step (\w+) \{", text)[-1]
    hover = await asyncio.wait_for(client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=position(text, f"step {last} {{", 5))), TIMEOUT)
    assert hover is not None and f"step `{last}`" in hover.contents.value


async def test_formatting_when_the_formatter_exists(client: LanguageClient, fraud: Path):
    formatter = pytest.importorskip("mlplang.formatter")
    if not hasattr(formatter, "format_text"):
        pytest.skip("mlplang.formatter has no format_text yet")
    text = fraud.read_text(encoding="utf-8").replace("retries = 2", "retries    =     2 ;")
    uri, _ = await open_document(client, fraud, text)
    edits = await asyncio.wait_for(client.text_document_formatting_async(types.DocumentFormattingParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        options=types.FormattingOptions(tab_size=2, insert_spaces=True))), TIMEOUT)
    expected = formatter.format_text(text, str(fraud))
    expected = expected[0] if isinstance(expected, tuple) else expected
    assert edits and apply(text, edits) == expected
    assert "retries = 2\n" in expected

    broken = text.replace("retries    =", "retries = =")
    change(client, uri, 2, broken)
    edits = await asyncio.wait_for(client.text_document_formatting_async(types.DocumentFormattingParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        options=types.FormattingOptions(tab_size=2, insert_spaces=True))), TIMEOUT)
    assert not edits  # a file that does not parse is left alone


LIBRARY = '''template summarize(data: Dataset, top: int = 10) {
  image = "python:3.12-slim@sha256:cb4ce0eca1043b8d528dc75e658ef840ebfdc3fa73db28d5172fdbaa2969de8d"
  run = "python3 summarize.py ${in.data} ${param.top} ${out.summary}"
  out summary: Metrics
}
'''

MAIN = '''import "./lsp_e2e_library.mlp" as lib

pipeline reports {
  source events: Dataset { uri = "s3://acme/events/" }
  step summary = lib.summarize(data = events, top = 5)
  step publish {
    image = "python:3.12-slim@sha256:cb4ce0eca1043b8d528dc75e658ef840ebfdc3fa73db28d5172fdbaa2969de8d"
    run = "publish ${in.numbers}"
    in numbers: Metrics = summary.summary
  }
}
'''


async def test_definition_into_an_imported_file(client: LanguageClient, tmp_path: Path):
    library = tmp_path / "lsp_e2e_library.mlp"
    library.write_text(LIBRARY, encoding="utf-8")
    uri, text = await open_document(client, tmp_path / "lsp_e2e_importer.mlp", MAIN)
    template = await asyncio.wait_for(client.text_document_definition_async(types.DefinitionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=position(text, "lib.summarize", 5))), TIMEOUT)
    assert template.uri == library.as_uri() and template.range.start == position(LIBRARY, "summarize(", 0)
    output = await asyncio.wait_for(client.text_document_definition_async(types.DefinitionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=position(text, "summary.summary", 9))), TIMEOUT)
    assert output.uri == library.as_uri() and output.range.start.line == position(LIBRARY, "out summary").line
    result = await asyncio.wait_for(client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=position(text, "step summary", 5))), TIMEOUT)
    assert "from template `summarize`" in result.contents.value and "`summary: Metrics`" in result.contents.value
    completion = await asyncio.wait_for(client.text_document_completion_async(types.CompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=position(text, "lib.summarize", 4))), TIMEOUT)
    assert "summarize" in {item.label for item in completion.items}
    result = await asyncio.wait_for(client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=position(text, "lib.summarize", 6))), TIMEOUT)
    assert "template `summarize(data: Dataset, top: int = ...)`" in result.contents.value
