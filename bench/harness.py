"""What the benchmarks share: processes, waiting, bounded concurrency, runs and percentiles."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx2
import psutil
from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parents[1]
# For the processes a benchmark starts: actionruns from this checkout (not whichever copy is
# installed), and the bench package.
PYTHONPATH = os.pathsep.join((str(REPO / "src"), str(REPO)))
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


class CpuMeter:
    """CPU seconds spent by groups of processes (the load generator, the API, the workers,
    the database…) between two readings: where the machine's cores went during a test."""

    def __init__(self, groups: dict[str, Callable[[], list[int]]]) -> None:
        self.groups = groups
        self._start: dict[str, float] = {}

    def _read(self) -> dict[str, float]:
        readings: dict[str, float] = {}
        for name, pids in self.groups.items():
            total = 0.0
            for pid in pids():
                try:
                    times = psutil.Process(pid).cpu_times()
                except psutil.NoSuchProcess:
                    continue
                total += times.user + times.system
            readings[name] = total
        return readings

    def start(self) -> None:
        self._start = self._read()

    def stop(self) -> dict[str, float]:
        """CPU seconds of each group since ``start``."""
        end = self._read()
        return {name: end[name] - self._start.get(name, 0.0) for name in self.groups}


def pids_named(name: str) -> Callable[[], list[int]]:
    """The processes of a server this bench did not start (PostgreSQL, Redis), by name."""
    return lambda: [p.pid for p in psutil.process_iter(["name"]) if p.info["name"] == name]


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


def service_rate(documents: list[dict[str, Any]]) -> float:
    """Runs per second from the first run created to the last finished, by the service's clock."""
    first = min(moment(doc["created_at"]) for doc in documents)
    last = max(moment(doc["finished_at"]) for doc in documents)
    return len(documents) / (last - first)


def end_to_end_seconds(documents: list[dict[str, Any]]) -> list[float]:
    """Each run's time from accepted to finished, by the service's clock."""
    return [moment(doc["finished_at"]) - moment(doc["created_at"]) for doc in documents]


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

    async def batch(
        self, action: str, inputs: dict[str, Any], runs: int, concurrency: int
    ) -> tuple[list[dict[str, Any]], float]:
        """Submit ``runs`` runs, ``concurrency`` at a time, then read each back once finished.

        Returns the finished run documents and the wall time it all took.
        """
        ids: list[str] = [""] * runs
        started = time.perf_counter()

        async def submit(index: int) -> None:
            ids[index] = await self.submit(action, inputs)

        await bounded(runs, concurrency, submit)
        documents: list[dict[str, Any]] = [{}] * runs

        async def collect(index: int) -> None:
            documents[index] = await self.finished(ids[index])

        await bounded(runs, concurrency, collect)
        failed = [doc for doc in documents if doc["status"] != "success"]
        if failed:
            raise SystemExit(f"{len(failed)} runs of {action} failed: {failed[0]['errors']}")
        return documents, time.perf_counter() - started

    async def throughput(
        self, action: str, inputs: dict[str, Any], runs: int, concurrency: int
    ) -> tuple[float, float]:
        """Runs/s from the first POST to the last success: (by the service's own timestamps,
        as the client saw it)."""
        documents, wall = await self.batch(action, inputs, runs, concurrency)
        return service_rate(documents), runs / wall

    async def latencies(self, iterations: int) -> dict[str, list[float]]:
        """One request at a time: the target directly, then a run of each kind, in turn.

        Interleaved, so that each kind is sampled under the same conditions: this machine's
        speed drifts by up to 2x within minutes, and a baseline taken before the runs would
        charge any slowdown in between to the service. On a fresh client: the throughput
        tests leave dozens of pooled connections behind, and httpx checks every pooled
        connection on each request.
        """
        samples: dict[str, list[float]] = {"direct": [], "noop": [], "webhooks": []}
        runs: tuple[tuple[str, str, dict[str, Any]], ...] = (
            ("noop", "bench.noop", {}),
            ("webhooks", "webhooks.send_request", {"url": self.target, "body": {"n": 1}}),
        )
        async with httpx2.AsyncClient(base_url=self.http.base_url, timeout=120) as http:
            single = Bench(http, self.headers, self.target)
            for _ in range(iterations):
                began = time.perf_counter()
                (await http.post(self.target, json={"event": "ping"})).raise_for_status()
                samples["direct"].append(time.perf_counter() - began)
                for kind, action, inputs in runs:
                    began = time.perf_counter()
                    document = await single.finished(await single.submit(action, inputs))
                    samples[kind].append(time.perf_counter() - began)
                    assert document["status"] == "success", document
        return samples


def report(figures: list[Figure]) -> None:
    table = Table("figure", "value", "unit", "target", "")
    for figure in figures:
        verdict = (
            "" if figure.met is None else ("[green]met[/]" if figure.met else "[red]missed[/]")
        )
        table.add_row(figure.name, f"{figure.value:,.1f}", figure.unit, figure.target, verdict)
    console.print(table)
