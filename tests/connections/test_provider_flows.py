"""OAuth2 with real providers' conventions, emulated at the HTTP level: each authorization
URL and token request checked against what Slack (OAuth v2) and GitHub document, and their
answers, errors included, read the way they send them."""

from __future__ import annotations

import base64
import hashlib
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest

from actionruns.connections.oauth import OAuthClient, OAuthFlows, StateInvalid
from actionruns.connectors import github, hubspot, slack
from actionruns.sdk import App, ExpiredAuthError
from actionruns.vault import Keyring, Vault

CLIENT = OAuthClient("2141029472.691202649728", "e1b9e11dfcd19c1982d5de12921e17e8c")
BASE = "https://actionruns.example.com"


def flows() -> OAuthFlows:
    return OAuthFlows(Vault(Keyring.generate()), BASE, clock=lambda: 1_800_000_000.0)


def provider(
    answer: dict[str, Any], status: int = 200
) -> tuple[httpx2.MockTransport, list[httpx2.Request]]:
    seen: list[httpx2.Request] = []

    def handle(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return httpx2.Response(status, json=answer)

    return httpx2.MockTransport(handle), seen


def authorize(app: App) -> tuple[dict[str, str], str | None]:
    """The authorization URL's parameters, and the PKCE verifier sealed in its state."""
    sealing = flows()
    url = sealing.authorization_url(
        app, CLIENT, {"token": "t"}, httpx2.MockTransport(lambda r: httpx2.Response(500))
    )
    params = {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}
    state = sealing.open_state(params["state"])
    return params | {"_url": url.split("?")[0]}, state["verifier"]


def challenge_of(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def form(request: httpx2.Request) -> dict[str, str]:
    assert request.headers["content-type"].startswith("application/x-www-form-urlencoded")
    return {key: values[0] for key, values in parse_qs(request.content.decode()).items()}


def test_slack_authorize_url_asks_for_bot_scopes_with_commas() -> None:
    params, verifier = authorize(slack.app)
    assert params["_url"] == "https://slack.com/oauth/v2/authorize"
    assert params["client_id"] == CLIENT.client_id and params["response_type"] == "code"
    assert params["scope"] == ",".join(slack.BOT_SCOPES) and " " not in params["scope"]
    assert params["redirect_uri"] == f"{BASE}/connect/oauth/callback"
    assert verifier and params["code_challenge"] == challenge_of(verifier)
    assert params["code_challenge_method"] == "S256"


async def test_slack_code_exchange_uses_basic_auth_and_keeps_the_bot_token() -> None:
    transport, seen = provider(
        {
            "ok": True,
            "access_token": "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy",
            "token_type": "bot",
            "scope": "chat:write,channels:read",
            "bot_user_id": "U0KRQLJ9H",
            "app_id": "A0KRD7HC3",
            "team": {"name": "Slack Softball Team", "id": "T9TK3CUKW"},
            "enterprise": None,
            "authed_user": {"id": "U1234", "access_token": "xoxp-1234", "token_type": "user"},
        }
    )
    credentials = await flows().exchange_code(
        slack.app, CLIENT, "4724469134.4644", "v" * 43, transport
    )

    [request] = seen
    assert str(request.url) == "https://slack.com/api/oauth.v2.access"
    basic = base64.b64encode(f"{CLIENT.client_id}:{CLIENT.client_secret}".encode()).decode()
    assert request.headers["authorization"] == f"Basic {basic}"
    sent = form(request)
    assert sent == {
        "grant_type": "authorization_code",
        "code": "4724469134.4644",
        "redirect_uri": f"{BASE}/connect/oauth/callback",
        "code_verifier": "v" * 43,
    }
    assert credentials["access_token"].startswith("xoxb-")
    assert credentials["team"] == {"name": "Slack Softball Team", "id": "T9TK3CUKW"}
    assert "authed_user" not in credentials and "ok" not in credentials


async def test_slack_refuses_with_ok_false_in_a_200() -> None:
    transport, _ = provider({"ok": False, "error": "invalid_code"})
    with pytest.raises(ExpiredAuthError, match="invalid_code"):
        await flows().exchange_code(slack.app, CLIENT, "stale", "v" * 43, transport)


async def test_slack_token_rotation_refresh() -> None:
    transport, seen = provider(
        {
            "ok": True,
            "access_token": "xoxe.xoxb-1-new",
            "refresh_token": "xoxe-1-new",
            "expires_in": 43200,
            "token_type": "bot",
            "team": {"name": "Slack Softball Team", "id": "T9TK3CUKW"},
        }
    )
    refreshed = await flows().refresh(
        slack.app,
        CLIENT,
        {"access_token": "xoxe.xoxb-1-old", "refresh_token": "xoxe-1-old"},
        transport,
    )
    assert form(seen[0]) == {"grant_type": "refresh_token", "refresh_token": "xoxe-1-old"}
    assert refreshed["refresh_token"] == "xoxe-1-new"
    assert refreshed["expires_at"] == 1_800_000_000.0 + 43200


def test_github_authorize_url() -> None:
    params, verifier = authorize(github.app)
    assert params["_url"] == "https://github.com/login/oauth/authorize"
    assert params["scope"] == "repo" and params["client_id"] == CLIENT.client_id
    assert verifier and params["code_challenge"] == challenge_of(verifier)


async def test_github_code_exchange_sends_the_secret_in_the_form_and_asks_for_json() -> None:
    transport, seen = provider(
        {
            "access_token": "gho_16C7e42F292c6912E7710c838347Ae178B4a",
            "scope": "repo",
            "token_type": "bearer",
        }
    )
    credentials = await flows().exchange_code(github.app, CLIENT, "code-1", "w" * 43, transport)
    [request] = seen
    assert str(request.url) == "https://github.com/login/oauth/access_token"
    assert request.headers["accept"] == "application/json"
    sent = form(request)
    assert sent["client_id"] == CLIENT.client_id and sent["client_secret"] == CLIENT.client_secret
    assert sent["code"] == "code-1" and sent["code_verifier"] == "w" * 43
    assert sent["redirect_uri"] == f"{BASE}/connect/oauth/callback"
    assert credentials == {
        "access_token": "gho_16C7e42F292c6912E7710c838347Ae178B4a",
        "scope": "repo",
        "token_type": "bearer",
    }


async def test_github_refuses_with_an_error_in_a_200() -> None:
    transport, _ = provider(
        {
            "error": "bad_verification_code",
            "error_description": "The code passed is incorrect or expired.",
            "error_uri": "https://docs.github.com/apps/troubleshooting-oauth-errors",
        }
    )
    with pytest.raises(ExpiredAuthError, match="bad_verification_code: The code passed"):
        await flows().exchange_code(github.app, CLIENT, "old", "w" * 43, transport)


@pytest.mark.parametrize(
    ("status", "answer", "kind"),
    [
        (503, {"message": "unavailable"}, "TransientError"),
        (400, {"error": "invalid_grant"}, "ExpiredAuthError"),
        (200, {"token_type": "bearer"}, "TransientError"),
    ],
)
async def test_refresh_failures_are_classified(
    status: int, answer: dict[str, Any], kind: str
) -> None:
    transport, _ = provider(answer, status)
    with pytest.raises(Exception) as caught:
        await flows().refresh(
            github.app, CLIENT, {"access_token": "a", "refresh_token": "rt-secret-value"}, transport
        )
    assert type(caught.value).__name__ == kind
    assert "rt-secret-value" not in str(caught.value)


async def test_a_state_from_elsewhere_or_too_old_is_refused() -> None:
    sealing = flows()
    state = sealing.seal_state({"token": "t"})
    with pytest.raises(StateInvalid):
        flows().open_state(state)  # sealed with another key set
    with pytest.raises(StateInvalid):
        sealing.open_state(state[:-4] + "AAAA")
    late = OAuthFlows(sealing.vault, BASE, clock=lambda: 1_800_000_000.0 + 3600)
    with pytest.raises(StateInvalid, match="too long"):
        late.open_state(state)


def test_hubspot_authorize_url() -> None:
    params, verifier = authorize(hubspot.app)
    assert params["_url"] == "https://app.hubspot.com/oauth/authorize"
    assert (
        params["scope"].split(" ")[0] == "oauth" and "crm.objects.contacts.write" in params["scope"]
    )
    assert verifier and params["code_challenge_method"] == "S256"


async def test_hubspot_tokens_last_thirty_minutes_and_refresh_with_the_secret_in_the_form() -> None:
    answer = {
        "access_token": "CJSP5qf1KhICAQEYs-gDIIGOBii1-recorded",
        "refresh_token": "6f18f21e-a743-4509-b7fd-1a5e632fffa1",
        "expires_in": 1800,
        "token_type": "bearer",
    }
    transport, seen = provider(answer)
    credentials = await flows().exchange_code(hubspot.app, CLIENT, "code-hs", "h" * 43, transport)
    sent = form(seen[0])
    assert str(seen[0].url) == "https://api.hubapi.com/oauth/v1/token"
    assert (
        sent["grant_type"] == "authorization_code" and sent["client_secret"] == CLIENT.client_secret
    )
    assert credentials["expires_at"] == 1_800_000_000.0 + 1800

    refreshed = await flows().refresh(hubspot.app, CLIENT, credentials, transport)
    assert form(seen[1]) == {
        "grant_type": "refresh_token",
        "refresh_token": "6f18f21e-a743-4509-b7fd-1a5e632fffa1",
        "client_id": CLIENT.client_id,
        "client_secret": CLIENT.client_secret,
    }
    assert refreshed["access_token"] == answer["access_token"]
