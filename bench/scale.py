"""``./scripts/bench scale``: the PostgreSQL deployment against the embedded default and Celery.

One workload, webhooks runs POSTing to a local HTTP target, on:

- PostgreSQL with one API node and 1, 2 and 4 worker processes;
- the embedded default (SQLite, one process serving and working);
- the baseline a partner might write instead: Celery workers (1, 2, 4 processes) on a Redis
  broker, each task POSTing to the same target.

For each: runs/s from first accepted to last finished, p50/p99 end-to-end latency (accepted to
finished), and for actionruns the queue depth sampled from /metrics while it ran. Every setup
runs once per round; the table shows medians over the rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx2
import uvloop
from rich.table import Table

from actionruns.vault import Keyring
from bench.harness import (
    PYTHONPATH,
    REPO,
    Bench,
    CpuMeter,
    console,
    end_to_end_seconds,
    free_port,
    percentile,
    pids_named,
    reference_loop_seconds,
    running,
    service_rate,
    wait_until_up,
)

ADMIN_URL = os.environ.get(
    "ACTIONRUNS_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
PYTHON = sys.executable
KEYS = Keyring.generate().to_env()
WORKER_CONCURRENCY = [32]  # set from the command line


@dataclass
class Result:
    setup: str
    runs_per_second: float
    p50_ms: float
    p99_ms: float
    max_queue_depth: float | None = None
    queue_depth: list[float] = field(default_factory=list)
    # CPU milliseconds per run, by process group, while the measured runs went through.
    cpu_ms_per_run: dict[str, float] = field(default_factory=dict)


@contextmanager
def postgres_database() -> Iterator[str]:
    name = f"actionruns_bench_{uuid.uuid4().hex[:10]}"

    async def admin(statement: str) -> None:
        connection = await asyncpg.connect(ADMIN_URL)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{ADMIN_URL.rpartition('/')[0]}/{name}"
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def actionruns(arguments: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [PYTHON, "-m", "actionruns.cli.main", *arguments],
        env=env,
        cwd=REPO,
        capture_output=True,
        check=True,
    )


async def sample_queue(http: httpx2.AsyncClient, into: list[float], stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            text = (await http.get("/metrics")).text
        except httpx2.TransportError:
            text = ""
        for line in text.splitlines():
            if line.startswith("actionruns_queue_depth "):
                into.append(float(line.split()[1]))
        with suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.5)


async def drive(
    base_url: str, env: dict[str, str], target: str, args: argparse.Namespace, meter: CpuMeter
) -> Result:
    """Warm up, then run the workload against the API at ``base_url``."""
    client = json.loads(
        actionruns(
            ["clients", "create", "--name", f"b{uuid.uuid4().hex[:8]}", "--json"], env
        ).stdout
    )
    limits = httpx2.Limits(max_connections=args.concurrency + 8)
    async with httpx2.AsyncClient(base_url=base_url, timeout=120, limits=limits) as http:
        token = await http.post(
            "/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": client["client_id"],
                "client_secret": client["client_secret"],
            },
        )
        bench = Bench(http, {"Authorization": f"Bearer {token.json()['access_token']}"}, target)
        inputs = {"url": target, "body": {"n": 1}}
        await bench.batch(
            "webhooks.send_request", inputs, max(20, args.runs // 10), args.concurrency
        )
        depths: list[float] = []
        stop = asyncio.Event()
        sampler = asyncio.create_task(sample_queue(http, depths, stop))
        meter.start()
        documents, _ = await bench.batch(
            "webhooks.send_request", inputs, args.runs, args.concurrency
        )
        cpu = meter.stop()
        stop.set()
        await sampler
    latencies = end_to_end_seconds(documents)
    return Result(
        "",
        service_rate(documents),
        percentile(latencies, 0.5) * 1000,
        percentile(latencies, 0.99) * 1000,
        max(depths, default=0.0),
        depths,
        {name: seconds * 1000 / args.runs for name, seconds in cpu.items()},
    )


def measure_postgres(workers: int, target: str, args: argparse.Namespace, workdir: Path) -> Result:
    with postgres_database() as url, ExitStack() as stack:
        port = free_port()
        env = {
            **base_env(workdir / f"pg{workers}"),
            "ACTIONRUNS_DATABASE_URL": url,
            "ACTIONRUNS_PORT": str(port),
        }
        actionruns(["db", "upgrade"], env)
        api = stack.enter_context(
            running(
                [PYTHON, "-m", "actionruns.cli.main", "serve", "--no-workers"],
                env,
                workdir / "api.log",
            )
        )
        worker_processes = []
        for _ in range(workers):
            worker_processes.append(
                stack.enter_context(
                    running(
                        [
                            # A profiler that starts its target (bench/README.md); CPU per
                            # run then counts the wrapper, not the worker.
                            *os.environ.get("BENCH_WORKER_PREFIX", "").split(),
                            PYTHON,
                            "-m",
                            "actionruns.cli.main",
                            "worker",
                            "--concurrency",
                            str(args.worker_concurrency),
                        ],
                        env,
                        workdir / "worker.log",
                    )
                )
            )
        base_url = f"http://127.0.0.1:{port}"
        asyncio.run(wait_until_up(f"{base_url}/readyz", api))
        meter = CpuMeter(
            {
                **load_and_target(args),
                "API node": lambda: [api.pid],
                "workers": lambda: [worker.pid for worker in worker_processes],
                "PostgreSQL": pids_named("postgres"),
            }
        )
        result = uvloop.run(drive(base_url, env, target, args, meter))
    result.setup = f"actionruns, PostgreSQL, 1 API node + {processes(workers)}"
    return result


def measure_embedded(target: str, args: argparse.Namespace, workdir: Path) -> Result:
    port = free_port()
    env = {**base_env(workdir / "embedded"), "ACTIONRUNS_PORT": str(port)}
    with running(
        [PYTHON, "-m", "actionruns.cli.main", "serve"], env, workdir / "embedded.log"
    ) as service:
        base_url = f"http://127.0.0.1:{port}"
        asyncio.run(wait_until_up(f"{base_url}/readyz", service))
        meter = CpuMeter({**load_and_target(args), "service": lambda: [service.pid]})
        result = uvloop.run(drive(base_url, env, target, args, meter))
    result.setup = "actionruns, embedded default (SQLite, 1 process)"
    return result


def measure_celery(workers: int, target: str, args: argparse.Namespace, workdir: Path) -> Result:
    from bench.celery_baseline import app, call

    app.control.purge()
    env = {**os.environ, "PYTHONPATH": PYTHONPATH, "BENCH_REDIS_URL": REDIS_URL}
    command = [PYTHON, "-m", "celery", "-A", "bench.celery_baseline", "worker", "--pool", "threads"]
    command += [
        "--concurrency",
        str(args.worker_concurrency),
        "--loglevel",
        "WARNING",
        "--without-heartbeat",
    ]
    command += ["--without-gossip", "--without-mingle"]
    with ExitStack() as stack:
        celery_workers = [
            stack.enter_context(
                running([*command, "-n", f"bench{number}@%h"], env, workdir / "celery.log")
            )
            for number in range(workers)
        ]
        deadline = time.monotonic() + 60
        while len(app.control.ping(timeout=0.5) or []) < workers:
            if time.monotonic() > deadline:
                raise SystemExit("the Celery workers never answered")
        for warmup in [call.delay(target) for _ in range(max(20, args.runs // 10))]:
            warmup.get(timeout=120)
        meter = CpuMeter(
            {
                **load_and_target(args),
                "workers": lambda: [worker.pid for worker in celery_workers],
                "Redis": pids_named("redis-server"),
            }
        )
        meter.start()
        accepted, pending = [], []
        for _ in range(args.runs):
            accepted.append(time.time())
            pending.append(call.delay(target))
        finished = [result.get(timeout=300) for result in pending]
        cpu = meter.stop()
    latencies = [done - start for start, done in zip(accepted, finished, strict=True)]
    rate = args.runs / (max(finished) - min(accepted))
    return Result(
        f"Celery + Redis, {processes(workers)} ({args.worker_concurrency} threads each)",
        rate,
        percentile(latencies, 0.5) * 1000,
        percentile(latencies, 0.99) * 1000,
        cpu_ms_per_run={name: seconds * 1000 / args.runs for name, seconds in cpu.items()},
    )


def load_and_target(args: argparse.Namespace) -> dict[str, Callable[[], list[int]]]:
    """The two process groups every setup shares: this load generator and the target."""
    return {"load generator": lambda: [os.getpid()], "target": lambda: [args.target_pid]}


def processes(count: int) -> str:
    return f"{count} worker process{'es' if count > 1 else ''}"


def base_env(home: Path) -> dict[str, str]:
    home.mkdir(parents=True, exist_ok=True)  # the processes' home: they never make one
    return {
        **os.environ,
        "PYTHONPATH": PYTHONPATH,
        "ACTIONRUNS_HOME": str(home),
        "ACTIONRUNS_OUTBOUND_ALLOW": "127.0.0.0/8",
        "ACTIONRUNS_RATE_LIMIT_PER_MINUTE": "100000000",
        # Every process of one deployment shares the keys.
        "ACTIONRUNS_SECRET_KEYS": KEYS,
        "ACTIONRUNS_WORKER_CONCURRENCY": str(WORKER_CONCURRENCY[0]),
    }


def measure_round(target: str, args: argparse.Namespace, workdir: Path) -> list[Result]:
    results = []
    for workers in args.workers:
        console.print(f"PostgreSQL with {workers} worker(s)…")
        results.append(measure_postgres(workers, target, args, workdir))
    console.print("embedded default…")
    results.append(measure_embedded(target, args, workdir))
    for workers in args.workers:
        console.print(f"Celery with {workers} worker(s)…")
        results.append(measure_celery(workers, target, args, workdir))
    return results


def summary(setups: list[Result]) -> Result:
    """One setup over the rounds: the median of each figure."""
    return Result(
        setups[0].setup,
        statistics.median(r.runs_per_second for r in setups),
        statistics.median(r.p50_ms for r in setups),
        statistics.median(r.p99_ms for r in setups),
        max((r.max_queue_depth for r in setups if r.max_queue_depth is not None), default=None),
        cpu_ms_per_run={
            name: statistics.median(r.cpu_ms_per_run[name] for r in setups)
            for name in setups[0].cpu_ms_per_run
        },
    )


def sparkline(values: list[float]) -> str:
    """Values as bar heights, scaled to the largest."""
    bars = " ▁▂▃▄▅▆▇█"
    top = max(values) or 1.0
    return "".join(bars[round(value / top * (len(bars) - 1))] for value in values)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench scale", description=__doc__)
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=64, help="requests in flight")
    parser.add_argument("--worker-concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="every setup once per round; the table shows medians (this machine's speed "
        "drifts by up to 2x within minutes, so setups are compared round by round)",
    )
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    WORKER_CONCURRENCY[0] = args.worker_concurrency
    loop_seconds = reference_loop_seconds()
    rounds: list[list[Result]] = []
    with tempfile.TemporaryDirectory(prefix="actionruns-scale-") as folder:
        workdir = Path(folder)
        target_port = free_port()
        target = f"http://127.0.0.1:{target_port}/hook"
        command = [PYTHON, "-m", "uvicorn", "bench.target:app", "--port", str(target_port)]
        command += ["--log-level", "warning", "--no-access-log"]
        with running(
            command, {**os.environ, "PYTHONPATH": PYTHONPATH}, workdir / "target.log"
        ) as server:
            asyncio.run(wait_until_up(target, server))
            args.target_pid = server.pid
            for number in range(args.rounds):
                console.print(f"[bold]round {number + 1} of {args.rounds}[/]")
                rounds.append(measure_round(target, args, workdir))
    by_setup = [list(setup) for setup in zip(*rounds, strict=True)]
    table = Table(
        "setup",
        "runs/s (rounds)",
        "p50 ms",
        "p99 ms",
        "max queue depth",
        "CPU ms per run",
        title=f"{args.runs} webhooks runs each, medians of {args.rounds} rounds; "
        f"reference loop {loop_seconds:.2f} s",
    )
    for setups in by_setup:
        result = summary(setups)
        depth = "" if result.max_queue_depth is None else f"{result.max_queue_depth:,.0f}"
        cpu = ", ".join(f"{name} {ms:.1f}" for name, ms in result.cpu_ms_per_run.items())
        total = sum(result.cpu_ms_per_run.values())
        each = " / ".join(f"{r.runs_per_second:,.0f}" for r in setups)
        table.add_row(
            result.setup,
            f"{result.runs_per_second:,.1f} ({each})",
            f"{result.p50_ms:,.1f}",
            f"{result.p99_ms:,.1f}",
            depth,
            f"{total:.1f} ({cpu})",
        )
    console.print(table)
    console.print(
        "CPU ms per run: CPU time of each process group over the measured runs, divided by "
        "their number. On this machine's cores, 1000 / (total / cores) runs/s is the most any "
        "setup could reach with that much work per run."
    )
    console.print("Queue depth every 0.5 s while the measured runs went through (last round):")
    for result in rounds[-1]:
        if result.queue_depth:
            peak = max(result.queue_depth)
            console.print(f"  {result.setup}: {sparkline(result.queue_depth)} (max {peak:,.0f})")
    count = len(args.workers)
    for index, workers in enumerate(args.workers):
        ratios = [
            results[count + 1 + index].runs_per_second / results[index].runs_per_second
            for results in rounds
        ]
        console.print(
            f"Celery / PostgreSQL runs/s with {processes(workers)}, round by round: "
            + ", ".join(f"{ratio:.2f}x" for ratio in ratios)
            + f" (median {statistics.median(ratios):.2f}x)"
        )
    if args.json:
        args.json.write_text(
            json.dumps([[result.__dict__ for result in results] for results in rounds], indent=2)
        )
