"""Secrets stay secret: after connecting accounts (an API key and OAuth2 with refreshes), runs
whose careless connector logs, returns and raises its credential, and a refused refresh, no
credential appears in clear in the database files, the logs or any API response; nor any form
derived from one (cased, URL-encoded, base64 alone or as user:secret, a long prefix) that an
upstream echoing the Authorization header sends back."""

from __future__ import annotations

import base64
from urllib.parse import quote, quote_plus

import httpx2
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.conftest import ServiceFactory
from tests.engine.test_refresh import connected, run_profile
from tests.vendors.oauth_provider import CLIENT_SECRET, start_provider

API_KEY = "sk-live-scan-4e1f0a9b7c"


async def test_no_credential_in_the_database_logs_or_responses(
    start_service: ServiceFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    responses: list[bytes] = []
    async with start_provider() as provider:
        service, alice, oauth_authentication = await connected(start_service, provider)

        async def keep(response: httpx2.Response) -> None:
            responses.append(await response.aread())

        service.http.event_hooks["response"].append(keep)

        key_authentication = await alice.connect("secretive", {"api_key": API_KEY})
        for inputs in ({}, {"fail": True}):
            run = await alice.wait(await alice.run("secretive.echo", inputs, key_authentication))
            assert run["status"] in ("success", "error")
        assert (await run_profile(alice, oauth_authentication))["status"] == "success"
        provider.revoke_access()  # a 401, a refresh, a retry
        assert (await run_profile(alice, oauth_authentication))["status"] == "success"
        provider.revoke_access()
        provider.reject_refresh = True  # the refresh is refused: the connection expires
        assert (await run_profile(alice, oauth_authentication))["status"] == "error"
        for path in ("/v2/authentications", f"/v2/authentications/{oauth_authentication}"):
            assert (await alice.get(path)).status_code == 200
        await service.engine.store.runner.erase_history()  # the WAL into the database file

        secrets = [API_KEY, CLIENT_SECRET, *provider.issued]
        assert len(provider.issued) >= 4  # the first tokens and a refreshed pair
        database = b"".join(
            path.read_bytes() for path in service.engine.settings.home.glob("*.db*")
        )
        logs = capsys.readouterr().err
        assert "calling with token" in logs  # the careless connector did log it
        for secret in secrets:
            assert secret.encode() not in database, secret
            assert secret not in logs, secret
            for body in responses:
                assert secret.encode() not in body, secret


USER, PASSWORD = "ops@example.com", "pa55/w0rd+Secret=Key-42!"


def derived_forms(user: str, secret: str) -> dict[str, str]:
    """The forms a secret takes on its way back from an upstream or a careless connector."""
    basic = f"{user}:{secret}".encode()
    return {
        "as is": secret,
        "upper-cased": secret.upper(),
        "lower-cased": secret.lower(),
        "URL-encoded": quote(secret, safe=""),
        "form-encoded": quote_plus(secret),
        "base64": base64.b64encode(secret.encode()).decode(),
        "base64 of user:secret": base64.b64encode(basic).decode(),
        "URL-safe base64 of user:secret": base64.urlsafe_b64encode(basic).decode(),
        "a long prefix": secret[:12],
    }


def echo_everything(request: Request) -> Response:
    """An upstream that says back the Authorization header it got, and the password in
    every other form."""
    echoed = " | ".join(
        [request.headers.get("Authorization", ""), *derived_forms(USER, PASSWORD).values()]
    ).replace(PASSWORD[:12] + " ", PASSWORD[:12] + "… ")  # the prefix, cut short
    return Response(echoed, status=200)


async def test_no_derived_form_of_a_secret_in_runs_tests_logs_or_metrics(
    start_service: ServiceFactory, httpserver: HTTPServer, capsys: pytest.CaptureFixture[str]
) -> None:
    httpserver.expect_request("/echo").respond_with_handler(echo_everything)
    service = await start_service()
    acme = await service.new_client("acme")
    authentication = await acme.connect("echoing", {"username": USER, "password": PASSWORD})
    url = httpserver.url_for("/echo")
    bodies = []
    for inputs in ({"url": url}, {"url": url, "fail": True}):
        run_id = await acme.run("echoing.call", inputs, authentication)
        run = await acme.wait(run_id)
        assert run["status"] in ("success", "error")
        bodies.append((await acme.get(f"/v2/action-runs/{run_id}")).text)
        tested = await acme.post(
            "/v2/actions/echoing.call/test",
            json={"data": {"authentication": authentication, "inputs": inputs}},
        )
        bodies.append(tested.text)
    assert "redacted" in bodies[0] and "redacted" in bodies[2]  # the echo did come back
    bodies.append((await service.http.get("/metrics")).text)
    await service.engine.store.runner.erase_history()
    database = b"".join(path.read_bytes() for path in service.engine.settings.home.glob("*.db*"))
    logs = capsys.readouterr().err
    assert "upstream said" in logs
    found = {
        (form, where)
        for form, text in derived_forms(USER, PASSWORD).items()
        for where, haystack in (
            ("database", database.decode("utf-8", "replace")),
            ("logs", logs),
            *((f"response {index}", body) for index, body in enumerate(bodies)),
        )
        if text in haystack
    }
    assert found == set()
