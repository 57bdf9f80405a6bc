"""A connection test that cannot reach the server says only that, on the API and on the
Connect page alike: a closed port, an address the guard refuses and a name that does not
resolve read the same (else the page, open to anyone with a link, would map the network);
the operator's log has the reason."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from actionruns.connections.service import UNREACHABLE
from tests.conftest import ApiClient, Service, free_port

HOSTS = {
    "closed port": ("127.0.0.1", free_port()),
    "refused by the guard": ("10.20.30.40", 6379),
    "no such host": ("nowhere.invalid", 6379),
    "refused by the guard, in an IPv6 form": ("::ffff:10.20.30.40", 6379),
}


async def _connect_page_problem(service: Service, acme: ApiClient, host: str, port: int) -> str:
    await service.engine.clients.set_redirect_uris("acme", ["https://app.example.com/back"])
    created = await acme.acting_for("alice").post(
        "/v2/connect-tokens",
        json={"data": {"app": "redis", "redirect_uri": "https://app.example.com/back"}},
    )
    assert created.status_code == 201, created.text
    url = urlsplit(created.json()["data"][0]["url"])
    token = parse_qs(url.query)["token"][0]
    response = await service.http.post(
        url.path, data={"token": token, "host": host, "port": str(port), "database": "0"}
    )
    assert response.status_code == 422, response.text
    problem = re.search(r'role="alert"[^>]*>\s*(.*?)\s*<', response.text, re.S)
    assert problem is not None, response.text
    return problem.group(1)


async def test_unreachable_servers_all_read_the_same(
    service: Service, acme: ApiClient, capsys: pytest.CaptureFixture[str]
) -> None:
    answers, pages = set(), set()
    for what, (host, port) in HOSTS.items():
        # Loopback is allowed only for the closed port: the others must be refused.
        allowed = service.engine.settings.outbound_allow if what == "closed port" else ()
        service.engine.guard.allow = allowed
        response = await acme.post(
            "/v2/authentications",
            json={
                "data": {
                    "app": "redis",
                    "authentication_fields": {"host": host, "port": port, "database": 0},
                }
            },
        )
        assert response.status_code == 400, (what, response.text)
        [error] = response.json()["errors"]
        assert error["source"] == {"pointer": "/data/authentication_fields"}
        answers.add((error["detail"], str(error["meta"])))
        pages.add(await _connect_page_problem(service, acme, host, port))
    assert answers == {(UNREACHABLE, str({"code": "unreachable"}))}
    assert len(pages) == 1, pages  # in the end user's words, and one for all
    logged = capsys.readouterr().err
    # The operator sees each reason.
    assert "Connection refused" in logged or "could not be reached" in logged
    assert "loopback" not in logged  # nothing was refused for being loopback here
    assert "private (RFC 1918)" in logged
    assert "could not be resolved" in logged
