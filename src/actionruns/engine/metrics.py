"""Prometheus metrics: counters of what this process did, gauges of what the store holds.

Counters are per process (Prometheus sums them across processes); the queue gauges are read
from the store at scrape time, so every node reports the same, whole-system figures.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from actionruns.store import Store

# From a fast no-op to an action that hits its timeout.
ATTEMPT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
# From a cached read to a long-poll that waited its whole minute.
HTTP_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class Metrics:
    def __init__(self) -> None:
        # One registry per engine: several engines in one process (tests) do not collide.
        self.registry = CollectorRegistry()
        self.runs_submitted = Counter(
            "actionruns_runs_submitted",
            "Runs accepted, by app.",
            ["app"],
            registry=self.registry,
        )
        self.runs_finished = Counter(
            "actionruns_runs_finished",
            "Runs that reached success or error, by app and status.",
            ["app", "status"],
            registry=self.registry,
        )
        self.attempt_seconds = Histogram(
            "actionruns_attempt_duration_seconds",
            "Duration of each attempt, by app and outcome (success, error, retry).",
            ["app", "outcome"],
            buckets=ATTEMPT_BUCKETS,
            registry=self.registry,
        )
        self.http_seconds = Histogram(
            "actionruns_http_request_duration_seconds",
            "HTTP requests served, by method, route template and status.",
            ["method", "route", "status"],
            buckets=HTTP_BUCKETS,
            registry=self.registry,
        )
        self.token_refreshes = Counter(
            "actionruns_token_refreshes",
            "OAuth2 token refreshes asked of providers, by app and outcome "
            "(refreshed, refused, failed).",
            ["app", "outcome"],
            registry=self.registry,
        )
        self.deliveries = Counter(
            "actionruns_deliveries",
            "Deliveries of run callbacks and authentication events, by kind (callback, event) "
            "and outcome (delivered, retry, failed).",
            ["kind", "outcome"],
            registry=self.registry,
        )
        self.callbacks_failed = Gauge(
            "actionruns_callbacks_failed",
            "Runs whose callback could not be delivered and was given up (kept as long as the "
            "runs are).",
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            "actionruns_queue_depth",
            "Queued runs that are due now (waiting for a worker).",
            registry=self.registry,
        )
        self.runs_unfinished = Gauge(
            "actionruns_runs_unfinished",
            "Runs not yet finished, by status (queued includes scheduled retries).",
            ["status"],
            registry=self.registry,
        )
        self.oldest_running_seconds = Gauge(
            "actionruns_oldest_running_attempt_seconds",
            "Age of the oldest attempt still running (a stuck lease shows here).",
            registry=self.registry,
        )
        self.callbacks_pending = Gauge(
            "actionruns_callbacks_pending",
            "Callback deliveries not yet made.",
            registry=self.registry,
        )

    async def render(self, store: Store, now: float) -> bytes:
        stats = await store.queue_stats(now)
        self.queue_depth.set(stats.due)
        self.runs_unfinished.labels("queued").set(stats.queued)
        self.runs_unfinished.labels("running").set(stats.running)
        self.oldest_running_seconds.set(
            max(0.0, now - stats.oldest_running_since) if stats.oldest_running_since else 0.0
        )
        self.callbacks_pending.set(stats.callbacks_pending)
        self.callbacks_failed.set(stats.callbacks_failed)
        return generate_latest(self.registry)
