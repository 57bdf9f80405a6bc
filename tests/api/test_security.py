"""Who may do what: tokens, scopes, tenancy between clients, app allowlists, body limits."""

from __future__ import annotations

import base64
import time

import httpx2
import jwt
import pytest

from actionruns.api.security import TOKEN_PURPOSE
from actionruns.engine.clients import NewClient
from tests.conftest import ApiClient, Service, ServiceFactory


def assert_error_shape(body: dict[str, object], status: int) -> None:
    [error] = body["errors"]  # type: ignore[misc]
    assert error["status"] == status
    assert {"code", "title", "detail"} <= set(error)


# -- tokens -------------------------------------------------------------------------------


async def test_client_credentials_in_the_body_or_with_basic(service: Service) -> None:
    created = await service.engine.clients.create("acme")
    client_id, secret = created.record.id, created.client_secret

    in_body = await service.http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    with_basic = await service.http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": "zap"},
        headers={"Authorization": f"Basic {basic}"},
    )

    assert in_body.status_code == with_basic.status_code == 200
    token = in_body.json()
    assert token["token_type"] == "Bearer" and token["expires_in"] > 0
    assert set(token["scope"].split()) == {
        "action:run",
        "authentication",
        "authentication:write",
        "zap",
    }
    assert with_basic.json()["scope"] == "zap"
    assert in_body.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    ("form", "status", "error"),
    [
        ({"grant_type": "password"}, 400, "unsupported_grant_type"),
        ({"grant_type": "client_credentials", "client_secret": "x"}, 401, "invalid_client"),
        ({"grant_type": "client_credentials", "scope": "admin"}, 400, "invalid_scope"),
    ],
)
async def test_bad_token_requests(
    service: Service, form: dict[str, str], status: int, error: str
) -> None:
    created = await service.engine.clients.create("acme")
    if "client_secret" in form:
        form = form | {"client_id": created.record.id, "client_secret": "wrong"}
    else:
        form = form | {"client_id": created.record.id, "client_secret": created.client_secret}

    response = await service.http.post("/oauth/token", data=form)

    assert response.status_code == status
    assert response.json()["error"] == error
    assert_error_shape(response.json(), status)
    assert created.client_secret not in response.text


async def test_a_scope_the_client_lacks_is_refused(service: Service) -> None:
    created = await service.engine.clients.create("reader", ["zap"])
    response = await service.http.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": created.record.id,
            "client_secret": created.client_secret,
            "scope": "zap action:run",
        },
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer",
        "Bearer not-a-jwt",
        "Basic dXNlcjpwYXNz",
        "Bearer "
        + jwt.encode(
            {"sub": "cl_x", "exp": 9999999999},
            "a-guessed-key-of-thirty-two-bytes",
            algorithm="HS256",
        ),
        "Bearer " + jwt.encode({"sub": "cl_x", "exp": 9999999999}, key=None, algorithm="none"),
    ],
)
async def test_requests_without_a_valid_token_get_401(
    service: Service, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = await service.http.get("/v2/apps", headers=headers)
    assert response.status_code == 401
    assert_error_shape(response.json(), 401)


async def test_an_expired_token_says_so(service: Service, acme: ApiClient) -> None:
    issued = jwt.decode(acme.token, options={"verify_signature": False})
    key_id = jwt.get_unverified_header(acme.token)["kid"]
    _, key = service.engine.vault.derived_key(TOKEN_PURPOSE, key_id)
    expired = jwt.encode(
        issued | {"exp": int(time.time()) - 10}, key, algorithm="HS256", headers={"kid": key_id}
    )
    response = await service.http.get("/v2/apps", headers={"Authorization": f"Bearer {expired}"})
    assert response.status_code == 401
    assert "expired" in response.json()["errors"][0]["detail"]


async def test_a_disabled_client_gets_no_new_token(service: Service) -> None:
    created = await service.engine.clients.create("acme")
    await service.engine.store.update_client(created.record.id, {"disabled": True})
    assert (await token_response(service, created)).status_code == 401


async def token_response(service: Service, created: NewClient) -> httpx2.Response:
    return await service.http.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": created.record.id,
            "client_secret": created.client_secret,
        },
    )


# -- scopes -------------------------------------------------------------------------------

ROUTES_BY_SCOPE = {
    "zap": [
        ("GET", "/v2/apps", None),
        ("GET", "/v2/actions?app=testkit", None),
        ("POST", "/v2/actions/testkit.noop/inputs", {"data": {}}),
        ("POST", "/v2/actions/testkit.noop/inputs/color/choices", {"data": {}}),
        ("POST", "/v2/actions/testkit.noop/outputs", {"data": {}}),
    ],
    "action:run": [
        ("POST", "/v2/action-runs", {"data": {"action": "testkit.noop", "inputs": {}}}),
        ("GET", "/v2/action-runs/00000000-0000-0000-0000-000000000000", None),
        ("POST", "/v2/action-runs/00000000-0000-0000-0000-000000000000/cancel", None),
        ("POST", "/v2/actions/testkit.noop/test", {"data": {"inputs": {}}}),
    ],
    "authentication": [
        ("GET", "/v2/authentications", None),
        ("GET", "/v2/authentications/00000000-0000-0000-0000-000000000000", None),
    ],
    "authentication:write": [
        (
            "POST",
            "/v2/authentications",
            {"data": {"app": "secretive", "title": "t", "authentication_fields": {"api_key": "k"}}},
        ),
    ],
}


@pytest.mark.parametrize("scope", sorted(ROUTES_BY_SCOPE))
async def test_every_route_needs_its_scope(service: Service, scope: str) -> None:
    others = [name for name in ROUTES_BY_SCOPE if name != scope]
    limited = await service.new_client(f"without-{scope.replace(':', '-')}", token_scopes=others)
    for method, path, body in ROUTES_BY_SCOPE[scope]:
        response = await service.http.request(method, path, json=body, headers=limited.headers)
        assert response.status_code == 403, (method, path, response.text)
        assert scope in response.json()["errors"][0]["detail"]


# -- tenancy ------------------------------------------------------------------------------


async def test_one_client_never_sees_anothers_runs_or_accounts(service: Service) -> None:
    acme = await service.new_client("acme")
    globex = await service.new_client("globex")
    secret = "sk-acme-only"
    authentication = await acme.connect("secretive", {"api_key": secret}, title="Acme account")
    run_id = await acme.run("testkit.sleep", {"seconds": 5})

    for response in (
        await globex.get(f"/v2/action-runs/{run_id}"),
        await globex.get(f"/v2/action-runs/{run_id}", params={"wait_seconds": 1}),
        await globex.post(f"/v2/action-runs/{run_id}/cancel"),
        await globex.get(f"/v2/authentications/{authentication}"),
    ):
        assert response.status_code == 404, response.text
        assert run_id not in response.text or "No action run" in response.text
        assert "Acme account" not in response.text

    borrowed = await globex.post(
        "/v2/action-runs",
        json={"data": {"action": "secretive.echo", "authentication": authentication, "inputs": {}}},
    )
    assert borrowed.status_code == 422
    assert borrowed.json()["errors"][0]["source"] == {"pointer": "/data/authentication"}
    listed = await globex.get("/v2/authentications")
    assert listed.json()["data"] == []
    # The run is untouched by the other client's cancel.
    assert (await acme.get(f"/v2/action-runs/{run_id}")).json()["data"]["status"] in (
        "queued",
        "running",
    )
    await acme.post(f"/v2/action-runs/{run_id}/cancel")


async def test_idempotency_keys_do_not_cross_clients(service: Service) -> None:
    acme = await service.new_client("acme")
    globex = await service.new_client("globex")
    body = {"data": {"action": "testkit.noop", "inputs": {"value": "a"}}}
    key = {"Idempotency-Key": "order-1"}
    first = await acme.post("/v2/action-runs", json=body, headers=key)
    second = await globex.post("/v2/action-runs", json=body, headers=key)
    assert first.json()["data"]["id"] != second.json()["data"]["id"]


async def test_an_allowlist_restricts_a_client_to_some_apps(service: Service) -> None:
    created = await service.engine.clients.create("acme")
    await service.engine.clients.allow_apps("acme", ["webhooks"])
    token = (await token_response(service, created)).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}

    apps = await service.http.get("/v2/apps", headers=headers)
    assert [app["slug"] for app in apps.json()["data"]] == ["webhooks"]
    for response in (
        await service.http.get("/v2/actions", params={"app": "testkit"}, headers=headers),
        await service.http.post(
            "/v2/action-runs",
            json={"data": {"action": "testkit.noop", "inputs": {}}},
            headers=headers,
        ),
    ):
        assert response.status_code == 403, response.text
        assert_error_shape(response.json(), 403)


# -- rate limits and bodies ---------------------------------------------------------------


async def test_rate_limits_are_per_client(start_service: ServiceFactory) -> None:
    service = await start_service(rate_limit_per_minute=3)
    acme = await service.new_client("acme")
    globex = await service.new_client("globex")
    answers = [(await acme.get("/v2/apps")).status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    limited = await acme.get("/v2/apps")
    assert limited.headers["X-RateLimit-Limit"] == "3"
    assert limited.headers["X-RateLimit-Remaining"] == "0"
    assert int(limited.headers["Retry-After"]) >= 1
    assert_error_shape(limited.json(), 429)
    assert (await globex.get("/v2/apps")).status_code == 200


async def test_bodies_that_are_too_large_malformed_or_unexpected(
    start_service: ServiceFactory,
) -> None:
    service = await start_service(max_body_bytes=2048)
    acme = await service.new_client("acme")
    cases = [
        ({"content": b"x" * 4096, "headers": {"Content-Type": "application/json"}}, 413),
        ({"content": b'{"data": ', "headers": {"Content-Type": "application/json"}}, 400),
        ({"content": b"data=1", "headers": {"Content-Type": "text/plain"}}, 400),
        ({"json": {"data": {"action": "testkit.noop", "inputs": {}, "extra": 1}}}, 422),
        ({"json": {"action": "testkit.noop"}}, 422),
        ({"json": []}, 422),
    ]
    for request, status in cases:
        response = await acme.post("/v2/action-runs", **request)
        assert response.status_code == status, (request, response.text)
        assert response.json()["errors"][0]["status"] == status
    unexpected = await acme.post(
        "/v2/action-runs", json={"data": {"action": "testkit.noop", "inputs": {}, "extra": 1}}
    )
    assert unexpected.json()["errors"][0]["source"] == {"pointer": "/data/extra"}
