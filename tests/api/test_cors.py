"""CORS for the origins the operator lists, on the API only: never on the Connect page (its
form posts) or the operator's pages."""

from __future__ import annotations

from tests.conftest import Service, ServiceFactory

PARTNER_APP = "https://app.example.com"


def preflight(origin: str, method: str = "POST") -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
    }


async def test_a_listed_origin_may_call_the_api_from_a_browser(
    start_service: ServiceFactory,
) -> None:
    service = await start_service(cors_origins=(PARTNER_APP,))
    acme = await service.new_client("acme")
    answer = await service.http.options("/v2/action-runs", headers=preflight(PARTNER_APP))
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == PARTNER_APP
    assert "idempotency-key" in answer.headers["access-control-allow-headers"].lower()

    run = await acme.post(
        "/v2/action-runs",
        headers={"Origin": PARTNER_APP},
        json={"data": {"action": "testkit.noop", "inputs": {"value": "x"}}},
    )
    assert run.status_code == 200, run.text
    assert run.headers["access-control-allow-origin"] == PARTNER_APP
    exposed = run.headers["access-control-expose-headers"]
    assert "Location" in exposed and "Retry-After" in exposed
    token = await service.http.options("/oauth/token", headers=preflight(PARTNER_APP))
    assert token.headers["access-control-allow-origin"] == PARTNER_APP


async def test_other_origins_and_the_pages_get_no_cors(start_service: ServiceFactory) -> None:
    service = await start_service(cors_origins=(PARTNER_APP,))
    elsewhere = await service.http.options(
        "/v2/action-runs", headers=preflight("https://evil.example.org")
    )
    assert elsewhere.status_code == 400
    assert "access-control-allow-origin" not in elsewhere.headers
    for page in ("/connect/testkit", "/docs", "/metrics"):
        answer = await service.http.options(page, headers=preflight(PARTNER_APP, "GET"))
        assert "access-control-allow-origin" not in answer.headers, page
        posted = await service.http.post(page, headers={"Origin": PARTNER_APP}, data={"a": "b"})
        assert "access-control-allow-origin" not in posted.headers, page


async def test_no_origin_is_allowed_unless_listed(service: Service) -> None:
    answer = await service.http.options("/v2/action-runs", headers=preflight(PARTNER_APP))
    assert answer.status_code == 405
    assert "access-control-allow-origin" not in answer.headers
    assert answer.json()["errors"][0]["code"] == "method_not_allowed"
