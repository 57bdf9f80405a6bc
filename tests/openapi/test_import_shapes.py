"""The importer on shapes vendors' descriptions take: JSON:API documents (Klaviyo's), media
types behind references and "name or company" rules (Lob's), single resources holding one
list (Twilio's), and what an overlay can make of deeply nested bodies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx2
import pytest
from pydantic import ValidationError

from actionruns.openapi import import_description
from actionruns.openapi.overlay import Overlay
from actionruns.sdk.app import ActionType
from actionruns.sdk.context import open_context
from actionruns.sdk.described.manifest import AppManifest
from actionruns.sdk.described.runtime import build_app
from actionruns.sdk.errors import HaltError
from actionruns.sdk.fields import ChoicePage
from actionruns.sdk.outbound import OutboundGuard
from tests.openapi.test_import_cases import field, op
from tests.openapi.test_requests import Vendor, perform

JSON_API = "application/vnd.api+json"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _resource(kind: str, attributes: dict[str, Any], *required: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["type", "attributes"],
        "properties": {
            "type": {"type": "string", "enum": [kind]},
            "id": {"type": "string", "readOnly": True},
            "attributes": {"type": "object", "required": list(required), "properties": attributes},
        },
    }


def _object(properties: dict[str, Any], *required: str) -> dict[str, Any]:
    return {"type": "object", "required": list(required), "properties": properties}


def _operation(
    operation_id: str,
    answer: dict[str, Any] | None = None,
    body: dict[str, Any] | None = None,
    media: str = JSON_API,
    path_parameter: str | None = None,
) -> dict[str, Any]:
    """An operation answering ``answer`` (a schema) and taking ``body``, both as ``media``."""
    found: dict[str, Any] = {"operationId": operation_id}
    if path_parameter is not None:
        found["parameters"] = [{"name": path_parameter, "in": "path", "required": True}]
    if body is not None:
        found["requestBody"] = {"content": {media: {"schema": body}}}
    found["responses"] = (
        {"200": {"description": "", "content": {media: {"schema": answer}}}}
        if answer is not None
        else {"202": {"description": "accepted"}}
    )
    return found


def description() -> dict[str, Any]:
    profile = {
        "email": {"type": "string"},
        "location": _object({"city": {"type": "string"}}),
    }
    event = {
        "name": {"type": "string"},
        "profile": _object({"data": _resource("profile", profile)}, "data"),
    }
    members: dict[str, Any] = {"data": _ref("Profile"), "links": {"type": "object"}}
    thing = _object(
        {"sid": {"type": "string"}, "capabilities": {"type": "array", "items": {"type": "string"}}}
    )
    address = {
        **_object({"name": {"type": "string"}, "company": {"type": "string"}}),
        "anyOf": [{"required": ["name"]}, {"required": ["company"]}],
    }
    things = _operation(
        "list_things",
        _object({"things": {"type": "array", "items": thing}, "meta": {"type": "object"}}),
        media="application/json",
    )
    things["parameters"] = [{"name": "PageSize", "in": "query", "schema": {"type": "integer"}}]
    by_ref = {"$ref": "#/components/mediaTypes/address"}
    return {
        "openapi": "3.0.3",
        "info": {"title": "Shapes", "version": "1"},
        "servers": [{"url": "https://api.shapes.example"}],
        "components": {
            "schemas": {"Profile": _resource("profile", profile), "Address": address},
            "securitySchemes": {"key": {"type": "apiKey", "in": "header", "name": "X-Key"}},
            "mediaTypes": {"address": {"application/json": {"schema": _ref("Address")}}},
        },
        "security": [{"key": []}],
        "paths": {
            "/profiles": {
                "post": _operation(
                    "create_profile",
                    _object(members),
                    _object({"data": _ref("Profile")}, "data"),
                ),
                "get": _operation(
                    "get_profiles",
                    _object({**members, "data": {"type": "array", "items": _ref("Profile")}}),
                ),
            },
            "/profiles/{id}": {
                "get": _operation(
                    "get_profile",
                    _object({**members, "included": {"type": "array", "items": {}}}),
                    path_parameter="id",
                )
            },
            "/events": {
                "post": _operation(
                    "create_event",
                    body=_object({"data": _resource("event", event, "profile")}, "data"),
                )
            },
            "/things": {"get": things},
            "/things/{sid}": {
                "get": _operation(
                    "fetch_thing", thing, media="application/json", path_parameter="sid"
                )
            },
            "/addresses": {
                "post": {
                    "operationId": "create_address",
                    "requestBody": {"content": by_ref},
                    "responses": {"200": {"description": "", "content": by_ref}},
                }
            },
        },
    }


async def thing_choices(
    tmp_path: Path, choices_from: dict[str, Any], vendor: Vendor, *pages: int
) -> list[ChoicePage]:
    """The pages asked of fetch_thing's sid made a dropdown by ``choices_from``."""
    overlay = {"actions": {"fetch_thing": {"fields": {"sid": {"choices_from": choices_from}}}}}
    app = build_app(imported(tmp_path, overlay))
    action = app.action("fetch_thing")
    assert action is not None
    sid = next(f for f in action.static_inputs if f.key == "sid")
    assert sid.dynamic_choices is not None
    transport = httpx2.MockTransport(vendor)
    credentials = {"api_key": "k"}
    async with open_context(
        app.auth, credentials, OutboundGuard(), app_key=app.key, transport=transport
    ) as ctx:
        return [await sid.dynamic_choices(ctx, {}, page) for page in pages]


def imported(tmp_path: Path, overlay: dict[str, Any] | None = None) -> AppManifest:
    path = tmp_path / "shapes.json"
    path.write_text(json.dumps(description()))
    rules = Overlay.model_validate(overlay or {})
    return import_description(path, overlay=rules).manifest


def test_a_json_api_answer_is_its_data(tmp_path: Path) -> None:
    manifest = imported(tmp_path)
    for key in ("create_profile", "get_profile"):
        found = op(manifest, key)
        assert found.http.results == ("data",)
        assert {o.key for o in found.outputs} >= {"type", "id", "attributes__email"}
    assert op(manifest, "get_profile").type is ActionType.READ
    listing = op(manifest, "get_profiles")
    assert (listing.type, listing.http.results) == (ActionType.SEARCH, ("data",))


def test_a_resource_type_is_sent_not_asked(tmp_path: Path) -> None:
    create = op(imported(tmp_path), "create_profile")
    assert "type" not in {spec.key for spec in create.inputs}
    fixed = [b for b in create.http.bindings if b.value is not None]
    assert [(b.path, b.value) for b in fixed] == [(("data", "type"), "profile")]


async def test_a_json_body_goes_with_its_declared_media_type(tmp_path: Path) -> None:
    app = build_app(imported(tmp_path))
    vendor = Vendor(lambda _: httpx2.Response(201, json={"data": {"type": "profile", "id": "p1"}}))
    result = await perform(app, "create_profile", {"attributes__email": "a@example.com"}, vendor)
    assert result == {"type": "profile", "id": "p1"}
    assert vendor.last.headers["content-type"] == JSON_API
    assert json.loads(vendor.last.content) == {
        "data": {"type": "profile", "attributes": {"email": "a@example.com"}}
    }


def test_one_resource_holding_one_list_is_not_a_list(tmp_path: Path) -> None:
    manifest = imported(tmp_path)
    fetch = op(manifest, "fetch_thing")
    assert (fetch.type, fetch.http.results) == (ActionType.READ, ())
    assert {o.key for o in fetch.outputs} == {"sid", "capabilities"}
    listing = op(manifest, "list_things")
    assert (listing.type, listing.http.results) == (ActionType.SEARCH, ("things",))


def test_media_types_behind_a_reference_and_rules_of_required_properties(tmp_path: Path) -> None:
    create = op(imported(tmp_path), "create_address")
    # "name or company": an object with both, neither required alone.
    assert {(spec.key, spec.required) for spec in create.inputs} == {
        ("name", False),
        ("company", False),
    }
    assert {o.key for o in create.outputs} == {"name", "company"}


def test_an_overlay_flattens_a_body_deeper(tmp_path: Path) -> None:
    shallow = op(imported(tmp_path), "create_event")
    assert field(shallow, "attributes__profile__data").type.value == "json"
    assert field(shallow, "attributes__profile__data").required
    deep = op(
        imported(tmp_path, {"actions": {"create_event": {"flatten": 4}}}),
        "create_event",
    )
    keys = {spec.key for spec in deep.inputs}
    assert {"attributes__name", "attributes__profile__data__attributes__email"} <= keys
    # Deeper than asked stays JSON; the nested resource's type is sent, not asked.
    assert "attributes__profile__data__attributes__location" in keys
    assert "attributes__profile__data__type" not in keys


def test_an_overlay_gives_a_dropdown_and_the_test_inputs_by_the_descriptions_names(
    tmp_path: Path,
) -> None:
    things = {"operation": "list_things", "value": "{sid}", "inputs": {"PageSize": 1000}}
    manifest = imported(
        tmp_path,
        {
            "test": {"operation": "list_things", "inputs": {"PageSize": 1}},
            "actions": {"fetch_thing": {"fields": {"sid": {"choices_from": things}}}},
        },
    )
    assert field(op(manifest, "list_things"), "page_size")
    dynamic = field(op(manifest, "fetch_thing"), "sid").dynamic
    assert dynamic is not None and dynamic.inputs == {"page_size": 1000}
    assert manifest.test is not None and manifest.test.inputs == {"page_size": 1}


async def test_an_overlay_makes_basic_auth_of_an_api_key_and_an_empty_password(
    tmp_path: Path,
) -> None:
    document = description()
    document["components"]["securitySchemes"] = {"basic": {"type": "http", "scheme": "basic"}}
    document["security"] = [{"basic": []}]
    path = tmp_path / "basic.json"
    path.write_text(json.dumps(document))
    overlay = {
        "auth": {
            "fields": {"username": {"key": "api_key", "label": "API key"}},
            "basic": {"password": ""},
        }
    }
    manifest = import_description(path, overlay=Overlay.model_validate(overlay)).manifest
    assert [f.key for f in manifest.auth.fields] == ["api_key"]
    app = build_app(manifest)
    vendor = Vendor(lambda _: httpx2.Response(200, json={"sid": "T1", "capabilities": []}))
    await perform(app, "fetch_thing", {"sid": "T1"}, vendor, {"api_key": "test_0dc8"})
    assert vendor.last.headers["authorization"] == "Basic dGVzdF8wZGM4Og=="  # "test_0dc8:"


async def test_a_choice_label_has_no_gaps_where_values_are_missing(tmp_path: Path) -> None:
    things = {"operation": "list_things", "value": "{sid}", "label": "{name} {sid}"}
    listed = {"things": [{"sid": "T1", "name": "Lamp"}, {"sid": "T2", "name": None}]}
    vendor = Vendor(lambda _: httpx2.Response(200, json=listed))
    (page,) = await thing_choices(tmp_path, things, vendor, 0)
    assert [(c.value, c.label) for c in page.choices] == [("T1", "Lamp T1"), ("T2", "T2")]


async def test_a_json_api_error_says_its_detail(tmp_path: Path) -> None:
    app = build_app(imported(tmp_path))
    error = {
        "id": "7a5f1c2e",
        "status": 400,
        "code": "invalid",
        "title": "Invalid input.",
        "detail": "Invalid email address",
        "source": {"pointer": "/data/attributes/email"},
    }
    vendor = Vendor(lambda _: httpx2.Response(400, json={"errors": [error]}))
    with pytest.raises(HaltError, match="Invalid email address"):
        await perform(app, "create_profile", {"attributes__email": "not an address"}, vendor)


def test_an_overlay_drops_a_default_a_filter_must_not_send(tmp_path: Path) -> None:
    document = description()
    listing = document["paths"]["/things"]["get"]
    listing["parameters"].append(
        {"name": "kind", "in": "query", "schema": {"type": "string", "default": "lamp"}}
    )
    path = tmp_path / "defaults.json"
    path.write_text(json.dumps(document))

    def kind(overlay: dict[str, Any]) -> Any:
        made = import_description(path, overlay=Overlay.model_validate(overlay)).manifest
        return field(op(made, "list_things"), "kind").default

    assert kind({}) == "lamp"
    assert kind({"fields": {"kind": {"label": "Kind"}}}) == "lamp"
    assert kind({"fields": {"kind": {"default": None}}}) is None


async def test_a_dropdown_follows_the_next_page_link_of_each_answer(tmp_path: Path) -> None:
    things = {
        "operation": "list_things",
        "value": "{sid}",
        "page_style": "next",
        "next": "meta.next_page_url",
        "page_size_input": "PageSize",
        "page_size": 2,
    }
    link = "https://api.shapes.example/things?PageSize=2&PageToken=PT2&Page=1"
    pages = [
        {"things": [{"sid": "T1"}, {"sid": "T2"}], "meta": {"next_page_url": link}},
        {"things": [{"sid": "T3"}], "meta": {"next_page_url": None}},
    ]
    vendor = Vendor(lambda r: httpx2.Response(200, json=pages["PageToken" in str(r.url)]))
    first, second = await thing_choices(tmp_path, things, vendor, 0, 1)
    assert [c.value for c in first.choices] == ["T1", "T2"] and first.has_more
    assert [c.value for c in second.choices] == ["T3"] and not second.has_more
    # Page 1 is the first page's link followed: its query, on the operation's own path.
    assert [str(r.url) for r in vendor.requests] == [
        "https://api.shapes.example/things?PageSize=2",
        "https://api.shapes.example/things?PageSize=2",
        link,
    ]


def test_a_next_page_dropdown_says_where_the_link_is(tmp_path: Path) -> None:
    things = {"operation": "list_things", "page_style": "next"}
    with pytest.raises(ValidationError, match="needs next"):
        Overlay.model_validate({"fields": {"sid": {"choices_from": things}}})
