"""Jira Cloud: create an issue, move it through its workflow, comment, find issues by JQL.

Reference: https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/#api-rest-api-3-issue-post
(POST /rest/api/3/issue with ``fields``; descriptions and comments in Atlassian Document
Format: https://developer.atlassian.com/cloud/jira/platform/apis/document/structure/),
#api-rest-api-3-issue-issueidorkey-transitions-get and -post (204),
https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-comments/#api-rest-api-3-issue-issueidorkey-comment-post,
https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-search/#api-rest-api-3-search-jql-post
(the JQL search that replaced /search), project search with ``startAt``/``maxResults``/``isLast``,
/rest/api/3/myself; HTTP Basic with the account's email and an API token
(https://developer.atlassian.com/cloud/jira/platform/basic-auth-for-rest-apis/); errors as
``{"errorMessages": [...], "errors": {field: message}}``.
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
    ChoicePage,
    Context,
    FieldType,
    InputField,
    OutputField,
)
from actionruns.sdk.auth import http_basic
from actionruns.sdk.http import request_json

PROJECTS_PER_PAGE = 50
SEARCH_FIELDS = ["summary", "status", "assignee", "issuetype", "created", "updated"]


def _api(ctx: Context) -> str:
    return str(ctx.credentials["site"]).rstrip("/") + "/rest/api/3"


def adf(text: str) -> dict[str, Any]:
    """Plain text as an Atlassian Document: one paragraph per line."""
    return {
        "type": "doc",
        "version": 1,
        "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": line}] if line else []}
            for line in str(text).splitlines() or [""]
        ],
    }


async def test_token(ctx: Context) -> str:
    return str((await request_json(ctx, "GET", f"{_api(ctx)}/myself"))["displayName"])


async def project_choices(ctx: Context, inputs: Mapping[str, Any], page: int) -> ChoicePage:
    params = {"startAt": str(page * PROJECTS_PER_PAGE), "maxResults": str(PROJECTS_PER_PAGE)}
    found = await request_json(ctx, "GET", f"{_api(ctx)}/project/search", params=params)
    choices = [Choice(project["key"], project["name"]) for project in found["values"]]
    return ChoicePage(choices, has_more=not found.get("isLast", True))


async def transition_choices(ctx: Context, inputs: Mapping[str, Any], page: int) -> ChoicePage:
    if page or not inputs.get("issue_key"):
        return ChoicePage([])
    url = f"{_api(ctx)}/issue/{inputs['issue_key']}/transitions"
    found = await request_json(ctx, "GET", url)
    return ChoicePage([Choice(item["id"], item["name"]) for item in found["transitions"]])


async def create_issue(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "project": {"key": inputs["project"]},
        "issuetype": {"name": inputs.get("issue_type") or "Task"},
        "summary": inputs["summary"],
    }
    if inputs.get("description"):
        fields["description"] = adf(inputs["description"])
    if inputs.get("labels"):
        fields["labels"] = list(inputs["labels"])
    if inputs.get("assignee_account_id"):
        fields["assignee"] = {"id": inputs["assignee_account_id"]}
    if inputs.get("priority"):
        fields["priority"] = {"name": inputs["priority"]}
    created = await request_json(ctx, "POST", f"{_api(ctx)}/issue", json={"fields": fields})
    site = str(ctx.credentials["site"]).rstrip("/")
    return {"id": created["id"], "key": created["key"], "url": f"{site}/browse/{created['key']}"}


async def transition_issue(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    url = f"{_api(ctx)}/issue/{inputs['issue_key']}/transitions"
    await request_json(ctx, "POST", url, json={"transition": {"id": str(inputs["transition"])}})
    return {"key": inputs["issue_key"], "transition": str(inputs["transition"])}


async def add_comment(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    url = f"{_api(ctx)}/issue/{inputs['issue_key']}/comment"
    comment = await request_json(ctx, "POST", url, json={"body": adf(inputs["body"])})
    return {"id": comment["id"], "key": inputs["issue_key"], "created": comment.get("created")}


async def find_issue(ctx: Context, inputs: Mapping[str, Any]) -> list[dict[str, Any]]:
    body = {
        "jql": inputs["jql"],
        "maxResults": int(inputs.get("max_results") or 10),
        "fields": SEARCH_FIELDS,
    }
    found = await request_json(ctx, "POST", f"{_api(ctx)}/search/jql", json=body)
    return [
        {
            "id": issue["id"],
            "key": issue["key"],
            "summary": issue["fields"].get("summary"),
            "status": (issue["fields"].get("status") or {}).get("name"),
            "assignee": (issue["fields"].get("assignee") or {}).get("displayName"),
            "created": issue["fields"].get("created"),
        }
        for issue in found.get("issues", [])
    ]


ISSUE_KEY = InputField(
    "issue_key", "Issue", required=True, alters_dynamic_fields=True, help_text="e.g. OPS-42."
)

app = App(
    key="jira",
    title="Jira Cloud",
    description="Create, transition, comment on and find Jira issues.",
    auth=Auth.custom(
        [
            InputField(
                "site",
                "Site",
                required=True,
                placeholder="https://your-team.atlassian.net",
                help_text="Your Jira Cloud address.",
            ),
            InputField("email", "Email", required=True, help_text="Your Atlassian account's."),
            InputField(
                "api_token",
                "API token",
                FieldType.PASSWORD,
                required=True,
                help_text="From id.atlassian.com → Security → API tokens.",
            ),
        ],
        apply=http_basic(lambda c: c["email"], lambda c: c["api_token"]),
    ),
    test=test_token,
    categories=("developer-tools", "project-management"),
    actions=[
        Action(
            "create_issue",
            "Create issue",
            "Creates an issue in a project.",
            create_issue,
            inputs=[
                InputField(
                    "project",
                    "Project",
                    required=True,
                    dynamic_choices=project_choices,
                    help_text="The project's key.",
                ),
                InputField(
                    "issue_type", "Issue type", default="Task", help_text="Task, Bug, Story…"
                ),
                InputField("summary", "Summary", required=True, help_text="The issue's title."),
                InputField("description", "Description", FieldType.TEXT, help_text="Plain text."),
                InputField("labels", "Labels", list=True, help_text="Labels (no spaces)."),
                InputField("priority", "Priority", help_text="e.g. High, Medium."),
                InputField(
                    "assignee_account_id", "Assignee account ID", help_text="An Atlassian id."
                ),
            ],
            outputs=[
                OutputField("id", "ID"),
                OutputField("key", "Key"),
                OutputField("url", "URL"),
            ],
            sample={
                "id": "10000",
                "key": "OPS-24",
                "url": "https://your-team.atlassian.net/browse/OPS-24",
            },
        ),
        Action(
            "transition_issue",
            "Transition issue",
            "Moves an issue along its workflow (e.g. to In Progress or Done).",
            transition_issue,
            inputs=[
                ISSUE_KEY,
                InputField(
                    "transition",
                    "Transition",
                    required=True,
                    dynamic_choices=transition_choices,
                    depends_on=("issue_key",),
                    help_text="One the issue can take now.",
                ),
            ],
            outputs=[OutputField("key", "Key"), OutputField("transition", "Transition ID")],
            sample={"key": "OPS-24", "transition": "21"},
        ),
        Action(
            "add_comment",
            "Add comment",
            "Comments on an issue.",
            add_comment,
            inputs=[
                ISSUE_KEY,
                InputField(
                    "body", "Comment", FieldType.TEXT, required=True, help_text="Plain text."
                ),
            ],
            outputs=[
                OutputField("id", "Comment ID"),
                OutputField("key", "Issue key"),
                OutputField("created", "Created", FieldType.DATETIME),
            ],
            sample={"id": "10000", "key": "OPS-24", "created": "2026-11-25T10:00:00.000+0000"},
        ),
        Action(
            "find_issue",
            "Find issues (JQL)",
            "Finds issues with a JQL query, e.g. project = OPS AND status = 'To Do'.",
            find_issue,
            type=ActionType.SEARCH,
            inputs=[
                InputField("jql", "JQL", required=True, help_text="A bounded JQL query."),
                InputField(
                    "max_results", "Max results", FieldType.INTEGER, default=10, help_text="1-100."
                ),
            ],
            outputs=[
                OutputField("id", "ID"),
                OutputField("key", "Key"),
                OutputField("summary", "Summary"),
                OutputField("status", "Status"),
                OutputField("assignee", "Assignee"),
                OutputField("created", "Created", FieldType.DATETIME),
            ],
            sample={
                "id": "10000",
                "key": "OPS-24",
                "summary": "Printer on fire",
                "status": "To Do",
                "assignee": "Ada Lovelace",
                "created": "2026-11-25T10:00:00.000+0000",
            },
        ),
    ],
)
