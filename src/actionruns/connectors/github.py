"""GitHub, through its REST API.

Reference: https://docs.github.com/en/rest (API version 2022-11-28):
issues (https://docs.github.com/en/rest/issues/issues#create-an-issue, #update-an-issue),
comments (https://docs.github.com/en/rest/issues/comments#create-an-issue-comment),
releases (https://docs.github.com/en/rest/releases/releases#create-a-release),
search (https://docs.github.com/en/rest/search/search#search-issues-and-pull-requests),
repositories of the user (https://docs.github.com/en/rest/repos/repos#list-repositories-for-the-authenticated-user,
paginated with ``page``/``per_page`` and a ``Link`` header), rate limits
(https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api: 403 or 429
with ``x-ratelimit-remaining: 0`` until ``x-ratelimit-reset``, or ``retry-after`` for
secondary limits); OAuth:
https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps (web
flow with PKCE, the code exchanged at login/oauth/access_token with ``Accept:
application/json``; errors come as HTTP 200 with ``error``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx2

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
    OAuth2Config,
    OutputField,
    ThrottledError,
)
from actionruns.sdk.http import error_message, raise_for_status, retry_after_seconds
from actionruns.sdk.pagination import numbered_page

API = "https://api.github.com"
HEADERS = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
REPOS_PER_PAGE = 100


def _raise_for_github(response: httpx2.Response) -> None:
    """GitHub says "rate limited" with a 403 as often as with a 429."""
    limited = response.headers.get("x-ratelimit-remaining") == "0"
    if response.status_code in (403, 429) and (limited or "retry-after" in response.headers):
        delay = retry_after_seconds(response, reset_header="x-ratelimit-reset")
        raise ThrottledError(error_message(response), delay=delay, meta={"status": 429})
    raise_for_status(response)


async def _call(ctx: Context, method: str, path: str, **request: Any) -> Any:
    response = await ctx.http.request(method, f"{API}{path}", headers=HEADERS, **request)
    _raise_for_github(response)
    return response.json() if response.content else None


async def test_token(ctx: Context) -> str:
    user = await _call(ctx, "GET", "/user")
    return str(user["login"])


async def repository_choices(ctx: Context, inputs: Mapping[str, Any], page: int) -> ChoicePage:
    async def fetch(number: int) -> tuple[list[Choice], bool]:
        params = {"per_page": str(REPOS_PER_PAGE), "page": str(number), "sort": "updated"}
        response = await ctx.http.get(f"{API}/user/repos", params=params, headers=HEADERS)
        _raise_for_github(response)
        repos = [Choice(repo["full_name"]) for repo in response.json()]
        return repos, "next" in response.links

    return await numbered_page(fetch, page)


def _repo(inputs: Mapping[str, Any]) -> str:
    return f"/repos/{inputs['repository']}"


def _issue(issue: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": issue["id"],
        "number": issue["number"],
        "title": issue["title"],
        "state": issue["state"],
        "html_url": issue["html_url"],
        "labels": [label["name"] for label in issue.get("labels", [])],
        "assignees": [user["login"] for user in issue.get("assignees", [])],
        "created_at": issue.get("created_at"),
        "updated_at": issue.get("updated_at"),
    }


def _given(inputs: Mapping[str, Any], *keys: str) -> dict[str, Any]:
    """The inputs the user filled in: an empty field leaves the issue's value alone."""
    return {key: inputs[key] for key in keys if inputs.get(key) not in (None, "", [])}


async def create_issue(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    body = _given(inputs, "title", "body", "labels", "assignees", "milestone")
    return _issue(await _call(ctx, "POST", f"{_repo(inputs)}/issues", json=body))


async def update_issue(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    body = _given(inputs, "title", "body", "state", "state_reason", "labels", "assignees")
    path = f"{_repo(inputs)}/issues/{inputs['issue_number']}"
    return _issue(await _call(ctx, "PATCH", path, json=body))


async def comment_on_issue(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    path = f"{_repo(inputs)}/issues/{inputs['issue_number']}/comments"
    comment = await _call(ctx, "POST", path, json={"body": inputs["body"]})
    return {
        "id": comment["id"],
        "html_url": comment["html_url"],
        "body": comment["body"],
        "created_at": comment["created_at"],
    }


async def create_release(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    body = _given(inputs, "tag_name", "target_commitish", "name", "body")
    for flag in ("draft", "prerelease", "generate_release_notes"):
        if inputs.get(flag) is not None:
            body[flag] = inputs[flag]
    release = await _call(ctx, "POST", f"{_repo(inputs)}/releases", json=body)
    return {
        key: release.get(key)
        for key in ("id", "tag_name", "name", "html_url", "draft", "prerelease", "created_at")
    }


async def find_issue(ctx: Context, inputs: Mapping[str, Any]) -> list[dict[str, Any]]:
    query = f"repo:{inputs['repository']} is:issue {inputs['query']}"
    if inputs.get("state"):
        query += f" state:{inputs['state']}"
    found = await _call(ctx, "GET", "/search/issues", params={"q": query, "per_page": "10"})
    return [_issue(item) for item in found["items"]]


REPOSITORY = InputField(
    "repository",
    "Repository",
    required=True,
    dynamic_choices=repository_choices,
    help_text="owner/name of the repository, e.g. octo-org/website.",
)
ISSUE_NUMBER = InputField(
    "issue_number", "Issue number", FieldType.INTEGER, required=True, help_text="e.g. 42."
)
LABELS = InputField(
    "labels", "Labels", list=True, help_text="Label names; unknown labels are created."
)
ASSIGNEES = InputField("assignees", "Assignees", list=True, help_text="GitHub logins.")
ISSUE_SAMPLE = {
    "id": 1296269,
    "number": 1347,
    "title": "Found a bug",
    "state": "open",
    "html_url": "https://github.com/octocat/Hello-World/issues/1347",
    "labels": ["bug"],
    "assignees": ["octocat"],
    "created_at": "2011-04-22T13:33:48Z",
    "updated_at": "2011-04-22T13:33:48Z",
}
ISSUE_OUTPUTS = [
    OutputField("id", "ID", FieldType.INTEGER),
    OutputField("number", "Number", FieldType.INTEGER),
    OutputField("title", "Title"),
    OutputField("state", "State"),
    OutputField("html_url", "URL"),
    OutputField("labels", "Labels", FieldType.JSON),
    OutputField("assignees", "Assignees", FieldType.JSON),
    OutputField("created_at", "Created at", FieldType.DATETIME),
    OutputField("updated_at", "Updated at", FieldType.DATETIME),
]

app = App(
    key="github",
    title="GitHub",
    description="Open, update and find issues, comment on them and publish releases on GitHub.",
    auth=Auth.oauth2_bearer(
        OAuth2Config(
            authorize_url="https://github.com/login/oauth/authorize",
            token_url="https://github.com/login/oauth/access_token",  # noqa: S106 (a URL)
            scopes=("repo",),
            scope_descriptions={
                "repo": "Read and change your repositories, with their issues, pull requests "
                "and releases",
            },
            token_headers={"Accept": "application/json"},
        ),
        help_text="A fine-grained personal access token with Issues and Contents (read and "
        "write) on the repositories to automate, if you have one.",
    ),
    test=test_token,
    categories=("developer-tools",),
    actions=[
        Action(
            "create_issue",
            "Create issue",
            "Opens a new issue in a repository.",
            create_issue,
            inputs=[
                REPOSITORY,
                InputField("title", "Title", required=True, help_text="The issue's title."),
                InputField("body", "Body", FieldType.TEXT, help_text="Markdown."),
                LABELS,
                ASSIGNEES,
                InputField(
                    "milestone", "Milestone", FieldType.INTEGER, help_text="Milestone number."
                ),
            ],
            outputs=ISSUE_OUTPUTS,
            sample=ISSUE_SAMPLE,
        ),
        Action(
            "comment_on_issue",
            "Comment on issue",
            "Adds a comment to an issue or pull request.",
            comment_on_issue,
            inputs=[
                REPOSITORY,
                ISSUE_NUMBER,
                InputField("body", "Comment", FieldType.TEXT, required=True, help_text="Markdown."),
            ],
            outputs=[
                OutputField("id", "ID", FieldType.INTEGER),
                OutputField("html_url", "URL"),
                OutputField("body", "Body"),
                OutputField("created_at", "Created at", FieldType.DATETIME),
            ],
            sample={
                "id": 1,
                "html_url": "https://github.com/octocat/Hello-World/issues/1347#issuecomment-1",
                "body": "Me too",
                "created_at": "2011-04-14T16:00:49Z",
            },
        ),
        Action(
            "update_issue",
            "Update issue",
            "Changes an issue's title, body, state, labels or assignees; empty fields are "
            "left as they are.",
            update_issue,
            inputs=[
                REPOSITORY,
                ISSUE_NUMBER,
                InputField("title", "Title", help_text="A new title."),
                InputField("body", "Body", FieldType.TEXT, help_text="A new body (Markdown)."),
                InputField(
                    "state",
                    "State",
                    choices=[Choice("open", "Open"), Choice("closed", "Closed")],
                    help_text="Close or reopen the issue.",
                ),
                InputField(
                    "state_reason",
                    "State reason",
                    choices=[
                        Choice("completed", "Completed"),
                        Choice("not_planned", "Not planned"),
                        Choice("reopened", "Reopened"),
                    ],
                    help_text="Why the state changed.",
                ),
                InputField("labels", "Labels", list=True, help_text="Replaces all labels."),
                InputField(
                    "assignees", "Assignees", list=True, help_text="Replaces all assignees."
                ),
            ],
            outputs=ISSUE_OUTPUTS,
            sample=ISSUE_SAMPLE,
        ),
        Action(
            "create_release",
            "Create release",
            "Publishes a release (and its tag, if it does not exist yet).",
            create_release,
            inputs=[
                REPOSITORY,
                InputField("tag_name", "Tag", required=True, help_text="e.g. v1.2.0."),
                InputField(
                    "target_commitish",
                    "Target",
                    help_text="Branch or commit the tag points at, when it is created; "
                    "default branch if empty.",
                ),
                InputField("name", "Name", help_text="The release's title."),
                InputField("body", "Notes", FieldType.TEXT, help_text="Release notes."),
                InputField("draft", "Draft", FieldType.BOOLEAN, help_text="Keep unpublished."),
                InputField(
                    "prerelease", "Pre-release", FieldType.BOOLEAN, help_text="Mark unstable."
                ),
                InputField(
                    "generate_release_notes",
                    "Generate notes",
                    FieldType.BOOLEAN,
                    help_text="Let GitHub write notes from merged pull requests.",
                ),
            ],
            outputs=[
                OutputField("id", "ID", FieldType.INTEGER),
                OutputField("tag_name", "Tag"),
                OutputField("name", "Name"),
                OutputField("html_url", "URL"),
                OutputField("draft", "Draft", FieldType.BOOLEAN),
                OutputField("prerelease", "Pre-release", FieldType.BOOLEAN),
                OutputField("created_at", "Created at", FieldType.DATETIME),
            ],
            sample={
                "id": 1,
                "tag_name": "v1.0.0",
                "name": "v1.0.0",
                "html_url": "https://github.com/octocat/Hello-World/releases/v1.0.0",
                "draft": False,
                "prerelease": False,
                "created_at": "2013-02-27T19:35:32Z",
            },
        ),
        Action(
            "find_issue",
            "Find issue",
            "Finds issues in a repository by words in their title or body (GitHub search "
            "syntax), newest match first.",
            find_issue,
            type=ActionType.SEARCH,
            inputs=[
                REPOSITORY,
                InputField(
                    "query",
                    "Search",
                    required=True,
                    help_text="Words or qualifiers, e.g. 'crash in:title label:bug'.",
                ),
                InputField(
                    "state",
                    "State",
                    choices=[Choice("open", "Open"), Choice("closed", "Closed")],
                    help_text="Only open or only closed issues.",
                ),
            ],
            outputs=ISSUE_OUTPUTS,
            sample=ISSUE_SAMPLE,
        ),
    ],
)
