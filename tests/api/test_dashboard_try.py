"""Trying an action from the dashboard's catalogue: a form made from its fields, a dry run
that checks and runs nothing, a run for real, for a client or a connection, CSRF-protected,
with dynamic choices fetched as the chosen client or connection sees them."""

from __future__ import annotations

import json
import re

from tests.api.dashboard_session import make_operator, signed_in
from tests.conftest import Service

NOOP = "/dashboard/catalogue/testkit/noop"


def _problem(page: str, label: str) -> str:
    found = re.search(rf'class="problem tight" id="field-\d+-problem">{label} ([^<]+)<', page)
    return found.group(1) if found else ""


async def test_the_form_is_made_from_the_actions_fields(service: Service) -> None:
    await make_operator(service)
    browser, _ = await signed_in(service)
    catalogue = (await browser.get("/dashboard/catalogue")).text
    assert f'href="{NOOP}"' in catalogue
    page = (await browser.get(NOOP)).text
    # A static choice is a select of its choices; a dynamic one is fetched; numbers are numbers.
    size = page.split('name="input.size"')[1].split("</select>")[0]
    assert re.findall(r'<option value="(\w*)"', size) == ["", "s", "m", "l"]
    assert 'data-choices="color"' in page
    assert re.search(r'name="input.count"[^>]*type="number"', page)
    flaky = (await browser.get("/dashboard/catalogue/testkit/flaky")).text
    key = flaky.split('for="field-1">')[1].split("</label>")[0]
    assert "Key" in key and "(required)" in key
    assert 'name="input.key" required aria-required="true"' in flaky
    missing = await browser.get("/dashboard/catalogue/testkit/nothing")
    assert missing.status_code == 404


async def test_a_dry_run_checks_and_runs_nothing_and_a_real_run_is_a_run(
    service: Service,
) -> None:
    await make_operator(service)
    acme = await service.new_client("acme")
    browser, token = await signed_in(service)
    form = {"csrf_token": token, "client": acme.client_id, "end_user": "dora"}
    wrong = await browser.post(NOOP, data=form | {"input.count": "many", "mode": "dry"})
    assert wrong.status_code == 400
    assert _problem(wrong.text, "Count") == "must be an integer"
    assert 'value="many"' in wrong.text  # what was typed stays

    dry = await browser.post(
        NOOP, data=form | {"input.count": "7", "input.size": "m", "mode": "dry"}
    )
    assert dry.status_code == 200, dry.text
    assert "Dry run: it would run" in dry.text
    shown = dry.text.split('<pre id="dry-run-inputs">')[1].split("</pre>")[0]
    assert json.loads(shown.replace("&#34;", '"')) == {"count": 7, "size": "m"}
    assert await service.stored_runs() == 0

    refused = await browser.post(NOOP, data={**form, "csrf_token": "forged", "mode": "run"})
    assert refused.status_code == 403
    real = await browser.post(NOOP, data=form | {"input.value": "for real", "mode": "run"})
    assert real.status_code == 303
    run_id = real.headers["location"].split("/")[-1].split("?")[0]
    run = await acme.acting_for("dora").wait(run_id)
    assert run["status"] == "success" and run["results"][0]["value"] == "for real"
    page = (await browser.get(real.headers["location"])).text
    assert "Started from the catalogue" in page
    assert (await browser.post(NOOP, data={"csrf_token": token, "mode": "dry"})).status_code == 400


async def test_an_app_that_needs_a_connection_runs_as_that_connections_client(
    service: Service,
) -> None:
    await make_operator(service)
    acme = await service.new_client("acme")
    connection = await acme.acting_for("erin").connect("secretive", {"api_key": "sk-try-key"})
    browser, token = await signed_in(service)
    path = "/dashboard/catalogue/secretive/echo"
    page = (await browser.get(path)).text
    assert "client acme" in page and "end user erin" in page and "sk-try-key" not in page
    unchosen = await browser.post(path, data={"csrf_token": token, "mode": "dry"})
    assert unchosen.status_code == 400 and "Choose a connection" in unchosen.text
    form = {"csrf_token": token, "authentication": connection, "input.fail": "false"}
    dry = await browser.post(path, data=form | {"mode": "dry"})
    assert dry.status_code == 200 and "test account" in dry.text  # the connection's test
    assert "sk-try-key" not in dry.text
    real = await browser.post(path, data=form | {"mode": "run"})
    run_id = real.headers["location"].split("/")[-1].split("?")[0]
    run = await acme.acting_for("erin").wait(run_id)
    assert run["status"] == "success" and run["authentication"] == connection


async def test_dynamic_choices_are_fetched_as_the_chosen_client_sees_them(
    service: Service,
) -> None:
    await make_operator(service)
    acme = await service.new_client("acme")
    browser, _ = await signed_in(service)
    choices = await browser.get(
        f"{NOOP}/choices", params={"field": "color", "client": acme.client_id}
    )
    answer = choices.json()
    assert choices.status_code == 200 and answer["has_more"] is True
    assert answer["choices"][:2] == [
        {"value": "c0", "label": "Color 0"},
        {"value": "c1", "label": "Color 1"},
    ]
    last = await browser.get(
        f"{NOOP}/choices", params={"field": "color", "client": acme.client_id, "page": 3}
    )
    values = [choice["value"] for choice in last.json()["choices"]]
    assert values == [f"c{n}" for n in range(20, 25)]
    assert last.json()["has_more"] is False
    unchosen = await browser.get(f"{NOOP}/choices", params={"field": "color"})
    assert unchosen.status_code == 400 and "client" in unchosen.json()["error"]
    stranger = await service.http.get(f"{NOOP}/choices", params={"field": "color"})
    assert stranger.status_code == 303  # to sign in


async def test_fields_that_depend_on_others_are_shown_and_checked(service: Service) -> None:
    await make_operator(service)
    acme = await service.new_client("acme")
    browser, token = await signed_in(service)
    path = "/dashboard/catalogue/testkit/area"
    page = (await browser.get(path)).text
    assert 'value="fields"' in page and "Other fields depend on it" in page
    assert 'name="input.radius"' not in page
    form = {"csrf_token": token, "client": acme.client_id, "input.shape": "circle"}
    circle = await browser.post(path, data=form | {"mode": "fields"})
    assert circle.status_code == 200 and 'name="input.radius" required' in circle.text
    assert 'name="input.width"' not in circle.text
    missing = await browser.post(path, data=form | {"mode": "dry"})
    assert missing.status_code == 400 and _problem(missing.text, "Radius") == "is required"
    dry = await browser.post(path, data=form | {"input.radius": "2", "mode": "dry"})
    assert dry.status_code == 200, dry.text
    shown = dry.text.split('<pre id="dry-run-inputs">')[1].split("</pre>")[0]
    assert json.loads(shown.replace("&#34;", '"')) == {"radius": 2, "shape": "circle"}
    real = await browser.post(path, data=form | {"input.radius": "2", "mode": "run"})
    run = await acme.wait(real.headers["location"].split("/")[-1].split("?")[0])
    assert run["status"] == "success" and run["results"] == [{"area": 12.57}]
