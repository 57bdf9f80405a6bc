"""Apps' icons and colours: the brand's own mark from the simple-icons set (CC0, through the
``simple-icons-pack`` package), else a lettered tile; and the brand's colour as ``hex_color``.

Which simple-icons mark an app wears is data, not code: the app's key with its underscores
dropped (``google_sheets`` is ``googlesheets``), else its first word (``twilio_messaging`` is
``twilio``), unless ``brand_slugs.json`` beside this module names another slug, or ``null``
for none. An app added under ``connectors/curated`` or imported gets its icon by that rule.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from xml.etree import ElementTree

from simple_icons_pack import Icon, get_icon

from actionruns.sdk.app import DEFAULT_HEX_COLOR, App

SVG_NS = "http://www.w3.org/2000/svg"
SLUGS_FILE = Path(__file__).with_name("brand_slugs.json")
GLYPH_LIGHT = "#ffffff"
GLYPH_DARK = "#1a202c"

ElementTree.register_namespace("", SVG_NS)


@dataclass(frozen=True)
class Brand:
    """The simple-icons mark of an app: ``color`` is six hex digits, as Zapier writes them
    (lower case, no ``#``)."""

    slug: str
    title: str
    color: str
    shapes: str  # the mark's drawing, in a 24x24 box
    license: str  # "CC0-1.0" unless simple-icons records the brand's own terms


@cache
def _slug_overrides() -> dict[str, str | None]:
    overrides: dict[str, str | None] = json.loads(SLUGS_FILE.read_text())
    return overrides


def _candidates(key: str) -> list[str]:
    overrides = _slug_overrides()
    if key in overrides:
        chosen = overrides[key]
        return [chosen] if chosen else []
    return list(dict.fromkeys((key.replace("_", ""), key.split("_")[0])))


def _shapes(icon: Icon) -> str:
    """The drawing of a simple-icons SVG without its ``<svg>`` and ``<title>``."""
    root = ElementTree.fromstring(icon.svg)  # noqa: S314 - a packaged file, not input
    return "".join(
        ElementTree.tostring(child, encoding="unicode")
        for child in root
        if child.tag != f"{{{SVG_NS}}}title"
    )


@cache
def brand(key: str) -> Brand | None:
    """The simple-icons mark for the app ``key``, if the set has one."""
    for slug in _candidates(key):
        icon = get_icon(slug)
        if icon is not None:
            return Brand(
                slug=icon.slug,
                title=icon.title,
                color=icon.hex.lower(),
                shapes=_shapes(icon),
                license=icon.license or "CC0-1.0",
            )
    return None


def app_color(app: App) -> str:
    """The app's colour as six lower-case hex digits: its own, else its brand's, else a
    neutral grey."""
    own = app.hex_color.removeprefix("#").lower()
    if own != DEFAULT_HEX_COLOR.removeprefix("#"):
        return own
    found = brand(app.key)
    return found.color if found is not None else own


def text_on(color: str) -> str:
    """White on a dark tile, near-black on a light one (WCAG relative luminance)."""

    def channel(hex_pair: str) -> float:
        value = int(hex_pair, 16) / 255
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = (channel(color[i : i + 2]) for i in (0, 2, 4))
    luminance = 0.2126 * red + 0.7152 * green + 0.0722 * blue
    # The glyph with the better contrast: white wins below ~0.18.
    return GLYPH_DARK if (luminance + 0.05) / 0.05 > 1.05 / (luminance + 0.05) else GLYPH_LIGHT


def icon_svg(app: App | None, key: str, size: int) -> str:
    """The app's icon at ``size`` pixels: its brand's mark on a tile of its colour, or the
    first letter of its title when simple-icons has no mark for it."""
    color = app_color(app) if app is not None else DEFAULT_HEX_COLOR.removeprefix("#")
    title = app.title if app is not None else key
    glyph = text_on(color)
    found = brand(key) if app is not None else None
    if app is not None and app.icon is not None:  # its own, checked when it was added
        drawing = f'<image href="{app.icon}" x="0" y="0" width="64" height="64"/>'
    elif found is not None:
        drawing = f'<g transform="translate(14 14) scale(1.5)" fill="{glyph}">{found.shapes}</g>'
    else:
        letter = html.escape(title[:1].upper())
        drawing = (
            f'<text x="32" y="43" font-family="sans-serif" font-size="32" '
            f'text-anchor="middle" fill="{glyph}">{letter}</text>'
        )
    return (
        f'<svg xmlns="{SVG_NS}" width="{size}" height="{size}" viewBox="0 0 64 64" '
        f'role="img" aria-label="{html.escape(title)}">'
        f'<rect width="64" height="64" rx="12" fill="#{color}"/>{drawing}</svg>'
    )
