"""Trello: create a card in a list, move a card to another list.

Reference (https://developer.atlassian.com/cloud/trello/rest/): create a card
https://developer.atlassian.com/cloud/trello/rest/api-group-cards/#api-cards-post (POST
/1/cards: ``idList``, ``name``, ``desc``, ``pos``, ``due``, ``idLabels``; "query parameters may
also be replaced with a JSON request body"), update a card
https://developer.atlassian.com/cloud/trello/rest/api-group-cards/#api-cards-id-put (PUT
/1/cards/{id}: ``idList``, ``idBoard``, ``pos``), boards of a member
https://developer.atlassian.com/cloud/trello/rest/api-group-members/#api-members-id-boards-get,
lists of a board https://developer.atlassian.com/cloud/trello/rest/api-group-boards/#api-boards-id-lists-get
(both unpaged), the member itself
https://developer.atlassian.com/cloud/trello/rest/api-group-members/#api-members-id-get;
authorization https://developer.atlassian.com/cloud/trello/guides/rest-api/authorization/
(the API key and a user's token as the ``key`` and ``token`` query parameters); errors are
plain text (``invalid id``, ``invalid token``) with 400, 401 or 404; rate limits
https://developer.atlassian.com/cloud/trello/guides/rest-api/rate-limits/ (100 requests per
10 s per token, 300 per key: 429 with ``{"error": "API_TOKEN_LIMIT_EXCEEDED", "message": "Rate
limit exceeded"}`` and no ``Retry-After``).
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
from actionruns.sdk.http import error_message, raise_for_status

API = "https://api.trello.com/1"
WINDOW_SECONDS = 10.0  # Trello counts requests over 10-second windows


def _apply(request: httpx2.Request, credentials: Mapping[str, Any]) -> None:
    request.url = request.url.copy_merge_params(
        {"key": str(credentials["api_key"]).strip(), "token": str(credentials["token"]).strip()}
    )


def _message(response: httpx2.Response) -> str:
    """Trello's text, or for a rate limit its message and which limit was hit."""
    try:
        body: Any = response.json()
    except ValueError:
        return error_message(response)
    if isinstance(body, dict) and isinstance(body.get("error"), str) and body.get("message"):
        return f"{body['message']} ({body['error']})"
    return error_message(response)


async def _call(ctx: Context, method: str, path: str, **request: Any) -> Any:
    response = await ctx.http.request(method, f"{API}{path}", **request)
    if response.status_code >= 400:
        raise_for_status(response, message=_message(response), throttle_delay=WINDOW_SECONDS)
    return response.json()


async def test_token(ctx: Context) -> str:
    member = await _call(ctx, "GET", "/members/me", params={"fields": "fullName,username"})
    return f"{member['fullName']} (@{member['username']})"


async def board_choices(ctx: Context, inputs: Mapping[str, Any], page: int) -> ChoicePage:
    if page:
        return ChoicePage([])  # Trello returns every open board at once
    boards = await _call(
        ctx, "GET", "/members/me/boards", params={"fields": "name", "filter": "open"}
    )
    return ChoicePage([Choice(board["id"], board["name"]) for board in boards])


async def list_choices(ctx: Context, inputs: Mapping[str, Any], page: int) -> ChoicePage:
    if page or not inputs.get("board"):
        return ChoicePage([])
    lists = await _call(
        ctx,
        "GET",
        f"/boards/{str(inputs['board']).strip()}/lists",
        params={"fields": "name", "filter": "open"},
    )
    return ChoicePage([Choice(item["id"], item["name"]) for item in lists])


def _card(card: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": card["id"],
        "name": card["name"],
        "id_list": card["idList"],
        "id_board": card.get("idBoard"),
        "url": card.get("url"),
        "short_url": card.get("shortUrl"),
        "due": card.get("due"),
    }


def _position(inputs: Mapping[str, Any]) -> str | float | None:
    """``top``, ``bottom`` or a positive number, as Trello takes it."""
    value = str(inputs.get("position") or "").strip().lower()
    if not value:
        return None
    if value in ("top", "bottom"):
        return value
    try:
        return float(value)
    except ValueError:
        return value  # Trello answers 400 with its own words


async def create_card(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {"idList": str(inputs["list"]).strip(), "name": inputs["name"]}
    if inputs.get("description"):
        body["desc"] = inputs["description"]
    if (position := _position(inputs)) is not None:
        body["pos"] = position
    if inputs.get("due"):
        body["due"] = inputs["due"]
    if inputs.get("label_ids"):
        body["idLabels"] = [str(label).strip() for label in inputs["label_ids"]]
    return _card(await _call(ctx, "POST", "/cards", json=body))


async def move_card(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "idBoard": str(inputs["board"]).strip(),
        "idList": str(inputs["list"]).strip(),
    }
    if (position := _position(inputs)) is not None:
        body["pos"] = position
    card = str(inputs["card_id"]).strip()
    return _card(await _call(ctx, "PUT", f"/cards/{card}", json=body))


BOARD = InputField(
    "board",
    "Board",
    required=True,
    dynamic_choices=board_choices,
    alters_dynamic_fields=True,
    help_text="One of your open boards, or its id.",
)
LIST = InputField(
    "list",
    "List",
    required=True,
    dynamic_choices=list_choices,
    depends_on=("board",),
    help_text="An open list of that board, or its id.",
)
POSITION = InputField(
    "position", "Position", help_text="top, bottom or a positive number; bottom if empty."
)
OUTPUTS = [
    OutputField("id", "Card ID"),
    OutputField("name", "Name"),
    OutputField("id_list", "List ID"),
    OutputField("id_board", "Board ID"),
    OutputField("url", "URL"),
    OutputField("short_url", "Short URL"),
    OutputField("due", "Due", FieldType.DATETIME),
]
SAMPLE = {
    "id": "5abbe4b7ddc1b351ef961414",
    "name": "Follow up with Acme",
    "id_list": "5abbe4b7ddc1b351ef961415",
    "id_board": "5abbe4b7ddc1b351ef961410",
    "url": "https://trello.com/c/AbCdEf12/1-follow-up-with-acme",
    "short_url": "https://trello.com/c/AbCdEf12",
    "due": "2026-12-01T09:00:00.000Z",
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
                help_text="Your Power-Up's API key, from trello.com/power-ups/admin.",
            ),
            InputField(
                "token",
                "Token",
                FieldType.PASSWORD,
                required=True,
                help_text="A token authorized for that key with read and write scope.",
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
            "Creates a card in a list, with a description, due date and labels if given.",
            create_card,
            inputs=[
                BOARD,
                LIST,
                InputField("name", "Name", required=True, help_text="The card's title."),
                InputField(
                    "description",
                    "Description",
                    FieldType.TEXT,
                    help_text="Markdown, up to 16,384 characters.",
                ),
                InputField("due", "Due", FieldType.DATETIME, help_text="When the card is due."),
                POSITION,
                InputField(
                    "label_ids", "Label IDs", list=True, help_text="Ids of labels of the board."
                ),
            ],
            outputs=OUTPUTS,
            sample=SAMPLE,
        ),
        Action(
            "move_card",
            "Move card",
            "Moves a card to a list, on the same board or another one.",
            move_card,
            inputs=[
                InputField(
                    "card_id",
                    "Card",
                    required=True,
                    help_text="The card's id or short link (the code in its URL).",
                ),
                BOARD,
                LIST,
                POSITION,
            ],
            outputs=OUTPUTS,
            sample=SAMPLE,
        ),
    ],
)
