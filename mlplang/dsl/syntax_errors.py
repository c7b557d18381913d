"""Friendly syntax-error messages: Lark's `match_examples` compares the parser
state of an error with the states reached by small known-bad snippets, so a
message can name the mistake ("missing `=`") rather than a token list."""

from __future__ import annotations

# label -> snippets that fail at the token the label describes
EXAMPLES: dict[str, list[str]] = {
    "missing `=` between a name and its value": [
        'pipeline p { owner "x" }',
        'pipeline p { tags ["a"] }',
        'pipeline p { step s { image "x" } }',
        "pipeline p { step s { retries 2 } }",
        'pipeline p { source s: Dataset { uri "x" } }',
        'pipeline p { step s = t(a "x") }',
    ],
    "missing `= value` (or a `{ ... }` block) after the name": [
        "pipeline p { step s { r } }",
        "pipeline p { gate g { r } }",
        "pipeline p { monitor m { r } }",
        "template t() { r }",
        # a half-written line, then a line starting with an item keyword
        *(f"pipeline p {{ step s {{\n r\n {item} }} }}"
          for item in ("in x: Dataset", "out x: Model", "after a", "when a", "require a")),
    ],
    "missing `= value` after the name": [
        "pipeline p { owner }",
        "pipeline p { source s: Dataset { uri } }",
        "pipeline p { step s { resources { cpu } } }",
        *(f"pipeline p {{\n owner\n {item} }}"
          for item in ("param x: int", "secret s", "source s: Dataset", "step s {}", "gate g {}", "monitor m {}")),
    ],
    "missing value after `=`": [
        "pipeline p { owner = }",
        "pipeline p { step s { image = } }",
        "pipeline p { param x: int = }",
        "pipeline p { step s { env = { A = } } }",
        "pipeline p { step s { in x: Dataset = } }",
        "pipeline p { step s = t(a = ) }",
        "template t(a: int = ) { }",
    ],
    "a declaration is expected here: `param`, `secret`, `source`, `step`, `gate`, "
    "`monitor` or `name = value`": [
        "pipeline p { 1 }",
        'pipeline p { "x" }',
        "pipeline p { = }",
        "pipeline p { in x: Dataset }",
    ],
    "a step item is expected here: `in`, `out`, `after`, `when`, `require`, "
    "`name = value` or `name { ... }`": [
        "pipeline p { step s { 1 } }",
        'pipeline p { step s { "x" } }',
        "pipeline p { step s { step t {} } }",
        "pipeline p { step s { = } }",
    ],
    "only `import`, `pipeline` and `template` may appear at the top level": [
        "step s {}",
        'owner = "x"',
        "param x: int",
        "}",
        "1",
    ],
    "missing name after the keyword": [
        "pipeline { }",
        "pipeline p { step { } }",
        "pipeline p { gate { } }",
        "pipeline p { param : int }",
        "pipeline p { source : Dataset }",
        "pipeline p { step s { in : Dataset } }",
        "pipeline p { step s { out : Model } }",
    ],
    "missing `:` and a type after the name": [
        "pipeline p { param x }",
        "pipeline p { param x = 1 }",
        "pipeline p { source s {} }",
        "pipeline p { step s { in x = a } }",
        "pipeline p { step s { out x } }",
    ],
    "missing type after `:`": [
        "pipeline p { param x: = 1 }",
        "pipeline p { step s { in x: = a } }",
        "pipeline p { step s { out x: } }",
    ],
    "missing `{` to open the block": [
        "pipeline p }",
        "pipeline p step",
        "pipeline p { step s }",
        "pipeline p { gate g }",
    ],
    "missing `}`: the block is not closed": [
        "pipeline p {",
        "pipeline p { step s {",
        'pipeline p { step s { image = "x"',
        "pipeline p { gate g { require a.b.c > 1",
        "pipeline p { step s { resources { cpu = 1",
    ],
    "missing condition: expected a comparison such as `step.metrics.auc >= 0.9`": [
        "pipeline p { gate g { require } }",
        "pipeline p { step s { when } }",
        "pipeline p { gate g { require > 1 } }",
    ],
    "a comparison is incomplete: missing the right-hand side": [
        "pipeline p { gate g { require a.b.c < } }",
        "pipeline p { gate g { require a.b.c <= } }",
        "pipeline p { gate g { require a.b.c > } }",
        "pipeline p { gate g { require a.b.c >= } }",
        "pipeline p { gate g { require a.b.c == } }",
        "pipeline p { gate g { require a.b.c != } }",
    ],
    "`after` takes a step name or a list such as `[a, b]`": [
        'pipeline p { step s { after "x" } }',
        "pipeline p { step s { after 1 } }",
        "pipeline p { step s { after } }",
    ],
    "a template call needs `(`": [
        "pipeline p { step s = t }",
        "pipeline p { step s = a.t }",
    ],
    "arguments are written `name = value`": [
        'pipeline p { step s = t("x") }',
        "pipeline p { step s = t(a.b) }",
    ],
}

# Lists are not here: the parser tells a missing `,` from a missing `]` by
# looking at the token that follows (see `_list_mistake` in parser.py).

# Labels that name something missing at the end of what came before: the
# parser points there rather than at the token that starts the next line.
MISSING_LABELS = frozenset(
    label for label in (*EXAMPLES, "a list is not closed: missing `]`")
    if label.startswith(("missing", "a comparison is incomplete", "a list is not closed", "a template call needs"))
)

# Lark terminal name -> what to call it in a message
TERMINALS = {
    "NAME": "a name",
    "STRING": "a string",
    "LONG_STRING": "a string",
    "NUMBER": "a number",
    "TRUE": "`true`",
    "FALSE": "`false`",
    "$END": "the end of the file",
}


# Tokens that can start a value; when all of them are expected, say "a value".
VALUE_STARTS = frozenset({"STRING", "LONG_STRING", "NUMBER", "TRUE", "FALSE", "LSQB", "LBRACE", "CRON", "NAME"})


def describe_expected(accepts: set[str], literal_of: dict[str, str]) -> str:
    accepts = set(accepts)
    # `;` and `,` separate items anywhere, so listing them only adds noise;
    # `,` is worth naming inside a list or an argument list.
    accepts.discard("SEMICOLON")
    if not accepts & {"RSQB", "RPAR"}:
        accepts.discard("COMMA")
    names = set()
    if VALUE_STARTS - {"LONG_STRING"} <= accepts:
        accepts -= VALUE_STARTS
        names.add("a value")
    for terminal in accepts:
        if terminal in TERMINALS:
            names.add(TERMINALS[terminal])
        elif terminal in literal_of:
            names.add(f"`{literal_of[terminal]}`")
    ordered = sorted(names, key=lambda n: (not n.startswith("`"), n))
    if not ordered:
        return ""
    if len(ordered) == 1:
        return ordered[0]
    if len(ordered) > 8:
        ordered = ordered[:8] + ["..."]
    return ", ".join(ordered[:-1]) + " or " + ordered[-1]


def describe_found(token_type: str, value: str) -> str:
    """The unexpected token, worded to follow "unexpected"."""
    if token_type == "$END":
        return "end of file"
    if token_type in ("STRING", "LONG_STRING"):
        return "string"
    if token_type == "NUMBER":
        return f"number `{value}`"
    if token_type == "NAME":
        return f"name `{value}`"
    return f"`{value}`"
