"""Secrets stay secret: after connecting accounts (an API key and OAuth2 with refreshes), runs
whose careless connector logs, returns and raises its credential, and a refused refresh, no
credential appears in clear in the database files, the logs or any API response."""

from __future__ import annotations

import httpx2
import pytest

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
