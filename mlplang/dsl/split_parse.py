"""A large file parsed in two processes: its first part here, the rest in a forked child.

Parsing is ~80% of checking a 10,000-step pipeline, and it is one pass over
the text on one of the machine's cores. The members of a pipeline are
independent for the parser: after a member ends, the LALR automaton is in
the same state whatever came before (the stack holds the pipeline's `{` and
the list of its members so far, whose states do not depend on the file above).
So a child process can start parsing at a member's first line, in the middle
of the file, on a stack that holds only those two states, while this process
parses the first part; the child stops where its work would reach below that
stack (the pipeline's closing brace, or the end of the text), and this
process adds the child's members to its own list and goes on from there.
The child sends its members in pieces as it goes, so that this process
decodes them while the child finishes.

Nothing is taken on trust. The split point is only a guess (a line starting
with a member keyword); this process checks, when its own parse reaches it,
that a token starts exactly there and that its automaton is in exactly the
states the child started from. The child reports failure on a syntax error
or if its stack's base was used other than by appending members to the list.
In every such case this process parses the rest itself, so the tree, the
comments and the diagnostics are always those of one pass (`parse_items` in
`mlplang.dsl.lalr`); only the time differs. The child's members come back
through `mlplang.dsl.tree_codec`.
"""

from __future__ import annotations

import functools
import re

from mlplang.diagnostics import codes
from mlplang.dsl import lalr
from mlplang.dsl.tokens import Tok
from mlplang.dsl.transformer import Context, SyntaxTreeBuilder
from mlplang.grammar import lalr_tables as tables
from mlplang.source import SourceFile

# `mlplang.parallel` and `mlplang.dsl.tree_codec` are imported only for a large file:
# pickle and signal cost every `mlp` start ~4 ms.

MIN_CHARS = 256_000
"""Below this size (about 600 steps), forking costs about what it saves: in a fresh `mlp check`
process, 4% less time at 280 KB, 10% at 430 KB, 20-30% from 1 MB on."""

PARENT_SHARE = 0.5
"""The part of the text parsed here: the child also encodes its part, which this process decodes."""

PIECES = 32
"""The child sends its members in this many pieces, so that this process, done with its own
part, decodes the first ones while the child parses the last ones. The last piece is encoded
after the child's parse and decoded after that, one after the other: smaller pieces shorten
that tail (10,000-step check: 4% faster with 32 than with 8; no gain from 64)."""

_MEMBER_LINE = r"^[ \t]*(step|source|param|secret|gate|monitor)[ \t]"  # compiled when first used


def parse_items(source: SourceFile, builder: SyntaxTreeBuilder, context: Context) -> list | lalr.Stopped:
    """The file's top-level items, as `lalr.parse_items` gives them, in two processes when the
    text is large and that is possible; at a syntax error, where the parse stopped."""
    return parse_from(source, builder, context, 0, [tables.START], [])


def parse_from(source: SourceFile, builder: SyntaxTreeBuilder, context: Context, start: int,
               state_stack: list[int], value_stack: list) -> list | lalr.Stopped:
    """`parse_items` from offset `start` on the given stacks (changed in place): the rest
    of a file the recovering parser handed back (`mlplang.dsl.recovery`). The part
    after `start` is shared with a child when it is large."""
    text = source.text
    if len(text) - start < MIN_CHARS:
        return _outcome(lalr.run(source, builder, context.comments, start, state_stack, value_stack),
                        state_stack, value_stack)
    from mlplang.parallel import FAILED, Forked, can_fork

    found = re.compile(_MEMBER_LINE, re.MULTILINE).search(text, start + int((len(text) - start) * PARENT_SHARE))
    if found is None or not can_fork():
        return _outcome(lalr.run(source, builder, context.comments, start, state_stack, value_stack),
                        state_stack, value_stack)
    split, base = found.start(1), _base_states(found.group(1))
    child = Forked(functools.partial(_rest, source, builder, split, base), stream=True)
    try:
        outcome, value = lalr.run(source, builder, context.comments, start, state_stack, value_stack,
                                  pause_at=split)
        if outcome != lalr.PAUSED:  # the end or a syntax error before the split: the child's part is not needed
            return _outcome((outcome, value), state_stack, value_stack)
        resume = value
        if value == split and state_stack[-2:] == list(base) and type(value_stack[-1]) is list:
            from mlplang.dsl import tree_codec

            members = []  # the child's, decoded as they come while it parses the next ones
            for piece in child.received():
                members += tree_codec.loads(piece)
            rest = child.result()
            if rest is not FAILED and rest is not None:
                resume = _join(rest, members, state_stack, value_stack, context)
    finally:
        child.cancel()
    return _outcome(lalr.run(source, builder, context.comments, resume, state_stack, value_stack),
                    state_stack, value_stack)


def _outcome(run: tuple[int, object], state_stack: list[int], value_stack: list) -> list | lalr.Stopped:
    outcome, value = run
    if outcome == lalr.ACCEPTED:
        return value
    return lalr.Stopped(state_stack, value_stack, value)


@functools.cache
def member_boundaries() -> frozenset[tuple[int, int]]:
    """The top two states of the automaton between two members of a pipeline, whatever
    the next member is (`_base_states`; an attribute too): where a parse can start over."""
    return frozenset(_base_states(word) for word in ("step", "source", "param", "secret", "gate", "monitor",
                                                      "description"))


@functools.cache
def _base_states(keyword: str) -> tuple[int, int]:
    """The automaton's top two states before a member starting with `keyword` that
    follows another member: after the pipeline's `{`, and on the list of members."""
    text = f'pipeline p {{\n  owner = "x"\n  {keyword} '
    state_stack: list[int] = [tables.START]
    outcome, _ = lalr.run(SourceFile.from_text(text), SyntaxTreeBuilder(), [], 0, state_stack, [],
                          pause_at=text.rindex(keyword))
    assert outcome == lalr.PAUSED
    return state_stack[-2], state_stack[-1]


def _rest(source: SourceFile, builder: SyntaxTreeBuilder, split: int, base: tuple[int, int], send):
    """In the child: parse from `split` on a stack holding only `base`, until the work would
    reach below it, sending the members parsed so far at each of `PIECES` pauses. The end of
    the part, or None if that went wrong (a syntax error, the base used otherwise)."""
    from mlplang.dsl import tree_codec

    members: list = []
    context = Context(source)
    builder.context = context
    state_stack, value_stack = list(base), [None, members]
    step = (len(source.text) - split) // PIECES + 1
    pauses = iter(range(split + step, len(source.text), step))
    sent, start = 0, split
    while True:
        outcome, start = lalr.run(source, builder, context.comments, start, state_stack, value_stack,
                                  pause_at=next(pauses, None))
        if outcome != lalr.PAUSED:
            break
        if value_stack[1] is members and len(members) > sent:  # complete members: the pause's reductions are done
            send(tree_codec.dumps(members[sent:]))
            sent = len(members)
    if outcome != lalr.FLOOR or value_stack[1] is not members or len(state_stack) != len(value_stack):
        return None
    tokens = value_stack[2:]
    if not all(type(token) is Tok for token in tokens):
        return None
    return (tree_codec.dumps(members[sent:]), tree_codec.dumps(context.comments), context.diagnostics,
            context.too_deep_reported, state_stack[1:], [tuple(token) for token in tokens], start)


def _join(rest, members: list, state_stack: list[int], value_stack: list, context: Context) -> int:
    """Put the child's part (`members` it sent, then `rest`) on this parse's stacks; the
    offset to go on from."""
    from mlplang.dsl import tree_codec

    last_members, comments, diagnostics, too_deep_reported, states, tokens, stop = rest
    value_stack[-1] += members
    value_stack[-1] += tree_codec.loads(last_members)
    value_stack.extend(tuple.__new__(Tok, token) for token in tokens)
    state_stack[-1:] = states
    context.comments += tree_codec.loads(comments)
    if context.too_deep_reported:  # reported once a file, and this part did
        diagnostics = [d for d in diagnostics if d.code != codes.TOO_DEEP.code]
    context.too_deep_reported |= too_deep_reported
    context.diagnostics += diagnostics
    return stop
