"""A battery of hostile requests against a running service, on SQLite and on PostgreSQL: huge
and deep bodies, invalid UTF-8, wrong content types, thousands of keys, huge and negative
numbers in every numeric parameter, unicode and control characters in every header the API
reads. None may answer 5xx; each refusal is a 4xx in the API's error shape."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx2
import pytest

from tests.conftest import ApiClient, ServiceFactory

JSON = {"Content-Type": "application/json"}
# Every operation that reads a JSON body, with a body it would accept.
JSON_BODIES: list[tuple[str, str, dict[str, Any]]] = [
    ("POST", "/v2/action-runs", {"data": {"action": "testkit.noop", "inputs": {}}}),
    ("POST", "/v2/actions/testkit.noop/inputs", {"data": {"inputs": {}}}),
    ("POST", "/v2/actions/testkit.noop/inputs/size/choices", {"data": {"inputs": {}}}),
    ("POST", "/v2/actions/testkit.noop/outputs", {"data": {"inputs": {}}}),
    ("POST", "/v2/actions/testkit.noop/test", {"data": {"inputs": {}}}),
    ("POST", "/v2/authentications", {"data": {"app": "secretive", "authentication_fields": {}}}),
    ("POST", "/v2/connect-tokens", {"data": {"app": "secretive", "redirect_uri": "x"}}),
    ("PUT", "/v2/authentication-events/subscription", {"data": {"url": "https://x.example"}}),
]
# Every numeric query parameter, on an operation that reads it.
NUMERIC_PARAMETERS = [
    ("/v2/apps", "limit"),
    ("/v2/apps", "offset"),
    ("/v2/actions?app=testkit", "limit"),
    ("/v2/actions?app=testkit", "offset"),
    ("/v2/authentications", "limit"),
    ("/v2/authentications", "offset"),
    ("/v2/action-runs/00000000-0000-0000-0000-000000000000", "wait_seconds"),
    ("/v2/apps/testkit/icon.svg", "size"),
]
HUGE_NUMBERS = [
    "-1",
    "-9223372036854775809",
    "9223372036854775808",
    "1e308",
    "1e400",
    "-0",
    "NaN",
    "Infinity",
    "0x10",
    "1" * 5000,
    "",
    " 1",
    "1.5",
]
CONTENT_TYPES = [
    "text/plain",
    "application/xml",
    "multipart/form-data",
    "application/x-www-form-urlencoded",
    "application/json; charset=latin-1",
]
HEADER_VALUES = ["é", "日本", "\U0001f600", "a" * 8000, "a\tb", "null", "\\u0000", "%00"]


def _bodies() -> Iterator[tuple[str, str, bytes, dict[str, str]]]:
    """(what, path and method, body, headers) for every hostile body."""
    deep = b'{"data": {"inputs": {"a": ' + b"[" * 1000 + b"]" * 1000 + b"}}}"
    many_keys = (
        b'{"data": {"inputs": {'
        + b",".join(b'"k%d": %d' % (index, index) for index in range(10_000))
        + b"}}}"
    )
    for method, path, _valid in JSON_BODIES:
        where = f"{method} {path}"
        yield "10 MB body", where, b'{"data": "' + b"x" * 10_000_000 + b'"}', JSON
        yield "1,000-deep JSON", where, deep, JSON
        yield "10,000 input keys", where, many_keys, JSON
        yield "invalid UTF-8", where, b'{"data": {"inputs": {"a": "\xff\xfe\xc3\x28"}}}', JSON
        yield "a lone surrogate", where, b'{"data": {"inputs": {"a": "\\udc80"}}}', JSON
        yield (
            "a 5,000-digit number",
            where,
            b'{"data": {"inputs": {"a": ' + b"9" * 5000 + b"}}}",
            JSON,
        )
        yield "not JSON", where, b"{'data': }", JSON
        yield "empty", where, b"", JSON
        yield "JSON null", where, b"null", JSON
        yield "a JSON array", where, b"[]", JSON
        for content_type in (
            "text/plain",
            "application/xml",
            "multipart/form-data",
            "application/x-www-form-urlencoded",
            "application/json; charset=latin-1",
        ):
            yield (
                f"Content-Type {content_type}",
                where,
                b'{"data": {}}',
                {"Content-Type": content_type},
            )
        yield "no Content-Type", where, b'{"data": {}}', {}


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def test_no_hostile_request_gets_a_server_error(
    start_service: ServiceFactory, backend: str
) -> None:
    service = await start_service(workers=False, rate_limit_per_minute=1_000_000)
    acme: ApiClient = await service.new_client("acme")
    tried: list[tuple[str, int]] = []

    async def send(what: str, method: str, path: str, **request: Any) -> httpx2.Response:
        merged: dict[str, str | bytes] = {**acme.headers, **request.pop("headers", {})}
        headers = [
            (name.encode(), value if isinstance(value, bytes) else value.encode())
            for name, value in merged.items()
        ]
        response = await service.http.request(method, path, headers=headers, **request)
        tried.append((f"{what}: {method} {path}", response.status_code))
        if response.status_code >= 400 and response.headers.get("content-type", "").startswith(
            "application/json"
        ):
            assert "errors" in response.json(), (what, path, response.text[:300])
        return response

    for what, where, body, headers in _bodies():
        method, path = where.split(" ", 1)
        await send(what, method, path, content=body, headers=headers)
    for path, name in NUMERIC_PARAMETERS:
        separator = "&" if "?" in path else "?"
        for value in HUGE_NUMBERS:
            await send(f"{name}={value[:20]}", "GET", f"{path}{separator}{name}={value}")
    for value in ("-1", "99999999999999999999", "1e400", "NaN"):
        await send(
            f"page={value}",
            "POST",
            f"/v2/actions/testkit.noop/inputs/size/choices?page={value}",
            json={"data": {}},
        )
        for field in ("limit", "offset"):
            await send(
                f"data.{field}={value}",
                "POST",
                "/v2/actions/testkit.noop/test",
                content=f'{{"data": {{"{field}": {value}}}}}'.encode(),
                headers=JSON,
            )
    for name in (
        "Authorization",
        "X-End-User",
        "Idempotency-Key",
        "Content-Type",
        "Accept",
        "X-Forwarded-For",
    ):
        for value in HEADER_VALUES:
            raw = value.encode("utf-8")  # sent as UTF-8 bytes, as a client would
            hostile = {name: b"Bearer " + raw if name == "Authorization" else raw}
            await send(
                f"{name}: {value[:10]!r}",
                "POST",
                "/v2/action-runs",
                json={"data": {"action": "testkit.noop", "inputs": {}}},
                headers=hostile,
            )
            await send(f"{name}: {value[:10]!r}", "GET", "/v2/authentications", headers=hostile)
    server_errors = [entry for entry in tried if entry[1] >= 500]
    print(f"\nhostile inputs on {backend}: {len(tried)} tried, {len(server_errors)} answered 5xx")
    assert server_errors == []
    assert len(tried) > 300
