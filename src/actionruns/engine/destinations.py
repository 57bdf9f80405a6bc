"""Where the service may post on a partner's behalf (run callbacks, authentication events),
checked when the URL is set: the one rule for both.

As Zapier's callbacks require (docs.zapier.com, *Receiving Action Run Callbacks*: HTTPS only,
public IPs only, at most 2048 characters, else 400 Bad Request), a URL must be https:// on a
public address, unless the operator allowed its address with ``ACTIONRUNS_OUTBOUND_ALLOW``:
there http:// and private or loopback addresses are fine. A name is looked up only for
http:// (to see if the operator allowed it); an https:// name is checked by the outbound guard
when the request is sent, as every connection is.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

import httpx2

from actionruns.sdk.outbound import OutboundGuard

MAX_URL_LENGTH = 2048


async def destination_problem(url: str, guard: OutboundGuard) -> str | None:
    """Why the service will not post to ``url``, or None if it will."""
    try:
        parts = urlsplit(url)
        port = parts.port  # raises when out of range
        httpx2.URL(url)  # what the sender will parse
    except (ValueError, httpx2.InvalidURL):
        return "it is not a valid URL"
    host = parts.hostname
    if len(url) > MAX_URL_LENGTH:
        return f"it is longer than {MAX_URL_LENGTH} characters"
    if parts.scheme not in ("http", "https") or not host:
        return "it must be an absolute https:// URL"
    if parts.fragment:
        return "it must not have a fragment"
    addresses = _literal_addresses(host)
    if addresses is None:  # a name
        if parts.scheme == "https":
            return None  # the outbound guard checks where it leads when the request is sent
        default_port = 80
        addresses = await _resolved_if_allowed(host, port or default_port, guard)
    if addresses and all(any(a in network for network in guard.allow) for a in addresses):
        return None  # allowed by the operator, http:// or not
    if parts.scheme != "https":
        return "it must be https:// (http:// only to addresses the operator allowed)"
    if not all(guard.is_allowed(address) for address in addresses):
        return (
            f"{host} is not a public address (an operator can allow it with "
            "ACTIONRUNS_OUTBOUND_ALLOW)"
        )
    return None


IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _literal_addresses(host: str) -> list[IPAddress] | None:
    """The address a host is, or names by itself (localhost); None for other names."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    if host == "localhost" or host.endswith(".localhost"):
        return [ipaddress.ip_address("127.0.0.1")]
    return None


async def _resolved_if_allowed(host: str, port: int, guard: OutboundGuard) -> list[IPAddress]:
    """What an http:// name resolves to, looked up only when the operator allowed some
    network (else it cannot be allowed anyway)."""
    if not guard.allow:
        return []
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        return []
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
