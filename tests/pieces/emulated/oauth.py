"""Pieces whose connection is OAuth2: the context is given an access token directly, as
our OAuth2 flow would leave it."""

from __future__ import annotations

import json

import httpx2

from actionruns.pieces.runtime import PieceRunner
from actionruns.sdk.context import Context
from tests.pieces.emulated import Cases, sent
from tests.pieces.standin import Documented, Endpoint, answer, bearer, header

CASES = Cases()

# Todoist (OAuth2): the access token as a bearer token.
TODOIST_TOKEN = "0123456789abcdef0123456789abcdef01234567"
# REST v2, the API this piece calls (Todoist has since documented a unified API v1 beside it).
TODOIST = "https://developer.todoist.com/rest/v2/"


def todoist_answers(request: httpx2.Request) -> httpx2.Response:
    if request.method == "GET":
        return answer([{"id": "2203306141", "name": "Inbox"}, {"id": "2203306142", "name": "Work"}])
    return answer({"id": "2995104339", **sent(request)})


def todoist_documented() -> Documented:
    return Documented(
        (
            Endpoint("GET", "/rest/v2/projects", TODOIST + "#get-all-projects"),
            Endpoint("POST", "/rest/v2/tasks", TODOIST + "#create-a-new-task", ("content",)),
        ),
        bearer(TODOIST_TOKEN),  # TODOIST + "#authorization"
    )


@CASES.add(
    "todoist",
    ("api.todoist.com",),
    {"access_token": TODOIST_TOKEN},
    todoist_documented,
    todoist_answers,
)
async def todoist_task(runner: PieceRunner, ctx: Context, seen: list[httpx2.Request]) -> None:
    page = await runner.choices(ctx, "create_task", "project_id", {}, 0)
    assert [(c.value, c.label) for c in page.choices] == [
        ("2203306141", "Inbox"),
        ("2203306142", "Work"),
    ]
    inputs = {
        "project_id": page.choices[1].value,
        "content": "Renew the domain",
        "labels": ["ops"],
        "priority": 4,
    }
    task = await runner.perform(ctx, "create_task", inputs)
    assert task["id"] == "2995104339"
    assert sent(seen[-1]) == {
        "content": "Renew the domain",
        "project_id": "2203306142",
        "labels": ["ops"],
        "priority": 4,
    }


# Zoom: the user's OAuth token as a bearer token; "me" is the token's own user.
ZOOM_TOKEN = "eyJzdiI6IjAwMDAwMSIsImFsZyI6IkhTNTEyIn0.zoom"
ZOOM = "https://developers.zoom.us/docs/api/meetings/#tag/meetings/post/users/{userId}/meetings"


def zoom_answers(request: httpx2.Request) -> httpx2.Response:
    body = sent(request)
    meeting = {
        "id": 92674392845,
        "topic": body["topic"],
        "join_url": "https://zoom.us/j/92674392845",
    }
    return answer(meeting, status=201)


def zoom_documented() -> Documented:
    return Documented((Endpoint("POST", "/v2/users/{userId}/meetings", ZOOM),), bearer(ZOOM_TOKEN))


@CASES.add("zoom", ("api.zoom.us",), {"access_token": ZOOM_TOKEN}, zoom_documented, zoom_answers)
async def zoom_meeting(runner: PieceRunner, ctx: Context, seen: list[httpx2.Request]) -> None:
    inputs = {"topic": "Retro", "start_time": "2026-12-07T15:00:00Z", "duration": 45}
    meeting = await runner.perform(ctx, "zoom_create_meeting", inputs)
    assert meeting["join_url"] == "https://zoom.us/j/92674392845"
    [request] = seen
    assert request.url.path == "/v2/users/me/meetings"
    body = sent(request)
    # The piece's defaults (a scheduled meeting, type 2), then what was given.
    assert (body["type"], body["topic"], body["start_time"], body["duration"]) == (
        2,
        "Retro",
        "2026-12-07T15:00:00Z",
        45,
    )


# Dropbox: the OAuth token as a bearer token; RPC calls on api.dropboxapi.com take JSON, uploads
# on content.dropboxapi.com their arguments in the Dropbox-API-Arg header.
DROPBOX_TOKEN = "sl.u.AbCdEfGhIjKlMnOp"
DROPBOX = "https://www.dropbox.com/developers/documentation/http/documentation#"


def dropbox_answers(request: httpx2.Request) -> httpx2.Response:
    if request.url.path == "/2/files/create_folder_v2":
        path = sent(request)["path"]
        return answer({"metadata": {"name": path.rsplit("/", 1)[-1], "path_display": path}})
    arguments = json.loads(request.headers["Dropbox-API-Arg"])
    return answer(
        {"name": "notes.txt", "path_display": arguments["path"], "size": len(request.content)}
    )


def dropbox_documented() -> Documented:
    return Documented(
        (
            Endpoint(
                "POST", "/2/files/create_folder_v2", DROPBOX + "files-create_folder", ("path",)
            ),
            Endpoint(
                "POST",
                "/2/files/upload",
                DROPBOX + "files-upload",
                ("path",),
                ("header:Dropbox-API-Arg",),
            ),
        ),
        bearer(DROPBOX_TOKEN),
    )


@CASES.add(
    "dropbox",
    ("api.dropboxapi.com", "content.dropboxapi.com"),
    {"access_token": DROPBOX_TOKEN},
    dropbox_documented,
    dropbox_answers,
)
async def dropbox_folder_and_file(
    runner: PieceRunner, ctx: Context, seen: list[httpx2.Request]
) -> None:
    folder = await runner.perform(
        ctx, "create_new_dropbox_folder", {"path": "/Reports", "autorename": True}
    )
    assert folder["metadata"]["path_display"] == "/Reports"
    inputs = {"path": "/Reports/notes.txt", "text": "All green.", "autorename": False}
    stored = await runner.perform(ctx, "create_new_dropbox_text_file", inputs)
    assert (stored["path_display"], stored["size"]) == ("/Reports/notes.txt", 10)
    assert [(r.url.host, r.url.path) for r in seen] == [
        ("api.dropboxapi.com", "/2/files/create_folder_v2"),
        ("content.dropboxapi.com", "/2/files/upload"),
    ]
    assert seen[1].content == b"All green."
    assert seen[1].headers["content-type"] == "application/octet-stream"


# Pipedrive: the OAuth token as a bearer token, at the company's own domain, which the token
# response names (api_domain): the piece reads it from the connection's raw token response.
PIPEDRIVE_TOKEN = "13:2:abcdef0123456789"
# API v1, which the piece calls (Pipedrive documents a v2 of some of these beside it).
PIPEDRIVE = "https://developers.pipedrive.com/docs/api/v1/"


def pipedrive_answers(request: httpx2.Request) -> httpx2.Response:
    if request.url.path == "/api/v1/users":
        return answer({"success": True, "data": [{"id": 7, "name": "Ada Lovelace"}]})
    if request.url.path == "/api/v1/organizations":
        return answer({"success": True, "data": [{"id": 12, "name": "Analytical Engines"}]})
    return answer({"success": True, "data": {"id": 301, **sent(request)}}, status=201)


def pipedrive_documented() -> Documented:
    return Documented(
        (
            Endpoint("GET", "/api/v1/users", PIPEDRIVE + "Users#getUsers"),
            Endpoint("GET", "/api/v1/organizations", PIPEDRIVE + "Organizations#getOrganizations"),
            Endpoint("POST", "/api/v1/persons", PIPEDRIVE + "Persons#addPerson", ("name",)),
        ),
        bearer(PIPEDRIVE_TOKEN),  # https://pipedrive.readme.io/docs/marketplace-oauth-authorization
    )


@CASES.add(
    "pipedrive",
    ("analytical.pipedrive.com",),
    {"access_token": PIPEDRIVE_TOKEN, "api_domain": "https://analytical.pipedrive.com"},
    pipedrive_documented,
    pipedrive_answers,
)
async def pipedrive_person(runner: PieceRunner, ctx: Context, seen: list[httpx2.Request]) -> None:
    [owner] = (await runner.choices(ctx, "add_person", "owner_id", {}, 0)).choices
    [org] = (await runner.choices(ctx, "add_person", "org_id", {}, 0)).choices
    # Numeric ids travel as json: values and reach the piece as the numbers it listed.
    assert [(owner.value, owner.label), (org.value, org.label)] == [
        ("json:7", "Ada Lovelace"),
        ("json:12", "Analytical Engines"),
    ]
    inputs = {
        "name": "Ada",
        "owner_id": owner.value,
        "org_id": org.value,
        "marketing_status": "subscribed",
    }
    person = await runner.perform(ctx, "add_person", inputs)
    assert person["id"] == 301
    assert sent(seen[-1]) == {
        "name": "Ada",
        "owner_id": 7,
        "org_id": 12,
        "marketing_status": "subscribed",
    }
    assert seen[1].url.params["limit"] == "500"


# Mailchimp: the OAuth token finds the account's data centre (its metadata, asked with the
# "OAuth" scheme), whose API takes the token as a bearer token.
MAILCHIMP_TOKEN = "5f0c2c3b7b1b4f0fa1c2d3e4f5a6b7c8"
MAILCHIMP = "https://mailchimp.com/developer/marketing/"


def mailchimp_answers(request: httpx2.Request) -> httpx2.Response:
    if request.url.host == "login.mailchimp.com":
        return answer({"dc": "us21", "api_endpoint": "https://us21.api.mailchimp.com"})
    if request.method == "GET":
        return answer({"lists": [{"id": "a1b2c3d4e5", "name": "Newsletter"}], "total_items": 1})
    body = sent(request)
    return answer(
        {"id": "0b2b...", "email_address": body["email_address"], "status": body["status"]}
    )


def mailchimp_documented() -> Documented:
    metadata = "https://mailchimp.com/developer/marketing/guides/access-user-data-oauth-2/"
    return Documented(
        (
            Endpoint(
                "GET",
                "/oauth2/metadata",
                metadata,
                authorized=header("authorization", f"OAuth {MAILCHIMP_TOKEN}"),
            ),
            Endpoint("GET", "/3.0/lists", MAILCHIMP + "api/lists/get-lists-info/"),
            Endpoint(
                "POST",
                "/3.0/lists/{list_id}/members",
                MAILCHIMP + "api/list-members/add-member-to-list/",
                ("email_address", "status"),
            ),
        ),
        bearer(MAILCHIMP_TOKEN),
    )


@CASES.add(
    "mailchimp",
    ("login.mailchimp.com", "us21.api.mailchimp.com"),
    {"access_token": MAILCHIMP_TOKEN},
    mailchimp_documented,
    mailchimp_answers,
)
async def mailchimp_member(runner: PieceRunner, ctx: Context, seen: list[httpx2.Request]) -> None:
    [newsletter] = (await runner.choices(ctx, "add_member_to_list", "list_id", {}, 0)).choices
    assert (newsletter.value, newsletter.label) == ("a1b2c3d4e5", "Newsletter")
    inputs = {"list_id": newsletter.value, "email": "ada@example.com", "status": "subscribed"}
    member = await runner.perform(ctx, "add_member_to_list", inputs)
    assert member["status"] == "subscribed"
    assert (seen[-1].url.host, sent(seen[-1])) == (
        "us21.api.mailchimp.com",
        {"email_address": "ada@example.com", "status": "subscribed"},
    )


# ClickUp: "include the token in the Authorization header" (its reference shows a personal
# token bare); the piece sends the OAuth token with the Bearer scheme, which is what we check.
CLICKUP_TOKEN = "61681706_dc1b7a1c9e2f4b7f8e3a"
CLICKUP = "https://developer.clickup.com/reference/"
LISTS = {
    "/api/v2/space/790/list": [("901", "Backlog")],
    "/api/v2/folder/456/list": [("902", "Sprint 12")],
}


def clickup_answers(request: httpx2.Request) -> httpx2.Response:
    path = request.url.path
    if path == "/api/v2/team":
        return answer({"teams": [{"id": "9012345", "name": "Analytical Engines"}]})
    if path.endswith("/space"):
        return answer({"spaces": [{"id": "790", "name": "Engineering"}]})
    if path.endswith("/folder"):
        return answer({"folders": [{"id": "456", "name": "Sprints"}]})
    if path in LISTS:
        return answer({"lists": [{"id": id_, "name": name} for id_, name in LISTS[path]]})
    return answer(
        {"id": "86a1b2c3d", "url": "https://app.clickup.com/t/86a1b2c3d", **sent(request)}
    )


def clickup_documented() -> Documented:
    return Documented(
        (
            Endpoint("GET", "/api/v2/team", CLICKUP + "getauthorizedteams"),
            Endpoint("GET", "/api/v2/team/{team_id}/space", CLICKUP + "getspaces"),
            Endpoint("GET", "/api/v2/space/{space_id}/folder", CLICKUP + "getfolders"),
            Endpoint("GET", "/api/v2/space/{space_id}/list", CLICKUP + "getfolderlesslists"),
            Endpoint("GET", "/api/v2/folder/{folder_id}/list", CLICKUP + "getlists"),
            Endpoint("POST", "/api/v2/list/{list_id}/task", CLICKUP + "createtask", ("name",)),
        ),
        bearer(CLICKUP_TOKEN),  # https://developer.clickup.com/docs/authentication
    )


@CASES.add(
    "clickup",
    ("api.clickup.com",),
    {"access_token": CLICKUP_TOKEN},
    clickup_documented,
    clickup_answers,
)
async def clickup_task(runner: PieceRunner, ctx: Context, seen: list[httpx2.Request]) -> None:
    [workspace] = (await runner.choices(ctx, "create_task", "workspace_id", {}, 0)).choices
    picked = {"workspace_id": workspace.value}
    [space] = (await runner.choices(ctx, "create_task", "space_id", picked, 0)).choices
    picked["space_id"] = space.value
    lists = (await runner.choices(ctx, "create_task", "list_id", picked, 0)).choices
    # A space's lists: those outside any folder, then each folder's.
    assert [(c.value, c.label) for c in lists] == [("901", "Backlog"), ("902", "Sprint 12")]
    inputs = {**picked, "list_id": "902", "name": "Write the runbook", "description": "For on-call"}
    task = await runner.perform(ctx, "create_task", inputs)
    assert task["url"] == "https://app.clickup.com/t/86a1b2c3d"
    assert seen[-1].url.path == "/api/v2/list/902/task"
    assert sent(seen[-1]) == {"name": "Write the runbook", "description": "For on-call"}
