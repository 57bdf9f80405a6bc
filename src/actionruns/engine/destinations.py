"""Where the service may post on a partner's behalf (run callbacks, authentication events),
checked when the URL is set: the one rule for both.

As Zapier's callbacks require (docs.zapier.com, *Receiving Action Run Callbacks*: HTTPS only,
public IPs only, at most 2048 characters, else 400 Bad Request), a URL must be https:// on a
public address, unless the operator allowed its address with ``ACTIONRUNS_OUTBOUND_ALLOW``:
there http:// and private or loopback addresses are fine. The host is resolved by the
outbound guard, as a delivery's is, so an address it would refuse (in any form: a name that
leads there, an IPv6 form carrying a private IPv4 address) is refused now with the reason, and
a name that does not resolve too. The guard checks again at each delivery: a name may point
elsewhere by then.
"""

from __future__ import annotations

import asyncio
import ipaddress
from urllib.parse import urlsplit

import httpx2

from actionruns.sdk.addresses import allowed_by_operator
from actionruns.sdk.errors import ActionError, BlockedDestinationError
from actionruns.sdk.outbound import OutboundGuard

MAX_URL_LENGTH = 2048
RESOLVE_TIMEOUT_SECONDS = 5.0
HTTPS_ONLY = "it must be https:// (http:// only to addresses the operator allowed)"


async def destination_problem(url: str, guard: OutboundGuard) -> str | None:
    """Why the service will not post to ``url``, or None if it will."""
    try:
        parts = urlsplit(url)
        port = parts.port  # raises when out of range
        host = httpx2.URL(url).host  # what the sender will dial (IDNA-encoded)
    except (ValueError, httpx2.InvalidURL):
        return "it is not a valid URL"
    if port == 0:
        return "it is not a valid URL (port 0)"
    if len(url) > MAX_URL_LENGTH:
        return f"it is longer than {MAX_URL_LENGTH} characters"
    if parts.scheme not in ("http", "https") or not host:
        return "it must be an absolute https:// URL"
    if parts.fragment:
        return "it must not have a fragment"
    try:
        async with asyncio.timeout(RESOLVE_TIMEOUT_SECONDS):
            found = await guard.addresses(host, port or (443 if parts.scheme == "https" else 80))
    except ActionError as exc:  # refused by the guard, not a host name, or no such host
        if parts.scheme != "https" and isinstance(exc, BlockedDestinationError):
            return f"{HTTPS_ONLY}; and {exc.detail.rstrip('.')}"
        return exc.detail.rstrip(".")
    except TimeoutError:
        return f"its host {host!r} did not resolve in time"
    addresses = [ipaddress.ip_address(text.split("%")[0]) for text in found]
    if parts.scheme != "https" and not all(allowed_by_operator(a, guard.allow) for a in addresses):
        return HTTPS_ONLY
    return None
