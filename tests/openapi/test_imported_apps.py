"""Imported apps served exactly like hand-written ones: listed, described, connected, run,
upgraded and removed, on every node without a restart."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx2
import pytest
import yaml

from actionruns.errors import Conflict
from actionruns.openapi import import_description
from actionruns.sdk.described.diff import changes
from actionruns.sdk.described.manifest import AppManifest
from actionruns.sdk.registry import app_id
from tests.conftest import ServiceFactory
from tests.openapi.petstore import petstore
from tests.vendors.oauth_provider import connect_end_user, start_provider

HOST = "eu.pets.example.com"


def manifest_of(tmp_path: Path, document: Any = None) -> AppManifest:
    path = tmp_path / "petstore.yaml"
    path.write_text(yaml.safe_dump(document or petstore()))
    return import_description(path).manifest


class Petstore:
    """The vendor, at the HTTP level: checks the key, keeps pets."""

    def __init__(self) -> None:
        self.pets: dict[int, dict[str, Any]] = {}
        self.key = "k-valid-123"
        self.requests: list[httpx2.Request] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        request.read()
        self.requests.append(request)
        if request.headers.get("X-API-Key") != self.key:
            return httpx2.Response(401, json={"message": "Invalid API key"})
        path = request.url.path
        if path == "/v1/me":
            return httpx2.Response(200, json={"name": "Pet Shop", "email": "shop@example.com"})
        if path == "/v1/pets" and request.method == "POST":
            pet = {"id": len(self.pets) + 1, **json.loads(request.content)}
            self.pets[pet["id"]] = pet
            return httpx2.Response(201, json=pet)
        if path == "/v1/pets":
            return httpx2.Response(200, json={"data": list(self.pets.values()), "has_more": False})
        return httpx2.Response(404, json={"message": f"No route {path}"})


async def test_an_imported_app_is_listed_described_connected_and_run(
    start_service: ServiceFactory, tmp_path: Path
) -> None:
    vendor = Petstore()
    service = await start_service(routes={HOST: httpx2.MockTransport(vendor)})
    await service.engine.imports.save(manifest_of(tmp_path))
    acme = await service.new_client("acme")

    listed = (await acme.get("/v2/apps", params={"query": "petstore"})).json()["data"]
    assert [(a["slug"], a["source"], a["auth_type"]) for a in listed] == [
        ("petstore_api", "openapi", "api_key")
    ]
    actions = (await acme.get("/v2/actions", params={"app": "petstore_api", "limit": 50})).json()
    assert actions["meta"]["count"] == 8
    inputs = await acme.post("/v2/actions/petstore_api.create_pet/inputs", json={"data": {}})
    fields = {f["id"]: f for f in inputs.json()["data"]}
    assert fields["name"]["is_required"] is True
    assert fields["status"]["choices"][0]["value"] == "available"
    outputs = (
        await acme.post("/v2/actions/petstore_api.create_pet/outputs", json={"data": {}})
    ).json()
    assert outputs["sample"]["name"] == "Rex"

    refused = await acme.post(
        "/v2/authentications",
        json={"data": {"app": "petstore_api", "authentication_fields": {"api_key": "wrong-key"}}},
    )
    assert refused.status_code == 400, refused.text
    authentication = await acme.connect("petstore_api", {"api_key": vendor.key})
    record = await service.engine.store.get_authentication(authentication)
    assert record is not None and record.title == "Pet Shop (shop@example.com)"

    run_id = await acme.run(
        "petstore_api.create_pet", {"name": "Rex", "owner__name": "Ada"}, authentication
    )
    run = await acme.wait(run_id)
    assert run["status"] == "success", run
    assert run["results"] == [
        {"id": 1, "name": "Rex", "status": "available", "owner": {"name": "Ada"}}
    ]
    listed_pets = await acme.post(
        "/v2/actions/petstore_api.list_pets/test",
        json={"data": {"authentication": authentication, "inputs": {}}},
    )
    assert [pet["name"] for pet in listed_pets.json()["data"]] == ["Rex"]
    assert vendor.key not in json.dumps(run)


async def test_a_refused_key_expires_the_connection(
    start_service: ServiceFactory, tmp_path: Path
) -> None:
    vendor = Petstore()
    service = await start_service(routes={HOST: httpx2.MockTransport(vendor)})
    await service.engine.imports.save(manifest_of(tmp_path))
    acme = await service.new_client("acme")
    authentication = await acme.connect("petstore_api", {"api_key": vendor.key})
    vendor.key = "rotated-by-the-user"
    run = await acme.wait(
        await acme.run("petstore_api.create_pet", {"name": "Rex"}, authentication)
    )
    assert run["status"] == "error"
    assert run["errors"][0]["code"] == "authentication"
    record = await service.engine.store.get_authentication(authentication)
    assert record is not None and record.is_expired


async def test_an_upgrade_keeps_the_id_and_the_connections_and_says_what_changed(
    start_service: ServiceFactory, tmp_path: Path
) -> None:
    vendor = Petstore()
    service = await start_service(routes={HOST: httpx2.MockTransport(vendor)})
    first = manifest_of(tmp_path)
    revision, previous = await service.engine.imports.save(first)
    assert (revision, previous) == (1, None)
    acme = await service.new_client("acme")
    authentication = await acme.connect("petstore_api", {"api_key": vendor.key})
    app_before = (await acme.get("/v2/apps", params={"query": "petstore"})).json()["data"][0]

    document = petstore()
    del document["paths"]["/trees/{treeId}"]
    document["paths"]["/pets"]["post"]["requestBody"]["content"]["application/json"]["schema"] = {
        "type": "object",
        "required": ["name", "species"],
        "properties": {"name": {"type": "string"}, "species": {"type": "string"}},
    }
    document["paths"]["/vets"] = {
        "get": {"operationId": "listVets", "responses": {"200": {"description": "ok"}}}
    }
    second = manifest_of(tmp_path, document)
    revision, previous = await service.engine.imports.save(second)
    assert revision == 2 and previous == first
    found = changes(first, second)
    assert found.added == ["list_vets"] and found.removed == ["get_tree"]
    assert "field species added" in found.changed["create_pet"]

    app_after = (await acme.get("/v2/apps", params={"query": "petstore"})).json()["data"][0]
    upgraded = service.engine.registry.app("petstore_api")
    assert upgraded is not None
    assert app_after["id"] == app_before["id"] == app_id(upgraded)
    missing = await acme.post(
        "/v2/action-runs",
        json={
            "data": {
                "action": "petstore_api.create_pet",
                "authentication": authentication,
                "inputs": {"name": "Rex"},
            }
        },
    )
    assert missing.status_code == 400  # species is now required
    run = await acme.wait(
        await acme.run("petstore_api.create_pet", {"name": "Rex", "species": "dog"}, authentication)
    )
    assert run["status"] == "success", run

    await service.engine.imports.remove("petstore_api")
    gone = await acme.get("/v2/actions", params={"app": "petstore_api"})
    assert gone.status_code == 400


async def test_a_built_in_key_cannot_be_taken(
    start_service: ServiceFactory, tmp_path: Path
) -> None:
    service = await start_service()
    manifest = manifest_of(tmp_path).model_copy(update={"key": "slack"})
    with pytest.raises(Conflict, match="built-in"):
        await service.engine.imports.save(manifest)


async def test_every_node_serves_an_import_without_a_restart(
    start_service: ServiceFactory, tmp_path: Path
) -> None:
    vendor = Petstore()
    routes = {HOST: httpx2.MockTransport(vendor)}
    # One home: one key file (and, on SQLite, one database file) for both nodes.
    api = await start_service(routes=routes, workers=False, home=tmp_path / "shared")
    worker = await start_service(routes=routes, home=tmp_path / "shared")
    acme = await api.new_client("acme")
    # Imported through a third engine (the command line), not through either node.
    await worker.engine.store.imported_apps.save(
        "petstore_api", manifest_of(tmp_path).model_dump_json(), "sha", 0.0
    )
    assert api.engine.registry.app("petstore_api") is None
    assert await api.engine.imports.sync() is True  # what each node's loop does every 2 s
    authentication = await acme.connect("petstore_api", {"api_key": vendor.key})
    run_id = await acme.run("petstore_api.create_pet", {"name": "Rex"}, authentication)
    await worker.engine.imports.sync()
    run = await acme.wait(run_id)
    assert run["status"] == "success", run


def provider_description(base_url: str) -> dict[str, Any]:
    """The local OAuth2 provider's API, described as a vendor would."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "Demo provider", "version": "1"},
        "servers": [{"url": base_url}],
        "security": [{"oauth": ["profile"]}],
        "paths": {
            "/api/me": {
                "get": {
                    "operationId": "getMe",
                    "summary": "The signed-in user",
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "properties": {
                                            "id": {"type": "string"},
                                            "name": {"type": "string"},
                                        },
                                    }
                                }
                            },
                        }
                    },
                }
            }
        },
        "components": {
            "securitySchemes": {
                "oauth": {
                    "type": "oauth2",
                    "flows": {
                        "authorizationCode": {
                            "authorizationUrl": f"{base_url}/authorize",
                            "tokenUrl": f"{base_url}/token",
                            "scopes": {"profile": "your profile"},
                        }
                    },
                }
            }
        },
    }


async def test_an_imported_oauth2_app_connects_and_refreshes(
    start_service: ServiceFactory, tmp_path: Path
) -> None:
    async with start_provider() as provider:
        service = await start_service()
        manifest = manifest_of(tmp_path, provider_description(provider.base_url))
        assert manifest.auth.oauth2 is not None and manifest.auth.oauth2.scopes == ("profile",)
        await service.engine.imports.save(manifest)
        alice, authentication = await connect_end_user(service, provider, "demo_provider")
        provider.revoke_access()  # the next call gets a 401: refreshed once, then it works
        run = await alice.wait(await alice.run("demo_provider.get_me", {}, authentication))
        assert run["status"] == "success", run
        assert run["results"] == [{"id": "u-1", "name": "Ada Lovelace"}]
        assert provider.refresh_calls == 1
        assert not any(token in json.dumps(run) for token in provider.issued)
