"""Pieces whose vendors publish an API description (``tests/vendors/descriptions.py``): every
request is checked against it by ``Checker``, as the connectors' recorded requests are."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qsl

import httpx2

from actionruns.pieces.mapping import SECRET_TEXT_KEY
from actionruns.pieces.runtime import PieceRunner
from actionruns.sdk.context import Context
from tests.connectors.test_vendor_specs import Checker
from tests.pieces.emulated import Cases, route, sent
from tests.pieces.standin import answer

CASES = Cases()


def described(vendor: str) -> Callable[[], Checker]:
    """Checks against ``vendor``'s entry in ``DESCRIPTIONS``."""
    return lambda: Checker(vendor)


# Asana: the oldest framework (its connection is a prop, an OAuth2 token sent as bearer).
ASANA_TOKEN = "1/1203851701808347:asana-token"


def asana_answers(request: httpx2.Request) -> httpx2.Response:
    if request.url.path == "/api/1.0/workspaces":
        return answer({"data": [{"gid": "1202550105911307", "name": "Acme"}]})
    if request.url.path == "/api/1.0/projects":
        return answer({"data": [{"gid": "1203851606424941", "name": "Launch"}]})
    task = {"gid": "1203851701808348", "resource_type": "task", **sent(request)["data"]}
    return answer({"data": task}, status=201)


@CASES.add(
    "asana",
    ("app.asana.com",),
    {"access_token": ASANA_TOKEN},
    described("asana"),
    asana_answers,
)
async def asana_task(runner: PieceRunner, ctx: Context, seen: list[httpx2.Request]) -> None:
    [workspace] = (await runner.choices(ctx, "create_task", "workspace", {}, 0)).choices
    assert (workspace.value, workspace.label) == ("1202550105911307", "Acme")
    picked = {"workspace": workspace.value}
    [project] = (await runner.choices(ctx, "create_task", "project", picked, 0)).choices
    assert (project.value, project.label) == ("1203851606424941", "Launch")
    inputs = {**picked, "project": project.value, "name": "Ship it", "notes": "By Friday."}
    task = await runner.perform(ctx, "create_task", inputs)
    assert (task["gid"], task["projects"]) == ("1203851701808348", ["1203851606424941"])
    assert [route(r) for r in seen] == [
        "GET /api/1.0/workspaces",
        "GET /api/1.0/projects",
        "POST /api/1.0/tasks",
    ]
    assert seen[1].url.params["workspace"] == "1202550105911307"
    assert all(r.headers["authorization"] == f"Bearer {ASANA_TOKEN}" for r in seen)


# Discord: no connection; the webhook's URL (its id and token) is the action's input.
DISCORD_WEBHOOK = "https://discord.com/api/v10/webhooks/1184130567412310016/aBcD-eFgH_iJkL"


@CASES.add("discord", ("discord.com",), {}, described("discord"), lambda _: httpx2.Response(204))
async def discord_message(runner: PieceRunner, ctx: Context, seen: list[httpx2.Request]) -> None:
    inputs = {"webhook_url": DISCORD_WEBHOOK, "content": "Deploy finished"}
    sent_message = await runner.perform(ctx, "send_message_webhook", inputs)
    assert sent_message["status"] == 204  # no ?wait=true: Discord answers 204, no message
    [request] = seen
    assert (str(request.url), sent(request)) == (DISCORD_WEBHOOK, {"content": "Deploy finished"})


# Figma: an OAuth2 token as bearer.
FIGMA_TOKEN = "figu_0123456789abcdef"
FIGMA_FILE = "hCw9yPzZx6UkC6dAYpqvXW"


def figma_answers(request: httpx2.Request) -> httpx2.Response:
    if request.method == "GET":
        return answer({"name": "Checkout flow", "version": "5162430112", "document": {}})
    comment = {"id": "1442001", "file_key": FIGMA_FILE, "message": sent(request)["message"]}
    return answer(comment)


@CASES.add(
    "figma", ("api.figma.com",), {"access_token": FIGMA_TOKEN}, described("figma"), figma_answers
)
async def figma_file_and_comment(
    runner: PieceRunner, ctx: Context, seen: list[httpx2.Request]
) -> None:
    got = await runner.perform(ctx, "get_file", {"file_key": FIGMA_FILE})
    assert got["response_body"]["name"] == "Checkout flow"
    inputs = {"file_key": FIGMA_FILE, "message": "Looks good to me"}
    posted = await runner.perform(ctx, "post_comment", inputs)
    assert posted["response_body"]["id"] == "1442001"
    assert [route(r) for r in seen] == [
        f"GET /v1/files/{FIGMA_FILE}",
        f"POST /v1/files/{FIGMA_FILE}/comments",
    ]
    assert seen[1].headers["authorization"] == f"Bearer {FIGMA_TOKEN}"


# Intercom: an OAuth2 token as bearer, the region (a prop of the connection) picking the host;
# its client sends Intercom-Version 2.11, the description's version.
INTERCOM_TOKEN = "dG9rOjAxMjM0NTY3ODlhYmNkZWY="
CONTACT = {
    "type": "contact",
    "id": "6762f0d51bb69f9f2193bb7f",
    "workspace_id": "ecahpwf5",
    "role": "user",
    "email": "ada@example.com",
}


def intercom_answers(request: httpx2.Request) -> httpx2.Response:
    pages = {"type": "pages", "page": 1, "per_page": 50, "total_pages": 1}
    if route(request) == "POST /contacts/search":
        return answer({"type": "list", "data": [], "total_count": 0, "pages": pages})
    if route(request) == "GET /contacts":
        lead = {**CONTACT, "id": "6762f0d51bb69f9f2193bb80", "role": "lead"}
        user = {**CONTACT, "name": "Ada Lovelace", "external_id": "u-1815"}
        return answer({"type": "list", "data": [lead, user], "total_count": 2, "pages": pages})
    if request.url.path == "/tags":
        return answer({"type": "list", "data": [{"type": "tag", "id": "81", "name": "VIP"}]})
    if request.url.path.endswith("/tags"):
        return answer({"type": "tag", "id": sent(request)["id"], "name": "VIP"})
    return answer({**CONTACT, "name": sent(request)["name"]})


@CASES.add(
    "intercom",
    ("api.intercom.io",),
    {"access_token": INTERCOM_TOKEN, "region": "intercom"},
    described("intercom"),
    intercom_answers,
)
async def intercom_user(runner: PieceRunner, ctx: Context, seen: list[httpx2.Request]) -> None:
    inputs = {"email": "ada@example.com", "name": "Ada Lovelace", "user_id": "u-1815"}
    user = await runner.perform(ctx, "create_or_update_user", inputs)
    assert (user["id"], user["name"]) == (CONTACT["id"], "Ada Lovelace")
    assert sent(seen[1])["external_id"] == "u-1815"

    action = "add_or_remove_tag_on_contact"
    [contact] = (await runner.choices(ctx, action, "contact_id", {}, 0)).choices  # users only
    assert (contact.value, contact.label) == (
        CONTACT["id"],
        "Ada Lovelace, ada@example.com, u-1815",
    )
    [tag] = (await runner.choices(ctx, action, "tag_id", {}, 0)).choices
    assert (tag.value, tag.label) == ("81", "VIP")
    tagged = await runner.perform(ctx, action, {"contact_id": contact.value, "tag_id": tag.value})
    assert tagged == {"type": "tag", "id": "81", "name": "VIP"}
    assert [route(r) for r in seen] == [
        "POST /contacts/search",
        "POST /contacts",
        "GET /contacts",
        "GET /tags",
        f"POST /contacts/{CONTACT['id']}/tags",
    ]
    assert all(r.headers["intercom-version"] == "2.11" for r in seen)


# Mistral AI: an API key as bearer.
MISTRAL_KEY = "mistral-0123456789abcdef"
MISTRAL_MODELS = [
    {"id": "mistral-small-latest", "object": "model", "name": "mistral-small-2506"},
    {"id": "mistral-large-latest", "object": "model", "name": "mistral-large-2411"},
]


def chat_answers(request: httpx2.Request) -> httpx2.Response:
    """Mistral's and OpenAI's: their models, and a chat completion."""
    if request.method == "GET":
        return answer({"object": "list", "data": MISTRAL_MODELS + OPENAI_MODELS})
    message = {"role": "assistant", "content": "Paris."}
    return answer(
        {
            "id": "cmpl-0001",
            "object": "chat.completion",
            "created": 1764918000,
            "model": sent(request)["model"],
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11},
        }
    )


@CASES.add(
    "mistral-ai",
    ("api.mistral.ai",),
    {SECRET_TEXT_KEY: MISTRAL_KEY},
    described("mistral"),
    chat_answers,
)
async def mistral_chat(runner: PieceRunner, ctx: Context, seen: list[httpx2.Request]) -> None:
    assert await runner.test(ctx) is None  # the piece's own check of the key: it lists models
    page = await runner.choices(ctx, "create_chat_completion", "model", {}, 0)
    assert [(c.value, c.label) for c in page.choices][:2] == [
        ("mistral-small-latest", "mistral-small-2506"),
        ("mistral-large-latest", "mistral-large-2411"),
    ]
    inputs = {"model": page.choices[1].value, "prompt": "The capital of France?"}
    said = await runner.perform(ctx, "create_chat_completion", inputs)
    assert said == {"value": "Paris."}  # a text result, as an object
    assert [route(r) for r in seen] == [
        "GET /v1/models",
        "GET /v1/models",
        "POST /v1/chat/completions",
    ]
    assert sent(seen[2])["messages"] == [{"role": "user", "content": "The capital of France?"}]
    assert all(r.headers["authorization"] == f"Bearer {MISTRAL_KEY}" for r in seen)


# OpenAI: a custom connection (API key, base URL); the key as bearer.
OPENAI_KEY = "sk-proj-0123456789abcdef"
OPENAI_MODELS = [
    {"id": "gpt-4o-mini", "object": "model", "created": 1721172741, "owned_by": "system"},
    {"id": "whisper-1", "object": "model", "created": 1677532384, "owned_by": "openai"},
]


@CASES.add(
    "openai",
    ("api.openai.com",),
    {"api_key": OPENAI_KEY, "base_url": "https://api.openai.com/v1"},
    described("openai"),
    chat_answers,
)
async def openai_chat(runner: PieceRunner, ctx: Context, seen: list[httpx2.Request]) -> None:
    assert await runner.test(ctx) is None  # the piece's own check of the key: it lists models
    page = await runner.choices(ctx, "ask_chatgpt", "model", {}, 0)
    models = [c.value for c in page.choices]
    assert "gpt-4o-mini" in models and "whisper-1" not in models  # only language models
    inputs = {"model": "gpt-4o-mini", "prompt": "The capital of France?", "max_tokens": 256}
    said = await runner.perform(ctx, "ask_chatgpt", inputs)
    assert said == {"value": "Paris."}  # a text result, as an object
    assert [route(r) for r in seen] == [
        "GET /v1/models",
        "GET /v1/models",
        "POST /v1/chat/completions",
    ]
    body = sent(seen[2])
    assert (body["model"], body["max_tokens"], body["messages"][-1]["content"]) == (
        "gpt-4o-mini",
        256,
        "The capital of France?",
    )
    assert all(r.headers["authorization"] == f"Bearer {OPENAI_KEY}" for r in seen)


# SendGrid: an API key (the oldest framework's bare prop) as bearer.
@CASES.add(
    "sendgrid",
    ("api.sendgrid.com",),
    {SECRET_TEXT_KEY: "SG.key"},
    described("sendgrid"),
    lambda _: httpx2.Response(202),
)
async def sendgrid_mail(runner: PieceRunner, ctx: Context, seen: list[httpx2.Request]) -> None:
    inputs = {
        "to": "ada@example.com, bob@example.com",
        "from": "ops@example.com",
        "from_name": "Ops",
        "reply_to": "help@example.com",
        "subject": "Deployed",
        "content_type": "text",
        "content": "All green.",
    }
    assert await runner.perform(ctx, "send_email", inputs) == {"success": True}
    [request] = seen
    assert request.headers["authorization"] == "Bearer SG.key"
    assert sent(request)["personalizations"] == [
        {"to": [{"email": "ada@example.com"}]},
        {"to": [{"email": "bob@example.com"}]},
    ]


# Twilio: the account id and auth token as basic auth.
TWILIO_ACCOUNT = "AC" + "0123456789abcdef" * 2  # AC and 32 hex digits


def twilio_answers(request: httpx2.Request) -> httpx2.Response:
    if request.url.path.endswith("/IncomingPhoneNumbers.json"):
        numbers = [{"phone_number": "+15005550006", "friendly_name": "Support line"}]
        return answer({"incoming_phone_numbers": numbers})
    form = dict(parse_qsl(request.content.decode()))
    return answer({"sid": "SM0001", "status": "queued", "body": form.get("Body")}, status=201)


@CASES.add(
    "twilio",
    ("api.twilio.com",),
    {"username": TWILIO_ACCOUNT, "password": "auth-token"},
    described("twilio"),
    twilio_answers,
)
async def twilio_sms(runner: PieceRunner, ctx: Context, seen: list[httpx2.Request]) -> None:
    page = await runner.choices(ctx, "send_sms", "from", {}, 0)
    assert [(c.value, c.label) for c in page.choices] == [("+15005550006", "Support line")]
    inputs = {"from": page.choices[0].value, "to": "+15005550001", "body": "Hi"}
    sms = await runner.perform(ctx, "send_sms", inputs)
    assert sms["body"] == {"sid": "SM0001", "status": "queued", "body": "Hi"}
    assert [route(r) for r in seen] == [
        f"GET /2010-04-01/Accounts/{TWILIO_ACCOUNT}/IncomingPhoneNumbers.json",
        f"POST /2010-04-01/Accounts/{TWILIO_ACCOUNT}/Messages.json",
    ]
    assert seen[1].headers["authorization"].startswith("Basic ")
