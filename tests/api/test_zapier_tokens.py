"""Token exchange as Zapier's clients send it, the sign-in actionruns does not have, and
Zapier's resources that are out of scope."""

from __future__ import annotations

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.api.test_end_users import assertion, exchange, pem, rsa_key
from tests.conftest import ApiClient, Service

__all__ = ["rsa_key"]  # the fixture, for the test below

EXTERNAL_JWT = "urn:ietf:params:oauth:token-type:external-jwt"
ACCESS_TOKEN = "urn:ietf:params:oauth:token-type:access-token"  # Zapier's clients' spelling
CONNECT_TOKEN = "urn:ietf:params:oauth:token-type:connect-token"


async def test_a_partner_jwt_sent_as_external_jwt_with_client_credentials(
    service: Service, acme: ApiClient, rsa_key: rsa.RSAPrivateKey
) -> None:
    key = rsa_key
    await service.engine.clients.add_key(acme.client_id, pem(key), "k1")

    def subject() -> str:
        """A new subject token each time: each is good for one exchange."""
        claims = jwt.decode(
            assertion(service, acme, "x" * 32, "HS256"), options={"verify_signature": False}
        )
        return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})

    response = await exchange(
        service,
        subject(),
        subject_token_type=EXTERNAL_JWT,
        requested_token_type=ACCESS_TOKEN,
        client_id=acme.client_id,
        client_secret=acme.client_secret,
        scope="action:run connection:read",
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (
        body["issued_token_type"] == ACCESS_TOKEN and body["scope"] == "action:run connection:read"
    )
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["end_user"] == "alice"

    wrong_secret = await exchange(
        service,
        subject(),
        subject_token_type=EXTERNAL_JWT,
        client_id=acme.client_id,
        client_secret="cs_wrong",
    )
    assert wrong_secret.status_code == 401 and wrong_secret.json()["error"] == "invalid_client"
    other = await service.new_client("other")
    crossed = await exchange(
        service,
        subject(),
        subject_token_type=EXTERNAL_JWT,
        client_id=other.client_id,
        client_secret=other.client_secret,
    )
    assert crossed.status_code == 400 and crossed.json()["error"] == "invalid_grant"


async def test_a_connect_token_from_an_access_token_as_zapiers_clients_ask(
    service: Service, acme: ApiClient
) -> None:
    await service.engine.clients.set_redirect_uris(acme.client_id, ["https://app.example/back"])
    secret = acme.signing_secret
    user = await exchange(service, assertion(service, acme, secret, "HS256"))
    access_token = user.json()["access_token"]
    response = await exchange(
        service,
        access_token,
        subject_token_type=ACCESS_TOKEN,
        requested_token_type=CONNECT_TOKEN,
        scope="connection:write",
        resource="https://connect.zapier.com/to/secretive",
        client_id=acme.client_id,
        client_secret=acme.client_secret,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["issued_token_type"] == CONNECT_TOKEN and body["token_type"] == "N_A"
    assert body["access_token"] == body["token"]
    assert (body["type"], body["app"], body["end_user"]) == ("connect_token", "secretive", "alice")
    assert body["url"].startswith(f"{service.base_url}/connect/secretive?token=")
    page = await service.http.get(body["url"])
    assert page.status_code == 200 and "Secretive" in page.text

    # The same document POST /v2/connect-tokens gives.
    direct = await acme.acting_for("alice").post(
        "/v2/connect-tokens",
        json={"data": {"app": "secretive", "redirect_uri": "https://app.example/back"}},
    )
    assert set(direct.json()["data"][0]) == set(body) - {
        "access_token",
        "issued_token_type",
        "token_type",
    }

    # Straight from the partner's JWT, the resource naming the app by its key.
    from_jwt = await exchange(
        service,
        assertion(service, acme, secret, "HS256"),
        subject_token_type=EXTERNAL_JWT,
        requested_token_type=CONNECT_TOKEN,
        resource="secretive",
    )
    assert from_jwt.status_code == 200, from_jwt.text
    for resource, error in [
        ("https://connect.zapier.com/to/nope", "invalid_target"),
        ("", "invalid_target"),
    ]:
        refused = await exchange(
            service,
            access_token,
            subject_token_type=ACCESS_TOKEN,
            requested_token_type=CONNECT_TOKEN,
            resource=resource,
        )
        assert refused.status_code == 400 and refused.json()["error"] == error, refused.text
    # An access token is exchanged only for a connect token, never for another access token.
    again = await exchange(service, access_token, subject_token_type=ACCESS_TOKEN)
    assert again.status_code == 400 and again.json()["error"] == "invalid_request"
    forged = await exchange(
        service,
        "not-a-token",
        subject_token_type=ACCESS_TOKEN,
        requested_token_type=CONNECT_TOKEN,
        resource="secretive",
    )
    assert forged.status_code == 400 and forged.json()["error"] == "invalid_grant"


async def test_a_connect_token_needs_a_write_scope_and_a_redirect_uri(
    service: Service,
) -> None:
    reader = await service.new_client("reader", scopes=["zap", "authentication"])
    token = reader.token
    refused = await exchange(
        service,
        token,
        subject_token_type=ACCESS_TOKEN,
        requested_token_type=CONNECT_TOKEN,
        resource="secretive",
    )
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_scope"
    writer = await service.new_client("writer")
    nowhere = await exchange(
        service,
        writer.token,
        subject_token_type=ACCESS_TOKEN,
        requested_token_type=CONNECT_TOKEN,
        resource="secretive",
    )
    assert nowhere.status_code == 400 and "redirect" in nowhere.json()["error_description"]


async def test_there_is_no_user_sign_in_and_no_zaps(service: Service, acme: ApiClient) -> None:
    for method, path in [
        ("GET", "/oauth/authorize?response_type=code&client_id=x"),
        ("GET", "/oauth/authorize/"),
        ("GET", "/v2/authorize"),
    ]:
        response = await service.http.request(method, path)
        assert response.status_code == 400, path
        body = response.json()
        assert body["error"] == "unsupported_response_type"
        assert "client credentials" in body["errors"][0]["detail"]
    for path in (
        "/v2/zaps",
        "/v2/zap-templates/",
        "/v1/zap-templates",
        "/v2/zap-runs",
        "/v1/profiles/me",
        "/v2/trigger-inboxes/abc/messages",
    ):
        response = await acme.get(path)
        assert response.status_code == 404, path
        [error] = response.json()["errors"]
        assert error["code"] == "not_found" and "not part of actionruns" in error["detail"]
