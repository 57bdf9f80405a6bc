"""/docs and /redoc in a real browser that may reach nothing but the service: both render the
API's operations from assets the service serves itself."""

from __future__ import annotations

from playwright.async_api import Browser, Route, expect

from tests.conftest import Service

REDOCLY_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


async def test_docs_and_redoc_render_without_the_internet(
    browser: Browser, service: Service
) -> None:
    page = await browser.new_page()
    leaving: list[str] = []

    async def only_the_service(route: Route) -> None:
        if route.request.url.startswith(service.base_url):
            await route.continue_()
        else:
            leaving.append(route.request.url)
            await route.abort()

    await page.route("**/*", only_the_service)
    await page.goto(f"{service.base_url}/docs")
    await expect(page.locator(".opblock-summary-path").first).to_be_visible(timeout=20_000)
    await expect(page.get_by_text("/v2/action-runs/{run_id}/cancel")).to_be_visible()
    assert leaving == []  # Swagger UI asks nothing of the outside world
    await page.goto(f"{service.base_url}/redoc")
    await expect(page.get_by_role("heading", name="Run an action").first).to_be_visible(
        timeout=20_000
    )
    # ReDoc's bundle may ask for its "API docs by Redocly" logo, a decoration it renders
    # without (refused here, the page works the same): nothing else leaves.
    assert set(leaving) <= {REDOCLY_LOGO}
