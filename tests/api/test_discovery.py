"""Discovery in the Partner API's shapes: apps, actions, fields, choices, outputs, tests."""

from __future__ import annotations

from typing import Any

from actionruns.sdk.registry import Registry, action_id, app_id
from tests.conftest import ApiClient, Service, ServiceFactory
from tests.testkit import testkit


async def test_apps_are_paginated_with_links_and_meta(acme: ApiClient) -> None:
    everything = (await acme.get("/v2/apps", params={"limit": 100})).json()
    total = everything["meta"]["count"]
    assert total == len(everything["data"]) >= 5

    first = (await acme.get("/v2/apps", params={"limit": 2})).json()
    second = (await acme.get("/v2/apps", params={"limit": 2, "offset": 2})).json()
    assert first["meta"] == {"count": total, "limit": 2, "offset": 0}
    assert first["links"]["prev"] is None and "offset=2" in first["links"]["next"]
    assert "offset=0" in second["links"]["prev"]
    slugs = [app["slug"] for app in first["data"] + second["data"]]
    assert slugs == [app["slug"] for app in everything["data"][:4]]

    testkit_app = next(app for app in everything["data"] if app["slug"] == "testkit")
    assert testkit_app["id"] == app_id(testkit)
    assert {"title", "description", "categories", "images", "auth_type", "auth_fields"} <= set(
        testkit_app
    )


async def test_ids_are_stable_across_installs(start_service: ServiceFactory) -> None:
    first, second = await start_service(), await start_service()
    ids = []
    for service in (first, second):
        client = await service.new_client("acme")
        apps = (await client.get("/v2/apps", params={"limit": 100})).json()["data"]
        ids.append(sorted(app["id"] for app in apps))
    assert ids[0] == ids[1]
    assert Registry([testkit]).app(app_id(testkit)) is testkit


async def test_actions_filter_by_app_and_type(acme: ApiClient) -> None:
    every = (await acme.get("/v2/actions", params={"app": "testkit"})).json()["data"]
    searches = (
        await acme.get("/v2/actions", params={"app": "testkit", "action_type": "SEARCH"})
    ).json()["data"]
    by_id = (await acme.get("/v2/actions", params={"app": app_id(testkit)})).json()["data"]

    assert {action["key"] for action in every} == {action.key for action in testkit.actions}
    assert [action["key"] for action in searches] == ["area"]
    assert by_id == every
    noop = next(action for action in every if action["key"] == "noop")
    assert noop["id"] == action_id(testkit, testkit.action("noop"))  # type: ignore[arg-type]

    missing = await acme.get("/v2/actions", params={"app": "nope"})
    assert missing.status_code == 422  # a filter naming no app: the parameter is wrong
    assert missing.json()["errors"][0]["source"] == {"parameter": "app"}
    bad_type = await acme.get("/v2/actions", params={"app": "testkit", "action_type": "DELETE"})
    assert bad_type.status_code == 422
    assert bad_type.json()["errors"][0]["source"] == {"parameter": "action_type"}


def fields_by_id(response: Any) -> dict[str, dict[str, Any]]:
    assert response.status_code == 200, response.text
    return {field["id"]: field for field in response.json()["data"]}


async def test_input_fields_static_and_by_either_id(acme: ApiClient) -> None:
    noop_id = action_id(testkit, testkit.action("noop"))  # type: ignore[arg-type]
    by_slug = fields_by_id(await acme.post("/v2/actions/testkit.noop/inputs", json={"data": {}}))
    by_id = fields_by_id(await acme.post(f"/v2/actions/{noop_id}/inputs", json={"data": {}}))

    assert by_slug == by_id
    assert by_slug["count"]["value_type"] == "INTEGER"
    assert by_slug["color"]["format"] == "SELECT" and by_slug["color"]["has_dynamic_choices"]
    assert [choice["value"] for choice in by_slug["size"]["choices"]] == ["s", "m", "l"]
    assert by_slug["value"]["is_required"] is False


async def test_dynamic_fields_follow_the_inputs(acme: ApiClient) -> None:
    circle = fields_by_id(
        await acme.post(
            "/v2/actions/testkit.area/inputs", json={"data": {"inputs": {"shape": "circle"}}}
        )
    )
    rect = fields_by_id(
        await acme.post(
            "/v2/actions/testkit.area/inputs", json={"data": {"inputs": {"shape": "rect"}}}
        )
    )

    assert set(circle) == {"shape", "radius"}
    assert set(rect) == {"shape", "width", "height"}
    assert circle["shape"]["invalidates_input_fields"] is True
    assert circle["radius"]["is_required"] is True and circle["radius"]["value_type"] == "NUMBER"


async def test_choices_come_in_pages(acme: ApiClient) -> None:
    pages = []
    url = "/v2/actions/testkit.noop/inputs/color/choices"
    for number in (1, 2, 3):
        response = await acme.post(url, params={"page": number}, json={"data": {}})
        assert response.status_code == 200, response.text
        pages.append(response.json())

    assert [len(page["data"]) for page in pages] == [10, 10, 5]
    assert pages[0]["links"]["next"] and pages[2]["links"]["next"] is None
    assert pages[0]["data"][0] == {"id": "c0", "type": "choice", "label": "Color 0", "value": "c0"}
    no_such = await acme.post("/v2/actions/testkit.noop/inputs/nope/choices", json={"data": {}})
    assert no_such.status_code == 404


async def test_outputs_and_a_sample(acme: ApiClient) -> None:
    response = await acme.post("/v2/actions/testkit.noop/outputs", json={"data": {}})
    assert response.status_code == 200
    assert response.json()["data"][0]["id"] == "ok"
    assert response.json()["sample"] == {"ok": True}


async def test_an_action_test_runs_at_once(acme: ApiClient) -> None:
    response = await acme.post(
        "/v2/actions/testkit.area/test",
        json={"data": {"inputs": {"shape": "rect", "width": 2, "height": "3"}}},
    )
    assert response.status_code == 200, response.text
    assert response.json()["data"] == [{"area": 6}]


async def test_unknown_actions_are_404(service: Service, acme: ApiClient) -> None:
    for path in (
        "/v2/actions/testkit.nope/inputs",
        "/v2/actions/00000000-0000-0000-0000-000000000000/outputs",
    ):
        response = await acme.post(path, json={"data": {}})
        assert response.status_code == 404, path
        assert response.json()["errors"][0]["status"] == 404
