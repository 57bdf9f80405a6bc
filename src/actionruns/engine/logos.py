"""Images a partner hands over (a client's logo), checked and kept as a ``data:`` URI so that
a page shows them without fetching anything from elsewhere."""

from __future__ import annotations

import base64
from xml.etree import ElementTree

from actionruns.errors import Unprocessable

MAX_LOGO_BYTES = 64 * 1024
# The first bytes of each raster format a browser shows in <img>.
RASTER_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def _media_type(data: bytes) -> str | None:
    for signature, media_type in RASTER_SIGNATURES:
        if data.startswith(signature):
            return media_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    try:
        root = ElementTree.fromstring(data)  # noqa: S314 - size-capped; expat refuses bombs
    except ElementTree.ParseError:
        return None
    # Shown only through <img>, where an SVG's scripts and links never run.
    return "image/svg+xml" if root.tag == "{http://www.w3.org/2000/svg}svg" else None


def logo_data_uri(data: bytes) -> str:
    """The image as a ``data:`` URI: PNG, JPEG, GIF, WebP or SVG, at most 64 KiB."""
    if not data:
        raise Unprocessable("The logo file is empty.")
    if len(data) > MAX_LOGO_BYTES:
        raise Unprocessable(f"A logo must be at most {MAX_LOGO_BYTES // 1024} KiB.")
    media_type = _media_type(data)
    if media_type is None:
        raise Unprocessable("A logo must be a PNG, JPEG, GIF, WebP or SVG image.")
    return f"data:{media_type};base64,{base64.b64encode(data).decode()}"
