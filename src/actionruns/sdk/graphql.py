"""GraphQL APIs (Linear, Shopify…): errors arrive in the body's ``errors``, often with HTTP
200, and each API names them with its own ``extensions.code``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import httpx2

from actionruns.sdk.errors import ActionError, HaltError, ThrottledError, TransientError
from actionruns.sdk.http import raise_for_status

if TYPE_CHECKING:
    from actionruns.sdk.context import Context


async def graphql(
    ctx: Context,
    url: str,
    query: str,
    variables: Mapping[str, Any] | None = None,
    *,
    codes: Mapping[str, type[ActionError]] | None = None,
    throttle_delay: float | Callable[[httpx2.Response], float] = 60.0,
) -> Any:
    """The ``data`` of a GraphQL call; any error in the body becomes the class ``codes`` maps
    its ``extensions.code`` to (a halt if unknown); HTTP failures as ``raise_for_status``.
    ``throttle_delay`` is the wait when throttled, or reads it from the response (an API
    that says when its budget refills in headers)."""
    response = await ctx.http.post(url, json={"query": query, "variables": dict(variables or {})})
    try:
        body = response.json()
    except ValueError:
        raise_for_status(response)
        raise TransientError(f"The GraphQL API answered HTTP {response.status_code}.") from None
    errors = body.get("errors") if isinstance(body, dict) else None
    if errors:
        first = errors[0] if isinstance(errors, list) and errors else {}
        extensions = first.get("extensions") or {} if isinstance(first, dict) else {}
        code = str(extensions.get("code", ""))
        message = str(
            extensions.get("userPresentableMessage")
            or (first.get("message") if isinstance(first, dict) else first)
            or "The GraphQL API refused the request."
        )
        kind = (codes or {}).get(code, HaltError)
        meta = {"graphql_code": code, "status": response.status_code}
        if issubclass(kind, ThrottledError):
            delay = throttle_delay(response) if callable(throttle_delay) else throttle_delay
            raise ThrottledError(message, delay=delay, meta=meta)
        raise kind(message, meta=meta)
    raise_for_status(response)
    return body["data"]
