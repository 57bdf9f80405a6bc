"""Intercom: create a contact, or update the one with the same email.

Reference (REST API 2.11, https://developers.intercom.com/docs/references/2.11/rest-api/api.intercom.io/):
contacts/searchcontacts (POST /contacts/search with ``{"query": {"field": "email",
"operator": "=", "value"}}``, answering ``{"type": "list", "data", "total_count", "pages"}``;
a contact created a moment ago may not be searchable yet), contacts/createcontact (POST
/contacts with ``role`` user or lead, ``email``, ``name``, ``phone``, ``external_id``,
``custom_attributes``; 409 ``conflict`` "A contact matching those details already exists with
id=…"), contacts/updatecontact (PUT /contacts/{id}), admins/identifyadmin (GET /me, the
connection test). Auth: ``Authorization: Bearer <access token>`` with ``Intercom-Version: 2.11``
(https://developers.intercom.com/docs/build-an-integration/learn-more/authentication). Errors:
``{"type": "error.list", "request_id", "errors": [{"code", "message"}]}``
(https://developers.intercom.com/docs/references/rest-api/errors/http-responses); 401
``unauthorized``; 429 ``rate_limit_exceeded`` with ``X-RateLimit-Limit``,
``X-RateLimit-Remaining`` and ``X-RateLimit-Reset`` (a Unix time)
(https://developers.intercom.com/docs/references/rest-api/errors/rate-limiting).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import httpx2

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
from actionruns.sdk.http import raise_for_status

API = "https://api.intercom.io"
HEADERS = {"Intercom-Version": "2.11", "Accept": "application/json"}
EXISTING = re.compile(r"^A contact matching those details already exists with id=(\w+)")


def _raise_for_intercom(response: httpx2.Response) -> None:
    """Intercom says when to come back in ``X-RateLimit-Reset``, not ``Retry-After``."""
    raise_for_status(response, throttle_delay=10.0, reset_header="x-ratelimit-reset")


async def _call(ctx: Context, method: str, path: str, **request: Any) -> Any:
    response = await ctx.http.request(method, f"{API}{path}", headers=HEADERS, **request)
    _raise_for_intercom(response)
    return response.json() if response.content else None


def _existing_id(response: httpx2.Response) -> str | None:
    """The id in a 409 ``conflict`` for a contact that exists (not an archived one)."""
    if response.status_code != 409:
        return None
    try:
        errors = response.json().get("errors") or []
    except (ValueError, AttributeError):
        return None
    for error in errors:
        found = EXISTING.match(str(error.get("message", ""))) if isinstance(error, dict) else None
        if found:
            return found.group(1)
    return None


async def test_token(ctx: Context) -> str:
    me = await _call(ctx, "GET", "/me")
    workspace = (me.get("app") or {}).get("name")
    return f"{me['name']} ({workspace})" if workspace else str(me["name"])


def _fields(inputs: Mapping[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {"email": inputs["email"]}
    for key in ("name", "phone", "external_id"):
        if inputs.get(key):
            fields[key] = inputs[key]
    if inputs.get("custom_attributes"):
        fields["custom_attributes"] = dict(inputs["custom_attributes"])
    return fields


def _pick(found: list[dict[str, Any]], role: str | None) -> dict[str, Any] | None:
    """A user and a lead may share an email: prefer the one of the role asked for."""
    if not found:
        return None
    return next((contact for contact in found if contact.get("role") == role), found[0])


def _contact(contact: Mapping[str, Any], created: bool) -> dict[str, Any]:
    return {
        "id": contact["id"],
        "role": contact.get("role"),
        "email": contact.get("email"),
        "name": contact.get("name"),
        "phone": contact.get("phone"),
        "external_id": contact.get("external_id"),
        "created_at": contact.get("created_at"),
        "created": created,
    }


async def create_or_update_contact(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    role = inputs.get("role") or None
    query = {"query": {"field": "email", "operator": "=", "value": inputs["email"]}}
    searched = await _call(ctx, "POST", "/contacts/search", json=query)
    found = _pick(list(searched.get("data") or []), role)
    fields = _fields(inputs)
    if found is not None:
        if role:
            fields["role"] = role
        return _contact(await _call(ctx, "PUT", f"/contacts/{found['id']}", json=fields), False)
    response = await ctx.http.post(
        f"{API}/contacts", headers=HEADERS, json={"role": role or "user", **fields}
    )
    existing = _existing_id(response)
    if existing is not None:  # created since, or not searchable yet: update it
        if role:
            fields["role"] = role
        return _contact(await _call(ctx, "PUT", f"/contacts/{existing}", json=fields), False)
    _raise_for_intercom(response)
    return _contact(response.json(), True)


app = App(
    key="intercom",
    title="Intercom",
    description="Create and update contacts (users and leads) in Intercom.",
    auth=Auth.api_key(
        label="Access token",
        help_text="Developer Hub → your app → Configure → Authentication: the access token.",
    ),
    test=test_token,
    categories=("support", "crm"),
    actions=[
        Action(
            "create_or_update_contact",
            "Create or update contact",
            "Updates the contact with this email, or creates one if there is none.",
            create_or_update_contact,
            type=ActionType.SEARCH_OR_WRITE,
            inputs=[
                InputField(
                    "email",
                    "Email",
                    required=True,
                    help_text="Identifies the contact: the one with exactly this email is updated.",
                ),
                InputField(
                    "role",
                    "Role",
                    choices=[Choice("user", "User"), Choice("lead", "Lead")],
                    help_text="A new contact is a user if empty; given for an existing contact, "
                    "it changes their role.",
                ),
                InputField("name", "Name", help_text="Their full name."),
                InputField("phone", "Phone", help_text="Their phone number."),
                InputField(
                    "external_id",
                    "External ID",
                    help_text="Your own unique id for them (users only).",
                ),
                InputField(
                    "custom_attributes",
                    "Custom attributes",
                    FieldType.DICT,
                    help_text="Attribute name → value; the attributes must exist in the workspace.",
                ),
            ],
            outputs=[
                OutputField("id", "Contact ID"),
                OutputField("role", "Role"),
                OutputField("email", "Email"),
                OutputField("name", "Name"),
                OutputField("phone", "Phone"),
                OutputField("external_id", "External ID"),
                OutputField("created_at", "Created (Unix time)", FieldType.INTEGER),
                OutputField("created", "Created now", FieldType.BOOLEAN),
            ],
            sample={
                "id": "6762f0dd1bb69f9f2193bb83",
                "role": "user",
                "email": "ada@example.com",
                "name": "Ada Lovelace",
                "phone": None,
                "external_id": None,
                "created_at": 1734537437,
                "created": True,
            },
        )
    ],
)
