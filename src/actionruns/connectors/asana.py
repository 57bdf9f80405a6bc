"""Asana: create a task in a project.

Reference: https://developers.asana.com/reference/createtask (POST /api/1.0/tasks with
``{"data": {...}}``; ``opt_fields`` picks the answer's fields),
https://developers.asana.com/reference/getworkspaces, https://developers.asana.com/reference/getprojects
(``limit``/``offset`` paging with ``next_page``), https://developers.asana.com/reference/getuser
(``me``), errors as ``{"errors": [{"message", "help"}]}``
(https://developers.asana.com/docs/errors), 429 with ``Retry-After``.
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
TASK_FIELDS = "name,permalink_url,due_on,completed,assignee.name,created_at"


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
    return str((await request_json(ctx, "GET", f"{API}/users/me"))["data"]["name"])


async def create_task(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {"name": inputs["name"], "workspace": inputs["workspace"]}
    if inputs.get("project"):
        data["projects"] = [inputs["project"]]
    for key in ("notes", "assignee"):
        if inputs.get(key):
            data[key] = inputs[key]
    if inputs.get("due_on"):
        data["due_on"] = str(inputs["due_on"])[:10]
    task = (
        await request_json(
            ctx, "POST", f"{API}/tasks", params={"opt_fields": TASK_FIELDS}, json={"data": data}
        )
    )["data"]
    return {
        "gid": task["gid"],
        "name": task["name"],
        "permalink_url": task.get("permalink_url"),
        "due_on": task.get("due_on"),
        "completed": task.get("completed", False),
        "assignee": (task.get("assignee") or {}).get("name"),
    }


app = App(
    key="asana",
    title="Asana",
    description="Create tasks in Asana projects.",
    auth=Auth.api_key(
        label="Personal access token",
        help_text="From My settings → Apps → Developer apps → Personal access tokens.",
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
                    help_text="The workspace or organization.",
                ),
                InputField(
                    "project",
                    "Project",
                    dynamic_choices=project_choices,
                    depends_on=("workspace",),
                    help_text="A project in the workspace.",
                ),
                InputField("name", "Name", required=True, help_text="The task's name."),
                InputField("notes", "Notes", FieldType.TEXT, help_text="Its description."),
                InputField(
                    "assignee", "Assignee", help_text="me, a user's gid or their email address."
                ),
                InputField("due_on", "Due on", FieldType.DATETIME, help_text="A date."),
            ],
            outputs=[
                OutputField("gid", "Task ID"),
                OutputField("name", "Name"),
                OutputField("permalink_url", "URL"),
                OutputField("due_on", "Due on"),
                OutputField("completed", "Completed", FieldType.BOOLEAN),
                OutputField("assignee", "Assignee"),
            ],
            sample={
                "gid": "1204567890123456",
                "name": "Call Acme",
                "permalink_url": "https://app.asana.com/0/1204567890000000/1204567890123456",
                "due_on": "2026-12-01",
                "completed": False,
                "assignee": "Ada Lovelace",
            },
        )
    ],
)
