"""``./scripts/bench``: start the service and measure it, with baselines from the same run.

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
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx2
from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parents[1]
console = Console()


@dataclass
class Figure:
    name: str
    value: float
    unit: str
    target: str = ""
    met: bool | None = None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def moment(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def reference_loop_seconds() -> float:
    """How fast this machine runs plain Python, so figures from different machines compare:
    ten million additions (about 0.5 s on a fast 2024 core)."""
    started = time.perf_counter()
    total = 0
    for number in range(10_000_000):
        total += number
    return time.perf_counter() - started


def peak_rss_mb(pid: int) -> float:
    """The process's high-water mark of resident memory (VmHWM), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@contextmanager
def running(
    command: list[str], env: dict[str, str], log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    with open(log, "ab") as output:
        process = subprocess.Popen(command, env=env, cwd=REPO, stdout=output, stderr=output)
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()


async def wait_until_up(url: str, process: subprocess.Popen[bytes]) -> None:
    async with httpx2.AsyncClient() as http:
        for _ in range(600):
            if process.poll() is not None:
                raise SystemExit(f"{url} exited with {process.returncode} before it answered")
            try:
                if (await http.get(url)).status_code < 500:
                    return
            except httpx2.TransportError:
                pass
            await asyncio.sleep(0.05)
    raise SystemExit(f"{url} never answered")


async def bounded(count: int, concurrency: int, work: Callable[[int], Awaitable[None]]) -> None:
    """Run ``work(0..count-1)`` with at most ``concurrency`` at once."""
    next_index = 0

    async def lane() -> None:
        nonlocal next_index
        while next_index < count:
            index, next_index = next_index, next_index + 1
            await work(index)

    await asyncio.gather(*(lane() for _ in range(min(concurrency, count))))


class Bench:
    def __init__(self, http: httpx2.AsyncClient, headers: dict[str, str], target: str) -> None:
        self.http = http
        self.headers = headers
        self.target = target

    async def submit(self, action: str, inputs: dict[str, Any]) -> str:
        response = await self.http.post(
            "/v2/action-runs",
            headers=self.headers,
            json={"data": {"action": action, "inputs": inputs}},
        )
        response.raise_for_status()
        return str(response.json()["data"]["id"])

    async def finished(self, run_id: str) -> dict[str, Any]:
        while True:
            response = await self.http.get(
                f"/v2/action-runs/{run_id}", headers=self.headers, params={"wait_seconds": 30}
            )
            if response.status_code == 200:
                document: dict[str, Any] = response.json()["data"]
                return document

    async def throughput(
        self, action: str, inputs: dict[str, Any], runs: int, concurrency: int
    ) -> tuple[float, float]:
        """Runs/s from the first POST to the last success: (by the service's own timestamps,
        as the client saw it)."""
        ids: list[str] = [""] * runs
        started = time.perf_counter()

        async def submit(index: int) -> None:
            ids[index] = await self.submit(action, inputs)

        await bounded(runs, concurrency, submit)
        documents: list[dict[str, Any]] = [{}] * runs

        async def collect(index: int) -> None:
            documents[index] = await self.finished(ids[index])

        await bounded(runs, concurrency, collect)
        wall = time.perf_counter() - started
        failed = [doc for doc in documents if doc["status"] != "success"]
        if failed:
            raise SystemExit(f"{len(failed)} runs of {action} failed: {failed[0]['errors']}")
        first = min(moment(doc["created_at"]) for doc in documents)
        last = max(moment(doc["finished_at"]) for doc in documents)
        return runs / (last - first), runs / wall

    async def latencies(self, iterations: int) -> dict[str, list[float]]:
        """One request at a time: the target directly, then a run of each kind."""
        samples: dict[str, list[float]] = {"direct": [], "noop": [], "webhooks": []}
        for _ in range(iterations):
            began = time.perf_counter()
            (await self.http.post(self.target, json={"event": "ping"})).raise_for_status()
            samples["direct"].append(time.perf_counter() - began)
        for kind, action, inputs in (
            ("noop", "bench.noop", {}),
            ("webhooks", "webhooks.send_request", {"url": self.target, "body": {"event": "ping"}}),
        ):
            for _ in range(iterations):
                began = time.perf_counter()
                document = await self.finished(await self.submit(action, inputs))
                samples[kind].append(time.perf_counter() - began)
                assert document["status"] == "success", document
        return samples


async def measure(args: argparse.Namespace, workdir: Path) -> list[Figure]:
    target_port, service_port = free_port(), free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
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
        running(target_command, env, workdir / "target.log") as target,
        running(
            [python, "-m", "actionruns.cli.main", "serve"], env, workdir / "serve.log"
        ) as service,
    ):
        await wait_until_up(target_url, target)
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
                server_rate, client_rate = await bench.throughput(
                    action, inputs, args.runs, args.concurrency
                )
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


def report(figures: list[Figure]) -> None:
    table = Table("figure", "value", "unit", "target", "")
    for figure in figures:
        verdict = (
            "" if figure.met is None else ("[green]met[/]" if figure.met else "[red]missed[/]")
        )
        table.add_row(figure.name, f"{figure.value:,.1f}", figure.unit, figure.target, verdict)
    console.print(table)


def main() -> None:
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
