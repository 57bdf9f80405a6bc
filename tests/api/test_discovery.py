"""Discovery in the Partner API's shapes: apps, actions, fields, choices, outputs, tests."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from actionruns.sdk.registry import Registry, Unavailable, action_id, app_id
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
    assert missing.status_code == 400  # a filter naming no app: the parameter is wrong
    assert missing.json()["errors"][0]["source"] == {"parameter": "app"}
    bad_type = await acme.get("/v2/actions", params={"app": "testkit", "action_type": "DELETE"})
    assert bad_type.status_code == 400
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


async def test_an_app_this_service_cannot_load_says_so(service: Service, acme: ApiClient) -> None:
    """Its driver is not installed here: the partner learns the app is unavailable, not that
    it does not exist (and nothing of the operator's install)."""
    service.engine.registry.unavailable["ghost"] = Unavailable("ghost", "its driver is missing")
    listed = (await acme.get("/v2/apps", params={"limit": 100})).json()["data"]
    assert "ghost" not in {app["slug"] for app in listed}
    for response in (
        await acme.get("/v2/actions", params={"app": "ghost"}),
        await acme.post("/v2/action-runs", json={"data": {"action": "ghost.haunt", "inputs": {}}}),
    ):
        assert response.status_code == 400, response.text
        [error] = response.json()["errors"]
        assert error["detail"] == "The app ghost is not available on this service."


async def test_pages_past_the_end_and_bad_bounds(acme: ApiClient) -> None:
    total = (await acme.get("/v2/apps")).json()["meta"]["count"]
    past = (await acme.get("/v2/apps", params={"limit": 2, "offset": total + 5})).json()
    assert past["data"] == [] and past["links"]["next"] is None
    assert past["meta"] == {"count": total, "limit": 2, "offset": total + 5}
    assert f"offset={total + 3}" in past["links"]["prev"]
    last = (await acme.get("/v2/apps", params={"limit": 2, "offset": total - 1})).json()
    assert len(last["data"]) == 1 and last["links"]["next"] is None

    for params in ({"limit": 0}, {"limit": 101}, {"offset": -1}, {"limit": "ten"}):
        response = await acme.get("/v2/apps", params=params)
        assert response.status_code == 400, params
        [name] = params
        assert response.json()["errors"][0]["source"] == {"parameter": name}


async def test_apps_filter_by_query_category_and_ids(acme: ApiClient) -> None:
    by_query = (await acme.get("/v2/apps", params={"query": "TEST KIT"})).json()["data"]
    assert [app["slug"] for app in by_query] == ["testkit"]
    # A page as long as can be: the catalogue's developer tools are more than a default page.
    by_category = (
        await acme.get("/v2/apps", params={"category": "developer-tools", "limit": 100})
    ).json()
    assert "testkit" in [app["slug"] for app in by_category["data"]]
    assert all({"slug": "developer-tools"} in app["categories"] for app in by_category["data"])
    by_ids = (
        await acme.get("/v2/apps", params={"ids": f"{app_id(testkit)}, secretive,nope"})
    ).json()
    assert sorted(app["slug"] for app in by_ids["data"]) == ["secretive", "testkit"]
    both = await acme.get("/v2/apps", params={"ids": "testkit", "category": "x"})
    assert both.status_code == 400
    assert both.json()["errors"][0]["source"] == {"parameter": "ids"}


async def test_every_app_image_is_served(service: Service, acme: ApiClient) -> None:
    [app] = (await acme.get("/v2/apps", params={"ids": "testkit"})).json()["data"]
    assert app["action_types"] == ["SEARCH", "WRITE"]
    assert app["auth_type"] == "none" and app["auth_fields"] == []
    [secretive] = (await acme.get("/v2/apps", params={"ids": "secretive"})).json()["data"]
    assert secretive["auth_type"] == "api_key"
    assert [field["id"] for field in secretive["auth_fields"]] == ["api_key"]
    assert set(app["images"]) == {"url_16x16", "url_32x32", "url_64x64", "url_128x128"}
    icon = await service.http.get(app["images"]["url_32x32"])  # public: no token needed
    assert icon.status_code == 200
    assert icon.headers["content-type"].startswith("image/svg+xml")
    assert 'width="32"' in icon.text and ">T<" in icon.text


async def test_field_attributes_in_the_partner_api_shape(acme: ApiClient) -> None:
    fields = fields_by_id(
        await acme.post("/v2/actions/testkit.area/inputs", json={"data": {"inputs": {}}})
    )
    shape = fields["shape"]
    required_keys = {
        "type",
        "id",
        "title",
        "default_value",
        "depends_on",
        "description",
        "invalidates_input_fields",
        "is_required",
        "items",
        "placeholder",
        "value_type",
    }
    for field in fields.values():
        assert required_keys <= set(field), field
        assert field["type"] == "input_field"
    assert shape["is_required"] is True and shape["value_type"] == "STRING"
    assert shape["format"] == "SELECT" and shape["has_dynamic_choices"] is False
    assert [choice["value"] for choice in shape["choices"]] == ["circle", "rect"]
    assert shape["invalidates_input_fields"] is True and shape["depends_on"] == []
    # Without a shape the dynamic set describes a rectangle.
    assert {"width", "height"} <= set(fields)
    width = fields["width"]
    assert width["value_type"] == "NUMBER" and "format" not in width
    assert width["invalidates_input_fields"] is False
    assert width["description"] == "cm" and width["default_value"] == ""

    noop = fields_by_id(await acme.post("/v2/actions/testkit.noop/inputs", json={"data": {}}))
    assert noop["count"]["value_type"] == "INTEGER" and "format" not in noop["count"]
    assert noop["color"]["choices"] == [] and noop["color"]["has_dynamic_choices"] is True
    assert noop["value"]["value_type"] == "STRING" and noop["value"]["items"] == {}


async def test_field_lists_are_unpaginated_envelopes(acme: ApiClient) -> None:
    response = await acme.post("/v2/actions/testkit.noop/inputs", json={"data": {}})
    body = response.json()
    assert body["links"] == {"next": None, "previous": None, "prev": None}
    assert body["meta"] == {"count": len(body["data"]), "limit": None, "offset": 0}


async def test_dynamic_fields_reject_bad_inputs_without_failing(acme: ApiClient) -> None:
    # Fields are computed for a form being filled in: an invalid shape still gets an answer.
    response = await acme.post(
        "/v2/actions/testkit.area/inputs", json={"data": {"inputs": {"shape": "hexagon"}}}
    )
    assert set(fields_by_id(response)) == {"shape", "width", "height"}
    bad = await acme.post("/v2/actions/testkit.area/inputs", json={"data": {"inputs": []}})
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["source"] == {"pointer": "/data/inputs"}


async def test_choice_pages_link_both_ways_and_static_choices_come_too(acme: ApiClient) -> None:
    url = "/v2/actions/testkit.noop/inputs/color/choices"
    second = (await acme.post(url, params={"page": 2}, json={"data": {}})).json()
    assert second["meta"] == {"page": 2}
    assert "page=1" in second["links"]["prev"] and "page=3" in second["links"]["next"]
    assert [choice["value"] for choice in second["data"]] == [f"c{i}" for i in range(10, 20)]
    beyond = (await acme.post(url, params={"page": 9}, json={"data": {}})).json()
    assert beyond["data"] == [] and beyond["links"]["next"] is None
    for page in (0, -1, "x"):
        refused = await acme.post(url, params={"page": page}, json={"data": {}})
        assert refused.status_code == 400
        assert refused.json()["errors"][0]["source"] == {"parameter": "page"}

    sizes = await acme.post("/v2/actions/testkit.noop/inputs/size/choices", json={"data": {}})
    assert sizes.status_code == 200
    assert [choice["id"] for choice in sizes.json()["data"]] == ["s", "m", "l"]
    assert sizes.json()["links"] == {"next": None, "previous": None, "prev": None}
    shapes = await acme.post("/v2/actions/testkit.area/inputs/shape/choices", json={"data": {}})
    assert [choice["value"] for choice in shapes.json()["data"]] == ["circle", "rect"]


async def test_choices_that_need_an_account_say_so(acme: ApiClient) -> None:
    # secretive's fields have no dynamic choices; an app that needs an account and has none
    # connected still lists its static fields.
    response = await acme.post("/v2/actions/secretive.echo/inputs", json={"data": {}})
    assert set(fields_by_id(response)) == {"fail"}
    missing = await acme.post(
        "/v2/actions/secretive.echo/inputs",
        json={"data": {"authentication": "00000000-0000-0000-0000-000000000000"}},
    )
    assert missing.status_code == 404
    mismatched_auth = await acme.connect("secretive", {"api_key": "good-key"})
    other_app = await acme.post(
        "/v2/actions/testkit.noop/inputs", json={"data": {"authentication": mismatched_auth}}
    )
    assert other_app.status_code == 400
    assert other_app.json()["errors"][0]["source"] == {"pointer": "/data/authentication"}


async def test_outputs_in_the_partner_api_shape(acme: ApiClient) -> None:
    body = (await acme.post("/v2/actions/testkit.noop/outputs", json={"data": {}})).json()
    assert body["data"] == [
        {
            "type": "output_field",
            "id": "ok",
            "title": "OK",
            "value_type": "boolean",
            "sample": "true",
        }
    ]
    assert body["meta"] == {"count": 1, "limit": None, "offset": 0}
    empty = (await acme.post("/v2/actions/testkit.flaky/outputs", json={"data": {}})).json()
    assert empty["data"] == [] and empty["sample"] == {}


async def test_an_action_test_validates_pages_and_needs_an_account(acme: ApiClient) -> None:
    circle = await acme.post(
        "/v2/actions/testkit.area/test",
        json={"data": {"inputs": {"shape": "circle", "radius": "1"}}},
    )
    assert circle.json()["data"] == [{"area": 3.14}]
    assert circle.json()["meta"] == {"count": 1, "limit": 10, "offset": 0}
    skipped = await acme.post(
        "/v2/actions/testkit.noop/test", json={"data": {"inputs": {}, "offset": 1}}
    )
    assert skipped.json()["data"] == [] and skipped.json()["meta"]["count"] == 1

    missing_dynamic = await acme.post(
        "/v2/actions/testkit.area/test", json={"data": {"inputs": {"shape": "circle"}}}
    )
    assert missing_dynamic.status_code == 400
    assert missing_dynamic.json()["errors"][0]["source"] == {"pointer": "/data/inputs/radius"}
    needs_account = await acme.post("/v2/actions/secretive.echo/test", json={"data": {}})
    assert needs_account.status_code == 400
    assert needs_account.json()["errors"][0]["source"] == {"pointer": "/data/authentication"}
    for limit in (0, 101):
        refused = await acme.post("/v2/actions/testkit.noop/test", json={"data": {"limit": limit}})
        assert refused.status_code == 400
        assert refused.json()["errors"][0]["source"] == {"pointer": "/data/limit"}


@pytest.mark.parametrize("fail", [False, True])
async def test_an_action_test_never_answers_with_the_credentials(
    acme: ApiClient, fail: bool
) -> None:
    # secretive.echo returns its api key, or fails with it in the message.
    secret = "sk-live-" + uuid.uuid4().hex
    authentication = await acme.connect("secretive", {"api_key": secret})
    response = await acme.post(
        "/v2/actions/secretive.echo/test",
        json={"data": {"authentication": authentication, "inputs": {"fail": fail}}},
    )
    assert response.status_code == (400 if fail else 200), response.text
    assert secret not in response.text
    assert "[redacted]" in response.text


async def test_an_action_test_that_hangs_or_crashes_is_a_502(acme: ApiClient) -> None:
    # testkit.flaky allows itself 0.5 s; in "timeout" mode it sleeps for a minute.
    hung = await acme.post(
        "/v2/actions/testkit.flaky/test",
        json={"data": {"inputs": {"key": "test-hang", "failures": 1, "mode": "timeout"}}},
        timeout=20,
    )
    assert hung.status_code == 502, hung.text
    assert "0.5 seconds" in hung.json()["errors"][0]["detail"]
    crashed = await acme.post(
        "/v2/actions/testkit.flaky/test",
        json={"data": {"inputs": {"key": "test-crash", "failures": 1, "mode": "crash"}}},
    )
    assert crashed.status_code == 502, crashed.text
    assert crashed.json()["errors"][0]["meta"] == {"code": "connector_error"}
    assert "bug in connector" not in crashed.text
    refused = await acme.post(
        "/v2/actions/testkit.flaky/test",
        json={"data": {"inputs": {"key": "test-halt", "failures": 1, "mode": "halt"}}},
    )
    assert refused.status_code == 400
    assert "the record does not exist" in refused.json()["errors"][0]["detail"]


async def test_unknown_actions_and_inputs_are_404_on_every_discovery_route(
    acme: ApiClient,
) -> None:
    for path in (
        "/v2/actions/testkit.nope/inputs",
        "/v2/actions/testkit.nope/inputs/color/choices",
        "/v2/actions/testkit.nope/outputs",
        "/v2/actions/testkit.nope/test",
        "/v2/actions/nope/inputs",
        "/v2/actions/testkit.area/inputs/radius/choices",  # only there for circles
    ):
        response = await acme.post(path, json={"data": {}})
        assert response.status_code == 404, (path, response.text)
        assert response.json()["errors"][0]["code"] == "not_found"
    area_id = action_id(testkit, testkit.action("area"))  # type: ignore[arg-type]
    radius = await acme.post(
        f"/v2/actions/{area_id}/inputs/radius/choices",
        json={"data": {"inputs": {"shape": "circle"}}},
    )
    assert radius.status_code == 200 and radius.json()["data"] == []
