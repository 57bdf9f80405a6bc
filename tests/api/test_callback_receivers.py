"""Receivers as a Zapier partner writes them: a run callback checked with PyJWT's PyJWKClient
against /.well-known/jwks.json, an authentication event checked with the standardwebhooks
package; a 4xx answer is not retried, a 5xx is."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from pytest_httpserver import HTTPServer
from standardwebhooks import Webhook, WebhookVerificationError
from werkzeug import Request, Response

from actionruns.principal import Principal
from tests.conftest import PUBLIC_NAME, ApiClient, Service, ServiceFactory


def answering(httpserver: HTTPServer, path: str, statuses: Iterator[int]) -> list[Request]:
    received: list[Request] = []

    def handler(request: Request) -> Response:
        received.append(request)
        return Response("ok", status=next(statuses))

    httpserver.expect_request(path, method="POST").respond_with_handler(handler)
    return received


async def settled(service: Service, run_id: str) -> str:
    """The run's callback status once no delivery is owed any more."""
    for _ in range(400):
        record = await service.engine.store.get_run(run_id)
        if record is not None and record.callback_status in ("delivered", "failed"):
            return record.callback_status
        await asyncio.sleep(0.05)
    raise AssertionError("the callback never settled")


def verify_callback(jwks: jwt.PyJWKClient, issuer: str, request: Request) -> dict[str, Any]:
    """The partner's check, as docs/zapier-compatibility.md shows it."""
    token = request.headers["Zapier-Callback-Signature"]
    key = jwks.get_signing_key_from_jwt(token)
    claims: dict[str, Any] = jwt.decode(
        token,
        key.key,
        algorithms=["RS256"],
        issuer=issuer,
        options={"require": ["iat", "exp", "run_id", "body_sha256"]},
    )
    assert claims["body_sha256"] == hashlib.sha256(request.get_data()).hexdigest()
    return claims


async def test_a_callback_verifies_against_the_jwks_and_after_a_key_rotation(
    service: Service, acme: ApiClient, httpserver: HTTPServer
) -> None:
    received = answering(httpserver, "/hooks/runs", iter([200] * 10))
    url = httpserver.url_for("/hooks/runs")
    jwks = jwt.PyJWKClient(f"{service.base_url}/.well-known/jwks.json", cache_keys=False)
    issuer = service.engine.settings.token_issuer

    first = await acme.run("testkit.noop", {"value": "v"}, callback_url=url)
    assert await settled(service, first) == "delivered"
    # PyJWKClient fetches with urllib: off the event loop the service runs on.
    claims = await asyncio.to_thread(verify_callback, jwks, issuer, received[0])
    assert claims["run_id"] == first == json.loads(received[0].get_data())["data"]["id"]
    assert claims["exp"] - claims["iat"] == 300
    tampered = Request.from_values(
        data=received[0].get_data() + b" ", headers=dict(received[0].headers)
    )
    with pytest.raises(AssertionError):  # the body hash no longer matches
        await asyncio.to_thread(verify_callback, jwks, issuer, tampered)

    old_kid = jwt.get_unverified_header(received[0].headers["Zapier-Callback-Signature"])["kid"]
    await service.engine.signer.rotate()
    # Published at once, signing a minute later: receivers' caches fetch it meanwhile.
    published = (await service.http.get("/.well-known/jwks.json")).json()["keys"]
    assert len(published) == 2
    soon = await acme.run("testkit.noop", {}, callback_url=url)
    assert await settled(service, soon) == "delivered"
    assert jwt.get_unverified_header(received[1].headers["Zapier-Callback-Signature"])["kid"] == (
        old_kid
    )
    service.clock.advance(61)
    later = await acme.run("testkit.noop", {}, callback_url=url)
    assert await settled(service, later) == "delivered"
    header = jwt.get_unverified_header(received[2].headers["Zapier-Callback-Signature"])
    assert header["kid"] != old_kid and header["alg"] == "RS256"
    fresh = jwt.PyJWKClient(f"{service.base_url}/.well-known/jwks.json")
    claims = await asyncio.to_thread(verify_callback, fresh, issuer, received[2])
    assert claims["run_id"] == later
    published = (await service.http.get("/.well-known/jwks.json")).json()["keys"]
    assert {key["kid"] for key in published} == {old_kid, header["kid"]}  # the old one a day
    assert all("d" not in key and key["kty"] == "RSA" for key in published)


async def test_a_4xx_answer_is_not_retried_a_5xx_is_up_to_three_attempts(
    service: Service, acme: ApiClient, httpserver: HTTPServer
) -> None:
    refused = answering(httpserver, "/refuses", iter([400, 200]))
    failing = answering(httpserver, "/fails", iter([503, 500, 502, 200]))
    recovers = answering(httpserver, "/recovers", iter([503, 200]))
    runs = {
        path: await acme.run("testkit.noop", {}, callback_url=httpserver.url_for(path))
        for path in ("/refuses", "/fails", "/recovers")
    }
    assert await settled(service, runs["/refuses"]) == "failed"
    assert await settled(service, runs["/fails"]) == "failed"
    assert await settled(service, runs["/recovers"]) == "delivered"
    assert (len(refused), len(failing), len(recovers)) == (1, 3, 2)
    # Idempotent by run id: every attempt carries the same run and body.
    assert {request.get_data() for request in failing} == {failing[0].get_data()}


async def test_callback_urls_must_be_https_on_a_public_address_unless_allowed(
    start_service: ServiceFactory,
) -> None:
    strict = await start_service(outbound_allow=())
    acme = await strict.new_client("acme")
    for url, reason in [
        ("http://example.com/hook", "https://"),
        ("https://127.0.0.1/hook", "not a public address"),
        ("https://10.1.2.3/hook", "not a public address"),
        ("https://[::1]:8443/hook", "not a public address"),
        ("https://localhost/hook", "not a public address"),
        ("http://127.0.0.1:9/hook", "https://"),
        ("https://example.com/" + "x" * 2048, "2048"),
    ]:
        for body in (
            {"data": {"action": "testkit.noop", "callback_url": url}},
            {"action": "testkit.noop", "callback_url": url},
        ):
            response = await acme.post("/v2/action-runs", json=body)
            assert response.status_code == 400, (url, response.text)
            [error] = response.json()["errors"]
            assert reason in error["detail"], (url, error)
    assert await strict.stored_runs() == 0
    # A public name is accepted (a dry run: nothing may be sent to a public address).
    accepted = await acme.post(
        "/v2/action-runs",
        json={
            "action": "testkit.noop",
            "callback_url": f"https://{PUBLIC_NAME}/h",
            "dry_run": True,
        },
    )
    assert accepted.status_code == 200, accepted.text
    # The operator allowed loopback (as the test services do): http:// to it is fine.
    allowing = await start_service()
    other = await allowing.new_client("other")
    for url in ("http://127.0.0.1:9/hook", "http://localhost:9/hook", "https://[::1]:9/h"):
        response = await other.post(
            "/v2/action-runs", json={"action": "testkit.noop", "callback_url": url}
        )
        assert response.status_code == 200, (url, response.text)
    refused = await other.service.http.put(
        "/v2/authentication-events/subscription",
        headers=other.headers,
        json={"data": {"url": "http://203.0.113.9/events"}},
    )
    assert refused.status_code == 400 and "https://" in refused.json()["errors"][0]["detail"]


async def test_authentication_events_verify_with_standard_webhooks(
    service: Service, acme: ApiClient, httpserver: HTTPServer
) -> None:
    received = answering(httpserver, "/events", iter([503, 200, 404, 404]))
    subscribed = await service.http.put(
        "/v2/authentication-events/subscription",
        headers=acme.headers,
        json={"data": {"url": httpserver.url_for("/events")}},
    )
    assert subscribed.status_code == 200, subscribed.text
    authentication = await acme.connect("secretive", {"api_key": "k"})
    await service.engine.connections.mark_expired(authentication)
    for _ in range(200):
        if len(received) == 2:
            break
        await asyncio.sleep(0.05)
    assert len(received) == 2  # a 503, then delivered
    receiver = Webhook(acme.signing_secret)
    for request in received:
        event = receiver.verify(request.get_data(), dict(request.headers))
        assert event["type"] == "authentication.expired"
        assert event["data"]["id"] == authentication
    # One event, one id, on every attempt.
    assert received[0].headers["webhook-id"] == received[1].headers["webhook-id"]
    with pytest.raises(WebhookVerificationError):
        receiver.verify(received[1].get_data() + b" ", dict(received[1].headers))
    assert acme.signing_secret.startswith("whsec_")

    # The connection works again: authentication.recovered, answered 404 and not retried.
    partner = Principal(acme.client_id, frozenset({"authentication"}))
    await service.engine.connections.test(partner, authentication)
    for _ in range(40):
        await asyncio.sleep(0.05)
    assert len(received) == 3
    assert receiver.verify(received[2].get_data(), dict(received[2].headers))["type"] == (
        "authentication.recovered"
    )
