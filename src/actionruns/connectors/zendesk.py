"""Zendesk Support: create a ticket, add a comment to one.

Reference: https://developer.zendesk.com/api-reference/ticketing/tickets/tickets/#create-ticket
(POST /api/v2/tickets.json with ``{"ticket": {"subject", "comment": {"body"}, "requester",
"priority", "tags"}}``), #update-ticket (PUT /api/v2/tickets/{id}.json with a ``comment``),
https://developer.zendesk.com/api-reference/ticketing/users/users/#show-the-currently-authenticated-user,
API token auth as HTTP Basic ``{email}/token:{token}``
(https://developer.zendesk.com/api-reference/introduction/security-and-auth/), errors as
``{"error", "description", "details"}``, 429 with ``Retry-After``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import httpx2

from actionruns.sdk import (
    Action,
    App,
    Auth,
    Choice,
    Context,
    FieldType,
    HaltError,
    InputField,
    OutputField,
)
from actionruns.sdk.auth import http_basic
from actionruns.sdk.http import raise_for_status

PRIORITIES = [Choice(value, value.title()) for value in ("low", "normal", "high", "urgent")]


def _api(ctx: Context) -> str:
    subdomain = str(ctx.credentials["subdomain"]).strip().lower().removesuffix(".zendesk.com")
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", subdomain):
        raise HaltError("The subdomain is the acme in acme.zendesk.com.")
    return f"https://{subdomain}.zendesk.com/api/v2"


async def _call(ctx: Context, method: str, path: str, **request: Any) -> Any:
    response = await ctx.http.request(method, f"{_api(ctx)}{path}", **request)
    if response.status_code == 422:
        raise HaltError(_problem(response), meta={"status": 422})
    raise_for_status(response)
    return response.json()


def _problem(response: httpx2.Response) -> str:
    """Zendesk's ``description`` and the first ``details`` message say more than ``error``."""
    body = response.json()
    parts = [str(body.get("description") or body.get("error") or "Zendesk refused it")]
    for problems in (body.get("details") or {}).values():
        if problems and isinstance(problems[0], dict):
            parts.append(str(problems[0].get("description", "")))
    return ": ".join(part for part in parts if part)


async def test_token(ctx: Context) -> str:
    user = (await _call(ctx, "GET", "/users/me.json"))["user"]
    if not user.get("id"):
        raise HaltError("Zendesk did not recognise these credentials.")
    return f"{user['name']} <{user['email']}>"


def _ticket(ticket: Mapping[str, Any]) -> dict[str, Any]:
    return {
        key: ticket.get(key)
        for key in ("id", "subject", "status", "priority", "requester_id", "created_at")
    }


async def create_ticket(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    ticket: dict[str, Any] = {
        "subject": inputs["subject"],
        "comment": {"body": inputs["body"]},
    }
    if inputs.get("requester_email"):
        requester = {"email": inputs["requester_email"]}
        if inputs.get("requester_name"):
            requester["name"] = inputs["requester_name"]
        ticket["requester"] = requester
    for key in ("priority", "type"):
        if inputs.get(key):
            ticket[key] = inputs[key]
    if inputs.get("tags"):
        ticket["tags"] = list(inputs["tags"])
    created = await _call(ctx, "POST", "/tickets.json", json={"ticket": ticket})
    return _ticket(created["ticket"])


async def add_comment(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    public = inputs.get("public")
    ticket: dict[str, Any] = {
        "comment": {"body": inputs["body"], "public": True if public is None else public}
    }
    if inputs.get("status"):
        ticket["status"] = inputs["status"]
    updated = await _call(
        ctx, "PUT", f"/tickets/{int(inputs['ticket_id'])}.json", json={"ticket": ticket}
    )
    return _ticket(updated["ticket"])


TICKET_OUTPUTS = [
    OutputField("id", "Ticket ID", FieldType.INTEGER),
    OutputField("subject", "Subject"),
    OutputField("status", "Status"),
    OutputField("priority", "Priority"),
    OutputField("requester_id", "Requester ID", FieldType.INTEGER),
    OutputField("created_at", "Created", FieldType.DATETIME),
]
TICKET_SAMPLE = {
    "id": 35436,
    "subject": "Help, my printer is on fire!",
    "status": "new",
    "priority": "urgent",
    "requester_id": 20978392,
    "created_at": "2026-11-25T10:00:00Z",
}

app = App(
    key="zendesk",
    title="Zendesk",
    description="Create Zendesk Support tickets and comment on them.",
    auth=Auth.custom(
        [
            InputField(
                "subdomain", "Subdomain", required=True, help_text="acme for acme.zendesk.com."
            ),
            InputField("email", "Agent email", required=True, help_text="An agent's email."),
            InputField(
                "api_token",
                "API token",
                FieldType.PASSWORD,
                required=True,
                help_text="Admin Center → Apps and integrations → Zendesk API.",
            ),
        ],
        apply=http_basic(lambda c: f"{c['email']}/token", lambda c: c["api_token"]),
    ),
    test=test_token,
    categories=("support",),
    actions=[
        Action(
            "create_ticket",
            "Create ticket",
            "Creates a ticket; the requester is created if they are new.",
            create_ticket,
            inputs=[
                InputField("subject", "Subject", required=True, help_text="The ticket's subject."),
                InputField(
                    "body", "Description", FieldType.TEXT, required=True, help_text="First comment."
                ),
                InputField("requester_email", "Requester email", help_text="Who asks."),
                InputField("requester_name", "Requester name", help_text="Their name."),
                InputField(
                    "priority", "Priority", choices=PRIORITIES, help_text="How urgent it is."
                ),
                InputField(
                    "type",
                    "Type",
                    choices=[
                        Choice(v, v.title()) for v in ("problem", "incident", "question", "task")
                    ],
                    help_text="The kind of ticket.",
                ),
                InputField("tags", "Tags", list=True, help_text="Tags to add."),
            ],
            outputs=TICKET_OUTPUTS,
            sample=TICKET_SAMPLE,
        ),
        Action(
            "add_comment",
            "Add comment to ticket",
            "Adds a public reply or an internal note to a ticket, optionally changing its status.",
            add_comment,
            inputs=[
                InputField(
                    "ticket_id",
                    "Ticket ID",
                    FieldType.INTEGER,
                    required=True,
                    help_text="e.g. 35436.",
                ),
                InputField("body", "Comment", FieldType.TEXT, required=True, help_text="The text."),
                InputField(
                    "public",
                    "Public",
                    FieldType.BOOLEAN,
                    help_text="Visible to the requester; an internal note if off.",
                ),
                InputField(
                    "status",
                    "Status",
                    choices=[Choice(v, v.title()) for v in ("open", "pending", "hold", "solved")],
                    help_text="A new status, if it changes.",
                ),
            ],
            outputs=TICKET_OUTPUTS,
            sample=TICKET_SAMPLE,
        ),
    ],
)
