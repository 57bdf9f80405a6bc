"""The Connect page as an end user sees it: the partner's name, logo and colour, the app's
icon, every state in plain words (testing, connected as whom, failed, expired link, used
link), at phone width, with 0 axe-core violations on each page."""

from __future__ import annotations

import asyncio
import base64
import json
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from axe_playwright_python.async_playwright import Axe
from axe_playwright_python.base import AxeResults
from playwright.async_api import Browser, Page, expect
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from actionruns.sdk import Action, App, Auth, Context
from tests.browser.conftest import PHONE, SCREENSHOTS, accessible_page
from tests.browser.test_connect_page import (
    connect_link,
    fill_and_submit,
    partner,
    start_with_provider,
)
from tests.conftest import ServiceFactory
from tests.vendors.oauth_provider import start_provider

# A partner's logo.
LOGO = (
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 48 48">'
    b'<rect width="48" height="48" rx="10" fill="#ff6600"/>'
    b'<path d="M14 37 24 11 34 37M18 28h12" stroke="#fff" stroke-width="4" fill="none"/></svg>'
)


async def accessible(page: Page, name: str) -> None:
    """No axe-core violation, nothing wider than the phone; a picture if asked for one."""
    await accessible_page(page, f"connect-{name}")


async def test_a_branded_partner_and_every_state_of_an_api_key_app(
    browser: Browser, start_service: ServiceFactory, httpserver: HTTPServer
) -> None:
    service = await start_service()
    alice, redirect_uri = await partner(service, httpserver)
    await service.engine.clients.set_brand("acme", "Acme Corp", LOGO, "#FF6600")

    page = await browser.new_page(viewport=PHONE)
    await page.goto(await connect_link(alice, "secretive", redirect_uri))
    await expect(page.locator("#asking")).to_have_text("Acme Corp wants to connect to Secretive.")
    logo = page.get_by_role("img", name="Acme Corp")
    assert (await logo.get_attribute("src") or "").startswith("data:image/svg+xml;base64,")
    icon = page.get_by_role("img", name="Secretive")
    await expect(icon).to_be_visible()
    assert await icon.evaluate("image => image.naturalWidth") > 0  # served by this service
    accent = await page.get_by_role("button", name="Connect").evaluate(
        "button => getComputedStyle(button).backgroundColor"
    )
    assert accent == "rgb(255, 102, 0)"
    # Where the key is found: steps and the app's page, opened by keyboard.
    await page.get_by_text("Where do I find this?").focus()
    await page.keyboard.press("Enter")
    await expect(page.locator("details.where li")).to_have_text(
        ["Open Settings, then API keys.", "Copy the key."]
    )
    where = page.get_by_role("link", name="Open it in Secretive (a new tab)")
    assert await where.get_attribute("href") == "https://secretive.example/settings/keys"
    assert await where.get_attribute("rel") == "noopener noreferrer"
    await accessible(page, "form")

    # Failed: what happened and what to do, the secret not rendered back.
    await fill_and_submit(page, "bad-key")
    await expect(page.locator("#problem")).to_contain_text("Check them and try again.")
    assert await page.get_by_label("API key").input_value() == ""
    await accessible(page, "failed")


def slow_app(stand_in: HTTPServer) -> App:
    """An API-key app whose connection test asks a stand-in for the account's name."""

    async def who(ctx: Context) -> str:
        answer = await ctx.http.get(stand_in.url_for("/me"))
        answer.raise_for_status()
        return str(answer.json()["workspace"])

    async def nothing(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
        return {}

    return App(
        key="workspace",
        title="Workspace",
        description="Your team's workspace.",
        auth=Auth.api_key(help_text="Settings, then API."),
        test=who,
        actions=[Action("noop", "Nothing", "Does nothing.", nothing)],
    )


async def test_testing_is_said_while_the_app_is_called_then_the_account_is_named(
    browser: Browser, start_service: ServiceFactory, httpserver: HTTPServer
) -> None:
    # The app's test call is held open by its stand-in until the page has been seen.
    called, release = threading.Event(), threading.Event()

    def me(request: Request) -> Response:
        assert request.headers["Authorization"] == "Bearer sk-slow-key"
        called.set()
        release.wait(30)
        return Response(json.dumps({"workspace": "Ada's workshop"}), mimetype="application/json")

    httpserver.expect_request("/me").respond_with_handler(me)
    service = await start_service(apps=[slow_app(httpserver)])
    alice, redirect_uri = await partner(service, httpserver)
    await service.engine.clients.set_brand("acme", "Acme Corp", LOGO, "#FF6600")
    page = await browser.new_page(viewport=PHONE)
    # Back at the partner's after the last page: held here, so that it is seen.
    await page.route(f"{redirect_uri}*", lambda route: route.abort("aborted"))
    await page.goto(await connect_link(alice, "workspace", redirect_uri))
    await page.get_by_label("API key").fill("sk-slow-key")
    axe = Axe()
    await page.evaluate(axe.axe_script)
    try:
        # Sent, and the page read as it waits, in one call: once a navigation is under way,
        # Playwright runs nothing more in the page it leaves (its screenshots wait too).
        status, disabled, checked = await page.evaluate(
            """async () => {
                document.getElementById("submit").click();
                const results = await axe.run(document, {resultTypes: ["violations"]});
                return [document.getElementById("status").textContent,
                        document.getElementById("submit").disabled, results];
            }"""
        )
        assert [status, disabled] == ["Testing the connection with Workspace\u2026", True]
        assert AxeResults(checked).violations_count == 0, AxeResults(checked).generate_report()
        assert await asyncio.to_thread(called.wait, 20)  # the app is being called
        if SCREENSHOTS:
            # Chromium's own capture: the page as it is while the answer is awaited.
            cdp = await page.context.new_cdp_session(page)
            shot = await cdp.send("Page.captureScreenshot", {"format": "png"})
            Path(SCREENSHOTS, "connect-testing.png").write_bytes(base64.b64decode(shot["data"]))
    finally:
        release.set()
    # The label the test gave is the connection's, shown before the page goes back.
    await expect(page.get_by_role("status")).to_have_text(
        "Connected as Ada's workshop. You can close this window and go back to Acme Corp."
    )
    await expect(page.locator("#returning")).to_have_text(
        "Taking you back to Acme Corp in a moment."
    )
    [stored] = (await alice.get("/v2/authentications")).json()["data"]
    assert stored["title"] == "Ada's workshop"
    # Then back to the partner, with the outcome.
    back = await page.wait_for_event(
        "requestfailed", lambda request: request.url.startswith(redirect_uri)
    )
    assert "status=success" in back.url


async def test_connected_expired_and_used_links_say_so(
    browser: Browser, start_service: ServiceFactory, httpserver: HTTPServer
) -> None:
    service = await start_service()
    alice, redirect_uri = await partner(service, httpserver)
    await service.engine.clients.set_brand("acme", "Acme Corp", None, None)
    page = await browser.new_page(viewport=PHONE)
    # The last page goes straight back to the partner: held here, so that it is seen.
    await page.route(f"{redirect_uri}*", lambda route: route.abort("aborted"))
    link = await connect_link(alice, "secretive", redirect_uri)
    await page.goto(link)
    await fill_and_submit(page, "sk-good-key")
    await expect(page.get_by_role("heading")).to_have_text("Secretive is connected")
    await expect(page.get_by_role("status")).to_have_text(
        "Connected as test account. You can close this window and go back to Acme Corp."
    )
    await accessible(page, "connected")

    await page.goto(link)
    await expect(page.get_by_role("heading")).to_have_text("This link was already used")
    await accessible(page, "used")

    service.clock.advance(-3600)  # a link issued an hour ago
    expired = await connect_link(alice, "secretive", redirect_uri)
    service.clock.advance(3600)
    await page.goto(expired)
    await expect(page.get_by_role("heading")).to_have_text("This link has expired")
    await expect(page.get_by_role("alert")).to_contain_text("work for 15 minutes")
    await accessible(page, "expired")


async def test_a_link_without_an_app_lets_the_end_user_pick_one_of_the_allowed(
    browser: Browser, start_service: ServiceFactory, httpserver: HTTPServer
) -> None:
    service = await start_service()
    alice, redirect_uri = await partner(service, httpserver)
    # testkit needs no connection, slack's OAuth2 client is not registered: neither is shown.
    allowed = ["secretive", "stripe", "notion", "openai", "slack", "testkit"]
    await service.engine.clients.allow_apps("acme", allowed)
    refused = await alice.post(
        "/v2/connect-tokens",
        json={"data": {"redirect_uri": redirect_uri, "authentication": "au_1"}},
    )
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["source"] == {"pointer": "/data/app"}
    answer = await alice.post("/v2/connect-tokens", json={"data": {"redirect_uri": redirect_uri}})
    assert answer.status_code == 201, answer.text
    token = answer.json()["data"][0]
    assert token["app"] is None and token["url"].startswith(f"{service.base_url}/connect?token=")

    page = await browser.new_page(viewport=PHONE)
    await page.goto(token["url"])
    await expect(page.get_by_role("heading", level=1)).to_have_text("Choose an app to connect")
    await expect(page.locator("#apps .name")).to_have_text(
        ["Notion", "OpenAI", "Secretive", "Stripe"]
    )
    await expect(page.locator("#apps .kind").first).to_have_text("Productivity, Notes")
    await accessible(page, "picker")

    await page.get_by_label("Category").select_option(label="Payment Processing")
    await expect(page.locator("#apps .name:visible")).to_have_text(["Stripe"])
    await page.get_by_label("Category").select_option(label="All categories")
    # By keyboard: type in the search, tab past the category to the one app left, Enter.
    await page.get_by_label("Search apps").fill("secr")
    await expect(page.get_by_role("status")).to_have_text("1 app")
    await page.keyboard.press("Tab")
    await page.keyboard.press("Tab")
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Connect Secretive")
    await expect(page.get_by_role("link", name="Choose another app")).to_be_visible()
    await fill_and_submit(page, "sk-good-key")
    await page.wait_for_url(f"{redirect_uri}*")
    [stored] = (await alice.get("/v2/authentications")).json()["data"]
    assert stored["app_slug"] == "secretive"

    # The allowlist holds on the app's own page too, and the link is spent.
    other = await alice.post("/v2/connect-tokens", json={"data": {"redirect_uri": redirect_uri}})
    url = str(other.json()["data"][0]["url"])
    outside = await page.goto(url.replace("/connect?", "/connect/github?"))
    assert outside is not None and outside.status == 400
    assert "for other apps" in await page.content()
    used = await page.goto(token["url"])
    assert used is not None and used.status == 400
    await expect(page.get_by_role("heading")).to_have_text("This link was already used")


async def test_an_oauth2_app_lists_the_access_it_grants_in_words(
    browser: Browser, start_service: ServiceFactory, httpserver: HTTPServer
) -> None:
    async with start_provider() as provider:
        service = await start_with_provider(start_service, provider)
        alice, redirect_uri = await partner(service, httpserver)
        await service.engine.clients.set_brand("acme", "Acme Corp", LOGO, None)
        page = await browser.new_page(viewport=PHONE)
        await page.goto(await connect_link(alice, "demo", redirect_uri))
        await expect(page.get_by_role("heading", level=2)).to_have_text("Demo will let Acme Corp:")
        await expect(page.get_by_role("list", name="Demo will let Acme Corp:")).to_have_text(
            "See your name and account id"
        )
        await accessible(page, "oauth")
        await page.get_by_role("link", name="Continue to Demo").click()
        await page.get_by_role("button", name="Allow").click()
        await page.wait_for_url(f"{redirect_uri}*")
        [stored] = (await alice.get("/v2/authentications")).json()["data"]
        assert stored["title"] == "Ada Lovelace"
