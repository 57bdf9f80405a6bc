"""The operators' dashboard in Chromium: sign in, filter the runs, open a failed run and read
why it failed, retry it; every page with 0 axe-core violations, at desktop and phone width,
and used by keyboard."""

from __future__ import annotations

import uuid

from playwright.async_api import Browser, Page, ViewportSize, expect

from tests.api.dashboard_session import PASSWORD, make_operator
from tests.browser.conftest import PHONE, accessible_page
from tests.conftest import Service, ServiceFactory

DESKTOP: ViewportSize = {"width": 1200, "height": 900}


async def some_runs(service: Service) -> str:
    """Runs of two clients, one failed (its id returned)."""
    acme = await service.new_client("acme")
    globex = await service.new_client("globex")
    for number in range(3):
        await acme.wait(await acme.acting_for("alice").run("testkit.noop", {"value": number}))
    await globex.wait(await globex.run("testkit.noop", {"value": "globex"}))
    failed = await acme.acting_for("bob").run(
        "testkit.flaky", {"key": f"browser-{uuid.uuid4()}", "failures": 1, "mode": "halt"}
    )
    assert (await acme.wait(failed))["status"] == "error"
    return failed


async def sign_in(page: Page, service: Service) -> None:
    await page.goto(f"{service.base_url}/dashboard")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    # By keyboard: the name field, the password, Enter.
    await page.get_by_label("Name").fill("ada")
    await page.keyboard.press("Tab")
    await page.keyboard.type(PASSWORD)
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Runs")


async def test_sign_in_filter_open_a_failed_run_and_retry_it(
    browser: Browser, start_service: ServiceFactory
) -> None:
    service = await start_service()
    await make_operator(service)
    failed = await some_runs(service)
    page = await browser.new_page(viewport=DESKTOP)
    await page.goto(f"{service.base_url}/dashboard/runs")
    await accessible_page(page, "dashboard-sign-in")
    await sign_in(page, service)
    await expect(page.locator("#rows tr")).to_have_count(5)
    await expect(
        page.get_by_role("img", name="4 success, 1 error in the last hour")
    ).to_be_visible()
    await accessible_page(page, "dashboard-runs", full_page=True)

    await page.get_by_label("Status").select_option("error")
    await page.get_by_role("button", name="Filter").click()
    await expect(page.locator("#rows tr")).to_have_count(1)
    await expect(page.locator("#rows")).to_contain_text("testkit.flaky")

    await page.get_by_role("link", name=failed[:8]).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Run of testkit.flaky")
    await expect(page.locator("#error-1")).to_contain_text("the record does not exist")
    await expect(page.locator("#run-status")).to_have_text("error")
    await accessible_page(page, "dashboard-run-failed", full_page=True)

    await page.get_by_role("button", name="Retry: a new run with the same inputs").click()
    await expect(page.locator("#retried")).to_contain_text(f"run {failed[:8]}")
    # The new run is the same client's and end user's; it succeeds this time.
    retried_id = page.url.split("/")[-1].split("?")[0]
    acme = service.engine.store
    run = await acme.get_run(retried_id)
    assert run is not None and run.end_user_id == "bob" and run.inputs["key"].startswith("browser-")
    await page.reload()
    await expect(page.locator("#run-status")).to_have_text("success", timeout=20_000)


async def test_runs_finishing_appear_without_a_reload(
    browser: Browser, start_service: ServiceFactory
) -> None:
    service = await start_service()
    await make_operator(service)
    acme = await service.new_client("acme")
    page = await browser.new_page(viewport=DESKTOP)
    await sign_in(page, service)
    await expect(page.locator("#rows")).to_have_text("No runs match.")
    await acme.wait(await acme.run("testkit.noop", {"value": "live"}))
    await expect(page.locator("#rows tr")).to_have_count(1, timeout=15_000)
    await expect(page.locator("#rows")).to_contain_text("success")


async def test_every_page_is_accessible_and_fits_a_phone(
    browser: Browser, start_service: ServiceFactory
) -> None:
    service = await start_service()
    await make_operator(service)
    failed = await some_runs(service)
    acme = await service.new_client("initech")
    await acme.acting_for("carol").connect("secretive", {"api_key": "sk-phone-key"})
    desktop = await browser.new_page(viewport=DESKTOP)
    await sign_in(desktop, service)
    for section in ("Connections", "Catalogue", "Clients"):
        await desktop.get_by_role("link", name=section, exact=True).click()
        await expect(desktop.get_by_role("heading", level=1)).to_have_text(section)
        await accessible_page(desktop, f"dashboard-{section.lower()}")
    assert "sk-phone-key" not in await desktop.content()

    context = await browser.new_context(viewport=PHONE)
    small = await context.new_page()
    await sign_in(small, service)
    pages = {"runs": "runs", "run": f"runs/{failed}", "connections": "connections"}
    pages |= {"catalogue": "catalogue", "clients": "clients"}
    for picture, path in pages.items():
        await small.goto(f"{service.base_url}/dashboard/{path}")
        await accessible_page(small, f"dashboard-phone-{picture}")


async def test_try_an_action_with_its_form_as_a_dry_run_then_for_real(
    browser: Browser, start_service: ServiceFactory
) -> None:
    service = await start_service()
    await make_operator(service)
    await service.new_client("acme")
    page = await browser.new_page(viewport=DESKTOP)
    await sign_in(page, service)
    await page.get_by_role("link", name="Catalogue", exact=True).click()
    await page.locator("#app-testkit summary").click()
    await page.get_by_role("link", name="Try testkit.noop").click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Try No-op")

    # By keyboard: the client (its choices then load the dynamic field's), the end user.
    client = page.get_by_label("Client (required)")
    await client.focus()
    await page.keyboard.press("ArrowDown")
    await expect(client).not_to_have_value("")
    await page.keyboard.press("Tab")
    await page.keyboard.type("dora")
    await expect(page.locator("#field-3-status")).to_have_text("25 choices loaded.")  # 3 pages
    await page.get_by_label("Color").select_option("c3")
    await page.get_by_label("Size").select_option("m")
    await page.get_by_label("Count").fill("3")
    await page.get_by_role("button", name="Dry run").focus()
    await page.keyboard.press("Enter")
    await expect(page.locator("#dry-run")).to_contain_text("Dry run: it would run")
    await expect(page.locator("#dry-run-inputs")).to_contain_text('"color": "c3"')
    await expect(page.get_by_label("Color")).to_have_value("c3")  # kept, choices reloaded
    await accessible_page(page, "dashboard-try", full_page=True)
    assert await service.stored_runs() == 0

    await page.get_by_role("button", name="Run it for real").click()
    await expect(page.locator("#tried")).to_contain_text("a normal run of testkit.noop")
    await page.reload()
    await expect(page.locator("#run-status")).to_have_text("success", timeout=20_000)

    phone = await browser.new_context(viewport=PHONE)
    small = await phone.new_page()
    await sign_in(small, service)
    await small.goto(f"{service.base_url}/dashboard/catalogue/testkit/noop")
    await accessible_page(small, "dashboard-phone-try")
