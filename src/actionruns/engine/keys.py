"""Key rotation: every sealed value re-encrypted under the primary key, then old keys retired.

Rotation is resumable: each value is resealed on its own (compare-and-swap, so a credential
refreshed meanwhile is left to its newer value, which is sealed under the primary anyway),
and a run that stops half way leaves values under both keys, all readable, until it is run
again. A key is retired only once no stored value uses it, and, unless forced, once what it
signed without storing (access tokens, connect links, OAuth states) has expired.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import get_args

from actionruns.connections.service import oauth_app_owner, owner_of
from actionruns.engine.callbacks import client_secret_owner
from actionruns.engine.signing import signing_key_owner
from actionruns.store import Store
from actionruns.store.sealing import SealedKind
from actionruns.vault import Keyring, Vault

BATCH = 200
_OWNERS: dict[SealedKind, Callable[[str], str]] = {
    "authentication": owner_of,
    "client": client_secret_owner,
    "oauth_app": oauth_app_owner,
    "signing_key": signing_key_owner,
}


@dataclass(frozen=True)
class Resealed:
    resealed: int
    current: int  # already under the primary key
    skipped: int  # changed while being resealed: the newer value stands


class KeyInUse(Exception):
    """A key that something still needs; the message says what, and what to do."""


def _clock_time(epoch: float) -> str:
    return time.strftime("%H:%M:%S UTC", time.gmtime(epoch))


class KeyRotation:
    def __init__(self, store: Store, vault: Vault) -> None:
        self.store = store
        self.vault = vault

    async def _batches(self, kind: SealedKind) -> AsyncIterator[list[tuple[str, bytes]]]:
        after = ""
        while batch := await self.store.sealed_values(kind, after, BATCH):
            yield batch
            after = batch[-1][0]

    async def keys_in_use(self) -> Counter[str]:
        """How many stored values each key sealed."""
        counts: Counter[str] = Counter()
        for kind in get_args(SealedKind):
            async for batch in self._batches(kind):
                counts.update(Vault.key_id_of(blob) for _, blob in batch)
        return counts

    async def count(self) -> int:
        return sum((await self.keys_in_use()).values())

    async def reseal_all(self, advance: Callable[[int], None] = lambda _: None) -> Resealed:
        """Reseal every value not under the primary key; ``advance`` is told each batch's size."""
        primary = self.vault.primary_key_id
        resealed = current = skipped = 0
        for kind in get_args(SealedKind):
            owner = _OWNERS[kind]
            async for batch in self._batches(kind):
                for row_id, blob in batch:
                    if Vault.key_id_of(blob) == primary:
                        current += 1
                        continue
                    plaintext = self.vault.decrypt(blob, owner=owner(row_id))
                    new = self.vault.encrypt(plaintext, owner=owner(row_id))
                    if await self.store.reseal(kind, row_id, blob, new):
                        resealed += 1
                    else:
                        skipped += 1
                advance(len(batch))
        return Resealed(resealed, current, skipped)

    async def retire(self, keyring: Keyring, *, now: float, force: bool = False) -> Keyring:
        """``keyring`` with only its primary key, refused (``KeyInUse``) while a stored value
        is sealed with another (forcing would lose it), and unless ``force`` while something
        another signed is still valid (forcing makes it invalid: clients ask again)."""
        sealed = {
            key_id: count
            for key_id, count in (await self.keys_in_use()).items()
            if key_id != keyring.primary
        }
        if sealed:
            listed = ", ".join(
                f"{key_id} seals {count} stored values" for key_id, count in sealed.items()
            )
            raise KeyInUse(
                f"{listed}; run 'actionruns keys rotate --resume' to re-encrypt them first "
                "(retiring the key now would lose them, so --force does not)"
            )
        signed = {
            key_id: until
            for key_id, until in (await self.store.key_uses(now)).items()
            if key_id != keyring.primary and key_id in keyring.keys
        }
        if signed and not force:
            last = max(signed.values())
            listed = ", ".join(
                f"{key_id} until {_clock_time(until)}" for key_id, until in sorted(signed.items())
            )
            raise KeyInUse(
                f"access tokens, connect links or sign-ins signed with the old key are valid "
                f"for {math.ceil((last - now) / 60)} more minutes ({listed}): retire after "
                "then, once every process runs with the new key (restart them), or with "
                "--force to make them invalid now (clients then ask for new tokens)"
            )
        retired = [key_id for key_id in keyring.keys if key_id != keyring.primary]
        await self.store.forget_key_uses(retired, valid_before=now)
        return Keyring({keyring.primary: keyring.keys[keyring.primary]}, keyring.primary)
