"""Who may do what: tokens, scopes, tenancy between clients, app allowlists, body limits."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx2
import jwt
import pytest

from actionruns.api.security import TOKEN_PURPOSE
from actionruns.engine.clients import NewClient
from tests.conftest import ApiClient, Service, ServiceFactory


def assert_error_shape(body: dict[str, Any], status: int) -> None:
    [error] = body["errors"]
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


async def test_bad_token_requests(service: Service) -> None:
    created = await service.engine.clients.create("acme")
    good = {"client_id": created.record.id, "client_secret": created.client_secret}
    for form, status, error in [
        ({"grant_type": "password"} | good, 400, "unsupported_grant_type"),
        (
            {"grant_type": "client_credentials"} | good | {"client_secret": "x"},
            401,
            "invalid_client",
        ),
        (
            {"grant_type": "client_credentials", "client_id": "cl_nobody", "client_secret": "x"},
            401,
            "invalid_client",
        ),
        ({"grant_type": "client_credentials"}, 401, "invalid_client"),
        ({"grant_type": "client_credentials", "scope": "admin"} | good, 400, "invalid_scope"),
    ]:
        response = await service.http.post("/oauth/token", data=form)

        assert response.status_code == status, form
        assert response.json()["error"] == error
        assert_error_shape(response.json(), status)
        assert response.json()["errors"][0]["code"] == error
        assert response.headers["Cache-Control"] == "no-store"
        assert created.client_secret not in response.text
        assert "access_token" not in response.json()
        if status == 401:
            assert response.headers["WWW-Authenticate"].startswith("Basic")
        else:
            assert "WWW-Authenticate" not in response.headers


async def test_credentials_both_in_the_body_and_with_basic_are_refused(service: Service) -> None:
    created = await service.engine.clients.create("acme")
    basic = base64.b64encode(f"{created.record.id}:{created.client_secret}".encode()).decode()
    response = await service.http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": created.record.id},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


async def test_the_token_request_must_be_a_form(service: Service) -> None:
    created = await service.engine.clients.create("acme")
    form = {
        "grant_type": "client_credentials",
        "client_id": created.record.id,
        "client_secret": created.client_secret,
    }
    as_json = await service.http.post("/oauth/token", json=form)
    assert as_json.status_code == 400
    assert as_json.json()["error"] == "invalid_request"
    assert_error_shape(as_json.json(), 400)
    wrong_basic = base64.b64encode(f"{created.record.id}:nope".encode()).decode()
    refused = await service.http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {wrong_basic}"},
    )
    assert refused.status_code == 401
    assert "access_token" not in refused.json()


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


BAD_AUTHORIZATIONS = [
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
    # PyJWT's annotation of ``key`` leaves out None, the only key that alg "none" accepts.
    "Bearer " + jwt.encode({"sub": "cl_x", "exp": 9999999999}, key=None, algorithm="none"),  # type: ignore[arg-type]
]


async def test_requests_without_a_valid_token_get_401(service: Service) -> None:
    for authorization in BAD_AUTHORIZATIONS:
        headers = {"Authorization": authorization} if authorization else {}
        for method, path, body in [
            ("GET", "/v2/apps", None),
            ("POST", "/v2/action-runs", {"data": {"action": "testkit.noop", "inputs": {}}}),
            ("GET", "/v2/authentications", None),
        ]:
            response = await service.http.request(method, path, json=body, headers=headers)
            assert response.status_code == 401, (authorization, path)
            assert response.headers["WWW-Authenticate"] == "Bearer"
            assert_error_shape(response.json(), 401)
            assert "data" not in response.json()
    assert await service.stored_runs() == 0


async def test_the_openapi_document_says_which_operations_take_a_token(
    service: Service,
) -> None:
    document = (await service.http.get("/openapi.json")).json()
    flows = document["components"]["securitySchemes"]["OAuth2"]["flows"]
    assert flows["clientCredentials"]["tokenUrl"] == "/oauth/token"
    operations = {
        (path, method): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }
    # Any one of the scopes will do: each is a requirement of its own.
    for secured, scopes in [
        (("/v2/action-runs", "post"), ["action:run"]),
        (("/v2/action-runs/{run_id}", "get"), ["action:run"]),
        (("/v2/authentications", "post"), ["authentication:write", "connection:write"]),
    ]:
        assert operations[secured]["security"] == [{"OAuth2": [scope]} for scope in scopes]
    # Discovery takes a token or, as in Zapier's API, a client_id alone.
    assert operations[("/v2/apps", "get")]["security"] == [{"OAuth2": ["zap"]}, {"ClientID": []}]
    assert "security" not in operations[("/oauth/token", "post")]


def forged(service: Service, token: str, **changes: object) -> str:
    """``token`` with some claims changed (None drops one), signed with the service's key."""
    claims = jwt.decode(token, options={"verify_signature": False})
    for name, value in changes.items():
        if value is None:
            claims.pop(name, None)
        else:
            claims[name] = value
    key_id = jwt.get_unverified_header(token)["kid"]
    _, key = service.engine.vault.derived_key(TOKEN_PURPOSE, key_id)
    return jwt.encode(claims, key, algorithm="HS256", headers={"kid": key_id})


async def test_tokens_signed_with_the_right_key_but_wrong_claims_get_401(
    service: Service, acme: ApiClient
) -> None:
    for changes in (
        {"iss": "https://someone-else.example"},
        {"sub": "cl_nobody"},
        {"iat": None},
        {"exp": None},
    ):
        token = forged(service, acme.token, **changes)
        response = await service.http.get("/v2/apps", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, (changes, response.text)
        assert response.headers["WWW-Authenticate"] == "Bearer"
    # The same forging with nothing changed is accepted: the refusals are the claims'.
    assert (await acme.get("/v2/apps")).status_code == 200


async def test_a_token_under_an_unknown_key_id_or_tampered_with_gets_401(
    service: Service, acme: ApiClient
) -> None:
    header, _, signature = acme.token.split(".")
    claims = jwt.decode(acme.token, options={"verify_signature": False})
    widened = base64.urlsafe_b64encode(json.dumps(claims | {"scope": "zap admin"}).encode())
    tampered = f"{header}.{widened.decode().rstrip('=')}.{signature}"
    unknown_kid = jwt.encode(claims, "x" * 32, algorithm="HS256", headers={"kid": "no-such-key"})
    for token in (tampered, unknown_kid):
        response = await service.http.get("/v2/apps", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, token


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


@pytest.mark.parametrize("how", ["disabled", "deleted"])
async def test_the_tokens_of_a_disabled_or_deleted_client_stop_working(
    service: Service, how: str
) -> None:
    # Clients are re-read every few seconds; these tokens were never used, so nothing is cached.
    client = await service.new_client("acme")
    if how == "disabled":
        await service.engine.store.update_client(client.client_id, {"disabled": True})
    else:
        assert await service.engine.store.delete_client(client.client_id)
    response = await client.get("/v2/apps")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert "no longer exists" in response.json()["errors"][0]["detail"]


async def test_a_token_holds_no_more_than_its_client_may_have_now(service: Service) -> None:
    client = await service.new_client("acme")
    await service.engine.store.update_client(client.client_id, {"scopes": ["zap"]})
    assert (await client.get("/v2/apps")).status_code == 200
    response = await client.post(
        "/v2/action-runs", json={"data": {"action": "testkit.noop", "inputs": {}}}
    )
    assert response.status_code == 403
    assert "action:run" in response.json()["errors"][0]["detail"]


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

# A request: its method, path and JSON body (None: no body).
Route = tuple[str, str, dict[str, Any] | None]

ROUTES_BY_SCOPE: dict[str, list[Route]] = {
    "zap": [
        ("GET", "/v2/apps", None),
        ("GET", "/v2/actions?app=testkit", None),
        ("POST", "/v2/actions/testkit.noop/inputs", {"data": {}}),
        ("POST", "/v2/actions/testkit.noop/inputs/color/choices", {"data": {}}),
        ("POST", "/v2/actions/testkit.noop/outputs", {"data": {}}),
    ],
    "action:run": [
        ("POST", "/v2/action-runs", {"data": {"action": "testkit.noop", "inputs": {}}}),
        ("GET", "/v2/action-runs", None),
        ("GET", "/v2/action-runs/00000000-0000-0000-0000-000000000000", None),
        ("GET", "/v2/action-runs/00000000-0000-0000-0000-000000000000/attempts", None),
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


# On both databases: the owner of a run or an account is checked on the row read by its id.
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
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
    assert borrowed.status_code == 400
    assert borrowed.json()["errors"][0]["source"] == {"pointer": "/data/authentication"}
    listed = await globex.get("/v2/authentications")
    assert listed.json()["data"] == [] and listed.json()["meta"]["count"] == 0
    own = await acme.get("/v2/authentications")
    assert [item["id"] for item in own.json()["data"]] == [authentication]

    # Discovery and tests with another client's account: not found, and nothing of it shown.
    for path in (
        "/v2/actions/secretive.echo/inputs",
        "/v2/actions/secretive.echo/outputs",
        "/v2/actions/secretive.echo/test",
    ):
        response = await globex.post(path, json={"data": {"authentication": authentication}})
        if path.endswith("/outputs"):
            # Outputs are the action's declaration; they do not open the authentication.
            assert response.status_code == 200
            continue
        assert response.status_code == 404, (path, response.text)
        assert secret not in response.text and "Acme account" not in response.text
    dry = await globex.post(
        "/v2/action-runs",
        json={
            "data": {
                "action": "secretive.echo",
                "authentication": authentication,
                "inputs": {},
                "dry_run": True,
            }
        },
    )
    assert dry.status_code == 400
    assert secret not in dry.text and "authentication_label" not in dry.text
    # The run is untouched by the other client's cancel.
    assert (await acme.get(f"/v2/action-runs/{run_id}")).json()["data"]["status"] in (
        "queued",
        "running",
    )
    await acme.post(f"/v2/action-runs/{run_id}/cancel")


async def test_another_clients_idempotency_key_neither_replays_nor_reveals_a_run(
    service: Service,
) -> None:
    acme = await service.new_client("acme")
    globex = await service.new_client("globex")
    key = {"Idempotency-Key": "order-1"}
    first = await acme.post(
        "/v2/action-runs",
        json={"data": {"action": "testkit.noop", "inputs": {"value": "a"}}},
        headers=key,
    )
    # A different body under the same key: for acme a conflict naming its run; for globex,
    # whose key it is not, simply a new run, never the conflict that would name acme's run.
    other_body = {"data": {"action": "testkit.noop", "inputs": {"value": "b"}}}
    theirs = await globex.post("/v2/action-runs", json=other_body, headers=key)
    assert theirs.status_code == 200, theirs.text
    assert "Idempotent-Replayed" not in theirs.headers
    acme_run = first.json()["data"]["id"]
    assert theirs.json()["data"]["id"] != acme_run
    assert acme_run not in theirs.text

    replay = await acme.post(
        "/v2/action-runs",
        json={"data": {"action": "testkit.noop", "inputs": {"value": "a"}}},
        headers=key,
    )
    assert replay.json()["data"]["id"] == acme_run
    assert replay.headers["Idempotent-Replayed"] == "true"
    conflict = await acme.post("/v2/action-runs", json=other_body, headers=key)
    assert conflict.status_code == 400
    assert conflict.json()["errors"][0]["meta"] == {"run": acme_run}


async def test_an_allowlist_restricts_a_client_to_some_apps(service: Service) -> None:
    created = await service.engine.clients.create("acme")
    await service.engine.clients.allow_apps("acme", ["webhooks"])
    token = (await token_response(service, created)).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}

    apps = await service.http.get("/v2/apps", headers=headers)
    assert [app["slug"] for app in apps.json()["data"]] == ["webhooks"]
    assert apps.json()["meta"]["count"] == 1
    by_ids = await service.http.get("/v2/apps", params={"ids": "testkit"}, headers=headers)
    assert by_ids.json()["data"] == []
    allowed = await service.http.get("/v2/actions", params={"app": "webhooks"}, headers=headers)
    assert allowed.status_code == 200 and allowed.json()["data"]

    outside_the_allowlist: list[Route] = [
        ("GET", "/v2/actions?app=testkit", None),
        ("POST", "/v2/actions/testkit.noop/inputs", {"data": {}}),
        ("POST", "/v2/actions/testkit.noop/inputs/color/choices", {"data": {}}),
        ("POST", "/v2/actions/testkit.noop/outputs", {"data": {}}),
        ("POST", "/v2/actions/testkit.noop/test", {"data": {}}),
        ("POST", "/v2/action-runs", {"data": {"action": "testkit.noop", "inputs": {}}}),
        (
            "POST",
            "/v2/action-runs",
            {"data": {"action": "testkit.noop", "inputs": {}, "dry_run": True}},
        ),
        (
            "POST",
            "/v2/authentications",
            {"data": {"app": "secretive", "authentication_fields": {"api_key": "k"}}},
        ),
        ("GET", "/v2/authentications?app=secretive", None),
    ]
    for method, path, body in outside_the_allowlist:
        response = await service.http.request(method, path, json=body, headers=headers)
        assert response.status_code == 403, (method, path, response.text)
        assert_error_shape(response.json(), 403)
        assert "testkit" in response.text or "secretive" in response.text
    assert await service.stored_runs() == 0


# -- rate limits and bodies ---------------------------------------------------------------


async def test_rate_limits_are_per_client(start_service: ServiceFactory) -> None:
    service = await start_service(rate_limit_per_minute=3)
    acme = await service.new_client("acme")
    globex = await service.new_client("globex")
    answers = [await acme.get("/v2/apps") for _ in range(4)]
    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    assert [answer.headers["X-RateLimit-Remaining"] for answer in answers] == ["2", "1", "0", "0"]
    assert "Retry-After" not in answers[0].headers
    limited = await acme.post(
        "/v2/action-runs", json={"data": {"action": "testkit.noop", "inputs": {}}}
    )
    assert limited.status_code == 429  # every route draws on the same budget
    assert limited.headers["X-RateLimit-Limit"] == "3"
    assert limited.headers["X-RateLimit-Remaining"] == "0"
    now = time.time()
    reset = int(limited.headers["X-RateLimit-Reset"])
    assert now - 1 <= reset <= now + 61
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert_error_shape(limited.json(), 429)
    assert await service.stored_runs() == 0  # the refused run was not stored

    other = await globex.get("/v2/apps")
    assert other.status_code == 200
    assert other.headers["X-RateLimit-Remaining"] == "2"


async def test_every_answer_that_drew_on_the_limit_says_what_is_left(
    service: Service, acme: ApiClient
) -> None:
    """Routes that build their own response (runs, a new authentication, a 204) and errors
    found after the token was read carry the rate limit's headers as the others do."""
    run_id = await acme.run("testkit.sleep", {"seconds": 5, "key": "rate-headers"})
    auth = await acme.connect("secretive", {"api_key": "k"})
    answers = [
        await acme.get("/v2/apps"),
        await acme.post("/v2/action-runs", json={"data": {"action": "testkit.noop"}}),
        await acme.get(f"/v2/action-runs/{run_id}"),
        await acme.get(f"/v2/action-runs/{run_id}", params={"wait_seconds": 0.05}),  # 202
        await acme.get("/v2/action-runs"),
        await acme.get(f"/v2/action-runs/{run_id}/attempts"),
        await acme.post(f"/v2/action-runs/{run_id}/cancel"),
        await service.http.delete(f"/v2/authentications/{auth}", headers=acme.headers),
        await service.http.delete("/v2/authentication-events/subscription", headers=acme.headers),
        await acme.get("/v2/action-runs/run_nope"),  # 404
        await acme.post("/v2/action-runs", json={"data": {"action": "testkit.nope"}}),
    ]
    statuses = [answer.status_code for answer in answers]
    assert statuses == [200, 200, 200, 202, 200, 200, 202, 204, 204, 404, 400]
    remaining = [int(answer.headers["X-RateLimit-Remaining"]) for answer in answers]
    assert remaining == sorted(remaining, reverse=True) and len(set(remaining)) == len(answers)
    assert all(answer.headers["X-RateLimit-Limit"] == "6000" for answer in answers)


async def test_bodies_that_are_too_large_malformed_or_unexpected(
    start_service: ServiceFactory,
) -> None:
    service = await start_service(max_body_bytes=2048)
    acme = await service.new_client("acme")
    cases: list[tuple[dict[str, Any], int]] = [
        ({"content": b"x" * 4096, "headers": {"Content-Type": "application/json"}}, 413),
        ({"content": b'{"data": ', "headers": {"Content-Type": "application/json"}}, 400),
        ({"content": b"data=1", "headers": {"Content-Type": "text/plain"}}, 400),
        ({"json": {"data": {"action": 7, "inputs": {}}}}, 400),
        ({"json": {"input": {}}}, 400),
        ({"json": []}, 400),
    ]
    for request, status in cases:
        response = await acme.post("/v2/action-runs", **request)
        assert response.status_code == status, (request, response.text)
        assert response.json()["errors"][0]["status"] == status
    # Wrong types are refused where they are; unknown fields are ignored, as Zapier does.
    for path, body, pointer in [
        ("/v2/actions/testkit.noop/inputs", {"data": {"inputs": "text"}}, "/data/inputs"),
        ("/v2/authentications", {"data": {"app": ["secretive"]}}, "/data/app"),
        (
            "/v2/action-runs",
            {"data": {"action": "testkit.noop", "dry_run": "maybe"}},
            "/data/dry_run",
        ),
        ("/v2/action-runs", {"action": "testkit.noop", "input": [1]}, "/input"),
    ]:
        response = await acme.post(path, json=body)
        assert response.status_code == 400, (path, response.text)
        assert [error["source"] for error in response.json()["errors"]] == [{"pointer": pointer}]
    assert await service.stored_runs() == 0
    for path, body in [
        ("/v2/actions/testkit.noop/inputs", {"data": {"inputs": {}, "surprise": True}}),
        ("/v2/action-runs", {"data": {"action": "testkit.noop", "extra": 1}, "meta": {}}),
    ]:
        response = await acme.post(path, json=body)
        assert response.status_code == 200, (path, response.text)


async def test_a_streamed_body_over_the_limit_is_a_413_too(start_service: ServiceFactory) -> None:
    service = await start_service(max_body_bytes=2048)
    acme = await service.new_client("acme")

    async def chunks() -> AsyncIterator[bytes]:
        # No Content-Length: the limit is found while the body is being read.
        yield b'{"data": {"action": "testkit.noop", "inputs": {"value": "'
        for _ in range(8):
            yield b"x" * 512
        yield b'"}}}'

    for path, content_type in [
        ("/v2/action-runs", "application/json"),
        ("/v2/authentications", "application/json"),
        ("/oauth/token", "application/x-www-form-urlencoded"),
    ]:
        response = await acme.post(path, content=chunks(), headers={"Content-Type": content_type})
        assert response.status_code == 413, (path, response.text)
        assert_error_shape(response.json(), 413)
        assert "2048" in response.json()["errors"][0]["detail"]
    assert await service.stored_runs() == 0
