"""A real browser for the pages: Debian's chromium, driven by Playwright. Without it the
tests skip and say why; under CI they fail (.ci/run installs it from Debian's packages)."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, async_playwright

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
