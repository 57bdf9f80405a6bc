"""What an imported action sends: every serialization style, body kind and credential place,
and how the app's answers map to results and error classes."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx2
import pytest
import yaml

from actionruns.openapi import import_description
from actionruns.openapi.errors import ImportFailed
from actionruns.openapi.overlay import Overlay
from actionruns.sdk.app import App, normalize_results
from actionruns.sdk.context import Context, open_context
from actionruns.sdk.described.manifest import AppManifest
from actionruns.sdk.described.runtime import build_app
from actionruns.sdk.errors import ExpiredAuthError, HaltError, ThrottledError, TransientError
from actionruns.sdk.fixtures import perform_with_fields
from actionruns.sdk.outbound import OutboundGuard
from tests.openapi.petstore import petstore

Handler = Callable[[httpx2.Request], httpx2.Response]
CREDENTIALS = {"api_key": "k-123456"}


def manifest_of(
    tmp_path: Path, overlay: Mapping[str, Any] | None = None, document: Any = None
) -> AppManifest:
    path = tmp_path / "petstore.yaml"
    path.write_text(yaml.safe_dump(document or petstore()))
    rules = Overlay.model_validate(overlay or {})
    return import_description(path, overlay=rules).manifest


class Vendor:
    """The vendor's side: records each request, answers with ``answer``."""

    def __init__(self, answer: Handler | None = None) -> None:
        self.requests: list[httpx2.Request] = []
        self.answer = answer or (lambda request: httpx2.Response(200, json={"ok": True}))

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        request.read()
        self.requests.append(request)
        return self.answer(request)

    @property
    def last(self) -> httpx2.Request:
        return self.requests[-1]


def vendor_context(
    app: App,
    vendor: Callable[[httpx2.Request], httpx2.Response],
    credentials: Mapping[str, Any] = CREDENTIALS,
) -> AbstractAsyncContextManager[Context]:
    """The app's context, its requests answered by the vendor stand-in."""
    return open_context(
        app.auth,
        credentials,
        OutboundGuard(),
        app_key=app.key,
        transport=httpx2.MockTransport(vendor),
    )


async def connection_label(app: App, vendor: Vendor) -> str | None:
    """What the app's connection test says of the account, the vendor answering."""
    assert app.test is not None
    async with vendor_context(app, vendor) as ctx:
        return await app.test(ctx)


async def perform(
    app: App,
    action: str,
    inputs: Mapping[str, Any],
    vendor: Vendor,
    credentials: Mapping[str, Any] = CREDENTIALS,
) -> Any:
    found = app.action(action)
    assert found is not None
    async with vendor_context(app, vendor, credentials) as ctx:
        return await perform_with_fields(found, ctx, inputs)


def query(request: httpx2.Request) -> list[tuple[str, str]]:
    return parse_qsl(request.url.query.decode(), keep_blank_values=True)


async def test_query_styles_path_parameters_and_fixed_headers(tmp_path: Path) -> None:
    app = build_app(manifest_of(tmp_path))
    vendor = Vendor(
        lambda r: httpx2.Response(200, json={"data": [{"id": 1, "name": "Rex"}], "has_more": False})
    )
    result = await perform(app, "list_pets", {"limit": "5", "tags": ["a", "b,c"]}, vendor)
    request = vendor.last
    assert request.method == "GET"
    assert request.url.path == "/v1/pets"
    assert request.url.host == "eu.pets.example.com"
    assert query(request) == [("limit", "5"), ("tags", "a,b,c"), ("page", "1")]
    assert request.headers["X-Api-Version"] == "2024-01-01"
    assert request.headers["X-API-Key"] == "k-123456"
    assert normalize_results(result) == [{"id": 1, "name": "Rex"}]  # the list, unwrapped


async def test_deep_object_pipe_delimited_and_label_style(tmp_path: Path) -> None:
    app = build_app(manifest_of(tmp_path))
    vendor = Vendor()
    inputs = {"tree_id": "a/../b", "filter": {"depth": 2}, "fields": ["name", "parent"]}
    await perform(app, "get_tree", inputs, vendor)
    # A path parameter stays one segment whatever it holds.
    assert vendor.last.url.raw_path.decode().split("?")[0] == "/v1/trees/.a%2F..%2Fb"
    assert query(vendor.last) == [("filter[depth]", "2"), ("fields", "name|parent")]


async def test_a_dot_segment_is_refused(tmp_path: Path) -> None:
    document = petstore()
    document["paths"]["/pets/{petId}"]["parameters"][0]["schema"] = {"type": "string"}
    app = build_app(manifest_of(tmp_path, document=document))
    with pytest.raises(HaltError, match="cannot be"):
        await perform(app, "show_pet_by_id", {"pet_id": ".."}, Vendor())


async def test_a_json_body_is_rebuilt_from_flattened_fields(tmp_path: Path) -> None:
    app = build_app(manifest_of(tmp_path))
    vendor = Vendor(lambda r: httpx2.Response(201, json={"id": 9, "name": "Rex"}))
    inputs = {
        "name": "Rex",
        "vaccinated": "yes",
        "owner__name": "Ada",
        "owner__address__city": "Paris",
        "labels": {"colour": "brown"},
        "vets": [{"name": "Dr. No"}],
        "toys": ["ball", "rope"],
    }
    result = await perform(app, "create_pet", inputs, vendor)
    request = vendor.last
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.content) == {
        "name": "Rex",
        "status": "available",  # the default
        "vaccinated": True,
        "owner": {"name": "Ada", "address": {"city": "Paris"}},
        "labels": {"colour": "brown"},
        "vets": [{"name": "Dr. No"}],
        "toys": ["ball", "rope"],
    }
    assert result == {"id": 9, "name": "Rex"}


async def test_two_fields_given_one_key_are_one_field_sent_in_both_places(
    tmp_path: Path,
) -> None:
    document = petstore()
    replace = document["paths"]["/pets/{petId}"]["put"]
    replace.pop("deprecated")
    replace["requestBody"] = {
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["petId"],
                    "properties": {"petId": {"type": "integer"}, "name": {"type": "string"}},
                }
            }
        }
    }
    overlay = {"actions": {"replacePet": {"fields": {"pet_id_2": {"key": "pet_id"}}}}}
    app = build_app(manifest_of(tmp_path, overlay, document))
    action = app.action("replace_pet")
    assert action is not None
    fields = [(f.key, f.required) for f in action.static_inputs]
    assert fields == [("pet_id", True), ("name", False)]
    vendor = Vendor()
    await perform(app, "replace_pet", {"pet_id": 7, "name": "Rex"}, vendor)
    assert vendor.last.url.path == "/v1/pets/7"
    assert json.loads(vendor.last.content) == {"petId": 7, "name": "Rex"}
    overlay = {"actions": {"replacePet": {"fields": {"pet_id_2": {"key": "name"}}}}}
    with pytest.raises(ImportFailed, match="key 'name', of different types"):
        manifest_of(tmp_path, overlay, document)


async def test_a_required_body_of_which_nothing_is_asked_is_sent_empty(tmp_path: Path) -> None:
    """Xero's "email invoice" requires a JSON body of one meaningless property: with that
    property hidden, an empty object is sent, not no body at all."""
    document = petstore()
    replace = document["paths"]["/pets/{petId}"]["put"]
    replace.pop("deprecated")
    replace["requestBody"] = {
        "required": True,
        "content": {
            "application/json": {
                "schema": {"type": "object", "properties": {"Status": {"type": "string"}}}
            }
        },
    }
    hidden = {"actions": {"replacePet": {"fields": {"Status": {"hidden": True}}}}}
    vendor = Vendor()
    await perform(
        build_app(manifest_of(tmp_path, hidden, document)), "replace_pet", {"pet_id": 7}, vendor
    )
    assert vendor.last.headers["content-type"] == "application/json"
    assert json.loads(vendor.last.content) == {}
    # Where the body's fields are asked, one left empty is not sent, nor a body made for it.
    await perform(
        build_app(manifest_of(tmp_path, None, document)), "replace_pet", {"pet_id": 7}, vendor
    )
    assert vendor.last.content == b""


async def test_a_form_body_in_deep_object_and_form_styles(tmp_path: Path) -> None:
    app = build_app(manifest_of(tmp_path))
    vendor = Vendor()
    inputs = {
        "pet_id": 3,
        "metadata": {"a": "1", "b": "2"},
        "items": ["x", "y"],
        "codes": ["p", "q"],
    }
    await perform(app, "create_order", inputs, vendor)
    request = vendor.last
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    # In the description's order (which safe_dump sorted).
    assert parse_qsl(request.content.decode()) == [
        ("codes", "p,q"),
        ("items", "x"),
        ("items", "y"),
        ("metadata[a]", "1"),
        ("metadata[b]", "2"),
        ("pet_id", "3"),
    ]


async def test_a_multipart_body_with_a_file_given_as_a_data_uri(tmp_path: Path) -> None:
    app = build_app(manifest_of(tmp_path))
    vendor = Vendor(lambda r: httpx2.Response(200, json={"url": "https://cdn/x.png"}))
    inputs = {
        "pet_id": 1,
        "file": "data:image/png;name=rex.png;base64,iVBORw0KGgo=",
        "caption": "Hi",
    }
    await perform(app, "upload_photo", inputs, vendor)
    request = vendor.last
    assert request.headers["content-type"].startswith("multipart/form-data; boundary=")
    body = request.content
    assert b'name="caption"\r\n\r\nHi' in body
    assert b'name="file"; filename="rex.png"' in body
    assert b"Content-Type: image/png" in body
    assert b"\x89PNG\r\n\x1a\n" in body


async def test_a_file_url_is_fetched_without_the_connection_credentials(tmp_path: Path) -> None:
    app = build_app(manifest_of(tmp_path))

    def answer(request: httpx2.Request) -> httpx2.Response:
        if request.url.host == "files.example.com":
            return httpx2.Response(200, content=b"PHOTO", headers={"content-type": "image/jpeg"})
        return httpx2.Response(200, json={"url": "u"})

    vendor = Vendor(answer)
    await perform(
        app, "upload_photo", {"pet_id": 1, "file": "https://files.example.com/a/rex.jpg"}, vendor
    )
    download, upload = vendor.requests
    assert "X-API-Key" not in download.headers
    assert upload.headers["X-API-Key"] == "k-123456"
    assert b'filename="rex.jpg"' in upload.content and b"PHOTO" in upload.content


async def test_credentials_in_query_cookie_basic_and_the_base_url(tmp_path: Path) -> None:
    document = petstore()
    document["servers"] = [
        {
            "url": "https://{site}.pets.example.com/v1",
            "variables": {"site": {"default": "your-site"}},
        }
    ]
    document["components"]["securitySchemes"] = {
        "app": {"type": "apiKey", "in": "query", "name": "app_key"},
        "user": {"type": "apiKey", "in": "cookie", "name": "session"},
    }
    document["security"] = [{"app": [], "user": []}]
    document["paths"]["/pets/{petId}"]["get"].pop("security")
    app = build_app(manifest_of(tmp_path, document=document))
    assert [f.key for f in app.auth.fields] == ["app", "user", "site"]
    vendor = Vendor(lambda r: httpx2.Response(200, json={"data": {"id": 1}}))
    credentials = {"app": "A1", "user": "U1", "site": "acme"}
    result = await perform(app, "show_pet_by_id", {"pet_id": 1}, vendor, credentials)
    assert str(vendor.last.url) == "https://acme.pets.example.com/v1/pets/1?app_key=A1"
    assert vendor.last.headers["cookie"] == "session=U1"
    assert result == {"id": 1}
    with pytest.raises(ExpiredAuthError, match="letters, digits"):
        await perform(
            app, "show_pet_by_id", {"pet_id": 1}, vendor, {**credentials, "site": "evil.com/x?"}
        )


async def test_a_credential_in_the_host_and_a_header_is_asked_once(tmp_path: Path) -> None:
    document = petstore()
    document["components"]["securitySchemes"] = {
        "appId": {"type": "apiKey", "in": "header", "name": "X-App-Id"},
        "apiKey": {"type": "apiKey", "in": "header", "name": "X-Api-Key"},
    }
    document["security"] = [{"appId": [], "apiKey": []}]
    document["paths"]["/pets/{petId}"]["get"].pop("security")
    overlay = {
        "base_url": "https://{application_id}.pets.example.com",
        "auth": {"fields": {"app_id": {"key": "application_id", "label": "Application ID"}}},
    }
    app = build_app(manifest_of(tmp_path, overlay, document))
    assert [f.key for f in app.auth.fields] == ["api_key", "application_id"]
    vendor = Vendor(lambda r: httpx2.Response(200, json={"id": 1}))
    credentials = {"api_key": "K1", "application_id": "LATENCY"}
    await perform(app, "show_pet_by_id", {"pet_id": 1}, vendor, credentials)
    assert str(vendor.last.url) == "https://latency.pets.example.com/pets/1"
    assert vendor.last.headers["X-App-Id"] == "LATENCY"
    assert vendor.last.headers["X-Api-Key"] == "K1"


@pytest.mark.parametrize(
    ("status", "headers", "error", "says"),
    [
        (401, {}, ExpiredAuthError, "bad key"),
        (404, {}, HaltError, "bad key"),
        (429, {"Retry-After": "7"}, ThrottledError, "bad key"),
        (503, {}, TransientError, "bad key"),
        (408, {}, TransientError, "bad key"),
    ],
)
async def test_answers_map_to_the_error_classes(
    tmp_path: Path, status: int, headers: dict[str, str], error: type[Exception], says: str
) -> None:
    app = build_app(manifest_of(tmp_path))
    vendor = Vendor(lambda r: httpx2.Response(status, json={"message": "bad key"}, headers=headers))
    with pytest.raises(error, match=says) as raised:
        await perform(app, "delete_pet", {"pet_id": 1}, vendor)
    if isinstance(raised.value, ThrottledError):
        assert raised.value.delay == 7


async def test_an_answer_the_overlay_says_means_a_dead_key_expires_the_connection(
    tmp_path: Path,
) -> None:
    overlay = {"expired_when": [{"status": 403, "contains": "invalid_api_key"}]}
    app = build_app(manifest_of(tmp_path, overlay))
    revoked = {"message": "The provided API key is invalid.", "code": "invalid_api_key"}
    vendor = Vendor(lambda r: httpx2.Response(403, json=revoked))
    with pytest.raises(ExpiredAuthError, match="The provided API key is invalid"):
        await perform(app, "delete_pet", {"pet_id": 1}, vendor)
    other = {"message": "This key may not delete pets.", "code": "forbidden"}
    vendor = Vendor(lambda r: httpx2.Response(403, json=other))
    with pytest.raises(HaltError, match="may not delete pets"):  # other 403s halt the run
        await perform(app, "delete_pet", {"pet_id": 1}, vendor)


async def test_an_empty_answer_is_its_status(tmp_path: Path) -> None:
    app = build_app(manifest_of(tmp_path))
    result = await perform(app, "delete_pet", {"pet_id": 4}, Vendor(lambda r: httpx2.Response(204)))
    assert result == {"status": 204}


async def test_the_connection_test_names_the_account(tmp_path: Path) -> None:
    app = build_app(manifest_of(tmp_path))
    vendor = Vendor(
        lambda r: httpx2.Response(200, json={"name": "Ada", "email": "ada@example.com"})
    )
    assert await connection_label(app, vendor) == "Ada (ada@example.com)"
    assert vendor.last.url.path == "/v1/me"


async def test_client_credentials_get_a_token_once_and_again_after_a_401(tmp_path: Path) -> None:
    document = petstore()
    document["components"]["securitySchemes"] = {
        "machine": {
            "type": "oauth2",
            "flows": {
                "clientCredentials": {
                    "tokenUrl": "https://auth.example.com/token",
                    "scopes": {"pets": "all"},
                }
            },
        }
    }
    document["security"] = [{"machine": ["pets"]}]
    document["paths"]["/pets/{petId}"]["get"].pop("security")
    app = build_app(manifest_of(tmp_path, document=document))
    tokens = iter(["t1", "t2"])
    refuse_once = iter([True])

    def answer(request: httpx2.Request) -> httpx2.Response:
        if request.url.host == "auth.example.com":
            assert request.headers["authorization"].startswith("Basic ")
            assert dict(parse_qsl(request.content.decode())) == {
                "grant_type": "client_credentials",
                "scope": "pets",
            }
            return httpx2.Response(200, json={"access_token": next(tokens), "expires_in": 3600})
        if request.headers["authorization"] == "Bearer t1" and next(refuse_once, False):
            return httpx2.Response(401, json={"message": "expired"})
        return httpx2.Response(200, json={"data": {"id": 1}})

    vendor = Vendor(answer)
    credentials = {"client_id": "cid", "client_secret": "csecret-1"}
    assert await perform(app, "show_pet_by_id", {"pet_id": 1}, vendor, credentials) == {"id": 1}
    hosts = [r.url.host for r in vendor.requests]
    assert hosts == [
        "auth.example.com",
        "eu.pets.example.com",
        "auth.example.com",
        "eu.pets.example.com",
    ]
    assert vendor.last.headers["authorization"] == "Bearer t2"
    await perform(app, "show_pet_by_id", {"pet_id": 1}, vendor, credentials)
    assert len(vendor.requests) == 5  # the token is reused


async def test_dynamic_choices_from_another_operation(tmp_path: Path) -> None:
    overlay = {
        "operations": ["createOrder"],
        "actions": {
            "createOrder": {
                "fields": {
                    "pet_id": {
                        "label": "Pet",
                        "choices_from": {
                            "operation": "listPets",
                            "value": "{id}",
                            "label": "{name} ({tag})",
                            "inputs": {"tags": "{items}"},
                            "page_input": "page",
                            "page_size_input": "limit",
                            "page_size": 2,
                        },
                    }
                }
            }
        },
    }
    manifest = manifest_of(tmp_path, overlay)
    assert [o.key for o in manifest.actions] == ["create_order"]
    assert [o.key for o in manifest.operations if o.hidden] == ["list_pets"]
    app = build_app(manifest)
    action = app.action("create_order")
    assert action is not None
    pet = next(f for f in action.static_inputs if f.key == "pet_id")
    assert pet.dynamic_choices is not None
    assert pet.depends_on == ("items",)
    vendor = Vendor(
        lambda r: httpx2.Response(
            200,
            json={
                "data": [
                    {"id": 1, "name": "Rex", "tag": "dog"},
                    {"id": 2, "name": "Tom", "tag": "cat"},
                ]
            },
        )
    )
    async with vendor_context(app, vendor) as ctx:
        page = await pet.dynamic_choices(ctx, {"items": ["dog", "cat"]}, 1)
    assert [(c.value, c.label) for c in page.choices] == [("1", "Rex (dog)"), ("2", "Tom (cat)")]
    assert page.has_more  # a full page
    assert query(vendor.last) == [("limit", "2"), ("tags", "dog,cat"), ("page", "2")]


async def test_a_hook_module_signs_requests_reshapes_answers_and_tests(tmp_path: Path) -> None:
    app = build_app(manifest_of(tmp_path, {"hook": "tests.openapi.hook_example"}))
    vendor = Vendor(lambda r: httpx2.Response(200, json={"data": {"id": 1, "name": "REX"}}))
    assert await perform(app, "show_pet_by_id", {"pet_id": 1}, vendor) == {"id": 1, "name": "Rex"}
    assert len(vendor.last.headers["X-Signature"]) == 64
    assert await connection_label(app, vendor) == "key ending 3456"


def test_a_hook_that_cannot_be_imported_fails_the_build(tmp_path: Path) -> None:
    with pytest.raises(ModuleNotFoundError):
        build_app(manifest_of(tmp_path, {"hook": "tests.openapi.no_such_hooks"}))


async def test_an_object_in_a_multipart_body_is_one_json_part(tmp_path: Path) -> None:
    """Box's upload: an ``attributes`` object (JSON, before the file) and the file."""
    document = petstore()
    schema = document["paths"]["/pets/{petId}/photos"]["post"]["requestBody"]["content"][
        "multipart/form-data"
    ]["schema"]
    schema["properties"] = {
        "attributes": {
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "parent": {"type": "object", "properties": {"id": {"type": "string"}}},
            },
        },
        **schema["properties"],
    }
    app = build_app(manifest_of(tmp_path, document=document))
    vendor = Vendor(lambda r: httpx2.Response(200, json={"url": "https://cdn/x.png"}))
    inputs = {
        "pet_id": 1,
        "file": "data:image/png;name=rex.png;base64,iVBORw0KGgo=",
        "attributes__name": 'Rex "the dog".png',
        "attributes__parent__id": "12",
    }
    await perform(app, "upload_photo", inputs, vendor)
    body = vendor.last.content
    part = body.split(b'name="attributes"\r\n\r\n')[1].split(b"\r\n--")[0]
    assert json.loads(part) == {"name": 'Rex "the dog".png', "parent": {"id": "12"}}
    assert body.count(b'name="attributes') == 1
    assert body.index(b'name="attributes"') < body.index(b'name="file"')
