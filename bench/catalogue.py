"""``./scripts/bench catalogue``: imported apps at scale, against today's catalogue.

In one run, on this machine:

- **Import**: GitHub's and Stripe's full descriptions (../shared/reference/vendors), each with
  ``actionruns apps import`` in a process of its own: wall time, peak memory, actions made.
- **Discovery with 5,000+ actions**: two services side by side, A with today's catalogue
  (the built-in connectors) and B with every vendor description imported, GitHub and Stripe
  several times, past 5,000 actions. The same requests go to both, interleaved (this
  machine's speed drifts): ``GET /v2/apps``, ``GET /v2/actions`` of an app, and ``POST
  /v2/actions/{id}/inputs`` of a hand-written and of an imported action. Then each
  service's memory.
- **A run of an imported action vs a hand-written one of the same shape**: on service A,
  ``webhooks.send_request`` POSTing JSON to the local target against an app imported from a
  description of that same endpoint, in alternating batches: runs/s and latency.
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
from pathlib import Path
from typing import Any

import httpx2
import yaml

from bench.harness import (
    PYTHONPATH,
    REPO,
    Bench,
    Figure,
    console,
    free_port,
    peak_rss_mb,
    percentile,
    report,
    running,
    service_rate,
    wait_until_up,
)

VENDORS = REPO.parent / "shared" / "reference" / "vendors"
GITHUB = VENDORS / "octokit+openapi" / "cache" / "api.github.com.json"
STRIPE = VENDORS / "stripe+openapi" / "openapi" / "spec3.yaml"
WANTED_ACTIONS = 5_000


def hook_description(target: str) -> dict[str, Any]:
    """The local target's one endpoint, described: an imported app of the webhooks shape."""
    return {
        "openapi": "3.0.3",
        "info": {"title": "Hook", "version": "1"},
        "servers": [{"url": target}],
        "paths": {
            "/hook": {
                "post": {
                    "operationId": "sendEvent",
                    "summary": "Send an event",
                    "requestBody": {
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {"n": {"type": "integer"}},
                                }
                            }
                        }
                    },
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "properties": {"ok": {"type": "boolean"}},
                                    }
                                }
                            },
                        }
                    },
                }
            }
        },
    }


def cli(env: dict[str, str], *arguments: str) -> tuple[float, float, str]:
    """Run ``actionruns`` once: its wall seconds, its peak RSS in MiB, and what it printed."""
    command = [sys.executable, "-m", "actionruns.cli.main", *arguments]
    started = time.perf_counter()
    process = subprocess.Popen(
        command, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    assert process.stdout is not None
    output = process.stdout.read().decode()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"actionruns {' '.join(arguments)} failed:\n{output}")
    return time.perf_counter() - started, usage.ru_maxrss / 1024, output


def imported_actions(output: str) -> int:
    for line in output.splitlines():
        words = line.split()
        if len(words) >= 2 and words[1] == "actions" and words[0].isdigit():
            return int(words[0])
    return 0


def environment(workdir: Path, name: str, port: int) -> dict[str, str]:
    # The command line only uses a home that exists (it never makes one unasked).
    (workdir / name).mkdir(mode=0o700, exist_ok=True)
    return {
        **os.environ,
        "PYTHONPATH": PYTHONPATH,
        "ACTIONRUNS_HOME": str(workdir / name),
        "ACTIONRUNS_PORT": str(port),
        "ACTIONRUNS_OUTBOUND_ALLOW": "127.0.0.0/8",
        "ACTIONRUNS_RATE_LIMIT_PER_MINUTE": "100000000",
        "ACTIONRUNS_WORKER_CONCURRENCY": "64",
        "COLUMNS": "200",
    }


def fill(env: dict[str, str], figures: list[Figure]) -> int:
    """Import every vendor description into the service of ``env``; GitHub and Stripe again
    under other keys until the catalogue holds ``WANTED_ACTIONS``. Returns the actions."""
    total = 0
    for path, name in ((GITHUB, "GitHub"), (STRIPE, "Stripe")):
        seconds, rss, output = cli(env, "apps", "import", str(path), "--key", name.lower() + "_api")
        made = imported_actions(output)
        total += made
        figures.append(Figure(f"import {name}: time", seconds, "s"))
        figures.append(Figure(f"import {name}: peak RSS of the command", rss, "MiB"))
        figures.append(Figure(f"import {name}: actions made", made, "actions"))
    others = sorted(
        p
        for p in VENDORS.rglob("*")
        if p.suffix in (".json", ".yaml") and p not in (GITHUB, STRIPE)
    )
    for index, path in enumerate(others):
        _, _, output = cli(env, "apps", "import", str(path), "--key", f"vendor_{index}")
        total += imported_actions(output)
    copy = 2
    while total < WANTED_ACTIONS:
        for path, name in ((GITHUB, "github"), (STRIPE, "stripe")):
            _, _, output = cli(env, "apps", "import", str(path), "--key", f"{name}_copy_{copy}")
            total += imported_actions(output)
        copy += 1
    return total


async def timed(
    http: httpx2.AsyncClient, method: str, url: str, headers: dict[str, str], **kwargs: Any
) -> float:
    began = time.perf_counter()
    response = await http.request(method, url, headers=headers, **kwargs)
    elapsed = time.perf_counter() - began
    if response.status_code != 200:
        raise SystemExit(f"{method} {url}: {response.status_code} {response.text[:300]}")
    return elapsed


async def token(http: httpx2.AsyncClient, env: dict[str, str]) -> dict[str, str]:
    _, _, output = cli(env, "clients", "create", "--name", "bench", "--json")
    client = json.loads(output[output.index("{") :])
    answer = await http.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": client["client_id"],
            "client_secret": client["client_secret"],
        },
    )
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


async def measure(args: argparse.Namespace, workdir: Path) -> list[Figure]:
    figures: list[Figure] = []
    target_port, port_a, port_b = free_port(), free_port(), free_port()
    target = f"http://127.0.0.1:{target_port}"
    env_a, env_b = environment(workdir, "a", port_a), environment(workdir, "b", port_b)
    hook = workdir / "hook.yaml"
    hook.write_text(yaml.safe_dump(hook_description(target)))
    console.print("importing (B: every vendor description, past 5,000 actions)…")
    actions_b = fill(env_b, figures)
    for env in (env_a, env_b):
        cli(env, "apps", "import", str(hook), "--key", "hook")
    target_command = [
        sys.executable,
        "-m",
        "uvicorn",
        "bench.target:app",
        "--port",
        str(target_port),
    ]
    target_command += ["--log-level", "warning", "--no-access-log"]
    serve = [sys.executable, "-m", "actionruns.cli.main", "serve"]
    with (
        running(target_command, env_a, workdir / "target.log") as target_server,
        running(serve, env_a, workdir / "a.log") as service_a,
        running(serve, env_b, workdir / "b.log") as service_b,
    ):
        await wait_until_up(f"{target}/hook", target_server)
        await wait_until_up(f"http://127.0.0.1:{port_a}/readyz", service_a)
        await wait_until_up(f"http://127.0.0.1:{port_b}/readyz", service_b)
        async with (
            httpx2.AsyncClient(base_url=f"http://127.0.0.1:{port_a}", timeout=120) as http_a,
            httpx2.AsyncClient(base_url=f"http://127.0.0.1:{port_b}", timeout=120) as http_b,
        ):
            headers_a, headers_b = await token(http_a, env_a), await token(http_b, env_b)
            count = (await http_b.get("/v2/apps", headers=headers_b, params={"limit": 1})).json()
            console.print(f"B serves {count['meta']['count']} apps, {actions_b}+ imported actions")
            figures.append(Figure("catalogue B: actions imported", actions_b, "actions"))
            figures += await discovery(args, (http_a, headers_a), (http_b, headers_b))
            figures += await run_cost(args, http_a, headers_a, target)
        figures.append(
            Figure("service A (today's catalogue) peak RSS", peak_rss_mb(service_a.pid), "MiB")
        )
        figures.append(
            Figure("service B (5,000+ actions) peak RSS", peak_rss_mb(service_b.pid), "MiB")
        )
    return figures


REQUESTS: tuple[tuple[str, str, str, dict[str, Any]], ...] = (
    ("GET /v2/apps (first 100)", "GET", "/v2/apps", {"params": {"limit": 100}}),
    (
        "GET /v2/actions (an app's first 100)",
        "GET",
        "/v2/actions",
        {"params": {"app": "hook", "limit": 100}},
    ),
    (
        "POST inputs of a hand-written action",
        "POST",
        "/v2/actions/github.create_issue/inputs",
        {"json": {"data": {}}},
    ),
    (
        "POST inputs of an imported action",
        "POST",
        "/v2/actions/hook.send_event/inputs",
        {"json": {"data": {}}},
    ),
)


async def discovery(
    args: argparse.Namespace,
    a: tuple[httpx2.AsyncClient, dict[str, str]],
    b: tuple[httpx2.AsyncClient, dict[str, str]],
) -> list[Figure]:
    console.print(f"discovery: {args.samples} of each request on A and B, interleaved…")
    samples: dict[tuple[str, str], list[float]] = {}
    for _ in range(args.samples):
        for name, method, url, kwargs in REQUESTS:
            for label, (http, headers) in (("A", a), ("B", b)):
                samples.setdefault((name, label), []).append(
                    await timed(http, method, url, headers, **kwargs)
                )
    figures = []
    for name, *_ in REQUESTS:
        for fraction, which in ((0.5, "p50"), (0.99, "p99")):
            today = percentile(samples[(name, "A")], fraction) * 1000
            large = percentile(samples[(name, "B")], fraction) * 1000
            figures.append(Figure(f"{name} {which}: A today", today, "ms"))
            figures.append(Figure(f"{name} {which}: B 5,000+ actions", large, "ms"))
    return figures


async def run_cost(
    args: argparse.Namespace, http: httpx2.AsyncClient, headers: dict[str, str], target: str
) -> list[Figure]:
    bench = Bench(http, headers, f"{target}/hook")
    kinds: dict[str, tuple[str, dict[str, Any]]] = {
        "hand-written (webhooks.send_request)": (
            "webhooks.send_request",
            {"url": f"{target}/hook", "body": {"n": 1}},
        ),
        "imported (hook.send_event)": ("hook.send_event", {"n": 1}),
    }
    console.print("warming up…")
    for action, inputs in kinds.values():
        await bench.throughput(action, inputs, 200, 32)
    rates: dict[str, list[float]] = {name: [] for name in kinds}
    console.print(f"runs: {args.rounds} rounds of {args.runs} of each kind, alternating…")
    for _ in range(args.rounds):
        for name, (action, inputs) in kinds.items():
            documents, _ = await bench.batch(action, inputs, args.runs, 64)
            rates[name].append(service_rate(documents))
    latencies: dict[str, list[float]] = {name: [] for name in kinds}
    async with httpx2.AsyncClient(base_url=http.base_url, timeout=120) as single_http:
        single = Bench(single_http, headers, f"{target}/hook")
        for _ in range(args.samples):
            for name, (action, inputs) in kinds.items():
                began = time.perf_counter()
                await single.finished(await single.submit(action, inputs))
                latencies[name].append(time.perf_counter() - began)
    figures = []
    for name in kinds:
        figures.append(
            Figure(
                f"{name} runs/s (median of rounds)",
                sorted(rates[name])[len(rates[name]) // 2],
                "runs/s",
            )
        )
        figures.append(
            Figure(
                f"{name} run p50 (POST + long-poll)", percentile(latencies[name], 0.5) * 1000, "ms"
            )
        )
    return figures


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench catalogue", description=__doc__)
    parser.add_argument(
        "--samples", type=int, default=200, help="requests of each kind, one at a time"
    )
    parser.add_argument("--runs", type=int, default=1000, help="runs per batch")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    if not GITHUB.is_file() or not STRIPE.is_file():
        raise SystemExit(f"GitHub's and Stripe's descriptions are needed under {VENDORS}")
    with tempfile.TemporaryDirectory(prefix="actionruns-bench-catalogue-") as workdir:
        figures = asyncio.run(measure(args, Path(workdir)))
    report(figures)
    if args.json:
        args.json.write_text(json.dumps([figure.__dict__ for figure in figures], indent=2))
