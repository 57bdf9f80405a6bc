"""Images handed over by a partner, an overlay or a piece (a client's logo, an app's icon):
checked, size-capped, a raster decoded and encoded again (Pillow: what is kept is pixels,
never a crafted file or its metadata), an SVG cut down to drawing alone (parsed with
defusedxml: no DTD, no entities), and kept as a ``data:`` URI so that nothing is ever
fetched from elsewhere when a page shows them."""

from __future__ import annotations

import base64
import binascii
import io
from xml.etree import ElementTree

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as parse_xml
from PIL import Image, UnidentifiedImageError

MAX_IMAGE_BYTES = 64 * 1024
# An icon or a logo is shown at most a few hundred pixels wide; more is a decompression bomb.
MAX_IMAGE_PIXELS = 2048 * 2048
SVG_NS = "http://www.w3.org/2000/svg"
# The first bytes of each raster format a browser shows in <img>.
RASTER_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)
PILLOW_FORMATS = {
    "image/png": "PNG",
    "image/jpeg": "JPEG",
    "image/gif": "GIF",
    "image/webp": "WEBP",
}
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
        root = parse_xml(data, forbid_dtd=True)
    except (ElementTree.ParseError, DefusedXmlException):
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


def _reencoded(data: bytes, media_type: str) -> bytes:
    """The raster's pixels (its first frame) encoded afresh in its own format."""
    kind = PILLOW_FORMATS[media_type]
    unreadable = ImageRefused(f"the image is not a readable {kind}")
    try:
        image = Image.open(io.BytesIO(data), formats=[kind])  # reads the header only
    except (UnidentifiedImageError, OSError):
        raise unreadable from None
    with image:
        if image.width * image.height > MAX_IMAGE_PIXELS:
            raise ImageRefused(f"an image must be at most {MAX_IMAGE_PIXELS} pixels")
        try:
            image.load()
            rgb_only = kind == "JPEG" and image.mode not in ("RGB", "L")
            pixels = image.convert("RGB") if rgb_only else image
            encoded = io.BytesIO()
            pixels.save(encoded, format=kind, optimize=True)
        except (OSError, SyntaxError, ValueError):
            raise unreadable from None
    return encoded.getvalue()


def image_data_uri(data: bytes) -> str:
    """The image as a ``data:`` URI: PNG, JPEG, GIF or WebP encoded again, SVG sanitised; at
    most 64 KiB. Raises ``ImageRefused``."""
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
    else:
        data = _reencoded(data, media_type)
        if len(data) > MAX_IMAGE_BYTES:
            raise ImageRefused(f"an image must be at most {MAX_IMAGE_BYTES // 1024} KiB")
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
