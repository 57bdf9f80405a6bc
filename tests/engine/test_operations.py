"""What an operator's load balancer and Prometheus read."""

from __future__ import annotations

import uuid

from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import Service, ServiceFactory


async def scrape(service: Service) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = await service.http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


async def test_liveness_and_readiness(service: Service) -> None:
    assert (await service.http.get("/healthz")).json()["status"] == "ok"
    ready = await service.http.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"


async def test_metrics_count_runs_attempts_and_the_queue(start_service: ServiceFactory) -> None:
    service = await start_service()
    client = await service.new_client("acme")
    await client.wait(await client.run("testkit.noop", {}))
    await client.wait(
        await client.run("testkit.flaky", {"key": uuid.uuid4().hex, "failures": 1, "mode": "halt"})
    )

    samples = await scrape(service)

    assert samples[("actionruns_runs_submitted_total", (("app", "testkit"),))] == 2
    finished = "actionruns_runs_finished_total"
    assert samples[(finished, (("app", "testkit"), ("status", "success")))] == 1
    assert samples[(finished, (("app", "testkit"), ("status", "error")))] == 1
    attempts = "actionruns_attempt_duration_seconds_count"
    assert samples[(attempts, (("app", "testkit"), ("outcome", "success")))] == 1
    assert samples[(attempts, (("app", "testkit"), ("outcome", "error")))] == 1
    assert samples[("actionruns_queue_depth", ())] == 0


async def test_the_queue_gauges_read_the_store(start_service: ServiceFactory) -> None:
    service = await start_service(workers=False)
    client = await service.new_client("acme")
    for _ in range(3):
        await client.run("testkit.noop", {})

    samples = await scrape(service)

    assert samples[("actionruns_queue_depth", ())] == 3
    assert samples[("actionruns_runs_unfinished", (("status", "queued"),))] == 3
    assert samples[("actionruns_runs_unfinished", (("status", "running"),))] == 0
