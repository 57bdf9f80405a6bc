"""A bad run request gets a precise 4xx naming what is wrong, in the API's error shape."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import ApiClient, ServiceFactory

# (request data, pointer of the one error, words its detail must contain): all 400, code invalid.
BAD_RUN_REQUESTS: list[tuple[dict[str, Any], str, str]] = [
    ({"action": "testkit.flaky", "inputs": {}}, "/data/inputs/key", "required"),
    (
        {"action": "testkit.noop", "inputs": {"count": "many"}},
        "/data/inputs/count",
        "integer",
    ),
    ({"action": "testkit.noop", "inputs": {"size": "xl"}}, "/data/inputs/size", "one of"),
    ({"action": "testkit.nope", "inputs": {}}, "/data/action", "testkit.nope"),
    ({"action": "secretive.echo", "inputs": {}}, "/data/authentication", "needs"),
    (
        {"action": "secretive.echo", "authentication": "nope", "inputs": {}},
        "/data/authentication",
        "nope",
    ),
    (
        {"action": "testkit.noop", "inputs": {}, "callback_url": "ftp://example.com"},
        "/data/callback_url",
        "http",
    ),
    ({"action": "testkit.noop", "inputs": "text"}, "/data/inputs", "dictionary"),
    (
        {"action": "testkit.noop", "inputs": {}, "dry_run": "maybe"},
        "/data/dry_run",
        "bool",
    ),
    ({"action": "", "inputs": {}}, "/data/action", "at least 1"),
    ({"action": "x" * 201, "inputs": {}}, "/data/action", "at most 200"),
    ({"inputs": {}}, "/data/action", "required"),
    (
        {"action": "testkit.area", "inputs": {"shape": "hexagon"}},
        "/data/inputs/shape",
        "one of",
    ),
    (
        {"action": "testkit.sleep", "inputs": {"seconds": "NaN"}},
        "/data/inputs/seconds",
        "finite",
    ),
    (
        {"action": "testkit.noop", "inputs": {}, "callback_url": "/relative/path"},
        "/data/callback_url",
        "http",
    ),
]


async def test_run_requests_are_checked_field_by_field(acme: ApiClient) -> None:
    for data, pointer, detail in BAD_RUN_REQUESTS:
        for dry_run in (False, True):  # a dry run checks all a run does
            body = {"data": {"dry_run": dry_run, **data}}
            response = await acme.post("/v2/action-runs", json=body)
            assert response.status_code == 400, (data, response.text)
            [error] = response.json()["errors"]
            assert (error["status"], error["code"]) == (400, "invalid")
            assert error["source"] == {"pointer": pointer}, data
            assert detail in error["detail"], (data, error["detail"])
    assert await acme.service.stored_runs() == 0


async def test_every_failing_field_is_reported_at_once(acme: ApiClient) -> None:
    response = await acme.post(
        "/v2/action-runs",
        json={"data": {"action": "testkit.noop", "inputs": {"count": "x", "size": "xl"}}},
    )
    assert response.status_code == 400
    pointers = {error["source"]["pointer"] for error in response.json()["errors"]}
    assert pointers == {"/data/inputs/count", "/data/inputs/size"}


async def test_wait_seconds_must_be_0_to_60(acme: ApiClient) -> None:
    run_id = await acme.run("testkit.noop", {})
    for wait in ("61", "-1", "soon", "nan", "inf"):
        response = await acme.get(f"/v2/action-runs/{run_id}", params={"wait_seconds": wait})
        assert response.status_code == 400, wait
        assert response.json()["errors"][0]["source"] == {"parameter": "wait_seconds"}


async def test_unknown_runs_are_404(acme: ApiClient) -> None:
    for run_id in ("nope", "00000000-0000-0000-0000-000000000000", "1", "a%20b", "..%2Fx"):
        for response in (
            await acme.get(f"/v2/action-runs/{run_id}"),
            await acme.get(f"/v2/action-runs/{run_id}", params={"wait_seconds": 1}),
            await acme.post(f"/v2/action-runs/{run_id}/cancel"),
        ):
            assert response.status_code == 404, (run_id, response.text)
            assert response.json()["errors"][0]["status"] == 404


async def test_an_overlong_run_id_is_refused_as_a_parameter(acme: ApiClient) -> None:
    response = await acme.get(f"/v2/action-runs/{'x' * 300}")
    assert response.status_code == 400
    assert "64" in response.json()["errors"][0]["detail"]


async def test_a_finished_run_cannot_be_cancelled(acme: ApiClient) -> None:
    run_id = await acme.run("testkit.noop", {})
    await acme.wait(run_id)
    response = await acme.post(f"/v2/action-runs/{run_id}/cancel")
    assert response.status_code == 409
    assert "success" in response.json()["errors"][0]["detail"]


async def test_dynamic_inputs_are_checked_when_the_run_executes(acme: ApiClient) -> None:
    # Dynamic fields need the connector to compute them, so a run is accepted on its static
    # inputs and fails as a user error, naming the field, when the worker computes them.
    run_id = await acme.run("testkit.area", {"shape": "circle"})
    run = await acme.wait(run_id)
    assert run["status"] == "error"
    [error] = run["errors"]
    assert error["code"] == "user" and "radius" in error["detail"]
    done = await acme.wait(await acme.run("testkit.area", {"shape": "circle", "radius": "2"}))
    assert done["status"] == "success" and done["results"] == [{"area": 12.57}]


# -- values a database or a JSON response cannot carry ------------------------------------


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_nul_characters_never_reach_the_database(
    start_service: ServiceFactory, backend: str
) -> None:
    """PostgreSQL refuses NUL in text; every place a client's text meets a column says 4xx."""
    service = await start_service()
    acme = await service.new_client("acme")
    for response in (
        await acme.get("/v2/action-runs/a%00b"),
        await acme.get("/v2/action-runs/a%00b", params={"wait_seconds": 1}),
        await acme.post("/v2/action-runs/a%00b/cancel"),
        await acme.get("/v2/authentications/a%00b"),
    ):
        assert response.status_code == 404, response.text
    token = await service.http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": "cl_\x00", "client_secret": "x"},
    )
    assert token.status_code == 400 and token.json()["error"] == "invalid_request"
    for path, data, pointer in [
        (
            "/v2/authentications",
            {"app": "secretive", "title": "a\x00b", "authentication_fields": {"api_key": "k"}},
            "/data/title",
        ),
        (
            "/v2/action-runs",
            {"action": "secretive.echo", "authentication": "a\x00b", "inputs": {}},
            "/data/authentication",
        ),
        (
            "/v2/action-runs",
            {"action": "testkit.noop", "inputs": {}, "callback_url": "https://a\x00b.example/"},
            "/data/callback_url",
        ),
        ("/v2/actions/testkit.noop/inputs", {"authentication": "\x00"}, "/data/authentication"),
    ]:
        response = await acme.post(path, json={"data": data})
        assert response.status_code == 400, (path, response.text)
        assert response.json()["errors"][0]["source"] == {"pointer": pointer}
    # Inside inputs NUL is only data: it is stored as JSON and handed to the connector.
    run = await acme.wait(await acme.run("testkit.noop", {"value": "a\x00b"}))
    assert run["status"] == "success" and run["results"][0]["value"] == "a\x00b"


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_numbers_json_cannot_carry_are_refused_in_and_nulled_out(
    start_service: ServiceFactory, backend: str
) -> None:
    service = await start_service()
    acme = await service.new_client("acme")
    # Python's JSON parser reads 1e400 as infinity, and NaN and Infinity as themselves.
    for literal in ("1e400", "-1e400", "NaN", "Infinity"):
        for path, body, pointer in [
            (
                "/v2/action-runs",
                '{"data": {"action": "testkit.noop", "inputs": {"extra": [%s]}}}',
                "/data/inputs",
            ),
            (
                "/v2/action-runs",
                '{"data": {"action": "testkit.noop", "dry_run": true, "inputs": {"x": %s}}}',
                "/data/inputs",
            ),
            ("/v2/actions/testkit.noop/inputs", '{"data": {"inputs": {"a": {"b": %s}}}}', None),
            (
                "/v2/authentications",
                '{"data": {"app": "secretive", "authentication_fields": {"api_key": %s}}}',
                "/data/authentication_fields",
            ),
        ]:
            response = await acme.post(
                path,
                content=(body % literal).encode(),
                headers={"Content-Type": "application/json"},
            )
            assert response.status_code == 400, (literal, path, response.text)
            assert response.json()["errors"][0]["source"] == {"pointer": pointer or "/data/inputs"}
    assert await service.stored_runs() == 0

    # A connector may compute one (1e200 * 1e200): the run succeeds, the value is null.
    run = await acme.wait(
        await acme.run("testkit.area", {"shape": "rect", "width": 1e200, "height": 1e200})
    )
    assert run["status"] == "success", run
    assert run["results"] == [{"area": None}]
    tested = await acme.post(
        "/v2/actions/testkit.area/test",
        json={"data": {"inputs": {"shape": "rect", "width": 1e200, "height": 1e200}}},
    )
    assert tested.status_code == 200 and tested.json()["data"] == [{"area": None}]


async def test_callback_urls_that_cannot_be_called_are_refused(acme: ApiClient) -> None:
    for url in (
        "http://[::1/callback",
        "http://example.com:99999/callback",
        "http://example.com:0/callback",
        "https://example.com/\nX-Injected: 1",
        "http:///no-host",
        "mailto:ops@example.com",
    ):
        response = await acme.post(
            "/v2/action-runs",
            json={"data": {"action": "testkit.noop", "inputs": {}, "callback_url": url}},
        )
        assert response.status_code == 400, (url, response.text)
        assert response.json()["errors"][0]["source"] == {"pointer": "/data/callback_url"}
    accepted = await acme.run(
        "testkit.noop", {}, callback_url="https://example.com:8443/hooks/run?x=1"
    )
    assert accepted
