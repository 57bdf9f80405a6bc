"""Each request: its id (the caller's X-Request-Id or a new one) echoed and on every log
event it causes, one access event naming the route (never the path), one metric sample."""

from __future__ import annotations

import re

import structlog

from tests.conftest import ApiClient, Service


async def test_a_request_id_is_taken_or_made_and_echoed(acme: ApiClient) -> None:
    given = await acme.get("/v2/apps", headers={"X-Request-Id": "req-42.a:b"})
    assert given.headers["X-Request-Id"] == "req-42.a:b"
    for unusable in ("", "has space", "x" * 129, "semi;colon"):
        made = await acme.get("/v2/apps", headers={"X-Request-Id": unusable})
        assert re.fullmatch(r"[0-9a-f]{32}", made.headers["X-Request-Id"]), unusable
    refused = await acme.get("/v2/action-runs/nope/attempts")
    assert refused.status_code == 404 and refused.headers["X-Request-Id"]


async def test_each_request_is_logged_once_by_route_and_counted(
    service: Service, acme: ApiClient
) -> None:
    secret_query = "sk-never-logged-9911"
    with structlog.testing.capture_logs([structlog.contextvars.merge_contextvars]) as events:
        response = await acme.get(
            "/v2/action-runs/some-run-id/attempts",
            params={"token": secret_query},
            headers={"X-Request-Id": "trace-me"},
        )
        await service.http.get("/no/such/place")
    assert response.status_code == 404
    accesses = [event for event in events if event["event"] == "http_request"]
    assert [(e["method"], e["route"], e["status"], e["request_id"]) for e in accesses[:1]] == [
        ("GET", "/v2/action-runs/{run_id}/attempts", 404, "trace-me")
    ]
    assert accesses[0]["client"] == acme.client_id  # its token named it
    assert accesses[1]["route"] == "unmatched" and accesses[1]["status"] == 404
    assert accesses[1]["client"] is None
    assert accesses[0]["duration_ms"] >= 0
    assert secret_query not in repr(events) and "some-run-id" not in repr(events)

    metrics = (await service.http.get("/metrics")).text
    assert re.search(
        r'actionruns_http_request_duration_seconds_count\{method="GET",'
        r'route="/v2/action-runs/\{run_id\}/attempts",status="404"\} 1\.0',
        metrics,
    ), metrics


async def test_a_retry_and_a_failure_are_logged_with_the_run_and_request(
    service: Service, acme: ApiClient
) -> None:
    with structlog.testing.capture_logs([structlog.contextvars.merge_contextvars]) as events:
        response = await acme.post(
            "/v2/action-runs",
            json={
                "data": {
                    "action": "testkit.flaky",
                    "inputs": {"key": "logged-run", "failures": 5, "mode": "transient"},
                }
            },
            headers={"X-Request-Id": "submitted-here"},
        )
        run_id = response.json()["data"]["id"]
        assert (await acme.wait(run_id))["status"] == "error"
    ends = {"retry_scheduled", "run_failed"}
    steps = [e for e in events if e.get("run_id") == run_id and e["event"] in ends]
    assert [e["event"] for e in steps] == ["retry_scheduled", "retry_scheduled", "run_failed"]
    assert all(e["error_class"] == "partner" and e["action"] == "testkit.flaky" for e in steps)
    assert [e["attempt"] for e in steps] == [1, 2, 3]
    # Why (the error's title, not its detail) and, for a retry, when (Unix time).
    assert all(e["why"] == "Temporary failure" for e in steps)
    assert all(e["retry_at"] > e["duration_ms"] / 1000 for e in steps[:2])
    assert "retry_at" not in steps[2]
    # The run was handed to this node's worker by the POST: its events carry the POST's id.
    assert steps[0]["request_id"] == "submitted-here"
