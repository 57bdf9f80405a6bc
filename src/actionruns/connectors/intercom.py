"""Intercom: create a contact, or update the one with the same email.

Reference: https://developers.intercom.com/docs/references/2.11/rest-api/api.intercom.io/contacts/searchcontacts
(POST /contacts/search with ``{"query": {"field": "email", "operator": "=", "value"}}``),
/contacts/createcontact (POST /contacts), /contacts/updatecontact (PUT /contacts/{id}),
/admins/identifyadmin (GET /me); Bearer token with ``Intercom-Version: 2.11``; errors as
``{"type": "error.list", "errors": [{"code", "message"}]}``, 429 with ``X-RateLimit-Reset``
(https://developers.intercom.com/docs/references/rest-api/errors/rate-limiting).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from actionruns.sdk import (
    Action,
    ActionType,
    App,
    Auth,
    Choice,
    Context,
    FieldType,
    InputField,
    OutputField,
)
from actionruns.sdk.http import request_json

API = "https://api.intercom.io"
HEADERS = {"Intercom-Version": "2.11", "Accept": "application/json"}


async def _call(ctx: Context, method: str, path: str, **request: Any) -> Any:
    return await request_json(ctx, method, f"{API}{path}", headers=HEADERS, **request)


async def test_token(ctx: Context) -> str:
    me = await _call(ctx, "GET", "/me")
    return f"{me['name']} ({(me.get('app') or {}).get('name', '')})"


async def create_or_update_contact(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    query = {"query": {"field": "email", "operator": "=", "value": inputs["email"]}}
    found = (await _call(ctx, "POST", "/contacts/search", json=query)).get("data", [])
    fields: dict[str, Any] = {"email": inputs["email"]}
    for key in ("name", "phone", "external_id"):
        if inputs.get(key):
            fields[key] = inputs[key]
    if inputs.get("custom_attributes"):
        fields["custom_attributes"] = dict(inputs["custom_attributes"])
    if found:
        contact = await _call(ctx, "PUT", f"/contacts/{found[0]['id']}", json=fields)
    else:
        fields["role"] = inputs.get("role") or "user"
        contact = await _call(ctx, "POST", "/contacts", json=fields)
    return {
        "id": contact["id"],
        "role": contact.get("role"),
        "email": contact.get("email"),
        "name": contact.get("name"),
        "phone": contact.get("phone"),
        "created": not found,
    }


app = App(
    key="intercom",
    title="Intercom",
    description="Create and update contacts (users and leads) in Intercom.",
    auth=Auth.api_key(
        label="Access token",
        help_text="From your app in the Developer Hub → Configure → Authentication.",
    ),
    test=test_token,
    categories=("support", "crm"),
    actions=[
        Action(
            "create_or_update_contact",
            "Create or update contact",
            "Updates the contact with this email, or creates one.",
            create_or_update_contact,
            type=ActionType.SEARCH_OR_WRITE,
            inputs=[
                InputField("email", "Email", required=True, help_text="Identifies the contact."),
                InputField(
                    "role",
                    "Role",
                    choices=[Choice("user", "User"), Choice("lead", "Lead")],
                    default="user",
                    help_text="For a new contact.",
                ),
                InputField("name", "Name", help_text="Their full name."),
                InputField("phone", "Phone", help_text="Their phone number."),
                InputField("external_id", "External ID", help_text="Your id for them."),
                InputField(
                    "custom_attributes",
                    "Custom attributes",
                    FieldType.DICT,
                    help_text="Attributes that exist in the workspace.",
                ),
            ],
            outputs=[
                OutputField("id", "Contact ID"),
                OutputField("role", "Role"),
                OutputField("email", "Email"),
                OutputField("name", "Name"),
                OutputField("phone", "Phone"),
                OutputField("created", "Created now", FieldType.BOOLEAN),
            ],
            sample={
                "id": "6762f0dd1bb69f9f2193bb83",
                "role": "user",
                "email": "ada@example.com",
                "name": "Ada Lovelace",
                "phone": None,
                "created": True,
            },
        )
    ],
)
