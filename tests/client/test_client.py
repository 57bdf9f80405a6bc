"""actionruns.client, sync and async, against the real service on loopback: discovery,
runs made once whatever its retries, long-polls, pages, tokens, end users, errors, 429s."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from actionruns.client import (
    BadRequest,
    Client,
    Forbidden,
    NotFound,
    RateLimited,
    Retries,
    ServiceUnavailable,
    SignatureError,
    Unauthorized,
    WaitTimeout,
    verify_callback,
    verify_event,
)
from tests.client.conftest import Traffic, async_client, sync_client
from tests.conftest import ApiClient, Service, ServiceFactory

RUNS = "/v2/action-runs"


async def test_discovery_async(service: Service, acme: ApiClient, traffic: Traffic) -> None:
    async with async_client(service, acme, traffic) as client:
        client._core.page_size = 25  # (the API's largest page is 100: more apps than that)
        apps = await client.apps.list()
        assert "testkit" in [app.slug for app in apps]
        total = (await acme.get("/v2/apps")).json()["meta"]["count"]
        assert len(apps) == total > 50  # all of them, page after page
        assert traffic.count("GET", "/v2/apps") == -(-total // 25)
        assert (await client.apps.list(query="test kit"))[0].slug == "testkit"
        actions = await client.actions.list("testkit")
        noop = next(action for action in actions if action.key == "noop")
        assert noop.slug == "testkit.noop"
        fields = {field.id: field for field in await client.actions.inputs("testkit.noop")}
        assert fields["color"].has_dynamic_choices
        assert [choice.value for choice in fields["size"].choices] == ["s", "m", "l"]
        first = await client.actions.choices("testkit.noop", "color")
        last = await client.actions.choices("testkit.noop", "color", page=3)
        assert (len(first.choices), first.has_more) == (10, True)
        assert ([c.value for c in last.choices], last.has_more) == (
            [f"c{i}" for i in range(20, 25)],
            False,
        )
        dependent = await client.actions.inputs("testkit.area", inputs={"shape": "circle"})
        assert "radius" in [field.id for field in dependent]
        outputs = await client.actions.outputs("testkit.noop")
        assert [field.id for field in outputs.fields] == ["ok"] and outputs.sample == {"ok": True}
    # One token for all of it.
    assert traffic.count("POST", "/oauth/token") == 1
    async with async_client(service, acme, traffic) as fresh:
        # Made together, before any token: they wait for the one that fetches it.
        together = await asyncio.gather(*(fresh.actions.list("testkit") for _ in range(5)))
        assert all(found == together[0] for found in together)
    assert traffic.count("POST", "/oauth/token") == 2


async def test_sync_client_discovers_runs_waits_and_pages(
    service: Service, acme: ApiClient, traffic: Traffic
) -> None:
    def scenario() -> None:
        with sync_client(service, acme, traffic) as client:
            assert "noop" in [action.key for action in client.actions.list("testkit")]
            handles = [client.runs.create("testkit.noop", {"value": str(i)}) for i in range(5)]
            finished = [handle.wait(timeout=20) for handle in handles]
            assert [run.status for run in finished] == ["success"] * 5
            assert finished[0].results == [{"ok": True, "value": "0", "count": None}]
            listed = list(client.runs.list(action="testkit.noop", page_size=2))
            # Newest first, across three pages of two.
            assert [run.id for run in listed] == [handle.id for handle in reversed(handles)]

    await asyncio.to_thread(scenario)
    assert traffic.count("GET", RUNS) == 3


async def test_runs_list_fetches_pages_only_as_they_are_used(
    service: Service, acme: ApiClient, traffic: Traffic
) -> None:
    async with async_client(service, acme, traffic) as client:
        made = [(await client.runs.create("testkit.noop")).id for _ in range(3)]
        pages = client.runs.list(page_size=1)
        assert traffic.count("GET", RUNS) == 0
        first = await anext(pages)
        assert first.id == made[-1] and traffic.count("GET", RUNS) == 1
        rest = [run.id async for run in pages]
        assert rest == made[-2::-1] and traffic.count("GET", RUNS) == 3


async def test_wait_long_polls_and_says_when_it_runs_out(
    service: Service, acme: ApiClient, traffic: Traffic
) -> None:
    async with async_client(service, acme, traffic) as client:
        handle = await client.runs.create("testkit.sleep", {"seconds": 0.3, "key": "client-wait"})
        run = await handle.wait(timeout=20)
        assert run.succeeded and run.results == [{"slept": 0.3}]
        # Held by the service until the run finished: one request, not a polling loop.
        assert traffic.count("GET", f"{RUNS}/{handle.id}") == 1
        slow = await client.runs.create("testkit.sleep", {"seconds": 20, "key": "client-slow"})
        with pytest.raises(WaitTimeout) as timed_out:
            await slow.wait(timeout=0.2)
        assert timed_out.value.run.status in ("queued", "running")
        assert (await slow.cancel()).id == slow.id


async def test_a_create_retried_after_a_lost_answer_makes_one_run(
    service: Service, acme: ApiClient, traffic: Traffic
) -> None:
    traffic.lose_answer_to.append(RUNS)
    async with async_client(service, acme, traffic) as client:
        handle = await client.runs.create("testkit.noop", {"value": "once"})
        assert handle.replayed  # the second attempt found the run the first one made
        assert (await handle.wait(10)).results[0]["value"] == "once"
        # Two requests with one key; the service made one run.
        assert traffic.count("POST", RUNS) == 2
        assert await service.stored_runs() == 1
        again = await client.runs.create(
            "testkit.noop", {"value": "once"}, idempotency_key=handle.idempotency_key
        )
        assert again.id == handle.id and again.replayed


async def test_sync_create_retried_after_a_lost_answer_makes_one_run(
    service: Service, acme: ApiClient, traffic: Traffic
) -> None:
    traffic.lose_answer_to.append(RUNS)

    def scenario() -> str:
        with sync_client(service, acme, traffic) as client:
            handle = client.runs.create("testkit.noop")
            assert handle.replayed
            return handle.id

    run_id = await asyncio.to_thread(scenario)
    assert await service.stored_runs() == 1
    assert (await service.engine.store.get_run(run_id)) is not None


async def test_tokens_are_renewed_before_they_expire_and_after_a_401(
    service: Service, acme: ApiClient, traffic: Traffic
) -> None:
    now = [0.0]
    async with async_client(service, acme, traffic, clock=lambda: now[0]) as client:
        await client.apps.list(query="test kit")
        now[0] += 3600 - 30  # within a minute of the hour the token lives
        await client.apps.list(query="test kit")
        assert traffic.count("POST", "/oauth/token") == 2
        # A token the service no longer takes (revoked, a key retired): one 401, a new token.
        client._core.tokens.keep("eyJ.not-a-token.x", 3600, now[0])
        await client.apps.list(query="test kit")
        assert traffic.count("GET", "/v2/apps", 401) == 1
        assert traffic.count("POST", "/oauth/token") == 3


async def test_end_users_see_only_their_own(
    service: Service, acme: ApiClient, traffic: Traffic
) -> None:
    async with async_client(service, acme, traffic) as client:
        alice, bob = client.for_end_user("alice"), client.for_end_user("bob")
        connected = await alice.authentications.create("secretive", {"api_key": "k-a"}, title="A")
        assert [a.id for a in await alice.authentications.list()] == [connected.id]
        assert await bob.authentications.list() == []
        run = await alice.runs.create("secretive.echo", authentication=connected.id)
        await run.wait(10)
        assert [r.id async for r in alice.runs.list()] == [run.id]
        assert [r.id async for r in bob.runs.list()] == []
        with pytest.raises(NotFound):
            await bob.runs.get(run.id)
        with pytest.raises(BadRequest) as not_bobs:
            await bob.runs.create("secretive.echo", authentication=connected.id)
        assert not_bobs.value.errors[0].source == {"pointer": "/data/authentication"}
        # A token bound to carol by token exchange: hers alone, whatever it is sent with.
        carol = client.for_end_user("carol", exchange=True)
        mine = await carol.authentications.create("secretive", {"api_key": "k-c"}, title="C")
        assert [a.id for a in await carol.authentications.list()] == [mine.id]
        assert mine.id not in [a.id for a in await alice.authentications.list()]
        everyone = {a.id for a in await client.authentications.list()}
        assert everyone == {connected.id, mine.id}
        # All three shared the connection; alice and bob the client's token.
        assert traffic.count("POST", "/oauth/token") == 2


async def test_errors_carry_the_apis_error_objects(
    service: Service, acme: ApiClient, traffic: Traffic
) -> None:
    async with async_client(service, acme, traffic) as client:
        with pytest.raises(BadRequest) as no_app:
            await client.actions.list("no-such-app")
        assert no_app.value.status == 400
        assert no_app.value.errors[0].source == {"parameter": "app"}
        with pytest.raises(NotFound) as missing:
            await client.runs.get("run_nope")
        assert missing.value.status == 404 and missing.value.code
        with pytest.raises(NotFound):  # an id is one path segment, whatever it holds
            await client.runs.get("?status=success")  # not the list of runs
        with pytest.raises(BadRequest) as invalid:
            await client.runs.create("testkit.noop", {"count": "many"})
        assert invalid.value.errors[0].source == {"pointer": "/data/inputs/count"}
        assert "count" in str(invalid.value)
    async with async_client(service, acme, traffic, scope="zap") as narrow:
        with pytest.raises(Forbidden) as forbidden:
            await narrow.runs.create("testkit.noop")
        assert "action:run" in forbidden.value.detail
    wrong = ApiClient(service, acme.client_id, "cs_wrong", acme.signing_secret, "")
    async with async_client(service, wrong, traffic) as refused:
        with pytest.raises(Unauthorized) as unauthorized:
            await refused.apps.list()
        assert unauthorized.value.code == "invalid_client"


async def test_a_429_of_the_rate_limiter_is_waited_out_and_retried(
    start_service: ServiceFactory, traffic: Traffic
) -> None:
    service = await start_service(workers=False, rate_limit_per_minute=2)
    acme = await service.new_client("acme")
    waited: list[float] = []

    async def sleep(seconds: float) -> None:
        waited.append(seconds)
        service.clock.advance(seconds)  # the service's minute passes; no test waits for it

    async with async_client(service, acme, traffic, sleep=sleep) as client:
        for _ in range(3):
            await client.apps.list(query="test kit")
    assert traffic.count("GET", "/v2/apps", 429) == 1
    assert len(waited) == 1 and 1 <= waited[0] <= 60
    assert traffic.count("GET", "/v2/apps", 200) == 3
    # A Retry-After longer than the client may wait is raised at once, with its wait.
    impatient = Retries(attempts=4, max_wait=0.5)
    async with async_client(service, acme, traffic, sleep=sleep, retries=impatient) as client:
        with pytest.raises(RateLimited) as limited:
            for _ in range(3):
                await client.apps.list(query="test kit")
    assert limited.value.retry_after is not None and limited.value.retry_after >= 1
    assert len(waited) == 1


async def test_verify_callback_checks_a_delivered_callback(
    service: Service, acme: ApiClient, traffic: Traffic, httpserver: HTTPServer
) -> None:
    received: list[Request] = []

    def handler(request: Request) -> Response:
        received.append(request)
        return Response("ok")

    httpserver.expect_request("/hooks/runs", method="POST").respond_with_handler(handler)
    async with async_client(service, acme, traffic) as client:
        handle = await client.runs.create(
            "testkit.noop", {"value": "v"}, callback_url=httpserver.url_for("/hooks/runs")
        )
        for _ in range(200):
            if received:
                break
            await asyncio.sleep(0.05)
    headers, body = dict(received[0].headers), received[0].get_data()
    run = verify_callback(headers, body, acme.signing_secret)
    assert run.id == handle.id and run.status == "success"
    # Any spelling of the header's name, as frameworks hand them over.
    lowered = {name.lower(): value for name, value in headers.items()}
    assert verify_callback(lowered, body, acme.signing_secret.encode()).id == handle.id
    with pytest.raises(SignatureError, match="does not match"):
        verify_callback(headers, body + b" ", acme.signing_secret)
    with pytest.raises(SignatureError, match="does not match"):
        verify_callback(headers, body, "whsec_another")
    with pytest.raises(SignatureError, match="seconds from now"):
        verify_callback(headers, body, acme.signing_secret, now=time.time() + 301)
    assert verify_callback(headers, body, acme.signing_secret, tolerance=600, now=time.time() + 301)
    with pytest.raises(SignatureError, match="no X-Actionruns-Signature"):
        verify_callback({"Content-Type": "application/json"}, body, acme.signing_secret)
    assert json.loads(body)["data"]["id"] == handle.id


def test_the_client_imports_nothing_of_the_service() -> None:
    code = (
        "import json, sys, actionruns.client; "
        "print(json.dumps(sorted(m.split('.')[0] if not m.startswith('actionruns') else m "
        "for m in sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    modules = json.loads(done.stdout)
    ours = [m for m in modules if m.startswith("actionruns")]
    assert all(m == "actionruns" or m.startswith("actionruns.client") for m in ours), ours
    assert not {"fastapi", "sqlalchemy", "starlette", "jwt"} & set(modules)


def test_a_503_is_retried_only_where_repeating_is_safe(httpserver: HTTPServer) -> None:
    """The service answers 503 while its database is away (as /readyz says); a loopback
    server answering so stands in for that moment."""
    token = {"access_token": "t", "token_type": "Bearer", "expires_in": 3600, "scope": "zap"}
    httpserver.expect_ordered_request("/oauth/token", method="POST").respond_with_json(token)
    away = {"errors": [{"status": 503, "code": "unavailable", "title": "Unavailable",
                        "detail": "The database is not reachable right now.",
                        "source": None, "meta": None}]}  # fmt: skip
    page = {"links": {"next": None, "previous": None, "prev": None},
            "meta": {"count": 0, "limit": 100, "offset": 0}, "data": []}  # fmt: skip
    retry_now = {"Retry-After": "0"}
    httpserver.expect_ordered_request("/v2/apps").respond_with_json(away, 503, retry_now)
    httpserver.expect_ordered_request("/v2/apps").respond_with_json(page)
    httpserver.expect_ordered_request("/v2/authentications", method="POST").respond_with_json(
        away, 503, retry_now
    )
    waited: list[float] = []
    with Client(httpserver.url_for(""), "cl", "cs", sleep=waited.append) as client:
        assert client.apps.list() == []  # a read: tried again after Retry-After
        with pytest.raises(ServiceUnavailable) as refused:  # a create without a key: not
            client.authentications.create("secretive", {"api_key": "k"})
    assert waited == [0.0]
    assert refused.value.errors[0].detail == "The database is not reachable right now."
    httpserver.check_assertions()


async def test_authentication_events_are_subscribed_to_and_verified(
    service: Service, acme: ApiClient, traffic: Traffic, httpserver: HTTPServer
) -> None:
    received: list[Request] = []

    def handler(request: Request) -> Response:
        received.append(request)
        return Response("", 204)

    httpserver.expect_request("/events", method="POST").respond_with_handler(handler)
    async with async_client(service, acme, traffic) as client:
        await client.events.subscribe(httpserver.url_for("/events"))
        assert await client.events.url() == httpserver.url_for("/events")
        with pytest.raises(Forbidden):  # the partner's own token only
            await client.for_end_user("alice").events.unsubscribe()
        connected = await client.authentications.create("secretive", {"api_key": "k"})
        await service.engine.connections.mark_expired(connected.id)
        for _ in range(200):
            if received:
                break
            await asyncio.sleep(0.05)
        await client.events.unsubscribe()
        assert await client.events.url() is None
    headers, body = dict(received[0].headers), received[0].get_data()
    event = verify_event(headers, body, acme.signing_secret)
    assert (event.type, event.authentication, event.app) == (
        "authentication.expired",
        connected.id,
        "secretive",
    )
    assert event.is_expired
    with pytest.raises(SignatureError, match="does not match"):
        verify_event(headers, body.replace(b"expired", b"recover"), acme.signing_secret)
