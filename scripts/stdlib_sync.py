"""Copies each program of mlplang/stdlib/programs/ into the template that runs it.

A stdlib template runs its program as `python3 - ARGS <<'PY'` with the program
text inline, so the step needs nothing but a stock Python image. The .py file is
the source (it is what the unit tests import); a template names its program on
the line `# program: programs/NAME.py` before the `template` line. Run

    .venv/bin/python scripts/stdlib_sync.py           # rewrite the .mlp files
    .venv/bin/python scripts/stdlib_sync.py --check   # exit 1 if any is stale

after editing a program; tests/stdlib/test_embedding.py fails while they differ.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

STDLIB = Path(__file__).resolve().parents[1] / "mlplang" / "stdlib"
PROGRAM = re.compile(r"^# program: (programs/\w+\.py)$")
HEREDOC = re.compile(r"^( *)python3 - .*<<'PY'$")


def _blocks(lines: list[str]) -> list[tuple[str, str, int, int]]:
    """(program, indent, first body line, the `PY` line) for each embedded program."""
    blocks, index = [], 0
    while index < len(lines):
        named = PROGRAM.match(lines[index])
        index += 1
        if not named:
            continue
        while index < len(lines) and not HEREDOC.match(lines[index]):
            index += 1
        if index == len(lines):
            break
        indent = HEREDOC.match(lines[index])[1]
        first = end = index + 1
        while end < len(lines) and lines[end] != indent + "PY":
            end += 1
        blocks.append((named[1], indent, first, end))
        index = end + 1
    return blocks


def embedded(module: Path) -> list[tuple[str, str]]:
    """(program path, the program text the template holds) for each template of a module."""
    lines = module.read_text(encoding="utf-8").split("\n")
    return [(program, "".join(line[len(indent):] + "\n" for line in lines[first:end]))
            for program, indent, first, end in _blocks(lines)]


def synced(module: Path) -> str:
    lines = module.read_text(encoding="utf-8").split("\n")
    for program, indent, first, end in reversed(_blocks(lines)):
        text = (STDLIB / program).read_text(encoding="utf-8")
        lines[first:end] = [indent + line if line.strip() else "" for line in text.splitlines()]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    stale = []
    for module in sorted(STDLIB.glob("*.mlp")):
        text = synced(module)
        if text != module.read_text(encoding="utf-8"):
            stale.append(module)
            if "--check" not in argv:
                module.write_text(text, encoding="utf-8")
    for module in stale:
        print(f"{'stale' if '--check' in argv else 'updated'}: {module.relative_to(STDLIB.parents[1])}")
    return 1 if stale and "--check" in argv else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
