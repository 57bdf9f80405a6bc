"""A piece served as an app, through the API: listed, connected (the piece validates), run,
its dropdowns and dynamic fields listed by the bridge, its failures as our error classes."""

from __future__ import annotations

import json
from typing import Any

from actionruns.sdk.described.manifest import AppManifest
from tests.conftest import ApiClient, Service, ServiceFactory

GOOD = {"api_key": "good-key", "region": "us"}


async def served(start_service: ServiceFactory, manifest: AppManifest) -> tuple[Service, ApiClient]:
    """A service with the piece's app, and a client of it."""
    service = await start_service()
    await service.engine.imports.save(manifest)
    return service, await service.new_client("acme")


async def test_a_piece_is_listed_connected_and_run(
    start_service: ServiceFactory, fixture_manifest: AppManifest
) -> None:
    _, acme = await served(start_service, fixture_manifest)

    listed = (await acme.get("/v2/apps", params={"query": "fixture"})).json()["data"]
    assert [(a["slug"], a["source"], a["auth_type"]) for a in listed] == [
        ("fixture", "activepieces", "custom")
    ]
    refused = await acme.post(
        "/v2/authentications",
        json={"data": {"app": "fixture", "authentication_fields": {"api_key": "bad"}}},
    )
    assert refused.status_code == 400 and "bad key" in refused.text
    authentication = await acme.connect("fixture", GOOD)

    inputs = {
        "title": "Hello",
        "level": "json:2",
        "tags": ["a", "b"],
        "channel": 'json:{"id":7,"region":"us"}',
        "fields__HelloName": "Ada",
        "attachment": "data:text/plain;name=note.txt;base64,aGk=",
    }
    run = await acme.wait(await acme.run("fixture.echo", inputs, authentication))
    assert run["status"] == "success", run
    [result] = run["results"]
    assert result["auth"] == {
        "type": "CUSTOM_AUTH",
        "props": {"apiKey": "[redacted]", "region": "us"},
    }
    props = result["props"]
    assert props["level"] == 2 and props["tags"] == ["a", "b"]
    assert props["channel"] == {"id": 7, "region": "us"}
    assert props["fields"] == {"HelloName": "Ada"}
    assert props["attachment"] == {"filename": "note.txt", "text": "hi"}
    assert "good-key" not in json.dumps(run)


async def test_dropdowns_and_dynamic_fields_come_from_the_piece(
    start_service: ServiceFactory, fixture_manifest: AppManifest
) -> None:
    _, acme = await served(start_service, fixture_manifest)
    authentication = await acme.connect("fixture", GOOD)
    url = "/v2/actions/fixture.echo/inputs/channel/choices"
    body = {"data": {"authentication": authentication, "inputs": {"title": "news"}}}
    pages = [(await acme.post(url, params={"page": n}, json=body)).json() for n in (1, 3)]
    assert [len(page["data"]) for page in pages] == [100, 50]
    assert pages[0]["links"]["next"] and pages[1]["links"]["next"] is None
    first = pages[0]["data"][0]
    assert (first["label"], first["value"]) == ("news 0", 'json:{"id":0,"region":"us"}')

    fields = await acme.post("/v2/actions/fixture.echo/inputs", json=body)
    assert fields.status_code == 200, fields.text
    keys = {f["id"]: f for f in fields.json()["data"]}
    assert keys["fields__newsName"]["is_required"] is True
    assert keys["fields__size"]["value_type"] == "NUMBER"


async def test_a_piece_s_failures_are_our_error_classes(
    start_service: ServiceFactory, fixture_manifest: AppManifest
) -> None:
    service, acme = await served(start_service, fixture_manifest)
    authentication = await acme.connect("fixture", GOOD)

    async def fail(status: int, **extra: object) -> dict[str, Any]:
        run_id = await acme.run("fixture.fail_with", {"status": status}, authentication, **extra)
        return await acme.wait(run_id)

    halted = await fail(404)
    assert (halted["status"], halted["errors"][0]["code"]) == ("error", "user"), halted
    assert "refused" in halted["errors"][0]["detail"]
    unreachable = await fail(0, max_attempts=1)
    assert unreachable["errors"][0]["code"] == "partner", unreachable
    expired = await fail(401)
    assert expired["errors"][0]["code"] == "authentication", expired
    record = await service.engine.store.get_authentication(authentication)
    assert record is not None and record.is_expired
