"""`mlp lsp` latency: didChange -> publishDiagnostics, measured by a real client over stdio.

Usage: python bench/bench_lsp.py [--steps 500] [--repeats 15] [--warmup 3] [--debounce-ms 0,100]
Each edit changes one step's description (the document stays valid), and the
time runs until the server publishes diagnostics for that exact version.
Prints a markdown table of medians (min-max) per debounce setting.
"""

from __future__ import annotations

import argparse
import asyncio
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


async def measure(text: str, path: Path, debounce_ms: int, repeats: int, warmup: int) -> list[float]:
    client = LanguageClient("bench-lsp", "1")
    published: dict[int, float] = {}
    arrived = asyncio.Event()

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def on_diagnostics(params: types.PublishDiagnosticsParams) -> None:
        published[params.version or 0] = time.perf_counter()
        arrived.set()

    env = {**os.environ, "MLP_LSP_DEBOUNCE_MS": str(debounce_ms)}
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
        edited = text.replace('description = "', f'description = "edit {version} ', 1)
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
    args = parser.parse_args()
    text = generate(args.steps, "chain")
    path = Path("/tmp") / f"bench_lsp_{args.steps}.mlp"
    print(f"machine: {os.cpu_count()} CPUs, {platform.system()}, CPython {platform.python_version()}; "
          f"{args.steps} steps, {text.count(chr(10)) + 1} lines; medians of {args.repeats} edits after "
          f"{args.warmup} warm-up edits\n")
    print("| debounce (ms) | didChange -> publishDiagnostics (ms) | min-max |")
    print("|---:|---:|---:|")
    for debounce in (int(d) for d in args.debounce_ms.split(",")):
        times = asyncio.run(measure(text, path, debounce, args.repeats, args.warmup))
        print(f"| {debounce} | {statistics.median(times):.0f} | {min(times):.0f}-{max(times):.0f} |")


if __name__ == "__main__":
    main()
