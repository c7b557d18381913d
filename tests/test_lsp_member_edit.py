"""`mlplang.lsp.member_edit`: after an edit inside one member, parsing only that member
must give exactly the diagnostics of a full analysis of the edited text, on random
edits (most inside a member, where the derivation applies, the others anywhere)."""

from __future__ import annotations

import random
import re
import shutil
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlplang.lsp import incremental, member_edit
from mlplang.lsp.analysis import Analysis, config_for

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
sys.path.insert(0, str(ROOT / "bench"))

from generate import generate  # noqa: E402

# Findings whose labels cross members (PII from a source to a deploy step), suppressions
# by line and by block, a template instantiated below its definition, a trailing comment.
SYNTHETIC = '''import "std/data" as data

template trainer(data: Dataset, seed: int = 1) {
  out model: Model
  image = "python:3.11"
  run = "python train.py --data ${in.data} --seed ${param.seed} --out ${out.model}"
}

pipeline demo {
  owner = "ml-team"
  description = "a demo"
  risk = "high"
  param seed: int = 7
  secret token
  source raw: Dataset {
    uri = "s3://bucket/raw.csv"
    pii = ["email"]
  }
  source schema: Artifact {
    uri = "s3://bucket/schema.json"
    version = "1"
  }
  step checked = data.check_schema(data = raw, schema = "s3://bucket/schema.json")
  step train {  # mlp: ignore[MLP201]
    in data: Dataset = raw
    out model: Model
    image = "python:3.11"
    run = "python train.py --seed ${param.seed} --data ${in.data} --out ${out.model}"
    env = { TOKEN = secret.token }
  }
  step fit = trainer(data = raw, seed = 3)
  # between the steps
  step deploy {
    in model: Model = train.model
    out endpoint: Endpoint
    image = "python:3.11"  # mlp: ignore[MLP205]
    run = "deploy ${in.model} ${out.endpoint}"
  }
}
# the end'''

# Two pipelines and a template after them: members of the first are followed by whole items,
# the second has a suppression on its first line (its edits are left to a full analysis).
MULTI = '''pipeline first {
  owner = "ml-team"
  source raw: Dataset {
    uri = "s3://bucket/raw.csv"
    version = "3"
    pii = ["email"]
  }
  step train {
    in data: Dataset = raw
    out model: Model
    image = "python:3.11"
    run = "python train.py --data ${in.data} --out ${out.model}"
  }
}

pipeline second {  # mlp: ignore[MLP208]
  source raw: Dataset { uri = "s3://bucket/other.csv" }
  step score = scorer(data = raw)
  step deploy {
    in model: Model = score.model
    out endpoint: Endpoint
    run = "deploy ${in.model} ${out.endpoint}"
  }
}

template scorer(data: Dataset) {
  out model: Model
  image = "python:3.11"
  run = "score ${in.data} ${out.model}"
}
'''

# Snippets that keep a member valid as often as not: names, references, strings, suppressions.
ALPHABET = ["a", "Z", "_2", " ", "\n", "\r\n", "\n    ", '"', "{", "}", "=", "é", "😀", ".", "raw", "train.model",
            "clean.data", "# mlp: ignore[MLP201]", "# note", "password=hunter2", "${param.seed}",
            "${in.data}", "Dataset", "Model", "retries = 3", "\n    timeout = 30m\n", "out extra: Metrics\n    ",
            "in more: Dataset = raw\n    ", "pii", "deploy", "seed", "x = 1"]


def documents(tmp_path: Path) -> list[Path]:
    shutil.copytree(EXAMPLES, tmp_path / "examples")
    synthetic = tmp_path / "examples" / "synthetic.mlp"
    synthetic.write_text(SYNTHETIC, encoding="utf-8")
    generated = tmp_path / "examples" / "generated.mlp"
    generated.write_text(generate(40, "wide"), encoding="utf-8")
    (tmp_path / "examples" / "multi.mlp").write_text(MULTI, encoding="utf-8")
    (tmp_path / "examples" / "crlf.mlp").write_bytes(SYNTHETIC.replace("\n", "\r\n").encode("utf-8"))
    names = ["bad/unsafe_deploy.mlp", "fraud_detection.mlp", "gpu_training.mlp", "rag_assistant.mlp",
             "continuous_training.mlp", "stdlib_pipeline.mlp", "synthetic.mlp", "generated.mlp", "multi.mlp",
             "crlf.mlp"]
    return [tmp_path / "examples" / name for name in names]


# What typing a new member between two others looks like, a keystroke at a time.
NEW_MEMBER = ["\n  s", "\n  step", "\n  step x", "\n  step x {", "\n  step x {\n    run = ",
              "\n  param", "\n  param p: int =", "\n  source s: Dataset {", "\n  gate g { require ", "\n  owner",
              # and complete ones, spliced in as members
              "\n  param pp: int = 3", "\n  secret extra_token", '\n  step extra {\n    run = "true"\n  }',
              "\n  # a comment\n", "\n\n"]


def random_edit(rng: random.Random, text: str, analysis: Analysis) -> str:
    members = [m.span for item in analysis.result.module.items if hasattr(item, "members") for m in item.members]
    roll = rng.random()
    if members and roll < 0.75:
        member = rng.choice(members)
        start = rng.randint(member.start + 1, member.end - 1)
        end = min(member.end - 1, start + rng.choice([0, 0, 1, 3, 8]))
    elif members and roll < 0.9:  # a new member being typed after one
        start = end = rng.choice(members).end
        return text[:start] + rng.choice(NEW_MEMBER) + text[end:]
    else:
        start = rng.randint(0, len(text))
        end = min(len(text), start + rng.choice([0, 1, 2, 5]))
    inserted = "".join(rng.choice(ALPHABET) for _ in range(rng.choice([0, 1, 1, 2])))
    return text[:start] + inserted + text[end:]


def test_random_member_edits_derive_exactly_the_full_diagnostics(tmp_path: Path):
    from mlplang.lsp.server import lsp_diagnostics

    rng = random.Random(20261130)
    derived_count = with_findings = trials = 0
    for path in documents(tmp_path):
        text = path.read_bytes().decode("utf-8")  # as the editor sends it: line endings kept
        uri = path.as_uri()
        base = Analysis.build(text, uri)
        stamps = incremental.dependencies(base)
        config = config_for(base.real_path)
        for _ in range(60):
            edited = random_edit(rng, text, base)
            derived = member_edit.derive(base, stamps, edited, config)
            trials += 1
            if derived is None:
                continue
            derived_count += 1
            full = Analysis.build(edited, uri)
            assert derived[0] == full.diagnostics, (path.name, edited)
            with_findings += bool(full.diagnostics) and full.diagnostics != base.diagnostics
            view = Analysis(edited, base.path, base.real_path, base.result, derived[0], base.config)
            assert lsp_diagnostics(view, edited, "utf-16") == lsp_diagnostics(full, edited, "utf-16")
    assert derived_count > trials // 4  # the member path was really taken
    assert with_findings > 10  # and on edits that changed what is reported
    assert derived_count < trials  # and refused where it could not be sure


@pytest.fixture
def synthetic(tmp_path: Path) -> tuple[Path, str, Analysis]:
    path = documents(tmp_path)[6]
    text = path.read_text(encoding="utf-8")
    return path, text, Analysis.build(text, path.as_uri())


def derive(base: Analysis, edited: str):
    return member_edit.derive(base, incremental.dependencies(base), edited, config_for(base.real_path))


def test_a_new_finding_inside_the_member_is_placed_in_the_edited_text(synthetic):
    path, text, base = synthetic
    edited = text.replace("in model: Model = train.model", "in model: Model = trian.model\n    retries = 2")
    derived = derive(base, edited)
    full = Analysis.build(edited, path.as_uri())
    assert derived is not None and derived[0] == full.diagnostics
    unknown = [d for d in full.diagnostics if "trian" in d.message]
    assert unknown and unknown[0].span.line == edited[:edited.index("trian")].count("\n") + 1


def test_findings_after_the_member_move_with_the_lines_it_gained(synthetic):
    path, text, base = synthetic
    assert any(d.span.start > text.index("step deploy") for d in base.diagnostics)
    edited = text.replace("    env = { TOKEN = secret.token }\n",
                          '    env = { TOKEN = secret.token }\n    description = """two\n    more lines"""\n')
    derived = derive(base, edited)
    assert derived is not None
    assert derived[0] == Analysis.build(edited, path.as_uri()).diagnostics
    deploy_line = edited[:edited.index("step deploy")].count("\n") + 1
    moved = [d for d in derived[0] if d.span.start > edited.index("step deploy")]
    assert moved and all(d.span.line >= deploy_line for d in moved)


def test_labels_in_the_member_and_after_it_are_left_to_a_full_analysis(synthetic):
    _, text, base = synthetic  # the PII of `raw` reaches `deploy`: MLP206 lists its origins in text order
    assert any(d.code == "MLP206" for d in base.diagnostics)
    assert derive(base, text.replace('uri = "s3://bucket/raw.csv"', 'uri = "s3://bucket/raw2.csv"')) is None


@pytest.mark.parametrize("edit", [
    ("step train {", "step train { step other {} "),  # a step inside a step
    ("out endpoint: Endpoint", "out endpoint: Endpoint = ="),
    ("    out endpoint: Endpoint\n", "    out endpoint: Endpoint\n    r\n"),  # a line being typed
    ("    run = \"deploy", "    run = deploy \"deploy"),
    ("    run = \"deploy", "    run = \"\\q deploy"),  # an unknown escape: the parse completes, with an error
])
def test_syntax_errors_inside_a_member_are_derived(synthetic, edit):
    """The recovering parser reads the member alone (the rest blanked out, positions kept)."""
    path, text, base = synthetic
    old, new = edit
    assert old in text
    edited = text.replace(old, new, 1)
    derived = derive(base, edited)
    full = Analysis.build(edited, path.as_uri())
    assert any(d.code.startswith("MLP00") for d in full.diagnostics)  # syntax errors, or an unknown escape
    assert derived is not None and derived[0] == full.diagnostics


@pytest.mark.parametrize("edit", [
    ("env = { TOKEN = secret.token }\n  }\n  step fit = trainer(data = raw,",  # across two members
     "env = {}\n  }\n  step fit = trainer(data = raw2,"),
    ("uri = \"s3://bucket/raw.csv\"", "uri = \"s3://bucket/raw.csv\" } step x {"),  # a member split in two
    ("    in model: Model = train.model", '    in model: Model = """open'),  # the rest of the file in a string
])
def test_edits_it_must_refuse(synthetic, edit):
    _, text, base = synthetic
    old, new = edit
    assert old in text
    assert derive(base, text.replace(old, new, 1)) is None


def test_the_server_answers_member_edits_without_a_full_analysis(tmp_path: Path):
    """Through `mlp lsp` over stdio (bench/bench_lsp.py's client): each edit of a step's
    description is published from the member path, the opening from a full analysis."""
    import asyncio
    import json

    import bench_lsp

    timing = tmp_path / "timing.jsonl"
    asyncio.run(bench_lsp.measure(generate(60, "chain"), tmp_path / "doc.mlp", 0, repeats=3, warmup=1,
                                  timing=timing))
    paths = [json.loads(line)["path"] for line in timing.read_text(encoding="utf-8").splitlines()]
    assert paths == ["full"] + ["member"] * 4


def test_a_member_edit_leaves_no_garbage_cycles(synthetic):
    """The server does not count member edits towards its periodic full collection."""
    import gc

    _, text, base = synthetic
    edited = text.replace("in model: Model = train.model", "in model: Model = trian.model")
    derive(base, edited)  # warm: caches filled on first use are not garbage
    gc.collect()
    gc.disable()
    try:
        assert derive(base, edited) is not None
        assert gc.collect() == 0
    finally:
        gc.enable()


def test_members_of_a_pipeline_followed_by_other_items(tmp_path: Path):
    path = documents(tmp_path)[8]  # multi.mlp
    text = path.read_text(encoding="utf-8")
    base = Analysis.build(text, path.as_uri())
    first = text.replace('run = "python train.py', 'run = "python3 train.py')
    derived = derive(base, first)
    assert derived is not None and derived[0] == Analysis.build(first, path.as_uri()).diagnostics
    assert any(d.span.start > first.index("pipeline second") for d in derived[0])  # moved findings after it
    # The second pipeline has a suppression on its first line, and a template follows it.
    assert derive(base, text.replace('run = "deploy ${in.model}', 'run = "deploy2 ${in.model}')) is None


def test_a_request_on_a_half_typed_line_does_not_stop_member_edits(tmp_path: Path):
    """A hover while a line is half typed analyses the broken text in full; the next edits
    still derive from the last analysis without a syntax error."""
    import asyncio
    import json
    import os

    from lsprotocol import types
    from pygls.lsp.client import LanguageClient

    text = generate(60, "chain")
    lines = {2: text.replace("    retries = 2\n", "    retries = 2\n    r\n", 1),
             3: text.replace("    retries = 2\n", "    retries = 2\n    re\n", 1),
             4: text.replace("    retries = 2\n", "    retries = 2\n    ret = 1\n", 1)}
    timing = tmp_path / "timing.jsonl"
    uri = (tmp_path / "doc.mlp").as_uri()

    async def session() -> dict[int, list]:
        client = LanguageClient("member-edit-test", "1")
        published: dict[int, list] = {}
        arrived = asyncio.Event()

        @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def on_diagnostics(params: types.PublishDiagnosticsParams) -> None:
            published[params.version or 0] = params.diagnostics
            arrived.set()

        async def until(version: int) -> None:
            while version not in published:
                arrived.clear()
                await asyncio.wait_for(arrived.wait(), 60)

        env = {**os.environ, "MLP_LSP_DEBOUNCE_MS": "0", "MLP_LSP_TIMING": str(timing)}
        await client.start_io(sys.executable, "-m", "mlplang", "lsp", env=env)
        await client.initialize_async(types.InitializeParams(capabilities=types.ClientCapabilities()))
        client.initialized(types.InitializedParams())
        client.text_document_did_open(types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id="mlp", version=1, text=text)))
        await until(1)
        for version, edited in lines.items():
            client.text_document_did_change(types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=edited)]))
            await until(version)
            if version == 2:  # a request: the server analyses the broken text in full
                await client.text_document_hover_async(types.HoverParams(
                    text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=3, character=12)))
        await client.shutdown_async(None)
        client.exit(None)
        await client.stop()
        return published

    published = asyncio.run(session())
    paths = {json.loads(line)["version"]: json.loads(line)["path"] for line in timing.read_text().splitlines()}
    assert paths == {1: "full", 2: "member", 3: "member", 4: "member"}
    assert [d.code for d in published[3]] == ["MLP001"]
    full = Analysis.build(lines[4], uri)  # `ret = 1`: valid syntax, an unknown attribute
    assert [(d.code, d.message.split("\n")[0]) for d in published[4]] == [(d.code, d.message) for d in full.diagnostics]


def test_completion_inside_the_edited_member_needs_no_new_analysis(tmp_path: Path):
    """While the edits since the base stay inside one member, completion is answered from
    the base with offsets mapped to it; edits across members analyse the text in full."""
    from lsprotocol import types
    from pygls.workspace import Workspace

    from mlplang.lsp import server as lsp

    text = generate(30, "chain")
    uri = (tmp_path / "doc.mlp").as_uri()
    ls = lsp.MlpLanguageServer()
    ls.protocol._workspace = Workspace(None, types.TextDocumentSyncKind.Full)  # what `initialize` sets up
    ls.protocol.server_capabilities = types.ServerCapabilities(position_encoding=types.PositionEncodingKind.Utf16)
    ls.workspace.put_text_document(types.TextDocumentItem(uri=uri, language_id="mlp", version=1, text=text))
    ls._full(uri, text).result()
    builds = ls.builds
    anchor = "    retries = 2\n"
    typed = text.replace(anchor, anchor + "    in extra: ", 1)  # a type is expected: a syntax error for now
    ls.workspace.get_text_document(uri).apply_change(types.TextDocumentContentChangeWholeDocument(text=typed))
    cursor = typed.index("    in extra: ") + len("    in extra: ")
    line, character = typed.count("\n", 0, cursor), cursor - typed.rfind("\n", 0, cursor) - 1
    result = lsp.completion(ls, types.CompletionParams(text_document=types.TextDocumentIdentifier(uri=uri),
                                                       position=types.Position(line=line, character=character)))
    assert {"Dataset", "Model", "Metrics"} <= {item.label for item in result.items}
    assert ls.builds == builds  # answered from the base
    first = re.search(r"step (\w+) \{", text).group(1)  # its outputs, completed by name
    reference = typed[:cursor].rsplit("\n", 1)[0] + f"\n    x = {first}."
    ls.workspace.get_text_document(uri).apply_change(
        types.TextDocumentContentChangeWholeDocument(text=reference + typed[cursor:]))
    result = lsp.completion(ls, types.CompletionParams(text_document=types.TextDocumentIdentifier(uri=uri),
                                                       position=types.Position(line=line, character=len(f"    x = {first}."))))
    assert {item.label for item in result.items} == {"data"}  # prep_01's only output
    assert ls.builds == builds
    across = text.replace('description = "', 'description = "x', 1).replace("retries = 2", "retries = 3")
    ls.workspace.get_text_document(uri).apply_change(types.TextDocumentContentChangeWholeDocument(text=across))
    lsp.completion(ls, types.CompletionParams(text_document=types.TextDocumentIdentifier(uri=uri),
                                              position=types.Position(line=2, character=0)))
    assert ls.builds == builds + 1  # edits in several members: a full analysis of the new text
    ls.worker.shutdown()


def test_a_new_member_being_typed_between_two_others(synthetic):
    """Each keystroke group is a syntax error read from the region alone; the finished
    member is parsed alone and spliced in."""
    path, text, base = synthetic
    at = text.index("  # between the steps")
    for typed in ("s", "step", "step extra", "step extra {", "step extra {\n    run = "):
        edited = text[:at] + "  " + typed + "\n" + text[at:]
        derived = derive(base, edited)
        assert derived is not None, typed
        assert derived[0] == Analysis.build(edited, path.as_uri()).diagnostics, typed
    done = text[:at] + '  step extra {\n    run = "true"\n  }\n' + text[at:]  # valid: spliced in
    derived = derive(base, done)
    assert derived is not None and derived[0] == Analysis.build(done, path.as_uri()).diagnostics
    assert any("extra" in d.message for d in derived[0])  # its own findings (no image...), placed


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_arbitrary_text_typed_anywhere_derives_exactly_or_not_at_all(synthetic, data):
    """Any characters (NUL, lone surrogates excluded: an editor cannot send them), any place."""
    path, text, base = synthetic
    start = data.draw(st.integers(0, len(text)), label="start")
    end = data.draw(st.integers(start, min(len(text), start + 12)), label="end")
    inserted = data.draw(st.text(st.characters(blacklist_categories=("Cs",)), max_size=12), label="inserted")
    edited = text[:start] + inserted + text[end:]
    derived = derive(base, edited)
    if derived is not None:
        assert derived[0] == Analysis.build(edited, path.as_uri()).diagnostics


def test_document_symbols_inside_an_edited_member_need_no_new_analysis(tmp_path: Path):
    """The outline, asked after most edits, comes from the base with ranges moved, unless
    the edit touches a name (a step being renamed): then from the new text."""
    from lsprotocol import types
    from pygls.workspace import Workspace

    from mlplang.lsp import server as lsp

    text = generate(30, "chain")
    uri = (tmp_path / "doc.mlp").as_uri()

    servers = []

    def server_with(document: str):
        ls = lsp.MlpLanguageServer()
        servers.append(ls)
        ls.protocol._workspace = Workspace(None, types.TextDocumentSyncKind.Full)
        ls.protocol.server_capabilities = types.ServerCapabilities(position_encoding=types.PositionEncodingKind.Utf16)
        ls.workspace.put_text_document(types.TextDocumentItem(uri=uri, language_id="mlp", version=1, text=document))
        ls._full(uri, document).result()
        return ls

    def symbols(ls):
        return lsp.document_symbols(ls, types.DocumentSymbolParams(text_document=types.TextDocumentIdentifier(uri=uri)))

    ls = server_with(text)
    builds = ls.builds
    for edited, derived in ((text.replace("retries = 2", "retries = 2\n    timeout = 30m", 1), True),
                            (text.replace("step train_02 {", "step train_2b {", 1), False)):
        ls.workspace.get_text_document(uri).apply_change(types.TextDocumentContentChangeWholeDocument(text=edited))
        expected = symbols(server_with(edited))  # a server that analysed the edited text itself
        assert symbols(ls) == expected
        assert ls.builds == builds + (0 if derived else 1)
        builds = ls.builds
    for server in servers:
        server.worker.shutdown()  # no thread left behind (it would forbid forking in later tests)


def test_a_failing_shortcut_falls_back_to_a_full_analysis(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A bug in the member path must cost its speed, never the diagnostics."""
    from lsprotocol import types
    from pygls.workspace import Workspace

    from mlplang.lsp import server as lsp

    text = generate(12, "chain")
    uri = (tmp_path / "doc.mlp").as_uri()
    ls = lsp.MlpLanguageServer()
    ls.protocol._workspace = Workspace(None, types.TextDocumentSyncKind.Full)
    ls.workspace.put_text_document(types.TextDocumentItem(uri=uri, language_id="mlp", version=1, text=text))
    ls._full(uri, text).result()
    edited = text.replace("in  data: Dataset = raw", "in  data: Dataset = rwa", 1)
    ls.workspace.get_text_document(uri).apply_change(types.TextDocumentContentChangeWholeDocument(text=edited))

    def broken(*args, **kwargs):
        raise RuntimeError("a bug in the shortcut")

    monkeypatch.setattr(lsp.member_edit, "derive", broken)
    diagnostics, timings = ls._diagnose(uri, edited, False, "utf-16").result(timeout=60)
    assert timings["path"] == "full"
    assert [d.code for d in diagnostics] == ["MLP101"]  # `rwa`: an unknown reference
    ls.worker.shutdown()


@pytest.mark.parametrize("edit", [
    ("  step deploy {", "  # new\n  step deploy {"),  # a comment line between members
    ("  step deploy {", "  param inserted: int = 2\n  step deploy {"),  # a line inserted before a member
])
def test_edits_between_members_are_spliced(synthetic, edit):
    path, text, base = synthetic
    old, new = edit
    edited = text.replace(old, new, 1)
    derived = derive(base, edited)
    assert derived is not None and derived[0] == Analysis.build(edited, path.as_uri()).diagnostics


def test_a_new_member_on_the_line_where_the_one_before_ends(synthetic):
    """`} param p: int = 1`: the new member's columns count from that line's start."""
    path, text, base = synthetic
    end = text.index("  }\n  step fit") + 3  # after the `}` of step `train`
    edited = text[:end] + " param inline_p: int = 1" + text[end:]
    derived = derive(base, edited)
    full = Analysis.build(edited, path.as_uri())
    assert any("inline_p" in d.message for d in full.diagnostics)  # unused: a finding with a column
    assert derived is not None and derived[0] == full.diagnostics
