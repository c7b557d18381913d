"""`mlp lsp` latency: didChange -> publishDiagnostics, measured by a real client over stdio.

Usage: python bench/bench_lsp.py [--steps 500] [--repeats 15] [--warmup 3] [--debounce-ms 0,100]
                                 [--edit description|comment|half-typed|new-member|two-places] [--stages]
Each edit changes the pipeline's description (the document stays valid; an
edit inside one member, for which the server parses that member alone); with
`--edit comment`, a comment instead, which the server answers without a new
analysis; with `--edit half-typed`, a line being typed in a step (`r2`: a
syntax error inside one member); with `--edit new-member`, a param added
between two members, in one of two places by turns (parsed alone and spliced
in); with `--edit two-places`, the description and a step at once, which
needs a full analysis. The time runs until the server publishes diagnostics
for that exact version. Prints a markdown table of medians (min-max) per debounce
setting; `--stages` adds the server's own breakdown of the measured edits
(`MLP_LSP_TIMING`): debounce wait, queueing, load (parse + lowering), lint,
conversion and publication, and collector pauses.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from generate import generate
from lsprotocol import types
from pygls.lsp.client import LanguageClient

# Per edit, alternatives taken by turns (by the version's parity), each a list of (text to
# find, its replacement). "new-member" inserts a param between two members, in one of two
# places; "two-places" edits two members at once, which takes a full analysis.
EDITS = {
    "description": [[('description = "', 'description = "edit {version} ')]],
    "comment": [[("  # ---- steps", "  # ---- edit {version}, steps")]],
    "half-typed": [[("    retries = 2\n", "    retries = 2\n    r{version}\n")]],
    "new-member": [[("  # ---- steps", "  param extra_{version}: int = 1\n  # ---- steps")],
                   [("  secret tracker_token", "  param extra_{version}: int = 1\n  secret tracker_token")]],
    "two-places": [[('description = "', 'description = "edit {version} '), ("retries = 2", "retries = {version}")]],
}
STAGES = ("debounce", "queued", "load", "lint", "reuse", "convert", "publish", "gc", "total")


async def measure(text: str, path: Path, debounce_ms: int, repeats: int, warmup: int, edit: str = "description",
                  timing: Path | None = None) -> list[float]:
    client = LanguageClient("bench-lsp", "1")
    published: dict[int, float] = {}
    arrived = asyncio.Event()

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def on_diagnostics(params: types.PublishDiagnosticsParams) -> None:
        published[params.version or 0] = time.perf_counter()
        arrived.set()

    env = {**os.environ, "MLP_LSP_DEBOUNCE_MS": str(debounce_ms)}
    if timing is not None:
        env["MLP_LSP_TIMING"] = str(timing)
    await client.start_io(sys.executable, "-m", "mlplang", "lsp", env=env)
    await client.initialize_async(types.InitializeParams(capabilities=types.ClientCapabilities()))
    client.initialized(types.InitializedParams())
    uri = path.as_uri()

    async def until(version: int) -> float:
        while version not in published:
            arrived.clear()
            await asyncio.wait_for(arrived.wait(), 60)
        return published[version]

    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id="mlp", version=1, text=text)))
    await until(1)
    times = []
    for version in range(2, 2 + warmup + repeats):
        edited = text
        for old, new in EDITS[edit][version % len(EDITS[edit])]:
            assert old in edited
            edited = edited.replace(old, new.format(version=version), 1)
        start = time.perf_counter()
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=edited)]))
        done = await until(version)
        if version >= 2 + warmup:
            times.append((done - start) * 1000)
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--debounce-ms", default="0,100")
    parser.add_argument("--edit", choices=sorted(EDITS), default="description")
    parser.add_argument("--stages", action="store_true", help="also print the server's per-stage medians")
    args = parser.parse_args()
    text = generate(args.steps, "chain")
    path = Path("/tmp") / f"bench_lsp_{args.steps}.mlp"
    print(f"machine: {os.cpu_count()} CPUs, {platform.system()}, CPython {platform.python_version()}; "
          f"{args.steps} steps, {text.count(chr(10)) + 1} lines; medians of {args.repeats} edits after "
          f"{args.warmup} warm-up edits of a {args.edit}\n")
    print("| debounce (ms) | didChange -> publishDiagnostics (ms) | min-max |")
    print("|---:|---:|---:|")
    stages = {}
    for debounce in (int(d) for d in args.debounce_ms.split(",")):
        timing = Path("/tmp") / f"bench_lsp_timing_{os.getpid()}_{debounce}.jsonl" if args.stages else None
        if timing is not None and timing.exists():
            timing.unlink()
        times = asyncio.run(measure(text, path, debounce, args.repeats, args.warmup, args.edit, timing))
        print(f"| {debounce} | {statistics.median(times):.0f} | {min(times):.0f}-{max(times):.0f} |")
        if timing is not None:
            rows = [json.loads(line) for line in timing.read_text().splitlines()]
            stages[debounce] = [r for r in rows if r["version"] >= 2 + args.warmup]
            timing.unlink()
    if stages:
        print("\nServer-side stages, medians over the measured edits (ms):\n")
        print("| debounce (ms) | path | " + " | ".join(STAGES) + " |")
        print("|---:|---|" + "---:|" * len(STAGES))
        for debounce, rows in stages.items():
            paths = "/".join(sorted({r["path"] for r in rows}))
            cells = [f"{statistics.median(r.get(stage, 0) for r in rows) * 1000:.1f}" for stage in STAGES]
            print(f"| {debounce} | {paths} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
