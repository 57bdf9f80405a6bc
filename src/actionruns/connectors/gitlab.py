"""GitLab (gitlab.com or a self-managed instance): open an issue in a project.

Reference: https://docs.gitlab.com/api/issues/#new-issue (POST /api/v4/projects/:id/issues,
``:id`` the numeric id or the URL-encoded path; ``labels`` comma-separated, ``assignee_ids``,
``due_date``), https://docs.gitlab.com/api/projects/#list-all-projects (``membership``,
``page``/``per_page`` with an ``X-Next-Page`` header), https://docs.gitlab.com/api/rest/authentication/
(``PRIVATE-TOKEN``), https://docs.gitlab.com/api/users/#get-the-current-user, errors as
``{"message"}`` or ``{"error"}`` (https://docs.gitlab.com/api/rest/troubleshooting/).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx2

from actionruns.sdk import (
    Action,
    App,
    Auth,
    Choice,
    ChoicePage,
    Context,
    FieldType,
    InputField,
    OutputField,
)
from actionruns.sdk.http import raise_for_status, request_json
from actionruns.sdk.pagination import numbered_page

PROJECTS_PER_PAGE = 100


def _apply(request: httpx2.Request, credentials: Mapping[str, Any]) -> None:
    request.headers["PRIVATE-TOKEN"] = str(credentials["token"])


def _api(ctx: Context) -> str:
    return str(ctx.credentials.get("base_url") or "https://gitlab.com").rstrip("/") + "/api/v4"


async def test_token(ctx: Context) -> str:
    return str((await request_json(ctx, "GET", f"{_api(ctx)}/user"))["username"])


async def project_choices(ctx: Context, inputs: Mapping[str, Any], page: int) -> ChoicePage:
    async def fetch(number: int) -> tuple[list[Choice], bool]:
        params = {
            "membership": "true",
            "simple": "true",
            "order_by": "last_activity_at",
            "per_page": str(PROJECTS_PER_PAGE),
            "page": str(number),
        }
        response = await ctx.http.get(f"{_api(ctx)}/projects", params=params)
        raise_for_status(response)
        choices = [
            Choice(str(project["id"]), project["path_with_namespace"])
            for project in response.json()
        ]
        return choices, bool(response.headers.get("x-next-page"))

    return await numbered_page(fetch, page)


async def create_issue(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {"title": inputs["title"]}
    if inputs.get("description"):
        body["description"] = inputs["description"]
    if inputs.get("labels"):
        body["labels"] = ",".join(inputs["labels"])
    if inputs.get("assignee_ids"):
        body["assignee_ids"] = [int(value) for value in inputs["assignee_ids"]]
    if inputs.get("due_date"):
        body["due_date"] = str(inputs["due_date"])[:10]
    if inputs.get("confidential") is not None:
        body["confidential"] = inputs["confidential"]
    project = quote(str(inputs["project"]), safe="")
    issue = await request_json(ctx, "POST", f"{_api(ctx)}/projects/{project}/issues", json=body)
    return {
        "id": issue["id"],
        "iid": issue["iid"],
        "project_id": issue["project_id"],
        "title": issue["title"],
        "state": issue["state"],
        "labels": issue.get("labels", []),
        "web_url": issue["web_url"],
        "created_at": issue.get("created_at"),
    }


app = App(
    key="gitlab",
    title="GitLab",
    description="Open issues in GitLab projects, on gitlab.com or your own instance.",
    auth=Auth.custom(
        [
            InputField(
                "token",
                "Access token",
                FieldType.PASSWORD,
                required=True,
                help_text="A personal, group or project access token with the api scope.",
            ),
            InputField(
                "base_url",
                "GitLab URL",
                default="https://gitlab.com",
                help_text="Your instance's address if it is self-managed.",
            ),
        ],
        apply=_apply,
    ),
    test=test_token,
    categories=("developer-tools",),
    actions=[
        Action(
            "create_issue",
            "Create issue",
            "Opens an issue in a project.",
            create_issue,
            inputs=[
                InputField(
                    "project",
                    "Project",
                    required=True,
                    dynamic_choices=project_choices,
                    help_text="The project's id or path, e.g. group/website.",
                ),
                InputField("title", "Title", required=True, help_text="The issue's title."),
                InputField("description", "Description", FieldType.TEXT, help_text="Markdown."),
                InputField("labels", "Labels", list=True, help_text="Label names."),
                InputField("assignee_ids", "Assignee IDs", list=True, help_text="User ids."),
                InputField("due_date", "Due date", FieldType.DATETIME, help_text="YYYY-MM-DD."),
                InputField("confidential", "Confidential", FieldType.BOOLEAN, help_text="Hide it."),
            ],
            outputs=[
                OutputField("id", "ID", FieldType.INTEGER),
                OutputField("iid", "Number in project", FieldType.INTEGER),
                OutputField("project_id", "Project ID", FieldType.INTEGER),
                OutputField("title", "Title"),
                OutputField("state", "State"),
                OutputField("labels", "Labels", FieldType.JSON),
                OutputField("web_url", "URL"),
                OutputField("created_at", "Created at", FieldType.DATETIME),
            ],
            sample={
                "id": 84,
                "iid": 14,
                "project_id": 4,
                "title": "Issues with auth",
                "state": "opened",
                "labels": ["bug"],
                "web_url": "https://gitlab.com/group/website/-/issues/14",
                "created_at": "2016-01-07T12:44:33.959Z",
            },
        )
    ],
)
