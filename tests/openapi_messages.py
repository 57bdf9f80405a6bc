"""httpx2 requests and responses as openapi-core's ``Request`` and ``Response`` protocols,
for checking traffic against an OpenAPI description (vendors' and Zapier's)."""

from __future__ import annotations

from urllib.parse import parse_qsl

import httpx2
from openapi_core.datatypes import RequestParameters
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
        return self.request.content or None

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
