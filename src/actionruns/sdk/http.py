"""Helpers for HTTP connectors: turning a vendor's response into the right error class."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Collection
from typing import TYPE_CHECKING, Any

import httpx2

from actionruns.sdk.errors import ExpiredAuthError, HaltError, ThrottledError, TransientError

if TYPE_CHECKING:
    from actionruns.sdk.context import Context

DEFAULT_THROTTLE_DELAY = 60.0


def retry_after_seconds(
    response: httpx2.Response,
    default: float = DEFAULT_THROTTLE_DELAY,
    *,
    reset_header: str | None = None,
) -> float:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date), else
    from ``reset_header``, the Unix time a vendor's rate-limit window ends (GitHub's
    ``x-ratelimit-reset``, GitLab's ``RateLimit-Reset``…), else ``default``."""
    value = response.headers.get("Retry-After")
    reset = response.headers.get(reset_header, "") if reset_header else ""
    if not value and reset.isdigit():
        return max(1.0, int(reset) - time.time())
    if not value:
        return default
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    return max(0.0, parsed.timestamp() - time.time())


def error_message(response: httpx2.Response) -> str:
    """The vendor's own message, from common JSON error shapes, else the status line."""
    try:
        body: Any = response.json()
    except ValueError:
        text = response.text.strip()
        return text[:500] if text else f"HTTP {response.status_code} {response.reason_phrase}"
    if isinstance(body, list) and body and isinstance(body[0], dict):
        body = body[0]  # Salesforce: [{"message", "errorCode", "fields"}]
    if isinstance(body, dict):
        # Common shapes: {"message"}, OAuth's {"error_description"}, problem+json's
        # {"detail"}, Postmark's {"Message"}, Figma's {"status", "err"}.
        for key in ("message", "Message", "error_description", "error", "detail", "title", "err"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return value
            if isinstance(value, dict) and isinstance(value.get("message"), str):
                return str(value["message"])
        # FastAPI's validation errors (Mistral, Together): {"detail": [{"loc", "msg"}]}.
        detail = body.get("detail")
        if isinstance(detail, list) and detail and isinstance(detail[0], dict):
            found = [item for item in detail if isinstance(item.get("msg"), str)]
            if found:
                return "; ".join(
                    ".".join(str(part) for part in item.get("loc", [])[1:]) + f": {item['msg']}"
                    if len(item.get("loc", [])) > 1
                    else item["msg"]
                    for item in found
                )
        # Okta: {"errorCode", "errorSummary", "errorCauses": [{"errorSummary"}]}, the causes
        # saying which field was refused.
        summary = body.get("errorSummary")
        if isinstance(summary, str) and summary:
            causes = body.get("errorCauses")
            said = [
                c["errorSummary"]
                for c in causes or ()
                if isinstance(c, dict) and c.get("errorSummary")
            ]
            return "; ".join([summary, *said])
        # Jira: {"errorMessages": [...], "errors": {"field": "message"}}.
        listed = body.get("errorMessages")
        if isinstance(listed, list) and listed and isinstance(listed[0], str):
            return "; ".join(listed)
        errors = body.get("errors")
        if isinstance(errors, dict) and errors:
            return "; ".join(f"{key}: {value}" for key, value in errors.items())
        if isinstance(errors, list) and errors:
            first = errors[0]
            # JSON:API's error objects say it in detail, else title (Klaviyo's:
            # https://jsonapi.org/format/#error-objects).
            for key in ("message", "detail", "title"):
                if isinstance(first, dict) and isinstance(first.get(key), str) and first[key]:
                    return str(first[key])
            if isinstance(first, str):
                return first
    return f"HTTP {response.status_code} {response.reason_phrase}"


def raise_for_status(
    response: httpx2.Response,
    *,
    message: str | None = None,
    transient: Collection[int] = (408,),
    throttle_delay: float = DEFAULT_THROTTLE_DELAY,
    reset_header: str | None = None,
) -> None:
    """Map an unsuccessful response to halt, expired, throttled or transient.

    ``message`` replaces the one read from the body (a vendor with its own error shape);
    ``transient`` adds statuses worth retrying besides 5xx (Zendesk's 409, say);
    ``throttle_delay`` is the wait when a 429 has no ``Retry-After`` (nor ``reset_header``).
    """
    status = response.status_code
    if status < 400:
        return
    meta = {"status": status}
    message = message or error_message(response)
    if status == 401:
        raise ExpiredAuthError(message, meta=meta)
    if status == 429:
        raise ThrottledError(
            message, delay=retry_after_seconds(response, throttle_delay), meta=meta
        )
    if status >= 500 or status in transient:
        raise TransientError(message, meta=meta)
    raise HaltError(message, meta=meta)


async def request_json(ctx: Context, method: str, url: str, **request: Any) -> Any:
    """Call a JSON API with the connection's credentials; its parsed answer, or the right
    error class (``raise_for_status``) when it refuses."""
    response = await ctx.http.request(method, url, **request)
    raise_for_status(response)
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        raise TransientError(
            f"{method} {url} answered {response.status_code} with a body that is not JSON."
        ) from None
