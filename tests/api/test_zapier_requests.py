"""Requests as clients written for Zapier's Workflow API send them: both documented body
shapes, trailing slashes, Zapier's scope names, lenient bodies."""

from __future__ import annotations

from typing import Any

import jwt

from actionruns.engine.scopes import REQUESTABLE_SCOPES, ZAPIER_SCOPES
from tests.conftest import ApiClient, Service

# The ten scopes issue 15 names (docs.zapier.com/powered-by-zapier/api-reference/oauth-scopes).
ZAPIER_SCOPE_NAMES = [
    "zap",
    "zap:write",
    "action:run",
    "connection:read",
    "connection:write",
    "authentication",
    "authentication:write",
    "profile",
    "zap:runs",
    "zap:all",
]


async def test_a_run_in_either_body_shape_is_the_same_run(acme: ApiClient) -> None:
    wrapped = await acme.post(
        "/v2/action-runs",
        json={"data": {"action": "testkit.noop", "inputs": {"value": "a"}}},
    )
    # The guides' shape: unwrapped, with "input" (and a callback_url a client may add).
    unwrapped = await acme.post(
        "/v2/action-runs", json={"action": "testkit.noop", "input": {"value": "a"}}
    )
    assert wrapped.status_code == unwrapped.status_code == 200, unwrapped.text
    first = await acme.wait(wrapped.json()["data"]["id"])
    second = await acme.wait(unwrapped.json()["data"]["id"])
    assert first["status"] == second["status"] == "success"
    assert first["results"] == second["results"] == [{"ok": True, "value": "a", "count": None}]
    for body in (
        {"data": {"action": "testkit.noop", "input": {"value": "a"}}},
        {"action": "testkit.noop", "inputs": {"value": "a"}},
        {"data": {"action": "testkit.noop", "inputs": None}},
    ):
        response = await acme.post("/v2/action-runs", json=body)
        assert response.status_code == 200, (body, response.text)


async def test_either_shape_gets_the_same_errors_pointing_into_its_own_body(
    service: Service, acme: ApiClient
) -> None:
    cases: list[tuple[dict[str, Any], dict[str, Any], str]] = [
        (
            {"data": {"action": "testkit.nope", "inputs": {}}},
            {"action": "testkit.nope", "input": {}},
            "action",
        ),
        (
            {"data": {"action": "testkit.noop", "inputs": {"count": "many"}}},
            {"action": "testkit.noop", "input": {"count": "many"}},
            "input/count",
        ),
        (
            {"data": {"action": "secretive.echo", "inputs": {}}},
            {"action": "secretive.echo", "input": {}},
            "authentication",
        ),
        (
            {"data": {"action": "testkit.noop", "callback_url": "ftp://x"}},
            {"action": "testkit.noop", "callback_url": "ftp://x"},
            "callback_url",
        ),
        ({"data": {"action": None}}, {"action": None}, "action"),
    ]
    for wrapped, unwrapped, where in cases:
        first = await acme.post("/v2/action-runs", json=wrapped)
        second = await acme.post("/v2/action-runs", json=unwrapped)
        assert first.status_code == second.status_code, (first.text, second.text)
        assert 400 <= first.status_code < 500
        one, other = first.json()["errors"][0], second.json()["errors"][0]
        assert (one["code"], one["detail"]) == (other["code"], other["detail"])
        wrapped_where = where.replace("input/", "inputs/")
        assert one["source"] == {"pointer": f"/data/{wrapped_where}"}
        assert other["source"] == {"pointer": f"/{where}"}
    assert await service.stored_runs() == 0


async def test_every_route_answers_with_a_trailing_slash_without_a_redirect(
    service: Service, acme: ApiClient
) -> None:
    created = await acme.post("/v2/action-runs/", json={"action": "testkit.noop", "input": {}})
    assert created.status_code == 200, created.text
    run_id = created.json()["data"]["id"]
    read = await acme.get(f"/v2/action-runs/{run_id}/", params={"wait_seconds": 10})
    assert read.status_code == 200 and read.json()["data"]["id"] == run_id
    for path in ("/v2/apps/", "/v2/authentications/", "/healthz/"):
        response = await acme.get(path, params={"app": "testkit"} if "auth" in path else {})
        assert response.status_code == 200, (path, response.text)
    for path in ("/v2/actions/testkit.noop/inputs/", "/v2/actions/testkit.noop/outputs/"):
        response = await acme.post(path, json={"data": {"inputs": {}}})
        assert response.status_code == 200, (path, response.text)
    await acme.with_scopes(path="/oauth/token/")
    missing = await acme.get("/v2/no-such-thing/")
    assert missing.status_code == 404 and missing.json()["errors"][0]["code"] == "not_found"


async def test_zapier_scope_names_are_granted_and_open_what_zapier_documents(
    service: Service,
) -> None:
    assert set(ZAPIER_SCOPE_NAMES) <= set(REQUESTABLE_SCOPES)
    every = await service.new_client("every", token_scopes=ZAPIER_SCOPE_NAMES)
    granted = jwt.decode(
        (await every.with_scopes(*ZAPIER_SCOPE_NAMES)).token, options={"verify_signature": False}
    )
    assert granted["scope"].split() == ZAPIER_SCOPE_NAMES

    readers = await every.with_scopes("connection:read")
    assert (await readers.get("/v2/authentications")).status_code == 200
    refused = await readers.post(
        "/v2/authentications", json={"data": {"app": "secretive", "authentication_fields": {}}}
    )
    assert refused.status_code == 403
    writers = await every.with_scopes("connection:write")
    created = await writers.post(
        "/v2/authentications",
        json={"data": {"app": "secretive", "title": "", "authentication_fields": {"api_key": "k"}}},
    )
    assert created.status_code == 201, created.text

    editors = await every.with_scopes("zap:write")
    fields = await editors.post("/v2/actions/testkit.noop/inputs", json={"data": {"inputs": {}}})
    tested = await editors.post("/v2/actions/testkit.noop/test", json={"data": {"inputs": {}}})
    assert fields.status_code == tested.status_code == 200, (fields.text, tested.text)
    assert (await editors.get("/v2/apps")).status_code == 403  # Zapier: zap

    harmless = await every.with_scopes("profile", "zap:runs", "zap:all")
    for path in ("/v2/apps", "/v2/authentications"):
        assert (await harmless.get(path)).status_code == 403


async def test_zapier_scopes_never_widen_what_a_client_may_do(service: Service) -> None:
    discovery = await service.new_client("discovery", scopes=["zap"])
    for scopes, status in [
        ("zap profile zap:all zap:runs external", 200),
        ("zap:write", 400),  # the step test runs actions: it needs action:run too
        ("connection:read", 400),
        ("connection:write", 400),
        ("zap:nonsense", 400),
    ]:
        response = await service.http.post(
            "/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": discovery.client_id,
                "client_secret": discovery.client_secret,
                "scope": scopes,
            },
        )
        assert response.status_code == status, (scopes, response.text)
        if status == 400:
            assert response.json()["error"] == "invalid_scope"
    assert set(ZAPIER_SCOPES) & {"zap:write", "connection:read", "connection:write"}


async def test_field_bodies_are_lenient_where_zapier_is(acme: ApiClient) -> None:
    url = "/v2/actions/testkit.noop"
    every = (await acme.post(f"{url}/inputs", json={"data": {"inputs": None}})).json()
    assert every["meta"]["limit"] is None and len(every["data"]) == 4
    paged = await acme.post(
        f"{url}/inputs", json={"data": {"inputs": {}, "limit": 2, "offset": 1, "x": 1}}
    )
    assert paged.status_code == 200, paged.text
    assert [field["id"] for field in paged.json()["data"]] == ["count", "color"]
    assert paged.json()["meta"] == {"count": 4, "limit": 2, "offset": 1}
    choices = await acme.post(
        f"{url}/inputs/color/choices",
        json={"data": {"authentication": None, "inputs": None, "limit": 10, "offset": 0}},
    )
    assert choices.status_code == 200, choices.text
    # The reference's own example sends "authentication": {} for none.
    example = await acme.post(
        f"{url}/inputs/color/choices", json={"data": {"authentication": {}, "inputs": {}}}
    )
    assert example.status_code == 200, example.text
    outputs = await acme.post(f"{url}/outputs", json={"data": {"inputs": None}})
    assert outputs.status_code == 200, outputs.text
    wrong = await acme.post(f"{url}/outputs", json={"data": {"authentication": {"id": 1}}})
    assert wrong.status_code == 400
    assert wrong.json()["errors"][0]["source"] == {"pointer": "/data/authentication"}
