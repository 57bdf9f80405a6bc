"""The service's own signing keys: callbacks carry an RS256 JWT that partners check against
the public keys at ``/.well-known/jwks.json``, as Zapier's callbacks do
(docs.zapier.com, *Receiving Action Run Callbacks*: a ``Zapier-Callback-Signature`` JWT with
``iat`` and ``exp``, valid 5 minutes, checked against Zapier's JWKS).

Keys live in the database, their private halves sealed by the vault, so every node signs with
the same key and publishes the same set. Rotating adds a key and retires the others, which
stay published for a day so that callbacks signed before are still checked (the JWT lives 5
minutes, a JWKS cache a few more). A new key is published a minute before it signs: a
receiver's JWKS client refetches for an unknown ``kid`` only so often (PyJWKClient: once in
30 seconds), and would refuse a callback signed by a key it cannot fetch yet.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
import time
import uuid
from collections.abc import Callable
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from actionruns.store import SigningKeyRecord, Store
from actionruns.vault import Vault

ALGORITHM = "RS256"
CALLBACK_JWT_SECONDS = 300  # as Zapier's: valid 5 minutes from issuance
RETIRED_KEYS_PUBLISHED_SECONDS = 86_400
KEYS_REREAD_SECONDS = 60.0  # a key rotated on another node is taken up within this
PUBLISHED_BEFORE_SIGNING_SECONDS = 60.0


def signing_key_owner(key_id: str) -> str:
    return f"signing-key:{key_id}"


def _public_jwk(key_id: str, key: rsa.RSAPrivateKey) -> dict[str, Any]:
    jwk: dict[str, Any] = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    return {**jwk, "kid": key_id, "use": "sig", "alg": ALGORITHM}


class CallbackSigner:
    def __init__(
        self, store: Store, vault: Vault, issuer: str, clock: Callable[[], float] = time.time
    ) -> None:
        self.store = store
        self.vault = vault
        self.issuer = issuer
        self.clock = clock
        self._keys: list[SigningKeyRecord] = []
        self._read_at = float("-inf")
        self._private: dict[str, rsa.RSAPrivateKey] = {}
        self._creating = asyncio.Lock()

    async def keys(self) -> list[SigningKeyRecord]:
        """The keys, newest first, re-read every minute; the first is made if there is none."""
        now = time.monotonic()
        if now - self._read_at >= KEYS_REREAD_SECONDS or not self._keys:
            keys = await self.store.signing_keys()
            if not keys:
                async with self._creating:
                    keys = await self.store.signing_keys() or [await self._create()]
            self._keys, self._read_at = keys, now
        return self._keys

    async def rotate(self) -> SigningKeyRecord:
        """A new key signs from now on; the others are retired (and published a day more)."""
        key = await self._create()
        await self.store.retire_signing_keys(except_id=key.id, now=self.clock())
        self._read_at = float("-inf")
        return key

    async def _create(self) -> SigningKeyRecord:
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        key_id = "sk_" + secrets.token_hex(8)
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        record = SigningKeyRecord(
            id=key_id,
            private_key=self.vault.encrypt(pem, owner=signing_key_owner(key_id)),
            public_jwk=_public_jwk(key_id, private),
            created_at=self.clock(),
            retired_at=None,
        )
        await self.store.insert_signing_key(record)
        self._private[key_id] = private
        return record

    def _private_key(self, record: SigningKeyRecord) -> rsa.RSAPrivateKey:
        if record.id not in self._private:
            pem = self.vault.decrypt(record.private_key, owner=signing_key_owner(record.id))
            key = serialization.load_pem_private_key(pem, password=None)
            assert isinstance(key, rsa.RSAPrivateKey)
            self._private[record.id] = key
        return self._private[record.id]

    async def jwks(self) -> dict[str, Any]:
        """The public keys to check signatures with: the current ones, and those retired
        less than a day ago."""
        now = self.clock()
        return {
            "keys": [
                key.public_jwk
                for key in await self.keys()
                if key.retired_at is None or now - key.retired_at < RETIRED_KEYS_PUBLISHED_SECONDS
            ]
        }

    async def sign_callback(self, run_id: str, body: bytes) -> str:
        """The ``Zapier-Callback-Signature`` of a callback: who sent it, for which run, over
        which body, and until when it may be believed."""
        keys = await self.keys()
        published_before = self.clock() - PUBLISHED_BEFORE_SIGNING_SECONDS
        # The newest key published long enough, or the first key ever made.
        current = next((key for key in keys if key.created_at <= published_before), keys[-1])
        now = int(time.time())  # the receiver's clock is the wall clock
        claims = {
            "iss": self.issuer,
            "iat": now,
            "exp": now + CALLBACK_JWT_SECONDS,
            "jti": uuid.uuid4().hex,
            "run_id": run_id,
            "body_sha256": hashlib.sha256(body).hexdigest(),
        }
        return jwt.encode(
            claims, self._private_key(current), algorithm=ALGORITHM, headers={"kid": current.id}
        )
