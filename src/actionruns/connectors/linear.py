"""Linear: create an issue in a team, through Linear's GraphQL API.

Reference: https://linear.app/developers/graphql (POST https://api.linear.app/graphql; a
personal API key goes in ``Authorization`` as it is, no Bearer), the ``issueCreate`` mutation
and ``IssueCreateInput`` (https://studio.apollographql.com/public/Linear-API/variant/current/schema/reference/inputs/IssueCreateInput),
``teams`` with Relay paging (``first``/``after``, ``pageInfo``), ``viewer``; errors in the
body's ``errors`` with ``extensions.code`` (AUTHENTICATION_ERROR, RATELIMITED…:
https://linear.app/developers/rate-limiting).
"""

from __future__ import annotations

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
    HaltError,
    InputField,
    OutputField,
    ThrottledError,
)
from actionruns.sdk.graphql import graphql
from actionruns.sdk.pagination import cursor_page

API = "https://api.linear.app/graphql"
TEAMS = """query Teams($after: String) {
  teams(first: 50, after: $after) { nodes { id name key } pageInfo { hasNextPage endCursor } }
}"""
CREATE = """mutation IssueCreate($input: IssueCreateInput!) {
  issueCreate(input: $input) { success issue { id identifier title url priority } }
}"""
VIEWER = "query Viewer { viewer { name email } }"
CODES = {"AUTHENTICATION_ERROR": ExpiredAuthError, "RATELIMITED": ThrottledError}


async def _graphql(ctx: Context, query: str, variables: Mapping[str, Any] | None = None) -> Any:
    return await graphql(ctx, API, query, variables, codes=CODES)


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
    data: dict[str, Any] = {"teamId": inputs["team"], "title": inputs["title"]}
    if inputs.get("description"):
        data["description"] = inputs["description"]
    if inputs.get("priority") is not None:
        data["priority"] = int(inputs["priority"])
    if inputs.get("assignee_id"):
        data["assigneeId"] = inputs["assignee_id"]
    if inputs.get("label_ids"):
        data["labelIds"] = list(inputs["label_ids"])
    created = (await _graphql(ctx, CREATE, {"input": data}))["issueCreate"]
    if not created.get("success"):
        raise HaltError("Linear did not create the issue.")
    issue = created["issue"]
    return {
        "id": issue["id"],
        "identifier": issue["identifier"],
        "title": issue["title"],
        "url": issue["url"],
        "priority": issue.get("priority"),
    }


app = App(
    key="linear",
    title="Linear",
    description="Create issues in Linear teams.",
    auth=Auth.api_key(
        template="{api_key}",
        label="API key",
        help_text="A personal API key: Settings → Account → Security & access → API keys.",
    ),
    test=test_key,
    categories=("developer-tools", "project-management"),
    actions=[
        Action(
            "create_issue",
            "Create issue",
            "Creates an issue in a team.",
            create_issue,
            inputs=[
                InputField(
                    "team",
                    "Team",
                    required=True,
                    dynamic_choices=team_choices,
                    help_text="The team the issue belongs to.",
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
                    help_text="0 none, 1 urgent … 4 low.",
                ),
                InputField("assignee_id", "Assignee ID", help_text="A user's id."),
                InputField("label_ids", "Label IDs", list=True, help_text="Labels' ids."),
            ],
            outputs=[
                OutputField("id", "ID"),
                OutputField("identifier", "Identifier"),
                OutputField("title", "Title"),
                OutputField("url", "URL"),
                OutputField("priority", "Priority", FieldType.INTEGER),
            ],
            sample={
                "id": "9cfb482a-81e3-4154-b5b9-2c805e70a02d",
                "identifier": "ENG-123",
                "title": "Crash on launch",
                "url": "https://linear.app/acme/issue/ENG-123/crash-on-launch",
                "priority": 2,
            },
        )
    ],
)
