"""The dashboard's pictures, drawn on the server as inline SVG: runs per minute by status
over the last hour, and latency percentiles per app."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from actionruns.store.operators import FinishedRun

MINUTES = 60
WIDTH, HEIGHT = 600, 120
STATUS_COLORS = {"success": "#16a34a", "error": "#dc2626"}
PERCENTILES = (50, 95, 99)


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    color: str
    label: str


@dataclass(frozen=True)
class MinuteChart:
    bars: list[Bar]
    peak: int
    total: dict[str, int]
    width: int = WIDTH
    height: int = HEIGHT


def runs_per_minute(finished: Sequence[FinishedRun], now: float) -> MinuteChart:
    """Bars of the last hour's finished runs, a column a minute, stacked by status."""
    start = now - MINUTES * 60
    counts: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    total: dict[str, int] = defaultdict(int)
    for run in finished:
        if run.finished_at >= start:
            minute = min(MINUTES - 1, int((run.finished_at - start) // 60))
            counts[minute][run.status] += 1
            total[run.status] += 1
    peak = max((sum(by.values()) for by in counts.values()), default=0)
    column = WIDTH / MINUTES
    bars = []
    for minute, by_status in sorted(counts.items()):
        top = float(HEIGHT)
        for status in STATUS_COLORS:
            count = by_status.get(status, 0)
            if not count:
                continue
            height = HEIGHT * count / peak
            top -= height
            ago = MINUTES - minute
            bars.append(
                Bar(
                    minute * column,
                    top,
                    column - 1,
                    height,
                    STATUS_COLORS[status],
                    f"{count} {status}, {ago} min ago",
                )
            )
    return MinuteChart(
        bars, peak, {status: total[status] for status in STATUS_COLORS if status in total}
    )


@dataclass(frozen=True)
class AppLatency:
    app_key: str
    runs: int
    seconds: dict[int, float]  # by percentile
    bars: list[Bar]


def _percentile(ordered: Sequence[float], percent: int) -> float:
    """Nearest-rank percentile of an ordered, non-empty sequence."""
    rank = max(1, math.ceil(percent / 100 * len(ordered)))
    return ordered[rank - 1]


def latency_by_app(finished: Sequence[FinishedRun]) -> list[AppLatency]:
    """p50, p95 and p99 of each app's run durations, with bars on one scale for all apps."""
    durations: dict[str, list[float]] = defaultdict(list)
    for run in finished:
        durations[run.app_key].append(max(0.0, run.seconds))
    figures = {
        app: {p: _percentile(sorted(values), p) for p in PERCENTILES}
        for app, values in durations.items()
    }
    longest = max((max(by.values()) for by in figures.values()), default=0.0) or 1.0
    shades = {50: "#93c5fd", 95: "#3b82f6", 99: "#1e3a8a"}
    return [
        AppLatency(
            app,
            len(durations[app]),
            by,
            [
                Bar(0, row * 8, 200 * by[p] / longest, 7, shades[p], f"p{p} {by[p]:.3f} s")
                for row, p in enumerate(PERCENTILES)
            ],
        )
        for app, by in sorted(figures.items())
    ]
