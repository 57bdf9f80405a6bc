"""Key rotation: every sealed value re-encrypted under the primary key, then old keys retired.

Rotation is resumable: each value is resealed on its own (compare-and-swap, so a credential
refreshed meanwhile is left to its newer value, which is sealed under the primary anyway),
and a run that stops half way leaves values under both keys, all readable, until it is run
again. A key is retired only once no stored value uses it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import get_args

from actionruns.connections.service import oauth_app_owner, owner_of
from actionruns.engine.callbacks import client_secret_owner
from actionruns.store import Store
from actionruns.store.store import SealedKind
from actionruns.vault import Keyring, Vault

BATCH = 200
_OWNERS: dict[SealedKind, Callable[[str], str]] = {
    "authentication": owner_of,
    "client": client_secret_owner,
    "oauth_app": oauth_app_owner,
}


@dataclass(frozen=True)
class Resealed:
    resealed: int
    current: int  # already under the primary key
    skipped: int  # changed while being resealed: the newer value stands


class KeyInUse(Exception):
    def __init__(self, in_use: Counter[str]) -> None:
        listed = ", ".join(f"{key_id} ({count} values)" for key_id, count in in_use.items())
        super().__init__(f"still in use: {listed}; run 'actionruns keys rotate --resume' first")
        self.in_use = in_use


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

    async def retire(self, keyring: Keyring) -> Keyring:
        """``keyring`` without the keys no stored value uses (the primary always stays)."""
        in_use = await self.keys_in_use()
        old = {key_id: n for key_id, n in in_use.items() if key_id != keyring.primary}
        if old:
            raise KeyInUse(Counter(old))
        return Keyring({keyring.primary: keyring.keys[keyring.primary]}, keyring.primary)
