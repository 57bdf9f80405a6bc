"""Webhooks: send any HTTP request and get back its status, headers and parsed body."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote_plus, urlencode

import httpx2

from actionruns.sdk import (
    Action,
    ActionType,
    App,
    Auth,
    Choice,
    Context,
    FieldType,
    HaltError,
    InputField,
    OutputField,
)
from actionruns.sdk.http import raise_for_status

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
BODY_TYPES = ("json", "form", "raw")
MAX_RESPONSE_BYTES = 1024 * 1024
# RFC 9110 token characters for header names; values may not break the header line.
_HEADER_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")


def _url(raw: str) -> httpx2.URL:
    try:
        url = httpx2.URL(raw.strip())
    except httpx2.InvalidURL as exc:
        raise HaltError(f"The URL is not valid: {exc}") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise HaltError("The URL must start with http:// or https:// and name a host.")
    return url


def _headers(raw: Mapping[str, Any]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in raw.items():
        text = "" if value is None else str(value)
        if not _HEADER_NAME.match(name):
            raise HaltError(f"{name!r} is not a valid header name.")
        if "\r" in text or "\n" in text:
            raise HaltError(f"The value of header {name!r} may not contain line breaks.")
        headers[name] = text
    return headers


def _query(raw: Mapping[str, Any]) -> dict[str, str | list[str]]:
    return {
        key: [str(item) for item in value] if isinstance(value, list) else str(value)
        for key, value in raw.items()
    }


def _with_query(url: httpx2.URL, query: Mapping[str, str | list[str]]) -> httpx2.URL:
    """``url`` with ``query`` added to its query string (passed to httpx as ``params`` it
    would replace it). The URL's own parameters stay byte for byte as given, less those
    that ``query`` sets."""
    if not query:
        return url
    kept = [
        part
        for part in url.query.decode("ascii").split("&")
        if part and unquote_plus(part.partition("=")[0]) not in query
    ]
    return url.copy_with(query="&".join([*kept, urlencode(query, doseq=True)]).encode("ascii"))


def _body(body_type: str, body: Any) -> dict[str, Any]:
    """The keyword arguments httpx needs to send ``body`` as ``body_type``."""
    if body is None:
        return {}
    if body_type == "json":
        return {"json": body}
    if body_type == "form":
        if not isinstance(body, Mapping):
            raise HaltError("A form body must be an object of field names and values.")
        return {"data": {key: str(value) for key, value in body.items()}}
    if isinstance(body, str):
        return {"content": body.encode()}
    return {"content": json.dumps(body).encode()}


def _parse(response: httpx2.Response) -> Any:
    if not response.content:
        return None
    text = response.text
    if "json" in response.headers.get("content-type", ""):
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


async def send_request(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    url = _with_query(_url(inputs["url"]), _query(inputs.get("query") or {}))
    request = ctx.http.build_request(
        inputs["method"],
        url,
        headers=_headers(inputs.get("headers") or {}),
        **_body(inputs["body_type"], inputs.get("body")),
    )
    response = await _read_capped(await ctx.http.send(request, stream=True))
    if inputs["fail_on_error"]:
        raise_for_status(response)
    result = {
        "status": response.status_code,
        "url": str(response.url),
        "headers": dict(response.headers),
        "body": _parse(response),
    }
    if response.extensions.get("truncated"):
        result["truncated"] = True
    return result


async def _read_capped(streamed: httpx2.Response) -> httpx2.Response:
    """Read at most ``MAX_RESPONSE_BYTES`` of a streamed response into a complete one.

    An endless or huge body must not exhaust the worker's memory.
    """
    content = bytearray()
    truncated = False
    try:
        async for chunk in streamed.aiter_bytes():
            content += chunk
            if len(content) > MAX_RESPONSE_BYTES:
                del content[MAX_RESPONSE_BYTES:]
                truncated = True
                break
    finally:
        await streamed.aclose()
    # The bytes are already decoded, so the rebuilt response must not decode them again.
    headers = [
        (name, value)
        for name, value in streamed.headers.multi_items()
        if name not in ("content-encoding", "content-length", "transfer-encoding")
    ]
    return httpx2.Response(
        streamed.status_code,
        headers=headers,
        content=bytes(content),
        request=streamed.request,
        extensions={**streamed.extensions, "truncated": truncated},
    )


async def graphql_request(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    """POST a GraphQL operation (https://graphql.org/learn/serving-over-http/#post-request)."""
    payload: dict[str, Any] = {"query": inputs["query"]}
    if inputs.get("variables"):
        payload["variables"] = inputs["variables"]
    if inputs.get("operation_name"):
        payload["operationName"] = inputs["operation_name"]
    headers = {"Accept": "application/json", **_headers(inputs.get("headers") or {})}
    request = ctx.http.build_request("POST", _url(inputs["url"]), headers=headers, json=payload)
    response = await _read_capped(await ctx.http.send(request, stream=True))
    raise_for_status(response)
    body = _parse(response)
    if not isinstance(body, dict):
        raise HaltError("The GraphQL endpoint did not answer with a JSON object.")
    errors = body.get("errors") or []
    if errors and body.get("data") is None:
        first = errors[0].get("message", errors[0]) if isinstance(errors[0], dict) else errors[0]
        raise HaltError(f"The GraphQL operation failed: {first}", meta={"errors": errors[:5]})
    return {"data": body.get("data"), "errors": errors}


app = App(
    key="webhooks",
    title="Webhooks",
    description="Send an HTTP request to any URL: choose the method, headers, query and body.",
    auth=Auth.none(),
    categories=("developer-tools",),
    actions=[
        Action(
            "send_request",
            "Send HTTP request",
            "Sends one HTTP request and returns the response's status, headers and body.",
            send_request,
            type=ActionType.WRITE,
            inputs=[
                InputField(
                    "method",
                    "Method",
                    required=True,
                    default="POST",
                    choices=tuple(Choice(method) for method in METHODS),
                    help_text="The HTTP method.",
                ),
                InputField(
                    "url",
                    "URL",
                    required=True,
                    placeholder="https://example.com/hooks/orders",
                    help_text="An http:// or https:// URL.",
                ),
                InputField(
                    "query",
                    "Query parameters",
                    FieldType.DICT,
                    help_text="Added to the URL's query string; a key the URL already has "
                    "takes the value given here.",
                ),
                InputField("headers", "Headers", FieldType.DICT, help_text="Request headers."),
                InputField(
                    "body_type",
                    "Body type",
                    required=True,
                    default="json",
                    choices=(Choice("json", "JSON"), Choice("form", "Form"), Choice("raw", "Raw")),
                    help_text="JSON, a URL-encoded form, or raw text sent as given.",
                ),
                InputField(
                    "body",
                    "Body",
                    FieldType.JSON,
                    help_text="The request body: any JSON value, an object for a form, "
                    "or text for a raw body.",
                ),
                InputField(
                    "fail_on_error",
                    "Fail on error status",
                    FieldType.BOOLEAN,
                    default=True,
                    help_text="Treat a 4xx or 5xx response as an error (5xx and 429 are "
                    "retried). If false, the response is returned whatever its status.",
                ),
            ],
            outputs=[
                OutputField("status", "Status", FieldType.INTEGER, sample=200),
                OutputField("url", "Final URL", sample="https://example.com/hooks/orders"),
                OutputField(
                    "headers",
                    "Headers",
                    FieldType.DICT,
                    sample={"content-type": "application/json"},
                ),
                OutputField("body", "Body", FieldType.JSON, sample={"received": True}),
            ],
            sample={
                "status": 200,
                "url": "https://example.com/hooks/orders",
                "headers": {"content-type": "application/json"},
                "body": {"received": True},
            },
        ),
        Action(
            "graphql_request",
            "GraphQL request",
            "Runs a GraphQL query or mutation and returns its data (and any partial errors).",
            graphql_request,
            inputs=[
                InputField(
                    "url",
                    "Endpoint URL",
                    required=True,
                    placeholder="https://api.example.com/graphql",
                    help_text="The GraphQL endpoint.",
                ),
                InputField(
                    "query",
                    "Query",
                    FieldType.CODE,
                    required=True,
                    help_text="The query or mutation document.",
                ),
                InputField("variables", "Variables", FieldType.DICT, help_text="Its variables."),
                InputField(
                    "operation_name",
                    "Operation name",
                    help_text="Which operation to run, if the document has several.",
                ),
                InputField(
                    "headers",
                    "Headers",
                    FieldType.DICT,
                    help_text="e.g. an Authorization header for the endpoint.",
                ),
            ],
            outputs=[
                OutputField("data", "Data", FieldType.JSON, sample={"viewer": {"login": "ada"}}),
                OutputField("errors", "Errors", FieldType.JSON, sample=[]),
            ],
            sample={"data": {"viewer": {"login": "ada"}}, "errors": []},
        ),
    ],
)
