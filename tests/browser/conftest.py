"""A real browser for the pages: Debian's chromium, driven by Playwright. Without it the
tests skip and say why; under CI they fail (.ci/run installs it from Debian's packages)."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Page, ViewportSize, async_playwright

CHROMIUM_PATHS = ("/usr/bin/chromium", "/usr/bin/chromium-browser")


def chromium_path() -> str:
    for path in (os.environ.get("ACTIONRUNS_CHROMIUM", ""), *CHROMIUM_PATHS):
        if path and shutil.which(path):
            return path
    message = "Debian's chromium is not installed (apt-get install chromium)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message}: under CI it must run", pytrace=False)
    pytest.skip(message)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    executable = chromium_path()
    async with async_playwright() as playwright:
        # The system's browser, never a downloaded one; no sandbox as the CI user is root.
        launched = await playwright.chromium.launch(
            executable_path=executable, headless=True, args=["--no-sandbox"]
        )
        try:
            yield launched
        finally:
            await launched.close()


PHONE: ViewportSize = {"width": 375, "height": 740}
# Set to a folder (docs/images) to keep a picture of each page for the documentation.
SCREENSHOTS = os.environ.get("ACTIONRUNS_SCREENSHOTS", "")


async def accessible_page(page: Page, picture: str, *, full_page: bool = False) -> None:
    """No axe-core violation, nothing wider than the viewport; with ACTIONRUNS_SCREENSHOTS,
    a picture named ``picture``."""
    results = await Axe().run(page)
    assert results.violations_count == 0, results.generate_report()
    width = await page.evaluate("document.documentElement.scrollWidth")
    viewport = page.viewport_size
    assert viewport is None or width <= viewport["width"], picture
    if SCREENSHOTS:
        await page.screenshot(path=str(Path(SCREENSHOTS) / f"{picture}.png"), full_page=full_page)
