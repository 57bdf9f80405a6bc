"""Signing in to the dashboard, for its API and browser tests: an operator made quickly
(scrypt at a low cost), and a browser-like client that keeps the session's cookie."""

from __future__ import annotations

import re

import httpx2

from tests.conftest import Service

PASSWORD = "correct horse battery"
# A cheap scrypt for tests: the default costs 128 MiB and a third of a second a check.
TEST_SCRYPT_N = 2**10


async def make_operator(service: Service, name: str = "ada") -> None:
    service.engine.operators.scrypt_n = TEST_SCRYPT_N
    await service.engine.operators.create(name, PASSWORD)


def csrf_token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no CSRF token"
    return found.group(1)


async def signed_in(service: Service, name: str = "ada") -> tuple[httpx2.AsyncClient, str]:
    """A client signed in as ``name``, and its session's CSRF token."""
    browser = httpx2.AsyncClient(base_url=service.base_url, timeout=30)
    form = await browser.get("/dashboard/sign-in")
    response = await browser.post(
        "/dashboard/sign-in",
        data={"name": name, "password": PASSWORD, "csrf_token": csrf_token(form.text)},
    )
    assert response.status_code == 303, response.text
    runs = await browser.get("/dashboard/runs")
    assert runs.status_code == 200, runs.text
    return browser, csrf_token(runs.text)
