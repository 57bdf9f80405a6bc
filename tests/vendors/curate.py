"""Tools for curated apps (``src/actionruns/connectors/curated/<key>/``).

    python -m tests.vendors.curate app KEY...      remake app.json from the vendor's file
    python -m tests.vendors.curate record KEY...   fill fixtures.json's requests and outcomes

``app`` imports the vendor's own description (``CURATED`` in ``tests/vendors/descriptions``
says where it is published; the file is read as the vendor checks read it) with the app's
overlay, exactly as ``actionruns apps import --overlay --output`` does.

``record`` runs every case of ``fixtures.json`` against the responses written there (taken
from the vendor's documented examples) and writes down the requests the app sent and what
the action returned or raised. The author writes each case's inputs and responses; the
suite then checks every recorded request against the vendor's description with openapi-core
(``tests/connectors/test_vendor_specs.py``), and replays each case so a change in what the
app sends shows as a failing test.
"""

from __future__ import annotations

import asyncio
import json
import sys
from base64 import b64decode
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qs

import httpx2

from actionruns.connectors.curated import HERE, curated
from actionruns.openapi import import_description, load_overlay
from actionruns.sdk.app import App, normalize_results
from actionruns.sdk.client_credentials import forget_tokens
from actionruns.sdk.context import open_context
from actionruns.sdk.errors import ActionError
from actionruns.sdk.fields import FieldErrors
from actionruns.sdk.fixtures import is_json_media, multipart_parts, perform_with_fields
from actionruns.sdk.outbound import OutboundGuard
from tests.vendors.descriptions import CURATED, vendor_file

# Headers worth recording: where credentials and fixed values go.
_ALWAYS = ("authorization", "content-type")
# Content types the body's record says already (``json``, ``form``).
_PLAIN = ("application/json", "application/x-www-form-urlencoded", "multipart/form-data", "")


def make_app(key: str) -> None:
    path = vendor_file(CURATED[key])
    if path is None:
        raise SystemExit(f"{key}: the vendor's description is not on this machine")
    folder = HERE / key
    overlay, data = load_overlay(folder / "overlay.yaml")
    report = import_description(path, overlay=overlay, overlay_bytes=data)
    (folder / "app.json").write_text(report.manifest.to_file())
    print(f"{key}: {len(report.manifest.actions)} actions", *report.warnings, sep="\n  ")


class _Answering(httpx2.AsyncBaseTransport):
    def __init__(self, responses: Sequence[Mapping[str, Any]], record: Sequence[str]) -> None:
        self.responses = list(responses)
        self.record = {name.lower() for name in record}
        self.exchanges: list[dict[str, Any]] = []

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        await request.aread()
        if not self.responses:
            raise AssertionError(f"no response written for {request.method} {request.url}")
        answer = self.responses.pop(0)
        written: dict[str, Any] = {
            "method": request.method,
            "url": str(request.url.copy_with(query=None)),
        }
        query = parse_qs(request.url.query.decode(), keep_blank_values=True)
        if query:
            written["query"] = {k: v[0] if len(v) == 1 else v for k, v in query.items()}
        headers = {
            name: value
            for name, value in request.headers.items()
            if name.lower() in self.record or name.lower() in _ALWAYS
        }
        content_type = request.headers.get("content-type", "").split(";")[0].strip()
        if content_type in _PLAIN:  # a JSON body of a kind of its own is worth recording
            headers.pop("content-type", None)
        if headers:
            written["headers"] = headers
        if request.content and is_json_media(content_type):
            written["json"] = json.loads(request.content)
        elif request.content and content_type.startswith("application/x-www-form-urlencoded"):
            form = parse_qs(request.content.decode(), keep_blank_values=True)
            written["form"] = {k: v[0] if len(v) == 1 else v for k, v in form.items()}
        elif request.content and content_type.startswith("multipart/form-data"):
            written["multipart"] = multipart_parts(request.headers["content-type"], request.content)
        self.exchanges.append({"request": written, "response": dict(answer)})
        body = answer.get("json")
        status = int(answer.get("status", 200))
        answer_headers = dict(answer.get("headers", {}))
        if body is not None:
            return httpx2.Response(status, headers=answer_headers, json=body)
        if "base64" in answer:  # a file
            return httpx2.Response(
                status, headers=answer_headers, content=b64decode(answer["base64"])
            )
        return httpx2.Response(status, headers=answer_headers, text=answer.get("text", ""))


def _recorded_headers(app: App) -> list[str]:
    manifest = json.loads((HERE / app.key / "app.json").read_text())
    names = [p["name"] for p in manifest.get("auth", {}).get("placements", [])]
    for operation in manifest.get("operations", []):
        request = operation.get("request", {})
        names += list(request.get("headers", {}))
        names += [b["name"] for b in request.get("bindings", []) if b["location"] == "header"]
    return names


async def _run(
    app: App, credentials: Mapping[str, Any], case: dict[str, Any], record: Sequence[str]
) -> None:
    transport = _Answering([e["response"] for e in case.get("exchanges", [])], record)
    forget_tokens()  # as a replay does: each case records its own token request
    async with open_context(
        app.auth, credentials, OutboundGuard(), app_key=app.key, transport=transport
    ) as ctx:
        try:
            if case.get("choices_for"):
                action = app.action(case["action"])
                assert action is not None, case["action"]
                spec = next(f for f in action.static_inputs if f.key == case["choices_for"])
                assert spec.dynamic_choices is not None
                page = await spec.dynamic_choices(ctx, case.get("inputs", {}), case.get("page", 0))
                outcome: Any = {
                    "choices": [[c.value, c.label or c.value] for c in page.choices],
                    "has_more": page.has_more,
                }
                case["result"] = outcome
            else:
                action = app.action(case["action"])
                assert action is not None, case["action"]
                result = await perform_with_fields(action, ctx, case.get("inputs", {}))
                case["result"] = normalize_results(result)
                case.pop("error", None)
        except (ActionError, FieldErrors) as exc:
            case.pop("result", None)
            contains = case.get("error", {}).get("contains") or str(exc)[:80]
            case["error"] = {"class": type(exc).__name__, "contains": contains}
    case["exchanges"] = transport.exchanges


async def _test(
    app: App, credentials: Mapping[str, Any], test: dict[str, Any], record: Sequence[str]
) -> None:
    transport = _Answering([e["response"] for e in test.get("exchanges", [])], record)
    forget_tokens()
    assert app.test is not None
    async with open_context(
        app.auth, credentials, OutboundGuard(), app_key=app.key, transport=transport
    ) as ctx:
        test["label"] = await app.test(ctx)
    test["exchanges"] = transport.exchanges


def record(key: str) -> None:
    app = curated(key)
    path = HERE / key / "fixtures.json"
    document = json.loads(path.read_text())
    credentials = document["credentials"]
    headers = _recorded_headers(app)
    if app.test is not None:
        asyncio.run(_test(app, credentials, document.setdefault("connection_test", {}), headers))
    for case in document["cases"]:
        asyncio.run(_run(app, credentials, case, headers))
    path.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n")
    print(f"{key}: {len(document['cases'])} cases recorded")


def main(arguments: Sequence[str]) -> None:
    command, *keys = arguments
    for key in keys:
        {"app": make_app, "record": record}[command](key)


if __name__ == "__main__":
    main(sys.argv[1:])
