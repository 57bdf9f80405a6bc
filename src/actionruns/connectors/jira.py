"""Jira Cloud: create an issue, move it through its workflow, comment on it, find issues by JQL.

Reference (REST API v3, https://developer.atlassian.com/cloud/jira/platform/rest/v3/):
create issue https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/#api-rest-api-3-issue-post
(POST /rest/api/3/issue with ``fields``: ``project.key``, ``issuetype.id`` or ``.name``,
``summary``, ``description`` in Atlassian Document Format
https://developer.atlassian.com/cloud/jira/platform/apis/document/structure/; 201 with ``id``,
``key``, ``self``),
issue types of a project https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/#api-rest-api-3-issue-createmeta-projectidorkey-issuetypes-get
(``startAt``/``maxResults``),
transitions https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/#api-rest-api-3-issue-issueidorkey-transitions-get
and #api-rest-api-3-issue-issueidorkey-transitions-post (``{"transition": {"id"}}``, 204),
comments https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-comments/#api-rest-api-3-issue-issueidorkey-comment-post
(``body`` in ADF, 201),
JQL search https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-search/#api-rest-api-3-search-jql-post
(POST /rest/api/3/search/jql, which replaced /rest/api/3/search: ``jql``, ``maxResults``,
``fields``, ``nextPageToken``),
projects https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-projects/#api-rest-api-3-project-search-get
(``startAt``/``maxResults``, ``isLast``),
current user https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-myself/#api-rest-api-3-myself-get;
authentication https://developer.atlassian.com/cloud/jira/platform/basic-auth-for-rest-apis/
(HTTP Basic with the account's email and an API token; after failed logins a CAPTCHA answers
403 with ``X-Seraph-LoginReason: AUTHENTICATION_DENIED``);
errors https://developer.atlassian.com/cloud/jira/platform/rest/v3/intro/#status-codes
(``{"errorMessages": [...], "errors": {field: message}}``);
rate limits https://developer.atlassian.com/cloud/jira/platform/rate-limiting/ (429 with
``Retry-After`` in seconds and ``X-RateLimit-Reset``, an ISO 8601 time).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx2

from actionruns.sdk import (
    Action,
    ActionType,
    App,
    Auth,
    Choice,
    ChoicePage,
    Context,
    ExpiredAuthError,
    FieldType,
    InputField,
    OutputField,
    ThrottledError,
)
from actionruns.sdk.auth import http_basic
from actionruns.sdk.http import error_message, raise_for_status, retry_after_seconds

PAGE_SIZE = 50
SEARCH_FIELDS = ["summary", "status", "assignee", "issuetype", "priority", "created", "updated"]
CAPTCHA_REASONS = {"AUTHENTICATION_DENIED", "AUTHENTICATED_FAILED"}


def _site(ctx: Context) -> str:
    site = str(ctx.credentials["site"]).strip().rstrip("/")
    return site if "://" in site else f"https://{site}"


def _api(ctx: Context) -> str:
    return f"{_site(ctx)}/rest/api/3"


def _key(value: Any) -> str:
    return quote(str(value).strip(), safe="")


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


def _seconds_until(moment: str, default: float) -> float:
    """Seconds until an ISO 8601 time such as ``2026-11-25T10:05Z`` (UTC if no offset)."""
    try:
        when = datetime.fromisoformat(moment.strip())
    except ValueError:
        return default
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(1.0, (when - datetime.now(UTC)).total_seconds())


def _raise_for_jira(response: httpx2.Response) -> None:
    status = response.status_code
    if status < 400:
        return
    reason = response.headers.get("x-seraph-loginreason", "")
    if status == 403 and any(part in CAPTCHA_REASONS for part in reason.split(",")):
        raise ExpiredAuthError(
            "Jira asks for a CAPTCHA after failed logins: sign in to the site in a browser, "
            "then reconnect.",
            meta={"status": status},
        )
    if status == 429:
        delay = retry_after_seconds(response)
        reset = response.headers.get("x-ratelimit-reset", "")
        if "retry-after" not in response.headers and reset:
            delay = _seconds_until(reset, delay)
        raise ThrottledError(error_message(response), delay=delay, meta={"status": status})
    raise_for_status(response)


async def _call(ctx: Context, method: str, path: str, **request: Any) -> Any:
    response = await ctx.http.request(method, f"{_api(ctx)}{path}", **request)
    _raise_for_jira(response)
    return response.json() if response.content else None


async def test_token(ctx: Context) -> str:
    me = await _call(ctx, "GET", "/myself")
    email = me.get("emailAddress")
    return f"{me['displayName']} <{email}>" if email else str(me["displayName"])


async def project_choices(ctx: Context, inputs: Mapping[str, Any], page: int) -> ChoicePage:
    params = {"startAt": str(page * PAGE_SIZE), "maxResults": str(PAGE_SIZE)}
    found = await _call(ctx, "GET", "/project/search", params=params)
    choices = [
        Choice(project["key"], f"{project['name']} ({project['key']})")
        for project in found.get("values", [])
    ]
    return ChoicePage(choices, has_more=not found.get("isLast", True))


async def issue_type_choices(ctx: Context, inputs: Mapping[str, Any], page: int) -> ChoicePage:
    if not inputs.get("project"):
        return ChoicePage([])
    params = {"startAt": str(page * PAGE_SIZE), "maxResults": str(PAGE_SIZE)}
    path = f"/issue/createmeta/{_key(inputs['project'])}/issuetypes"
    found = await _call(ctx, "GET", path, params=params)
    types = found.get("issueTypes") or found.get("createMetaIssueType") or []
    choices = [Choice(str(item["id"]), item["name"]) for item in types]
    total = found.get("total")
    more = isinstance(total, int) and (page + 1) * PAGE_SIZE < total
    return ChoicePage(choices, has_more=more)


async def transition_choices(ctx: Context, inputs: Mapping[str, Any], page: int) -> ChoicePage:
    if page or not inputs.get("issue_key"):
        return ChoicePage([])  # an issue's transitions come in one answer
    found = await _call(ctx, "GET", f"/issue/{_key(inputs['issue_key'])}/transitions")
    return ChoicePage([_transition(item) for item in found.get("transitions", [])])


def _transition(item: Mapping[str, Any]) -> Choice:
    """A transition, with the status it leads to when its name does not say it."""
    target = (item.get("to") or {}).get("name")
    label = item["name"] if not target or target == item["name"] else f"{item['name']} → {target}"
    return Choice(str(item["id"]), label)


def _issue_type(value: Any) -> dict[str, str]:
    """An issue type id from the dropdown, or a name typed in."""
    text = str(value).strip()
    return {"id": text} if text.isdigit() else {"name": text}


async def create_issue(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "project": {"key": str(inputs["project"]).strip()},
        "issuetype": _issue_type(inputs["issue_type"]),
        "summary": inputs["summary"],
    }
    if inputs.get("description"):
        fields["description"] = adf(inputs["description"])
    if inputs.get("labels"):
        fields["labels"] = [str(label).strip().replace(" ", "_") for label in inputs["labels"]]
    if inputs.get("priority"):
        fields["priority"] = {"name": inputs["priority"]}
    if inputs.get("assignee_account_id"):
        fields["assignee"] = {"id": inputs["assignee_account_id"]}
    if inputs.get("due_date"):
        fields["duedate"] = str(inputs["due_date"])[:10]
    created = await _call(ctx, "POST", "/issue", json={"fields": fields})
    return {
        "id": created["id"],
        "key": created["key"],
        "url": f"{_site(ctx)}/browse/{created['key']}",
        "self": created.get("self"),
    }


async def transition_issue(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    key = str(inputs["issue_key"]).strip()
    body = {"transition": {"id": str(inputs["transition"])}}
    await _call(ctx, "POST", f"/issue/{_key(key)}/transitions", json=body)
    return {
        "key": key,
        "transition": str(inputs["transition"]),
        "url": f"{_site(ctx)}/browse/{key}",
    }


async def add_comment(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    key = str(inputs["issue_key"]).strip()
    path = f"/issue/{_key(key)}/comment"
    comment = await _call(ctx, "POST", path, json={"body": adf(inputs["body"])})
    return {
        "id": comment["id"],
        "key": key,
        "author": (comment.get("author") or {}).get("displayName"),
        "created": comment.get("created"),
        "url": f"{_site(ctx)}/browse/{key}?focusedCommentId={comment['id']}",
    }


def _found(ctx: Context, issue: Mapping[str, Any]) -> dict[str, Any]:
    fields = issue.get("fields") or {}
    return {
        "id": issue["id"],
        "key": issue["key"],
        "summary": fields.get("summary"),
        "status": (fields.get("status") or {}).get("name"),
        "issue_type": (fields.get("issuetype") or {}).get("name"),
        "priority": (fields.get("priority") or {}).get("name"),
        "assignee": (fields.get("assignee") or {}).get("displayName"),
        "created": fields.get("created"),
        "updated": fields.get("updated"),
        "url": f"{_site(ctx)}/browse/{issue['key']}",
    }


async def find_issue(ctx: Context, inputs: Mapping[str, Any]) -> list[dict[str, Any]]:
    body = {
        "jql": inputs["jql"],
        "maxResults": max(1, min(100, int(inputs.get("max_results") or 10))),
        "fields": SEARCH_FIELDS,
    }
    found = await _call(ctx, "POST", "/search/jql", json=body)
    return [_found(ctx, issue) for issue in found.get("issues") or []]


ISSUE_KEY = InputField(
    "issue_key",
    "Issue",
    required=True,
    alters_dynamic_fields=True,
    help_text="The issue's key (e.g. OPS-42) or id.",
)
ISSUE_SAMPLE = {
    "id": "10000",
    "key": "OPS-24",
    "summary": "Printer on fire",
    "status": "To Do",
    "issue_type": "Bug",
    "priority": "High",
    "assignee": "Ada Lovelace",
    "created": "2026-11-25T10:00:00.000+0000",
    "updated": "2026-11-25T10:05:00.000+0000",
    "url": "https://your-team.atlassian.net/browse/OPS-24",
}

app = App(
    key="jira",
    title="Jira Cloud",
    description="Create, transition, comment on and find Jira Cloud issues.",
    auth=Auth.custom(
        [
            InputField(
                "site",
                "Site",
                FieldType.URL,
                required=True,
                placeholder="https://your-team.atlassian.net",
                help_text="Your Jira Cloud address, e.g. https://your-team.atlassian.net.",
            ),
            InputField(
                "email",
                "Email",
                required=True,
                help_text="The email address of your Atlassian account.",
            ),
            InputField(
                "api_token",
                "API token",
                FieldType.PASSWORD,
                required=True,
                help_text="Made at id.atlassian.com → Security → Create and manage API tokens.",
            ),
        ],
        apply=http_basic(lambda c: str(c["email"]).strip(), lambda c: str(c["api_token"])),
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
                    alters_dynamic_fields=True,
                    help_text="The project's key, e.g. OPS.",
                ),
                InputField(
                    "issue_type",
                    "Issue type",
                    required=True,
                    default="Task",
                    dynamic_choices=issue_type_choices,
                    depends_on=("project",),
                    help_text="One of the project's issue types, or its name (Task, Bug, Story…).",
                ),
                InputField("summary", "Summary", required=True, help_text="The issue's title."),
                InputField(
                    "description",
                    "Description",
                    FieldType.TEXT,
                    help_text="Plain text; each line becomes a paragraph.",
                ),
                InputField(
                    "labels", "Labels", list=True, help_text="Labels; spaces become underscores."
                ),
                InputField(
                    "priority", "Priority", help_text="A priority's name, e.g. High or Medium."
                ),
                InputField(
                    "assignee_account_id",
                    "Assignee account ID",
                    help_text="The assignee's Atlassian account id.",
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
                OutputField("key", "Key"),
                OutputField("url", "URL"),
                OutputField("self", "API URL"),
            ],
            sample={
                "id": "10000",
                "key": "OPS-24",
                "url": "https://your-team.atlassian.net/browse/OPS-24",
                "self": "https://your-team.atlassian.net/rest/api/3/issue/10000",
            },
        ),
        Action(
            "transition_issue",
            "Transition issue",
            "Moves an issue along its workflow, e.g. to In Progress or Done.",
            transition_issue,
            inputs=[
                ISSUE_KEY,
                InputField(
                    "transition",
                    "Transition",
                    required=True,
                    dynamic_choices=transition_choices,
                    depends_on=("issue_key",),
                    help_text="One of the transitions the issue can take now, or its id.",
                ),
            ],
            outputs=[
                OutputField("key", "Key"),
                OutputField("transition", "Transition ID"),
                OutputField("url", "URL"),
            ],
            sample={
                "key": "OPS-24",
                "transition": "21",
                "url": "https://your-team.atlassian.net/browse/OPS-24",
            },
        ),
        Action(
            "add_comment",
            "Add comment",
            "Adds a comment to an issue.",
            add_comment,
            inputs=[
                ISSUE_KEY,
                InputField(
                    "body",
                    "Comment",
                    FieldType.TEXT,
                    required=True,
                    help_text="Plain text; each line becomes a paragraph.",
                ),
            ],
            outputs=[
                OutputField("id", "Comment ID"),
                OutputField("key", "Issue key"),
                OutputField("author", "Author"),
                OutputField("created", "Created", FieldType.DATETIME),
                OutputField("url", "URL"),
            ],
            sample={
                "id": "10000",
                "key": "OPS-24",
                "author": "Ada Lovelace",
                "created": "2026-11-25T10:00:00.000+0000",
                "url": "https://your-team.atlassian.net/browse/OPS-24?focusedCommentId=10000",
            },
        ),
        Action(
            "find_issue",
            "Find issues",
            "Finds issues with a JQL query, e.g. project = OPS AND status = 'To Do'; an "
            "empty list when none match.",
            find_issue,
            type=ActionType.SEARCH,
            inputs=[
                InputField(
                    "jql",
                    "JQL",
                    required=True,
                    help_text="A bounded JQL query, e.g. project = OPS ORDER BY created DESC.",
                ),
                InputField(
                    "max_results",
                    "Max results",
                    FieldType.INTEGER,
                    default=10,
                    help_text="How many issues at most, 1 to 100.",
                ),
            ],
            outputs=[
                OutputField("id", "ID"),
                OutputField("key", "Key"),
                OutputField("summary", "Summary"),
                OutputField("status", "Status"),
                OutputField("issue_type", "Issue type"),
                OutputField("priority", "Priority"),
                OutputField("assignee", "Assignee"),
                OutputField("created", "Created", FieldType.DATETIME),
                OutputField("updated", "Updated", FieldType.DATETIME),
                OutputField("url", "URL"),
            ],
            sample=ISSUE_SAMPLE,
        ),
    ],
)
