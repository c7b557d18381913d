"""How text from the `.mlp` file reaches a container unchanged.

Three interpreters stand between a spec and bash, and each rewrites `{{...}}`:
- Argo (Kubeflow's engine) substitutes `{{workflow.name}}`-style variables and
  evaluates `{{=expr}}` in the whole workflow, which carries every component,
  executor and task of the spec, with their defaults and constants;
- the Kubeflow driver replaces `{{$.inputs.parameters['x']}}` in container
  arguments, and reads an argument that starts with `{"IfPresent":` as a
  conditional clause;
- the Kubeflow launcher replaces `{{$}}` and every `{{$.inputs...}}` /
  `{{$.outputs...}}` placeholder of the task, anywhere in an argument.

So no string from the `.mlp` file is written with `{{` in it, nor with `{`
at the start of an argument. `escape` inserts MARK (U+FDD0, a Unicode
noncharacter: reserved for a program's internal use, never typed) after each
`{` that is followed by `{` or by MARK, and after a `{` that starts an
argument; the prelude, a fixed bash script at the head of every container,
removes it again (`{`MARK -> `{`) before anything reads the text. The
encoding is one-to-one and changes no text without `{{` or a leading `{`, so
specs stay readable.

The user's command is the prelude's first argument; every value it needs is a
further argument `NAME=VALUE`: a value written by mlp (escaped), or a
Kubeflow placeholder (an artifact path, a parameter's value, which may be a
default mlp escaped). The prelude unescapes each and exports it for the
command, which reads `${MLP_IN_x}`, `${MLP_OUT_x}`, `${MLP_PARAM_x}` and the
step's `env` names: references, never pasted text. (A value typed when a run
starts is unescaped too; it changes only if it holds `{` followed by MARK.)
"""

from __future__ import annotations

import re

MARK = "\ufdd0"

PRELUDE = """\
set -e
e=$(printf '{\\357\\267\\220') b='{' run="$1" assign=()
run="${run//$e/$b}"
shift
for a in "$@"; do
  a="${a//$e/$b}"
  assign+=("$a")
done
(set -- "$run" "${assign[@]}"; for a in "${@:2}"; do export "$a"; done; exec bash -c "$1" "$0")
for a in "${assign[@]}"; do
  n="${a%%=*}"
  case "$n" in MLP_OUT_*)
    [ -e "${a#*=}" ] || { echo "$0 did not write its output ${n#MLP_OUT_}" >&2; exit 1; } ;;
  esac
done
"""
"""Runs as `bash -c PRELUDE TASK COMMAND NAME=VALUE...`: unescapes, runs
COMMAND with bash (as `$0` = TASK) in a subshell that exports the values - so
a user's variable never overwrites the prelude's own - and then checks that
every `MLP_OUT_*` path exists. (`\\357\\267\\220` is MARK in UTF-8.)"""


def escape(text: str, *, argument: bool = False) -> str:
    """`text` with MARK after every `{` followed by `{` or MARK and, for a
    whole `argument`, after a `{` that starts it (after blanks)."""
    if "{" not in text:
        return text
    result = _DOUBLE_BRACE.sub("{" + MARK, text)
    if argument:
        lead = len(text) - len(text.lstrip())
        # only blanks come before `lead`, so it is the same index in `result`
        if text[lead:lead + 1] == "{" and text[lead + 1:lead + 2] not in ("{", MARK):
            result = result[:lead + 1] + MARK + result[lead + 1:]
    return result


_DOUBLE_BRACE = re.compile("\\{(?=[{" + MARK + "])")
"""A `{` followed by `{` or MARK (in the original text: the lookahead does not consume)."""


def unescape(text: str) -> str:
    """What the prelude does (for tests and for reading specs back)."""
    return text.replace("{" + MARK, "{")


def value(name: str, text: str) -> str:
    """An argument carrying a value written by mlp."""
    return f"{name}={escape(text)}"


def binding(name: str, placeholder: str) -> str:
    """An argument carrying a value Kubeflow supplies at run time."""
    return f"{name}={placeholder}"


def command(task: str) -> list[str]:
    """The container's `command`: bash running the prelude, as TASK."""
    return ["bash", "-c", PRELUDE, task]


def comment_line(text: str) -> str:
    """`text` fit for a YAML comment: line breaks (YAML also counts NEL, LS and
    PS) and other control characters become `\\n`-style escapes."""
    out = []
    for char in text:
        if char in "\r\n\x85\u2028\u2029" or (ord(char) < 32 and char != "\t") or char == "\x7f":
            out.append(char.encode("unicode_escape").decode("ascii"))
        else:
            out.append(char)
    return "".join(out)
