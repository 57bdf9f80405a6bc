"""httpx2 requests and responses as openapi-core's ``Request`` and ``Response`` protocols,
for checking traffic against an OpenAPI description (vendors', Zapier's and our own)."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any
from urllib.parse import parse_qsl

import httpx2
from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.templating.paths.exceptions import OperationNotFound, PathNotFound
from werkzeug.datastructures import Headers, ImmutableMultiDict


class HttpxOpenAPIRequest:
    """An httpx2 request as openapi-core's ``Request`` protocol."""

    def __init__(self, request: httpx2.Request, path: str | None = None) -> None:
        self.request = request
        query = parse_qsl(request.url.query.decode(), keep_blank_values=True)
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(query),
            header=Headers(list(request.headers.multi_items())),
        )
        self._path = path

    @property
    def host_url(self) -> str:
        return f"{self.request.url.scheme}://{self.request.url.netloc.decode()}"

    @property
    def path(self) -> str:
        return self._path or self.request.url.raw_path.decode().partition("?")[0]

    @property
    def method(self) -> str:
        return self.request.method.lower()

    @property
    def body(self) -> bytes | None:
        try:
            return self.request.content or None
        except httpx2.RequestNotRead:  # streamed: sent, not kept
            return None

    @property
    def content_type(self) -> str:
        return self.request.headers.get("content-type", "").lower()


class HttpxOpenAPIResponse:
    """An httpx2 response as openapi-core's ``Response`` protocol."""

    def __init__(self, response: httpx2.Response) -> None:
        self.response = response
        self.headers = Headers(list(response.headers.multi_items()))

    @property
    def data(self) -> bytes:
        return self.response.content

    @property
    def status_code(self) -> int:
        return self.response.status_code

    @property
    def content_type(self) -> str:
        return self.response.headers.get("content-type", "").lower()


class DocumentedAnswers:
    """Checks every answer of the service against its own OpenAPI document (an httpx2
    response hook): the body's schema, the status and the headers the operation declares.
    Answers to paths or methods the document has no operation for (the Connect page, a
    405) are not checked; ``checked`` counts the rest, by operation and status."""

    def __init__(self, document: dict[str, Any]) -> None:
        # JWK sets are JSON under their own media type (RFC 7517), unknown to openapi-core.
        config = Config(extra_media_type_deserializers={"application/jwk-set+json": json.loads})
        self.description = OpenAPI.from_dict(document, config=config)
        self.templates = [template.split("/") for template in document["paths"]]
        self.checked: Counter[tuple[str, str, int]] = Counter()

    async def __call__(self, response: httpx2.Response) -> None:
        await response.aread()
        self.check(response)

    def check(self, response: httpx2.Response) -> None:
        """Check an answer whose body has been read (by a sync client, or a transport)."""
        path = response.request.url.path
        request = HttpxOpenAPIRequest(response.request, path=path.rstrip("/") or "/")
        try:
            self.description.validate_response(request, HttpxOpenAPIResponse(response))
        except (PathNotFound, OperationNotFound):
            return
        self.checked[(response.request.method, self._template(path), response.status_code)] += 1

    def _template(self, path: str) -> str:
        wanted = (path.rstrip("/") or "/").split("/")
        return next(
            "/".join(parts)
            for parts in self.templates
            if len(parts) == len(wanted)
            and all(p == w or p.startswith("{") for p, w in zip(parts, wanted, strict=True))
        )
