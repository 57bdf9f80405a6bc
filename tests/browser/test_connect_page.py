"""The hosted Connect page in a real browser: OAuth2 through a local provider in a popup and
by redirect, and an API-key app with inline errors, a failing connection test and success."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

from playwright.async_api import Browser, Page, expect
from pytest_httpserver import HTTPServer
from sqlalchemy import delete

from actionruns.store.schema import oauth_apps
from tests.conftest import ApiClient, Service, ServiceFactory, free_port
from tests.vendors.oauth_provider import CLIENT_ID, CLIENT_SECRET, Provider, start_provider

PARTNER_PAGE = """<!doctype html><title>Partner</title>
<button id="connect">Connect</button><pre id="result"></pre>
<script>
  window.addEventListener("message", function (event) {
    document.getElementById("result").textContent = JSON.stringify(
      {origin: event.origin, data: event.data});
  });
  document.getElementById("connect").onclick = function () {
    window.open(new URLSearchParams(location.search).get("connect"), "connect",
                "width=480,height=720");
  };
</script>"""


async def partner(service: Service, httpserver: HTTPServer) -> tuple[ApiClient, str]:
    """The partner's client, with its web page registered as the Connect redirect URI."""
    acme = await service.new_client("acme")
    redirect_uri = httpserver.url_for("/connected")
    await service.engine.clients.set_redirect_uris("acme", [redirect_uri])
    httpserver.expect_request("/app").respond_with_data(PARTNER_PAGE, content_type="text/html")
    httpserver.expect_request("/connected").respond_with_data("back at the partner")
    return acme.acting_for("alice"), redirect_uri


async def connect_link(client: ApiClient, app: str, redirect_uri: str, **extra: str) -> str:
    response = await client.post(
        "/v2/connect-tokens",
        json={"data": {"app": app, "redirect_uri": redirect_uri, **extra}},
    )
    assert response.status_code == 201, response.text
    return str(response.json()["data"][0]["url"])


async def start_with_provider(start_service: ServiceFactory, provider: Provider) -> Service:
    service = await start_service(apps=[provider.app()])
    await service.engine.connections.set_oauth_client(provider.app(), CLIENT_ID, CLIENT_SECRET)
    return service


async def test_oauth2_in_a_popup_then_a_run_uses_the_connection(
    browser: Browser, start_service: ServiceFactory, httpserver: HTTPServer
) -> None:
    async with start_provider() as provider:
        service = await start_with_provider(start_service, provider)
        alice, redirect_uri = await partner(service, httpserver)
        link = await connect_link(alice, "demo", redirect_uri)

        page = await browser.new_page()
        await page.goto(httpserver.url_for("/app") + "?connect=" + link.replace("&", "%26"))
        async with page.expect_popup() as popup_info:
            await page.click("#connect")
        popup = await popup_info.value
        await expect(popup.get_by_role("heading", level=1)).to_have_text("Connect Demo")
        await popup.get_by_role("link", name="Continue to Demo").click()
        await expect(popup.get_by_role("heading")).to_have_text("Sign in to Demo")
        await popup.get_by_role("button", name="Allow").click()
        await expect(page.locator("#result")).not_to_be_empty()
        message = json.loads(await page.locator("#result").text_content() or "{}")

        assert message["origin"] == service.base_url
        assert message["data"]["type"] == "actionruns:connect"
        assert message["data"]["status"] == "success", message
        authentication = message["data"]["authentication_id"]
        # The code was exchanged with PKCE and the registered redirect URI.
        exchange = provider.token_requests[0]
        assert exchange["grant_type"] == "authorization_code"
        assert exchange["code_verifier"] and exchange["redirect_uri"].endswith(
            "/connect/oauth/callback"
        )

        listed = (await alice.get(f"/v2/authentications/{authentication}")).json()["data"]
        assert listed["title"] == "Ada Lovelace" and listed["is_expired"] is False
        run = await alice.wait(await alice.run("demo.read_profile", {}, authentication))
        assert run["status"] == "success", run
        assert run["results"] == [{"id": "u-1", "name": "Ada Lovelace"}]
        # The link was single-use.
        again = await page.goto(link)
        assert again is not None and again.status == 400
        assert "already used" in await page.content()


async def test_oauth2_by_redirect_and_a_refusal(
    browser: Browser, start_service: ServiceFactory, httpserver: HTTPServer
) -> None:
    async with start_provider() as provider:
        service = await start_with_provider(start_service, provider)
        alice, redirect_uri = await partner(service, httpserver)

        page = await browser.new_page()
        await page.goto(await connect_link(alice, "demo", redirect_uri))
        await page.get_by_role("link", name="Continue to Demo").click()
        await page.get_by_role("button", name="Allow").click()
        await page.wait_for_url(f"{redirect_uri}*")
        query = parse_qs(urlsplit(page.url).query)
        assert query["status"] == ["success"] and query["app"] == ["demo"]
        authentication = query["authentication_id"][0]
        assert (await alice.get(f"/v2/authentications/{authentication}")).status_code == 200

        # Reconnect in place: the same id, new tokens.
        await page.goto(
            await connect_link(alice, "demo", redirect_uri, authentication=authentication)
        )
        await page.get_by_role("link", name="Continue to Demo").click()
        await page.get_by_role("button", name="Allow").click()
        await page.wait_for_url(f"{redirect_uri}*")
        assert parse_qs(urlsplit(page.url).query)["authentication_id"] == [authentication]
        assert len((await alice.get("/v2/authentications")).json()["data"]) == 1

        # The user refuses at the provider: back to the partner with the reason, nothing stored.
        await page.goto(await connect_link(alice, "demo", redirect_uri))
        await page.get_by_role("link", name="Continue to Demo").click()
        await page.get_by_role("button", name="Deny").click()
        await page.wait_for_url(f"{redirect_uri}*")
        refused = parse_qs(urlsplit(page.url).query)
        assert refused["status"] == ["error"] and "access_denied" in refused["error"][0]
        assert len((await alice.get("/v2/authentications")).json()["data"]) == 1


async def fill_and_submit(page: Page, api_key: str) -> None:
    await page.get_by_label("API key").fill(api_key)
    await page.get_by_role("button", name="Connect").click()


async def test_an_api_key_app_with_inline_errors_a_failing_test_and_success(
    browser: Browser, start_service: ServiceFactory, httpserver: HTTPServer
) -> None:
    service = await start_service()
    alice, redirect_uri = await partner(service, httpserver)
    page = await browser.new_page(viewport={"width": 375, "height": 740})  # a phone
    await page.goto(await connect_link(alice, "secretive", redirect_uri))
    await expect(page.get_by_role("heading")).to_have_text("Connect Secretive")
    key_input = page.get_by_label("API key")
    assert await key_input.get_attribute("type") == "password"

    await fill_and_submit(page, "")
    await expect(page.get_by_role("alert").first).to_contain_text("Check the fields below")
    await expect(page.locator("#field-api_key-error")).to_have_text("API key is required")
    assert await page.get_by_label("API key").get_attribute("aria-invalid") == "true"

    await fill_and_submit(page, "bad-key")
    await expect(page.locator("#problem")).to_have_text(
        "Secretive did not accept these details. Check them and try again. "
        "Secretive said: invalid api key"
    )
    # A secret is never rendered back: the field is empty again.
    assert await page.get_by_label("API key").input_value() == ""
    assert 'value="bad-key"' not in await page.content()

    await fill_and_submit(page, "sk-good-key")
    await page.wait_for_url(f"{redirect_uri}*")
    query = parse_qs(urlsplit(page.url).query)
    assert query["status"] == ["success"]
    stored = (await alice.get("/v2/authentications")).json()["data"]
    assert [item["id"] for item in stored] == query["authentication_id"]


async def test_links_that_cannot_be_used(
    browser: Browser, start_service: ServiceFactory, httpserver: HTTPServer
) -> None:
    service = await start_service()
    alice, redirect_uri = await partner(service, httpserver)
    unregistered = await alice.post(
        "/v2/connect-tokens",
        json={"data": {"app": "secretive", "redirect_uri": "https://evil.example/steal"}},
    )
    assert unregistered.status_code == 400
    assert unregistered.json()["errors"][0]["source"] == {"pointer": "/data/redirect_uri"}

    page = await browser.new_page()
    link = await connect_link(alice, "secretive", redirect_uri)
    for url, says in (
        (link.replace("/connect/secretive", "/connect/testkit"), "no such app"),
        (link[:-3], "not valid"),
        (link.replace("/connect/secretive", "/connect/limited"), "another app"),
    ):
        response = await page.goto(url)
        assert response is not None and response.status == 400, url
        assert says in await page.content(), url
    headers = (await page.goto(link)).headers  # type: ignore[union-attr]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["referrer-policy"] == "no-referrer"


async def test_what_end_users_read_when_connecting_cannot_work(
    browser: Browser, start_service: ServiceFactory, httpserver: HTTPServer
) -> None:
    """In the end user's words: no error number, no operator command."""
    async with start_provider() as provider:
        service = await start_with_provider(start_service, provider)
        alice, redirect_uri = await partner(service, httpserver)
        page = await browser.new_page()

        # An SMTP server that is not there (a closed port): no "[Errno 111]" for the user.
        await page.goto(await connect_link(alice, "email", redirect_uri))
        await page.get_by_label("SMTP host").fill("127.0.0.1")
        await page.get_by_label("Port").fill(str(free_port()))
        await page.get_by_label("From address").fill("me@example.com")
        await page.get_by_role("button", name="Connect").click()
        problem = page.locator("#problem")
        await expect(problem).to_have_text(
            "Email (SMTP) could not be reached. If you entered an address or a port, check them; "
            "otherwise try again in a few minutes."
        )

        # OAuth2 registration gone after the link was made: the page says it plainly.
        link = await connect_link(alice, "demo", redirect_uri)
        await service.engine.store.transaction(lambda conn: conn.execute(delete(oauth_apps)))
        response = await page.goto(link)
        assert response is not None and response.status == 503
        text = await page.locator("main").inner_text()
        assert "Demo cannot be connected here yet. Go back to the app and try again later." in text
        assert "actionruns" not in text and "OAuth" not in text

        # And the partner is refused a link to it, with the reason and what the operator does.
        refused = await alice.post(
            "/v2/connect-tokens", json={"data": {"app": "demo", "redirect_uri": redirect_uri}}
        )
        assert refused.status_code == 409
        [error] = refused.json()["errors"]
        assert error["source"] == {"pointer": "/data/app"}
        assert "actionruns oauth-apps set demo" in error["detail"]
        assert "ACTIONRUNS_OAUTH_DEMO_CLIENT_ID" in error["detail"]
        needless = await alice.post(
            "/v2/connect-tokens", json={"data": {"app": "webhooks", "redirect_uri": redirect_uri}}
        )
        assert needless.status_code == 409
        assert "needs no connection" in needless.json()["errors"][0]["detail"]
