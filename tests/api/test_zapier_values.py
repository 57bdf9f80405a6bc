"""Discovery and values as Zapier's API gives them: public discovery by client_id, every
action type as a filter, connect links, and values typed and spelled as Zapier sends them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, get_args

from actionruns.api.routes.apps import ZapierActionType
from actionruns.sdk import Action, App, Auth, Context, FieldType, InputField, OutputField
from tests.conftest import ApiClient, Service, ServiceFactory

ZAPIER_ACTION_TYPES = get_args(ZapierActionType)


async def _commit(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    return {"commit": {"message": "Git 2.0"}, "verified": inputs.get("verified")}


shapes = App(
    key="shapes",
    title="Shapes",
    description="Values of every type, for their spelling on the wire.",
    auth=Auth.none(),
    hex_color="#8bcbca",
    actions=[
        Action(
            "commit",
            "Commit",
            "Returns a nested record.",
            _commit,
            inputs=[
                InputField("verified", "Verified", FieldType.BOOLEAN, default=False, help_text="b"),
                InputField("draft", "Draft", FieldType.BOOLEAN, default=True, help_text="b"),
                InputField("tries", "Tries", FieldType.INTEGER, default=3, help_text="n"),
                InputField("tags", "Tags", FieldType.DICT, default={"a": 1}, help_text="d"),
            ],
            outputs=[
                OutputField("commit.message", "Commit Message", sample="Git 2.0"),
                OutputField("verified", "Verified", FieldType.BOOLEAN, sample=False),
                OutputField("size", "Size", FieldType.INTEGER, sample=12),
                OutputField("note", "Note"),
            ],
        )
    ],
)


async def test_apps_and_actions_are_public_with_a_client_id(service: Service) -> None:
    acme = await service.new_client("acme")
    public = service.http
    apps = await public.get("/v2/apps", params={"client_id": acme.client_id, "limit": 100})
    assert apps.status_code == 200, apps.text
    assert {"testkit", "secretive"} <= {app["slug"] for app in apps.json()["data"]}
    actions = await public.get(
        "/v2/actions", params={"client_id": acme.client_id, "app": "testkit"}
    )
    assert actions.status_code == 200 and actions.json()["data"], actions.text

    for params in ({"client_id": "cl_nobody"}, {}):
        refused = await public.get("/v2/apps", params=params)
        assert refused.status_code == 401, (params, refused.text)
    # A NUL in any query parameter is refused before any route reads it.
    assert (await public.get("/v2/apps", params={"client_id": "x\x00"})).status_code == 400
    # Only discovery is public: anything else still wants a token.
    for path in ("/v2/authentications", "/v2/action-runs/x"):
        refused = await public.get(path, params={"client_id": acme.client_id})
        assert refused.status_code == 401, path
    fields = await public.post(
        "/v2/actions/testkit.noop/inputs",
        params={"client_id": acme.client_id},
        json={"data": {"inputs": {}}},
    )
    assert fields.status_code == 401
    # An Authorization header is used instead, as in Zapier's API: a bad one is refused.
    bearer = await public.get(
        "/v2/apps",
        params={"client_id": acme.client_id},
        headers={"Authorization": "Bearer not-a-token"},
    )
    assert bearer.status_code == 401


async def test_public_discovery_keeps_to_the_clients_allowlist(service: Service) -> None:
    limited = await service.new_client("limited")
    await service.engine.clients.allow_apps(limited.client_id, ["secretive"])
    apps = await service.http.get("/v2/apps", params={"client_id": limited.client_id})
    assert [app["slug"] for app in apps.json()["data"]] == ["secretive"]
    other = await service.http.get(
        "/v2/actions", params={"client_id": limited.client_id, "app": "testkit"}
    )
    assert other.status_code == 403


async def test_every_action_type_of_the_reference_is_a_filter(acme: ApiClient) -> None:
    for action_type in ZAPIER_ACTION_TYPES:
        response = await acme.get(
            "/v2/actions", params={"app": "testkit", "action_type": action_type}
        )
        assert response.status_code == 200, (action_type, response.text)
        assert all(action["action_type"] == action_type for action in response.json()["data"])
    bulk = await acme.get("/v2/actions", params={"app": "testkit", "action_type": "READ_BULK"})
    assert bulk.json()["data"] == [] and bulk.json()["meta"]["count"] == 0


async def test_apps_that_need_credentials_link_to_where_a_connection_starts(
    service: Service, acme: ApiClient
) -> None:
    apps = (await acme.get("/v2/apps", params={"limit": 100})).json()["data"]
    by_slug = {app["slug"]: app for app in apps}
    assert by_slug["testkit"]["links"]["connect_new_authentication"] is None
    needing = [app for app in apps if app["auth_type"] != "none"]
    assert len(needing) >= 30
    for app in needing:
        link = app["links"]["connect_new_authentication"]
        assert link == f"{service.base_url}/connect/{app['slug']}", app["slug"]
    page = await service.http.get(by_slug["secretive"]["links"]["connect_new_authentication"])
    assert page.status_code == 400 and "connect token" in page.text
    assert all("#" not in app["hex_color"] for app in apps)


async def test_values_are_spelled_and_typed_as_zapier_sends_them(
    start_service: ServiceFactory,
) -> None:
    service = await start_service(apps=[shapes])
    acme = await service.new_client("acme")
    app = next(
        app
        for app in (await acme.get("/v2/apps", params={"limit": 100})).json()["data"]
        if app["slug"] == "shapes"
    )
    assert app["hex_color"] == "8bcbca"
    fields = (
        await acme.post("/v2/actions/shapes.commit/inputs", json={"data": {"inputs": {}}})
    ).json()["data"]
    defaults = {field["id"]: field["default_value"] for field in fields}
    assert defaults == {"verified": "false", "draft": "true", "tries": "3", "tags": '{"a":1}'}
    outputs = (
        await acme.post("/v2/actions/shapes.commit/outputs", json={"data": {"inputs": {}}})
    ).json()["data"]
    assert [(field["id"], field.get("sample")) for field in outputs] == [
        ("commit__message", "Git 2.0"),
        ("verified", "false"),
        ("size", "12"),
        ("note", None),
    ]
    assert "sample" not in outputs[3]

    run_id = await acme.run("shapes.commit")
    run = await acme.wait(run_id)
    assert run["run_id"] == run["id"] == run_id

    failed = await acme.wait(
        await acme.run("testkit.flaky", {"key": "once", "failures": 9, "mode": "halt"})
    )
    assert [error["delay"] for error in failed["errors"]] == [0]

    first = (await acme.get("/v2/apps", params={"limit": 1})).json()["links"]
    second = (await acme.get("/v2/apps", params={"limit": 1, "offset": 1})).json()["links"]
    assert first["previous"] is None and first["prev"] is None
    assert second["previous"] == second["prev"] and "offset=0" in second["previous"]
