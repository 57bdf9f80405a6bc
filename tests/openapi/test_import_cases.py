"""The importer on descriptions built to hold what real ones do, case by case."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from actionruns.openapi import ImportFailed, import_description
from actionruns.openapi.importer import Report
from actionruns.openapi.load import load
from actionruns.openapi.overlay import Overlay
from actionruns.sdk.app import ActionType
from actionruns.sdk.auth import AuthType
from actionruns.sdk.described.manifest import AppManifest, FieldSpec, OperationSpec
from actionruns.sdk.described.runtime import build_app
from actionruns.sdk.fields import FieldType
from actionruns.sdk.lint import lint_app
from tests.openapi.petstore import petstore


def write(folder: Path, name: str, document: Any) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(document) if name.endswith(".json") else yaml.safe_dump(document)
    path.write_text(text)
    return path


def field(operation: OperationSpec, key: str) -> FieldSpec:
    found = {spec.key: spec for spec in operation.inputs}
    assert key in found, f"{operation.key} has no field {key}: {sorted(found)}"
    return found[key]


def op(manifest: AppManifest, key: str) -> OperationSpec:
    found = manifest.operation(key)
    assert found is not None, f"no operation {key}: {[o.key for o in manifest.operations]}"
    return found


@pytest.fixture
def imported(tmp_path: Path) -> Report:
    return import_description(write(tmp_path, "petstore.yaml", petstore()))


def test_an_app_is_made_with_a_title_key_and_source(imported: Report) -> None:
    manifest = imported.manifest
    assert manifest.key == "petstore_api"
    assert manifest.title == "Petstore API"
    assert manifest.description == "Pets, their owners and photos."
    assert manifest.source.version == "1.2.3"
    assert manifest.source.spec_version == "3.0.3"
    assert manifest.source.license == "MIT"
    assert len(manifest.source.sha256) == 64
    # A server variable with a default is filled in.
    assert manifest.base_url == "https://eu.pets.example.com/v1"


def test_operations_become_actions_and_deprecated_or_unsendable_ones_are_left_out(
    imported: Report,
) -> None:
    keys = {operation.key for operation in imported.manifest.actions}
    assert keys == {
        "list_pets",
        "create_pet",
        "show_pet_by_id",
        "delete_pet",
        "upload_photo",
        "create_order",
        "get_tree",
        "who_am_i",
    }
    assert dict(imported.skipped) == {
        "PUT /pets/{petId}": "deprecated",
        "POST /exports": "sends only application/xml",
    }
    titles = {o.key: o.title for o in imported.manifest.actions}
    assert titles["create_pet"] == "Create a pet"  # the summary, without its full stop
    described = op(imported.manifest, "create_pet").description
    assert described == "Adds a pet to the store. Its name must be unique."


def test_gets_are_searches_or_reads_and_the_rest_writes(imported: Report) -> None:
    types = {o.key: o.type for o in imported.manifest.actions}
    assert types["list_pets"] is ActionType.SEARCH
    assert types["show_pet_by_id"] is ActionType.READ
    assert types["create_pet"] is ActionType.WRITE
    assert types["delete_pet"] is ActionType.WRITE


def test_parameters_become_typed_fields(imported: Report) -> None:
    listing = op(imported.manifest, "list_pets")
    assert field(listing, "limit").type is FieldType.INTEGER
    tags = field(listing, "tags")
    assert tags.list and tags.type is FieldType.STRING
    assert field(listing, "page").default == 1  # through a $ref to components.parameters
    # A header that can only have one value is sent, not asked for.
    assert "x_api_version" not in {f.key for f in listing.inputs}
    fixed = [b for b in listing.http.bindings if b.location == "header"]
    assert [(b.name, b.value) for b in fixed] == [("X-Api-Version", "2024-01-01")]
    tags_binding = next(b for b in listing.http.bindings if b.name == "tags")
    assert (tags_binding.style, tags_binding.explode) == ("form", False)
    shown = op(imported.manifest, "show_pet_by_id")
    pet_id = field(shown, "pet_id")  # from the path item's parameters
    assert pet_id.required and pet_id.type is FieldType.INTEGER


def test_the_body_becomes_fields_flattened_with_double_underscores(imported: Report) -> None:
    create = op(imported.manifest, "create_pet")
    keys = [f.key for f in create.inputs]
    assert "id" not in keys  # readOnly
    assert "internal" not in keys  # deprecated
    assert field(create, "name").required
    assert field(create, "name").placeholder == "Rex"
    assert field(create, "name").help_text == "The pet's name."
    assert not field(create, "tag").required  # nullable (3.0)
    assert field(create, "nickname").type is FieldType.STRING  # type: [string, null] (3.1)
    status = field(create, "status")
    assert [c.value for c in status.choices] == ["available", "pending", "sold"]
    assert status.default == "available"
    assert field(create, "born_at").type is FieldType.DATETIME
    assert field(create, "weight").type is FieldType.NUMBER
    assert field(create, "vaccinated").type is FieldType.BOOLEAN
    assert field(create, "toys").list
    assert field(create, "vets").type is FieldType.JSON  # a list of objects
    assert field(create, "owner__name").type is FieldType.STRING
    assert field(create, "owner__address__city").type is FieldType.STRING
    assert field(create, "owner__address__geo").type is FieldType.JSON  # past the depth
    assert field(create, "labels").type is FieldType.DICT
    assert field(create, "secret_code").secret
    # oneOf of objects: any one may be sent, so the properties of all, none required.
    assert not field(create, "kind__meows").required
    assert field(create, "kind__barks").type is FieldType.BOOLEAN
    # anyOf a string or Stripe's "unset" empty string: a (long) text.
    assert field(create, "memo").type is FieldType.TEXT
    city = next(b for b in create.http.bindings if b.field == "owner__address__city")
    assert city.path == ("owner", "address", "city")
    assert create.http.body == "json"


def test_outputs_and_samples_come_from_the_answer(imported: Report) -> None:
    listing = op(imported.manifest, "list_pets")
    assert listing.http.results == ("data",)  # the list inside the answer
    assert listing.sample["name"] == "Rex"  # the description's example, first item
    assert {"id", "name", "owner__address__city"} <= {o.key for o in listing.outputs}
    shown = op(imported.manifest, "show_pet_by_id")
    assert shown.http.results == ("data",)  # an envelope unwrapped
    assert shown.sample["name"] == "Rex"  # made from the property's example
    deleted = op(imported.manifest, "delete_pet")
    assert [(o.key, o.type) for o in deleted.outputs] == [("status", FieldType.INTEGER)]
    assert deleted.sample == {"status": 204}
    tree = op(imported.manifest, "get_tree")
    assert {o.key for o in tree.outputs} >= {"name", "parent__name"}  # recursion ends


def test_results_the_overlay_names_have_the_outputs_and_sample(tmp_path: Path) -> None:
    """A list that is a POST (RPC-style APIs): where the overlay says the result is, the
    outputs and sample are of each item there."""
    document = petstore()
    document["paths"]["/pets.search"] = {
        "post": {
            "operationId": "searchPets",
            "summary": "Search pets",
            # The answer of GET /pets: {"data": [Pet], "has_more"}.
            "responses": document["paths"]["/pets"]["get"]["responses"],
        }
    }
    overlay = Overlay.model_validate(
        {"actions": {"searchPets": {"type": "SEARCH", "results": ["data"]}}}
    )
    path = write(tmp_path, "petstore.yaml", document)
    search = op(import_description(path, overlay=overlay).manifest, "search_pets")
    assert search.http.results == ("data",)
    assert {"id", "name", "owner__address__city"} <= {o.key for o in search.outputs}
    assert "has_more" not in {o.key for o in search.outputs}
    assert search.sample["name"] == "Rex" and search.sample["id"] == 7


def test_recursive_schemas_end_where_they_repeat(imported: Report) -> None:
    tree = op(imported.manifest, "get_tree")
    assert tree.sample["name"] == "string"
    filter_binding = next(b for b in tree.http.bindings if b.name == "filter")
    assert filter_binding.style == "deepObject"


def test_multipart_and_form_bodies(imported: Report) -> None:
    upload = op(imported.manifest, "upload_photo")
    assert upload.http.body == "multipart"
    assert field(upload, "file").type is FieldType.FILE
    assert field(upload, "file").required
    order = op(imported.manifest, "create_order")
    assert order.http.body == "form"
    codes = next(b for b in order.http.bindings if b.name == "codes")
    assert (codes.style, codes.explode) == ("form", False)


def test_the_most_usable_scheme_is_chosen_and_the_others_reported(imported: Report) -> None:
    auth = imported.manifest.auth
    assert auth.type is AuthType.API_KEY
    assert auth.scheme == "apiKey"
    assert [(p.location, p.name, p.template) for p in auth.placements] == [
        ("header", "X-API-Key", "{api_key}")
    ]
    assert auth.fields[0].help_text == "Your key, from the settings page."
    assert set(imported.auth_alternatives) == {"apiKey", "oauth"}


def test_oauth2_takes_its_urls_and_the_scopes_the_operations_ask(tmp_path: Path) -> None:
    manifest = import_description(
        write(tmp_path, "petstore.json", petstore()),
        overlay=_overlay({"auth": {"scheme": "oauth"}}),
    ).manifest
    oauth2 = manifest.auth.oauth2
    assert manifest.auth.type is AuthType.OAUTH2
    assert oauth2 is not None
    assert oauth2.authorize_url == "https://pets.example.com/oauth/authorize"
    # A relative token URL is relative to the server.
    assert oauth2.token_url == "https://eu.pets.example.com/oauth/token"
    assert oauth2.scopes == ("pets:admin", "pets:read")


def test_client_credentials_and_basic_and_combined_schemes(tmp_path: Path) -> None:
    document = petstore()
    document["components"]["securitySchemes"] = {
        "machine": {
            "type": "oauth2",
            "flows": {
                "clientCredentials": {"tokenUrl": "https://auth.example.com/token", "scopes": {}}
            },
        },
        "basic": {"type": "http", "scheme": "basic"},
        "app": {"type": "apiKey", "in": "query", "name": "app_key"},
        "user": {"type": "apiKey", "in": "cookie", "name": "session"},
    }
    document["security"] = [{"machine": []}, {"basic": []}, {"app": [], "user": []}]
    for path in document["paths"].values():
        for operation in path.values():
            if isinstance(operation, dict):
                operation.pop("security", None)
    source = write(tmp_path, "schemes.json", document)
    chosen = import_description(source).manifest.auth
    # Of three alternatives, two fields of one scheme before two schemes or OAuth2.
    assert chosen.type is AuthType.BASIC
    machine = import_description(
        source, overlay=_overlay({"auth": {"scheme": "machine"}})
    ).manifest.auth
    assert machine.client_credentials is not None
    assert machine.client_credentials.token_url == "https://auth.example.com/token"
    assert [f.key for f in machine.fields] == ["client_id", "client_secret"]
    both = import_description(
        source, overlay=_overlay({"auth": {"scheme": ["app", "user"]}})
    ).manifest.auth
    assert both.type is AuthType.CUSTOM
    assert [(p.location, p.name, p.template) for p in both.placements] == [
        ("query", "app_key", "{app}"),
        ("cookie", "session", "{user}"),
    ]


def test_a_connection_test_is_found_and_the_app_passes_the_lint(imported: Report) -> None:
    manifest = imported.manifest
    assert manifest.test is not None
    assert manifest.test.operation == "who_am_i"
    assert manifest.test.label == "{name} ({email})"
    app = build_app(manifest)
    assert app.test is not None
    problems = [str(p) for p in lint_app(app)]
    assert problems == []


def test_references_across_files_in_a_folder(tmp_path: Path) -> None:
    write(
        tmp_path,
        "api/openapi.yaml",
        {
            "openapi": "3.1.0",
            "info": {"title": "Split", "version": "1"},
            "servers": [{"url": "https://split.example.com"}],
            "paths": {"/things": {"$ref": "paths/things.yaml"}},
        },
    )
    write(
        tmp_path,
        "api/paths/things.yaml",
        {
            "post": {
                "operationId": "makeThing",
                "requestBody": {
                    "content": {
                        "application/json": {"schema": {"$ref": "../schemas/thing.yaml#/Thing"}}
                    }
                },
                "responses": {"200": {"description": "ok"}},
            }
        },
    )
    write(
        tmp_path,
        "api/schemas/thing.yaml",
        {
            "Thing": {
                "type": "object",
                "properties": {"id": {"$ref": "common.yaml#/Id"}, "name": {"type": "string"}},
            }
        },
    )
    write(tmp_path, "api/schemas/common.yaml", {"Id": {"type": "integer", "description": "An id."}})
    report = import_description(tmp_path / "api")
    thing = op(report.manifest, "make_thing")
    assert field(thing, "id").type is FieldType.INTEGER
    assert field(thing, "id").help_text == "An id."
    assert report.manifest.source.spec_version == "3.1.0"


def test_an_operation_in_a_file_of_its_own(tmp_path: Path) -> None:
    # DigitalOcean's description: each operation a $ref to a file whose own references are
    # relative to it.
    write(
        tmp_path,
        "spec/openapi.yaml",
        {
            "openapi": "3.0.0",
            "info": {"title": "Cloud", "version": "2"},
            "servers": [{"url": "https://cloud.example.com"}],
            "paths": {"/v2/servers": {"get": {"$ref": "resources/servers/servers_list.yml"}}},
        },
    )
    write(
        tmp_path,
        "spec/resources/servers/servers_list.yml",
        {
            "operationId": "servers_list",
            "summary": "List all servers",
            "parameters": [{"$ref": "../../shared/parameters.yml#/per_page"}],
            "responses": {
                "200": {
                    "description": "ok",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "servers": {
                                        "type": "array",
                                        "items": {"$ref": "models/server.yml"},
                                    }
                                },
                            }
                        }
                    },
                }
            },
        },
    )
    write(
        tmp_path,
        "spec/resources/servers/models/server.yml",
        {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}},
    )
    write(
        tmp_path,
        "spec/shared/parameters.yml",
        {"per_page": {"name": "per_page", "in": "query", "schema": {"type": "integer"}}},
    )
    listed = op(import_description(tmp_path / "spec").manifest, "servers_list")
    assert listed.title == "List all servers"
    assert listed.type is ActionType.SEARCH
    assert field(listed, "per_page").type is FieldType.INTEGER
    assert [output.key for output in listed.outputs] == ["id", "name"]


def test_swagger_2(tmp_path: Path) -> None:
    document = {
        "swagger": "2.0",
        "info": {"title": "Old API", "version": "2"},
        "host": "old.example.com",
        "basePath": "/api",
        "schemes": ["http", "https"],
        "securityDefinitions": {"key": {"type": "apiKey", "in": "query", "name": "token"}},
        "security": [{"key": []}],
        "paths": {
            "/notes": {
                "post": {
                    "operationId": "createNote",
                    "consumes": ["application/x-www-form-urlencoded"],
                    "parameters": [
                        {"name": "text", "in": "formData", "type": "string", "required": True},
                        {
                            "name": "tags",
                            "in": "formData",
                            "type": "array",
                            "items": {"type": "string"},
                            "collectionFormat": "multi",
                        },
                    ],
                    "responses": {
                        "201": {
                            "description": "ok",
                            "schema": {"$ref": "#/definitions/Note"},
                            "examples": {"application/json": {"id": "n1", "text": "hi"}},
                        }
                    },
                },
                "get": {
                    "operationId": "listNotes",
                    "parameters": [
                        {
                            "name": "ids",
                            "in": "query",
                            "type": "array",
                            "items": {"type": "string"},
                            "collectionFormat": "pipes",
                        }
                    ],
                    "responses": {
                        "200": {
                            "description": "ok",
                            "schema": {"type": "array", "items": {"$ref": "#/definitions/Note"}},
                        }
                    },
                },
            },
            "/notes/{id}/file": {
                "put": {
                    "operationId": "attach",
                    "parameters": [
                        {"name": "id", "in": "path", "type": "string", "required": True},
                        {"name": "upload", "in": "formData", "type": "file"},
                    ],
                    "responses": {"200": {"description": "ok"}},
                }
            },
            "/notes/{id}": {
                "patch": {
                    "operationId": "updateNote",
                    "parameters": [
                        {"name": "id", "in": "path", "type": "string", "required": True},
                        {"name": "body", "in": "body", "schema": {"$ref": "#/definitions/Note"}},
                    ],
                    "responses": {"200": {"description": "ok"}},
                }
            },
        },
        "definitions": {
            "Note": {
                "type": "object",
                "properties": {"id": {"type": "string"}, "text": {"type": "string"}},
            }
        },
    }
    report = import_description(write(tmp_path, "old.json", document))
    manifest = report.manifest
    assert manifest.base_url == "https://old.example.com/api"
    assert manifest.source.kind == "swagger"
    assert [(p.location, p.name) for p in manifest.auth.placements] == [("query", "token")]
    create = op(manifest, "create_note")
    assert create.http.body == "form"
    assert field(create, "text").required
    assert field(create, "tags").list
    assert create.sample == {"id": "n1", "text": "hi"}
    listing = op(manifest, "list_notes")
    assert listing.type is ActionType.SEARCH
    assert next(b for b in listing.http.bindings if b.name == "ids").style == "pipeDelimited"
    assert op(manifest, "attach").http.body == "multipart"
    assert field(op(manifest, "attach"), "upload").type is FieldType.FILE
    assert op(manifest, "update_note").http.body == "json"
    assert {f.key for f in op(manifest, "update_note").inputs} == {"id", "id_2", "text"}


def _overlay(settings: dict[str, Any]) -> Any:
    from actionruns.openapi.overlay import Overlay

    return Overlay.model_validate(settings)


BAD = {
    "not JSON or YAML": ("bad.yaml", "openapi: [3\n  : :", "neither valid JSON nor valid YAML"),
    "not a description": ("x.json", '{"hello": "world"}', "not an OpenAPI 3.x or Swagger 2.0"),
    "a list": ("x.json", "[1, 2]", "not an OpenAPI description"),
    "paths not an object": (
        "x.json",
        '{"openapi": "3.0.0", "paths": [1]}',
        "paths must be an object",
    ),
}


@pytest.mark.parametrize("case", list(BAD), ids=list(BAD))
def test_a_bad_description_fails_with_a_clear_message(tmp_path: Path, case: str) -> None:
    name, text, message = BAD[case]
    (tmp_path / name).write_text(text)
    with pytest.raises(ImportFailed, match=message):
        import_description(tmp_path / name)


def _with_ref(tmp_path: Path, ref: str) -> Path:
    document = petstore()
    document["components"]["schemas"]["Vet"] = {"$ref": ref}
    return write(tmp_path / "spec", "openapi.json", document)


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("https://example.com/vet.json", "never from the network"),
        ("http://169.254.169.254/latest/meta-data", "never from the network"),
        ("file:///etc/passwd", "out of the description's folder"),
        ("../../../../etc/passwd#/x", "out of the description's folder"),
        ("../outside.json", "out of the description's folder"),
    ],
)
def test_references_never_leave_the_folder(tmp_path: Path, ref: str, message: str) -> None:
    (tmp_path / "outside.json").write_text('{"type": "string"}')
    with pytest.raises(ImportFailed, match=message):
        import_description(_with_ref(tmp_path, ref))


def test_a_cycle_of_references_fails(tmp_path: Path) -> None:
    document = petstore()
    document["components"]["schemas"]["Vet"] = {"$ref": "#/components/schemas/Loop"}
    document["components"]["schemas"]["Loop"] = {"$ref": "#/components/schemas/Vet"}
    with pytest.raises(ImportFailed, match="never ends"):
        import_description(write(tmp_path, "cycle.json", document))


def test_a_dangling_reference_in_a_schema_is_read_as_json_and_said(tmp_path: Path) -> None:
    report = import_description(_with_ref(tmp_path, "#/components/schemas/Missing"))
    assert field(op(report.manifest, "create_pet"), "vets").type is FieldType.JSON
    assert any("Missing" in warning for warning in report.warnings)


def test_an_alias_bomb_is_refused(tmp_path: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for level in range(1, 9):
        previous = f"*a{level - 1}"
        lines.append(f"a{level}: &a{level} [{', '.join([previous] * 10)}]")
    text = "openapi: 3.0.0\ninfo: {title: bomb, version: '1'}\npaths: {}\nx-bomb:\n" + "\n".join(
        "  " + line for line in lines
    )
    (tmp_path / "bomb.yaml").write_text(text)
    with pytest.raises(ImportFailed, match="YAML aliases"):
        import_description(tmp_path / "bomb.yaml")


def test_an_enormous_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from actionruns.openapi import load

    monkeypatch.setattr(load, "MAX_FILE_BYTES", 1000)
    with pytest.raises(ImportFailed, match="over the"):
        import_description(write(tmp_path, "big.json", petstore()))


def test_a_relative_server_needs_a_base_url(tmp_path: Path) -> None:
    document = petstore()
    document["servers"] = [{"url": "/v1"}]
    source = write(tmp_path, "relative.json", document)
    with pytest.raises(ImportFailed, match="--base-url"):
        import_description(source)
    manifest = import_description(source, base_url="https://pets.internal.example/v1").manifest
    assert manifest.base_url == "https://pets.internal.example/v1"


def test_numbers_are_read_as_yaml_1_2_reads_them(tmp_path: Path) -> None:
    # YAML 1.1 reads 1e-08 (no dot) as a string; OpenAPI's YAML is 1.2, where it is a number.
    document = petstore()
    text = yaml.safe_dump(document).replace("maximum: 100", "maximum: 1e2")
    path = tmp_path / "petstore.yaml"
    path.write_text(text + "x-rate: 1e-08\n")
    description = load(path)
    assert description.root["x-rate"] == 1e-08
    limit = description.root["paths"]["/pets"]["get"]["parameters"][0]["schema"]
    assert limit["maximum"] == 100.0
