"""The `mlp` command line. Heavy modules are imported inside commands so that
`mlp --version` and `mlp check` start fast.

Exit codes: 0 clean, 1 findings (errors), 2 usage errors, unreadable files
or an internal error.
"""

from __future__ import annotations

import atexit
import gc
import sys
from pathlib import Path

import click

from mlplang import __version__

EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


class MlpGroup(click.Group):
    """Turns any unexpected exception into a one-line message and exit code 2:
    users never see a traceback (set MLP_DEBUG=1 to get one)."""

    def __call__(self, *args, **kwargs):
        """`mlp` run as a process: the console script and `python -m mlplang`
        call the group (tests call `main.main`, through CliRunner)."""
        _short_lived_process()
        try:
            return super().__call__(*args, **kwargs)
        except SystemExit as exit:
            if _left_to_the_os:
                _exit_now(exit.code)
            raise

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException, SystemExit):
            raise
        except BrokenPipeError:  # `mlp ... | head`: the reader left; not an error of ours
            import os

            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            ctx.exit(EXIT_CLEAN)
        except KeyboardInterrupt:
            click.echo("mlp: interrupted", err=True)
            ctx.exit(EXIT_USAGE)
        except Exception as error:  # noqa: BLE001 - the last line of defence
            import os

            if os.environ.get("MLP_DEBUG"):
                raise
            click.echo(f"mlp: internal error: {type(error).__name__}: {error}", err=True)
            click.echo("mlp: please report this with the input file (set MLP_DEBUG=1 for a traceback)", err=True)
            ctx.exit(EXIT_USAGE)


_collector_paused = False


def _short_lived_process() -> None:
    """Spare a short `mlp` run the cyclic garbage collector, ~15% of a `mlp
    check`. Start-up allocates a few hundred thousand long-lived objects
    (pydantic, click, the IR and syntax-tree classes), yet the collector scans
    them repeatedly while they are imported (~10 ms) and fully, several times,
    when the interpreter exits (~17 ms). The commands make next to no cyclic
    garbage (check, lint, graph, fmt and a three-target compile of 10,000
    steps peak at the same memory without the collector), so it is off for
    the process; `mlp lsp`, which runs for hours, turns it back on
    (`_resume_collector`). At exit, everything still alive is frozen, out of
    the exit-time collections, and the OS frees it; exit handlers registered
    later (flushes, temporary files) run before, as `atexit` runs the last
    registered first."""
    global _collector_paused
    gc.disable()
    _collector_paused = True
    atexit.register(gc.freeze)


_left_to_the_os: list = []
"""What a command loaded, kept alive to the end of a short-lived process: freeing the
syntax trees and IR of a 10,000-step file object by object takes 0.2 s, which
the OS does at once when the process exits (`_exit_now`)."""


def _leave_to_the_os(value: object) -> None:
    if _collector_paused:
        _left_to_the_os.append(value)


def _exit_now(code: object) -> None:
    """Exit as `sys.exit(code)` would, without freeing every object first: run
    the exit handlers, flush the standard streams, end the process."""
    import atexit
    import os

    if code is None:
        status = EXIT_CLEAN
    elif isinstance(code, int):
        status = code
    else:  # `sys.exit("message")`: printed, status 1, as Python does
        print(code, file=sys.stderr)
        status = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # the reader left (`mlp ... | head`), or the stream is closed
            pass
    os._exit(status)


def _resume_collector() -> None:
    """Undo the pause of `_short_lived_process`, if it made one (commands run
    in-process, e.g. by tests, find the collector as their caller left it)."""
    if _collector_paused:
        gc.enable()


@click.group(cls=MlpGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="mlp", message="%(prog)s %(version)s")
def main() -> None:
    """mlp: check and compile MLP pipelines (.mlp files)."""


def expand_paths(paths: tuple[str, ...]) -> list[Path]:
    """Files as given; directories expand to the .mlp files below them. A
    directory with none is a usage error (exit 2), not a silent success."""
    result: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*.mlp") if p.is_file())
            if not found:
                click.echo(f"mlp: error: no .mlp files under {raw}", err=True)
                sys.exit(EXIT_USAGE)
            result.extend(found)
        else:
            result.append(path)
    return result


def _load_all(files: list[Path]):
    """Load each file; unreadable ones are reported on stderr and flagged."""
    from mlplang.api import FileReadError, load

    results, unreadable = [], False
    for file in files:
        try:
            results.append(load(file))
        except FileReadError as error:
            click.echo(f"mlp: error: cannot read {error}", err=True)
            unreadable = True
    _leave_to_the_os(results)
    return results, unreadable


def _echo_rendered(diagnostics, sources, err: bool = False) -> None:
    """Each diagnostic as a compiler shows it, a blank line after each, in one write
    (10,000 warnings were 20,000 writes, 0.1 s)."""
    from mlplang.diagnostics.render import render

    if diagnostics:
        click.echo("".join(f"{render(d, sources.get(d.span.file))}\n\n" for d in diagnostics), nl=False, err=err)


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--quiet", "-q", is_flag=True, help="Print only the summary line.")
def check(paths: tuple[str, ...], quiet: bool) -> None:
    """Check FILES (or directories of .mlp files) for language errors."""
    from mlplang.diagnostics.model import Severity

    results, unreadable = _load_all(expand_paths(paths))
    errors = warnings = 0
    for result in results:
        for diagnostic in result.diagnostics:
            if diagnostic.severity is Severity.ERROR:
                errors += 1
            elif diagnostic.severity is Severity.WARNING:
                warnings += 1
        if not quiet:
            _echo_rendered(result.diagnostics, result.sources)
    click.echo(f"{_plural(errors, 'error')}, {_plural(warnings, 'warning')} in {_plural(len(results), 'file')}")
    if unreadable:
        sys.exit(EXIT_USAGE)
    sys.exit(EXIT_FINDINGS if errors else EXIT_CLEAN)


@main.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["mermaid", "dot", "json"]), default="mermaid",
              show_default=True, help="Output format.")
@click.option("--pipeline", "pipeline_name", default=None, help="Only this pipeline of the file.")
def graph(file: str, fmt: str, pipeline_name: str | None) -> None:
    """Print the dependency graph of the pipelines in FILE."""
    from mlplang.diagnostics.render import render
    from mlplang.graph_formats import FORMATS

    results, unreadable = _load_all([Path(file)])
    if unreadable:
        sys.exit(EXIT_USAGE)
    result = results[0]
    if not result.ok:
        for diagnostic in result.diagnostics:
            if diagnostic.is_error:
                click.echo(render(diagnostic, result.sources.get(diagnostic.span.file)), err=True)
        sys.exit(EXIT_FINDINGS)
    graphs = [result.graph(p) for p in result.pipelines if pipeline_name in (None, p.name)]
    if pipeline_name is not None and not graphs:
        names = ", ".join(p.name for p in result.pipelines) or "none"
        click.echo(f"mlp: error: no pipeline `{pipeline_name}` in {file} (pipelines: {names})", err=True)
        sys.exit(EXIT_USAGE)
    click.echo(FORMATS[fmt](graphs), nl=False)


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(["text", "json", "sarif", "github"]), default="text",
              show_default=True, help="Output format.")
@click.option("--fail-on", type=click.Choice(["error", "warning"]), default="warning", show_default=True,
              help="Lowest severity that makes the exit code 1.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, exists=True), default=None,
              help="Use this mlp.toml / pyproject.toml instead of searching upwards from each file.")
def lint(paths: tuple[str, ...], fmt: str, fail_on: str, config_path: str | None) -> None:
    """Check FILES (or directories) with the lineage and governance rules."""
    from mlplang.compiler.rules import all_rules
    from mlplang.config import ConfigError, find_config, load_config
    from mlplang.diagnostics import formats
    from mlplang.diagnostics.codes import REGISTRY
    from mlplang.diagnostics.model import Severity
    from mlplang.lint import lint as lint_result

    all_rules()  # registers the rules' codes, which the configuration may name
    known = {code: entry.name for code, entry in REGISTRY.items()}

    def configured(load, path: Path):
        try:
            config = load(path)
            config.check_names(known)
        except ConfigError as error:
            click.echo(f"mlp: error: {error}", err=True)
            sys.exit(EXIT_USAGE)
        return config

    files = expand_paths(paths)
    fixed = configured(load_config, Path(config_path)) if config_path else None
    results, unreadable = _load_all(files)
    diagnostics, sources = [], {}
    for result in results:
        config = fixed or configured(find_config, Path(result.path))
        diagnostics.extend(lint_result(result, config))
        sources.update(result.sources)
    if fmt == "json":
        click.echo(formats.to_json(diagnostics, len(results)), nl=False)
    elif fmt == "sarif":
        click.echo(formats.to_sarif(diagnostics, sources), nl=False)
    elif fmt == "github":
        click.echo(formats.to_github(diagnostics), nl=False)
    else:
        _echo_rendered(diagnostics, sources)
        errors = sum(d.severity is Severity.ERROR for d in diagnostics)
        warnings = sum(d.severity is Severity.WARNING for d in diagnostics)
        click.echo(f"{_plural(errors, 'error')}, {_plural(warnings, 'warning')} in {_plural(len(results), 'file')}")
    if unreadable:
        sys.exit(EXIT_USAGE)
    threshold = Severity.WARNING.rank if fail_on == "warning" else Severity.ERROR.rank
    sys.exit(EXIT_FINDINGS if any(d.severity.rank >= threshold for d in diagnostics) else EXIT_CLEAN)


@main.command()
@click.argument("code")
def explain(code: str) -> None:
    """Print the documentation of a diagnostic CODE (or rule name)."""
    from mlplang.compiler.rules import all_rules
    from mlplang.diagnostics.codes import lookup

    all_rules()  # registers the rules' codes
    entry = lookup(code)
    if entry is None:
        click.echo(f"mlp: error: unknown code `{code}`; codes look like MLP201 or a rule name", err=True)
        sys.exit(EXIT_USAGE)
    click.echo(f"{entry.code} {entry.name} ({entry.severity.value})")
    click.echo()
    click.echo(entry.summary)
    if entry.explanation:
        click.echo()
        click.echo(entry.explanation)


@main.command()
@click.option("--stdio", is_flag=True, default=True, help="Talk over standard input/output (the default and only transport).")
def lsp(stdio: bool) -> None:
    """Run the language server (for editors) over standard input/output."""
    _resume_collector()  # a long-lived process
    try:
        from mlplang.lsp.server import main as serve
    except ImportError as error:
        click.echo(f"mlp: error: `mlp lsp` needs the `lsp` extra (pip install 'mlplang[lsp]'): {error}", err=True)
        sys.exit(EXIT_USAGE)
    serve()


def _target_choices() -> list[str]:
    from mlplang.backends import available

    return available()


def _parse_options(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> dict[str, str]:
    options = {}
    for value in values:
        key, equals, setting = value.partition("=")
        if not equals or not key.strip():
            raise click.BadParameter(f"expected KEY=VALUE, got {value!r}", ctx=ctx, param=param)
        options[key.strip()] = setting
    return options


@main.command(name="compile")
@click.argument("paths", nargs=-1, required=True)
@click.option("--target", "-t", "targets", required=True, multiple=True, type=click.Choice(_target_choices()),
              help="The orchestrator to emit (repeatable: -t github -t airflow checks once and emits both).")
@click.option("--output", "-o", "output", type=click.Path(file_okay=False), default=None,
              help="Output directory (default: mlp-out/TARGET); with several targets, each "
                   "goes to a TARGET folder in it (default: mlp-out).")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, exists=True), default=None,
              help="Use this mlp.toml / pyproject.toml instead of searching upwards from each file.")
@click.option("--option", "options", multiple=True, metavar="[TARGET.]KEY=VALUE", callback=_parse_options,
              help="A target option, over [tool.mlp.TARGET] (repeatable), e.g. --option operator=kubernetes; "
                   "with several targets, prefix the target: --option kubeflow.approval=waive.")
@click.option("--jobs", "-j", "jobs", type=click.IntRange(min=0), default=0, show_default=True,
              help="With several targets, emit a large pipeline's targets in up to this many processes "
                   "(0: one per target; 1: all in this one). The files are the same either way.")
def compile_command(paths: tuple[str, ...], targets: tuple[str, ...], output: str | None, config_path: str | None,
                    options: dict[str, str], jobs: int) -> None:
    """Check FILES and compile their pipelines for each TARGET. Nothing is
    written unless every file compiles for every target without errors."""
    from dataclasses import replace

    from mlplang.backends.writer import WriteError, write_files
    from mlplang.compile import compile_targets
    from mlplang.config import ConfigError, find_config

    targets = tuple(dict.fromkeys(targets))  # `-t github -t github` is one target
    overrides = _options_by_target(options, targets)
    files = expand_paths(paths)
    results, unreadable = _load_all(files)
    if unreadable:
        sys.exit(EXIT_USAGE)
    emitted, failed, owners = [], False, {}
    for result in results:
        try:
            config = find_config(Path(config_path)) if config_path else find_config(Path(result.path))
            outcome = compile_targets(result, targets, config, overrides, jobs=jobs)
        except ConfigError as error:
            click.echo(f"mlp: error: {error}", err=True)
            sys.exit(EXIT_USAGE)
        _echo_rendered([*outcome.diagnostics, *(d for o in outcome.targets.values() for d in o.diagnostics)],
                       result.sources, err=True)
        if not outcome.ok:
            failed = True
            continue
        for target, target_outcome in outcome.targets.items():
            for file in target_outcome.files:
                if len(targets) > 1:
                    file = replace(file, path=f"{target}/{file.path}")
                if file.path in owners:
                    click.echo(f"mlp: error: {result.path} and {owners[file.path]} both emit {file.path}", err=True)
                    failed = True
                owners[file.path] = result.path
                emitted.append(file)
    if failed:
        click.echo("mlp: nothing written: fix the errors above", err=True)
        sys.exit(EXIT_FINDINGS)
    if len(targets) > 1:
        directory = Path(output) if output else Path("mlp-out")
    else:
        directory = Path(output) if output else Path("mlp-out") / targets[0]
    try:
        written = write_files(directory, emitted)
    except WriteError as error:
        click.echo(f"mlp: error: {error}", err=True)
        sys.exit(EXIT_USAGE)
    for path in written:
        click.echo(f"wrote {path.as_posix()}")


def _options_by_target(options: dict[str, str], targets: tuple[str, ...]) -> dict[str, dict[str, str]]:
    """`--option KEY=VALUE` for every target, `--option TARGET.KEY=VALUE` for one."""
    by_target: dict[str, dict[str, str]] = {target: {} for target in targets}
    for key, value in options.items():
        prefix, dot, name = key.partition(".")
        if dot and prefix in _target_choices():
            if prefix not in by_target:
                raise click.BadParameter(f"{key}: {prefix} is not a target of this compile", param_hint="--option")
            by_target[prefix][name] = value
        else:
            for target in targets:
                by_target[target][key] = value
    return by_target


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--check", "check_only", is_flag=True, help="Change nothing; exit 1 and list the files that would change.")
@click.option("--diff", "show_diff", is_flag=True, help="Change nothing; print a unified diff; exit 1 if any.")
def fmt(paths: tuple[str, ...], check_only: bool, show_diff: bool) -> None:
    """Format FILES (or directories of .mlp files) in the canonical layout.

    Files are rewritten in place unless --check or --diff is given. A file
    with syntax errors is never changed: its errors are printed (exit 1)."""
    import difflib
    import os
    import tempfile

    from mlplang.api import FileReadError
    from mlplang.compiler.modules import read_source
    from mlplang.diagnostics.model import has_errors
    from mlplang.diagnostics.render import render
    from mlplang.formatter import FormatError, format_text

    unreadable = findings = False
    changed: list[Path] = []
    for file in expand_paths(paths):
        try:
            source, read_diagnostics = read_source(file)
        except FileReadError as error:
            click.echo(f"mlp: error: cannot read {error}", err=True)
            unreadable = True
            continue
        try:
            if has_errors(read_diagnostics):
                raise FormatError(read_diagnostics)
            formatted = format_text(source.text, source.path)
        except FormatError as error:
            for diagnostic in error.diagnostics:
                click.echo(render(diagnostic, source))
                click.echo()
            click.echo(f"mlp: {source.path}: not formatted: fix the syntax errors first", err=True)
            findings = True
            continue
        if formatted == source.text:
            continue
        changed.append(file)
        if show_diff:
            click.echo("".join(difflib.unified_diff(
                source.text.splitlines(keepends=True), formatted.splitlines(keepends=True),
                fromfile=f"{source.path} (original)", tofile=f"{source.path} (formatted)",
            )), nl=False)
        elif check_only:
            click.echo(f"would reformat {source.path}")
        else:
            handle, temporary = tempfile.mkstemp(dir=file.parent, prefix=f".{file.name}.", suffix=".tmp")
            try:
                with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
                    out.write(formatted)
                if file.exists():
                    os.chmod(temporary, file.stat().st_mode & 0o7777)
                os.replace(temporary, file)
            except OSError as error:
                if os.path.exists(temporary):
                    os.unlink(temporary)
                click.echo(f"mlp: error: cannot write {file}: {error.strerror or error}", err=True)
                unreadable = True
                continue
            click.echo(f"reformatted {source.path}")
    verb = "would be reformatted" if check_only or show_diff else "reformatted"
    click.echo(f"{_plural(len(changed), 'file')} {verb}", err=True)
    if unreadable:
        sys.exit(EXIT_USAGE)
    if findings or ((check_only or show_diff) and changed):
        sys.exit(EXIT_FINDINGS)
    sys.exit(EXIT_CLEAN)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


if __name__ == "__main__":
    main()
