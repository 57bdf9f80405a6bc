"""The baseline a partner might write instead of using actionruns: a Celery task on a Redis
broker that calls the same local HTTP endpoint. No stored run, no attempts, no leases."""

from __future__ import annotations

import os
import time

import httpx2
from celery import Celery

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")

app = Celery("actionruns_bench", broker=REDIS_URL, backend=REDIS_URL)
app.conf.update(result_expires=600, worker_hijack_root_logger=False)

_client: httpx2.Client | None = None


# Celery's decorator is untyped too, so mypy sees the task ``call`` as Any.
@app.task(name="bench.call")  # type: ignore[untyped-decorator]
def call(url: str) -> float:
    """POST to ``url``; returns when it finished (epoch seconds)."""
    global _client
    if _client is None:
        _client = httpx2.Client(timeout=30)
    _client.post(url, json={"n": 1}).raise_for_status()
    return time.time()
