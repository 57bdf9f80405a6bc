"""The OpenAPI document tells the truth: every operation documents the body of each success
and each error (in the API's error shape, never FastAPI's 422), the headers, and the scopes
it takes, which the service enforces as written. (Every answer the tests' services give is
checked against it: tests/conftest.py's ``documented_answers``.)"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import ApiClient, Service, published_document

ERROR_SHAPE = {"$ref": "#/components/schemas/ErrorResponse"}


def operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in published_document()["paths"].items()
        for method, operation in item.items()
    ]


def test_every_answer_of_every_operation_has_its_schema() -> None:
    document = published_document()
    assert "HTTPValidationError" not in document["components"]["schemas"]
    for method, path, operation in operations():
        where = f"{method} {path}"
        responses = operation["responses"]
        assert "422" not in responses, where
        for status, response in responses.items():
            if status == "204":
                assert "content" not in response, where
                continue
            ((media_type, content),) = response["content"].items()
            schema = content["schema"]
            assert schema and schema != {"type": "object"}, (where, status)
            if status.startswith(("4", "5")) and path != "/readyz":
                assert media_type == "application/json" and schema == ERROR_SHAPE, where
        assert {"400", "413"} <= set(responses), where


def test_answers_carry_the_headers_the_document_names() -> None:
    answers = {(method, path): operation["responses"] for method, path, operation in operations()}
    created = answers[("post", "/v2/action-runs")]["200"]["headers"]
    assert {"Location", "Idempotent-Replayed", "X-RateLimit-Remaining"} <= set(created)
    assert "Retry-After" in answers[("get", "/v2/action-runs/{run_id}")]["202"]["headers"]
    throttled = answers[("get", "/v2/apps")]["429"]["headers"]
    assert all(throttled[name]["required"] for name in ("Retry-After", "X-RateLimit-Reset"))
    assert "Retry-After" in answers[("post", "/oauth/token")]["429"]["headers"]
    assert "WWW-Authenticate" in answers[("get", "/v2/authentications")]["401"]["headers"]


def test_schemas_carry_examples() -> None:
    schemas = published_document()["components"]["schemas"]
    for name in ("App", "Action", "Run", "RunCreated", "AccessToken", "ErrorResponse"):
        assert schemas[name]["examples"], name


def _secured() -> list[tuple[str, str, list[str]]]:
    return [
        (
            method,
            path,
            [scope for requirement in security for scope in requirement.get("OAuth2", [])],
        )
        for method, path, operation in operations()
        if (security := operation.get("security"))
    ]


@pytest.mark.parametrize("scope", ["action:run", "authentication", "authentication:write", "zap"])
async def test_each_operation_takes_exactly_the_scopes_it_documents(
    service: Service, acme: ApiClient, scope: str
) -> None:
    """A token with only ``scope`` is let through (then refused for its empty body or unknown
    ids, never 403) by every operation that lists it, and refused with 403 by the rest."""
    holder = await acme.with_scopes(scope)
    for method, path, scopes in _secured():
        url = path.format(action_id="core:nothing", input_id="x", authentication_id="a", run_id="r")
        sends_body = method in ("post", "put")
        answer = await service.http.request(
            method.upper(), url, headers=holder.headers, json={} if sends_body else None
        )
        if scope in scopes:
            assert answer.status_code != 403, (method, path, answer.text)
        else:
            assert answer.status_code == 403, (method, path, answer.text)
