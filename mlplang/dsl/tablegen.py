"""Writes `mlplang/grammar/lalr_tables.py`: Lark's LALR tables for mlp.lark as plain data.

The grammar stays the single definition of the language and Lark stays the
parser generator: this module asks Lark for the parse table, the rules and the
terminals it built from `mlp.lark`, and prints them as a Python module that
`mlplang.dsl.lalr` drives without importing Lark. States are renumbered in a
canonical order (breadth first from the start state, symbols sorted), so the
output does not depend on Lark's internal numbering or on hash seeds.

Run ``python -m mlplang.dsl.tablegen`` after changing the grammar;
``--check`` exits 1 when the committed module is stale (a test does this).
"""

from __future__ import annotations

import sys
from collections import deque
from pathlib import Path

GRAMMAR = Path(__file__).resolve().parent.parent / "grammar" / "mlp.lark"
OUTPUT = GRAMMAR.parent / "lalr_tables.py"
SKIPPED = "WS"  # the ignored terminal that separates tokens and is dropped; COMMENT tokens are kept


def _lark():
    """A Lark LALR parser for the grammar, built fresh (not from Lark's cache)."""
    from lark import Lark

    return Lark(GRAMMAR.read_text(encoding="utf-8"), parser="lalr", lexer="contextual", maybe_placeholders=False)


def _terminal_order(terminal) -> tuple:
    # The order of Lark's BasicLexer: its alternation tries terminals in this order.
    return (-terminal.priority, -terminal.pattern.max_width, -len(terminal.pattern.value), terminal.name)


def _token_pattern(terminals, skipped: str) -> tuple[str, dict[str, str]]:
    """One regular expression matching the next token: the `skipped` terminal
    (whitespace) before it is consumed in the same match, then one alternation
    of named groups for every other terminal but the keywords, which NAME
    matches and a lookup then classifies, as Lark's lexer does.

    The whitespace is taken greedily, and every position after all of it
    matches an alternative (a token, an invalid character, or the end of the
    text): the first attempt always succeeds, so a match never backtracks into
    the whitespace and the scan stays linear in the length of the text."""
    keywords = {}
    alternatives = []
    whitespace = None
    for terminal in sorted(terminals, key=_terminal_order):
        pattern = terminal.pattern
        if terminal.name == skipped:
            whitespace = pattern.to_regexp()
            continue
        if pattern.type == "str" and pattern.value.isidentifier():
            keywords[pattern.value] = str(terminal.name)
            continue
        alternatives.append(f"(?P<{terminal.name}>{pattern.to_regexp()})")
    if whitespace is None:
        raise SystemExit(f"the grammar has no terminal {skipped}")
    alternatives = _names_first(alternatives)
    # Anything else is a character no terminal matches: the slow path reports it.
    alternatives.append(r"(?P<__INVALID>[\s\S])")
    alternatives.append(r"(?P<__END>\Z)")
    pattern = f"(?:{whitespace})?(?:{'|'.join(alternatives)})"
    return pattern, dict(sorted(keywords.items()))


FIRST = "NAME"
"""The terminal tried first: names and keywords are half of the tokens of a
typical file, and each alternative tried before the one that matches costs a
little (a sixth of the lexing time of a large file). Moving it ahead of the
terminals Lark tries before it changes no token as long as none of those can
start with a character it can start with: `_names_first` checks that."""


def _names_first(alternatives: list[str]) -> list[str]:
    """The alternatives with FIRST's moved to the front, when no alternative before
    it can start with the same character (else in Lark's order, unchanged)."""
    first_group = f"(?P<{FIRST}>"
    index = next((i for i, a in enumerate(alternatives) if a.startswith(first_group)), None)
    if index is None:
        return alternatives
    starts = first_characters(alternatives[index])
    if starts is None:
        return alternatives
    for earlier in alternatives[:index]:
        other = first_characters(earlier)
        if other is None or other & starts:
            return alternatives
    return [alternatives[index], *alternatives[:index], *alternatives[index + 1:]]


def first_characters(pattern: str) -> frozenset[str] | None:
    """The characters a non-empty match of `pattern` can start with, or None when
    that is not known for sure (a negated or category class, an anchor, a
    lookaround, a pattern that can match the empty string, letters of any case)."""
    try:
        from re import _parser as sre_parse  # Python 3.11+
    except ImportError:  # Python 3.10
        import sre_parse
    parsed = sre_parse.parse(pattern)
    if parsed.state.flags & sre_parse.SRE_FLAG_IGNORECASE:
        return None
    found, nullable = _first_of_sequence(parsed, sre_parse)
    return None if found is None or nullable else frozenset(found)


def _first_of_sequence(items, sre_parse) -> tuple[set[str] | None, bool]:
    """(first characters, whether the sequence can match empty) of a parsed sequence."""
    constants = sre_parse  # the opcodes are re-exported there
    found: set[str] = set()
    for op, argument in items:
        if op is constants.LITERAL:
            return found | {chr(argument)}, False
        if op is constants.IN:
            chars = _class_characters(argument, constants)
            return (None, False) if chars is None else (found | chars, False)
        if op is constants.SUBPATTERN:
            if argument[1] & constants.SRE_FLAG_IGNORECASE:  # (?i:...): both cases of each letter
                return None, False
            inner, nullable = _first_of_sequence(argument[-1], sre_parse)
        elif op is constants.BRANCH:
            inner, nullable = set(), False
            for branch in argument[1]:
                chars, empty = _first_of_sequence(branch, sre_parse)
                if chars is None:
                    return None, False
                inner |= chars
                nullable |= empty
        elif op in (constants.MAX_REPEAT, constants.MIN_REPEAT):
            low, _, body = argument
            inner, nullable = _first_of_sequence(body, sre_parse)
            nullable = nullable or low == 0
        else:  # anchors, lookarounds, backreferences, any character: not analysed
            return None, False
        if inner is None:
            return None, False
        found |= inner
        if not nullable:
            return found, False
    return found, True


def _class_characters(items, constants) -> set[str] | None:
    """The characters of a class `[...]` made of literals and small ranges; None otherwise."""
    chars: set[str] = set()
    for op, argument in items:
        if op is constants.LITERAL:
            chars.add(chr(argument))
        elif op is constants.RANGE and argument[1] - argument[0] < 1024:
            chars.update(chr(code) for code in range(argument[0], argument[1] + 1))
        else:  # NEGATE, CATEGORY (\s, \w), huge ranges
            return None
    return chars


def _rule_spec(rule, builder) -> tuple:
    """(origin, size, keep, expand_single, method) reproducing Lark's tree builder:
    which children survive (anonymous tokens are dropped unless the rule keeps
    all tokens), which are `_rule`s whose children are spliced in, whether a
    `?rule` with one child is that child, and the builder method to call."""
    expansion = rule.expansion
    keep_all = rule.options.keep_all_tokens
    kept = [
        (index, not symbol.is_term and symbol.name.startswith("_"))
        for index, symbol in enumerate(expansion)
        if keep_all or not (symbol.is_term and symbol.filter_out)
    ]
    keep = None if len(kept) == len(expansion) and not any(e for _, e in kept) else tuple(kept)
    origin = str(rule.origin.name)
    if rule.alias or rule.options.template_source:
        raise SystemExit(f"rule {origin}: aliases and templates are not supported by the table driver")
    if origin.startswith("_"):
        method = None  # inlined into the parent rule
    elif rule.options.expand1 and len(kept) == 1:
        method = None  # `?rule` with one child: the child itself
    else:
        if not callable(getattr(builder, origin, None)):
            raise SystemExit(f"rule {origin} has no method in SyntaxTreeBuilder")
        method = origin
    return (origin, len(expansion), keep, bool(rule.options.expand1), method)


def canonical_numbers(table) -> dict:
    """Lark's number of each state of `table` (a Lark parse table) -> the number this
    module gives it: breadth first from the start state, symbols sorted. The recovering
    parser maps the fast path's states back to its own Lark's with it."""
    from lark.parsers.lalr_analysis import Shift

    start = table.start_states["start"]
    number = {start: 0}
    queue = deque([start])
    while queue:
        state = queue.popleft()
        for symbol in sorted(table.states[state]):
            action, argument = table.states[state][symbol]
            if action is Shift and argument not in number:
                number[argument] = len(number)
                queue.append(argument)
    return number


def build() -> str:
    """The text of the generated module."""
    import hashlib
    import pprint

    from lark.parsers.lalr_analysis import Shift

    from mlplang.dsl.transformer import SyntaxTreeBuilder

    lark = _lark()
    lalr = lark.parser.parser.parser
    table = lalr.parse_table
    end = table.end_states["start"]
    rules = list(lark.rules)
    rule_index = {id(rule): i for i, rule in enumerate(rules)}

    number = canonical_numbers(table)
    if end not in number:
        raise SystemExit("the accepting state is unreachable")

    actions = []
    for state in sorted(number, key=number.get):
        row = {}
        for symbol in sorted(table.states[state]):
            action, argument = table.states[state][symbol]
            row[str(symbol)] = number[argument] if action is Shift else -(rule_index[id(argument)] + 1)
        actions.append(row)

    pattern, keywords = _token_pattern(lark.terminals, SKIPPED)
    builder = SyntaxTreeBuilder()
    specs = tuple(_rule_spec(rule, builder) for rule in rules)
    grammar_hash = hashlib.sha256(GRAMMAR.read_bytes()).hexdigest()
    ignored = sorted(str(name) for name in lark.ignore_tokens)

    def literal(value) -> str:
        return pprint.pformat(value, width=110, sort_dicts=False)

    def rows(items) -> str:
        """A tuple written one item per line (a state's actions, a rule), however long the line."""
        return "(\n" + "".join(f"    {item!r},\n" for item in items) + ")"

    return (
        '"""LALR tables of mlplang/grammar/mlp.lark, generated by Lark. Do not edit.\n\n'
        "Regenerate with `python -m mlplang.dsl.tablegen`; a test fails when this is stale.\n"
        "ACTIONS[state][symbol]: n >= 0 shifts (or goes) to state n, n < 0 reduces RULES[-n - 1].\n"
        "RULES[i]: (origin, size, kept children as (index, splice) or None for all, expand single,\n"
        "builder method or None when the rule's value is its children: a list for `_rule`, the child for `?rule`).\n"
        '"""\n\n'
        "# fmt: off\n"
        f"GRAMMAR_SHA256 = {grammar_hash!r}\n"
        f"START = 0\n"
        f"ACCEPT = {number[end]}\n"
        f"IGNORED = {literal(tuple(ignored))}\n"
        f"TOKEN_PATTERN = {pattern!r}\n"
        f"KEYWORDS = {literal(keywords)}\n"
        f"RULES = {rows(specs)}\n"
        f"ACTIONS = {rows(actions)}\n"
    )


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m mlplang.dsl.tablegen", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if the module is stale")
    args = parser.parse_args(argv)
    text = build()
    if args.check:
        current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else ""
        if current != text:
            print(f"{OUTPUT} is stale: run `python -m mlplang.dsl.tablegen`", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
