"""Asana: create a task in a workspace, in a project if one is chosen.

Reference (https://developers.asana.com/reference/rest-api-reference): create a task
https://developers.asana.com/reference/createtask (POST /api/1.0/tasks with ``{"data":
{name, notes, workspace, projects, assignee, due_on}}``; ``opt_fields`` picks the fields of the
201 answer), workspaces https://developers.asana.com/reference/getworkspaces, projects
https://developers.asana.com/reference/getprojects (``workspace``, ``archived``), both paged
with ``limit``/``offset`` and ``next_page.offset`` (https://developers.asana.com/docs/pagination),
current user https://developers.asana.com/reference/getuser (``/users/me``); a personal access
token as ``Authorization: Bearer`` (https://developers.asana.com/docs/personal-access-token);
errors https://developers.asana.com/docs/errors (``{"errors": [{"message", "help",
"phrase"}]}``: 400, 401, 402 premium only, 403, 404, 429, 5xx); rate limits
https://developers.asana.com/docs/rate-limits (429 with ``Retry-After`` in seconds).
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
    FieldType,
    InputField,
    OutputField,
)
from actionruns.sdk.http import request_json
from actionruns.sdk.pagination import cursor_page

API = "https://app.asana.com/api/1.0"
PER_PAGE = 100
TASK_FIELDS = "name,notes,permalink_url,due_on,completed,assignee.name,projects.name,created_at"


async def _paged(ctx: Context, path: str, params: Mapping[str, str], page: int) -> ChoicePage:
    async def fetch(offset: str | None) -> tuple[list[Choice], str | None]:
        query = {**params, "limit": str(PER_PAGE), "opt_fields": "name"}
        if offset:
            query["offset"] = offset
        found = await request_json(ctx, "GET", f"{API}{path}", params=query)
        choices = [Choice(item["gid"], item["name"]) for item in found["data"]]
        return choices, (found.get("next_page") or {}).get("offset")

    return await cursor_page(fetch, page)


async def workspace_choices(ctx: Context, inputs: Mapping[str, Any], page: int) -> ChoicePage:
    return await _paged(ctx, "/workspaces", {}, page)


async def project_choices(ctx: Context, inputs: Mapping[str, Any], page: int) -> ChoicePage:
    if not inputs.get("workspace"):
        return ChoicePage([])
    params = {"workspace": str(inputs["workspace"]), "archived": "false"}
    return await _paged(ctx, "/projects", params, page)


async def test_token(ctx: Context) -> str:
    me = (await request_json(ctx, "GET", f"{API}/users/me", params={"opt_fields": "name,email"}))[
        "data"
    ]
    return f"{me['name']} <{me['email']}>" if me.get("email") else str(me["name"])


async def create_task(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {"name": inputs["name"], "workspace": str(inputs["workspace"])}
    if inputs.get("project"):
        data["projects"] = [str(inputs["project"])]
    if inputs.get("notes"):
        data["notes"] = inputs["notes"]
    if inputs.get("assignee"):
        data["assignee"] = str(inputs["assignee"]).strip()
    if inputs.get("due_on"):
        data["due_on"] = str(inputs["due_on"])[:10]
    answer = await request_json(
        ctx, "POST", f"{API}/tasks", params={"opt_fields": TASK_FIELDS}, json={"data": data}
    )
    task = answer["data"]
    return {
        "gid": task["gid"],
        "name": task["name"],
        "permalink_url": task.get("permalink_url"),
        "due_on": task.get("due_on"),
        "completed": task.get("completed", False),
        "assignee": (task.get("assignee") or {}).get("name"),
        "projects": [project["name"] for project in task.get("projects") or []],
        "created_at": task.get("created_at"),
    }


app = App(
    key="asana",
    title="Asana",
    description="Create tasks in Asana workspaces and projects.",
    auth=Auth.api_key(
        label="Personal access token",
        help_text="From the developer console (My settings → Apps → Manage developer apps → "
        "Create new token).",
    ),
    test=test_token,
    categories=("productivity", "project-management"),
    actions=[
        Action(
            "create_task",
            "Create task",
            "Creates a task in a workspace, in a project if one is chosen.",
            create_task,
            inputs=[
                InputField(
                    "workspace",
                    "Workspace",
                    required=True,
                    dynamic_choices=workspace_choices,
                    alters_dynamic_fields=True,
                    help_text="The workspace or organization the task lives in.",
                ),
                InputField(
                    "project",
                    "Project",
                    dynamic_choices=project_choices,
                    depends_on=("workspace",),
                    help_text="A project of that workspace; empty for a task in no project.",
                ),
                InputField("name", "Name", required=True, help_text="The task's name."),
                InputField("notes", "Notes", FieldType.TEXT, help_text="The task's description."),
                InputField(
                    "assignee",
                    "Assignee",
                    help_text="me, a user's gid or their email address.",
                ),
                InputField(
                    "due_on",
                    "Due on",
                    FieldType.DATETIME,
                    help_text="The day it is due; only the date is kept.",
                ),
            ],
            outputs=[
                OutputField("gid", "Task ID"),
                OutputField("name", "Name"),
                OutputField("permalink_url", "URL"),
                OutputField("due_on", "Due on"),
                OutputField("completed", "Completed", FieldType.BOOLEAN),
                OutputField("assignee", "Assignee"),
                OutputField("projects", "Projects", FieldType.JSON),
                OutputField("created_at", "Created at", FieldType.DATETIME),
            ],
            sample={
                "gid": "1204567890123456",
                "name": "Call Acme",
                "permalink_url": "https://app.asana.com/0/1204567890000000/1204567890123456",
                "due_on": "2026-12-01",
                "completed": False,
                "assignee": "Ada Lovelace",
                "projects": ["Renewals"],
                "created_at": "2026-11-25T10:00:00.000Z",
            },
        )
    ],
)
