"""Linear: create an issue in a team, through Linear's GraphQL API.

Reference: https://linear.app/developers/graphql (POST https://api.linear.app/graphql with
``{"query", "variables"}``; a personal API key goes in ``Authorization`` as it is, an OAuth
token as ``Bearer``), the ``issueCreate`` mutation and its ``IssueCreateInput`` (``teamId``,
``title``, ``description`` in Markdown, ``priority`` 0 none, 1 urgent … 4 low, ``assigneeId``,
``labelIds``, ``dueDate``; https://studio.apollographql.com/public/Linear-API/variant/current/schema/reference/inputs/IssueCreateInput),
``teams`` with Relay pagination (``first``/``after``, ``pageInfo { hasNextPage endCursor }``;
https://linear.app/developers/pagination), ``viewer`` for the connection test; errors
https://linear.app/developers/graphql#errors (in the body's ``errors`` with
``extensions.code`` and ``userPresentableMessage``, with HTTP 200 or 400: a bad key is
``AUTHENTICATION_ERROR``); rate limits https://linear.app/developers/rate-limiting (HTTP 400
with ``RATELIMITED``; ``X-RateLimit-Requests-Reset`` and ``X-RateLimit-Complexity-Reset`` in
UTC epoch milliseconds).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from actionruns.sdk import (
    Action,
    ActionError,
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
    ThrottledError,
    TransientError,
)
from actionruns.sdk.graphql import graphql
from actionruns.sdk.http import DEFAULT_THROTTLE_DELAY
from actionruns.sdk.pagination import cursor_page

API = "https://api.linear.app/graphql"
TEAMS = """query Teams($after: String) {
  teams(first: 50, after: $after) { nodes { id name key } pageInfo { hasNextPage endCursor } }
}"""
CREATE = """mutation IssueCreate($input: IssueCreateInput!) {
  issueCreate(input: $input) {
    success
    issue { id identifier title url priority priorityLabel dueDate createdAt }
  }
}"""
VIEWER = "query Viewer { viewer { id name email } }"
CODES: dict[str, type[ActionError]] = {
    "AUTHENTICATION_ERROR": ExpiredAuthError,
    "RATELIMITED": ThrottledError,
    "INTERNAL_SERVER_ERROR": TransientError,
}
BUDGETS = ("requests", "complexity")


def _throttle_delay(headers: Mapping[str, str]) -> float:
    """Seconds until the spent budget (requests or complexity) refills; Linear gives each
    budget's reset time in epoch milliseconds."""
    resets = {
        budget: int(headers[f"x-ratelimit-{budget}-reset"])
        for budget in BUDGETS
        if headers.get(f"x-ratelimit-{budget}-reset", "").isdigit()
    }
    spent = [
        reset
        for budget, reset in resets.items()
        if headers.get(f"x-ratelimit-{budget}-remaining") == "0"
    ]
    chosen = spent or list(resets.values())
    if not chosen:
        return DEFAULT_THROTTLE_DELAY
    return max(1.0, max(chosen) / 1000 - time.time())


async def _graphql(ctx: Context, query: str, variables: Mapping[str, Any] | None = None) -> Any:
    return await graphql(
        ctx,
        API,
        query,
        variables,
        codes=CODES,
        throttle_delay=lambda response: _throttle_delay(response.headers),
    )


async def test_key(ctx: Context) -> str:
    viewer = (await _graphql(ctx, VIEWER))["viewer"]
    return f"{viewer['name']} <{viewer['email']}>"


async def team_choices(ctx: Context, inputs: Mapping[str, Any], page: int) -> ChoicePage:
    async def fetch(cursor: str | None) -> tuple[list[Choice], str | None]:
        teams = (await _graphql(ctx, TEAMS, {"after": cursor}))["teams"]
        choices = [Choice(team["id"], f"{team['name']} ({team['key']})") for team in teams["nodes"]]
        info = teams["pageInfo"]
        return choices, info["endCursor"] if info["hasNextPage"] else None

    return await cursor_page(fetch, page)


async def create_issue(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {"teamId": str(inputs["team"]).strip(), "title": inputs["title"]}
    if inputs.get("description"):
        data["description"] = inputs["description"]
    if inputs.get("priority") is not None:
        data["priority"] = int(inputs["priority"])
    if inputs.get("assignee_id"):
        data["assigneeId"] = str(inputs["assignee_id"]).strip()
    if inputs.get("label_ids"):
        data["labelIds"] = [str(label).strip() for label in inputs["label_ids"]]
    if inputs.get("due_date"):
        data["dueDate"] = str(inputs["due_date"])[:10]
    created = (await _graphql(ctx, CREATE, {"input": data}))["issueCreate"]
    if not created.get("success") or not created.get("issue"):
        raise HaltError("Linear did not create the issue.")
    issue = created["issue"]
    return {
        "id": issue["id"],
        "identifier": issue["identifier"],
        "title": issue["title"],
        "url": issue["url"],
        "priority": issue.get("priority"),
        "priority_label": issue.get("priorityLabel"),
        "due_date": issue.get("dueDate"),
        "created_at": issue.get("createdAt"),
    }


app = App(
    key="linear",
    title="Linear",
    description="Create issues in Linear teams.",
    auth=Auth.api_key(
        template="{api_key}",
        label="API key",
        help_text="A personal API key (Settings → Account → Security & access → Personal API "
        "keys); it is sent as it is, without Bearer.",
    ),
    test=test_key,
    categories=("developer-tools", "project-management"),
    actions=[
        Action(
            "create_issue",
            "Create issue",
            "Creates an issue in a team, with a priority, an assignee, labels and a due date "
            "if given.",
            create_issue,
            inputs=[
                InputField(
                    "team",
                    "Team",
                    required=True,
                    dynamic_choices=team_choices,
                    help_text="The team the issue belongs to, or the team's id.",
                ),
                InputField("title", "Title", required=True, help_text="The issue's title."),
                InputField("description", "Description", FieldType.TEXT, help_text="Markdown."),
                InputField(
                    "priority",
                    "Priority",
                    FieldType.INTEGER,
                    choices=[
                        Choice("0", "No priority"),
                        Choice("1", "Urgent"),
                        Choice("2", "High"),
                        Choice("3", "Medium"),
                        Choice("4", "Low"),
                    ],
                    help_text="0 no priority, 1 urgent, 2 high, 3 medium, 4 low.",
                ),
                InputField(
                    "assignee_id", "Assignee ID", help_text="The id (UUID) of a workspace user."
                ),
                InputField(
                    "label_ids",
                    "Label IDs",
                    list=True,
                    help_text="Ids (UUIDs) of labels of the team or workspace.",
                ),
                InputField(
                    "due_date",
                    "Due date",
                    FieldType.DATETIME,
                    help_text="The day it is due; only the date is kept.",
                ),
            ],
            outputs=[
                OutputField("id", "ID"),
                OutputField("identifier", "Identifier"),
                OutputField("title", "Title"),
                OutputField("url", "URL"),
                OutputField("priority", "Priority", FieldType.INTEGER),
                OutputField("priority_label", "Priority label"),
                OutputField("due_date", "Due date"),
                OutputField("created_at", "Created at", FieldType.DATETIME),
            ],
            sample={
                "id": "9cfb482a-81e3-4154-b5b9-2c805e70a02d",
                "identifier": "ENG-123",
                "title": "Crash on launch",
                "url": "https://linear.app/acme/issue/ENG-123/crash-on-launch",
                "priority": 2,
                "priority_label": "High",
                "due_date": "2026-12-01",
                "created_at": "2026-11-25T10:00:00.000Z",
            },
        )
    ],
)
