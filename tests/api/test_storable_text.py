"""Text the service can neither store nor send back is refused where it comes in, on both
backends alike: a NUL in any text that becomes a column (ids, titles, URLs, query
parameters, form fields, JWT claims), a lone surrogate anywhere (JSON's \\ud800 escape), and a
host that is no host (IDNA refuses it) in the field that names it. No 500 on the way out
either: a body holding a lone surrogate is written with escapes."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest

from actionruns.api.responses import JSONResponse
from tests.conftest import ApiClient, ServiceFactory

BAD_HOSTS = ["a..b", "x" * 64 + ".example", "a\x00b", "exa\ud800mple.com", ".", "a b"]


def raw(body: str) -> dict[str, Any]:
    """A JSON body written by hand (with escapes httpx would not send)."""
    return {"content": body.encode(), "headers": {"Content-Type": "application/json"}}


@pytest.mark.parametrize("host", BAD_HOSTS)
async def test_a_host_that_is_no_host_is_refused_in_its_field(acme: ApiClient, host: str) -> None:
    fields = json.dumps({"host": host, "port": 6379})  # \ud800 travels as an escape
    body = f'{{"data": {{"app": "redis", "authentication_fields": {fields}}}}}'
    response = await acme.post("/v2/authentications", **raw(body))
    assert response.status_code == 400, response.text
    [error] = response.json()["errors"]
    pointer = error["source"]["pointer"]
    assert pointer.startswith("/data/authentication_fields"), error
    assert "host" in pointer or "/host" in error["detail"], error


async def test_a_url_field_with_a_host_that_is_no_host_is_refused(acme: ApiClient) -> None:
    response = await acme.post(
        "/v2/authentications",
        json={
            "data": {
                "app": "jira",
                "authentication_fields": {
                    "site": "https://a..b",
                    "email": "me@example.com",
                    "api_token": "t",
                },
            }
        },
    )
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["source"] == {"pointer": "/data/authentication_fields/site"}


async def test_the_connect_page_names_the_host_field(
    start_service: ServiceFactory,
) -> None:
    service = await start_service()
    acme = await service.new_client("acme")
    await service.engine.clients.set_redirect_uris("acme", ["https://app.example.com/back"])
    created = await acme.acting_for("alice").post(
        "/v2/connect-tokens",
        json={"data": {"app": "redis", "redirect_uri": "https://app.example.com/back"}},
    )
    url = urlsplit(created.json()["data"][0]["url"])
    token = parse_qs(url.query)["token"][0]
    for host in ("a..b", "a\x00b", "x" * 64 + ".example"):
        page = await service.http.post(url.path, data={"token": token, "host": host})
        assert page.status_code == 422, page.text
        assert 'id="field-host-error"' in page.text, page.text


async def test_lone_surrogates_are_refused_where_they_would_be_echoed(acme: ApiClient) -> None:
    for path, body in [
        (
            "/v2/action-runs",
            '{"data": {"action": "testkit.noop", "dry_run": true, '
            '"inputs": {"value": "a\\ud800"}}}',
        ),
        ("/v2/action-runs", '{"data": {"action": "testkit.noop", "inputs": {"\\udfff": 1}}}'),
        ("/v2/actions/testkit.noop/test", '{"data": {"inputs": {"value": "\\ud800"}}}'),
        ("/v2/actions/formatter.text/test", '{"data": {"inputs": {"input": "\\udc00x"}}}'),
        ("/v2/actions/testkit.noop/inputs", '{"data": {"inputs": {"value": ["\\ud83d"]}}}'),
    ]:
        response = await acme.post(path, **raw(body))
        assert response.status_code == 400, (path, response.text)
        assert "lone surrogate" in response.text


def test_a_body_with_a_lone_surrogate_is_written_with_escapes() -> None:
    body = JSONResponse({"data": {"echo": "a\ud800b", "ok": "é"}}).body
    assert json.loads(bytes(body)) == {"data": {"echo": "a\ud800b", "ok": "é"}}


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_nul_never_reaches_a_text_column_on_either_backend(
    start_service: ServiceFactory, backend: str
) -> None:
    service = await start_service(workers=False)
    acme = await service.new_client("acme")
    await service.engine.clients.set_redirect_uris("acme", ["https://app.example.com/back"])
    for response in (
        await acme.get("/v2/authentications", params={"end_user": "a\x00b"}),
        await acme.get("/v2/apps", params={"query": "\x00"}),
        await acme.get("/v2/actions", params={"app": "slack\x00"}),
    ):
        assert response.status_code == 400, response.text
        assert response.json()["errors"][0]["source"]["parameter"] in {"end_user", "query", "app"}
    for path, data, pointer in [
        (
            "/v2/connect-tokens",
            {
                "app": "redis",
                "redirect_uri": "https://app.example.com/back",
                "authentication": "a\x00b",
            },
            "/data/authentication",
        ),
        ("/v2/connect-tokens", {"app": "redis\x00", "redirect_uri": "x"}, "/data/app"),
    ]:
        response = await acme.post(path, json={"data": data})
        assert response.status_code == 400, (path, response.text)
        assert response.json()["errors"][0]["source"] == {"pointer": pointer}
    subscription = await service.http.put(
        "/v2/authentication-events/subscription",
        headers=acme.headers,
        json={"data": {"url": "https://app.example.com/\x00"}},
    )
    assert subscription.status_code == 400, subscription.text
    # The token endpoint: a form field, and a subject token whose iss holds a NUL.
    form = await service.http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": "cl\x00", "client_secret": "x"},
    )
    assert form.status_code == 400 and form.json()["error"] == "invalid_request", form.text
    now = int(time.time())
    claims = {"iss": "cl\x00", "sub": "alice", "aud": "x", "exp": now + 60, "jti": "j"}
    exchanged = await service.http.post(
        "/oauth/token",
        data={
            "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
            "subject_token": jwt.encode(claims, "k" * 32, algorithm="HS256"),
            "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
        },
    )
    assert exchanged.status_code == 400 and exchanged.json()["error"] == "invalid_grant"
    assert await service.stored_runs() == 0
