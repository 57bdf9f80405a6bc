"""``./scripts/bench``: start the service and measure it, with baselines from the same run.

``./scripts/bench scale`` measures the PostgreSQL deployment instead (see bench/scale.py),
``./scripts/bench catalogue`` imported apps at scale (see bench/catalogue.py),
``./scripts/bench pieces`` Activepieces pieces (see bench/pieces.py),
``./scripts/bench partners`` the OpenAPI document and the MCP tool list (see bench/partners.py),
``./scripts/bench outbound`` a connector's HTTP request by client (see bench/outbound.py).

Figures: runs/s from POST to success (a no-op action, and a webhooks action calling a local
HTTP server), the latency one run adds (POST + long-poll) over calling that server directly,
and the service's peak memory. The load generator runs in this process; the service and the
target server each run in their own.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import httpx2

from bench.harness import (
    PYTHONPATH,
    REPO,
    Bench,
    CpuMeter,
    Figure,
    bounded,
    console,
    free_port,
    peak_rss_mb,
    percentile,
    reference_loop_seconds,
    report,
    running,
    wait_until_up,
)


async def measure(args: argparse.Namespace, workdir: Path) -> list[Figure]:
    target_port, service_port = free_port(), free_port()
    (workdir / "home").mkdir()  # the service's home: it never makes one by itself
    env = {
        **os.environ,
        "PYTHONPATH": PYTHONPATH,
        "ACTIONRUNS_HOME": str(workdir / "home"),
        "ACTIONRUNS_PORT": str(service_port),
        "ACTIONRUNS_CONNECTORS": "bench.noop:app",
        "ACTIONRUNS_OUTBOUND_ALLOW": "127.0.0.0/8",
        "ACTIONRUNS_RATE_LIMIT_PER_MINUTE": "100000000",
        "ACTIONRUNS_WORKER_CONCURRENCY": str(args.worker_concurrency),
    }
    python = sys.executable
    target_command = [python, "-m", "uvicorn", "bench.target:app", "--port", str(target_port)]
    target_command += ["--log-level", "warning", "--no-access-log"]
    target_url = f"http://127.0.0.1:{target_port}/hook"
    base_url = f"http://127.0.0.1:{service_port}"
    figures = [Figure("machine: reference Python loop", reference_loop_seconds(), "s")]
    with (
        running(target_command, env, workdir / "target.log") as target_server,
        running(
            [
                *os.environ.get("BENCH_SERVE_PREFIX", "").split(),
                python,
                "-m",
                "actionruns.cli.main",
                "serve",
            ],
            env,
            workdir / "serve.log",
        ) as service,
    ):
        await wait_until_up(target_url, target_server)
        await wait_until_up(f"{base_url}/readyz", service)
        created = subprocess.run(  # noqa: ASYNC221 (once, before anything is measured)
            [python, "-m", "actionruns.cli.main", "clients", "create", "--name", "bench", "--json"],
            env=env,
            cwd=REPO,
            capture_output=True,
            check=True,
        )
        client = json.loads(created.stdout)
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
            bench = Bench(
                http, {"Authorization": f"Bearer {token.json()['access_token']}"}, target_url
            )
            console.print(f"warming up ({args.runs // 10} runs)…")
            await bench.throughput("bench.noop", {}, max(10, args.runs // 10), args.concurrency)

            direct_rate = await direct_throughput(http, target_url, args.runs, args.concurrency)
            for label, action, inputs in (
                ("no-op", "bench.noop", {}),
                ("webhooks", "webhooks.send_request", {"url": target_url, "body": {"n": 1}}),
            ):
                console.print(
                    f"throughput: {args.runs} {label} runs, {args.concurrency} at a time…"
                )
                meter = CpuMeter({"service": lambda: [service.pid]})
                meter.start()
                server_rate, client_rate = await bench.throughput(
                    action, inputs, args.runs, args.concurrency
                )
                service_ms = meter.stop()["service"] * 1000 / args.runs
                target = "≥ 500" if label == "no-op" else ""
                figures.append(
                    Figure(
                        f"{label} runs/s (POST to success, service clock)",
                        server_rate,
                        "runs/s",
                        target,
                        server_rate >= 500 if label == "no-op" else None,
                    )
                )
                figures.append(
                    Figure(f"{label} runs/s (as the client saw it)", client_rate, "runs/s")
                )
                # Less swayed than runs/s by what else the machine runs: A/B compare this.
                figures.append(Figure(f"{label} service CPU per run", service_ms, "ms"))
            figures.append(Figure("baseline: direct calls to the target/s", direct_rate, "calls/s"))

            console.print(f"latency: {args.latency_iterations} of each, one at a time…")
            samples = await bench.latencies(args.latency_iterations)
        for kind in ("direct", "noop", "webhooks"):
            for fraction, name in ((0.5, "p50"), (0.99, "p99")):
                value = percentile(samples[kind], fraction) * 1000
                figures.append(Figure(f"{kind} {name} latency", value, "ms"))
        for fraction, name in ((0.5, "p50"), (0.99, "p99")):
            added = (
                percentile(samples["webhooks"], fraction) - percentile(samples["direct"], fraction)
            ) * 1000
            target = "< 5" if name == "p50" else ""
            met = added < 5 if name == "p50" else None
            figures.append(Figure(f"added latency of a run, {name}", added, "ms", target, met))
        figures.append(Figure("service peak RSS", peak_rss_mb(service.pid), "MiB"))
    return figures


async def direct_throughput(
    http: httpx2.AsyncClient, url: str, calls: int, concurrency: int
) -> float:
    """The baseline: the same number of calls straight to the target, same concurrency."""
    started = time.perf_counter()

    async def call(_index: int) -> None:
        (await http.post(url, json={"n": 1})).raise_for_status()

    await bounded(calls, concurrency, call)
    return calls / (time.perf_counter() - started)


def main() -> None:
    if sys.argv[1:2] == ["scale"]:
        from bench import scale

        scale.main(sys.argv[2:])
        return
    if sys.argv[1:2] == ["pieces"]:
        from bench import pieces

        pieces.main(sys.argv[2:])
        return
    if sys.argv[1:2] == ["partners"]:
        from bench import partners

        partners.main(sys.argv[2:])
        return
    if sys.argv[1:2] == ["outbound"]:
        from bench import outbound

        outbound.main(sys.argv[2:])
        return
    if sys.argv[1:2] == ["catalogue"]:
        from bench import catalogue

        catalogue.main(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(prog="bench", description=__doc__)
    parser.add_argument("--runs", type=int, default=5000, help="runs per throughput test")
    parser.add_argument("--concurrency", type=int, default=64, help="requests in flight")
    parser.add_argument("--latency-iterations", type=int, default=300)
    parser.add_argument("--worker-concurrency", type=int, default=64)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="actionruns-bench-") as workdir:
        figures = asyncio.run(measure(args, Path(workdir)))
    report(figures)
    if args.json:
        args.json.write_text(json.dumps([asdict(figure) for figure in figures], indent=2))


if __name__ == "__main__":
    main()
