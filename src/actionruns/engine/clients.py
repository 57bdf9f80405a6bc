"""API clients (partners): their credentials, scopes and app allowlists."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from actionruns.engine.callbacks import client_secret_owner
from actionruns.engine.destinations import destination_problem
from actionruns.engine.scopes import ALL_SCOPES
from actionruns.errors import Conflict, NotFound, Unprocessable
from actionruns.sdk.images import ImageRefused, image_data_uri
from actionruns.sdk.outbound import OutboundGuard
from actionruns.store import ClientKeyRecord, ClientRecord, Store
from actionruns.vault import Vault

HEX_COLOR = re.compile(r"#?[0-9a-fA-F]{6}")


def _algorithm_of(pem: str) -> str:
    """The JWS algorithm a public key signs with: RS256 for RSA (2048 bits or more), ES256
    for EC P-256; anything else is refused."""
    try:
        key = serialization.load_pem_public_key(pem.strip().encode())
    except (ValueError, TypeError):
        raise Unprocessable(
            "The key is not a PEM public key (-----BEGIN PUBLIC KEY-----)."
        ) from None
    if isinstance(key, rsa.RSAPublicKey) and key.key_size >= 2048:
        return "RS256"
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        return "ES256"
    raise Unprocessable("Register an RSA key of 2048 bits or more, or an EC P-256 key.")


def _check_web_url(url: str, what: str) -> None:
    """HTTPS, or plain HTTP to this machine for development."""
    parts = urlsplit(url)
    local = parts.hostname in ("localhost", "127.0.0.1", "::1")
    if (
        not parts.netloc
        or parts.fragment
        or not (parts.scheme == "https" or (parts.scheme == "http" and local))
    ):
        raise Unprocessable(
            f"The {what} {url!r} must be an https:// URL (http:// only to localhost), "
            "without a fragment."
        )


def _hash_secret(secret: str) -> str:
    # Client secrets are 256 random bits, so a fast hash is as strong as a slow one here.
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class NewClient:
    record: ClientRecord
    client_secret: str
    signing_secret: str


class ClientService:
    def __init__(
        self, store: Store, vault: Vault, clock: Callable[[], float], guard: OutboundGuard
    ) -> None:
        self.store = store
        self.vault = vault
        self.clock = clock
        self.guard = guard

    async def create(self, name: str, scopes: Sequence[str] = ALL_SCOPES) -> NewClient:
        unknown = sorted(set(scopes) - set(ALL_SCOPES))
        if unknown:
            raise Unprocessable(f"Unknown scopes: {', '.join(unknown)}.")
        if not name.strip() or len(name) > 200:
            raise Unprocessable("A client name must be 1 to 200 characters.")
        if await self.store.find_client(name) is not None:
            raise Conflict(f"A client named {name!r} already exists.")
        client_id = "cl_" + secrets.token_hex(12)
        client_secret = "cs_" + secrets.token_urlsafe(32)
        # Base64 after whsec_, as Standard Webhooks libraries read a secret.
        signing_secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
        record = await self.store.insert_client(
            {
                "id": client_id,
                "name": name,
                "secret_hash": _hash_secret(client_secret),
                "scopes": list(scopes),
                "allowed_apps": None,
                "signing_secret": self.vault.encrypt(
                    signing_secret.encode(), owner=client_secret_owner(client_id)
                ),
                "disabled": False,
                "created_at": self.clock(),
                "redirect_uris": None,
                "events_url": None,
                "brand": None,
            }
        )
        return NewClient(record, client_secret, signing_secret)

    async def authenticate(self, client_id: str, client_secret: str) -> ClientRecord | None:
        client = await self.store.get_client(client_id)
        if client is None or client.disabled:
            return None
        if not hmac.compare_digest(client.secret_hash, _hash_secret(client_secret)):
            return None
        return client

    async def find(self, ref: str) -> ClientRecord:
        client = await self.store.find_client(ref)
        if client is None:
            raise NotFound(f"No client {ref!r}.")
        return client

    async def allow_apps(self, ref: str, apps: Sequence[str] | None) -> ClientRecord:
        """Restrict a client to these app keys; ``None`` lifts the restriction."""
        client = await self.find(ref)
        await self.store.update_client(
            client.id, {"allowed_apps": sorted(set(apps)) if apps is not None else None}
        )
        return await self.find(client.id)

    async def add_key(self, ref: str, pem: str, key_id: str | None = None) -> ClientKeyRecord:
        """Register a public key the client signs token-exchange assertions with."""
        client = await self.find(ref)
        algorithm = _algorithm_of(pem)
        key_id = key_id or "key_" + hashlib.sha256(pem.strip().encode()).hexdigest()[:16]
        if not 1 <= len(key_id) <= 64:
            raise Unprocessable("A key id must be 1 to 64 characters.")
        if any(key.id == key_id for key in await self.store.list_client_keys(client.id)):
            raise Conflict(f"The client already has a key {key_id!r}.")
        values = {
            "id": key_id,
            "client_id": client.id,
            "algorithm": algorithm,
            "public_key": pem.strip(),
            "created_at": self.clock(),
        }
        await self.store.insert_client_key(values)
        return ClientKeyRecord.from_row(values)

    async def remove_key(self, ref: str, key_id: str) -> None:
        client = await self.find(ref)
        if not await self.store.delete_client_key(client.id, key_id):
            raise NotFound(f"The client has no key {key_id!r}.")

    async def set_redirect_uris(self, ref: str, uris: Sequence[str]) -> ClientRecord:
        """Where the Connect page may send the client's end users back to (exact match)."""
        for uri in uris:
            _check_web_url(uri, "redirect URI")
        client = await self.find(ref)
        await self.store.update_client(client.id, {"redirect_uris": list(dict.fromkeys(uris))})
        return await self.find(client.id)

    async def set_events_url(self, ref: str, url: str | None) -> ClientRecord:
        """Where authentication.expired / .recovered events are posted (None: nowhere)."""
        if url is not None:
            problem = await destination_problem(url, self.guard)
            if problem is not None:
                raise Unprocessable(
                    f"The events URL cannot be used: {problem}.", pointer="/data/url"
                )
        client = await self.find(ref)
        await self.store.update_client(client.id, {"events_url": url})
        return await self.find(client.id)

    async def set_brand(
        self, ref: str, name: str | None, logo: bytes | None, color: str | None
    ) -> ClientRecord:
        """How the Connect page shows the partner; what is not given stays as it was."""
        client = await self.find(ref)
        brand = dict(client.brand or {})
        if name is not None:
            if not name.strip() or len(name) > 100:
                raise Unprocessable("A display name must be 1 to 100 characters.")
            brand["name"] = name.strip()
        if color is not None:
            if not HEX_COLOR.fullmatch(color):
                raise Unprocessable("A colour is six hex digits, as ff6600 or #ff6600.")
            brand["color"] = color.removeprefix("#").lower()
        if logo is not None:
            try:
                brand["logo"] = image_data_uri(logo)
            except ImageRefused as exc:
                raise Unprocessable(f"The logo cannot be used: {exc}.") from None
        await self.store.update_client(client.id, {"brand": brand or None})
        return await self.find(client.id)

    async def signing_secret(self, client: ClientRecord) -> str:
        return self.vault.decrypt(
            client.signing_secret, owner=client_secret_owner(client.id)
        ).decode()
