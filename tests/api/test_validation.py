"""A bad run request gets a precise 4xx naming what is wrong, in the API's error shape."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import ApiClient


@pytest.mark.parametrize(
    ("data", "status", "pointer", "detail"),
    [
        ({"action": "testkit.flaky", "inputs": {}}, 422, "/data/inputs/key", "required"),
        (
            {"action": "testkit.noop", "inputs": {"count": "many"}},
            422,
            "/data/inputs/count",
            "integer",
        ),
        ({"action": "testkit.noop", "inputs": {"size": "xl"}}, 422, "/data/inputs/size", "one of"),
        ({"action": "testkit.nope", "inputs": {}}, 422, "/data/action", "testkit.nope"),
        ({"action": "secretive.echo", "inputs": {}}, 422, "/data/authentication", "needs"),
        (
            {"action": "secretive.echo", "authentication": "nope", "inputs": {}},
            422,
            "/data/authentication",
            "nope",
        ),
        (
            {"action": "testkit.noop", "inputs": {}, "callback_url": "ftp://example.com"},
            422,
            "/data/callback_url",
            "http",
        ),
        ({"action": "testkit.noop", "inputs": "text"}, 422, "/data/inputs", "dictionary"),
    ],
)
async def test_run_requests_are_checked_field_by_field(
    acme: ApiClient, data: dict[str, Any], status: int, pointer: str, detail: str
) -> None:
    response = await acme.post("/v2/action-runs", json={"data": data})
    assert response.status_code == status, response.text
    [error] = response.json()["errors"]
    assert error["status"] == status
    assert error["source"] == {"pointer": pointer}
    assert detail in error["detail"]


async def test_every_failing_field_is_reported_at_once(acme: ApiClient) -> None:
    response = await acme.post(
        "/v2/action-runs",
        json={"data": {"action": "testkit.noop", "inputs": {"count": "x", "size": "xl"}}},
    )
    assert response.status_code == 422
    pointers = {error["source"]["pointer"] for error in response.json()["errors"]}
    assert pointers == {"/data/inputs/count", "/data/inputs/size"}


@pytest.mark.parametrize("wait", ["61", "-1", "soon"])
async def test_wait_seconds_must_be_0_to_60(acme: ApiClient, wait: str) -> None:
    run_id = await acme.run("testkit.noop", {})
    response = await acme.get(f"/v2/action-runs/{run_id}", params={"wait_seconds": wait})
    assert response.status_code == 422
    assert response.json()["errors"][0]["source"] == {"parameter": "wait_seconds"}


@pytest.mark.parametrize("run_id", ["nope", "00000000-0000-0000-0000-000000000000", "x" * 300])
async def test_unknown_runs_are_404(acme: ApiClient, run_id: str) -> None:
    for response in (
        await acme.get(f"/v2/action-runs/{run_id}"),
        await acme.post(f"/v2/action-runs/{run_id}/cancel"),
    ):
        assert response.status_code in (404, 422), response.text
        assert response.json()["errors"][0]["status"] == response.status_code


async def test_a_finished_run_cannot_be_cancelled(acme: ApiClient) -> None:
    run_id = await acme.run("testkit.noop", {})
    await acme.wait(run_id)
    response = await acme.post(f"/v2/action-runs/{run_id}/cancel")
    assert response.status_code == 409
    assert "success" in response.json()["errors"][0]["detail"]
