"""Pieces whose connection is an API key, a token or a key pair."""

from __future__ import annotations

import httpx2

from actionruns.pieces.mapping import SECRET_TEXT_KEY
from actionruns.pieces.runtime import PieceRunner
from actionruns.sdk.context import Context
from tests.pieces.emulated import Cases, route, sent
from tests.pieces.standin import Documented, Endpoint, answer, basic, bearer, query

CASES = Cases()

# Airtable: a personal access token as a bearer token.
AIRTABLE_TOKEN = "patAAAA.0123456789"
AIRTABLE = "https://airtable.com/developers/web/api/"
PEOPLE = {
    "id": "tblPeople0000001",
    "name": "People",
    "primaryFieldId": "fldName000000001",
    "fields": [
        {"id": "fldName000000001", "name": "Name", "type": "singleLineText"},
        {"id": "fldAge0000000001", "name": "Age", "type": "number"},
        {"id": "fldActive0000001", "name": "Active", "type": "checkbox"},
    ],
}


def airtable_answers(request: httpx2.Request) -> httpx2.Response:
    if request.url.path == "/v0/meta/bases":
        bases = [{"id": "appCRM000000001", "name": "CRM", "permissionLevel": "create"}]
        return answer({"bases": bases})
    if request.url.path.endswith("/tables"):
        return answer({"tables": [PEOPLE]})
    created = {"id": "recNew000000001", "createdTime": "2026-12-05T07:00:00.000Z"}
    return answer({**created, "fields": sent(request)["fields"]})


def airtable_documented() -> Documented:
    return Documented(
        (
            Endpoint("GET", "/v0/meta/bases", AIRTABLE + "list-bases"),
            Endpoint("GET", "/v0/meta/bases/{baseId}/tables", AIRTABLE + "get-base-schema"),
            # One record at the top level (``fields``) or up to ten (``records``).
            Endpoint(
                "POST",
                "/v0/{baseId}/{tableIdOrName}",
                AIRTABLE + "create-records",
                ("fields|records",),
            ),
        ),
        bearer(AIRTABLE_TOKEN),  # AIRTABLE + "authentication"
    )


@CASES.add(
    "airtable",
    ("api.airtable.com",),
    {SECRET_TEXT_KEY: AIRTABLE_TOKEN},
    airtable_documented,
    airtable_answers,
)
async def airtable_record(runner: PieceRunner, ctx: Context, seen: list[httpx2.Request]) -> None:
    action = "airtable_create_record"
    [base] = (await runner.choices(ctx, action, "base", {}, 0)).choices
    assert (base.value, base.label) == ("appCRM000000001", "CRM")
    [table] = (await runner.choices(ctx, action, "table_id", {"base": base.value}, 0)).choices
    assert (table.value, table.label) == ("tblPeople0000001", "People")
    picked = {"base": base.value, "table_id": table.value}
    fields = await runner.fields(ctx, action, "fields", picked)
    assert [(f.key, f.label) for f in fields] == [
        ("fields__fldName000000001", "Name"),
        ("fields__fldAge0000000001", "Age"),
        ("fields__fldActive0000001", "Active"),
    ]
    values = {
        "fields__fldName000000001": "Ada",
        "fields__fldAge0000000001": 36,
        "fields__fldActive0000001": True,
    }
    record = await runner.perform(ctx, action, {**picked, **values})
    assert record["id"] == "recNew000000001"
    assert route(seen[-1]) == "POST /v0/appCRM000000001/tblPeople0000001"
    assert sent(seen[-1]) == {
        "fields": {"fldName000000001": "Ada", "fldAge0000000001": 36, "fldActive0000001": True}
    }


# Trello: the API key and a member's token in the query.
TRELLO_KEY, TRELLO_TOKEN = "a" * 32, "t" * 64
TRELLO = "https://developer.atlassian.com/cloud/trello/rest/"
BOARD, LIST = "5abbe4b7ddc1b351ef961414", "5abbe4b7ddc1b351ef961415"


def trello_answers(request: httpx2.Request) -> httpx2.Response:
    path = request.url.path
    if path == "/1/members/me":
        return answer({"id": "5abbe4b7ddc1b351ef961400", "username": "ada"})
    if path.endswith("/boards"):
        return answer([{"id": BOARD, "name": "Roadmap"}])
    if path.endswith("/lists"):
        return answer([{"id": LIST, "name": "Doing"}])
    body = sent(request)
    return answer(
        {"id": "5abbe4b7ddc1b351ef961499", "idList": request.url.params["idList"], **body}
    )


def trello_documented() -> Documented:
    return Documented(
        (
            Endpoint("GET", "/1/members/{id}", TRELLO + "api-group-members/#api-members-id-get"),
            Endpoint(
                "GET",
                "/1/members/{id}/boards",
                TRELLO + "api-group-members/#api-members-id-boards-get",
            ),
            Endpoint(
                "GET", "/1/boards/{id}/lists", TRELLO + "api-group-boards/#api-boards-id-lists-get"
            ),
            # "Query parameters may also be replaced with a JSON request body instead."
            Endpoint(
                "POST",
                "/1/cards",
                TRELLO + "api-group-cards/#api-cards-post",
                ("idList",),
                ("query", "json"),
            ),
        ),
        # https://developer.atlassian.com/cloud/trello/guides/rest-api/authorization/
        query(key=TRELLO_KEY, token=TRELLO_TOKEN),
    )


@CASES.add(
    "trello",
    ("api.trello.com",),
    {"username": TRELLO_KEY, "password": TRELLO_TOKEN},
    trello_documented,
    trello_answers,
)
async def trello_card(runner: PieceRunner, ctx: Context, seen: list[httpx2.Request]) -> None:
    [board] = (await runner.choices(ctx, "create_card", "board_id", {}, 0)).choices
    assert (board.value, board.label) == (BOARD, "Roadmap")
    [column] = (await runner.choices(ctx, "create_card", "list_id", {"board_id": BOARD}, 0)).choices
    assert (column.value, column.label) == (LIST, "Doing")
    inputs = {"board_id": BOARD, "list_id": LIST, "name": "Ship it", "description": "Friday"}
    card = await runner.perform(ctx, "create_card", inputs)
    assert (card["idList"], card["name"]) == (LIST, "Ship it")
    assert [route(r) for r in seen] == [
        "GET /1/members/me",
        "GET /1/members/5abbe4b7ddc1b351ef961400/boards",
        f"GET /1/boards/{BOARD}/lists",
        "POST /1/cards",
    ]
    assert sent(seen[-1]) == {"name": "Ship it", "desc": "Friday"}


# Mastodon: any instance (the connection names it), a user's token as a bearer token.
MASTODON_TOKEN = "ZA-Yj3aBD8U8Cm7lKUp-lm9O9BmDgdhHzDeqsY8tlL0"


def mastodon_answers(request: httpx2.Request) -> httpx2.Response:
    body = sent(request)
    return answer({"id": "103270115826048975", "content": f"<p>{body['status']}</p>"})


def mastodon_documented() -> Documented:
    # Parameters go as form data or JSON: https://docs.joinmastodon.org/client/intro/
    create = "https://docs.joinmastodon.org/methods/statuses/#create"
    return Documented(
        (Endpoint("POST", "/api/v1/statuses", create, ("status",)),), bearer(MASTODON_TOKEN)
    )


@CASES.add(
    "mastodon",
    ("fosstodon.example",),
    {"base_url": "https://fosstodon.example/", "access_token": MASTODON_TOKEN},
    mastodon_documented,
    mastodon_answers,
)
async def mastodon_status(runner: PieceRunner, ctx: Context, seen: list[httpx2.Request]) -> None:
    status = await runner.perform(ctx, "post_status", {"status": "Released 2.0"})
    assert status["body"]["content"] == "<p>Released 2.0</p>"
    [request] = seen
    assert (request.url.host, sent(request)) == ("fosstodon.example", {"status": "Released 2.0"})


# Telegram: the bot's token is in the path (https://core.telegram.org/bots/api#making-requests).
BOT_TOKEN = "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11"


def telegram_answers(request: httpx2.Request) -> httpx2.Response:
    body = sent(request)
    message = {"message_id": 7, "chat": {"id": int(body["chat_id"])}, "text": body["text"]}
    return answer({"ok": True, "result": message})


def telegram_documented() -> Documented:
    send = "https://core.telegram.org/bots/api#sendmessage"
    return Documented(
        (Endpoint("POST", f"/bot{BOT_TOKEN}/sendMessage", send, ("chat_id", "text")),),
        lambda request: request.url.path.startswith(f"/bot{BOT_TOKEN}/"),
    )


@CASES.add(
    "telegram-bot",
    ("api.telegram.org",),
    {SECRET_TEXT_KEY: BOT_TOKEN},  # the bot token, a prop of each action, is the connection
    telegram_documented,
    telegram_answers,
)
async def telegram_message(runner: PieceRunner, ctx: Context, seen: list[httpx2.Request]) -> None:
    assert [f.key for f in runner.operations["send_text_message"].inputs] == ["chat_id", "message"]
    inputs = {"chat_id": "-1001234567890", "message": "Build is green"}
    sent_message = await runner.perform(ctx, "send_text_message", inputs)
    assert sent_message["body"]["result"]["text"] == "Build is green"
    assert sent(seen[0]) == {"chat_id": "-1001234567890", "text": "Build is green"}


# PostHog: events are captured with the project's API key (a write-only key that browsers
# hold too, so a plain input here) in the body; the piece posts to PostHog's US cloud only.
POSTHOG_KEY = "phc_yv5gInhFa1SIb14lc02e9rHfGb22dqfaN1fc4xv5Fzw"


def posthog_answers(request: httpx2.Request) -> httpx2.Response:
    return answer({"status": 1})


def posthog_documented() -> Documented:
    capture = "https://posthog.com/tutorials/api-capture-events"
    return Documented(
        (Endpoint("POST", "/capture/", capture, ("api_key", "event", "distinct_id")),),
        lambda request: sent(request).get("api_key") == POSTHOG_KEY,
    )


@CASES.add("posthog", ("app.posthog.com",), {}, posthog_documented, posthog_answers)
async def posthog_event(runner: PieceRunner, ctx: Context, seen: list[httpx2.Request]) -> None:
    inputs = {
        "project_api_key": POSTHOG_KEY,
        "event": "deploy finished",
        "event_type": "capture",
        "distinct_id": "ci@example.com",
        "properties": {"service": "api", "green": True},
    }
    captured = await runner.perform(ctx, "create_event", inputs)
    assert captured == {"status": 1}
    body = sent(seen[0])
    assert (body["event"], body["distinct_id"], body["properties"]) == (
        "deploy finished",
        "ci@example.com",
        {"service": "api", "green": True},
    )


# WordPress: the site's own address, a user name and an application password, by HTTP basic
# auth (https://developer.wordpress.org/rest-api/using-the-rest-api/authentication/).
WP_USER, WP_PASSWORD = "editor", "1HEu PFKe dnqM lr4j xDJX My63"
WORDPRESS = "https://developer.wordpress.org/rest-api/reference/"
TERMS = {"categories": [(3, "Releases"), (5, "Security")], "tags": [(12, "python")]}


def wordpress_answers(request: httpx2.Request) -> httpx2.Response:
    path = request.url.path
    if path == "/":
        return httpx2.Response(200, text="<!doctype html><title>Blog</title>")
    kind = path.rsplit("/", 1)[-1]
    if request.method == "GET":
        terms = [{"id": id_, "name": name} for id_, name in TERMS[kind]]
        return httpx2.Response(200, json=terms, headers={"X-WP-TotalPages": "1"})
    return answer({"id": 60, "status": "draft", **sent(request)}, status=201)


def wordpress_documented() -> Documented:
    return Documented(
        (
            # The site's home page, which the piece reads first to see the site answers.
            Endpoint("GET", "/", "https://developer.wordpress.org/rest-api/", authorized=bool),
            Endpoint("GET", "/wp-json/wp/v2/categories", WORDPRESS + "categories/#list-categories"),
            Endpoint("GET", "/wp-json/wp/v2/tags", WORDPRESS + "tags/#list-tags"),
            Endpoint("POST", "/wp-json/wp/v2/posts", WORDPRESS + "posts/#create-a-post"),
        ),
        basic(WP_USER, WP_PASSWORD),
    )


@CASES.add(
    "wordpress",
    ("blog.example.org",),
    {"website_url": "https://blog.example.org", "username": WP_USER, "password": WP_PASSWORD},
    wordpress_documented,
    wordpress_answers,
)
async def wordpress_post(runner: PieceRunner, ctx: Context, seen: list[httpx2.Request]) -> None:
    categories = (await runner.choices(ctx, "create_post", "categories", {}, 0)).choices
    tags = (await runner.choices(ctx, "create_post", "tags", {}, 0)).choices
    assert [(c.value, c.label) for c in categories] == [
        ("json:3", "Releases"),
        ("json:5", "Security"),
    ]
    assert [(c.value, c.label) for c in tags] == [("json:12", "python")]
    inputs = {
        "title": "2.0 is out",
        "content": "<p>Notes inside.</p>",
        "status": "draft",
        "categories": [categories[0].value],
        "tags": [tags[0].value],
    }
    post = await runner.perform(ctx, "create_post", inputs)
    assert post["body"]["id"] == 60
    assert seen[-1].url.path == "/wp-json/wp/v2/posts"
    assert sent(seen[-1]) == {
        "title": "2.0 is out",
        "content": "<p>Notes inside.</p>",
        "status": "draft",
        "categories": [3],
        "tags": [12],
    }
