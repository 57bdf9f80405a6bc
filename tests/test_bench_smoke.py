"""The benchmark command runs end to end (its figures are read by people, not asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_the_benchmark_runs_and_reports_every_figure(tmp_path: Path) -> None:
    figures = tmp_path / "figures.json"
    small = ["--runs", "20", "--latency-iterations", "3", "--concurrency", "4"]
    finished = subprocess.run(
        [sys.executable, "-m", "bench", *small, "--json", str(figures)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert finished.returncode == 0, finished.stdout + finished.stderr
    names = figures.read_text()
    for expected in (
        "no-op runs/s",
        "webhooks runs/s",
        "baseline: direct calls",
        "added latency of a run, p50",
        "service peak RSS",
    ):
        assert expected in names
