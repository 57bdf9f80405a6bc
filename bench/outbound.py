"""``./scripts/bench outbound``: what one outbound HTTP request of a connector costs, by client.

Connectors call apps through ``ctx.http``: an ``httpx2.AsyncClient`` over the request log
(``RecordingTransport``) over the outbound guard's transport: one shared, guarded aiohttp
session (``actionruns.sdk.outbound_aiohttp``), or, with ``ACTIONRUNS_OUTBOUND_CLIENT=httpcore``,
the guarded httpcore2 pool it replaced. Each variant POSTs
a small JSON body to the local target (``bench/target.py`` under uvicorn, another process)
and reads the JSON answer, on loopback only:

- **httpcore2 pool**: as a run does it: ``open_context`` with no auth inside a request log
  (``logging_requests``, as the engine opens around an attempt), ``ctx.http.post``; the
  guard (``client="httpcore"``) allows ``127.0.0.0/8`` and nothing else;
- **aiohttp session** (the default): the same through the guard's aiohttp transport;
  connectors keep ``httpx2.AsyncClient``;
- **aiohttp alone**: that guarded session without httpx2 on top, a floor: what the
  httpx2 client layer (and the request log) costs over it;
- **httpx2, stock transport, no guard**: ``open_context`` over httpx2's own
  ``AsyncHTTPTransport`` with the guarded pool's limits: what the guard costs;
- **httpcore2 pool alone, no guard**: the pool under httpx2, called directly: the floor of
  the httpcore stack.

For each: requests/s with ``--concurrency`` in flight, CPU of this process (``process_time``:
every thread, so the resolver's too) per request, then one request at a time for latency.
Every variant runs once per round, each round starting one variant later (A B C, B C A, …),
and the table shows medians over the rounds: this machine's speed drifts by up to 2x within
minutes, and a variant measured in a fast minute would beat one measured in a slow one.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import gc
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import asdict, dataclass, field
from ipaddress import ip_network
from pathlib import Path
from typing import Any

import httpcore2
import httpx2
import uvloop
from rich.table import Table

from actionruns.sdk.auth import Auth
from actionruns.sdk.context import open_context
from actionruns.sdk.outbound import (
    MAX_IDLE_CONNECTIONS,
    Borrowed,
    OutboundGuard,
    system_resolver,
)
from actionruns.sdk.outbound_aiohttp import AiohttpTransport, guarded_session
from actionruns.sdk.request_log import logging_requests
from bench.harness import (
    PYTHONPATH,
    CpuMeter,
    Figure,
    bounded,
    console,
    free_port,
    percentile,
    reference_loop_seconds,
    running,
    wait_until_up,
)

LOOPBACK = [ip_network("127.0.0.0/8")]
BODY = {"event": "ping", "n": 1}
NO_AUTH = Auth.none()
# The guarded pool's size and idle time, given to the unguarded baselines too: only the
# guard differs between them.
POOL_LIMITS = httpx2.Limits(
    max_connections=100, max_keepalive_connections=MAX_IDLE_CONNECTIONS, keepalive_expiry=5.0
)

POOL = "httpx2 → guarded httpcore2 pool (OUTBOUND_CLIENT=httpcore)"
AIOHTTP = "httpx2 → guarded aiohttp session (the default)"


@dataclass
class Variant:
    name: str
    call: Callable[[], Awaitable[None]]  # one request, made and read
    # Connections opened so far, where the variant can count them (the guarded ones).
    connections: Callable[[], int] | None = None


@dataclass
class Result:
    """One variant in one round."""

    name: str
    requests_per_second: float
    cpu_ms_per_request: float  # this process, with --concurrency in flight
    target_cpu_ms_per_request: float
    connections_opened: int | None
    p50_ms: float
    p99_ms: float
    cpu_ms_per_request_alone: float  # this process, one request at a time


@dataclass
class Summary:
    name: str
    rounds: list[Result] = field(default_factory=list)

    def median(self, figure: str) -> float:
        return statistics.median(float(getattr(result, figure)) for result in self.rounds)


class DialCounter:
    """How many sockets a session opened: connections made, as opposed to reused."""

    def __init__(self) -> None:
        self.count = 0

    def increment(self) -> None:
        self.count += 1


class CountingResolver:
    """The system's resolver, counting its calls: the guarded pool resolves once per
    connection it opens, so this counts connections (the ones not reused)."""

    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self, host: str, port: int) -> list[str]:
        self.calls += 1
        return await system_resolver(host, port)


def through_context(
    guard: OutboundGuard, url: str, transport: httpx2.AsyncBaseTransport | None
) -> Callable[[], Awaitable[None]]:
    """A request as a connector makes it in a run: a context per run (its own client, on
    the shared pool), inside the attempt's request log."""

    async def call() -> None:
        with logging_requests():
            async with open_context(
                NO_AUTH, {}, guard, app_key="bench", transport=transport
            ) as ctx:
                response = await ctx.http.post(url, json=BODY)
                response.raise_for_status()
                response.json()

    return call


async def variants(stack: AsyncExitStack, url: str) -> list[Variant]:
    """Every variant, its pool built and closed with ``stack``."""
    resolver = CountingResolver()
    guard = OutboundGuard(allow=LOOPBACK, resolver=resolver, client="httpcore")
    stack.push_async_callback(guard.aclose)

    # As OutboundGuard.http_transport makes it, with its dials counted: aiohttp does not ask
    # the resolver about an address written as such (the target's).
    transport_dials = DialCounter()
    aiohttp_transport = AiohttpTransport(
        functools.partial(guarded_session, guard, transport_dials.increment)
    )
    stack.push_async_callback(aiohttp_transport.aclose)

    floor_dials = DialCounter()
    floor_session = guarded_session(guard, floor_dials.increment)
    stack.push_async_callback(floor_session.close)

    async def plain_aiohttp() -> None:
        async with floor_session.post(url, json=BODY) as response:
            response.raise_for_status()
            await response.json()

    stock = httpx2.AsyncHTTPTransport(trust_env=False, limits=POOL_LIMITS)
    stack.push_async_callback(stock.aclose)

    pool = httpcore2.AsyncConnectionPool(
        max_connections=POOL_LIMITS.max_connections,
        max_keepalive_connections=POOL_LIMITS.max_keepalive_connections,
        keepalive_expiry=POOL_LIMITS.keepalive_expiry,
    )
    stack.push_async_callback(pool.aclose)
    body = json.dumps(BODY).encode()
    headers = [(b"Content-Type", b"application/json")]

    async def plain_httpcore() -> None:
        response = await pool.request("POST", url, headers=headers, content=body)
        if response.status >= 400:
            raise RuntimeError(f"the target answered {response.status}")
        json.loads(response.content)

    return [
        Variant(POOL, through_context(guard, url, None), lambda: resolver.calls),
        Variant(
            AIOHTTP,
            through_context(guard, url, Borrowed(aiohttp_transport)),
            lambda: transport_dials.count,
        ),
        Variant("aiohttp alone (guarded; floor)", plain_aiohttp, lambda: floor_dials.count),
        Variant(
            "httpx2 → stock httpx2 transport (no guard)",
            through_context(guard, url, Borrowed(stock)),
        ),
        Variant("httpcore2 pool alone (no guard; floor)", plain_httpcore),
    ]


async def measure_variant(variant: Variant, args: argparse.Namespace, target: CpuMeter) -> Result:
    # Warm: the previous round's connections expired (5 s idle) while the others ran.
    await bounded(args.concurrency * 2, args.concurrency, lambda _index: variant.call())
    gc.collect()  # garbage the other variants left is not charged to this one
    opened = variant.connections() if variant.connections else 0
    target.start()
    cpu, began = time.process_time(), time.perf_counter()
    await bounded(args.requests, args.concurrency, lambda _index: variant.call())
    wall, cpu = time.perf_counter() - began, time.process_time() - cpu
    target_cpu = target.stop()["target"]
    connections = variant.connections() - opened if variant.connections else None

    samples: list[float] = []
    alone = time.process_time()
    for _ in range(args.latency_iterations):
        began = time.perf_counter()
        await variant.call()
        samples.append(time.perf_counter() - began)
    alone = time.process_time() - alone
    return Result(
        variant.name,
        args.requests / wall,
        cpu * 1000 / args.requests,
        target_cpu * 1000 / args.requests,
        connections,
        percentile(samples, 0.5) * 1000,
        percentile(samples, 0.99) * 1000,
        alone * 1000 / max(1, args.latency_iterations),
    )


async def measure(args: argparse.Namespace, url: str, target: CpuMeter) -> list[Summary]:
    async with AsyncExitStack() as stack:
        every = await variants(stack, url)
        summaries = [Summary(variant.name) for variant in every]
        for number in range(args.rounds):
            console.print(f"[bold]round {number + 1} of {args.rounds}[/]")
            for offset in range(len(every)):
                index = (number + offset) % len(every)
                console.print(f"  {every[index].name}…")
                summaries[index].rounds.append(await measure_variant(every[index], args, target))
    return summaries


def figures(summaries: list[Summary], args: argparse.Namespace) -> list[Figure]:
    found: list[Figure] = []
    for summary in summaries:
        name = summary.name
        found += [
            Figure(
                f"{name}: requests/s, {args.concurrency} in flight",
                summary.median("requests_per_second"),
                "req/s",
            ),
            Figure(f"{name}: CPU per request", summary.median("cpu_ms_per_request"), "ms"),
            Figure(
                f"{name}: CPU per request, one at a time",
                summary.median("cpu_ms_per_request_alone"),
                "ms",
            ),
            Figure(f"{name}: p50 latency", summary.median("p50_ms"), "ms"),
            Figure(f"{name}: p99 latency", summary.median("p99_ms"), "ms"),
        ]
    return found


def ratios(summaries: list[Summary], name: str) -> list[float]:
    """CPU per request of ``name`` over the httpcore2 pool's, round by round (same minute)."""
    pool = next(s for s in summaries if s.name == POOL)
    other = next(s for s in summaries if s.name == name)
    return [
        mine.cpu_ms_per_request / theirs.cpu_ms_per_request
        for mine, theirs in zip(other.rounds, pool.rounds, strict=True)
    ]


def report(summaries: list[Summary], args: argparse.Namespace, loop_seconds: float) -> None:
    table = Table(
        "variant",
        "req/s (rounds)",
        "CPU ms/req (rounds)",
        "vs pool",
        "alone CPU ms/req",
        "p50 ms",
        "p99 ms",
        "target CPU ms/req",
        "new conns",
        title=f"{args.requests:,} POSTs each, {args.concurrency} in flight, then "
        f"{args.latency_iterations} one at a time; medians of {args.rounds} rounds; "
        f"{args.loop} loop; reference loop {loop_seconds:.2f} s",
    )
    for summary in summaries:
        each_rate = " / ".join(f"{r.requests_per_second:,.0f}" for r in summary.rounds)
        each_cpu = " / ".join(f"{r.cpu_ms_per_request:.3f}" for r in summary.rounds)
        conns = [r.connections_opened for r in summary.rounds if r.connections_opened is not None]
        table.add_row(
            summary.name,
            f"{summary.median('requests_per_second'):,.0f} ({each_rate})",
            f"{summary.median('cpu_ms_per_request'):.3f} ({each_cpu})",
            f"{statistics.median(ratios(summaries, summary.name)):.2f}",
            f"{summary.median('cpu_ms_per_request_alone'):.3f}",
            f"{summary.median('p50_ms'):.2f}",
            f"{summary.median('p99_ms'):.2f}",
            f"{summary.median('target_cpu_ms_per_request'):.3f}",
            f"{statistics.median(conns):,.0f}" if conns else "",
        )
    console.print(table)
    console.print(
        "CPU ms/req: CPU time of this process (the client; the target runs in another) over "
        "the requests in flight, divided by their number. vs pool: that over the httpcore2 "
        "pool's in the same round, the median of the rounds' ratios. new conns: connections "
        "opened during the requests in flight (counted where the guard sees them)."
    )
    each = ", ".join(f"{ratio:.2f}x" for ratio in ratios(summaries, AIOHTTP))
    console.print(f"aiohttp transport / httpcore2 pool, CPU per request, round by round: {each}")


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench outbound", description=__doc__)
    parser.add_argument("--requests", type=int, default=5000, help="per variant and round")
    parser.add_argument("--concurrency", type=int, default=64, help="requests in flight")
    parser.add_argument("--latency-iterations", type=int, default=300)
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="every variant once per round; the table shows medians (this machine's speed "
        "drifts by up to 2x within minutes, so variants are compared round by round)",
    )
    parser.add_argument(
        "--loop",
        choices=("uvloop", "asyncio"),
        default="uvloop",
        help="this process's event loop; the service's is uvloop (under uvicorn)",
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    loop_seconds = reference_loop_seconds()
    port = free_port()
    url = f"http://127.0.0.1:{port}/hook"
    command = [sys.executable, "-m", "uvicorn", "bench.target:app", "--port", str(port)]
    command += ["--log-level", "warning", "--no-access-log"]
    run = uvloop.run if args.loop == "uvloop" else asyncio.run
    with (
        tempfile.TemporaryDirectory(prefix="actionruns-outbound-") as folder,
        running(
            command, {**os.environ, "PYTHONPATH": PYTHONPATH}, Path(folder) / "target.log"
        ) as server,
    ):
        run(wait_until_up(url, server))
        target = CpuMeter({"target": lambda: [server.pid]})
        summaries = run(measure(args, url, target))
    report(summaries, args, loop_seconds)
    if args.json:
        document: dict[str, Any] = {
            "figures": [asdict(figure) for figure in figures(summaries, args)],
            "rounds": [[asdict(result) for result in s.rounds] for s in summaries],
            "aiohttp_over_pool_cpu": ratios(summaries, AIOHTTP),
            "reference_loop_seconds": loop_seconds,
        }
        args.json.write_text(json.dumps(document, indent=2) + "\n")
