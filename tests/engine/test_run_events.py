"""A run's steps as log events: each names the run and the request that made it, in this
process or in a worker process, and none holds a credential or the run's inputs."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any

import structlog
from pytest_httpserver import HTTPServer

from tests.conftest import ApiClient, Service, ServiceFactory
from tests.processes import start_worker

SECRET_INPUT = "input-never-logged-5521"


@contextmanager
def capture_every_level() -> Iterator[list[MutableMapping[str, Any]]]:
    """The events logged meanwhile, debug ones too (a run's routine steps are at debug)."""
    level = structlog.get_config()["wrapper_class"]
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG))
    try:
        with structlog.testing.capture_logs([structlog.contextvars.merge_contextvars]) as events:
            yield events
    finally:
        structlog.configure(wrapper_class=level)


async def submit(client: ApiClient, request_id: str, **data: Any) -> str:
    response = await client.post(
        "/v2/action-runs",
        json={"data": {"action": "testkit.noop", "inputs": {"value": SECRET_INPUT}, **data}},
        headers={"X-Request-Id": request_id},
    )
    assert response.status_code == 200, response.text
    return str(response.json()["data"]["id"])


def assert_nothing_secret(client: ApiClient, logged: str) -> None:
    for secret in (SECRET_INPUT, client.token, client.client_secret, client.signing_secret):
        assert secret not in logged


async def test_each_step_of_a_run_is_logged_under_its_request(
    service: Service, acme: ApiClient, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    with capture_every_level() as events:
        run_id = await submit(acme, "made-by-post", callback_url=httpserver.url_for("/hook"))
        assert (await acme.wait(run_id))["status"] == "success"
        for _ in range(200):
            if any(e["event"] == "callback_delivered" for e in events):
                break
            await asyncio.sleep(0.05)
    steps = [e for e in events if e.get("run_id") == run_id]
    assert [e["event"] for e in steps] == [
        "run_queued",
        "run_leased",
        "attempt_started",
        "attempt_finished",
        "callback_delivered",
    ]
    assert all(e["request_id"] == "made-by-post" for e in steps), steps
    finished = steps[3]
    assert finished["outcome"] == "success" and finished["duration_ms"] >= 0
    assert finished["action"] == "testkit.noop" and finished["attempt"] == 1
    assert steps[4]["status"] == 200
    assert_nothing_secret(acme, repr(events))
    metrics = (await service.http.get("/metrics")).text
    assert 'actionruns_deliveries_total{kind="callback",outcome="delivered"} 1.0' in metrics


async def test_a_callback_retried_then_given_up_is_logged_under_the_request(
    service: Service, acme: ApiClient, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/down", method="POST").respond_with_data("no", status=503)
    with structlog.testing.capture_logs([structlog.contextvars.merge_contextvars]) as events:
        run_id = await submit(acme, "made-for-a-hook", callback_url=httpserver.url_for("/down"))
        assert (await acme.wait(run_id))["status"] == "success"
        for _ in range(200):
            if any(e["event"] == "callback_failed" for e in events):
                break
            await asyncio.sleep(0.05)
    steps = [e for e in events if e.get("run_id") == run_id]
    tries = service.engine.settings.callback_max_attempts
    assert [e["event"] for e in steps] == ["callback_retry"] * (tries - 1) + ["callback_failed"]
    assert all(e["request_id"] == "made-for-a-hook" for e in steps), steps
    assert [e["attempts"] for e in steps] == list(range(1, tries + 1))
    assert all(e["reason"] == "the receiver answered HTTP 503" for e in steps)
    assert steps[-1]["log_level"] == "warning"
    assert_nothing_secret(acme, repr(events))
    metrics = (await service.http.get("/metrics")).text
    retried = f'actionruns_deliveries_total{{kind="callback",outcome="retry"}} {tries - 1}.0'
    assert retried in metrics
    assert 'actionruns_deliveries_total{kind="callback",outcome="failed"} 1.0' in metrics


async def test_a_cancelled_run_is_logged_under_the_request_that_made_it(
    start_service: ServiceFactory,
) -> None:
    service = await start_service(workers=False)
    client = await service.new_client("acme")
    run_id = await submit(client, "made-then-cancelled")
    with structlog.testing.capture_logs([structlog.contextvars.merge_contextvars]) as events:
        cancelled = await client.post(f"/v2/action-runs/{run_id}/cancel")
    assert cancelled.status_code == 200
    [event] = [e for e in events if e.get("run_id") == run_id]
    assert event["event"] == "run_cancelled" and event["request_id"] == "made-then-cancelled"
    assert event["attempt"] == 0


async def test_a_worker_process_logs_the_run_under_the_request_that_made_it(
    start_service: ServiceFactory,
) -> None:
    service = await start_service(workers=False)
    client = await service.new_client("acme")
    run_id = await submit(client, "made-elsewhere")
    worker = start_worker(service, options=["--json-logs", "--log-level", "debug"])
    try:
        assert (await client.wait(run_id, seconds=30))["status"] == "success"
    finally:
        worker.terminate()
        await asyncio.to_thread(worker.wait, 20)
    logged = (service.engine.settings.home / "worker.log").read_text()
    events = [json.loads(line) for line in logged.splitlines() if line.startswith("{")]
    steps = [e for e in events if e.get("run_id") == run_id]
    assert [e["event"] for e in steps] == ["run_leased", "attempt_started", "attempt_finished"]
    assert all(e["request_id"] == "made-elsewhere" for e in steps), steps
    assert steps[2]["outcome"] == "success" and steps[2]["level"] == "debug"
    assert_nothing_secret(client, logged)


async def test_a_worker_process_at_the_default_level_logs_only_what_went_wrong(
    start_service: ServiceFactory,
) -> None:
    service = await start_service(workers=False)
    client = await service.new_client("acme")
    ok = await submit(client, "fine")
    failing = await client.post(
        "/v2/action-runs",
        json={
            "data": {
                "action": "testkit.flaky",
                "inputs": {"key": SECRET_INPUT, "failures": 5, "mode": "halt"},
            }
        },
        headers={"X-Request-Id": "will-fail"},
    )
    failing_id = failing.json()["data"]["id"]
    worker = start_worker(service, options=["--json-logs"])
    try:
        assert (await client.wait(ok, seconds=30))["status"] == "success"
        assert (await client.wait(failing_id, seconds=30))["status"] == "error"
    finally:
        worker.terminate()
        await asyncio.to_thread(worker.wait, 20)
    logged = (service.engine.settings.home / "worker.log").read_text()
    events = [json.loads(line) for line in logged.splitlines() if line.startswith("{")]
    assert not [e for e in events if e.get("run_id") == ok]
    [failed] = [e for e in events if e.get("run_id") == failing_id]
    assert failed["event"] == "run_failed" and failed["request_id"] == "will-fail"
    assert failed["level"] == "info" and failed["error_class"]
    assert_nothing_secret(client, logged)
