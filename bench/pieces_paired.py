"""A piece run against the equivalent Python connector run, paired: Slack's piece
``send_channel_message`` and the built-in Slack connector's, each submitted to the engine and
awaited until finished, both against one TLS stand-in for slack.com in a process of its own
(``bench/slack_standin.py``), the engine and its worker in this one.

Rounds interleave the two, the order alternating, so drift on a shared machine falls on
both alike: one at a time (each run's latency, and the per-round difference), then batches
of ``IN_FLIGHT`` runs at a time (runs/s).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from ipaddress import ip_network
from pathlib import Path
from typing import Any

from tests.vendors.slack_emulator import TOKEN

from actionruns.config import Settings
from actionruns.engine import Engine
from actionruns.engine.runs import RunRequest
from actionruns.engine.scopes import ALL_SCOPES
from actionruns.pieces.install import describe
from actionruns.pieces.mapping import Installed, piece_manifest
from actionruns.pieces.runtime import close_bridges
from actionruns.principal import Principal
from bench.harness import PYTHONPATH, REPO, Figure, console, percentile

SLACK = ("slack", "0.17.9")
ADDRESS = "127.0.41.31"  # the stand-in's own loopback address, on HTTPS's port
IN_FLIGHT = 32
WARM_UP = 5


@dataclass(frozen=True)
class Side:
    label: str
    action: str
    inputs: dict[str, Any]


SIDES = (
    Side("Python connector", "slack.send_channel_message", {"channel": "C00000001", "text": "hi"}),
    Side(
        "piece",
        "slack_piece.send_channel_message",
        {"channel": "C00000001", "text": "hi", "send_as_bot": True},
    ),
)


@contextmanager
def _standin(folder: Path) -> Iterator[None]:
    ca_file = folder / "slack-ca.pem"
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.slack_standin", ADDRESS, str(ca_file)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": PYTHONPATH},
    )
    assert process.stdin is not None and process.stdout is not None
    if process.stdout.readline().strip() != "ready":
        raise RuntimeError("the Slack stand-in did not start")
    before = os.environ.get("SSL_CERT_FILE")
    os.environ["SSL_CERT_FILE"] = str(ca_file)  # trusted by the guard and by the bridge's Node
    try:
        yield
    finally:
        os.environ.pop("SSL_CERT_FILE")
        if before is not None:
            os.environ["SSL_CERT_FILE"] = before
        process.stdin.close()
        violations = process.stdout.read().split("\n")
        process.wait()
        for violation in filter(None, violations):
            console.print(f"[red]request not as Slack describes it:[/] {violation}")


async def _resolve(host: str, port: int) -> list[str]:
    return [ADDRESS] if host == "slack.com" else ["127.0.0.1"]  # the rest: refused


Run = Callable[[Side], Awaitable[float]]  # a run of that side, submitted to finished: seconds


@asynccontextmanager
async def _engine(folder: Path, slack: Installed) -> AsyncIterator[Run]:
    settings = Settings(
        home=folder / "home",
        outbound_allow=(ip_network(f"{ADDRESS}/32"),),
        worker_concurrency=IN_FLIGHT,
    )
    engine = Engine(settings, resolver=_resolve)
    await engine.migrate()
    await engine.imports.save(piece_manifest("slack_piece", await describe(slack), slack).manifest)
    await engine.start(workers=True)
    client = await engine.clients.create("bench")
    principal = Principal(client.record.id, frozenset(ALL_SCOPES))
    connections = {}
    for key in ("slack", "slack_piece"):
        app = engine.registry.app(key)
        assert app is not None
        saved = await engine.connections.save(principal, app, key, {"access_token": TOKEN})
        connections[key] = saved.id

    async def run(side: Side) -> float:
        began = time.perf_counter()
        request = RunRequest(side.action, connections[side.action.split(".")[0]], side.inputs)
        submitted, _ = await engine.runs.submit(principal, request)
        finished = await engine.runs.wait(principal, submitted.id, 60)
        if finished.status != "success":
            raise RuntimeError(f"{side.action}: {finished.status} {finished.errors}")
        return time.perf_counter() - began

    try:
        yield run
    finally:
        await engine.stop()
        await close_bridges()


@dataclass
class Measured:
    latencies: dict[str, list[float]]  # by side: each run's ms, one at a time
    differences: list[float]  # per round: the piece's ms minus the Python connector's
    busy: dict[str, float]  # by side: seconds its batches took
    batches: int


async def _measure(run: Run, rounds: int) -> Measured:
    for side in SIDES:  # connections opened, the piece's thread started
        for _ in range(WARM_UP):
            await run(side)
    measured = Measured({s.label: [] for s in SIDES}, [], {s.label: 0.0 for s in SIDES}, 0)
    for number in range(rounds):
        order = SIDES if number % 2 == 0 else SIDES[::-1]
        taken = {side.label: await run(side) for side in order}
        for label, seconds in taken.items():
            measured.latencies[label].append(seconds * 1000)
        measured.differences.append((taken["piece"] - taken["Python connector"]) * 1000)
    measured.batches = max(1, rounds // IN_FLIGHT)
    for number in range(measured.batches):
        for side in SIDES if number % 2 == 0 else SIDES[::-1]:
            began = time.perf_counter()
            await asyncio.gather(*(run(side) for _ in range(IN_FLIGHT)))
            measured.busy[side.label] += time.perf_counter() - began
    return measured


async def paired(slack: Installed, rounds: int, folder: Path) -> list[Figure]:
    with _standin(folder):
        async with _engine(folder, slack) as run:
            measured = await _measure(run, rounds)
    figures = []
    for side in SIDES:
        samples = measured.latencies[side.label]
        rate = measured.batches * IN_FLIGHT / measured.busy[side.label]
        figures += [
            Figure(f"paired: {side.label} run, p50", percentile(samples, 0.5), "ms"),
            Figure(f"paired: {side.label} run, p95", percentile(samples, 0.95), "ms"),
            Figure(f"paired: {side.label}, {IN_FLIGHT} in flight", rate, "runs/s"),
        ]
    python, piece = (percentile(measured.latencies[side.label], 0.5) for side in SIDES)
    per_round = percentile(measured.differences, 0.5)
    rates = measured.busy["piece"] / measured.busy["Python connector"]
    return [
        *figures,
        Figure("paired: piece / Python connector, p50", piece / python, "x"),
        Figure("paired: piece - Python connector per round, median", per_round, "ms"),
        Figure("paired: Python connector / piece, runs/s", rates, "x"),
    ]
