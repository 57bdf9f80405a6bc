"""Every vendor description in ../shared/reference/vendors imports without an error, and every
action it makes builds a request (each field filled as its type asks) that the vendor's
stand-in answers: no crash anywhere in a few thousand real operations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx2
import pytest
from graphql import build_schema, parse, validate

from actionruns.openapi import import_description
from actionruns.openapi.importer import Report
from actionruns.sdk.described.runtime import build_app
from actionruns.sdk.errors import ActionError
from actionruns.sdk.fields import FieldType, InputField, validate_inputs
from tests.openapi.test_requests import vendor_context

VENDORS = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "vendors"
FILES = sorted(
    path
    for path in VENDORS.rglob("*")
    if path.suffix in (".json", ".yaml", ".yml", ".graphql") and path.is_file()
)
GRAPHQL = [path for path in FILES if path.suffix == ".graphql"]
_imported: dict[Path, Report] = {}

pytestmark = pytest.mark.skipif(
    not FILES, reason=f"no vendor descriptions at {VENDORS}: the shared reference folder is missing"
)


def imported(path: Path) -> Report:
    if path not in _imported:
        # A GraphQL schema does not say where its endpoint is.
        endpoint = "https://api.example.com/graphql" if path in GRAPHQL else None
        _imported[path] = import_description(path, base_url=endpoint)
    return _imported[path]


def _value(spec: InputField) -> Any:
    if spec.choices:
        value: Any = spec.choices[0].value
    elif spec.type in (FieldType.INTEGER, FieldType.NUMBER):
        value = 1
    elif spec.type is FieldType.BOOLEAN:
        value = True
    elif spec.type is FieldType.DATETIME:
        value = "2024-05-01T12:00:00Z"
    elif spec.type in (FieldType.DICT, FieldType.JSON):
        value = {"key": "value"}
    elif spec.type is FieldType.FILE:
        value = "data:text/plain;base64,aGk="
    else:
        value = "value-1"
    return [value] if spec.list else value


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(VENDORS)) for p in FILES])
def test_the_description_imports(path: Path) -> None:
    report = imported(path)
    manifest = report.manifest
    assert len(manifest.actions) >= 50, report.skipped
    assert manifest.base_url.startswith("http")
    app = build_app(manifest)
    assert len(app.actions) == len(manifest.actions)


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(VENDORS)) for p in FILES])
async def test_every_action_sends_a_request(path: Path) -> None:
    manifest = imported(path).manifest
    app = build_app(manifest)
    credentials = {spec.key: "cred-value" for spec in app.auth.fields}
    credentials.update(access_token="token-value", site="acme", domain="acme")
    sent: list[httpx2.Request] = []

    def vendor(request: httpx2.Request) -> httpx2.Response:
        sent.append(request)
        return httpx2.Response(200, json={"ok": True})

    failures = []
    async with vendor_context(app, vendor, credentials) as ctx:
        for action in app.actions:
            fields = action.static_inputs
            inputs = {spec.key: _value(spec) for spec in fields}
            try:
                await action.perform(ctx, validate_inputs(fields, inputs))
            except ActionError as exc:
                failures.append(f"{action.key}: {exc}")
    assert failures == []
    assert len(sent) == len(app.actions)


@pytest.mark.parametrize("path", GRAPHQL, ids=[str(p.relative_to(VENDORS)) for p in GRAPHQL])
def test_every_graphql_document_is_valid_against_the_schema(path: Path) -> None:
    schema = build_schema(path.read_text(), assume_valid=True)
    invalid = {}
    for operation in imported(path).manifest.actions:
        document = next(b.value for b in operation.http.bindings if b.path == ("query",))
        errors = validate(schema, parse(document))
        if errors:
            invalid[operation.key] = [error.message for error in errors[:2]]
    assert invalid == {}
