"""The replay of recorded fixtures finds every way a connector strays from its recording."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx2
import pytest

from actionruns.sdk import Action, App, Auth, Context, InputField, OutputField
from actionruns.sdk.fixtures import (
    AppFixtures,
    Case,
    ReplayTransport,
    multipart_parts,
    replay,
    replay_app,
    request_problems,
)
from actionruns.sdk.http import request_json

URL = "https://api.example.com/items"


async def create(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    item = await request_json(ctx, "POST", URL, params={"v": "2"}, json={"name": inputs["name"]})
    return {"id": item["id"]}


APP = App(
    key="example",
    title="Example",
    description="An app to replay.",
    auth=Auth.api_key(),
    actions=[
        Action(
            "create",
            "Create",
            "Creates an item.",
            create,
            inputs=[InputField("name", "Name", required=True, help_text="Its name.")],
            outputs=[OutputField("id", "ID")],
            sample={"id": "1"},
        )
    ],
)
RECORDED: dict[str, dict[str, Any]] = {
    "request": {
        "method": "POST",
        "url": URL,
        "query": {"v": "2"},
        "headers": {"authorization": "Bearer k"},
        "json": {"name": "a"},
    },
    "response": {"status": 201, "json": {"id": "7"}},
}


def fixtures(*cases: Case) -> AppFixtures:
    return AppFixtures(APP, {"api_key": "k"}, cases)


def case(**changes: Any) -> Case:
    values: dict[str, Any] = {
        "action": "create",
        "title": "t",
        "inputs": {"name": "a"},
        "exchanges": [RECORDED],
        "result": {"id": "7"},
    }
    values.update(changes)
    return Case(**values)


async def test_a_faithful_connector_replays_cleanly() -> None:
    assert await replay_app(fixtures(case())) == []


def _recorded(**request_changes: Any) -> dict[str, Any]:
    request = {**RECORDED["request"], **request_changes}
    if "form" in request_changes:
        del request["json"]
    return {**RECORDED, "request": request}


@pytest.mark.parametrize(
    ("changed", "says"),
    [
        (_recorded(method="PUT"), "method POST, expected PUT"),
        (_recorded(url="https://api.example.com/things"), "URL"),
        (_recorded(query={"v": "3"}), "query"),
        (_recorded(headers={"authorization": "Bearer other"}), "header authorization"),
        (_recorded(json={"name": "b"}), "JSON body"),
        (_recorded(form={"name": "a"}), "expected a form"),
    ],
)
async def test_every_difference_from_the_recorded_request_is_named(
    changed: dict[str, Any], says: str
) -> None:
    [problem] = await replay(fixtures(), case(exchanges=[changed]))
    assert says in problem


async def test_unexpected_and_missing_requests_are_reported() -> None:
    problems = await replay(fixtures(), case(exchanges=[]))
    assert any("unexpected request POST" in p for p in problems)
    problems = await replay(fixtures(), case(exchanges=[RECORDED, RECORDED]))
    assert problems == ["create: t: 1 recorded requests were never made"]


async def test_results_and_errors_must_be_the_recorded_ones() -> None:
    [wrong] = await replay(fixtures(), case(result={"id": "8"}))
    assert "!= recorded" in wrong
    refused = {**RECORDED, "response": {"status": 404, "json": {"message": "No such list"}}}
    assert (
        await replay(
            fixtures(),
            case(
                exchanges=[refused],
                result=None,
                error={"class": "HaltError", "contains": "No such list"},
            ),
        )
        == []
    )
    [other] = await replay(
        fixtures(), case(exchanges=[refused], result=None, error={"class": "ThrottledError"})
    )
    assert "raised HaltError" in other


async def test_an_action_without_a_case_is_a_problem() -> None:
    assert await replay_app(fixtures()) == ["create: no recorded case"]


def test_a_multipart_body_is_compared_part_by_part() -> None:
    request = httpx2.Request(
        "POST",
        "https://api.example.com/upload",
        files=[
            ("file", ("a.txt", b"Hello", "text/plain")),
            ("tag", (None, b"x")),
            ("tag", (None, b"y")),
        ],
    )
    request.read()
    parts = multipart_parts(request.headers["content-type"], request.content)
    assert parts == {
        "file": {"filename": "a.txt", "content_type": "text/plain", "content": "Hello"},
        "tag": ["x", "y"],
    }
    recorded = {"method": "POST", "url": "https://api.example.com/upload", "multipart": parts}
    assert request_problems(recorded, request) == []
    other = {**recorded, "multipart": {**parts, "tag": "x"}}
    assert request_problems(other, request) == [f"multipart {parts!r} != {other['multipart']!r}"]
    binary = httpx2.Request(
        "POST",
        "https://api.example.com/upload",
        files={"file": ("a.bin", b"\xff\x00", "application/octet-stream")},
    )
    binary.read()
    found = multipart_parts(binary.headers["content-type"], binary.content)
    assert found["file"]["content"] == "base64:/wA="


async def test_a_recorded_file_answer_is_replayed_as_its_bytes() -> None:
    recorded = {"method": "GET", "url": "https://api.example.com/file"}
    answer = {"status": 200, "headers": {"content-type": "audio/mpeg"}, "base64": "SUQz/wA="}
    transport = ReplayTransport([{"request": recorded, "response": answer}])
    async with httpx2.AsyncClient(transport=transport) as client:
        response = await client.get("https://api.example.com/file")
    assert response.content == b"ID3\xff\x00"
    assert transport.problems == []
