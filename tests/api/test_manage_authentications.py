"""Managing connected accounts: test one with its stored credentials, delete one (its
credentials erased from the database file), through the API and the command line."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx2
import pytest
from typer.testing import CliRunner

from actionruns.cli.main import app
from tests.conftest import ApiClient, ServiceFactory


async def test_test_and_delete_through_the_api(
    start_service: ServiceFactory, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    service = await start_service(home=home)
    acme = await service.new_client("acme")
    alice, bob = acme.acting_for("alice"), acme.acting_for("bob")
    authentication = await alice.connect("secretive", {"api_key": "sk-to-erase"}, title="A")

    tested = await alice.post(f"/v2/authentications/{authentication}/test")
    assert tested.status_code == 200, tested.text
    assert tested.json()["data"]["test"] == {"passed": True, "label": "test account"}
    # A connection that passes its test again is no longer expired.
    await service.engine.store.set_authentication_expired(authentication, True, 0.0)
    await alice.post(f"/v2/authentications/{authentication}/test")
    listed = (await alice.get("/v2/authentications")).json()["data"]
    assert listed[0]["is_expired"] is False

    for intruder in (bob, await service.new_client("globex")):
        assert (
            await intruder.post(f"/v2/authentications/{authentication}/test")
        ).status_code == 404
        gone = await intruder.service.http.delete(
            f"/v2/authentications/{authentication}", headers=intruder.headers
        )
        assert gone.status_code == 404
    reader = await service.new_client("reader", scopes=["authentication"])
    refused = await reader.service.http.delete(
        f"/v2/authentications/{authentication}", headers=reader.headers
    )
    assert refused.status_code in (403, 404)

    record = await service.engine.store.get_authentication(authentication)
    assert record is not None
    sealed = record.credentials
    deleted = await service.http.delete(
        f"/v2/authentications/{authentication}", headers=alice.headers
    )
    assert deleted.status_code == 204
    assert (await alice.get(f"/v2/authentications/{authentication}")).status_code == 404
    assert (await alice.get("/v2/authentications")).json()["data"] == []
    again = await service.http.delete(
        f"/v2/authentications/{authentication}", headers=alice.headers
    )
    assert again.status_code == 404
    # Erased, not hidden: the sealed bytes are gone from the database files.
    await service.engine.store.ping()
    stored = b"".join(path.read_bytes() for path in home.glob("*.db*"))
    assert sealed[20:52] not in stored


async def test_connections_from_the_command_line(
    start_service: ServiceFactory, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    service = await start_service(home=home)
    acme = await service.new_client("acme")
    authentication = await acme.acting_for("alice").connect("secretive", {"api_key": "sk-cli"})
    env = {"ACTIONRUNS_HOME": str(home), "ACTIONRUNS_CONNECTORS": "tests.testkit:secretive"}

    async def cli(*args: str) -> str:
        result = await asyncio.to_thread(CliRunner().invoke, app, list(args), env=env)
        assert result.exit_code == 0, result.output
        return result.output

    listed = await cli("connections", "list", "--client", "acme", "--end-user", "alice")
    assert authentication[:8] in listed and "secretive" in listed and "sk-cli" not in listed
    assert "test account" in await cli("connections", "test", authentication)
    assert "deleted" in await cli("connections", "delete", authentication)
    assert await service.engine.store.get_authentication(authentication) is None


async def test_the_partner_manages_its_events_subscription(
    start_service: ServiceFactory,
) -> None:
    service = await start_service()
    acme = await service.new_client("acme")
    path = "/v2/authentication-events/subscription"
    assert (await acme.get(path)).json()["data"]["url"] is None

    async def put(client: ApiClient, url: str) -> httpx2.Response:
        return await service.http.put(path, json={"data": {"url": url}}, headers=client.headers)

    assert (await put(acme, "https://app.example.com/hooks")).status_code == 200
    assert (await acme.get(path)).json()["data"] == {
        "type": "events_subscription",
        "url": "https://app.example.com/hooks",
        "events": ["authentication.expired", "authentication.recovered"],
    }
    assert (await put(acme, "http://evil.example/hooks")).status_code == 400  # not https
    assert (await put(acme.acting_for("alice"), "https://x.example/")).status_code == 403
    other = await service.new_client("globex")
    assert (await other.get(path)).json()["data"]["url"] is None  # its own, not acme's
    deleted = await service.http.delete(path, headers=acme.headers)
    assert deleted.status_code == 204
    assert (await acme.get(path)).json()["data"]["url"] is None


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://169.254.169.254/latest", "link-local"),
        ("https://[::ffff:10.0.0.1]/hooks", "IPv4-mapped (RFC 4291) form of 10.0.0.1"),
        ("https://[64:ff9b::a9fe:a9fe]/hooks", "NAT64 (RFC 6052) form of 169.254.169.254"),
        ("https://nowhere.invalid/hooks", "could not be resolved"),
    ],
)
async def test_an_events_url_the_guard_refuses_is_refused_when_set(
    start_service: ServiceFactory, url: str, reason: str
) -> None:
    service = await start_service(workers=False)
    acme = await service.new_client("acme")
    path = "/v2/authentication-events/subscription"
    response = await service.http.put(path, json={"data": {"url": url}}, headers=acme.headers)
    assert response.status_code == 400, response.text
    [error] = response.json()["errors"]
    assert error["code"] == "invalid"
    assert error["source"] == {"pointer": "/data/url"}
    assert reason in error["detail"]
    assert (await acme.get(path)).json()["data"]["url"] is None
