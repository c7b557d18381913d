"""The protocol side of `mlp lsp`: pygls handlers over `Analysis`.

Diagnostics are recomputed after a short quiet period (`MLP_LSP_DEBOUNCE_MS`,
default 100 ms) so that a burst of keystrokes costs one analysis, in a worker
thread so that later edits keep arriving meanwhile, and are published only if
the document has not changed since: only the latest version is published. Every request handler catches its own failures:
a malformed document or a bug in one feature logs an error and answers "nothing",
it never takes the server down.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from mlplang import __version__
from mlplang.diagnostics import codes
from mlplang.diagnostics.model import Diagnostic, Severity
from mlplang.lsp.analysis import Analysis, Occurrence, display_to_path
from mlplang.lsp.completion import complete
from mlplang.lsp.positions import LineIndex
from mlplang.source import Span

log = logging.getLogger("mlplang.lsp")

SEVERITIES = {
    Severity.ERROR: types.DiagnosticSeverity.Error,
    Severity.WARNING: types.DiagnosticSeverity.Warning,
    Severity.INFO: types.DiagnosticSeverity.Information,
}
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
DOCS = Path(__file__).resolve().parent.parent.parent / "docs"


class MlpLanguageServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("mlp-lsp", __version__)
        self.debounce = int(os.environ.get("MLP_LSP_DEBOUNCE_MS", "100")) / 1000
        self.pending: dict[str, asyncio.Task] = {}
        self.cache: dict[str, tuple[int | None, str, Analysis]] = {}
        # One thread: analyses run one at a time (loading pauses the garbage collector process-wide).
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mlp-analysis")

    # ---- documents ---------------------------------------------------------------

    @property
    def encoding(self) -> str:
        encoding = self.server_capabilities.position_encoding if self.protocol else None
        return str(encoding.value if hasattr(encoding, "value") else encoding or "utf-16")

    def analysis(self, uri: str) -> tuple[Analysis, LineIndex]:
        document = self.workspace.get_text_document(uri)
        text = document.source
        cached = self.cache.get(uri)
        if cached is None or cached[0] != document.version or cached[1] != text:
            cached = (document.version, text, Analysis.build(text, uri))
            self.cache[uri] = cached
        return cached[2], LineIndex(text, self.encoding)

    def schedule(self, uri: str) -> None:
        previous = self.pending.pop(uri, None)
        if previous is not None:
            previous.cancel()
        self.pending[uri] = asyncio.ensure_future(self._publish_later(uri))

    async def _publish_later(self, uri: str) -> None:
        try:
            if self.debounce:
                await asyncio.sleep(self.debounce)
            document = self.workspace.get_text_document(uri)
            version, text = document.version, document.source
            # In a worker thread, so that edits arriving meanwhile are read (and make this result stale).
            analysis = await asyncio.get_running_loop().run_in_executor(self.worker, Analysis.build, text, uri)
            if self.workspace.get_text_document(uri).version != version:
                return  # a newer edit arrived while analysing: its own task publishes
            self.cache[uri] = (version, text, analysis)
            index = LineIndex(text, self.encoding)
            diagnostics = [to_lsp_diagnostic(d, analysis, index) for d in analysis.diagnostics]
            self.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=uri, version=version, diagnostics=diagnostics))
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("diagnostics failed for %s", uri)
        finally:
            if self.pending.get(uri) is asyncio.current_task():
                del self.pending[uri]


def to_range(span: Span, index: LineIndex) -> types.Range:
    start = types.Position(*index.position(span.start))
    end = types.Position(*index.position(span.end))
    return types.Range(start=start, end=end)


def _location(span: Span, analysis: Analysis, index: LineIndex) -> types.Location | None:
    if span.file == analysis.path:
        return types.Location(uri=_uri(analysis), range=to_range(span, index))
    text = analysis.source_text(span.file)
    path = display_to_path(span.file, analysis.real_path)
    if text is None or path is None:
        return None
    return types.Location(uri=path.as_uri(), range=to_range(span, LineIndex(text, index.encoding)))


def _uri(analysis: Analysis) -> str:
    return analysis.real_path.as_uri() if analysis.real_path else analysis.path


def _code_description(code: str) -> types.CodeDescription | None:
    entry = codes.REGISTRY.get(code)
    if entry is None:
        return None
    page = "rules.md" if entry.kind == "rule" else "language.md"
    anchor = f"#{entry.code}-{entry.name}".lower() if entry.kind == "rule" else ""
    return types.CodeDescription(href=(DOCS / page).as_uri() + anchor)


def to_lsp_diagnostic(diagnostic: Diagnostic, analysis: Analysis, index: LineIndex) -> types.Diagnostic:
    message = diagnostic.message
    if diagnostic.span.file == analysis.path:
        range_ = to_range(diagnostic.span, index)
    else:  # a mistake inside an imported module: shown at the top, with its place
        range_ = types.Range(start=types.Position(0, 0), end=types.Position(0, 0))
        message = f"{diagnostic.span}: {message}"
    if diagnostic.label:
        message += f" ({diagnostic.label})"
    if diagnostic.help:
        message += f"\nhelp: {diagnostic.help}"
    related = []
    for label in diagnostic.labels:
        location = _location(label.span, analysis, index)
        if location is not None:
            related.append(types.DiagnosticRelatedInformation(location=location, message=label.message or "here"))
    return types.Diagnostic(
        range=range_,
        severity=SEVERITIES[diagnostic.severity],
        code=diagnostic.code,
        code_description=_code_description(diagnostic.code),
        source="mlp",
        message=message,
        related_information=related or None,
        data={"help": diagnostic.help or "", "label": diagnostic.label},
    )


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
    ls.schedule(params.text_document.uri)  # the configuration may have changed


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: MlpLanguageServer, params: types.DidCloseTextDocumentParams) -> None:
    uri = params.text_document.uri
    task = ls.pending.pop(uri, None)
    if task is not None:
        task.cancel()
    ls.cache.pop(uri, None)
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
    return _location(span, analysis, index) if span else None


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
    return [loc for span in spans if (loc := _location(span, analysis, index)) is not None]


@server.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(trigger_characters=[".", ":", "{", "$"]))
@safe()
def completion(ls: MlpLanguageServer, params: types.CompletionParams) -> types.CompletionList | None:
    analysis, index = ls.analysis(params.text_document.uri)
    offset = index.offset(params.position.line, params.position.character)
    line_start = index.starts[min(params.position.line, len(index.starts) - 1)]
    items = complete(analysis, offset, analysis.text[line_start:offset])
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

    analysis, index = ls.analysis(params.text_document.uri)
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
        return types.DocumentSymbol(name=name.value, detail=detail, kind=kind, range=to_range(span, index),
                                    selection_range=to_range(name.span, index), children=children)

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
        language_error = diagnostic.severity == types.DiagnosticSeverity.Error and (code or "") < "MLP200"
        if code and code.startswith("MLP") and not language_error and code != codes.UNKNOWN_SUPPRESSION.code:
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
    server.start_io()
