"""Overlay rules that make an API's awkward shapes into fields a person fills in: values made
of several fields (a chat's list of messages), outputs taken from deep in an answer,
dropdowns of only some listed items, and connection fields with choices."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx2
import pytest

from actionruns.openapi import ImportFailed
from actionruns.sdk.described.runtime import build_app
from actionruns.sdk.described.templates import fill
from actionruns.sdk.fields import FieldErrors, validate_inputs
from tests.openapi.test_requests import (
    CREDENTIALS,
    Vendor,
    connection_label,
    manifest_of,
    perform,
    vendor_context,
)

MESSAGE = {
    "type": "object",
    "required": ["role", "content"],
    "properties": {"role": {"type": "string"}, "content": {"type": "string"}},
}


def chat_api() -> dict[str, Any]:
    """An OpenAI-like API: a completion made of a list of messages, and a list of models."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "Chat", "version": "1"},
        "servers": [{"url": "https://api.chat.example.com/v1"}, {"url": "https://eu.chat.test"}],
        "security": [{"key": []}],
        "components": {"securitySchemes": {"key": {"type": "http", "scheme": "bearer"}}},
        "paths": {
            "/chat/completions": {
                "post": {
                    "operationId": "createChatCompletion",
                    "summary": "Create a chat completion",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["model", "messages"],
                                    "properties": {
                                        "model": {"type": "string"},
                                        "messages": {"type": "array", "items": MESSAGE},
                                        "stream": {"type": "boolean"},
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "a completion",
                            "content": {
                                "application/json": {
                                    "schema": {"type": "object"},
                                    "example": {
                                        "id": "c-1",
                                        "choices": [{"message": {"content": "Hi there."}}],
                                    },
                                }
                            },
                        }
                    },
                }
            },
            "/models": {
                "get": {
                    "operationId": "listModels",
                    "summary": "List models",
                    "responses": {
                        "200": {
                            "description": "models",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "properties": {
                                            "data": {"type": "array", "items": {"type": "object"}}
                                        },
                                    }
                                }
                            },
                        }
                    },
                }
            },
        },
    }


CHAT_OVERLAY: dict[str, Any] = {
    "operations": ["createChatCompletion"],
    "actions": {
        "createChatCompletion": {
            "key": "send_message",
            "extra_fields": [
                {"key": "system", "label": "Instructions", "type": "text"},
                {"key": "prompt", "label": "Message", "type": "text", "required": True},
            ],
            "order": ["model", "prompt", "system"],
            "fields": {
                "messages": {
                    "template": [
                        {"role": "system", "content": "{system}"},
                        {"role": "user", "content": "{prompt}"},
                    ]
                },
                "stream": {"value": False},
                "model": {
                    "choices_from": {
                        "operation": "listModels",
                        "value": "{id}",
                        "where": {"capabilities.chat": True},
                    }
                },
            },
            "extract": {"reply": "{choices.0.message.content}"},
        }
    },
}


def test_fill_leaves_out_what_is_left_empty() -> None:
    template = [{"role": "system", "content": "{system}"}, {"role": "user", "content": "{text}"}]
    assert fill(template, {"text": "Hi", "system": ""}) == [{"role": "user", "content": "Hi"}]
    assert fill(template, {}) is None
    assert fill({"n": "{n}", "kind": "fixed"}, {"n": 3}) == {"n": 3, "kind": "fixed"}
    assert fill("Dear {name}, {greeting}", {"name": "Ada"}) == "Dear Ada, "
    assert fill("Dear {name}", {}) is None
    assert fill(["{tags}"], {"tags": ["a", "b"]}) == [["a", "b"]]
    assert fill({"to": "{to.0}"}, {"to": ["x@example.com"]}) == {"to": "x@example.com"}


async def test_a_value_made_of_extra_fields_is_sent_and_a_reply_extracted(
    tmp_path: Path,
) -> None:
    manifest = manifest_of(tmp_path, CHAT_OVERLAY, chat_api())
    action = manifest.operation("send_message")
    assert action is not None
    assert [(f.key, f.required, f.type.value) for f in action.inputs] == [
        ("model", True, "string"),
        ("prompt", True, "text"),
        ("system", False, "text"),
    ]
    assert action.outputs[0].key == "reply"
    assert action.sample["reply"] == "Hi there."
    answer = {"id": "c-2", "choices": [{"message": {"role": "assistant", "content": "Bonjour"}}]}
    vendor = Vendor(lambda request: httpx2.Response(200, json=answer))
    app = build_app(manifest)
    result = await perform(app, "send_message", {"model": "m-1", "prompt": "Hello"}, vendor)
    assert json.loads(vendor.last.content) == {
        "model": "m-1",
        "messages": [{"role": "user", "content": "Hello"}],
        "stream": False,
    }
    assert result == {**answer, "reply": "Bonjour"}
    await perform(
        app, "send_message", {"model": "m-1", "prompt": "Hi", "system": "Be brief"}, vendor
    )
    assert json.loads(vendor.last.content)["messages"] == [
        {"role": "system", "content": "Be brief"},
        {"role": "user", "content": "Hi"},
    ]


async def test_a_dropdown_lists_only_the_items_it_is_told(tmp_path: Path) -> None:
    app = build_app(manifest_of(tmp_path, CHAT_OVERLAY, chat_api()))
    action = app.action("send_message")
    assert action is not None
    model = next(f for f in action.static_inputs if f.key == "model")
    assert model.dynamic_choices is not None
    listed = {
        "data": [
            {"id": "chat-1", "capabilities": {"chat": True}},
            {"id": "embed-1", "capabilities": {"chat": False}},
            {"id": "old-1"},
        ]
    }
    vendor = Vendor(lambda request: httpx2.Response(200, json=listed))
    async with vendor_context(app, vendor) as ctx:
        page = await model.dynamic_choices(ctx, {}, 0)
    assert [c.value for c in page.choices] == ["chat-1"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"fields": {"messages": {"template": [{"content": "{promt}"}]}}},
            "a template names 'promt'",
        ),
        (
            {
                "extra_fields": [{"key": "unused", "label": "Unused"}],
                "fields": {"messages": {"template": [{"content": "{model}"}]}},
            },
            "'unused' goes into no template",
        ),
    ],
)
def test_a_template_naming_no_field_or_a_field_no_template_uses_fails(
    tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    overlay = {"actions": {"createChatCompletion": change}}
    with pytest.raises(ImportFailed, match=message):
        manifest_of(tmp_path, overlay, chat_api())


async def test_a_connection_field_with_choices_picks_the_host(tmp_path: Path) -> None:
    overlay = {
        "base_url": "https://{host}/v1",
        "auth": {
            "extra_fields": [
                {
                    "key": "host",
                    "label": "Plan",
                    "default": "api.chat.example.com",
                    "choices": [
                        {"value": "api.chat.example.com", "label": "Pro"},
                        {"value": "free.chat.example.com", "label": "Free"},
                    ],
                }
            ]
        },
        "test": {"operation": "listModels"},
    }
    app = build_app(manifest_of(tmp_path, overlay, chat_api()))
    host = next(f for f in app.auth.fields if f.key == "host")
    assert [(c.value, c.label) for c in host.choices] == [
        ("api.chat.example.com", "Pro"),
        ("free.chat.example.com", "Free"),
    ]
    assert validate_inputs(app.auth.fields, {"api_key": "k"})["host"] == "api.chat.example.com"
    with pytest.raises(FieldErrors, match="must be one of"):
        validate_inputs(app.auth.fields, {"api_key": "k", "host": "evil.example"})
    vendor = Vendor(lambda request: httpx2.Response(200, json={"data": []}))
    credentials = {**CREDENTIALS, "host": "free.chat.example.com"}
    await perform(app, "list_models", {}, vendor, credentials)
    assert str(vendor.last.url) == "https://free.chat.example.com/v1/models"


def test_an_extra_field_can_be_a_dropdown_from_a_list(tmp_path: Path) -> None:
    overlay = {
        "operations": ["createChatCompletion"],
        "actions": {
            "createChatCompletion": {
                "extra_fields": [
                    {
                        "key": "assistant",
                        "label": "Assistant",
                        "choices_from": {"operation": "listModels", "value": "{id}"},
                    }
                ],
                "fields": {"messages": {"template": [{"role": "user", "content": "{assistant}"}]}},
            }
        },
    }
    manifest = manifest_of(tmp_path, overlay, chat_api())
    assert [o.key for o in manifest.operations if o.hidden] == ["list_models"]
    action = manifest.operation("create_chat_completion")
    assert action is not None
    assistant = next(f for f in action.inputs if f.key == "assistant")
    assert assistant.dynamic is not None and assistant.dynamic.operation == "list_models"


async def test_a_change_sends_only_what_is_given_not_the_schema_defaults(tmp_path: Path) -> None:
    protection = {"type": "string", "enum": ["enabled", "disabled"], "default": "disabled"}
    body = {
        "type": "object",
        "properties": {"replicas": {"type": "integer", "default": 1}, "protection": protection},
    }
    content = {"application/json": {"schema": body}}
    answer = {"200": {"description": "the index"}}
    document = {
        "openapi": "3.0.3",
        "info": {"title": "Indexes", "version": "1"},
        "servers": [{"url": "https://api.example.com"}],
        "paths": {
            "/indexes": {
                "post": {
                    "operationId": "create",
                    "requestBody": {"content": content},
                    "responses": answer,
                }
            },
            "/indexes/{name}": {
                "patch": {
                    "operationId": "configure",
                    "parameters": [
                        {
                            "name": "name",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        }
                    ],
                    "requestBody": {"content": content},
                    "responses": answer,
                }
            },
        },
    }
    manifest = manifest_of(tmp_path, {}, document)
    create, configure = manifest.operation("create"), manifest.operation("configure")
    assert create is not None and configure is not None
    assert {f.key: f.default for f in create.inputs} == {"replicas": 1, "protection": "disabled"}
    assert {f.key: f.default for f in configure.inputs} == {
        "name": None,
        "replicas": None,
        "protection": None,
    }
    vendor = Vendor()
    await perform(build_app(manifest), "configure", {"name": "docs", "replicas": 2}, vendor)
    assert json.loads(vendor.last.content) == {"replicas": 2}


async def test_a_default_inside_an_optional_object_is_not_sent_alone(tmp_path: Path) -> None:
    options = {
        "type": "object",
        "properties": {
            "size": {"type": "string", "enum": ["low", "medium"], "default": "medium"},
            "country": {"type": "string"},
        },
    }
    document = chat_api()
    body = document["paths"]["/chat/completions"]["post"]["requestBody"]
    body["content"]["application/json"]["schema"]["properties"]["search"] = options
    manifest = manifest_of(tmp_path, {"operations": ["createChatCompletion"]}, document)
    chat = manifest.operation("create_chat_completion")
    assert chat is not None
    assert {f.key: f.default for f in chat.inputs}["search__size"] is None
    vendor = Vendor()
    app = build_app(manifest)
    inputs = {"model": "m", "messages": [{"role": "user", "content": "Hi"}]}
    await perform(app, "create_chat_completion", inputs, vendor)
    assert "search" not in json.loads(vendor.last.content)
    await perform(app, "create_chat_completion", {**inputs, "search__country": "FR"}, vendor)
    assert json.loads(vendor.last.content)["search"] == {"country": "FR"}


async def test_default_null_sends_nothing_and_extract_leaves_what_is_missing_empty(
    tmp_path: Path,
) -> None:
    document = chat_api()
    body = document["paths"]["/chat/completions"]["post"]["requestBody"]
    properties = body["content"]["application/json"]["schema"]["properties"]
    properties["temperature"] = {"type": "number", "default": 1}
    properties["top_p"] = {"type": "number", "default": 1}
    overlay = {
        "operations": ["createChatCompletion"],
        "fields": {"*": {"default": None}},
        "actions": {
            "createChatCompletion": {
                "fields": {"top_p": {"default": 0.5}},
                "extract": {"image": "data:image/{format};base64,{data.0.b64_json}"},
            }
        },
    }
    manifest = manifest_of(tmp_path, overlay, document)
    chat = manifest.operation("create_chat_completion")
    assert chat is not None
    assert {f.key: f.default for f in chat.inputs}["temperature"] is None
    assert {f.key: f.default for f in chat.inputs}["top_p"] == 0.5  # the action's rule wins
    answers = iter([{"id": "c-1"}, {"format": "png", "data": [{"b64_json": "iVBO"}]}])
    vendor = Vendor(lambda request: httpx2.Response(200, json=next(answers)))
    app = build_app(manifest)
    inputs = {"model": "m", "messages": [{"role": "user", "content": "Hi"}]}
    assert await perform(app, "create_chat_completion", inputs, vendor) == {
        "id": "c-1",
        "image": None,
    }
    assert json.loads(vendor.last.content) == {**inputs, "top_p": 0.5}
    result = await perform(app, "create_chat_completion", inputs, vendor)
    assert result["image"] == "data:image/png;base64,iVBO"


async def test_a_hidden_connection_test_takes_the_rules_of_an_action(tmp_path: Path) -> None:
    """An account answered as one object whose only list is not the result (Clerk's
    instance and its allowed origins): the overlay says so, though the operation is the
    connection test only."""
    document = chat_api()
    document["paths"]["/instance"] = {
        "get": {
            "operationId": "getInstance",
            "responses": {
                "200": {
                    "description": "the instance",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "id": {"type": "string"},
                                    "allowed_origins": {
                                        "type": "array",
                                        "items": {"type": "string"},
                                    },
                                },
                            }
                        }
                    },
                }
            },
        }
    }
    overlay = {**CHAT_OVERLAY, "test": {"operation": "getInstance", "label": "instance {id}"}}
    listed = manifest_of(tmp_path, overlay, document)
    assert next(op for op in listed.operations if op.key == "get_instance").http.results
    overlay["actions"] = {**CHAT_OVERLAY["actions"], "getInstance": {"results": []}}
    app = build_app(manifest_of(tmp_path, overlay, document))
    answer = {"id": "ins_1", "allowed_origins": ["https://a.example.com"]}
    vendor = Vendor(lambda request: httpx2.Response(200, json=answer))
    assert await connection_label(app, vendor) == "instance ins_1"
    assert [op.key for op in app.actions] == ["send_message"]


def test_rules_for_an_operation_neither_kept_nor_used_fail(tmp_path: Path) -> None:
    overlay = {"operations": ["createChatCompletion"], "actions": {"listModels": {"results": []}}}
    with pytest.raises(ImportFailed, match="neither keeps nor uses"):
        manifest_of(tmp_path, overlay, chat_api())


def test_an_actions_own_value_wins_over_the_apps_hidden_field(tmp_path: Path) -> None:
    """Box's ``fields`` query parameter is plumbing everywhere but where a shared link is
    made, which needs ``fields=shared_link``."""
    overlay = {
        "operations": ["createChatCompletion"],
        "fields": {"stream": {"hidden": True}, "model": {"label": "Model"}},
        "actions": {"createChatCompletion": {"fields": {"stream": {"value": True}}}},
    }
    operation = manifest_of(tmp_path, overlay, chat_api()).operations[0]
    bound = {b.name: b for b in operation.http.bindings}
    assert bound["stream"].value is True
    assert [f.label for f in operation.inputs if f.key == "model"] == ["Model"]
    overlay["actions"] = {}
    operation = manifest_of(tmp_path, overlay, chat_api()).operations[0]
    assert "stream" not in {b.name for b in operation.http.bindings}


def test_a_fragment_telling_operations_apart_is_no_part_of_the_request(tmp_path: Path) -> None:
    document = chat_api()
    document["paths"]["/models#mine"] = {
        "get": {"operationId": "listMyModels", "responses": {"200": {"description": "models"}}}
    }
    manifest = manifest_of(tmp_path, {"operations": ["listMyModels"]}, document)
    assert manifest.operations[0].http.path == "/models"
