"""The vault: AES-256-GCM with a rotating key set.

Every value carries the id of the key that sealed it, so old values stay readable after a
new key becomes primary. Each value is bound to its owner (say ``authentication:<id>``) as
associated data: a ciphertext copied onto another row does not decrypt.

Keys come from ``ACTIONRUNS_SECRET_KEYS`` (``id:base64key,...``, the first is primary) or
from the key file, created on first start with mode 0600.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_FORMAT = b"\x01"
_NONCE_BYTES = 12
_RELOAD_INTERVAL = 0.25


class DecryptionError(Exception):
    """A value could not be opened: unknown key, wrong owner or tampered data."""


def _new_key_id() -> str:
    return "k" + time.strftime("%Y%m%d") + secrets.token_hex(3)


@dataclass(frozen=True)
class Keyring:
    keys: Mapping[str, bytes]
    primary: str

    def __post_init__(self) -> None:
        if self.primary not in self.keys:
            raise ValueError("the primary key is not in the key set")
        for key_id, key in self.keys.items():
            if len(key) != 32:
                raise ValueError(f"key {key_id!r} must be 32 bytes (AES-256)")

    @classmethod
    def generate(cls) -> Keyring:
        key_id = _new_key_id()
        return cls({key_id: AESGCM.generate_key(bit_length=256)}, key_id)

    @classmethod
    def parse(cls, text: str) -> Keyring:
        """Parse ``id:base64key,id2:base64key``; the first key is primary."""
        keys: dict[str, bytes] = {}
        for part in (p.strip() for p in text.split(",") if p.strip()):
            key_id, _, encoded = part.partition(":")
            if not encoded:
                raise ValueError("ACTIONRUNS_SECRET_KEYS entries must look like id:base64key")
            keys[key_id] = base64.b64decode(encoded)
        if not keys:
            raise ValueError("ACTIONRUNS_SECRET_KEYS holds no key")
        return cls(keys, next(iter(keys)))

    @classmethod
    def load(cls, path: Path) -> Keyring:
        data = json.loads(path.read_text())
        keys = {item["id"]: base64.b64decode(item["key"]) for item in data["keys"]}
        return cls(keys, data["primary"])

    @classmethod
    def load_or_create(cls, path: Path) -> Keyring:
        if path.exists():
            return cls.load(path)
        keyring = cls.generate()
        keyring.save(path, exclusive=True)
        return keyring

    def save(self, path: Path, *, exclusive: bool = False) -> None:
        """Write the key file with mode 0600, atomically."""
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = json.dumps(
            {
                "primary": self.primary,
                "keys": [
                    {"id": key_id, "key": base64.b64encode(key).decode()}
                    for key_id, key in self.keys.items()
                ],
            },
            indent=2,
        )
        target = path if exclusive else path.with_suffix(".tmp")
        flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
        descriptor = os.open(target, flags, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        if not exclusive:
            os.replace(target, path)

    def to_env(self) -> str:
        """This key set as ``ACTIONRUNS_SECRET_KEYS``, primary first: ``parse`` reads it back."""
        ordered = [self.primary, *(key_id for key_id in self.keys if key_id != self.primary)]
        return ",".join(
            f"{key_id}:{base64.b64encode(self.keys[key_id]).decode()}" for key_id in ordered
        )

    def with_new_primary(self) -> Keyring:
        key_id = _new_key_id()
        keys = {key_id: AESGCM.generate_key(bit_length=256), **self.keys}
        return Keyring(keys, key_id)


class Vault:
    """Seals and opens values with a key set.

    ``reload`` re-reads the key set: a value sealed with a key this process has not seen
    means another process rotated the keys, and from then on this one seals with the new
    primary as well.
    """

    def __init__(self, keyring: Keyring, reload: Callable[[], Keyring] | None = None) -> None:
        self._reload = reload
        self._missed_at = -_RELOAD_INTERVAL
        self._use(keyring)

    def _use(self, keyring: Keyring) -> None:
        self.keyring = keyring
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keyring.keys.items()}

    def _learn(self, key_id: str) -> None:
        """Re-read the key set if ``key_id`` is new to this process; after a read that did not
        find it, not again for a moment (a forged key id must not cost a read per request)."""
        if key_id in self._ciphers or self._reload is None:
            return
        now = time.monotonic()
        if now - self._missed_at < _RELOAD_INTERVAL:
            return
        try:
            reloaded = self._reload()
        except (OSError, ValueError, KeyError):
            reloaded = self.keyring  # no readable key file: nothing new to learn
        if key_id not in reloaded.keys:
            self._missed_at = now  # only misses wait: a forged key id costs little
            return
        # Keys this process knows stay known (a retired key may still sign a live access
        # token); the file's primary seals from now on.
        self._use(Keyring({**self.keyring.keys, **reloaded.keys}, reloaded.primary))

    @property
    def primary_key_id(self) -> str:
        return self.keyring.primary

    def encrypt(self, plaintext: bytes, *, owner: str) -> bytes:
        key_id = self.keyring.primary.encode()
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._ciphers[self.keyring.primary].encrypt(nonce, plaintext, owner.encode())
        return _FORMAT + bytes([len(key_id)]) + key_id + nonce + sealed

    def decrypt(self, blob: bytes, *, owner: str) -> bytes:
        key_id, nonce, sealed = _split(blob)
        self._learn(key_id)
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise DecryptionError(f"value sealed with unknown key {key_id!r}")
        try:
            return cipher.decrypt(nonce, sealed, owner.encode())
        except InvalidTag:
            raise DecryptionError("value does not open: wrong owner or tampered") from None

    def encrypt_json(self, value: Any, *, owner: str) -> bytes:
        return self.encrypt(json.dumps(value, separators=(",", ":")).encode(), owner=owner)

    def decrypt_json(self, blob: bytes, *, owner: str) -> Any:
        return json.loads(self.decrypt(blob, owner=owner))

    @staticmethod
    def key_id_of(blob: bytes) -> str:
        return _split(blob)[0]

    def derived_key(self, purpose: str, key_id: str | None = None) -> tuple[str, bytes]:
        """A key for another purpose (token signing), derived from one key of the set."""
        if key_id is not None:
            self._learn(key_id)
        key_id = key_id or self.keyring.primary
        master = self.keyring.keys.get(key_id)
        if master is None:
            raise DecryptionError(f"unknown key {key_id!r}")
        derived = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()
        ).derive(master)
        return key_id, derived


def _split(blob: bytes) -> tuple[str, bytes, bytes]:
    if len(blob) < 2 or blob[:1] != _FORMAT:
        raise DecryptionError("not a vault value")
    length = blob[1]
    key_id = blob[2 : 2 + length].decode()
    start = 2 + length
    return key_id, blob[start : start + _NONCE_BYTES], blob[start + _NONCE_BYTES :]
