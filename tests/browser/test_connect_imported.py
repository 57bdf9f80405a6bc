"""An imported app on the hosted Connect page: the form its description made, the
connection test against the vendor (at the HTTP level), and a run with the connection."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx2
import yaml
from playwright.async_api import Browser, expect
from pytest_httpserver import HTTPServer

from actionruns.openapi import import_description
from tests.browser.test_connect_page import connect_link, partner
from tests.conftest import ServiceFactory
from tests.openapi.petstore import petstore
from tests.openapi.test_imported_apps import HOST, Petstore


async def test_an_imported_app_is_connected_on_the_connect_page_and_run(
    browser: Browser, start_service: ServiceFactory, httpserver: HTTPServer, tmp_path: Path
) -> None:
    vendor = Petstore()
    service = await start_service(routes={HOST: httpx2.MockTransport(vendor)})
    (tmp_path / "petstore.yaml").write_text(yaml.safe_dump(petstore()))
    await service.engine.imports.save(import_description(tmp_path / "petstore.yaml").manifest)
    alice, redirect_uri = await partner(service, httpserver)

    page = await browser.new_page()
    await page.goto(await connect_link(alice, "petstore_api", redirect_uri))
    await expect(page.get_by_role("heading")).to_have_text("Connect Petstore API")
    key = page.get_by_label("API key")
    assert await key.get_attribute("type") == "password"
    # The description's own words about its key.
    await expect(page.get_by_text("Your key, from the settings page.")).to_be_visible()

    await key.fill("not-the-key")
    await page.get_by_role("button", name="Connect").click()
    await expect(page.locator("#problem")).to_contain_text("Invalid API key")

    await page.get_by_label("API key").fill(vendor.key)
    await page.get_by_role("button", name="Connect").click()
    await page.wait_for_url(f"{redirect_uri}*")
    query = parse_qs(urlsplit(page.url).query)
    assert query["status"] == ["success"]
    authentication = query["authentication_id"][0]

    run = await alice.wait(
        await alice.run("petstore_api.create_pet", {"name": "Rex"}, authentication)
    )
    assert run["status"] == "success", run
    assert [request.url.path for request in vendor.requests][-1] == "/v1/pets"
