"""Apps' icons and colours: a brand's simple-icons mark and colour where the set has one, at
every size the Partner API lists, else a lettered tile; never a third party's URL."""

from __future__ import annotations

import base64
import dataclasses
import json
import re
from pathlib import Path
from xml.etree import ElementTree

import pytest
from simple_icons_pack import get_icon

from actionruns.api.icons import SLUGS_FILE, SVG_NS, brand, text_on
from actionruns.connectors.curated import HERE as CURATED
from actionruns.openapi import ImportFailed, load_overlay
from actionruns.sdk.described import AppManifest, build_app
from actionruns.sdk.images import ImageRefused, image_data_uri
from actionruns.sdk.registry import Registry
from tests.conftest import ApiClient, Service, ServiceFactory
from tests.testkit import testkit

SIZES = (16, 32, 64, 128)
LOGO_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4/58BAAT/Af9jgNErAAAAAElFTkSuQmCC"
)


def _paths(svg: str) -> list[str]:
    root = ElementTree.fromstring(svg)
    return [element.attrib["d"] for element in root.iter(f"{{{SVG_NS}}}path")]


async def _apps(acme: ApiClient) -> dict[str, dict[str, object]]:
    apps: dict[str, dict[str, object]] = {}
    while True:
        listed = (await acme.get("/v2/apps", params={"limit": 100, "offset": len(apps)})).json()
        apps.update((app["slug"], app) for app in listed["data"])
        if len(apps) >= listed["meta"]["count"]:
            return apps


async def test_a_brand_is_drawn_with_its_own_mark_and_colour(
    service: Service, acme: ApiClient
) -> None:
    github = (await _apps(acme))["github"]
    packaged = get_icon("github")
    assert packaged is not None
    assert github["hex_color"] == packaged.hex.lower()
    images = github["images"]
    assert isinstance(images, dict)
    assert github["image"] == images["url_128x128"]
    for size in SIZES:
        url = images[f"url_{size}x{size}"]
        assert url.startswith(service.base_url)  # served here, never hot-linked
        icon = await service.http.get(url)
        assert icon.status_code == 200
        assert icon.headers["content-type"].startswith("image/svg+xml")
        assert icon.headers["content-security-policy"].startswith("default-src 'none'")
        root = ElementTree.fromstring(icon.text)
        assert (root.attrib["width"], root.attrib["height"]) == (str(size), str(size))
        assert root.attrib["aria-label"] == "GitHub"
        assert _paths(icon.text) == _paths(packaged.svg)
        assert f'fill="#{packaged.hex.lower()}"' in icon.text


async def test_every_app_has_a_colour_and_an_icon(service: Service, acme: ApiClient) -> None:
    apps = await _apps(acme)
    branded = 0
    for slug, app in apps.items():
        assert re.fullmatch(r"[0-9A-Fa-f]{6}", str(app["hex_color"])), slug
        images = app["images"]
        assert isinstance(images, dict)
        icon = await service.http.get(images["url_64x64"])
        assert icon.status_code == 200, slug
        mark = brand(slug)
        if mark is not None:
            branded += 1
            assert _paths(icon.text), slug
        else:  # the lettered tile
            assert ElementTree.fromstring(icon.text).find(f"{{{SVG_NS}}}text") is not None
    assert branded >= 20  # most installed apps are in simple-icons


async def test_an_apps_own_colour_wins_over_its_brands(service: Service) -> None:
    registry: Registry = service.engine.registry
    algolia = registry.app("algolia")
    assert algolia is not None and algolia.hex_color.upper() == "#003DFF"
    icon = await service.http.get("/v2/apps/algolia/icon.svg", params={"size": 32})
    assert 'fill="#003dff"' in icon.text


async def test_a_light_brand_gets_a_dark_mark_and_an_unknown_app_a_letter(
    service: Service,
) -> None:
    intercom = brand("intercom")
    assert intercom is not None and text_on(intercom.color) == "#1a202c"
    icon = await service.http.get("/v2/apps/intercom/icon.svg")
    assert '<g transform="translate(14 14) scale(1.5)" fill="#1a202c">' in icon.text
    assert text_on("181717") == "#ffffff"
    unknown = await service.http.get("/v2/apps/no_such_app/icon.svg", params={"size": 16})
    assert unknown.status_code == 200
    assert ">N<" in unknown.text and 'width="16"' in unknown.text


def test_every_slug_named_in_the_data_file_is_in_the_set() -> None:
    overrides: dict[str, str | None] = json.loads(SLUGS_FILE.read_text())
    for key, slug in overrides.items():
        if slug is not None:
            assert get_icon(slug) is not None, key
            mark = brand(key)
            assert mark is not None and mark.slug == slug and mark.license


def test_a_key_reaches_its_brand_by_its_words() -> None:
    sheets, twilio_like = brand("google_sheets"), brand("adyen_management")
    assert sheets is not None and sheets.slug == "googlesheets"
    assert twilio_like is not None and twilio_like.slug == "adyen"
    assert brand("formatter") is None


HOSTILE_SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
    b'viewBox="0 0 24 24" onload="alert(1)"><script>alert(2)</script>'
    b'<a href="https://evil.example/"><path d="M0 0h1"/></a>'
    b'<image href="https://evil.example/pixel.png" width="1" height="1"/>'
    b'<foreignObject><div xmlns="http://www.w3.org/1999/xhtml">hi</div></foreignObject>'
    b'<path d="M1 1h22v22H1z" fill="url(https://evil.example/#p)" style="x"/>'
    b'<circle cx="12" cy="12" r="4" fill="url(#g)"/></svg>'
)


def _svg_of(uri: str) -> str:
    head, _, payload = uri.partition(",")
    assert head == "data:image/svg+xml;base64"
    return base64.b64decode(payload).decode()


def test_an_apps_own_svg_keeps_its_drawing_and_nothing_else() -> None:
    kept = _svg_of(image_data_uri(HOSTILE_SVG))
    for gone in ("script", "onload", "evil.example", "foreignObject", "style", "<a", "<image"):
        assert gone not in kept, gone
    assert 'd="M1 1h22v22H1z"' in kept and 'fill="url(#g)"' in kept
    assert image_data_uri(LOGO_PNG).startswith("data:image/png;base64,")
    for refused, says in (
        (b"", "empty"),
        (b"<html><script>alert(1)</script></html>", "PNG, JPEG, GIF, WebP or SVG"),
        (b"\x89PNG\r\n\x1a\n" + bytes(70_000), "at most 64 KiB"),
    ):
        with pytest.raises(ImageRefused, match=says):
            image_data_uri(refused)


def test_an_overlays_icon_is_read_beside_it_and_checked(tmp_path: Path) -> None:
    (tmp_path / "logo.svg").write_bytes(HOSTILE_SVG)
    overlay_file = tmp_path / "overlay.yaml"
    overlay_file.write_text("icon: logo.svg\n")
    overlay, _ = load_overlay(overlay_file)
    assert overlay.icon is not None and "script" not in _svg_of(overlay.icon)
    for icon, says in (("../elsewhere.svg", "beside the overlay"), ("none.png", "cannot be read")):
        overlay_file.write_text(f"icon: {icon}\n")
        with pytest.raises(ImportFailed, match=says):
            load_overlay(overlay_file)
    # In a manifest (app.json) an icon is checked again, and made part of the app.
    manifest = json.loads((CURATED / "deepl" / "app.json").read_text())
    with pytest.raises(ValueError, match="base64 data: URI"):
        AppManifest.model_validate({**manifest, "icon": "https://evil.example/logo.png"})
    app = build_app(AppManifest.model_validate({**manifest, "icon": overlay.icon}))
    assert app.icon == overlay.icon


async def test_an_apps_own_icon_is_served_from_here(start_service: ServiceFactory) -> None:
    own = dataclasses.replace(testkit, key="own_icon", icon=image_data_uri(HOSTILE_SVG))
    service = await start_service(apps=[own])
    icon = await service.http.get("/v2/apps/own_icon/icon.svg", params={"size": 32})
    assert icon.status_code == 200
    assert f'<image href="{own.icon}"' in icon.text and 'width="32"' in icon.text
    assert "img-src data:" in icon.headers["content-security-policy"]
    assert "evil.example" not in icon.text
