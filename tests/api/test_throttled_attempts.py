"""Attempts that cost someone else are limited: failed client authentications per client id
and per source address, and Connect page posts (each a connection test against a third
party) per link and per address; past the limit, 429 with Retry-After."""

from __future__ import annotations

import time
import uuid
from urllib.parse import parse_qs, urlsplit

import httpx2
import jwt

from actionruns.engine.attempts import (
    CONNECT_POSTS_PER_TOKEN,
    TOKEN_FAILURES_PER_ADDRESS,
    TOKEN_FAILURES_PER_CLIENT,
    WINDOW_SECONDS,
)
from tests.api.test_end_users import assertion, exchange
from tests.conftest import ApiClient, Service, free_port


async def credentials(service: Service, client_id: str, secret: str) -> httpx2.Response:
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    return await service.http.post("/oauth/token", data=form)


def at_window_start(service: Service) -> None:
    """Moves the clock to just after a window starts: the limits count in fixed one-minute
    windows, and a busy machine could otherwise cross a window's end mid-test and reset it."""
    service.clock.advance(WINDOW_SECONDS - service.clock() % WINDOW_SECONDS + 0.5)


def assert_throttled(response: httpx2.Response) -> None:
    assert response.status_code == 429, response.text
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert response.json()["errors"][0]["status"] == 429


async def test_failed_client_authentications_are_limited_per_client_id(
    service: Service, acme: ApiClient
) -> None:
    at_window_start(service)
    for _ in range(TOKEN_FAILURES_PER_CLIENT.per_key):
        assert (await credentials(service, acme.client_id, "wrong")).status_code == 401
    # Even the right secret waits now: else guessing would go on, only its successes told.
    assert_throttled(await credentials(service, acme.client_id, acme.client_secret))
    globex = await service.engine.clients.create("globex")
    other = await credentials(service, globex.record.id, globex.client_secret)
    assert other.status_code == 200  # another client id from the same address still works
    service.clock.advance(60)  # the window is over
    assert (await credentials(service, acme.client_id, acme.client_secret)).status_code == 200


async def test_failed_client_authentications_are_limited_per_address(
    service: Service, acme: ApiClient
) -> None:
    at_window_start(service)
    for _ in range(TOKEN_FAILURES_PER_ADDRESS.per_key):
        assert (await credentials(service, f"cl_{uuid.uuid4().hex}", "x")).status_code == 401
    assert_throttled(await credentials(service, acme.client_id, acme.client_secret))
    # A refused subject token counts as a failed authentication too, and waits the same.
    assert_throttled(
        await exchange(service, assertion(service, acme, acme.signing_secret, "HS256"))
    )


async def test_a_subject_token_is_good_for_one_exchange(service: Service, acme: ApiClient) -> None:
    token = assertion(service, acme, acme.signing_secret, "HS256")
    assert (await exchange(service, token)).status_code == 200
    replayed = await exchange(service, token)
    assert replayed.status_code == 400, replayed.text
    assert "already used" in replayed.json()["error_description"]
    # Remembered per issuer: another client's token may carry the same jti.
    globex = await service.new_client("globex")
    jti = jwt.decode(token, options={"verify_signature": False})["jti"]
    theirs = assertion(service, globex, globex.signing_secret, "HS256", jti=jti)
    assert (await exchange(service, theirs)).status_code == 200
    without = await exchange(
        service, assertion(service, acme, acme.signing_secret, "HS256", jti=None)
    )
    assert without.status_code == 400 and "no jti claim" in without.json()["error_description"]
    long_lived = assertion(service, acme, acme.signing_secret, "HS256", exp=int(time.time()) + 3600)
    assert "within 5 minutes" in (await exchange(service, long_lived)).json()["error_description"]


async def test_connect_page_posts_are_limited_per_link(service: Service, acme: ApiClient) -> None:
    await service.engine.clients.set_redirect_uris("acme", ["https://app.example.com/back"])
    created = await acme.acting_for("alice").post(
        "/v2/connect-tokens",
        json={"data": {"app": "redis", "redirect_uri": "https://app.example.com/back"}},
    )
    url = urlsplit(created.json()["data"][0]["url"])
    form = {"token": parse_qs(url.query)["token"][0], "host": "127.0.0.1", "port": str(free_port())}
    at_window_start(service)
    for _ in range(CONNECT_POSTS_PER_TOKEN.per_key):
        assert (await service.http.post(url.path, data=form)).status_code == 422  # unreachable
    busy = await service.http.post(url.path, data=form)
    assert busy.status_code == 429 and 1 <= int(busy.headers["Retry-After"]) <= 60
    assert "too many tries" in busy.text
