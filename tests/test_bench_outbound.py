"""``./scripts/bench outbound`` runs end to end and reports every variant. No timing is
asserted: the figures are read by people."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench.outbound import AIOHTTP, POOL

REPO = Path(__file__).resolve().parents[1]


def test_the_outbound_bench_reports_every_variant(tmp_path: Path) -> None:
    figures = tmp_path / "outbound.json"
    small = ["--requests", "20", "--concurrency", "4", "--latency-iterations", "3", "--rounds", "1"]
    finished = subprocess.run(
        [sys.executable, "-m", "bench", "outbound", *small, "--json", str(figures)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert finished.returncode == 0, finished.stdout + finished.stderr
    document = json.loads(figures.read_text())
    (results,) = zip(*document["rounds"], strict=True)  # one round: one result per variant
    names = [result["name"] for result in results]
    assert POOL in names and AIOHTTP in names and len(names) == 5
    for result in results:
        assert result["requests_per_second"] > 0 and result["cpu_ms_per_request"] > 0
        assert result["p50_ms"] > 0
    assert len(document["aiohttp_over_pool_cpu"]) == 1
