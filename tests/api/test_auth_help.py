"""Where an end user finds a connection's values, and what an OAuth2 connection grants, in the
app documents: each auth field's ``help_url`` and ``help_steps`` and the app's ``auth_scopes``
with their words; a connector's, an imported description's, and an overlay's over both."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from actionruns.openapi.overlay import Overlay
from actionruns.sdk.described.runtime import build_app
from tests.conftest import ApiClient, ServiceFactory
from tests.openapi.test_requests import manifest_of


async def _app(client: ApiClient, key: str) -> dict[str, Any]:
    [found] = (await client.get("/v2/apps", params={"ids": key})).json()["data"]
    return dict(found)


async def test_a_connectors_help_and_scopes_are_in_its_app_document(
    start_service: ServiceFactory,
) -> None:
    service = await start_service()
    acme = await service.new_client("acme")

    stripe = await _app(acme, "stripe")
    [key] = stripe["auth_fields"]
    assert key["help_url"] == "https://dashboard.stripe.com/apikeys"
    assert len(key["help_steps"]) >= 2 and all(step.strip() for step in key["help_steps"])
    assert stripe["auth_scopes"] == []

    slack = await _app(acme, "slack")
    scopes = {scope["scope"]: scope["description"] for scope in slack["auth_scopes"]}
    assert scopes.get("chat:write")
    assert all(field["help_url"] is None for field in slack["auth_fields"])


async def test_an_imported_apps_help_comes_from_its_description_and_overlay(
    tmp_path: Path, start_service: ServiceFactory
) -> None:
    oauth = manifest_of(
        tmp_path,
        {
            "key": "pets_oauth",
            "auth": {
                "scheme": "oauth",
                "scope_descriptions": {"pets:admin": "Add, change and remove your pets"},
            },
        },
    )
    keyed = manifest_of(
        tmp_path,
        {
            "key": "pets_key",
            "auth": {
                "scheme": "apiKey",
                "fields": {
                    "api_key": {
                        "help_url": "https://pets.example.com/settings/keys",
                        "help_steps": ["Sign in to Pets.", "Open Settings, then API keys."],
                    }
                },
                "extra_fields": [
                    {
                        "key": "shop",
                        "label": "Shop",
                        "help_steps": ["The name in your shop's address."],
                    }
                ],
            },
        },
    )
    service = await start_service()
    for manifest in (oauth, keyed):
        await service.engine.imports.save(manifest)
    acme = await service.new_client("acme")

    # The description's words for a scope, unless the overlay says better.
    assert (await _app(acme, "pets_oauth"))["auth_scopes"] == [
        {"scope": "pets:admin", "description": "Add, change and remove your pets"},
        {"scope": "pets:read", "description": "read"},
    ]
    fields = {field["id"]: field for field in (await _app(acme, "pets_key"))["auth_fields"]}
    assert fields["api_key"]["help_url"] == "https://pets.example.com/settings/keys"
    assert fields["api_key"]["help_steps"] == ["Sign in to Pets.", "Open Settings, then API keys."]
    assert fields["shop"]["help_url"] is None
    assert fields["shop"]["help_steps"] == ["The name in your shop's address."]
    # The Connect page reads the same fields.
    [key_field, _] = build_app(keyed).auth.fields
    assert key_field.help_url == "https://pets.example.com/settings/keys"


@pytest.mark.parametrize(
    "help_url", ["http://pets.example.com/keys", "javascript:alert(1)", "https://a b"]
)
def test_an_overlays_help_link_must_be_https(help_url: str) -> None:
    for auth in (
        {"fields": {"api_key": {"help_url": help_url}}},
        {"extra_fields": [{"key": "shop", "label": "Shop", "help_url": help_url}]},
    ):
        with pytest.raises(ValidationError, match="String should match pattern"):
            Overlay.model_validate({"auth": auth})
