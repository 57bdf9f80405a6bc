"""A Zapier partner against actionruns: every endpoint of Zapier's description
(../shared/reference/zapier-partner-api.actions.yml) called as its guides and reference call
it, with the base URL changed and nothing else, and every answer checked by openapi-core
against the description's schemas.

Where the description contradicts itself, the check follows what Zapier's examples, guides
and API say, and ``zapier_description`` names each place:

- ``GET /v2/apps``, ``GET /v2/actions`` and ``POST .../choices`` declare their answer an
  array of the object they return; they return that object (``{links, meta, data}``), as
  the guides show and as the reference's schema for it (``ExpandedAppsResponse``...) is.
- ``Action.action_type`` points at ``ActionTypeEnum`` (``action`` only), while its own
  description and ``GET /v2/actions``'s ``action_type`` filter list READ, WRITE, SEARCH...:
  those are the values.
- ``InputField`` requires ``format``, whose enum has no null, while its own example has a
  field without one: a plain field has none.
- A run's ``status``: the reference lists ``success``, ``error``, ``waiting``, the guides
  ``queued``, ``running``, ``success``, ``error``; actionruns follows the guides (a difference
  on purpose, docs/zapier-compatibility.md).
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

import httpx2
import pytest
import yaml
from openapi_core import OpenAPI

from tests.conftest import ApiClient, Service
from tests.openapi_messages import HttpxOpenAPIRequest, HttpxOpenAPIResponse

DESCRIPTION = (
    Path(__file__).resolve().parents[2].parent / "shared/reference/zapier-partner-api.actions.yml"
)
pytestmark = pytest.mark.skipif(
    not DESCRIPTION.exists(), reason=f"Zapier's description is not at {DESCRIPTION}"
)


@functools.cache
def _reference() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(DESCRIPTION.read_text())
    return loaded


def action_types() -> list[str]:
    """The action types the description lists (its GET /v2/actions filter)."""
    parameters = _reference()["paths"]["/v2/actions"]["get"]["parameters"]
    enum: list[str] = next(p for p in parameters if p["name"] == "action_type")["schema"]["enum"]
    return enum


def zapier_description(base_url: str) -> OpenAPI:
    """Zapier's description with the base URL changed and its contradictions settled."""
    spec = copy.deepcopy(_reference())
    spec["servers"] = [{"url": base_url}]
    paths, schemas = spec["paths"], spec["components"]["schemas"]
    for path, method in [
        ("/v2/apps", "get"),
        ("/v2/actions", "get"),
        ("/v2/actions/{action_id}/inputs/{input_id}/choices", "post"),
    ]:
        content = paths[path][method]["responses"]["200"]["content"]["application/json"]
        assert content["schema"]["type"] == "array"
        content["schema"] = content["schema"]["items"]
    schemas["Action"]["properties"]["action_type"] = {"type": "string", "enum": action_types()}
    schemas["InputField"]["required"].remove("format")
    schemas["_ActionRunResponseStatusEnum"]["enum"] += ["queued", "running"]
    return OpenAPI.from_dict(spec)


class Partner:
    """A client written for Zapier: it checks every answer against the description."""

    def __init__(self, service: Service, token: str | None) -> None:
        self.service = service
        self.token = token
        self.description = zapier_description(service.base_url)
        self.checked: set[tuple[str, str, int]] = set()

    async def call(self, method: str, path: str, **kwargs: Any) -> httpx2.Response:
        headers = dict(kwargs.pop("headers", {}))
        if self.token is not None:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        response = await self.service.http.request(method, path, headers=headers, **kwargs)
        self.check(response)
        return response

    def check(self, response: httpx2.Response) -> None:
        """The answer against the operation's declared response for its status; an answer
        the description declares no response for must still be in its error shape."""
        path = response.request.url.path.rstrip("/") or "/"
        template = self._template(path)
        assert template is not None, f"{path} is not in Zapier's description"
        operation = self.description.spec / "paths" / template / response.request.method.lower()
        declared = str(response.status_code) in (operation / "responses")
        if declared:
            self.description.validate_response(
                HttpxOpenAPIRequest(response.request, path=path), HttpxOpenAPIResponse(response)
            )
        else:
            errors = response.json()["errors"]
            assert errors and all({"status", "code", "title", "detail"} <= set(e) for e in errors)
        self.checked.add((response.request.method, template, response.status_code))

    def _template(self, path: str) -> str | None:
        template: str
        for template in _reference()["paths"]:
            parts, wanted = template.split("/"), path.split("/")
            if len(parts) == len(wanted) and all(
                p == w or p.startswith("{") for p, w in zip(parts, wanted, strict=True)
            ):
                return template
        return None


async def test_a_zapier_partner_finds_every_answer_as_the_description_says(
    service: Service, acme: ApiClient
) -> None:
    partner = Partner(service, acme.token)
    apps = (await partner.call("GET", "/v2/apps", params={"limit": 5})).json()
    assert apps["meta"]["count"] >= 30 and apps["links"]["next"]
    await partner.call("GET", "/v2/apps/", params={"query": "slack", "offset": 0})
    await partner.call("GET", "/v2/apps", params={"ids": "testkit,secretive"})
    public = Partner(service, None)
    await public.call("GET", "/v2/apps", params={"client_id": acme.client_id})
    await public.call("GET", "/v2/actions", params={"client_id": acme.client_id, "app": "slack"})

    for action_type in action_types():
        await partner.call(
            "GET", "/v2/actions", params={"app": "testkit", "action_type": action_type}
        )
    actions = (await partner.call("GET", "/v2/actions/", params={"app": "testkit"})).json()["data"]
    noop = next(action["id"] for action in actions if action["key"] == "noop")

    # As the reference's examples send them.
    fields = await partner.call(
        "POST",
        f"/v2/actions/{noop}/inputs",
        json={"data": {"authentication": None, "inputs": {"value": "x"}}},
    )
    assert {field["id"] for field in fields.json()["data"]} >= {"value", "color"}
    await partner.call(
        "POST",
        f"/v2/actions/{noop}/inputs/color/choices",
        params={"page": "1"},
        json={"data": {"authentication": {}, "inputs": {}}},
    )
    await partner.call(
        "POST",
        f"/v2/actions/{noop}/outputs",
        json={"data": {"authentication": None, "inputs": {}, "fetch_live_samples": False}},
    )
    await partner.call(
        "POST",
        f"/v2/actions/{noop}/test/",
        json={"data": {"limit": 10, "offset": 0, "authentication": None, "inputs": {}}},
    )

    created = await partner.call(
        "POST",
        "/v2/authentications",
        json={
            "data": {
                "title": "My new auth",
                "app": "secretive",
                "authentication_fields": {"api_key": "example_E4CrHVvRuxTXrPFLyyZFeRJwJcx2ELQZ"},
            }
        },
    )
    assert created.status_code == 201
    authentication = created.json()["data"][0]["id"]
    listed = await partner.call("GET", "/v2/authentications", params={"app": "secretive"})
    assert [item["id"] for item in listed.json()["data"]] == [authentication]

    # The reference's wrapped body, then the guides' unwrapped one with a trailing slash.
    wrapped = await partner.call(
        "POST",
        "/v2/action-runs",
        json={"data": {"action": noop, "authentication": None, "inputs": {"value": "a"}}},
    )
    unwrapped = await partner.call(
        "POST",
        "/v2/action-runs/",
        json={"action": "secretive.echo", "authentication": authentication, "input": {}},
    )
    for created_run in (wrapped, unwrapped):
        run_id = created_run.json()["data"]["id"]
        run = await partner.call("GET", f"/v2/action-runs/{run_id}/", params={"wait_seconds": 20})
        assert run.json()["data"]["status"] in ("success", "error")
        assert run.json()["data"]["run_id"] == run_id

    # Errors, in the shape the description gives them.
    bad = await partner.call(
        "POST", "/v2/action-runs", json={"data": {"action": noop, "inputs": 3}}
    )
    assert bad.status_code == 400 and bad.json()["errors"][0]["code"] == "invalid"
    malformed = await partner.call(
        "POST", "/v2/action-runs", content=b"{", headers={"Content-Type": "application/json"}
    )
    assert malformed.status_code == 400 and malformed.json()["errors"][0]["code"] == "parse_error"
    unauthorized = await Partner(service, "nope").call("GET", "/v2/authentications")
    assert unauthorized.status_code == 401
    missing = await partner.call("GET", "/v2/action-runs/00000000-0000-4000-8000-000000000000")
    assert missing.status_code == 404

    every_operation = {
        (method.upper(), path)
        for path, item in _reference()["paths"].items()
        for method in item
        if method in ("get", "post")
    }
    called = {(method, path) for method, path, _ in partner.checked | public.checked}
    assert every_operation <= called, every_operation - called


async def test_zapier_scope_names_open_what_the_description_says_they_do(
    service: Service,
) -> None:
    """Each operation with the scope its description names, and nothing else."""
    client = await service.new_client("scoped")
    needs = {
        ("GET", "/v2/apps"): "zap",
        ("POST", "/v2/actions/testkit.noop/inputs"): "zap:write",
        ("POST", "/v2/actions/testkit.noop/outputs"): "zap:write",
        ("POST", "/v2/actions/testkit.noop/inputs/color/choices"): "zap",
        ("POST", "/v2/actions/testkit.noop/test"): "zap:write",
        ("GET", "/v2/authentications"): "connection:read",
        ("POST", "/v2/action-runs"): "action:run",
    }
    for (method, path), scope in needs.items():
        allowed_client = await client.with_scopes(scope, path="/oauth/token/")
        body: dict[str, Any] = (
            {"data": {"action": "testkit.noop", "authentication": None, "inputs": {}}}
            if path == "/v2/action-runs"
            else {"data": {"authentication": None, "inputs": {}}}
        )
        kwargs: dict[str, Any] = {"json": body} if method == "POST" else {}
        allowed = await Partner(service, allowed_client.token).call(method, path, **kwargs)
        assert allowed.status_code == 200, (scope, path, allowed.text)
        refused_client = await client.with_scopes("profile")
        refused = await Partner(service, refused_client.token).call(method, path, **kwargs)
        assert refused.status_code == 403, path
