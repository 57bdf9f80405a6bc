"""Apps' icons and colours: a brand's simple-icons mark and colour where the set has one, at
every size the Partner API lists, else a lettered tile; never a third party's URL."""

from __future__ import annotations

import json
import re
from xml.etree import ElementTree

from simple_icons_pack import get_icon

from actionruns.api.icons import SLUGS_FILE, SVG_NS, brand, text_on
from actionruns.sdk.registry import Registry
from tests.conftest import ApiClient, Service

SIZES = (16, 32, 64, 128)


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
