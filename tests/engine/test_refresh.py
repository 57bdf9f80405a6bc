"""OAuth2 tokens refreshed without anyone thinking about it: shortly before they expire, on
a 401, once for many concurrent runs (across worker processes too), and a refused refresh
expires the connection and tells the partner."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import structlog
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from actionruns.client.signatures import verify
from actionruns.principal import Principal
from tests.conftest import ApiClient, Service, ServiceFactory
from tests.processes import start_worker
from tests.vendors.oauth_provider import Provider, connect_end_user, start_provider


@pytest.fixture
async def provider() -> AsyncIterator[Provider]:
    async with start_provider() as running:
        yield running


async def connected(
    start_service: ServiceFactory, provider: Provider, **settings: Any
) -> tuple[Service, ApiClient, str]:
    """A service with the demo app and one end user's connection to the provider."""
    service = await start_service(apps=[provider.app()], **settings)
    alice, authentication = await connect_end_user(service, provider, "demo")
    return service, alice, authentication


def _principal(client_id: str, end_user: str) -> Principal:
    return Principal(client_id, frozenset({"authentication"}), None, end_user)


async def run_profile(alice: ApiClient, authentication: str) -> dict[str, Any]:
    return await alice.wait(await alice.run("demo.read_profile", {}, authentication))


async def test_a_token_about_to_expire_is_refreshed_first(
    start_service: ServiceFactory, provider: Provider
) -> None:
    service, alice, authentication = await connected(start_service, provider)
    assert (await run_profile(alice, authentication))["status"] == "success"
    assert provider.refresh_calls == 0

    service.clock.advance(3600 - 100)  # inside the five-minute margin
    run = await run_profile(alice, authentication)
    assert run["status"] == "success" and run["attempts"] == 1
    assert provider.refresh_calls == 1
    record = await service.engine.store.get_authentication(authentication)
    assert record is not None and record.access_expires_at is not None
    assert record.access_expires_at > service.clock() + 3000
    # The rotated refresh token was saved: the next refresh works with it.
    service.clock.advance(3600 - 100)
    assert (await run_profile(alice, authentication))["status"] == "success"
    assert provider.refresh_calls == 2


async def test_a_401_refreshes_once_and_retries(
    start_service: ServiceFactory, provider: Provider
) -> None:
    _, alice, authentication = await connected(start_service, provider)
    provider.revoke_access()
    with structlog.testing.capture_logs([structlog.contextvars.merge_contextvars]) as logged:
        run = await run_profile(alice, authentication)
    assert run["status"] == "success", run
    assert run["results"] == [{"id": "u-1", "name": "Ada Lovelace"}]
    assert provider.refresh_calls == 1
    # Logged under the run it happened in, and without a token.
    [refreshed] = [e for e in logged if e["event"] == "authentication_refreshed"]
    assert refreshed["authentication_id"] == authentication and refreshed["app"] == "demo"
    assert refreshed["run_id"] == run["id"] and refreshed["request_id"]
    assert not any(
        token in repr(logged) for token in [*provider.access_tokens, *provider.refresh_tokens]
    )


async def test_a_refused_refresh_expires_the_connection_and_tells_the_partner(
    start_service: ServiceFactory, provider: Provider, httpserver: HTTPServer
) -> None:
    events: list[dict[str, Any]] = []

    def receive(request: Request) -> Response:
        assert verify(
            signing_secret.encode(), request.headers["X-Actionruns-Signature"], request.get_data()
        )
        events.append(json.loads(request.get_data()))
        return Response("ok")

    httpserver.expect_request("/events", method="POST").respond_with_handler(receive)
    service, alice, authentication = await connected(start_service, provider)
    signing_secret = alice.signing_secret
    partner = alice.acting_for(None)  # the partner subscribes, not an end user
    subscribed = await service.http.put(
        "/v2/authentication-events/subscription",
        json={"data": {"url": httpserver.url_for("/events")}},
        headers=partner.headers,
    )
    assert subscribed.status_code == 200, subscribed.text

    provider.revoke_access()
    provider.reject_refresh = True
    with structlog.testing.capture_logs([structlog.contextvars.merge_contextvars]) as logged:
        run = await run_profile(alice, authentication)
    assert run["status"] == "error"
    expiries = [e for e in logged if e["event"] == "authentication_expired"]
    assert expiries and all(e["run_id"] == run["id"] for e in expiries), logged
    assert all(e["request_id"] for e in expiries), logged
    metrics = (await service.http.get("/metrics")).text
    assert 'actionruns_token_refreshes_total{app="demo",outcome="refused"} 1.0' in metrics
    assert expiries[0]["why"] == "refresh_refused"
    assert run["errors"][0]["code"] == "authentication"
    assert "reconnect" in run["errors"][0]["detail"]
    listed = (await alice.get(f"/v2/authentications/{authentication}")).json()["data"]
    assert listed["is_expired"] is True
    refused = await alice.post(
        "/v2/action-runs",
        json={"data": {"action": "demo.read_profile", "authentication": authentication}},
    )
    assert refused.status_code == 400 and refused.json()["errors"][0]["meta"]["is_expired"]
    for _ in range(100):
        if events:
            break
        await asyncio.sleep(0.05)
    assert [event["type"] for event in events] == ["authentication.expired"]
    assert events[0]["data"]["id"] == authentication and events[0]["data"]["end_user"] == "alice"
    assert "access_token" not in json.dumps(events) and "at-" not in json.dumps(events)

    # Reconnecting in place recovers it, and says so.
    provider.reject_refresh = False
    app = service.engine.registry.app("demo")
    assert app is not None
    fresh = {"access_token": next(iter(provider.access_tokens), "x"), "token_type": "Bearer"}
    provider.access_tokens[fresh["access_token"]] = 10**12
    await service.engine.connections.save(
        _principal(alice.client_id, "alice"), app, "Ada", fresh, replacing=authentication
    )
    assert (await run_profile(alice, authentication))["status"] == "success"
    for _ in range(100):
        if len(events) == 2:
            break
        await asyncio.sleep(0.05)
    assert events[1]["type"] == "authentication.recovered"


async def test_twenty_concurrent_runs_refresh_once(
    start_service: ServiceFactory, provider: Provider
) -> None:
    service, alice, authentication = await connected(start_service, provider, worker_concurrency=32)
    provider.refresh_delay = 0.3  # long enough that every run arrives while it is under way
    service.clock.advance(3600 - 60)
    runs = await asyncio.gather(
        *(alice.run("demo.read_profile", {}, authentication) for _ in range(20))
    )
    finished = await asyncio.gather(*(alice.wait(run_id) for run_id in runs))
    assert [run["status"] for run in finished] == ["success"] * 20, [
        run["errors"] for run in finished if run["errors"]
    ]
    assert provider.refresh_calls == 1


async def test_a_run_cancelled_during_its_refresh_keeps_the_rotated_token(
    start_service: ServiceFactory, provider: Provider
) -> None:
    # The provider rotates the refresh token as it answers: a refresh given up half way (the
    # run cancelled, its lease lost) would leave the connection with a spent refresh token.
    service, alice, authentication = await connected(start_service, provider)
    provider.refresh_gate = asyncio.Event()
    service.clock.advance(3600 - 60)
    first = await alice.run("demo.read_profile", {}, authentication)
    for _ in range(200):
        if provider.refresh_calls:
            break
        await asyncio.sleep(0.02)
    assert provider.refresh_calls == 1
    cancelled = await alice.post(f"/v2/action-runs/{first}/cancel")
    assert cancelled.status_code in (200, 202), cancelled.text
    assert (await alice.wait(first))["status"] == "error"
    provider.refresh_gate.set()
    for _ in range(200):
        record = await service.engine.store.get_authentication(authentication)
        assert record is not None
        if record.refresh_holder is None:
            break
        await asyncio.sleep(0.02)
    assert record is not None and record.access_expires_at is not None
    assert record.access_expires_at > service.clock() + 3000, "the refreshed token was not kept"
    assert (await run_profile(alice, authentication))["status"] == "success"
    assert provider.refresh_calls == 1


async def test_shutdown_lets_a_refresh_in_flight_keep_its_token_within_the_grace(
    start_service: ServiceFactory, provider: Provider
) -> None:
    service, _alice, authentication = await connected(start_service, provider, workers=False)
    connections = service.engine.connections
    app = service.engine.registry.app("demo")
    record = await service.engine.store.get_authentication(authentication)
    assert app is not None and record is not None
    stale = connections.credentials(record)["access_token"]
    provider.refresh_gate = asyncio.Event()
    caller = asyncio.create_task(connections.refresh(app, record, stale))
    while not provider.refresh_calls:
        await asyncio.sleep(0.01)
    caller.cancel()  # the run that asked is gone; the refresh goes on
    asyncio.get_running_loop().call_later(0.2, provider.refresh_gate.set)
    await connections.finish_refreshes(grace=10)
    kept = await service.engine.store.get_authentication(authentication)
    assert kept is not None and connections.credentials(kept)["access_token"] != stale
    assert kept.refresh_holder is None

    # Past the grace, a refresh still waiting is cancelled: shutdown is not held up.
    provider.refresh_gate = asyncio.Event()
    waiting = asyncio.create_task(
        connections.refresh(app, kept, connections.credentials(kept)["access_token"])
    )
    while provider.refresh_calls < 2:
        await asyncio.sleep(0.01)
    await connections.finish_refreshes(grace=0.1)
    with pytest.raises(asyncio.CancelledError):
        await waiting
    provider.refresh_gate.set()


async def test_two_worker_processes_refresh_once(
    start_service: ServiceFactory, provider: Provider
) -> None:
    # Real time in the workers: a margin longer than the token's life makes it due now.
    service, alice, authentication = await connected(
        start_service, provider, workers=False, refresh_margin_seconds=4000.0
    )
    # The refreshed token is not due again, not even for the background loop, which looks
    # twice the margin ahead (a worker starting late would otherwise refresh it once more).
    provider.access_seconds = 20_000
    # The refresh waits until both processes hold runs that need it.
    provider.refresh_gate = asyncio.Event()
    environment = {
        "ACTIONRUNS_CONNECTORS": "tests.vendors.oauth_provider:demo",
        "ACTIONRUNS_TEST_PROVIDER_URL": provider.base_url,
        "ACTIONRUNS_OUTBOUND_ALLOW": "127.0.0.0/8",
        "ACTIONRUNS_REFRESH_MARGIN_SECONDS": "4000",
    }
    workers = [start_worker(service, concurrency=8, **environment) for _ in range(2)]
    try:
        runs = [await alice.run("demo.read_profile", {}, authentication) for _ in range(16)]
        for _ in range(600):
            attempts = [await service.engine.store.list_attempts(run_id) for run_id in runs]
            if len({a.worker for attempt_list in attempts for a in attempt_list}) == 2:
                break
            await asyncio.sleep(0.05)
        provider.refresh_gate.set()
        finished = [await alice.wait(run_id, seconds=30) for run_id in runs]
    finally:
        provider.refresh_gate.set()
        for worker in workers:
            worker.terminate()
        for worker in workers:
            await asyncio.to_thread(worker.wait, 20)
    assert [run["status"] for run in finished] == ["success"] * 16, finished
    assert provider.refresh_calls == 1
    attempts = [await service.engine.store.list_attempts(run_id) for run_id in runs]
    assert len({attempt.worker for attempt_list in attempts for attempt in attempt_list}) == 2


async def test_the_background_loop_refreshes_due_and_idle_tokens_and_cools_down(
    start_service: ServiceFactory, provider: Provider
) -> None:
    service, alice, authentication = await connected(start_service, provider, workers=False)
    connections = service.engine.connections
    assert await connections.refresh_due() == 0  # nothing is due yet

    service.clock.advance(3600 - 100)  # about to expire
    assert await connections.refresh_due() == 1 and provider.refresh_calls == 1

    service.clock.advance(3600 - 100)
    provider.fail_refresh_status = 503
    assert await connections.refresh_due() == 0 and provider.refresh_calls == 2
    assert await connections.refresh_due() == 0 and provider.refresh_calls == 2  # cooling down
    failed = await service.engine.store.get_authentication(authentication)
    assert failed is not None and failed.refresh_failed_at is not None
    assert failed.refresh_error == "The provider's token endpoint answered 503."
    provider.fail_refresh_status = None
    service.clock.advance(61)
    assert await connections.refresh_due() == 1 and provider.refresh_calls == 3
    record = await service.engine.store.get_authentication(authentication)
    assert record is not None and not record.is_expired and record.refresh_failed_at is None
    assert record.refresh_error is None

    # A token given directly, with no known expiry, is refreshed once a day all the same.
    issued = provider.issue()  # tokens as the provider would hand them out
    direct = await alice.connect(
        "demo",
        {"access_token": issued["access_token"], "refresh_token": issued["refresh_token"]},
    )
    service.clock.advance(2 * 86_400)
    calls = provider.refresh_calls
    assert await connections.refresh_due() == 2  # both: one idle for a day, one expired
    assert provider.refresh_calls == calls + 2
    direct_record = await service.engine.store.get_authentication(direct)
    assert direct_record is not None and direct_record.refreshed_at is not None

    metrics = (await service.http.get("/metrics")).text
    assert 'actionruns_token_refreshes_total{app="demo",outcome="refreshed"} 4.0' in metrics
    assert 'actionruns_token_refreshes_total{app="demo",outcome="failed"} 1.0' in metrics
