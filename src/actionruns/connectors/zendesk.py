"""Zendesk Support: create a ticket, add a comment to one.

Reference (Ticketing API, https://developer.zendesk.com/api-reference/ticketing/introduction/):
tickets (https://developer.zendesk.com/api-reference/ticketing/tickets/tickets/#create-ticket:
POST /api/v2/tickets.json with ``{"ticket": {"subject", "comment": {"body", "public"},
"requester": {"name", "email"}, "priority", "type", "group_id", "tags"}}``, 201 with
``{"ticket", "audit"}``; #update-ticket: PUT /api/v2/tickets/{ticket_id}.json with a
``comment``, 200 with the ticket and the ``audit`` whose ``Comment`` event is the new comment),
ticket creation idempotency (``Idempotency-Key`` header,
https://developer.zendesk.com/api-reference/ticketing/introduction/#idempotency), groups
(https://developer.zendesk.com/api-reference/ticketing/groups/groups/#list-groups, cursor
pagination ``page[size]``/``page[after]`` with ``meta.has_more`` and ``meta.after_cursor``:
https://developer.zendesk.com/api-reference/introduction/pagination/), the connection test
(https://developer.zendesk.com/api-reference/ticketing/users/users/#show-the-currently-authenticated-user).
Auth: API token as HTTP Basic ``{email}/token:{api_token}``
(https://developer.zendesk.com/api-reference/introduction/security-and-auth/). Errors
(https://developer.zendesk.com/api-reference/introduction/requests/): JSON
``{"error", "description", "details": {field: [{"description", "error"}]}}`` (``error`` is
sometimes ``{"title", "message"}``); 401 "Couldn't authenticate you"; 409 on a concurrent
update, worth retrying; 429 with ``Retry-After`` in seconds, its body often plain text
(https://developer.zendesk.com/api-reference/introduction/rate-limits/); 503 with
``Retry-After`` during maintenance.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

import httpx2

from actionruns.sdk import (
    Action,
    App,
    Auth,
    Choice,
    ChoicePage,
    Context,
    ExpiredAuthError,
    FieldType,
    HaltError,
    InputField,
    OutputField,
)
from actionruns.sdk.auth import http_basic
from actionruns.sdk.http import error_message, raise_for_status
from actionruns.sdk.pagination import cursor_page

GROUPS_PER_PAGE = 100
PRIORITIES = [Choice(value, value.title()) for value in ("low", "normal", "high", "urgent")]
TYPES = [Choice(value, value.title()) for value in ("problem", "incident", "question", "task")]
STATUSES = [Choice(value, value.title()) for value in ("open", "pending", "hold", "solved")]
SUBDOMAIN = re.compile(r"[a-z0-9][a-z0-9-]*")


def _subdomain(ctx: Context) -> str:
    """``acme`` from ``acme``, ``acme.zendesk.com`` or ``https://acme.zendesk.com/``."""
    given = str(ctx.credentials.get("subdomain", "")).strip().lower()
    given = given.removeprefix("https://").removeprefix("http://").split("/")[0]
    subdomain = given.removesuffix(".zendesk.com")
    if not SUBDOMAIN.fullmatch(subdomain):
        raise HaltError("The subdomain is the acme in acme.zendesk.com.")
    return subdomain


def _api(ctx: Context) -> str:
    return f"https://{_subdomain(ctx)}.zendesk.com/api/v2"


def _problem(response: httpx2.Response) -> str:
    """``error``, ``description`` and each field's ``details``, as Zendesk words them."""
    try:
        body = response.json()
    except ValueError:
        return error_message(response)
    if not isinstance(body, dict):
        return error_message(response)
    error = body.get("error")
    parts: list[Any] = []
    if isinstance(error, dict):
        parts += [error.get("title"), error.get("message")]
    else:
        parts.append(error)
    parts.append(body.get("description"))
    details = body.get("details")
    for problems in details.values() if isinstance(details, dict) else []:
        for problem in problems if isinstance(problems, list) else []:
            if isinstance(problem, dict):
                parts.append(problem.get("description"))
    text = ": ".join(str(part) for part in parts if isinstance(part, str) and part)
    return text or error_message(response)


def _raise_for_zendesk(response: httpx2.Response) -> None:
    if response.status_code >= 400:
        # A 409 is a conflicting concurrent update: worth another try.
        raise_for_status(response, message=_problem(response), transient=(408, 409))


async def _call(ctx: Context, method: str, path: str, **request: Any) -> Any:
    response = await ctx.http.request(method, f"{_api(ctx)}{path}", **request)
    _raise_for_zendesk(response)
    return response.json() if response.content else None


def _idempotency_key(ctx: Context, action: str, body: Mapping[str, Any]) -> str:
    """One key per run, so a retried attempt never opens a second ticket; outside a run
    (replays), a digest of the request."""
    if ctx.run_id:
        return f"actionruns-{ctx.run_id}-{action}"
    digest = hashlib.sha256(json.dumps([action, body], sort_keys=True).encode()).hexdigest()
    return f"actionruns-{digest[:32]}"


async def test_token(ctx: Context) -> str:
    user = (await _call(ctx, "GET", "/users/me.json"))["user"]
    if not user.get("id"):  # an anonymous user: the credentials were not recognised
        raise ExpiredAuthError("Zendesk did not recognise this email and API token.")
    return f"{user['name']} <{user['email']}>"


async def group_choices(ctx: Context, inputs: Mapping[str, Any], page: int) -> ChoicePage:
    async def fetch(cursor: str | None) -> tuple[list[Choice], str | None]:
        params = {"page[size]": str(GROUPS_PER_PAGE), "exclude_deleted": "true"}
        if cursor:
            params["page[after]"] = cursor
        found = await _call(ctx, "GET", "/groups.json", params=params)
        choices = [Choice(str(group["id"]), group["name"]) for group in found["groups"]]
        meta = found.get("meta") or {}
        return choices, meta.get("after_cursor") if meta.get("has_more") else None

    return await cursor_page(fetch, page)


def _ticket(ctx: Context, ticket: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": ticket["id"],
        "agent_url": f"https://{_subdomain(ctx)}.zendesk.com/agent/tickets/{ticket['id']}",
        "subject": ticket.get("subject"),
        "status": ticket.get("status"),
        "priority": ticket.get("priority"),
        "type": ticket.get("type"),
        "requester_id": ticket.get("requester_id"),
        "group_id": ticket.get("group_id"),
        "tags": list(ticket.get("tags") or []),
        "created_at": ticket.get("created_at"),
        "updated_at": ticket.get("updated_at"),
    }


def _group_id(value: Any) -> int:
    text = str(value).strip()
    if not text.isdigit():
        raise HaltError(f"The group must be a Zendesk group id, not {text!r}.")
    return int(text)


async def create_ticket(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    comment: dict[str, Any] = {"body": inputs["body"]}
    if inputs.get("public") is not None:
        comment["public"] = inputs["public"]
    ticket: dict[str, Any] = {"subject": inputs["subject"], "comment": comment}
    if inputs.get("requester_email"):
        requester = {"email": inputs["requester_email"]}
        if inputs.get("requester_name"):
            requester["name"] = inputs["requester_name"]
        ticket["requester"] = requester
    for key in ("priority", "type"):
        if inputs.get(key):
            ticket[key] = inputs[key]
    if inputs.get("group"):
        ticket["group_id"] = _group_id(inputs["group"])
    if inputs.get("tags"):
        ticket["tags"] = list(inputs["tags"])
    body = {"ticket": ticket}
    headers = {"Idempotency-Key": _idempotency_key(ctx, "create_ticket", body)}
    created = await _call(ctx, "POST", "/tickets.json", json=body, headers=headers)
    return _ticket(ctx, created["ticket"])


async def add_comment(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    public = inputs.get("public")
    ticket: dict[str, Any] = {
        "comment": {"body": inputs["body"], "public": True if public is None else public}
    }
    if inputs.get("status"):
        ticket["status"] = inputs["status"]
    path = f"/tickets/{int(inputs['ticket_id'])}.json"
    updated = await _call(ctx, "PUT", path, json={"ticket": ticket})
    events = (updated.get("audit") or {}).get("events") or []
    comment_id = next((event.get("id") for event in events if event.get("type") == "Comment"), None)
    return {**_ticket(ctx, updated["ticket"]), "comment_id": comment_id}


TICKET_OUTPUTS = [
    OutputField("id", "Ticket ID", FieldType.INTEGER),
    OutputField("agent_url", "Agent URL"),
    OutputField("subject", "Subject"),
    OutputField("status", "Status"),
    OutputField("priority", "Priority"),
    OutputField("type", "Type"),
    OutputField("requester_id", "Requester ID", FieldType.INTEGER),
    OutputField("group_id", "Group ID", FieldType.INTEGER),
    OutputField("tags", "Tags", FieldType.JSON),
    OutputField("created_at", "Created", FieldType.DATETIME),
    OutputField("updated_at", "Updated", FieldType.DATETIME),
]
TICKET_SAMPLE: dict[str, Any] = {
    "id": 35436,
    "agent_url": "https://acme.zendesk.com/agent/tickets/35436",
    "subject": "Help, my printer is on fire!",
    "status": "new",
    "priority": "urgent",
    "type": "incident",
    "requester_id": 20978392,
    "group_id": 98738,
    "tags": ["printer"],
    "created_at": "2009-07-20T22:55:29Z",
    "updated_at": "2011-05-05T10:38:52Z",
}

app = App(
    key="zendesk",
    title="Zendesk",
    description="Create Zendesk Support tickets and comment on them.",
    auth=Auth.custom(
        [
            InputField(
                "subdomain",
                "Subdomain",
                required=True,
                placeholder="acme",
                help_text="acme for acme.zendesk.com.",
            ),
            InputField(
                "email",
                "Agent email",
                required=True,
                help_text="The email of the agent or admin the API token acts as.",
            ),
            InputField(
                "api_token",
                "API token",
                FieldType.PASSWORD,
                required=True,
                help_text="Admin Center → Apps and integrations → APIs → API tokens.",
            ),
        ],
        apply=http_basic(lambda c: f"{c['email']}/token", lambda c: str(c["api_token"])),
    ),
    test=test_token,
    categories=("support",),
    actions=[
        Action(
            "create_ticket",
            "Create ticket",
            "Opens a ticket; a requester Zendesk does not know yet is created with it.",
            create_ticket,
            inputs=[
                InputField("subject", "Subject", required=True, help_text="The ticket's subject."),
                InputField(
                    "body",
                    "Description",
                    FieldType.TEXT,
                    required=True,
                    help_text="The ticket's first comment (plain text).",
                ),
                InputField(
                    "public",
                    "Public",
                    FieldType.BOOLEAN,
                    help_text="Whether the requester sees the first comment (Zendesk's "
                    "default: yes).",
                ),
                InputField(
                    "requester_email",
                    "Requester email",
                    help_text="Who the ticket is for; the agent if empty.",
                ),
                InputField(
                    "requester_name",
                    "Requester name",
                    help_text="Their name, used if Zendesk creates them.",
                ),
                InputField(
                    "priority", "Priority", choices=PRIORITIES, help_text="How urgent it is."
                ),
                InputField("type", "Type", choices=TYPES, help_text="The kind of ticket."),
                InputField(
                    "group",
                    "Group",
                    dynamic_choices=group_choices,
                    help_text="The group to assign the ticket to.",
                ),
                InputField("tags", "Tags", list=True, help_text="Tags to put on the ticket."),
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
                    help_text="The ticket's number, e.g. 35436.",
                ),
                InputField(
                    "body",
                    "Comment",
                    FieldType.TEXT,
                    required=True,
                    help_text="The comment's text.",
                ),
                InputField(
                    "public",
                    "Public",
                    FieldType.BOOLEAN,
                    default=True,
                    help_text="Visible to the requester; an internal note if off.",
                ),
                InputField(
                    "status",
                    "Status",
                    choices=STATUSES,
                    help_text="A new status for the ticket, if it changes.",
                ),
            ],
            outputs=[*TICKET_OUTPUTS, OutputField("comment_id", "Comment ID", FieldType.INTEGER)],
            sample={**TICKET_SAMPLE, "status": "open", "comment_id": 1274},
        ),
    ],
)
