"""Machine-readable renderings of diagnostics: JSON, SARIF 2.1.0 and GitHub
Actions workflow commands. The text rendering is in `render.py`.

Every format is built as data and serialised once, with a stable order, so
the same findings always give the same bytes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import PurePath
from urllib.parse import quote

from mlplang import __version__
from mlplang.diagnostics.codes import REGISTRY
from mlplang.diagnostics.model import Diagnostic, Severity
from mlplang.source import SourceFile

JSON_FORMAT_VERSION = 1
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
INFORMATION_URI = "https://github.com/mlplang/mlplang"


def _name(code: str) -> str:
    entry = REGISTRY.get(code)
    return entry.name if entry else code


def _summary(diagnostics: Sequence[Diagnostic], files: int) -> dict:
    return {
        "errors": sum(d.severity is Severity.ERROR for d in diagnostics),
        "warnings": sum(d.severity is Severity.WARNING for d in diagnostics),
        "files": files,
    }


def to_json(diagnostics: Sequence[Diagnostic], files: int) -> str:
    """The stable JSON schema documented in docs/rules.md (`version` 1)."""
    items = []
    for d in diagnostics:
        items.append({
            "code": d.code,
            "name": _name(d.code),
            "severity": d.severity.value,
            "message": d.message,
            "path": d.span.file,
            "line": d.span.line,
            "column": d.span.column,
            "end_line": d.span.end_line,
            "end_column": d.span.end_column,
            "label": d.label,
            "help": d.help,
            "notes": list(d.notes),
            "labels": [
                {"message": label.message, "path": label.span.file, "line": label.span.line,
                 "column": label.span.column, "end_line": label.span.end_line,
                 "end_column": label.span.end_column}
                for label in d.labels
            ],
        })
    document = {"version": JSON_FORMAT_VERSION, "diagnostics": items, "summary": _summary(diagnostics, files)}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _fingerprint(diagnostic: Diagnostic, source: SourceFile | None, occurrence: int) -> str:
    """Stable across edits elsewhere in the file: code, message and the
    offending line's text (not its number), plus an occurrence counter."""
    line = source.line_text(diagnostic.span.line).strip() if source else ""
    digest = hashlib.sha256(f"{diagnostic.code}\0{diagnostic.message}\0{line}".encode()).hexdigest()[:32]
    return f"{digest}:{occurrence}"


def to_sarif(diagnostics: Sequence[Diagnostic], sources: Mapping[str, SourceFile]) -> str:
    used = sorted({d.code for d in diagnostics})
    index = {code: i for i, code in enumerate(used)}
    rules = []
    for code in used:
        entry = REGISTRY.get(code)
        rule = {"id": code, "name": entry.name if entry else code}
        if entry is not None:
            rule["shortDescription"] = {"text": entry.summary}
            if entry.explanation:
                rule["fullDescription"] = {"text": _first_paragraph(entry.explanation)}
                rule["help"] = {"text": entry.explanation, "markdown": entry.explanation}
            rule["defaultConfiguration"] = {"level": SARIF_LEVELS[entry.severity]}
        rules.append(rule)
    seen: dict[str, int] = {}
    results = []
    for d in diagnostics:
        source = sources.get(d.span.file)
        key = _fingerprint(d, source, 0).split(":")[0]
        seen[key] = seen.get(key, 0) + 1
        result = {
            "ruleId": d.code,
            "ruleIndex": index[d.code],
            "level": SARIF_LEVELS[d.severity],
            "message": {"text": d.message + (f"\n{d.help}" if d.help else "")},
            "locations": [_location(d.span)],
            "partialFingerprints": {"mlpFingerprint/v1": _fingerprint(d, source, seen[key])},
        }
        if d.labels:
            result["relatedLocations"] = [
                {**_location(label.span), "id": i, "message": {"text": label.message or "related"}}
                for i, label in enumerate(d.labels)
            ]
        results.append(result)
    document = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "mlp", "version": __version__, "informationUri": INFORMATION_URI,
                                "rules": rules}},
            "results": results,
            "columnKind": "unicodeCodePoints",
        }],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _first_paragraph(explanation: str) -> str:
    """The first paragraph of prose: rule docs open with a `## What it does` heading."""
    prose = "\n".join(line for line in explanation.splitlines() if not line.startswith("#"))
    return next((p.strip() for p in prose.split("\n\n") if p.strip()), explanation)


def _uri(path: str) -> str:
    """A file path as the URI reference SARIF requires: percent-encoded,
    `/`-separated; an absolute path becomes a `file:` URI."""
    posix = PurePath(path)
    if posix.is_absolute():
        return posix.as_uri()
    return quote(posix.as_posix(), safe="/")


def _location(span) -> dict:
    return {
        "physicalLocation": {
            "artifactLocation": {"uri": _uri(span.file)},
            "region": {
                "startLine": span.line,
                "startColumn": span.column,
                "endLine": span.end_line,
                "endColumn": max(span.end_column, span.column + (1 if span.end_line == span.line else 0)),
            },
        }
    }


def escape_github_data(text: str) -> str:
    """Escaping of a workflow command's message (as the runner's toolkit does)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_github_property(text: str) -> str:
    """Escaping of a workflow command's property value (file, title...)."""
    return escape_github_data(text).replace(":", "%3A").replace(",", "%2C")


def unescape_github(text: str) -> str:
    for escaped, plain in (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%")):
        text = text.replace(escaped, plain)
    return text


GITHUB_COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def to_github(diagnostics: Sequence[Diagnostic]) -> str:
    lines = []
    for d in diagnostics:
        s = d.span
        properties = ",".join(
            f"{key}={escape_github_property(str(value))}"
            for key, value in (
                ("file", s.file), ("line", s.line), ("col", s.column),
                ("endLine", s.end_line), ("endColumn", s.end_column),
                ("title", f"{d.code} {_name(d.code)}"),
            )
        )
        message = d.message + (f"\n{d.help}" if d.help else "")
        lines.append(f"::{GITHUB_COMMANDS[d.severity]} {properties}::{escape_github_data(message)}")
    return "\n".join(lines) + ("\n" if lines else "")
