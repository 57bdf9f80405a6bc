"""End users: a partner acts for them with X-End-User or a token from token exchange
(RFC 8693), and one end user never sees another's authentications or runs."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx2
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests.conftest import ApiClient, Service

TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
JWT_TYPE = "urn:ietf:params:oauth:token-type:jwt"


def assertion(service: Service, client: ApiClient, key: Any, alg: str, **claims: Any) -> str:
    now = int(time.time())
    body = {
        "iss": client.client_id,
        "sub": "alice",
        "aud": service.engine.settings.base_url,
        "iat": now,
        "exp": now + 120,
        "jti": uuid.uuid4().hex,  # each subject token is good for one exchange
        **claims,
    }
    return jwt.encode({k: v for k, v in body.items() if v is not None}, key, algorithm=alg)


async def exchange(service: Service, subject_token: str, **form: str) -> httpx2.Response:
    data = {
        "grant_type": TOKEN_EXCHANGE,
        "subject_token": subject_token,
        "subject_token_type": JWT_TYPE,
        **form,
    }
    return await service.http.post("/oauth/token", data=data)


def bound(client: ApiClient, response: httpx2.Response) -> ApiClient:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["issued_token_type"] == "urn:ietf:params:oauth:token-type:access_token"
    assert body["token_type"] == "Bearer" and body["expires_in"] > 0
    return ApiClient(
        client.service, client.client_id, "", client.signing_secret, body["access_token"]
    )


def pem(private: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    return (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


async def test_token_exchange_with_the_clients_secret_binds_a_token_to_an_end_user(
    service: Service, acme: ApiClient
) -> None:
    token = assertion(service, acme, acme.signing_secret, "HS256", sub="alice")
    alice = bound(acme, await exchange(service, token, scope="authentication authentication:write"))
    connected = await alice.connect("secretive", {"api_key": "k-alice"}, title="Alice's")
    listed = (await alice.get("/v2/authentications")).json()
    assert [item["id"] for item in listed["data"]] == [connected]
    # The token acts only for alice: naming another end user is refused.
    bob = await alice.acting_for("bob").get("/v2/authentications")
    assert bob.status_code == 403 and bob.json()["errors"][0]["source"] == {"header": "X-End-User"}
    assert (await alice.acting_for("alice").get("/v2/authentications")).status_code == 200
    # Scopes are those asked for, within the client's.
    run = await alice.post("/v2/action-runs", json={"data": {"action": "testkit.noop"}})
    assert run.status_code == 403


@pytest.mark.parametrize("kind", ["RS256", "ES256"])
async def test_token_exchange_with_a_registered_public_key(
    service: Service, acme: ApiClient, rsa_key: rsa.RSAPrivateKey, kind: str
) -> None:
    private: Any = rsa_key if kind == "RS256" else ec.generate_private_key(ec.SECP256R1())
    record = await service.engine.clients.add_key("acme", pem(private))
    assert record.algorithm == kind
    token = assertion(service, acme, private, kind, sub="carol")
    carol = bound(acme, await exchange(service, token))
    assert (await carol.get("/v2/authentications")).status_code == 200
    with_kid = jwt.encode(
        jwt.decode(token, options={"verify_signature": False}),
        private,
        algorithm=kind,
        headers={"kid": "not-registered"},
    )
    refused = await exchange(service, with_kid)
    assert refused.status_code == 400 and "no registered" in refused.json()["error_description"]


async def test_bad_assertions_are_refused_with_the_reason(
    service: Service, acme: ApiClient, rsa_key: rsa.RSAPrivateKey
) -> None:
    public_pem = pem(rsa_key)
    await service.engine.clients.add_key("acme", public_pem)
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    unsigned = jwt.encode(
        {
            "iss": acme.client_id,
            "sub": "alice",
            "aud": service.engine.settings.base_url,
            "exp": int(time.time()) + 60,
        },
        # PyJWT's annotation of ``key`` leaves out None, the only key that alg "none" accepts.
        None,  # type: ignore[arg-type]
        algorithm="none",
    )
    # HS/RS confusion: an HMAC keyed with the registered public key, which anyone can read.
    confused = _hmac_with_public_key(service, acme, public_pem)
    secret = acme.signing_secret
    cases = {
        "wrong audience": assertion(service, acme, secret, "HS256", aud="https://elsewhere"),
        "expired": assertion(service, acme, secret, "HS256", exp=int(time.time()) - 120),
        "too long-lived": assertion(service, acme, secret, "HS256", exp=int(time.time()) + 3600),
        "wrong secret": assertion(service, acme, "not-the-secret-" * 3, "HS256"),
        "wrong key": assertion(service, acme, other_key, "RS256"),
        "alg none": unsigned,
        "HS/RS confusion": confused,
        "unknown client": assertion(service, acme, secret, "HS256", iss="cl_nobody"),
        "no end user": assertion(service, acme, secret, "HS256", sub=None),
        "not a JWT": "not.a.jwt",
    }
    expected = {
        "wrong audience": "aud must be",
        "expired": "expired",
        "too long-lived": "within 5 minutes",
        "wrong secret": "signature",
        "wrong key": "signature",
        "alg none": "'none' is not accepted",
        "HS/RS confusion": "signature",
        "unknown client": "not a client",
        "no end user": "no sub claim",
        "not a JWT": "not a JWT",
    }
    for name, token in cases.items():
        response = await exchange(service, token)
        assert response.status_code == 400, (name, response.text)
        body = response.json()
        assert body["error"] == "invalid_grant", name
        assert expected[name] in body["error_description"], (name, body)
        assert body["errors"][0]["status"] == 400
    wrong_type = await exchange(service, cases["expired"], subject_token_type="urn:x")
    assert wrong_type.json()["error"] == "invalid_request"


def _hmac_with_public_key(service: Service, client: ApiClient, public_pem: str) -> str:
    """A JWT whose HS256 MAC is keyed with the PEM text, built by hand: PyJWT refuses to."""
    import base64
    import hashlib
    import hmac
    import json

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = {
        "iss": client.client_id,
        "sub": "mallory",
        "aud": service.engine.settings.base_url,
        "exp": int(time.time()) + 60,
    }
    payload = b64(json.dumps(claims).encode())
    mac = hmac.new(public_pem.encode(), f"{header}.{payload}".encode(), hashlib.sha256)
    return f"{header}.{payload}.{b64(mac.digest())}"


async def test_x_end_user_must_be_a_plain_identifier(acme: ApiClient) -> None:
    for bad in ("", "a" * 201, "tab\there"):
        response = await acme.acting_for(bad).get("/v2/authentications")
        assert response.status_code == 400, bad
        assert response.json()["errors"][0]["source"] == {"header": "X-End-User"}


async def test_end_users_never_see_each_others_records(service: Service) -> None:
    acme = await service.new_client("acme")
    globex = await service.new_client("globex")
    alice, bob = acme.acting_for("alice"), acme.acting_for("bob")
    authentication = await alice.connect("secretive", {"api_key": "sk-alice"}, title="Alice co")
    run_id = await alice.run("testkit.sleep", {"seconds": 5})
    keyed = await alice.post(
        "/v2/action-runs",
        json={"data": {"action": "testkit.noop", "inputs": {}}},
        headers={"Idempotency-Key": "same-key"},
    )

    for intruder in (bob, globex, globex.acting_for("alice")):
        for response in (
            await intruder.get(f"/v2/action-runs/{run_id}"),
            await intruder.get(f"/v2/action-runs/{run_id}", params={"wait_seconds": 1}),
            await intruder.post(f"/v2/action-runs/{run_id}/cancel"),
            await intruder.get(f"/v2/authentications/{authentication}"),
            await intruder.post(
                "/v2/actions/secretive.echo/test",
                json={"data": {"authentication": authentication}},
            ),
            await intruder.post(
                "/v2/actions/secretive.echo/inputs",
                json={"data": {"authentication": authentication}},
            ),
            await intruder.post(
                "/v2/authentications/" + authentication + "/test",
            ),
            await intruder.post(
                "/v2/connect-tokens",
                json={
                    "data": {
                        "app": "secretive",
                        "redirect_uri": "https://app.example.com/back",
                        "authentication": authentication,
                    }
                },
            ),
        ):
            assert response.status_code == 404, response.text
            assert "Alice co" not in response.text and "sk-alice" not in response.text
        borrowed = await intruder.post(
            "/v2/action-runs",
            json={"data": {"action": "secretive.echo", "authentication": authentication}},
        )
        assert borrowed.status_code == 400
        listed = (await intruder.get("/v2/authentications")).json()
        assert listed["data"] == []
        # The same Idempotency-Key is another end user's own: a new run, not alice's.
        theirs = await intruder.post(
            "/v2/action-runs",
            json={"data": {"action": "testkit.noop", "inputs": {}}},
            headers={"Idempotency-Key": "same-key"},
        )
        assert theirs.status_code == 200
        assert theirs.json()["data"]["id"] != keyed.json()["data"]["id"]

    # The partner's own backend sees all its end users' records, and can filter by one.
    everything = (await acme.get("/v2/authentications")).json()["data"]
    assert [item["id"] for item in everything] == [authentication]
    only_bob = (await acme.get("/v2/authentications", params={"end_user": "bob"})).json()
    assert only_bob["data"] == []
    assert (await acme.get(f"/v2/action-runs/{run_id}")).status_code == 200
    # A run the partner starts with alice's authentication is alice's too.
    partner_run = await acme.run("secretive.echo", {}, authentication)
    assert (await alice.get(f"/v2/action-runs/{partner_run}")).status_code == 200
    assert (await bob.get(f"/v2/action-runs/{partner_run}")).status_code == 404
    await alice.post(f"/v2/action-runs/{run_id}/cancel")
