"""The protocol side of `mlp lsp`: pygls handlers over `Analysis`.

Diagnostics are recomputed after a short quiet period (`MLP_LSP_DEBOUNCE_MS`,
default 100 ms) so that a burst of keystrokes costs one analysis, in a worker
thread so that later edits keep arriving meanwhile, and are published only if
the document has not changed since: only the latest version is published.

Per change, only what the diagnostics need is computed: the syntax index of
hover, definition and rename is built by the first such request, and an edit
that provably cannot change the diagnostics (the same text, or an edit inside
a comment: `incremental`) is answered from the last analysis without a new one,
and one inside a single member of a pipeline (a step, a param...) parses only
that member again, reusing the other members' syntax trees (`member_edit`).
Requests share the analysis of the current text with the diagnostics (one
analysis per text, never two). Each analysis is frozen out of the garbage
collector's generations, so that its objects are not rescanned at every edit;
retired analyses are collected when the documents have been quiet for a second.
`MLP_LSP_TIMING=FILE` appends each publication's stages (JSON lines; see
bench/bench_lsp.py --stages).

Every request handler catches its own failures: a malformed document or a bug
in one feature logs an error and answers "nothing", it never takes the server down.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import gc
import json
import logging
import os
import re
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from mlplang import __version__
from mlplang.diagnostics import codes
from mlplang.lsp import incremental, member_edit
from mlplang.lsp.analysis import Analysis, Occurrence, config_for
from mlplang.lsp.completion import complete
from mlplang.lsp.convert import location, lsp_diagnostics, to_range
from mlplang.lsp.positions import LineIndex
from mlplang.perf import freezes_itself, paused_gc

log = logging.getLogger("mlplang.lsp")

COMPLETION_KINDS = {
    "keyword": types.CompletionItemKind.Keyword,
    "step": types.CompletionItemKind.Function,
    "output": types.CompletionItemKind.Field,
    "field": types.CompletionItemKind.Field,
    "type": types.CompletionItemKind.Class,
    "param": types.CompletionItemKind.Variable,
    "secret": types.CompletionItemKind.Constant,
    "template": types.CompletionItemKind.Module,
}
DID_YOU_MEAN = re.compile(r"did you mean `([^`]+)`\?")
RENAMEABLE = ("node", "output", "param", "secret", "input")
IDLE_COLLECTION_DELAY = 1.0  # seconds without edits before retired analyses are collected
MAX_BUILDS_BETWEEN_COLLECTIONS = 50  # retired analyses keep ~1 MB each of garbage cycles until then


@dataclass
class Analysed:
    """The latest full analysis of a document: exact for `text` (whatever version that was)."""

    text: str
    analysis: Analysis
    dependencies: tuple


class MlpLanguageServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("mlp-lsp", __version__)
        self.debounce = int(os.environ.get("MLP_LSP_DEBOUNCE_MS", "100")) / 1000
        self.pending: dict[str, asyncio.Task] = {}
        self.cache: dict[str, Analysed] = {}
        # The latest full analysis without a syntax error, the base of member edits (`member_edit`):
        # a request made while a line is half typed analyses a broken text, which no edit can derive from.
        self.bases: dict[str, Analysed] = {}
        self.inflight: dict[str, tuple[str, Future]] = {}  # full analyses submitted to the worker, by text
        self.changed_at: dict[str, float] = {}
        self.retired: list[Analysed] = []
        self.builds = 0  # full analyses since the last `_collect`
        self.idle_collection: asyncio.TimerHandle | None = None
        # One thread: analyses run one at a time (loading pauses the garbage collector process-wide).
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mlp-analysis")
        timing = os.environ.get("MLP_LSP_TIMING")
        self.timing = open(timing, "a", encoding="utf-8", buffering=1) if timing else None  # noqa: SIM115
        self.collections: list[tuple[float, int, float]] = []  # (when, generation, seconds), with MLP_LSP_TIMING
        if self.timing is not None:
            gc.callbacks.append(self._gc_timer)

    def _gc_timer(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
        else:
            self.collections.append((time.perf_counter(), info["generation"], time.perf_counter() - self._gc_started))

    # ---- documents ---------------------------------------------------------------

    @property
    def encoding(self) -> str:
        encoding = self.server_capabilities.position_encoding if self.protocol else None
        return str(encoding.value if hasattr(encoding, "value") else encoding or "utf-16")

    def analysis(self, uri: str) -> tuple[Analysis, LineIndex]:
        """The full analysis of the document as it is now, for a request (the index is built on demand)."""
        text = self.workspace.get_text_document(uri).source
        cached = self.cache.get(uri)
        if cached is None or cached.text != text:
            # Shares an analysis of this text already under way; blocks this request until it is done.
            cached = self._full(uri, text).result()
        return cached.analysis, LineIndex(text, self.encoding)

    def view(self, uri: str, members_only: bool = False) -> tuple[Analysis, LineIndex, incremental.EditMap]:
        """The analysis a frequent request (completion, symbols) uses, with the map between
        its text and the current one.

        Editors ask these at nearly every keystroke: while the edits since the last
        analysis without a syntax error stay inside one member, or between two
        (`member_edit`; only inside, with `members_only`), that analysis answers (its
        names are the document's, but for the member being typed) instead of a full
        analysis of every keystroke's text."""
        text = self.workspace.get_text_document(uri).source
        cached = self.cache.get(uri)
        if cached is None or cached.text != text:
            base = self.bases.get(uri)
            local = member_edit.local_edit(base.analysis, text) if base is not None else None
            if local is not None and (local[0] == "member" or not members_only):
                return base.analysis, LineIndex(text, self.encoding), incremental.EditMap(local[1])
        analysis, index = self.analysis(uri)
        return analysis, index, incremental.NO_EDIT

    def _full(self, uri: str, text: str) -> Future:
        """A full analysis of `text` in the worker (the one in flight if it analyses the same text)."""
        inflight = self.inflight.get(uri)
        if inflight is not None and inflight[0] == text:
            return inflight[1]
        future = self.worker.submit(self._build, uri, text)
        self.inflight[uri] = (text, future)
        return future

    def _build(self, uri: str, text: str) -> Analysed:
        try:
            with paused_gc():
                analysis = Analysis.build(text, uri)
                # The analysis is long-lived: out of the collector's generations, its hundreds of thousands
                # of objects are not rescanned by the next collections (the first one would cost ~100 ms
                # right after this, while publishing). Garbage cycles of retired analyses wait for `_collect`.
                gc.freeze()
            entry = Analysed(text, analysis, incremental.dependencies(analysis))
            if uri in self.workspace.text_documents:  # not closed meanwhile
                retired = self.cache.get(uri)
                self.cache[uri] = entry
                if retired is not None:
                    self.retired.append(retired)  # freed by `_collect`, after publishing
                if not incremental.has_syntax_errors(analysis):
                    replaced = self.bases.get(uri)
                    self.bases[uri] = entry
                    if replaced is not None:
                        self.retired.append(replaced)
            self.builds += 1
            return entry
        finally:
            inflight = self.inflight.get(uri)
            if inflight is not None and inflight[0] is text:
                del self.inflight[uri]

    def _collect(self) -> None:
        """In the worker, when the documents are quiet: frees retired analyses (their cycles included)."""
        self.retired.clear()
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        self.builds = 0

    def _collect_when_idle(self) -> None:
        if self.idle_collection is not None:
            self.idle_collection.cancel()
            self.idle_collection = None
        if self.builds >= MAX_BUILDS_BETWEEN_COLLECTIONS:
            self.worker.submit(self._collect)  # a long burst of edits: memory must not grow without bound
        elif self.builds:
            def collect() -> None:
                self.idle_collection = None
                if not self.pending and not self.inflight:
                    self.worker.submit(self._collect)

            self.idle_collection = asyncio.get_running_loop().call_later(IDLE_COLLECTION_DELAY, collect)

    def schedule(self, uri: str, full: bool = False) -> None:
        self.changed_at[uri] = time.perf_counter()
        if self.idle_collection is not None:
            self.idle_collection.cancel()
            self.idle_collection = None
        previous = self.pending.pop(uri, None)
        if previous is not None:
            previous.cancel()
        self.pending[uri] = asyncio.ensure_future(self._publish_later(uri, full))

    async def _publish_later(self, uri: str, full: bool) -> None:
        try:
            if self.debounce:
                await asyncio.sleep(self.debounce)
            waited = time.perf_counter()
            document = self.workspace.get_text_document(uri)
            version, text = document.version, document.source
            # In the worker thread, so that edits arriving meanwhile are read (and make this result stale).
            diagnostics, timings = await asyncio.wrap_future(self._diagnose(uri, text, full, self.encoding))
            if self.workspace.get_text_document(uri).version != version:
                return  # a newer edit arrived while analysing: its own task publishes
            before = time.perf_counter()
            self.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=uri, version=version, diagnostics=diagnostics))
            self._collect_when_idle()
            if self.timing is not None:
                done = time.perf_counter()
                since = self.changed_at.get(uri, waited)
                collected = [(g, t) for at, g, t in self.collections if at >= since]
                timings.update(gc=sum(t for _, t in collected), gc_generations=[g for g, _ in collected])
                timings.update(uri=uri, version=version, diagnostics=len(diagnostics),
                               debounce=waited - self.changed_at.get(uri, waited), publish=done - before,
                               total=done - self.changed_at.get(uri, waited))
                self.timing.write(json.dumps(timings) + "\n")
                del self.collections[:-100]
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("diagnostics failed for %s", uri)
        finally:
            if self.pending.get(uri) is asyncio.current_task():
                del self.pending[uri]

    def _diagnose(self, uri: str, text: str, full: bool, encoding: str) -> Future:
        """LSP diagnostics of `text` (and timings): derived from the last full analysis when that is
        exactly right (`incremental`, cheap enough for this thread), else from a full analysis in the worker."""
        submitted = time.perf_counter()
        cached = self.cache.get(uri)
        if not full and cached is not None:
            base = cached.analysis
            derived = incremental.reuse(base, cached.dependencies, text, config_for(base.real_path))
            if derived is not None:
                analysed = time.perf_counter()
                diagnostics = lsp_diagnostics(dataclasses.replace(base, text=text, diagnostics=derived, _occurrences=None), text, encoding)
                result: Future = Future()
                result.set_result((diagnostics, {"path": "reused", "reuse": analysed - submitted,
                                                 "convert": time.perf_counter() - analysed}))
                return result
            return self._member_or_full(uri, self.bases.get(uri, cached), text, encoding, submitted)
        return self._convert(self._full(uri, text), text, encoding, submitted)

    def _member_or_full(self, uri: str, cached: Analysed, text: str, encoding: str, submitted: float) -> Future:
        """In the worker: the diagnostics after an edit inside one member, parsing only that member
        (`member_edit`), else those of a full analysis."""
        result: Future = Future()

        def derive() -> None:
            try:
                base = cached.analysis
                started = time.perf_counter()
                try:
                    with paused_gc():
                        derived = member_edit.derive(base, cached.dependencies, text, config_for(base.real_path))
                except Exception:  # a bug in the shortcut must not cost the diagnostics
                    log.exception("incremental analysis failed for %s; analysing the whole document", uri)
                    derived = None
                if derived is None:
                    _chain(self._convert(self._full(uri, text), text, encoding, submitted), result)
                    return
                # Not counted in `builds`: it leaves no garbage cycles (freed by reference counting).
                diagnostics, timings = derived
                converted = time.perf_counter()
                view = dataclasses.replace(base, text=text, diagnostics=diagnostics, _occurrences=None)
                lsp = lsp_diagnostics(view, text, encoding)
                result.set_result((lsp, {"path": "member", **timings, "queued": started - submitted,
                                         "convert": time.perf_counter() - converted}))
            except BaseException as error:  # noqa: BLE001 - handed to the awaiting task
                result.set_exception(error)

        self.worker.submit(derive)
        return result

    def _convert(self, future: Future, text: str, encoding: str, submitted: float) -> Future:
        result: Future = Future()

        def done(finished: Future) -> None:
            try:
                entry = finished.result()
                started = time.perf_counter()
                diagnostics = lsp_diagnostics(entry.analysis, text, encoding)
                timings = {"path": "full", **entry.analysis.timings,
                           "analysis": sum(entry.analysis.timings.values()),
                           "queued": started - submitted - sum(entry.analysis.timings.values()),
                           "convert": time.perf_counter() - started}
                result.set_result((diagnostics, timings))
            except BaseException as error:  # noqa: BLE001 - handed to the awaiting task
                result.set_exception(error)

        future.add_done_callback(done)  # in the worker thread, right after the analysis
        return result


def _chain(source: Future, target: Future) -> None:
    """Settle `target` with the outcome of `source`."""
    def done(finished: Future) -> None:
        error = finished.exception()
        if error is not None:
            target.set_exception(error)
        else:
            target.set_result(finished.result())

    source.add_done_callback(done)


def safe(default=None):
    """Runs a request handler, logging instead of raising on any failure."""

    def wrap(handler):
        @functools.wraps(handler)
        def run(ls, params):
            try:
                return handler(ls, params)
            except Exception:
                log.exception("%s failed", handler.__name__)
                return default

        return run

    return wrap


server = MlpLanguageServer()


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: MlpLanguageServer, params: types.DidOpenTextDocumentParams) -> None:
    ls.schedule(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: MlpLanguageServer, params: types.DidChangeTextDocumentParams) -> None:
    ls.schedule(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
def did_save(ls: MlpLanguageServer, params: types.DidSaveTextDocumentParams) -> None:
    ls.schedule(params.text_document.uri, full=True)  # the configuration or an imported file may have changed


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: MlpLanguageServer, params: types.DidCloseTextDocumentParams) -> None:
    uri = params.text_document.uri
    task = ls.pending.pop(uri, None)
    if task is not None:
        task.cancel()
    ls.cache.pop(uri, None)
    ls.bases.pop(uri, None)
    ls.inflight.pop(uri, None)
    ls.changed_at.pop(uri, None)
    ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))


def _occurrence(ls: MlpLanguageServer, params) -> tuple[Analysis, LineIndex, Occurrence | None, int]:
    analysis, index = ls.analysis(params.text_document.uri)
    offset = index.offset(params.position.line, params.position.character)
    return analysis, index, analysis.occurrence_at(offset), offset


@server.feature(types.TEXT_DOCUMENT_HOVER)
@safe()
def hover(ls: MlpLanguageServer, params: types.HoverParams) -> types.Hover | None:
    analysis, index = ls.analysis(params.text_document.uri)
    offset = index.offset(params.position.line, params.position.character)
    found = analysis.hover(offset)
    if found is None:
        return None
    text, span = found
    return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text),
                       range=to_range(span, index))


@server.feature(types.TEXT_DOCUMENT_DEFINITION)
@safe()
def definition(ls: MlpLanguageServer, params: types.DefinitionParams) -> types.Location | None:
    analysis, index, occurrence, _ = _occurrence(ls, params)
    if occurrence is None:
        return None
    span = analysis.definition(occurrence.key)
    return location(span, analysis, index) if span else None


@server.feature(types.TEXT_DOCUMENT_REFERENCES)
@safe(default=[])
def references(ls: MlpLanguageServer, params: types.ReferenceParams) -> list[types.Location]:
    analysis, index, occurrence, _ = _occurrence(ls, params)
    if occurrence is None:
        return []
    spans = analysis.references(occurrence.key, params.context.include_declaration)
    definition = analysis.definition(occurrence.key)
    if params.context.include_declaration and definition is not None and definition not in spans:
        spans.insert(0, definition)  # declared in another file (a template)
    return [loc for span in spans if (loc := location(span, analysis, index)) is not None]


@server.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(trigger_characters=[".", ":", "{", "$"]))
@safe()
def completion(ls: MlpLanguageServer, params: types.CompletionParams) -> types.CompletionList | None:
    analysis, index, edits = ls.view(params.text_document.uri)
    offset = index.offset(params.position.line, params.position.character)
    line_start = index.starts[min(params.position.line, len(index.starts) - 1)]
    text = index.text
    items = complete(analysis, edits.to_analysed(offset), text[line_start:offset], text[:offset])
    seen: set[str] = set()
    result = []
    for label, kind, detail in items:
        if label not in seen:
            seen.add(label)
            result.append(types.CompletionItem(label=label, kind=COMPLETION_KINDS.get(kind), detail=detail or None))
    return types.CompletionList(is_incomplete=False, items=result)


@server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
@safe(default=[])
def document_symbols(ls: MlpLanguageServer, params: types.DocumentSymbolParams) -> list[types.DocumentSymbol]:
    from mlplang.dsl import ast

    analysis, index, edits = ls.view(params.text_document.uri, members_only=True)
    module = analysis.result.module
    if module is None:
        return []
    names = [m.name.span for item in module.items for m in getattr(item, "members", ())]
    if any(edits.touches(span) for span in (*names, *(item.name.span for item in module.items
                                                       if isinstance(item, (ast.PipelineDecl, ast.TemplateDecl))))):
        analysis, index = ls.analysis(params.text_document.uri)  # a name being edited: the new text's
        edits = incremental.NO_EDIT
        module = analysis.result.module
        if module is None:
            return []
    kinds = {
        ast.ParamDecl: ("param", types.SymbolKind.Variable), ast.SecretDecl: ("secret", types.SymbolKind.Constant),
        ast.SourceDecl: ("source", types.SymbolKind.File), ast.StepDecl: ("step", types.SymbolKind.Function),
        ast.TemplateStepDecl: ("step", types.SymbolKind.Function), ast.GateDecl: ("gate", types.SymbolKind.Event),
        ast.MonitorDecl: ("monitor", types.SymbolKind.Object),
    }

    def symbol(name, span, detail, kind, children=None):
        return types.DocumentSymbol(name=name.value, detail=detail, kind=kind,
                                    range=to_range(edits.to_current(span), index),
                                    selection_range=to_range(edits.to_current(name.span), index),
                                    children=children)

    result = []
    for item in module.items:
        if isinstance(item, ast.PipelineDecl):
            children = [symbol(m.name, m.span, *kinds[type(m)]) for m in item.members if type(m) in kinds]
            result.append(symbol(item.name, item.span, "pipeline", types.SymbolKind.Module, children))
        elif isinstance(item, ast.TemplateDecl):
            result.append(symbol(item.name, item.span, "template", types.SymbolKind.Class))
    return result


@server.feature(types.TEXT_DOCUMENT_PREPARE_RENAME)
@safe()
def prepare_rename(ls: MlpLanguageServer, params: types.PrepareRenameParams) -> types.Range | None:
    analysis, index, occurrence, _ = _occurrence(ls, params)
    if occurrence is None or occurrence.key[0] not in RENAMEABLE:
        return None
    definition = analysis.definition(occurrence.key)
    if definition is None or definition.file != analysis.path:
        return None
    return to_range(occurrence.span, index)


NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


@server.feature(types.TEXT_DOCUMENT_RENAME)
@safe()
def rename(ls: MlpLanguageServer, params: types.RenameParams) -> types.WorkspaceEdit | None:
    analysis, index, occurrence, _ = _occurrence(ls, params)
    if occurrence is None or occurrence.key[0] not in RENAMEABLE or not NAME.match(params.new_name):
        return None
    definition = analysis.definition(occurrence.key)
    if definition is None or definition.file != analysis.path:
        return None  # declared in a template of another module: renaming here would break the call
    edits = [types.TextEdit(range=to_range(span, index), new_text=params.new_name)
             for span in analysis.references(occurrence.key) if span.file == analysis.path]
    return types.WorkspaceEdit(changes={params.text_document.uri: edits})


@server.feature(types.TEXT_DOCUMENT_CODE_ACTION)
@safe(default=[])
def code_actions(ls: MlpLanguageServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    _, index = ls.analysis(params.text_document.uri)
    uri = params.text_document.uri
    actions = []
    for diagnostic in params.context.diagnostics:
        code = str(diagnostic.code) if diagnostic.code is not None else None
        data = diagnostic.data if isinstance(diagnostic.data, dict) else {}
        for text in (data.get("help") or "", data.get("label") or "", diagnostic.message):
            match = DID_YOU_MEAN.search(text)
            if match:
                actions.append(types.CodeAction(
                    title=f"Replace with `{match.group(1)}`", kind=types.CodeActionKind.QuickFix,
                    diagnostics=[diagnostic], is_preferred=True,
                    edit=types.WorkspaceEdit(changes={uri: [types.TextEdit(range=diagnostic.range,
                                                                            new_text=match.group(1))]})))
                break
        language_error = diagnostic.severity == types.DiagnosticSeverity.Error and codes.is_language_code(code or "")
        if code and not language_error and code != codes.UNKNOWN_SUPPRESSION.code:
            edit = _suppression_edit(index, diagnostic.range.start.line, code)
            actions.append(types.CodeAction(
                title=f"Ignore {code} on this line", kind=types.CodeActionKind.QuickFix,
                diagnostics=[diagnostic], edit=types.WorkspaceEdit(changes={uri: [edit]})))
    return actions


SUPPRESSION_LIST = re.compile(r"#\s*mlp:\s*ignore\[([^\]]*)\]", re.IGNORECASE)


def _suppression_edit(index: LineIndex, line: int, code: str) -> types.TextEdit:
    text = index.line_text(line).rstrip("\r")
    match = SUPPRESSION_LIST.search(text)
    if match:  # extend the existing list
        at = types.Position(*index.position(index.starts[line] + match.end(1)))
        separator = ", " if match.group(1).strip() else ""
        return types.TextEdit(range=types.Range(start=at, end=at), new_text=f"{separator}{code}")
    end = types.Position(*index.position(index.starts[line] + len(text)))
    return types.TextEdit(range=types.Range(start=end, end=end), new_text=f"  # mlp: ignore[{code}]")


def _formatter():
    try:
        from mlplang import formatter
    except Exception:  # noqa: BLE001 - absent or broken: the server runs without formatting
        return None
    return getattr(formatter, "format_text", None)


if _formatter() is not None:

    @server.feature(types.TEXT_DOCUMENT_FORMATTING)
    @safe()
    def formatting(ls: MlpLanguageServer, params: types.DocumentFormattingParams) -> list[types.TextEdit] | None:
        from mlplang.formatter import FormatError

        document = ls.workspace.get_text_document(params.text_document.uri)
        text = document.source
        try:
            formatted = _formatter()(text, document.path)
        except FormatError:
            return None  # never reformat text the parser cannot read; its diagnostics say why
        if formatted == text:
            return []
        index = LineIndex(text, ls.encoding)
        end = types.Position(*index.position(len(text)))
        return [types.TextEdit(range=types.Range(start=types.Position(0, 0), end=end), new_text=formatted)]


def main() -> None:
    logging.basicConfig(level=os.environ.get("MLP_LSP_LOG", "WARNING"), format="mlp-lsp %(levelname)s %(message)s")
    freezes_itself()  # the analyses it keeps are frozen (`_build`): paused_gc must not thaw them
    server.start_io()
