"""GitLab (gitlab.com or a self-managed instance): open an issue in a project.

Reference (REST API v4):
new issue https://docs.gitlab.com/api/issues/#new-issue (POST /api/v4/projects/:id/issues,
``:id`` the numeric id or the URL-encoded path; ``title``, ``description``, ``labels``
comma-separated, ``assignee_ids`` an integer array, ``due_date`` YYYY-MM-DD, ``confidential``;
201 with the issue),
projects https://docs.gitlab.com/api/projects/#list-all-projects (``membership``, ``simple``,
``order_by``; offset pagination https://docs.gitlab.com/api/rest/#offset-based-pagination with
``page``/``per_page`` and an ``X-Next-Page`` header, empty on the last page),
current user https://docs.gitlab.com/api/users/#get-the-current-user (GET /api/v4/user),
authentication https://docs.gitlab.com/api/rest/authentication/ (a personal, project or group
access token, or an OAuth token, as ``Authorization: Bearer``; ``PRIVATE-TOKEN`` also works for
the first three), errors https://docs.gitlab.com/api/rest/troubleshooting/ (``{"message":
"..."}``, ``{"error": "..."}``, validation failures as ``{"message": {"field": ["..."]}}``),
rate limits https://docs.gitlab.com/administration/settings/user_and_ip_rate_limits/ (429
with ``Retry-After`` and ``RateLimit-Reset``, a Unix time; gitlab.com answers some 429s with a
plain-text body and no ``Retry-After``).
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
from actionruns.sdk.http import error_message, raise_for_status
from actionruns.sdk.pagination import numbered_page

DEFAULT_URL = "https://gitlab.com"
PROJECTS_PER_PAGE = 100


def _api(ctx: Context) -> str:
    base = str(ctx.credentials.get("base_url") or DEFAULT_URL).strip().rstrip("/")
    if "://" not in base:
        base = f"https://{base}"
    return f"{base}/api/v4"


def _message(response: httpx2.Response) -> str:
    """GitLab's message, validation failures (``{"message": {field: [...]}}``) included."""
    try:
        body: Any = response.json()
    except ValueError:
        return error_message(response)
    message = body.get("message") if isinstance(body, dict) else None
    if isinstance(message, dict) and message:
        if isinstance(message.get("error"), str):
            return str(message["error"])
        parts = []
        for field, problems in message.items():
            listed = problems if isinstance(problems, list) else [problems]
            parts.append(f"{field} {', '.join(str(problem) for problem in listed)}")
        return "; ".join(parts)
    return error_message(response)


def _raise_for_gitlab(response: httpx2.Response) -> None:
    """A 429 without ``Retry-After`` still says when the window resets in ``RateLimit-Reset``."""
    if response.status_code >= 400:
        raise_for_status(response, message=_message(response), reset_header="ratelimit-reset")


async def _call(ctx: Context, method: str, path: str, **request: Any) -> Any:
    response = await ctx.http.request(method, f"{_api(ctx)}{path}", **request)
    _raise_for_gitlab(response)
    return response.json() if response.content else None


async def test_token(ctx: Context) -> str:
    user = await _call(ctx, "GET", "/user")
    return f"{user['name']} (@{user['username']})"


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
        _raise_for_gitlab(response)
        choices = [
            Choice(str(project["id"]), project["path_with_namespace"])
            for project in response.json()
        ]
        return choices, bool(response.headers.get("x-next-page", "").strip())

    return await numbered_page(fetch, page)


async def create_issue(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {"title": inputs["title"]}
    if inputs.get("description"):
        body["description"] = inputs["description"]
    if inputs.get("labels"):
        body["labels"] = ",".join(str(label).strip() for label in inputs["labels"])
    if inputs.get("assignee_ids"):
        body["assignee_ids"] = [int(value) for value in inputs["assignee_ids"]]
    if inputs.get("milestone_id"):
        body["milestone_id"] = int(inputs["milestone_id"])
    if inputs.get("due_date"):
        body["due_date"] = str(inputs["due_date"])[:10]
    if inputs.get("confidential") is not None:
        body["confidential"] = inputs["confidential"]
    project = quote(str(inputs["project"]).strip(), safe="")
    issue = await _call(ctx, "POST", f"/projects/{project}/issues", json=body)
    return {
        "id": issue["id"],
        "iid": issue["iid"],
        "project_id": issue["project_id"],
        "title": issue["title"],
        "state": issue["state"],
        "labels": issue.get("labels", []),
        "assignees": [user["username"] for user in issue.get("assignees") or []],
        "due_date": issue.get("due_date"),
        "web_url": issue["web_url"],
        "created_at": issue.get("created_at"),
    }


app = App(
    key="gitlab",
    title="GitLab",
    description="Open issues in GitLab projects, on gitlab.com or your own instance.",
    auth=Auth.api_key(
        label="Access token",
        help_text="A personal, group or project access token with the api scope "
        "(User settings → Access tokens), or an OAuth access token.",
        extra_fields=[
            InputField(
                "base_url",
                "GitLab URL",
                FieldType.URL,
                default=DEFAULT_URL,
                placeholder="https://gitlab.example.com",
                help_text="Your instance's address if it is self-managed; leave "
                "https://gitlab.com otherwise.",
            )
        ],
    ),
    test=test_token,
    categories=("developer-tools", "project-management"),
    actions=[
        Action(
            "create_issue",
            "Create issue",
            "Opens an issue in a project, with labels, assignees and a due date if given.",
            create_issue,
            inputs=[
                InputField(
                    "project",
                    "Project",
                    required=True,
                    dynamic_choices=project_choices,
                    help_text="A project you are a member of, or its id or path, e.g. "
                    "group/website.",
                ),
                InputField("title", "Title", required=True, help_text="The issue's title."),
                InputField(
                    "description",
                    "Description",
                    FieldType.TEXT,
                    help_text="Markdown, up to 1,048,576 characters.",
                ),
                InputField(
                    "labels",
                    "Labels",
                    list=True,
                    help_text="Label names; labels the project lacks are created.",
                ),
                InputField(
                    "assignee_ids",
                    "Assignee IDs",
                    FieldType.INTEGER,
                    list=True,
                    help_text="Numeric user ids (Free tier: one assignee).",
                ),
                InputField(
                    "milestone_id",
                    "Milestone ID",
                    FieldType.INTEGER,
                    help_text="The global id of a milestone.",
                ),
                InputField(
                    "due_date",
                    "Due date",
                    FieldType.DATETIME,
                    help_text="The day it is due; only the date is kept.",
                ),
                InputField(
                    "confidential",
                    "Confidential",
                    FieldType.BOOLEAN,
                    help_text="Hide it from all but project members, its author and assignees.",
                ),
            ],
            outputs=[
                OutputField("id", "ID", FieldType.INTEGER),
                OutputField("iid", "Number in project", FieldType.INTEGER),
                OutputField("project_id", "Project ID", FieldType.INTEGER),
                OutputField("title", "Title"),
                OutputField("state", "State"),
                OutputField("labels", "Labels", FieldType.JSON),
                OutputField("assignees", "Assignees", FieldType.JSON),
                OutputField("due_date", "Due date"),
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
                "assignees": ["eileen.lowe"],
                "due_date": "2016-07-22",
                "web_url": "https://gitlab.example.com/my-group/my-project/-/issues/14",
                "created_at": "2016-01-07T12:44:33.959Z",
            },
        )
    ],
)
