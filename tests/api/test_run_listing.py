"""``GET /v2/action-runs`` and ``GET /v2/action-runs/{id}/attempts``, on both backends."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from tests.conftest import ApiClient, Service, ServiceFactory


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def listed(client: ApiClient, **params: Any) -> dict[str, Any]:
    response = await client.get("/v2/action-runs", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def every_page(client: ApiClient, **params: Any) -> list[str]:
    """The ids on every page, following links.next to the end."""
    ids: list[str] = []
    body = await listed(client, **params)
    while True:
        ids += [run["id"] for run in body["data"]]
        if body["links"]["next"] is None:
            return ids
        response = await client.service.http.get(body["links"]["next"], headers=client.headers)
        assert response.status_code == 200, response.text
        body = response.json()


def at(service: Service) -> str:
    return datetime.fromtimestamp(service.clock(), UTC).isoformat()


async def test_runs_are_listed_newest_first_a_page_at_a_time_while_more_arrive(
    start_service: ServiceFactory,
) -> None:
    service = await start_service(workers=False)
    acme = await service.new_client("acme")
    older = [await acme.run("testkit.noop", {"value": str(n)}) for n in range(5)]

    first = await listed(acme, limit=2)
    assert [run["id"] for run in first["data"]] == older[::-1][:2]
    assert first["data"][0]["status"] == "queued" and first["data"][0]["action"] == "testkit.noop"
    assert first["meta"]["next_cursor"] and first["links"]["next"]
    # Runs submitted between pages come before the first page: later pages are unmoved.
    newer = [await acme.run("testkit.noop", {}) for _ in range(3)]
    rest = (await acme.service.http.get(first["links"]["next"], headers=acme.headers)).json()
    assert [run["id"] for run in rest["data"]] == older[::-1][2:4]
    assert await every_page(acme, limit=2) == newer[::-1] + older[::-1]
    assert await every_page(acme, limit=100) == newer[::-1] + older[::-1]


async def test_runs_are_filtered_by_each_field(start_service: ServiceFactory) -> None:
    service = await start_service()
    acme = await service.new_client("acme")
    authentication = await acme.connect("secretive", {"api_key": "sk-listing"})
    ok = await acme.run("testkit.noop", {})
    before = at(service)
    service.clock.advance(60)
    halting = {"key": uuid.uuid4().hex, "failures": 1, "mode": "halt"}
    halted = await acme.run("testkit.flaky", halting)
    echoed = await acme.run("secretive.echo", {}, authentication)
    bobs = await acme.acting_for("bob").run("testkit.noop", {})
    for run_id in (ok, halted, echoed, bobs):
        await acme.wait(run_id)

    async def ids(**params: Any) -> list[str]:
        return [run["id"] for run in (await listed(acme, **params))["data"]]

    assert await ids() == [bobs, echoed, halted, ok]
    assert await ids(status="error") == [halted]
    assert await ids(status="success") == [bobs, echoed, ok]
    assert await ids(app="testkit") == [bobs, halted, ok]
    assert await ids(action="testkit.flaky") == [halted]
    assert await ids(action="testkit.noop", app="testkit") == [bobs, ok]
    assert await ids(authentication=authentication) == [echoed]
    assert await ids(end_user="bob") == [bobs]
    assert await ids(created_before=before) == [ok]
    assert await ids(created_after=before) == [bobs, echoed, halted]
    naive = before.removesuffix("+00:00")  # no offset: UTC
    assert await ids(created_after=naive, status="success", app="testkit") == [bobs]
    assert await ids(app="slack") == []


async def test_each_caller_lists_only_its_own_runs(start_service: ServiceFactory) -> None:
    service = await start_service(workers=False)
    acme, globex = await service.new_client("acme"), await service.new_client("globex")
    alice, bob = acme.acting_for("alice"), acme.acting_for("bob")
    alices = await alice.run("testkit.noop", {})
    bobs = await bob.run("testkit.noop", {})
    partners = await acme.run("testkit.noop", {})

    assert await every_page(globex) == []
    assert await every_page(globex.acting_for("alice")) == []
    assert await every_page(alice) == [alices]
    # An end user's filter cannot reach past their own runs.
    assert await every_page(alice, end_user="bob") == [alices]
    assert await every_page(bob) == [bobs]
    assert await every_page(acme) == [partners, bobs, alices]
    for intruder in (globex, bob):
        response = await intruder.get(f"/v2/action-runs/{alices}/attempts")
        assert response.status_code == 404, response.text
        assert response.json()["errors"][0]["code"] == "not_found"


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_malformed_list_requests_are_precise_4xx(service: Service, acme: ApiClient) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": "WzEsMl0"}, "cursor"),  # [1,2]: a position whose id is not text
        ({"cursor": "x" * 600}, "cursor"),
        ({"status": "finished"}, "status"),
        ({"action": "noop"}, "action"),
        ({"action": "testkit.noop", "app": "slack"}, "action"),
        ({"created_after": "yesterday"}, "created_after"),
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"end_user": "u" * 201}, "end_user"),
    ]
    for params, parameter in cases:
        response = await acme.get("/v2/action-runs", params=params)
        assert response.status_code == 400, (params, response.text)
        [error] = response.json()["errors"]
        assert error["source"] == {"parameter": parameter}, (params, error)

    anonymous = await service.http.get("/v2/action-runs")
    assert anonymous.status_code == 401
    assert anonymous.json()["errors"][0]["code"] == "unauthorized"
    reader = await (await service.new_client("reader", ["authentication"])).with_scopes()
    forbidden = await reader.get("/v2/action-runs")
    assert forbidden.status_code == 403
    assert forbidden.json()["errors"][0]["code"] == "forbidden"
    missing = await acme.get(f"/v2/action-runs/{uuid.uuid4()}/attempts")
    assert missing.status_code == 404


async def test_attempts_show_outcomes_retry_delays_and_requests_without_secrets(
    start_service: ServiceFactory, httpserver: HTTPServer
) -> None:
    service = await start_service()
    acme = await service.new_client("acme")
    httpserver.expect_ordered_request("/hook/orders").respond_with_data("busy", status=503)
    httpserver.expect_ordered_request("/hook/orders").respond_with_json({"ok": True})
    url = httpserver.url_for("/hook/orders") + "?api_key=sk-in-the-query"
    run_id = await acme.run("webhooks.send_request", {"url": url, "method": "POST"})
    assert (await acme.wait(run_id))["status"] == "success"

    response = await acme.get(f"/v2/action-runs/{run_id}/attempts")
    assert response.status_code == 200, response.text
    first, second = response.json()["data"]
    assert "sk-in-the-query" not in response.text
    assert (first["number"], first["outcome"]) == (1, "retry")
    assert first["error_class"] == first["error"]["code"]
    assert first["retry_delay"] > 0 and first["finished_at"] >= first["started_at"]
    [request] = first["requests"]
    assert request["method"] == "POST"
    assert request["url"] == httpserver.url_for("/hook/orders")
    assert request["status"] == 503 and request["duration_ms"] >= 0
    assert (second["number"], second["outcome"], second["error_class"]) == (2, "success", None)
    assert second["retry_delay"] is None
    assert [r["status"] for r in second["requests"]] == [200]


async def test_a_credential_in_a_request_path_is_redacted(
    start_service: ServiceFactory, httpserver: HTTPServer
) -> None:
    service = await start_service()
    acme = await service.new_client("acme")
    password = "pw-in-the-path-7731"
    authentication = await acme.connect("echoing", {"username": "ada", "password": password})
    httpserver.expect_request(f"/users/{password}/profile").respond_with_data("hi")
    run_id = await acme.run(
        "echoing.call", {"url": httpserver.url_for(f"/users/{password}/profile")}, authentication
    )
    assert (await acme.wait(run_id))["status"] == "success"

    response = await acme.get(f"/v2/action-runs/{run_id}/attempts")
    [attempt] = response.json()["data"]
    assert password not in response.text
    assert attempt["requests"][0]["url"] == httpserver.url_for("/users/[redacted]/profile")


async def test_attempts_are_kept_for_the_runs_retention_and_deleted_with_it(
    service: Service, acme: ApiClient
) -> None:
    run_id = await acme.run("testkit.noop", {})
    await acme.wait(run_id)
    assert len(await service.engine.store.list_attempts(run_id)) == 1
    service.clock.advance(service.engine.settings.retention_days * 86400 - 60)
    await service.engine.runs.purge()
    assert len((await acme.get(f"/v2/action-runs/{run_id}/attempts")).json()["data"]) == 1
    service.clock.advance(120)
    await service.engine.runs.purge()
    assert (await acme.get(f"/v2/action-runs/{run_id}/attempts")).status_code == 404
    assert await service.engine.store.list_attempts(run_id) == []
