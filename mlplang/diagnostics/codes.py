"""The registry of diagnostic codes of the language itself (syntax, names, types).

Each code is registered once, with a stable number, a kebab-case name, a
default severity and a short explanation; messages are written where the code
is raised. Governance rules register their own codes in the same registry.
Renamed or retired codes go in `REDIRECTS` so old suppressions keep working.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlplang.diagnostics.model import Severity


@dataclass(frozen=True, slots=True)
class Code:
    code: str
    name: str
    severity: Severity
    summary: str
    explanation: str = ""
    kind: str = "language"
    """"language" (syntax, names, types), "lint" (the linter itself) or "rule" (governance rules)."""

    def __str__(self) -> str:
        return self.code


REGISTRY: dict[str, Code] = {}
REDIRECTS: dict[str, str] = {}


def register(
    code: str, name: str, severity: Severity, summary: str, explanation: str = "", kind: str = "language"
) -> Code:
    if code in REGISTRY:
        raise ValueError(f"diagnostic code {code} registered twice")
    if any(entry.name == name for entry in REGISTRY.values()):
        raise ValueError(f"diagnostic name {name} registered twice")
    entry = Code(code, name, severity, summary, explanation.strip(), kind)
    REGISTRY[code] = entry
    return entry


def is_language_code(code: str) -> bool:
    """A code of the language itself (reading, syntax, names, types), as opposed to the
    rules' (built-in or third-party, whatever their code looks like), the linter's and
    the backends'. Language errors cannot be suppressed or disabled."""
    entry = REGISTRY.get(code)
    return entry is not None and entry.kind == "language"


def lookup(code_or_name: str) -> Code | None:
    key = REDIRECTS.get(code_or_name.upper(), code_or_name.upper())
    if key in REGISTRY:
        return REGISTRY[key]
    for entry in REGISTRY.values():
        if entry.name == code_or_name.lower():
            return entry
    return None


E, W = Severity.ERROR, Severity.WARNING

# ---- MLP0xx: reading and syntax -------------------------------------------
SYNTAX_ERROR = register("MLP001", "syntax-error", E, "The text does not follow the grammar.", """
The parser met a token it did not expect. The message names what was found
and what would have been valid there. Several independent syntax errors are
reported at once; fix the first one first when they are close together.
""")
UNTERMINATED_STRING = register("MLP002", "unterminated-string", E, "A string is not closed.", """
A `"` string must end on the same line; use `\\n` for a newline, or a
triple-quoted `\"\"\"...\"\"\"` string for text over several lines.
""")
INVALID_ESCAPE = register("MLP003", "invalid-escape", E, "Unknown backslash escape in a string.", """
In `"..."` strings only `\\"`, `\\\\`, `\\n`, `\\t` and `\\r` are escapes. Write
`\\\\` for a backslash, or use a raw triple-quoted string, where backslashes
(`\\$(cmd)`, a trailing `\\` line continuation) pass through unchanged.
""")
INVALID_NUMBER = register("MLP004", "invalid-number", E, "A number with an unknown unit, or too large.", """
Numbers may carry a duration unit (`s m h d`, e.g. `90s 3h`) or a size unit
(`Ki Mi Gi Ti` binary, `K M G T` decimal, e.g. `512Mi`). A float (or a value
with its unit) must stay below about 1.8e308: `1e999` has no finite value, and
no target can write an infinity.
""")
INVALID_CHARACTER = register("MLP005", "invalid-character", E, "A character that cannot start any token.", """
The lexer found a character that is not part of the language outside a string.
""")
UNEXPECTED_EOF = register("MLP006", "unexpected-end-of-file", E, "The file ends in the middle of a construct.", """
Usually a missing `}` or `)`; the message says what was still expected.
""")
INVALID_ENCODING = register("MLP007", "invalid-encoding", E, "The file is not UTF-8 text.", """
`.mlp` files are UTF-8 text without NUL bytes. The position of the first bad
byte is reported.
""")
TOO_DEEP = register("MLP008", "nesting-too-deep", E, "Lists, maps or expressions nested too deeply.", """
Values and conditions may nest at most 64 levels.
""")

# ---- MLP1xx: names, types and structure -----------------------------------
UNKNOWN_REFERENCE = register("MLP101", "unknown-reference", E, "A name that is not declared.", """
A reference (a source, `step.output`, `param.X`, `secret.X`, a template) names
nothing declared in scope. A close match is suggested when there is one.
""")
DUPLICATE_NAME = register("MLP102", "duplicate-name", E, "Two declarations with the same name.", """
Sources, steps, gates and monitors share one namespace per pipeline; params,
secrets, inputs and outputs of one step each have their own.
""")
TYPE_MISMATCH = register("MLP103", "type-mismatch", E, "An artifact bound to an input of another type.", """
An input accepts its declared type or a subtype: `Features` is a `Dataset`,
and `Artifact` accepts every artifact.
""")
FLAVOR_MISMATCH = register("MLP104", "flavor-mismatch", E, "A flavored input bound to another flavor.", """
`in model: Model<sklearn>` needs an output declared `Model<sklearn>`; an
unflavored input accepts any flavor.
""")
DEPENDENCY_CYCLE = register("MLP105", "dependency-cycle", E, "Steps that depend on each other in a loop.", """
Data edges, `after` edges and gate edges must form a DAG. The message prints
the whole cycle.
""")
BAD_INTERPOLATION = register("MLP106", "bad-interpolation", E, "`${in.X}`, `${out.X}` or `${param.X}` names nothing.", """
Inside strings only `${in.X}`, `${out.X}` and `${param.X}` are interpolations;
each must name an input, an output or a param of the step.
""")
INTERPOLATION_TYPO = register("MLP107", "interpolation-typo", W, "`${word.X}` where `word` looks like `in`, `out` or `param`.", """
`${inp.data}` is passed to the command as text; it was probably meant as
`${in.data}`. Other `$` text (`$HOME`, `${HOME}`, `$(cmd)`, `${{ x }}`) is
never touched. Write `$${in.x}` to get a literal `${in.x}`.
""")
IMPORT_CYCLE = register("MLP108", "import-cycle", E, "Modules that import each other.", """
The message prints the import chain that leads back to the first module.
""")
IMPORT_NOT_FOUND = register("MLP109", "import-not-found", E, "An imported module does not exist.", """
`import "std/NAME"` reads `mlplang/stdlib/NAME.mlp`; `import "./x.mlp"` reads a
path relative to the importing file.
""")
UNKNOWN_ARGUMENT = register("MLP110", "unknown-template-argument", E, "A template called with an argument it does not declare.", "")
MISSING_ARGUMENT = register("MLP111", "missing-template-argument", E, "A template argument without default is not given.", "")
PARAM_DEFAULT_TYPE = register("MLP112", "param-default-type", E, "A param default of the wrong type.", """
`param epochs: int = 20`; the default must have the declared type (an `int`
is accepted where a `float` is declared).
""")
UNKNOWN_ATTRIBUTE = register("MLP113", "unknown-attribute", E, "An attribute the declaration does not have.", "")
INVALID_VALUE = register("MLP114", "invalid-value", E, "An attribute value of the wrong kind.", "")
MISPLACED_ITEM = register("MLP115", "misplaced-item", E, "An item not allowed in this kind of block.", """
`require` belongs to gates and monitors, `approval` to gates, `watch` and
`on_breach` to monitors; gates have no inputs, outputs or command.
""")
UNKNOWN_TYPE = register("MLP116", "unknown-type", E, "An unknown artifact or param type.", """
Artifact types: `Artifact Dataset Features Model Metrics Prompt Index Endpoint`,
optionally flavored (`Model<sklearn>`). Param types: `int float str bool`.
""")
MISSING_ATTRIBUTE = register("MLP117", "missing-attribute", E, "A required attribute is missing.", "")
UNBOUND_INPUT = register("MLP118", "unbound-input", E, "An input of a step is not bound to an artifact.", "")
INVALID_CONDITION = register("MLP119", "invalid-condition", E, "A `require` or `when` condition that cannot be evaluated.", """
Conditions compare metrics (`step.output.key`, a `Metrics` output), params
and literals with `< <= > >= == !=`, joined by `and`, `or`, `not`.
""")
SECRET_INTERPOLATION = register("MLP120", "secret-interpolation", E, "A secret interpolated into a string.", """
Secrets reach a step only through `env = { NAME = secret.x }`, so that the
orchestrator can mask them; `${secret.x}` would paste them into a command.
""")

# ---- MLP5xx: compiling for a target ----------------------------------------
UNSUPPORTED_ON_TARGET = register("MLP501", "unsupported-on-target", E, "The target cannot express this construct.", """
The pipeline is valid MLP, but the orchestrator chosen with `--target` has no
faithful way to run this part of it (for example, Airflow refuses a scheduled
Dag with a param that has no default). Nothing is written: change the pipeline
or the target's options. The backend's page in `docs/backends/` lists its limits.
""", kind="backend")
IGNORED_ON_TARGET = register("MLP502", "ignored-on-target", W, "The target does not use a setting of the pipeline.", """
The compiled pipeline runs, but without something the `.mlp` file asks for:
for example Airflow's `bash` operator runs every step on the worker, so step
images and resources have no effect. The message says how to keep the
setting (usually a target option, such as `operator = "kubernetes"`).
""", kind="backend")

# ---- MLP9xx: the linter itself --------------------------------------------
UNUSED_SUPPRESSION = register("MLP901", "unused-suppression", W, "A `# mlp: ignore[...]` that suppresses nothing.", """
The comment names a code that reports nothing on its line or in its block:
the problem was fixed, or the code is misspelled. Remove the comment (or the
code from its list) so suppressions do not outlive their reason.
""", kind="lint")
UNKNOWN_SUPPRESSION = register("MLP902", "unknown-suppression-code", W, "A `# mlp: ignore[...]` naming no known code.", """
Suppressions take codes (`MLP201`) or rule names (`deploy-without-gate`),
separated by commas.
""", kind="lint")
