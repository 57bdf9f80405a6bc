"""The operators' dashboard over HTTP: who may open it (a signed-in operator, never an API
token), its cookies, CSRF on every form, session expiry, throttled sign-in, the pages'
content across clients, a retry, and ACTIONRUNS_DASHBOARD=off."""

from __future__ import annotations

import asyncio
import uuid

import httpx2
from pytest_httpserver import HTTPServer
from werkzeug import Response

from actionruns.engine.operators import SESSION_SECONDS, hash_password, password_matches
from tests.api.dashboard_session import PASSWORD, csrf_token, make_operator, signed_in
from tests.conftest import Service, ServiceFactory
from tests.processes import CLI, cli_environment

PAGES = (
    "/dashboard/runs",
    "/dashboard/connections",
    "/dashboard/catalogue",
    "/dashboard/clients",
)


def test_a_password_is_stored_as_a_salted_scrypt_hash() -> None:
    stored = hash_password("hunter2hunter2", n=2**10)
    assert stored.startswith("scrypt$1024$8$1$") and "hunter2" not in stored
    assert stored != hash_password("hunter2hunter2", n=2**10)  # salted
    assert password_matches("hunter2hunter2", stored)
    assert not password_matches("hunter2hunter3", stored)


async def test_every_page_sends_a_stranger_to_sign_in_even_with_an_api_token(
    service: Service,
) -> None:
    acme = await service.new_client("acme")
    await acme.run("testkit.noop", {"value": "private"})
    for path in PAGES:
        for headers in ({}, acme.headers):
            response = await service.http.get(path, headers=headers)
            assert response.status_code == 303, (path, response.text)
            assert response.headers["location"].startswith("/dashboard/sign-in?next=")
            assert "private" not in response.text


async def test_sign_in_sets_a_strict_http_only_cookie_and_opens_every_page(
    service: Service,
) -> None:
    await make_operator(service)
    acme = await service.new_client("acme")
    globex = await service.new_client("globex")
    ran = [await acme.run("testkit.noop", {}), await globex.run("testkit.noop", {})]
    browser = httpx2.AsyncClient(base_url=service.base_url, timeout=30)
    form = await browser.get("/dashboard/sign-in")
    assert "SameSite=strict" in form.headers["set-cookie"]
    response = await browser.post(
        "/dashboard/sign-in",
        data={"name": "ada", "password": PASSWORD, "csrf_token": csrf_token(form.text)},
    )
    assert response.status_code == 303
    cookie = response.headers.get_list("set-cookie")[0]
    assert cookie.startswith("actionruns_operator=")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/dashboard" in cookie
    assert "Secure" not in cookie  # served over plain HTTP here
    for path in PAGES:
        page = await browser.get(path)
        assert page.status_code == 200, path
        assert "script-src 'nonce-" in page.headers["content-security-policy"]
    runs = (await browser.get("/dashboard/runs")).text
    assert all(run_id[:8] in runs for run_id in ran)  # every client's, for the operator
    clients = (await browser.get("/dashboard/clients")).text
    assert "acme" in clients and "globex" in clients


async def test_the_cookie_is_secure_when_the_service_is_served_over_https(
    start_service: ServiceFactory,
) -> None:
    service = await start_service(public_url="https://runs.example.com")
    await make_operator(service)
    form = await service.http.get("/dashboard/sign-in")
    form_cookie = form.headers["set-cookie"]
    assert "Secure" in form_cookie
    # Over this test's plain HTTP a client keeps no Secure cookie: it is sent back by hand.
    response = await service.http.post(
        "/dashboard/sign-in",
        data={"name": "ada", "password": PASSWORD, "csrf_token": csrf_token(form.text)},
        headers={"Cookie": form_cookie.split(";")[0]},
    )
    assert response.status_code == 303
    assert "Secure" in response.headers.get_list("set-cookie")[0]


async def test_a_wrong_password_is_refused_and_repeated_failures_are_throttled(
    service: Service,
) -> None:
    await make_operator(service)
    browser = httpx2.AsyncClient(base_url=service.base_url, timeout=30)
    statuses = []
    for _ in range(6):
        form = await browser.get("/dashboard/sign-in")
        response = await browser.post(
            "/dashboard/sign-in",
            data={"name": "ada", "password": "wrong", "csrf_token": csrf_token(form.text)},
        )
        statuses.append(response.status_code)
    assert statuses == [401] * 5 + [429]
    assert int(response.headers["retry-after"]) > 0
    # Throttled, the right password is refused too until the window ends.
    form = await browser.get("/dashboard/sign-in")
    response = await browser.post(
        "/dashboard/sign-in",
        data={"name": "ada", "password": PASSWORD, "csrf_token": csrf_token(form.text)},
    )
    assert response.status_code == 429
    service.clock.advance(61)
    form = await browser.get("/dashboard/sign-in")
    response = await browser.post(
        "/dashboard/sign-in",
        data={"name": "ada", "password": PASSWORD, "csrf_token": csrf_token(form.text)},
    )
    assert response.status_code == 303


async def test_forms_without_the_session_csrf_token_are_refused(service: Service) -> None:
    await make_operator(service)
    await make_operator(service, "grace")
    acme = await service.new_client("acme")
    run_id = await acme.run(
        "testkit.flaky", {"key": f"dashboard-{uuid.uuid4()}", "failures": 1, "mode": "halt"}
    )
    assert (await acme.wait(run_id))["status"] == "error"
    ada, _ = await signed_in(service)
    _, graces_token = await signed_in(service, "grace")
    # A sign-in posted from elsewhere: no token, or one without the form's cookie.
    stranger = httpx2.AsyncClient(base_url=service.base_url, timeout=30)
    refused = await stranger.post(
        "/dashboard/sign-in", data={"name": "ada", "password": PASSWORD, "csrf_token": "x"}
    )
    assert refused.status_code == 403
    for data in ({}, {"csrf_token": "forged"}, {"csrf_token": graces_token}):
        response = await ada.post(f"/dashboard/runs/{run_id}/retry", data=data)
        assert response.status_code == 403, data
        assert (await ada.post("/dashboard/sign-out", data=data)).status_code == 403
    assert await service.stored_runs() == 1  # nothing was retried


async def test_a_session_expires_and_signing_out_ends_it(service: Service) -> None:
    await make_operator(service)
    browser, token = await signed_in(service)
    service.clock.advance(SESSION_SECONDS + 1)
    expired = await browser.get("/dashboard/runs")
    assert expired.status_code == 303
    assert expired.headers["location"] == "/dashboard/sign-in?next=%2Fdashboard%2Fruns"

    browser, token = await signed_in(service)
    out = await browser.post("/dashboard/sign-out", data={"csrf_token": token})
    assert out.status_code == 303
    assert (await browser.get("/dashboard/runs")).status_code == 303


async def test_a_failed_run_shows_why_and_a_retry_runs_it_again(service: Service) -> None:
    await make_operator(service)
    acme = await service.new_client("acme")
    run_id = await acme.acting_for("bob").run(
        "testkit.flaky", {"key": f"dashboard-{uuid.uuid4()}", "failures": 1, "mode": "halt"}
    )
    assert (await acme.wait(run_id))["status"] == "error"
    browser, token = await signed_in(service)
    failed = await browser.get("/dashboard/runs?status=error&end_user=bob")
    assert run_id[:8] in failed.text
    detail = await browser.get(f"/dashboard/runs/{run_id}")
    assert "the record does not exist" in detail.text
    assert "Attempt 1" in detail.text
    retried = await browser.post(f"/dashboard/runs/{run_id}/retry", data={"csrf_token": token})
    assert retried.status_code == 303
    new_id = retried.headers["location"].split("/")[-1].split("?")[0]
    assert new_id != run_id
    run = await acme.acting_for("bob").wait(new_id)  # the same end user's run
    assert run["status"] == "success" and run["action"] == "testkit.flaky"


async def test_an_unknown_run_is_a_page_that_says_so(service: Service) -> None:
    await make_operator(service)
    browser, _ = await signed_in(service)
    response = await browser.get("/dashboard/runs/no-such-run")
    assert response.status_code == 404 and "No action run" in response.text


async def test_off_answers_404(start_service: ServiceFactory) -> None:
    service = await start_service(dashboard=False)
    for path in ("/dashboard", "/dashboard/sign-in", *PAGES):
        assert (await service.http.get(path)).status_code == 404, path


async def test_an_operator_made_from_the_terminal_signs_in(service: Service) -> None:
    process = await asyncio.create_subprocess_exec(
        *CLI,
        "operators",
        "create",
        "grace",
        "--password-stdin",
        env=cli_environment(service),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(f"{PASSWORD}\n".encode()), 120)
    assert process.returncode == 0, stderr.decode()
    assert "operator grace created" in stdout.decode()
    browser, _ = await signed_in(service, "grace")
    assert "Sign out grace" in (await browser.get("/dashboard/clients")).text


async def test_a_run_shows_each_callback_delivery_and_a_connection_its_last_error(
    service: Service, httpserver: HTTPServer
) -> None:
    await make_operator(service)
    acme = await service.new_client("acme")
    answers = iter([503, 200])
    httpserver.expect_request("/hook", method="POST").respond_with_handler(
        lambda request: Response("", status=next(answers))
    )
    run_id = await acme.run("testkit.noop", {}, callback_url=httpserver.url_for("/hook"))
    for _ in range(200):
        run = await service.engine.store.get_run(run_id)
        if run is not None and run.callback_status == "delivered":
            break
        await asyncio.sleep(0.05)
    authentication = await acme.acting_for("carol").connect("secretive", {"api_key": "sk-k"})
    store, now = service.engine.store, service.clock()
    assert await store.claim_refresh(authentication, "holder", now, now + 30)
    await store.release_refresh(
        authentication, "holder", now, failed=True, expired=False, error="It said no."
    )
    browser, _ = await signed_in(service)
    page = (await browser.get(f"/dashboard/runs/{run_id}")).text
    first = page.split('id="delivery-1">')[1].split("</li>")[0]
    second = page.split('id="delivery-2">')[1].split("</li>")[0]
    assert "retry" in first and "the receiver answered HTTP 503" in first
    assert "delivered" in second and "HTTP 200" in second
    connections = (await browser.get("/dashboard/connections")).text
    assert "It said no." in connections


async def test_the_clients_page_counts_each_clients_requests_and_errors(
    service: Service,
) -> None:
    await make_operator(service)
    acme = await service.new_client("acme")
    assert (await acme.get("/v2/apps")).status_code == 200
    assert (await acme.get("/v2/action-runs/no-such-run")).status_code == 404
    browser, _ = await signed_in(service)
    page = (await browser.get("/dashboard/clients")).text
    for window in ("last-hour", "last-day"):
        cell = page.split(f'id="requests-{window}-{acme.client_id}">')[1].split("</td>")[0]
        assert cell.startswith("2<br>") and "4xx 1, 5xx 0" in cell, cell
