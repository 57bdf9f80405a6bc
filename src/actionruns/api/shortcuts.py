"""Routes that read the common request themselves, and leave every other one to FastAPI.

FastAPI solves a route's parameters and dependencies for each request, generically: for a
run submitted or read (nearly every request the service gets) that was the largest single
cost of the API's edge. A route made by ``route_with_shortcut`` first asks its shortcut for
the endpoint's arguments; the shortcut reads only requests in the usual shape (a JSON object
body, no unusual header or query) and returns ``None`` for any other, which FastAPI then
reads as always, so whatever is wrong with a request is said exactly as before. The shortcut must
decide before it draws on anything that FastAPI's reading would draw on again (the token
check counts against the rate limit). The OpenAPI document is FastAPI's, from the route's
declared parameters, and the endpoint is the same function either way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from fastapi import APIRouter, Request, Response
from fastapi.routing import APIRoute

# The endpoint's keyword arguments for a request in the usual shape, or None.
Shortcut = Callable[[Request], Awaitable[dict[str, Any] | None]]


EndpointT = TypeVar("EndpointT", bound=Callable[..., Awaitable[Response]])


def route_with_shortcut(
    router: APIRouter, method: str, path: str, read: Shortcut, **options: Any
) -> Callable[[EndpointT], EndpointT]:
    """As ``@router.post(path, **options)`` (or another ``method``), with ``read`` reading
    the endpoint's usual requests."""

    class ShortcutRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            by_fastapi = super().get_route_handler()
            endpoint = self.endpoint

            async def handle(request: Request) -> Response:
                arguments = await read(request)
                if arguments is None:
                    return await by_fastapi(request)
                response: Response = await endpoint(**arguments)
                return response

            return handle

    def register(endpoint: EndpointT) -> EndpointT:
        router.add_api_route(
            path, endpoint, methods=[method], route_class_override=ShortcutRoute, **options
        )
        return endpoint

    return register
