"""``./scripts/bench pieces [NAME…]``: Activepieces pieces as apps, on this machine.

- **Catalogue**: each named piece (default: the tests' real ones) installed from the npm
  registry into a fresh folder and described: time to add, actions, how many map fully (every
  prop a field) and why the others do not.
- **Bridge overhead**: the same trivial action as a Python action and as a piece action (the
  tests' fixture piece, through the Node bridge): per call, one at a time and 32 in flight.
- **Memory**: the Node process's resident memory once every added piece was loaded: the 20
  most recently used stay loaded, a thread each.
- **Paired runs** (``bench/pieces_paired.py``): Slack's piece ``send_channel_message`` and the
  built-in Python Slack connector's, each a run through the engine (submitted, then
  finished) against the same TLS stand-in for slack.com, in interleaved rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from tests.pieces.conftest import FIXTURE_PIECE

from actionruns.pieces.install import describe, install
from actionruns.pieces.mapping import Installed, piece_manifest
from actionruns.pieces.runtime import PieceRunner, close_bridges, shared_bridge
from actionruns.sdk.context import Context, open_context
from actionruns.sdk.described.runtime import build_app
from actionruns.sdk.outbound import OutboundGuard
from bench.harness import Figure, console, percentile, reference_loop_seconds, report
from bench.pieces_paired import SLACK, paired

DEFAULT_PIECES = ["hackernews@0.2.0", "slack@0.17.9"]


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def catalogue(names: list[str], root: Path) -> tuple[list[Figure], list[Installed]]:
    added: list[Installed] = []
    seconds: list[float] = []
    actions = mapped_actions = full_pieces = 0
    reasons: Counter[str] = Counter()
    for spec in names:
        name, _, version = spec.partition("@") if not spec.startswith("@") else (spec, "", "")
        began = time.perf_counter()
        try:
            installed = await asyncio.to_thread(install, root, name, version or None)
            description = await describe(installed)
            report_ = piece_manifest("bench_piece", description, installed)
        except Exception as exc:
            console.print(f"{spec}: not added: {exc}")
            reasons[f"not added: {type(exc).__name__}"] += 1
            continue
        seconds.append(time.perf_counter() - began)
        added.append(installed)
        total = len(description.get("actions") or ())
        actions += total
        mapped_actions += len(report_.manifest.actions)
        full_pieces += not report_.skipped
        for _, why in report_.skipped:
            reasons[why.split(" is of type ")[-1]] += 1
        console.print(
            f"{spec}: {len(report_.manifest.actions)}/{total} actions, "
            f"{seconds[-1]:.1f} s to add, auths {report_.auths}"
        )
    for why, count in reasons.most_common():
        console.print(f"  left out: {count} x {why}")
    figures = [
        Figure("pieces added", len(added), "pieces"),
        Figure("pieces whose every action maps", full_pieces, "pieces"),
        Figure("actions described", actions, "actions"),
        Figure("actions mapped fully", mapped_actions, "actions"),
    ]
    if seconds:
        figures.append(Figure("time to add a piece, p50", percentile(seconds, 0.5), "s"))
    return figures, added


async def _python_action(ctx: Context, inputs: Any) -> dict[str, Any]:
    return {"thread": 0}


async def overhead(calls: int) -> list[Figure]:
    manifest = piece_manifest("fixture", await describe(FIXTURE_PIECE), FIXTURE_PIECE).manifest
    app = build_app(manifest)
    runner = PieceRunner(manifest)
    guard = OutboundGuard()
    figures: list[Figure] = []
    async with open_context(app.auth, {"api_key": "k"}, guard, app_key=app.key) as ctx:
        await runner.perform(ctx, "thread", {})  # the thread is started, the piece loaded
        for label, call in (
            ("Python action", lambda: _python_action(ctx, {})),
            ("piece action", lambda: runner.perform(ctx, "thread", {})),
        ):
            samples = []
            for _ in range(calls):
                began = time.perf_counter()
                await call()
                samples.append((time.perf_counter() - began) * 1000)
            figures.append(Figure(f"{label}, one at a time, p50", percentile(samples, 0.5), "ms"))
            began = time.perf_counter()
            for _ in range(calls // 32):
                await asyncio.gather(*(call() for _ in range(32)))
            rate = (calls // 32) * 32 / (time.perf_counter() - began)
            figures.append(Figure(f"{label}, 32 in flight", rate, "calls/s"))
    await guard.aclose()
    return figures


async def memory(added: list[Installed]) -> list[Figure]:
    bridge = shared_bridge(OutboundGuard())
    for installed in added:
        piece = {"dir": installed.directory, "package": installed.package}
        await bridge.call({"op": "describe", "piece": piece}, 120)
    process = bridge._process
    assert process is not None
    loaded = min(len(added), 20)
    return [Figure(f"Node process, {loaded} pieces loaded", _rss_mb(process.pid), "MiB")]


async def measure(names: list[str], calls: int, rounds: int, paired_only: bool) -> list[Figure]:
    with tempfile.TemporaryDirectory(prefix="actionruns-bench-pieces-") as folder:
        figures: list[Figure] = []
        if not paired_only:
            figures, added = await catalogue(names, Path(folder))
            figures += await overhead(calls)
            figures += await memory(added)
            await close_bridges()
        if rounds:
            slack = await asyncio.to_thread(install, Path(folder), *SLACK)
            figures += await paired(slack, rounds, Path(folder))
            # How fast this machine was meanwhile (shared cores drift): figures compare by it.
            figures.append(Figure("reference loop", reference_loop_seconds(), "s"))
    return figures


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench pieces", description=__doc__)
    parser.add_argument("pieces", nargs="*", default=DEFAULT_PIECES, help="NAME or NAME@VERSION")
    parser.add_argument("--calls", type=int, default=2000, help="calls per overhead figure")
    parser.add_argument(
        "--rounds", type=int, default=200, help="paired rounds (a run of each); 0: none"
    )
    parser.add_argument("--paired-only", action="store_true", help="only the paired runs")
    args = parser.parse_args(argv)
    report(asyncio.run(measure(args.pieces, args.calls, args.rounds, args.paired_only)))
