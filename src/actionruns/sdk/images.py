"""Images handed over by a partner or an overlay (a client's logo, an imported app's icon):
checked, size-capped, an SVG cut down to drawing alone, and kept as a ``data:`` URI so that
nothing is ever fetched from elsewhere when a page shows them."""

from __future__ import annotations

import base64
import binascii
from xml.etree import ElementTree

MAX_IMAGE_BYTES = 64 * 1024
SVG_NS = "http://www.w3.org/2000/svg"
# The first bytes of each raster format a browser shows in <img>.
RASTER_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)
# Drawing and nothing else: no script, foreignObject, use, image, a or style element.
SVG_ELEMENTS = frozenset(
    [
        "svg",
        "g",
        "path",
        "rect",
        "circle",
        "ellipse",
        "line",
        "polyline",
        "polygon",
        "defs",
        "linearGradient",
        "radialGradient",
        "stop",
        "clipPath",
        "mask",
        "title",
        "desc",
    ]
)
SVG_ATTRIBUTES = frozenset(
    [
        "viewBox",
        "width",
        "height",
        "x",
        "y",
        "x1",
        "y1",
        "x2",
        "y2",
        "cx",
        "cy",
        "r",
        "rx",
        "ry",
        "d",
        "points",
        "transform",
        "fill",
        "fill-rule",
        "fill-opacity",
        "stroke",
        "stroke-width",
        "stroke-linecap",
        "stroke-linejoin",
        "stroke-opacity",
        "opacity",
        "clip-rule",
        "id",
        "offset",
        "stop-color",
        "stop-opacity",
        "gradientUnits",
        "gradientTransform",
        "preserveAspectRatio",
    ]
)


class ImageRefused(ValueError):
    """The bytes are not an image this service keeps; the message says why."""


def _sanitised_svg(data: bytes) -> bytes | None:
    try:
        root = ElementTree.fromstring(data)  # noqa: S314 - size-capped; expat refuses bombs
    except ElementTree.ParseError:
        return None
    if root.tag != f"{{{SVG_NS}}}svg":
        return None

    def clean(element: ElementTree.Element) -> None:
        for name in list(element.attrib):
            value = element.attrib[name]
            # url(#id) points inside the drawing; any other url() could reach out.
            outside = "url(" in value and not value.replace(" ", "").startswith("url(#")
            if name not in SVG_ATTRIBUTES or outside:
                del element.attrib[name]
        for child in list(element):
            if child.tag.removeprefix(f"{{{SVG_NS}}}") in SVG_ELEMENTS:
                clean(child)
            else:
                element.remove(child)

    clean(root)
    ElementTree.register_namespace("", SVG_NS)
    return ElementTree.tostring(root)


def image_data_uri(data: bytes) -> str:
    """The image as a ``data:`` URI: PNG, JPEG, GIF or WebP as given, SVG sanitised; at most
    64 KiB. Raises ``ImageRefused``."""
    if not data:
        raise ImageRefused("the image is empty")
    if len(data) > MAX_IMAGE_BYTES:
        raise ImageRefused(f"an image must be at most {MAX_IMAGE_BYTES // 1024} KiB")
    media_type = next((kind for sig, kind in RASTER_SIGNATURES if data.startswith(sig)), None)
    if media_type is None and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        media_type = "image/webp"
    if media_type is None:
        svg = _sanitised_svg(data)
        if svg is None:
            raise ImageRefused("an image must be a PNG, JPEG, GIF, WebP or SVG")
        data, media_type = svg, "image/svg+xml"
    return f"data:{media_type};base64,{base64.b64encode(data).decode()}"


def checked_data_uri(uri: str) -> str:
    """A ``data:`` URI checked again as ``image_data_uri`` would make it (a file's value)."""
    head, _, payload = uri.partition(",")
    if not head.startswith("data:") or not head.endswith(";base64"):
        raise ImageRefused("an image is a base64 data: URI")
    try:
        data = base64.b64decode(payload, validate=True)
    except binascii.Error:
        raise ImageRefused("an image's data: URI is not base64") from None
    return image_data_uri(data)
