"""Mailchimp: add or update an audience member, and tag one.

Reference: https://mailchimp.com/developer/marketing/api/list-members/add-or-update-list-member/
(PUT /3.0/lists/{list_id}/members/{subscriber_hash}, the hash being the MD5 of the lowercased
address; ``status_if_new``, ``status``, ``merge_fields``, no tags), https://mailchimp.com/developer/marketing/api/list-member-tags/add-or-remove-member-tags/
(POST …/tags, 204), https://mailchimp.com/developer/marketing/api/lists/get-lists-info/
(``count``/``offset``), https://mailchimp.com/developer/marketing/docs/fundamentals/ (the data
center from the key's suffix, HTTP Basic with any user name and the key as password, errors
as application/problem+json ``{"type", "title", "status", "detail", "instance"}``),
https://mailchimp.com/developer/marketing/docs/errors/ (400 invalid resource or member in
compliance state, 401 "API Key Invalid", 403 forbidden, 404 not found, 429 "Too Many Requests"),
rate limits: https://mailchimp.com/developer/marketing/docs/fundamentals/ (10
simultaneous connections per user, throttled with 429; no rate-limit or ``Retry-After`` headers,
so the retry waits a short while), the account for the connection test:
https://mailchimp.com/developer/marketing/api/root/list-api-root-resources/ (GET /3.0/,
``account_name``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from actionruns.sdk import (
    Action,
    App,
    Auth,
    Choice,
    ChoicePage,
    Context,
    ExpiredAuthError,
    FieldType,
    InputField,
    OutputField,
)
from actionruns.sdk.auth import http_basic
from actionruns.sdk.http import raise_for_status
from actionruns.sdk.pagination import numbered_page

LISTS_PER_PAGE = 100
# The limit is on simultaneous connections, which free up within seconds.
THROTTLE_DELAY = 10.0
STATUSES = [
    Choice("subscribed", "Subscribed"),
    Choice("pending", "Pending (double opt-in)"),
    Choice("unsubscribed", "Unsubscribed"),
    Choice("transactional", "Transactional"),
]


def _base(ctx: Context) -> str:
    key = str(ctx.credentials["api_key"])
    datacenter = key.rsplit("-", 1)[-1] if "-" in key else ""
    if not datacenter.isalnum():
        raise ExpiredAuthError("A Mailchimp API key ends with its data center, like …-us6.")
    return f"https://{datacenter}.api.mailchimp.com/3.0"


async def _call(ctx: Context, method: str, path: str, **request: Any) -> Any:
    response = await ctx.http.request(method, f"{_base(ctx)}{path}", **request)
    raise_for_status(response, throttle_delay=THROTTLE_DELAY)
    return response.json() if response.content else None


def subscriber_hash(email: str) -> str:
    return hashlib.md5(email.strip().lower().encode(), usedforsecurity=False).hexdigest()


async def test_key(ctx: Context) -> str:
    return str((await _call(ctx, "GET", "/"))["account_name"])


async def list_choices(ctx: Context, inputs: Mapping[str, Any], page: int) -> ChoicePage:
    async def fetch(number: int) -> tuple[list[Choice], bool]:
        params = {
            "count": str(LISTS_PER_PAGE),
            "offset": str((number - 1) * LISTS_PER_PAGE),
            "fields": "lists.id,lists.name,total_items",
        }
        found = await _call(ctx, "GET", "/lists", params=params)
        choices = [Choice(item["id"], item["name"]) for item in found["lists"]]
        return choices, number * LISTS_PER_PAGE < int(found.get("total_items", 0))

    return await numbered_page(fetch, page)


def _member(member: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": member["id"],
        "email_address": member["email_address"],
        "status": member["status"],
        "list_id": member["list_id"],
        "merge_fields": member.get("merge_fields", {}),
        "tags": [tag["name"] for tag in member.get("tags", [])],
        "last_changed": member.get("last_changed"),
    }


def _member_path(inputs: Mapping[str, Any]) -> str:
    email = str(inputs["email"]).strip()
    return f"/lists/{inputs['list_id']}/members/{subscriber_hash(email)}"


async def _tag(ctx: Context, inputs: Mapping[str, Any]) -> None:
    tags = [{"name": name, "status": "active"} for name in inputs["tags"]]
    await _call(ctx, "POST", f"{_member_path(inputs)}/tags", json={"tags": tags})


async def add_or_update_subscriber(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    email = str(inputs["email"]).strip()
    body: dict[str, Any] = {
        "email_address": email,
        "status_if_new": inputs.get("status_if_new") or "subscribed",
    }
    merge = {
        name: inputs[key]
        for key, name in (("first_name", "FNAME"), ("last_name", "LNAME"), ("phone", "PHONE"))
        if inputs.get(key)
    }
    merge.update(inputs.get("merge_fields") or {})
    if inputs.get("status"):
        body["status"] = inputs["status"]
    if merge:
        body["merge_fields"] = merge
    member = _member(await _call(ctx, "PUT", _member_path(inputs), json=body))
    if inputs.get("tags"):  # the PUT takes no tags: they go on with the member's tags call
        await _tag(ctx, inputs)
        member["tags"] += [name for name in inputs["tags"] if name not in member["tags"]]
    return member


async def add_tag(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    await _tag(ctx, inputs)
    return {"email_address": str(inputs["email"]).strip(), "tags": list(inputs["tags"])}


AUDIENCE = InputField(
    "list_id",
    "Audience",
    required=True,
    dynamic_choices=list_choices,
    help_text="The audience (list).",
)

app = App(
    key="mailchimp",
    title="Mailchimp",
    description="Add and update subscribers in Mailchimp audiences, and tag them.",
    auth=Auth.custom(
        [
            InputField(
                "api_key",
                "API key",
                FieldType.PASSWORD,
                required=True,
                help_text="Account → Extras → API keys; it ends with your data center (-us6).",
            )
        ],
        apply=http_basic(lambda _: "actionruns", lambda c: c["api_key"]),
    ),
    test=test_key,
    categories=("email", "marketing"),
    actions=[
        Action(
            "add_or_update_subscriber",
            "Add or update subscriber",
            "Adds a contact to an audience, or updates them if they are already in it.",
            add_or_update_subscriber,
            inputs=[
                AUDIENCE,
                InputField("email", "Email", required=True, help_text="Their email address."),
                InputField(
                    "status_if_new",
                    "Status if new",
                    choices=STATUSES,
                    default="subscribed",
                    help_text="For a new contact; an existing one keeps their status.",
                ),
                InputField(
                    "status",
                    "Status",
                    choices=STATUSES,
                    help_text="Also change an existing member's status; empty keeps it.",
                ),
                InputField("first_name", "First name", help_text="FNAME."),
                InputField("last_name", "Last name", help_text="LNAME."),
                InputField("phone", "Phone", help_text="PHONE."),
                InputField(
                    "merge_fields",
                    "Other merge fields",
                    FieldType.DICT,
                    help_text='Tag → value, e.g. {"COMPANY": "Acme"}.',
                ),
                InputField("tags", "Tags", list=True, help_text="Tag names to add to the member."),
            ],
            outputs=[
                OutputField("id", "Member ID"),
                OutputField("email_address", "Email"),
                OutputField("status", "Status"),
                OutputField("list_id", "Audience ID"),
                OutputField("merge_fields", "Merge fields", FieldType.DICT),
                OutputField("tags", "Tags", FieldType.JSON),
                OutputField("last_changed", "Last changed", FieldType.DATETIME),
            ],
            sample={
                "id": "62eeb292278cc15f5817cb78f7790b08",
                "email_address": "ada@example.com",
                "status": "subscribed",
                "list_id": "bd0b216f7a",
                "merge_fields": {"FNAME": "Ada", "LNAME": "Lovelace"},
                "tags": ["VIP"],
                "last_changed": "2026-11-25T10:00:00+00:00",
            },
        ),
        Action(
            "add_tag",
            "Add tag to subscriber",
            "Adds tags to a member of an audience (tags that do not exist are created).",
            add_tag,
            inputs=[
                AUDIENCE,
                InputField("email", "Email", required=True, help_text="The member's email."),
                InputField("tags", "Tags", list=True, required=True, help_text="Tag names."),
            ],
            outputs=[
                OutputField("email_address", "Email"),
                OutputField("tags", "Tags", FieldType.JSON),
            ],
            sample={"email_address": "ada@example.com", "tags": ["VIP"]},
        ),
    ],
)
