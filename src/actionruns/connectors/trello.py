"""Trello: create a card in a list, move a card to another list.

Reference: https://developer.atlassian.com/cloud/trello/rest/api-group-cards/#api-cards-post
(POST /1/cards: ``idList``, ``name``, ``desc``, ``due``, ``pos``, ``idLabels``),
#api-cards-id-put (PUT /1/cards/{id}: ``idList``, ``pos``),
https://developer.atlassian.com/cloud/trello/rest/api-group-members/#api-members-id-boards-get,
https://developer.atlassian.com/cloud/trello/rest/api-group-boards/#api-boards-id-lists-get,
https://developer.atlassian.com/cloud/trello/guides/rest-api/authorization/ (``key`` and
``token`` as query parameters), errors as plain text (``invalid id``), 429 for rate limits
(https://developer.atlassian.com/cloud/trello/guides/rest-api/rate-limits/).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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
from actionruns.sdk.http import request_json

API = "https://api.trello.com/1"


def _apply(request: httpx2.Request, credentials: Mapping[str, Any]) -> None:
    request.url = request.url.copy_merge_params(
        {"key": credentials["api_key"], "token": credentials["token"]}
    )


async def test_token(ctx: Context) -> str:
    member = await request_json(
        ctx, "GET", f"{API}/members/me", params={"fields": "fullName,username"}
    )
    return f"{member['fullName']} (@{member['username']})"


async def board_choices(ctx: Context, inputs: Mapping[str, Any], page: int) -> ChoicePage:
    if page:
        return ChoicePage([])  # Trello returns every open board at once
    boards = await request_json(
        ctx, "GET", f"{API}/members/me/boards", params={"fields": "name", "filter": "open"}
    )
    return ChoicePage([Choice(board["id"], board["name"]) for board in boards])


async def list_choices(ctx: Context, inputs: Mapping[str, Any], page: int) -> ChoicePage:
    if page or not inputs.get("board"):
        return ChoicePage([])
    lists = await request_json(
        ctx,
        "GET",
        f"{API}/boards/{inputs['board']}/lists",
        params={"fields": "name", "filter": "open"},
    )
    return ChoicePage([Choice(item["id"], item["name"]) for item in lists])


def _card(card: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": card["id"],
        "name": card["name"],
        "id_list": card["idList"],
        "url": card.get("url"),
        "short_url": card.get("shortUrl"),
        "due": card.get("due"),
    }


async def create_card(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {"idList": inputs["list"], "name": inputs["name"]}
    for key, name in (("description", "desc"), ("position", "pos")):
        if inputs.get(key):
            body[name] = inputs[key]
    if inputs.get("due"):
        body["due"] = inputs["due"]
    if inputs.get("label_ids"):
        body["idLabels"] = list(inputs["label_ids"])
    return _card(await request_json(ctx, "POST", f"{API}/cards", json=body))


async def move_card(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {"idList": inputs["list"]}
    if inputs.get("position"):
        body["pos"] = inputs["position"]
    return _card(await request_json(ctx, "PUT", f"{API}/cards/{inputs['card_id']}", json=body))


BOARD = InputField(
    "board",
    "Board",
    required=True,
    dynamic_choices=board_choices,
    alters_dynamic_fields=True,
    help_text="The board.",
)
LIST = InputField(
    "list",
    "List",
    required=True,
    dynamic_choices=list_choices,
    depends_on=("board",),
    help_text="A list on the board.",
)
POSITION = InputField("position", "Position", help_text="top, bottom or a number; bottom if empty.")
OUTPUTS = [
    OutputField("id", "Card ID"),
    OutputField("name", "Name"),
    OutputField("id_list", "List ID"),
    OutputField("url", "URL"),
    OutputField("short_url", "Short URL"),
    OutputField("due", "Due", FieldType.DATETIME),
]
SAMPLE = {
    "id": "5abbe4b7ddc1b351ef961414",
    "name": "Follow up with Acme",
    "id_list": "5abbe4b7ddc1b351ef961415",
    "url": "https://trello.com/c/AbCdEf12/1-follow-up-with-acme",
    "short_url": "https://trello.com/c/AbCdEf12",
    "due": None,
}

app = App(
    key="trello",
    title="Trello",
    description="Create cards on Trello boards and move them between lists.",
    auth=Auth.custom(
        [
            InputField(
                "api_key",
                "API key",
                required=True,
                help_text="Your Power-Up's API key (trello.com/power-ups/admin).",
            ),
            InputField(
                "token",
                "Token",
                FieldType.PASSWORD,
                required=True,
                help_text="A token generated for that key, with read and write.",
            ),
        ],
        apply=_apply,
    ),
    test=test_token,
    categories=("productivity", "project-management"),
    actions=[
        Action(
            "create_card",
            "Create card",
            "Creates a card in a list.",
            create_card,
            inputs=[
                BOARD,
                LIST,
                InputField("name", "Name", required=True, help_text="The card's title."),
                InputField("description", "Description", FieldType.TEXT, help_text="Markdown."),
                InputField("due", "Due", FieldType.DATETIME, help_text="When it is due."),
                POSITION,
                InputField("label_ids", "Label IDs", list=True, help_text="Labels of the board."),
            ],
            outputs=OUTPUTS,
            sample=SAMPLE,
        ),
        Action(
            "move_card",
            "Move card",
            "Moves a card to another list (on the same or another board).",
            move_card,
            inputs=[
                InputField("card_id", "Card ID", required=True, help_text="The card's id."),
                BOARD,
                LIST,
                POSITION,
            ],
            outputs=OUTPUTS,
            sample=SAMPLE,
        ),
    ],
)
