"""The SDK's helpers for HTTP connectors: JSON calls and paginated dropdowns."""

from __future__ import annotations

import httpx2
import pytest

from actionruns.sdk import (
    Auth,
    Choice,
    ExpiredAuthError,
    HaltError,
    ThrottledError,
    TransientError,
)
from actionruns.sdk.context import open_context
from actionruns.sdk.http import error_message, request_json
from actionruns.sdk.outbound import OutboundGuard
from actionruns.sdk.pagination import cursor_page, numbered_page


@pytest.mark.parametrize(
    ("status", "body", "headers", "expected"),
    [
        (200, b'{"id": 1}', {}, {"id": 1}),
        (204, b"", {}, None),
        (400, b'{"message": "email is invalid"}', {}, HaltError),
        (403, b'{"error": "forbidden"}', {}, HaltError),
        (401, b"{}", {}, ExpiredAuthError),
        (429, b"{}", {"Retry-After": "4"}, ThrottledError),
        (502, b"<html>bad gateway</html>", {}, TransientError),
        (200, b"<html>not json</html>", {}, TransientError),
    ],
)
async def test_request_json_answers_or_raises_the_right_class(
    status: int, body: bytes, headers: dict[str, str], expected: object
) -> None:
    seen: list[httpx2.Request] = []

    def vendor(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return httpx2.Response(status, content=body, headers=headers)

    auth = Auth.api_key()
    async with open_context(
        auth,
        {"api_key": "k1"},
        OutboundGuard(),
        app_key="x",
        transport=httpx2.MockTransport(vendor),
    ) as ctx:
        if isinstance(expected, type):
            with pytest.raises(expected):
                await request_json(ctx, "POST", "https://api.example.com/items", json={"a": 1})
        else:
            assert await request_json(ctx, "GET", "https://api.example.com/items") == expected
    assert seen[0].headers["authorization"] == "Bearer k1"


async def test_cursor_pages_are_walked_to_the_page_asked() -> None:
    pages = {None: (["a", "b"], "c2"), "c2": (["c", "d"], "c3"), "c3": (["e"], "")}
    asked: list[str | None] = []

    async def fetch(cursor: str | None) -> tuple[list[Choice], str | None]:
        asked.append(cursor)
        values, following = pages[cursor]
        return [Choice(value) for value in values], following

    last = await cursor_page(fetch, 2)
    assert [choice.value for choice in last.choices] == ["e"] and not last.has_more
    assert asked == [None, "c2", "c3"]
    first = await cursor_page(fetch, 0)
    assert first.has_more and [choice.value for choice in first.choices] == ["a", "b"]
    assert (await cursor_page(fetch, 5)).choices == []


async def test_numbered_pages_start_at_one_for_the_vendor() -> None:
    async def fetch(number: int) -> tuple[list[Choice], bool]:
        return [Choice(f"p{number}")], number < 2

    assert (await numbered_page(fetch, 0)).has_more
    second = await numbered_page(fetch, 1)
    assert second.choices[0].value == "p2" and not second.has_more


def test_a_validation_error_list_names_each_field() -> None:
    answer = httpx2.Response(
        422,
        json={
            "detail": [
                {"loc": ["body", "model"], "msg": "Field required", "type": "missing"},
                {"loc": ["query"], "msg": "Bad query", "type": "value_error"},
            ]
        },
    )
    assert error_message(answer) == "model: Field required; Bad query"


def test_figmas_err_is_the_message() -> None:
    # https://www.figma.com/developers/api#errors: {"status": 403, "err": "Invalid token"}
    answer = httpx2.Response(403, json={"status": 403, "err": "Invalid token"})
    assert error_message(answer) == "Invalid token"


def test_an_okta_error_says_its_summary_and_causes() -> None:
    answer = httpx2.Response(
        400,
        json={
            "errorCode": "E0000001",
            "errorSummary": "Api validation failed: login",
            "errorLink": "E0000001",
            "errorId": "oaeHfmOAx1iRLa0H10DeMz5fQ",
            "errorCauses": [{"errorSummary": "login: An object with this field already exists"}],
        },
    )
    assert error_message(answer) == (
        "Api validation failed: login; login: An object with this field already exists"
    )
    answer = httpx2.Response(
        401,
        json={"errorCode": "E0000011", "errorSummary": "Invalid token provided", "errorCauses": []},
    )
    assert error_message(answer) == "Invalid token provided"
