"""Pieces whose connection is OAuth2: the context is given an access token directly, as
our OAuth2 flow would leave it."""

from __future__ import annotations

import httpx2

from actionruns.pieces.runtime import PieceRunner
from actionruns.sdk.context import Context
from tests.pieces.emulated import Cases, sent
from tests.pieces.standin import Documented, Endpoint, answer, bearer

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
