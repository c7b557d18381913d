"""Reading files and following imports.

`import "std/NAME"` reads `mlplang/stdlib/NAME.mlp` (shown in messages as
`std/NAME.mlp`); `import "./x.mlp"` reads a path relative to the importing
file. Each module is parsed once per load; an import that leads back to a
module still being loaded is an import cycle, reported with its chain.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from mlplang.compiler.report import Reporter
from mlplang.diagnostics import codes
from mlplang.diagnostics.model import Diagnostic, Severity
from mlplang.dsl import ast
from mlplang.dsl.parser import parse_source
from mlplang.source import SourceFile, display_path

STDLIB = Path(__file__).resolve().parent.parent / "stdlib"


class FileReadError(Exception):
    """A file that cannot be read at all (missing, a directory, no permission)."""


def decode(data: bytes, path: str) -> tuple[SourceFile, list[Diagnostic]]:
    """Bytes -> source text. Invalid UTF-8 and NUL bytes become one diagnostic at
    the first bad byte; in the text they are replaced by U+FFFD so that the parser
    does not report them again (see `ModuleLoader._load`)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        good = data[: error.start].decode("utf-8")
        text = data.decode("utf-8", errors="replace").replace("\x00", "\ufffd")
        source = SourceFile.from_text(text, path)
        offset = len(good)
        return source, [
            Diagnostic(
                code=codes.INVALID_ENCODING.code,
                severity=Severity.ERROR,
                message=f"the file is not valid UTF-8 (byte 0x{data[error.start]:02x} at offset {error.start})",
                span=source.span(offset, offset + 1),
                label="invalid byte",
                help="save the file as UTF-8",
            )
        ]
    if text.startswith("\ufeff"):
        text = text[1:]
    nul = text.find("\x00")
    if nul == -1:
        return SourceFile.from_text(text, path), []
    byte_offset = data.index(b"\x00")
    source = SourceFile.from_text(text.replace("\x00", "\ufffd"), path)
    return source, [
        Diagnostic(
            code=codes.INVALID_ENCODING.code,
            severity=Severity.ERROR,
            message=f"the file contains a NUL byte (at offset {byte_offset})",
            span=source.span(nul, nul + 1),
            label="NUL byte",
            help="`.mlp` files are text; remove the NUL byte (is this a binary file?)",
        )
    ]


def read_source(path: str | Path) -> tuple[SourceFile, list[Diagnostic]]:
    try:
        data = Path(path).read_bytes()
    except IsADirectoryError as error:
        raise FileReadError(f"{display_path(path)}: is a directory") from error
    except OSError as error:
        raise FileReadError(f"{display_path(path)}: {error.strerror or error}") from error
    return decode(data, display_path(path))


@dataclass
class LoadedModule:
    source: SourceFile
    syntax: ast.Module
    real_path: Path | None
    imports: dict[str, LoadedModule] = field(default_factory=dict)
    ok: bool = True
    """False when the module has syntax errors (its contents are not trusted)."""

    @property
    def templates(self) -> dict[str, ast.TemplateDecl]:
        result: dict[str, ast.TemplateDecl] = {}
        for template in self.syntax.templates:
            result.setdefault(template.name.value, template)
        return result


class ModuleLoader:
    def __init__(self, reporter: Reporter) -> None:
        self.reporter = reporter
        self.modules: dict[str, LoadedModule] = {}
        self.sources: dict[str, SourceFile] = {}

    def load(self, source: SourceFile, real_path: Path | None, diagnostics: list[Diagnostic],
             syntax: ast.Module | None = None) -> LoadedModule:
        """The module of `source` and its imports; `syntax`, if given, is its syntax tree,
        already parsed without any diagnostic (the language server splices edited members)."""
        return self._load(source, real_path, diagnostics, stack=[], syntax=syntax)

    def _load(
        self, source: SourceFile, real_path: Path | None, diagnostics: list[Diagnostic], stack: list[str],
        syntax: ast.Module | None = None,
    ) -> LoadedModule:
        key = str(real_path) if real_path else source.path
        self.sources[source.path] = source
        if syntax is None:
            syntax, syntax_diagnostics = parse_source(source)
        else:
            syntax_diagnostics = []
        if any(d.code == codes.INVALID_ENCODING.code for d in diagnostics):
            # Bad bytes were decoded as U+FFFD and are already reported.
            syntax_diagnostics = [
                d for d in syntax_diagnostics
                if not (d.code == codes.INVALID_CHARACTER.code and source.text[d.span.start:d.span.end] == "\ufffd")
            ]
        diagnostics = diagnostics + syntax_diagnostics
        self.reporter.extend(diagnostics)
        module = LoadedModule(source, syntax, real_path, ok=not any(d.is_error for d in diagnostics))
        self.modules[key] = module
        if not module.ok:
            return module
        chain = stack + [key]
        for decl in syntax.imports:
            self._follow(module, decl, chain)
        return module

    def _follow(self, module: LoadedModule, decl: ast.ImportDecl, chain: list[str]) -> None:
        target = decl.path.text
        resolved = self._resolve(module, decl, target)
        if resolved is None:
            return
        real, shown = resolved
        key = str(real)
        alias = decl.alias.value if decl.alias else Path(target).stem.replace("-", "_")
        if not alias.isidentifier():
            self.reporter.add(
                codes.INVALID_VALUE, f"`{Path(target).stem}` cannot be used as a module name", decl.path.span,
                help=f'name the import: `import "{target}" as NAME`',
            )
            return
        if alias in module.imports:
            self.reporter.add(
                codes.DUPLICATE_NAME, f"`{alias}` is imported twice", (decl.alias or decl.path).span,
                help="give one of the imports another name with `as`",
            )
            return
        if key in chain:
            names = [self.modules[k].source.path for k in chain[chain.index(key):]] + [shown]
            self.reporter.add(
                codes.IMPORT_CYCLE,
                "import cycle: " + " -> ".join(f'"{n}"' for n in names),
                decl.span,
                label="this import leads back to a module being imported",
            )
            return
        if key in self.modules:
            module.imports[alias] = self.modules[key]
            return
        try:
            source, diagnostics = read_source(real)
        except FileReadError as error:
            self.reporter.add(codes.IMPORT_NOT_FOUND, f"cannot read module `{target}`: {error}", decl.path.span)
            return
        source = SourceFile.from_text(source.text, shown)
        diagnostics = [d.model_copy(update={"span": source.span(d.span.start, d.span.end)}) for d in diagnostics]
        module.imports[alias] = self._load(source, real, diagnostics, chain)

    def _resolve(self, module: LoadedModule, decl: ast.ImportDecl, target: str) -> tuple[Path, str] | None:
        if target.startswith("std/"):
            name = target[4:]
            real = STDLIB / f"{name}.mlp"
            if not name or "/" in name or not real.is_file():
                available = sorted(p.stem for p in STDLIB.glob("*.mlp"))
                self.reporter.add(
                    codes.IMPORT_NOT_FOUND, f"no standard module `{target}`", decl.path.span,
                    help="standard modules: " + ", ".join(f"std/{a}" for a in available),
                )
                return None
            return real, f"std/{name}.mlp"
        if target.startswith(("./", "../")):
            base = module.real_path.parent if module.real_path else Path.cwd()
            real = (base / target).resolve()
            shown = display_path(os.path.normpath(os.path.join(os.path.dirname(module.source.path), target)))
            if not real.is_file():
                # `shown` is relative like the importing file's path: output stays machine independent.
                self.reporter.add(codes.IMPORT_NOT_FOUND, f"module `{target}` not found", decl.path.span,
                                  help=f"looked for {shown}")
                return None
            return real, shown
        self.reporter.add(
            codes.IMPORT_NOT_FOUND, f"cannot import `{target}`", decl.path.span,
            help='import a standard module with "std/NAME" or a file with a relative path "./file.mlp"',
        )
        return None
