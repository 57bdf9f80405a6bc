"""A piece's own icon: its ``logoUrl`` fetched once, when the piece is added, through the
outbound guard (the connectors' own), size-capped and checked like any app's icon
(``sdk.images``), and kept with the app as a ``data:`` URI. Clients are never handed the URL:
a page that showed it would have every visitor's browser ask a third party."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx2

from actionruns.sdk.images import MAX_IMAGE_BYTES, ImageRefused, image_data_uri
from actionruns.sdk.outbound import OutboundGuard, guard_error

FETCH_TIMEOUT_SECONDS = 15.0
MAX_REDIRECTS = 3


class IconUnavailable(Exception):
    """The piece's icon could not be had; the message says why, for the operator."""


async def _download(url: str, guard: OutboundGuard) -> bytes:
    async with (
        httpx2.AsyncClient(
            transport=guard.http_transport(),
            timeout=FETCH_TIMEOUT_SECONDS,
            follow_redirects=True,  # every hop dials through the guard
            max_redirects=MAX_REDIRECTS,
            trust_env=False,
        ) as client,
        client.stream("GET", url, headers={"Accept": "image/*"}) as response,
    ):
        if response.status_code != 200:
            raise IconUnavailable(f"{url} answered {response.status_code}")
        data = bytearray()
        async for chunk in response.aiter_bytes():
            data += chunk
            if len(data) > MAX_IMAGE_BYTES:  # read no further than the cap
                raise IconUnavailable(f"it is larger than {MAX_IMAGE_BYTES // 1024} KiB")
        return bytes(data)


async def fetch_icon(url: str, guard: OutboundGuard) -> str:
    """The image at ``url`` (https) as a checked ``data:`` URI. Raises ``IconUnavailable``."""
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise IconUnavailable(f"{url[:80]!r} is not an https URL")
    try:
        data = await _download(url, guard)
    except httpx2.HTTPError as exc:
        refused = guard_error(exc)
        raise IconUnavailable(
            refused.detail if refused else f"{type(exc).__name__}: {exc}"
        ) from None
    try:
        return image_data_uri(data)
    except ImageRefused as exc:
        raise IconUnavailable(str(exc)) from None
