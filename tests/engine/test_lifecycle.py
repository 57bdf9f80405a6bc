"""Idempotency, long-poll wake-ups, callbacks, cancellation, dry runs and retention."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from actionruns.client.signatures import SIGNATURE_HEADER, verify
from actionruns.engine import runs as runs_module
from tests import testkit
from tests.conftest import ApiClient, Service, ServiceFactory


async def test_same_idempotency_key_and_body_returns_the_same_run_once(acme: ApiClient) -> None:
    key = uuid.uuid4().hex
    body = {"data": {"action": "testkit.flaky", "inputs": {"key": key}}}
    headers = {"Idempotency-Key": key}
    responses = await asyncio.gather(
        *(acme.post("/v2/action-runs", json=body, headers=headers) for _ in range(10))
    )
    assert {r.status_code for r in responses} == {200}
    ids = {r.json()["data"]["id"] for r in responses}
    assert len(ids) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in responses) == 9
    run = await acme.wait(ids.pop())
    assert run["status"] == "success"
    assert testkit.calls[key] == 1


async def test_idempotency_key_reused_with_another_body_is_refused(acme: ApiClient) -> None:
    headers = {"Idempotency-Key": "order-42"}
    first = await acme.post(
        "/v2/action-runs",
        headers=headers,
        json={"data": {"action": "testkit.noop", "inputs": {"value": "a"}}},
    )
    second = await acme.post(
        "/v2/action-runs",
        headers=headers,
        json={"data": {"action": "testkit.noop", "inputs": {"value": "b"}}},
    )
    assert first.status_code == 200
    assert second.status_code == 400
    [error] = second.json()["errors"]
    assert error["source"] == {"header": "Idempotency-Key"}


async def test_idempotency_keys_are_per_client(service: Service, acme: ApiClient) -> None:
    other = await service.new_client("other")
    body = {"data": {"action": "testkit.noop", "inputs": {}}}
    headers = {"Idempotency-Key": "shared-key"}
    a = await acme.post("/v2/action-runs", json=body, headers=headers)
    b = await other.post("/v2/action-runs", json=body, headers=headers)
    assert a.json()["data"]["id"] != b.json()["data"]["id"]


async def test_a_finishing_run_wakes_its_waiter_at_once(
    acme: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With the safety re-check pushed past the wait, only the wake-up can end the wait early.
    monkeypatch.setattr(runs_module, "CROSS_PROCESS_RECHECK_SECONDS", 3600.0)
    run_id = await acme.run("testkit.sleep", {"seconds": 0.3})
    response = await acme.get(f"/v2/action-runs/{run_id}", params={"wait_seconds": 60})
    assert response.status_code == 200
    assert response.json()["data"]["status"] == "success"


async def test_a_wait_that_runs_out_answers_202_with_retry_after(acme: ApiClient) -> None:
    run_id = await acme.run("testkit.sleep", {"seconds": 1})
    response = await acme.get(f"/v2/action-runs/{run_id}", params={"wait_seconds": 0.2})
    assert response.status_code == 202
    assert response.headers["Retry-After"] == "1"
    assert response.json()["data"]["status"] in ("queued", "running")


async def test_callbacks_are_signed_and_retried_until_delivered(
    service: Service, acme: ApiClient, httpserver: HTTPServer
) -> None:
    received: list[Request] = []
    outcomes = iter([503, 500, 200])

    def handler(request: Request) -> Response:
        received.append(request)
        return Response("ok", status=next(outcomes))

    httpserver.expect_request("/hooks/runs", method="POST").respond_with_handler(handler)
    run_id = await acme.run(
        "testkit.noop", {"value": "v"}, callback_url=httpserver.url_for("/hooks/runs")
    )
    for _ in range(200):
        record = await service.engine.store.get_run(run_id)
        if record is not None and record.callback_status == "delivered":
            break
        await asyncio.sleep(0.05)
    assert record is not None and record.callback_status == "delivered"
    assert len(received) == 3
    last = received[-1]
    body = last.get_data()
    assert verify(acme.signing_secret.encode(), last.headers[SIGNATURE_HEADER], body)
    assert not verify(b"wrong-secret", last.headers[SIGNATURE_HEADER], body)
    assert not verify(acme.signing_secret.encode(), last.headers[SIGNATURE_HEADER], body + b" ")
    document = json.loads(body)["data"]
    assert document["id"] == run_id
    assert document["status"] == "success"
    assert document["results"] == [{"ok": True, "value": "v", "count": None}]
    assert last.headers["X-Actionruns-Delivery-Attempt"] == "3"
    # Each attempt is kept, for the dashboard's run page.
    deliveries = await service.engine.store.list_deliveries(run_id)
    assert [(d.number, d.outcome, d.status) for d in deliveries] == [
        (1, "retry", 503),
        (2, "retry", 500),
        (3, "delivered", 200),
    ]
    assert deliveries[0].error == "the receiver answered HTTP 503" and deliveries[2].error is None


async def test_a_callback_url_the_guard_refuses_is_refused_when_set(
    start_service: ServiceFactory, httpserver: HTTPServer
) -> None:
    service = await start_service(outbound_allow=())
    client = await service.new_client("acme")
    body = {"data": {"action": "testkit.noop", "callback_url": httpserver.url_for("/hook")}}
    for dry_run in (False, True):
        response = await client.post(
            "/v2/action-runs", json={"data": body["data"] | {"dry_run": dry_run}}
        )
        assert response.status_code == 400, response.text
        [error] = response.json()["errors"]
        assert error["code"] == "invalid"
        assert error["source"] == {"pointer": "/data/callback_url"}
        assert "loopback (RFC 1122)" in error["detail"]
    assert await service.stored_runs() == 0
    assert httpserver.log == []


async def test_a_callback_refused_at_delivery_fails_at_once_and_says_why(
    start_service: ServiceFactory, httpserver: HTTPServer
) -> None:
    """Allowed when set, refused when due (the name points elsewhere by then): the delivery
    is not retried, and the run and the metrics show it failed."""
    service = await start_service(workers=False)
    client = await service.new_client("acme")
    httpserver.expect_request("/hook").respond_with_data("ok")
    run_id = await client.run("testkit.noop", {}, callback_url=httpserver.url_for("/hook"))
    service.engine.guard.allow = ()  # what was allowed no longer is
    worker = service.engine.new_worker()
    looping = asyncio.create_task(worker.run())
    for _ in range(200):
        record = await service.engine.store.get_run(run_id)
        if record is not None and record.callback_status == "failed":
            break
        await asyncio.sleep(0.05)
    await worker.drain(grace=5)
    looping.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await looping
    run = (await client.get(f"/v2/action-runs/{run_id}")).json()["data"]
    assert run["callback"]["status"] == "failed"
    assert run["callback"]["attempts"] == 1
    assert "loopback (RFC 1122)" in run["callback"]["error"]
    assert httpserver.log == []
    metrics = (await service.http.get("/metrics")).text
    assert "actionruns_callbacks_failed 1.0" in metrics
    assert 'actionruns_deliveries_total{kind="callback",outcome="failed"} 1.0' in metrics


async def test_a_callback_that_keeps_failing_ends_failed_with_the_last_reason(
    start_service: ServiceFactory, httpserver: HTTPServer
) -> None:
    service = await start_service(callback_max_attempts=2)
    client = await service.new_client("acme")
    httpserver.expect_request("/hook").respond_with_data("no", status=500)
    run_id = await client.run("testkit.noop", {}, callback_url=httpserver.url_for("/hook"))
    for _ in range(200):
        run = (await client.get(f"/v2/action-runs/{run_id}")).json()["data"]
        if run["callback"]["status"] == "failed":
            break
        await asyncio.sleep(0.05)
    assert run["callback"] == {
        "url": httpserver.url_for("/hook"),
        "status": "failed",
        "attempts": 2,
        "error": "the receiver answered HTTP 500",
    }
    assert len(httpserver.log) == 2


async def test_cancel_a_queued_run_at_once(start_service: ServiceFactory) -> None:
    service = await start_service(workers=False)
    client = await service.new_client("acme")
    run_id = await client.run("testkit.noop", {})
    response = await client.post(f"/v2/action-runs/{run_id}/cancel")
    assert response.status_code == 200
    run = response.json()["data"]
    assert run["status"] == "error"
    assert run["errors"][0]["code"] == "user"
    assert run["errors"][0]["title"] == "cancelled"
    assert run["attempts"] == 0
    again = await client.post(f"/v2/action-runs/{run_id}/cancel")
    assert again.status_code == 409
    assert again.json()["errors"][0]["code"] == "conflict"


async def test_cancel_a_running_run_abandons_its_attempt(acme: ApiClient) -> None:
    key = uuid.uuid4().hex
    run_id = await acme.run("testkit.sleep", {"seconds": 30, "key": key})
    await asyncio.wait_for(testkit.started.setdefault(key, asyncio.Event()).wait(), 10)
    response = await acme.post(f"/v2/action-runs/{run_id}/cancel")
    assert response.status_code == 202
    run = await acme.wait(run_id)
    assert run["status"] == "error"
    assert run["errors"][0]["title"] == "cancelled"
    assert run["attempts"] == 1
    assert testkit.calls[key] == 1


async def test_dry_run_validates_everything_and_executes_nothing(
    service: Service, acme: ApiClient
) -> None:
    auth_id = await acme.connect("secretive", {"api_key": "good-key-123"})
    response = await acme.post(
        "/v2/action-runs",
        json={
            "data": {
                "action": "secretive.echo",
                "authentication": auth_id,
                "inputs": {"fail": "no"},
                "dry_run": True,
            }
        },
    )
    assert response.status_code == 200
    data = response.json()["data"]
    assert data == {
        "type": "dry_run",
        "action": "secretive.echo",
        "authentication": auth_id,
        "authentication_label": "test account",
        "inputs": {"fail": False},
        "callback_url": None,
        "would_run": True,
    }
    bad = await acme.post(
        "/v2/action-runs",
        json={
            "data": {
                "action": "secretive.echo",
                "authentication": auth_id,
                "inputs": {"fail": "maybe"},
                "dry_run": True,
            }
        },
    )
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["source"] == {"pointer": "/data/inputs/fail"}
    runs, _ = await service.engine.store.list_authentications(
        acme.client_id, app_key=None, limit=10, offset=0
    )
    assert len(runs) == 1
    assert await service.stored_runs() == 0


async def test_finished_runs_are_purged_after_the_retention_period(
    service: Service, acme: ApiClient
) -> None:
    old = await acme.run("testkit.noop", {"value": "old"})
    assert (await acme.wait(old))["status"] == "success"
    service.clock.advance(6 * 86400)
    recent = await acme.run("testkit.noop", {"value": "recent"})
    assert (await acme.wait(recent))["status"] == "success"
    service.clock.advance(1 * 86400 + 60)
    assert await service.engine.runs.purge() == 1
    assert (await acme.get(f"/v2/action-runs/{old}")).status_code == 404
    assert await service.engine.store.list_attempts(old) == []
    assert (await acme.get(f"/v2/action-runs/{recent}")).status_code == 200
    service.clock.advance(7 * 86400)
    assert await service.engine.runs.purge() == 1


async def test_a_lease_takes_runs_of_dead_workers_first_then_the_longest_queued(
    start_service: ServiceFactory,
) -> None:
    service = await start_service(workers=False)
    client = await service.new_client("acme")
    store, apps = service.engine.store, ["testkit"]
    first, second, third = [await client.run("testkit.noop", {"n": n}) for n in range(3)]
    service.clock.advance(1)
    # A worker takes the oldest and dies: its lease runs out after 5 s.
    assert [r.id for r in await store.lease_runs("dead", 1, service.clock(), 5.0, apps=apps)] == [
        first
    ]
    service.clock.advance(1)
    fourth = await client.run("testkit.noop", {"n": 3})
    service.clock.advance(10)
    now = service.clock()
    taken = [{r.id for r in await store.lease_runs("w", 2, now, 5.0, apps=apps)} for _ in range(3)]
    assert taken == [{first, second}, {third, fourth}, set()]


async def test_workers_lease_only_runs_of_apps_they_have(start_service: ServiceFactory) -> None:
    # During a rolling upgrade, a worker without an app must leave its runs for others.
    service = await start_service(workers=False)
    client = await service.new_client("acme")
    run_id = await client.run("testkit.noop", {})
    store, now = service.engine.store, service.clock()

    assert await store.lease_runs("old-worker", 10, now, 5.0, apps=["webhooks", "email"]) == []
    leased = await store.lease_runs("new-worker", 10, now, 5.0, apps=["webhooks", "testkit"])
    assert [run.id for run in leased] == [run_id]
