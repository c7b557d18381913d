"""A small deterministic mutation fuzzer for .mlp inputs.

`mutate(data, seed)` returns a mutated copy of `data` (bytes); the same
`(data, seed)` always gives the same bytes. Mutations: delete / duplicate /
swap tokens (split with `TOKEN`), delete / duplicate byte ranges, insert
random bytes (invalid UTF-8 and NUL included), truncate. One to three
mutations are stacked per input.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOKEN = re.compile(rb'"""|"(?:[^"\\\n]|\\.)*"|[A-Za-z_][A-Za-z0-9_]*|[0-9]+(?:\.[0-9]+)?|\s+|.', re.DOTALL)
REGRESSIONS = Path(__file__).resolve().parent / "regressions"


def corpus() -> list[Path]:
    """Every example, every test program and every golden diagnostics input."""
    files = sorted((ROOT / "examples").rglob("*.mlp"))
    files += sorted((ROOT / "tests" / "programs").glob("*.mlp"))
    files += sorted((ROOT / "tests" / "golden" / "diagnostics").glob("*.mlp"))
    return files


def _tokens(data: bytes) -> list[bytes]:
    return TOKEN.findall(data) or [data]


def _token_op(data: bytes, rng: random.Random) -> bytes:
    tokens = _tokens(data)
    if not tokens or tokens == [b""]:
        return data
    i = rng.randrange(len(tokens))
    op = rng.choice(("delete", "duplicate", "swap"))
    if op == "delete":
        del tokens[i]
    elif op == "duplicate":
        tokens.insert(i, tokens[i])
    else:
        j = rng.randrange(len(tokens))
        tokens[i], tokens[j] = tokens[j], tokens[i]
    return b"".join(tokens)


def _range(data: bytes, rng: random.Random) -> tuple[int, int]:
    start = rng.randrange(len(data) + 1)
    return start, min(len(data), start + rng.randint(1, 64))


JUNK = [b"\x00", b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xef\xbb\xbf", b"{", b"}", b'"', b'"""', b"\n", b"\r",
        b"${", b"\t", b"#", b"\\", b"\xe2\x80\xae", b"\xf0\x9f\x92\xa9"]


def _one(data: bytes, rng: random.Random) -> bytes:
    kind = rng.choice(("token", "token", "token", "delete", "duplicate", "insert", "insert", "truncate"))
    if kind == "token":
        return _token_op(data, rng)
    if kind == "delete":
        start, end = _range(data, rng)
        return data[:start] + data[end:]
    if kind == "duplicate":
        start, end = _range(data, rng)
        return data[:end] + data[start:end] + data[end:]
    if kind == "insert":
        at = rng.randrange(len(data) + 1)
        if rng.random() < 0.5:
            junk = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        else:
            junk = rng.choice(JUNK)
        return data[:at] + junk + data[at:]
    return data[: rng.randrange(len(data) + 1)]


def mutate(data: bytes, seed: int) -> bytes:
    rng = random.Random(seed)
    for _ in range(rng.randint(1, 3)):
        data = _one(data, rng)
    return data


def cases(count: int, seed: int = 0) -> list[tuple[str, int]]:
    """`count` (corpus file name relative to the repo, seed) pairs, round robin over the corpus."""
    files = corpus()
    return [(files[i % len(files)].relative_to(ROOT).as_posix(), seed * 1_000_003 + i) for i in range(count)]
