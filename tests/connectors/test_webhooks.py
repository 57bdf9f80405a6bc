"""The webhooks connector against a real local HTTP server, directly and through the service."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from actionruns.connectors.webhooks import MAX_RESPONSE_BYTES, app
from actionruns.sdk import Context, ExpiredAuthError, HaltError, ThrottledError, TransientError
from actionruns.sdk.context import open_context
from actionruns.sdk.fields import validate_inputs
from actionruns.sdk.outbound import OutboundClient, OutboundGuard
from tests.conftest import LOOPBACK, ApiClient, ServiceFactory

send_request = app.actions[0]


@pytest.fixture(params=["aiohttp", "httpcore"])
def client(request: pytest.FixtureRequest) -> OutboundClient:
    """What sends the requests (``ACTIONRUNS_OUTBOUND_CLIENT``): the connector behaves the
    same over either."""
    chosen: OutboundClient = request.param
    return chosen


@pytest.fixture
async def ctx(client: OutboundClient) -> AsyncIterator[Context]:
    guard = OutboundGuard(LOOPBACK, client=client)
    async with open_context(app.auth, {}, guard, app_key="webhooks") as context:
        yield context
    await guard.aclose()


async def send(ctx: Context, **inputs: Any) -> Mapping[str, Any]:
    """Run the action as the engine does: inputs validated against its fields first."""
    result = await send_request.perform(ctx, validate_inputs(send_request.static_inputs, inputs))
    assert isinstance(result, Mapping)
    return result


async def test_json_post_with_headers_and_query(ctx: Context, httpserver: HTTPServer) -> None:
    httpserver.expect_oneshot_request(
        "/hooks/orders",
        method="POST",
        query_string="source=shop&tag=a&tag=b",
        headers={"X-Signature": "abc"},
        json={"order": 42, "items": ["pen"]},
    ).respond_with_json({"received": True}, status=201, headers={"X-Request-Id": "r-1"})

    result = await send(
        ctx,
        url=httpserver.url_for("/hooks/orders"),
        query={"source": "shop", "tag": ["a", "b"]},
        headers={"X-Signature": "abc"},
        body={"order": 42, "items": ["pen"]},
    )

    httpserver.check_assertions()
    assert result["status"] == 201
    assert result["body"] == {"received": True}
    assert result["headers"]["x-request-id"] == "r-1"


async def test_the_query_in_the_url_is_kept_and_merged_with_the_query_input(
    ctx: Context, httpserver: HTTPServer
) -> None:
    seen: list[Request] = []

    def record(request: Request) -> Response:
        seen.append(request)
        return Response("ok", content_type="text/plain")

    httpserver.expect_request("/p").respond_with_handler(record)
    as_given = await send(ctx, method="GET", url=httpserver.url_for("/p") + "?a=1&b=2")
    merged = await send(
        ctx,
        method="GET",
        url=httpserver.url_for("/p") + "?a=1&b=2&keep=%20x",
        query={"b": "3", "tag": ["x", "y"]},
    )

    assert [request.query_string.decode() for request in seen] == [
        "a=1&b=2",
        "a=1&keep=%20x&b=3&tag=x&tag=y",
    ]
    assert as_given["url"].endswith("/p?a=1&b=2")
    assert merged["status"] == 200


async def test_form_and_raw_bodies(ctx: Context, httpserver: HTTPServer) -> None:
    seen: list[Request] = []

    def record(request: Request) -> Response:
        seen.append(request)
        return Response("plain text reply", content_type="text/plain")

    httpserver.expect_request("/form").respond_with_handler(record)
    httpserver.expect_request("/raw").respond_with_handler(record)

    form = await send(
        ctx, method="PUT", url=httpserver.url_for("/form"), body_type="form", body={"a": 1}
    )
    raw = await send(ctx, url=httpserver.url_for("/raw"), body_type="raw", body="<xml/>")

    assert seen[0].method == "PUT"
    assert seen[0].content_type == "application/x-www-form-urlencoded"
    assert seen[0].form["a"] == "1"
    assert seen[1].get_data() == b"<xml/>"
    assert form["body"] == raw["body"] == "plain text reply"


async def test_a_get_sends_no_body(ctx: Context, httpserver: HTTPServer) -> None:
    httpserver.expect_oneshot_request("/status", method="GET", data=b"").respond_with_json([1, 2])
    result = await send(ctx, method="GET", url=httpserver.url_for("/status"))
    httpserver.check_assertions()
    assert result["body"] == [1, 2]


@pytest.mark.parametrize(
    ("status", "headers", "error"),
    [
        (400, {}, HaltError),
        (404, {}, HaltError),
        (401, {}, ExpiredAuthError),
        (429, {"Retry-After": "7"}, ThrottledError),
        (503, {}, TransientError),
    ],
)
async def test_error_statuses_are_classified(
    ctx: Context,
    httpserver: HTTPServer,
    status: int,
    headers: dict[str, str],
    error: type[Exception],
) -> None:
    httpserver.expect_request("/fail").respond_with_json(
        {"message": "nope"}, status=status, headers=headers
    )
    with pytest.raises(error, match="nope") as caught:
        await send(ctx, url=httpserver.url_for("/fail"))
    if isinstance(caught.value, ThrottledError):
        assert caught.value.delay == 7


async def test_error_statuses_can_be_returned_instead(ctx: Context, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/fail").respond_with_data("gone", status=410)
    result = await send(ctx, url=httpserver.url_for("/fail"), fail_on_error=False)
    assert (result["status"], result["body"]) == (410, "gone")


async def test_large_responses_are_cut(ctx: Context, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/big").respond_with_data("x" * (MAX_RESPONSE_BYTES + 10))
    result = await send(ctx, url=httpserver.url_for("/big"))
    assert len(result["body"]) == MAX_RESPONSE_BYTES
    assert result["truncated"] is True


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({"url": "ftp://example.com/x"}, "http:// or https://"),
        ({"url": "http://"}, "http:// or https://"),
        ({"url": "http://example.com", "headers": {"Bad Name": "x"}}, "header name"),
        ({"url": "http://example.com", "headers": {"X-A": "1\r\nX-B: 2"}}, "line breaks"),
        ({"url": "http://example.com", "body_type": "form", "body": [1]}, "form body"),
    ],
)
async def test_bad_requests_halt_before_sending(
    ctx: Context, inputs: dict[str, Any], message: str
) -> None:
    with pytest.raises(HaltError, match=message):
        await send(ctx, **inputs)


async def test_unknown_method_is_a_field_error() -> None:
    from actionruns.sdk.fields import FieldErrors

    with pytest.raises(FieldErrors) as caught:
        validate_inputs(send_request.static_inputs, {"url": "http://x", "method": "BREW"})
    assert "method" in caught.value.errors


async def test_end_to_end_over_http(
    start_service: ServiceFactory, httpserver: HTTPServer, client: OutboundClient
) -> None:
    service = await start_service(outbound_client=client)
    assert service.engine.guard.client == client
    acme: ApiClient = await service.new_client("acme")
    httpserver.expect_oneshot_request(
        "/hook", method="POST", json={"event": "signup", "user": 7}
    ).respond_with_json({"thanks": True})

    apps = (await acme.get("/v2/apps", params={"limit": 100})).json()["data"]
    webhooks = next(item for item in apps if item["slug"] == "webhooks")
    assert webhooks["auth_type"] == "none"
    actions = (await acme.get("/v2/actions", params={"app": "webhooks"})).json()["data"]
    assert [action["key"] for action in actions] == ["send_request", "graphql_request"]
    inputs = (await acme.post(f"/v2/actions/{actions[0]['id']}/inputs", json={"data": {}})).json()
    assert {field["id"] for field in inputs["data"]} >= {"method", "url", "headers", "body"}

    run_id = await acme.run(
        actions[0]["id"],
        {"url": httpserver.url_for("/hook"), "body": {"event": "signup", "user": 7}},
    )
    run = await acme.wait(run_id)

    httpserver.check_assertions()
    assert run["status"] == "success", run
    assert run["results"][0]["status"] == 200
    assert run["results"][0]["body"] == {"thanks": True}

    httpserver.expect_oneshot_request(
        "/graphql",
        method="POST",
        json={"query": "query Me { me { name } }"},
    ).respond_with_json({"data": {"me": {"name": "Ada"}}})
    graphql = await acme.wait(
        await acme.run(
            "webhooks.graphql_request",
            {"url": httpserver.url_for("/graphql"), "query": "query Me { me { name } }"},
        )
    )
    httpserver.check_assertions()
    assert graphql["status"] == "success", graphql
    assert graphql["results"][0]["data"] == {"me": {"name": "Ada"}}


async def test_the_outbound_guard_stops_private_destinations(
    start_service: ServiceFactory, httpserver: HTTPServer, client: OutboundClient
) -> None:
    service = await start_service(outbound_allow=(), outbound_client=client)
    acme: ApiClient = await service.new_client("acme")
    httpserver.expect_request("/internal").respond_with_data("secret")

    run = await acme.wait(
        await acme.run("webhooks.send_request", {"url": httpserver.url_for("/internal")})
    )

    assert run["status"] == "error"
    assert run["attempts"] == 1
    error = run["errors"][0]
    assert (error["code"], error["title"]) == ("user", "Destination not allowed")
    assert "ACTIONRUNS_OUTBOUND_ALLOW" in error["detail"]
    assert httpserver.log == []
    assert "secret" not in json.dumps(run)


graphql = app.actions[1]


async def test_graphql_query_with_variables(ctx: Context, httpserver: HTTPServer) -> None:
    httpserver.expect_oneshot_request(
        "/graphql",
        method="POST",
        json={
            "query": "query Viewer($id: ID!) { user(id: $id) { login } }",
            "variables": {"id": "7"},
            "operationName": "Viewer",
        },
        headers={"Authorization": "Bearer gql-token"},
    ).respond_with_json({"data": {"user": {"login": "ada"}}})

    result = await graphql.perform(
        ctx,
        validate_inputs(
            graphql.static_inputs,
            {
                "url": httpserver.url_for("/graphql"),
                "query": "query Viewer($id: ID!) { user(id: $id) { login } }",
                "variables": {"id": "7"},
                "operation_name": "Viewer",
                "headers": {"Authorization": "Bearer gql-token"},
            },
        ),
    )

    httpserver.check_assertions()
    assert result == {"data": {"user": {"login": "ada"}}, "errors": []}


async def test_graphql_errors_without_data_halt(ctx: Context, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/graphql").respond_with_json(
        {"data": None, "errors": [{"message": "Cannot query field 'nope'"}]}
    )
    partial = {"data": {"a": 1}, "errors": [{"message": "b failed"}]}
    httpserver.expect_request("/partial").respond_with_json(partial)

    with pytest.raises(HaltError, match="Cannot query field"):
        await graphql.perform(ctx, {"url": httpserver.url_for("/graphql"), "query": "{ nope }"})
    result = await graphql.perform(ctx, {"url": httpserver.url_for("/partial"), "query": "{ a b }"})
    assert result == partial
